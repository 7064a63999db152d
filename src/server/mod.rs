//! The bundled Redis-compatible server (Redis 7.0 as a client sees it).
//!
//! # The path a request takes
//!
//! 1. `connection`: the per-client task reads the socket, and `resp::parser`
//!    cuts the bytes into requests (multibulk or inline).
//! 2. `commands::call::process_command`: lookup in `commands::table`, arity,
//!    then the checks Redis makes before running a command (AUTH, read-only
//!    replica, min-replicas, maxmemory via `evict`, pub/sub context, loading,
//!    CLIENT PAUSE), or MULTI queueing.
//! 3. `commands::call::call`: the family handler (`commands::strings`,
//!    `lists`...) reads and writes keys through `state` (lookups with lazy
//!    expiry, writes that signal WATCH and blocked clients) on the databases of
//!    `keyspace`, whose values are `types` kept in `dict` tables; it replies
//!    through `resp::reply`.
//! 4. The command's effects (itself, what it replaced itself with, DELs of keys
//!    that expired or were evicted on the way) go out as one execution unit
//!    through `replication::stream`, the only producer of the replication
//!    stream: the backlog and replicas (`replication::master`) and any attached
//!    consumer read it.
//! 5. Clients blocked on the keys it fed are served (`commands::blocking`), and
//!    the task writes the replies.
//!
//! # Who owns what
//!
//! - `state`: the one `Server` value (single-threaded, borrowed by one task at
//!   a time through `state::Shared`) and keyspace access;
//! - `client`: one connection's state, including a replica's `ReplicaLink`;
//! - `replication`: PSYNC2 on both sides, the backlog, FAILOVER, the stream;
//! - `rdb`: snapshots (SAVE, BGSAVE, diskless transfers, load at start-up); it
//!   reports a finished background save as an event that replication takes;
//! - `config`: redis.conf and CONFIG; `startup`: the process (command line,
//!   listeners, signals, the cron task); `cron`: periodic housekeeping
//!   (active expiry, timeouts, persistence and replication chores); `info`:
//!   INFO; `fdlimit`: maxclients against the open-files limit; `latency`: the latency monitor and
//!   command histograms; `oom`: the
//!   OOM-killer score per role; `slowlog`,
//!   `log`, `memory`: what their names say; `tracking`: client-side
//!   caching (the keys tracking clients read, their invalidations); `util`: numbers,
//!   glob, argument splitting, clock, random.
//!
//! Modules form a graph from `startup`/`connection` down to `util`; the one
//! cycle is `state` <-> `rdb` <-> `replication`, whose sub-states live in
//! `Server` while their logic takes `&mut Server`.

/// The Redis version this server answers as (INFO, HELLO, RDB files).
pub const REDIS_VERSION: &str = "7.0.15";
/// tripod's own version (`--version`, INFO).
pub const TRIPOD_VERSION: &str = env!("CARGO_PKG_VERSION");

pub(crate) mod acl;
pub(crate) mod aof;
pub(crate) mod client;
pub(crate) mod commands;
pub(crate) mod config;
pub(crate) mod connection;
pub(crate) mod cron;
pub(crate) mod dict;
pub(crate) mod evict;
pub(crate) mod fdlimit;
pub(crate) mod info;
pub(crate) mod keyspace;
pub(crate) mod latency;
pub(crate) mod log;
pub(crate) mod long_double;
pub(crate) mod memory;
pub(crate) mod notify;
pub(crate) mod oom;
pub(crate) mod rdb;
pub(crate) mod replication;
pub(crate) mod resp;
pub(crate) mod scripting;
pub(crate) mod slowlog;
pub mod startup;
pub(crate) mod state;
pub(crate) mod tracking;
pub(crate) mod types;
pub(crate) mod util;
