//! Commands: the table, the path every request takes, and one module per family.
//!
//! - `table`: the [`Command`] entries, their flags, lookup and arity checks;
//! - `call`: `process_command` (the checks Redis makes before running or
//!   queueing a command) and `call` (run, count, propagate, MONITOR, slowlog);
//! - `blocking`: clients blocked on keys, in WAIT or behind CLIENT PAUSE;
//! - `args`: argument helpers shared by families;
//! - `debug`: the DEBUG command and its test knobs;
//! - `sort`: SORT and SORT_RO; `dump`: DUMP and RESTORE; `migrate`: MIGRATE;
//!   `memory`: MEMORY; `latency`: LATENCY;
//! - one module per family (`strings`, `lists`...), each exporting `COMMANDS`.

pub mod acl;
mod args;
mod blocking;
mod call;
pub mod cluster;
pub mod connection;
pub mod debug;
pub mod dump;
pub mod functions;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod keys;
pub mod latency;
pub mod lists;
pub mod memory;
pub mod migrate;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod server_admin;
pub mod sets;
pub mod sort;
pub mod streams;
pub mod strings;
mod table;
pub mod transactions;
pub mod zsets;

pub use args::*;
pub use blocking::*;
pub use call::*;
pub use debug::*;
pub use table::*;
