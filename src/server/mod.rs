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

pub(crate) mod client;
pub(crate) mod commands;
pub(crate) mod config;
pub(crate) mod connection;
pub(crate) mod cron;
pub(crate) mod dict;
pub(crate) mod evict;
pub(crate) mod info;
pub(crate) mod keyspace;
pub(crate) mod log;
pub(crate) mod long_double;
pub(crate) mod memory;
pub(crate) mod rdb;
pub(crate) mod replication;
pub(crate) mod resp;
pub(crate) mod slowlog;
pub mod startup;
pub(crate) mod state;
pub(crate) mod types;
pub(crate) mod util;
