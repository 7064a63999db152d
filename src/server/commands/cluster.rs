//! CLUSTER, READONLY, READWRITE and ASKING on a server without cluster mode.
//!
//! tripod-server runs Redis's standalone mode only (`cluster-enabled no`), and
//! Redis answers these commands there with one error rather than "unknown
//! command": client libraries and ops tools probe with CLUSTER INFO or READONLY
//! and read that error as "not a cluster". The subcommands keep their own table
//! entries (arity and flags as Redis's), so an unknown subcommand, a wrong
//! argument count and a script calling CLUSTER RESET (noscript) get Redis's
//! errors too.
use super::table::*;
use crate::server::client::Client;
use crate::server::state::Server;

/// Redis's reply to every cluster command when cluster mode is off.
const DISABLED: &str = "ERR This instance has cluster support disabled";

/// Answers a cluster command with Redis's "cluster support disabled" error.
fn disabled(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.error(DISABLED);
}

/// A CLUSTER subcommand: `admin` ones are @admin @dangerous and refused during
/// async loading in Redis; all are allowed on a stale replica.
const fn sub(name: &'static str, arity: i32, flags: u64) -> Command {
    Command::new(name, disabled)
        .arity(arity)
        .group("cluster")
        .flags(flags | STALE)
}

pub static COMMANDS: &[Command] = &[
    Command::container("cluster", CLUSTER_SUBCOMMANDS)
        .arity(-2)
        .group("cluster"),
    Command::new("readonly", disabled)
        .arity(1)
        .group("cluster")
        .flags(LOADING | STALE | FAST),
    Command::new("readwrite", disabled)
        .arity(1)
        .group("cluster")
        .flags(LOADING | STALE | FAST),
    Command::new("asking", disabled)
        .arity(1)
        .group("cluster")
        .flags(FAST),
];

static CLUSTER_SUBCOMMANDS: &[Command] = &[
    sub("cluster|addslots", -3, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|addslotsrange", -4, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|bumpepoch", 2, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|count-failure-reports", 3, ADMIN),
    sub("cluster|countkeysinslot", 3, 0),
    sub("cluster|delslots", -3, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|delslotsrange", -4, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|failover", -2, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|flushslots", 2, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|forget", 3, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|getkeysinslot", 4, 0),
    sub("cluster|help", 2, LOADING),
    sub("cluster|info", 2, 0),
    sub("cluster|keyslot", 3, 0),
    sub("cluster|links", 2, 0),
    sub("cluster|meet", -4, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|myid", 2, 0),
    sub("cluster|nodes", 2, 0),
    sub("cluster|replicas", 3, ADMIN),
    sub("cluster|replicate", 3, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|reset", -2, ADMIN | NOSCRIPT),
    sub("cluster|saveconfig", 2, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|set-config-epoch", 3, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|setslot", -4, ADMIN | NO_ASYNC_LOADING),
    sub("cluster|shards", 2, 0),
    sub("cluster|slaves", 3, ADMIN),
    sub("cluster|slots", 2, 0),
];
