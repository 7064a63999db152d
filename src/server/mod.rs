//! The bundled Redis-compatible server.
//!
//! Layout, following a request: `connection` (sockets, per-client task) → `resp`
//! (parser, reply writer) → `commands` (the table, dispatch, one file per family)
//! → `state` and `keyspace` (databases, values in `types`, expiry) → `replication`
//! (master and replica sides) and `rdb` (snapshots). `config` reads redis.conf,
//! `startup` runs the process, `cron` is the periodic housekeeping, `info` builds INFO.
/// The Redis version this server answers as (INFO, HELLO, RDB files).
pub const REDIS_VERSION: &str = "7.0.15";
/// tripod's own version (`--version`, INFO).
pub const TRIPOD_VERSION: &str = env!("CARGO_PKG_VERSION");

pub mod client;
pub mod commands;
pub mod config;
pub mod connection;
pub mod cron;
pub mod dict;
pub mod evict;
pub mod info;
pub mod keyspace;
pub mod log;
pub mod long_double;
pub mod memory;
pub mod rdb;
pub mod replication;
pub mod resp;
pub mod slowlog;
pub mod startup;
pub mod state;
pub mod types;
pub mod util;
