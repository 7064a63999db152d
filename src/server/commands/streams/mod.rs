//! Stream commands (Redis 7.0's t_stream.c): the table and the helpers the
//! families share. `add` holds XADD, XTRIM, XDEL, XSETID, XLEN and the range
//! reads; `read` XREAD and XREADGROUP (blocking included); `group` XGROUP;
//! `pending` XACK, XPENDING, XCLAIM and XAUTOCLAIM; `info` XINFO.
//!
//! Consumer-group state changes are propagated as Redis propagates them:
//! XREADGROUP and XAUTOCLAIM as XCLAIM ... plus XGROUP SETID, XADD with the id
//! it generated, approximate trimming with its exact outcome.
mod add;
mod group;
mod info;
mod pending;
mod read;

use super::*;
use crate::server::client::Client;
use crate::server::state::Server;
use crate::server::types::stream::{Stream, StreamId};
use crate::server::types::{Value, WRONGTYPE};

pub static XGROUP_SUBCOMMANDS: &[Command] = &[
    Command::new("xgroup|create", group::xgroup_create)
        .arity(-5)
        .group("stream")
        .flags(WRITE | DENYOOM)
        .keys(2, 2, 1),
    Command::new("xgroup|setid", group::xgroup_setid)
        .arity(-5)
        .group("stream")
        .flags(WRITE)
        .keys(2, 2, 1),
    Command::new("xgroup|destroy", group::xgroup_destroy)
        .arity(4)
        .group("stream")
        .flags(WRITE)
        .keys(2, 2, 1),
    Command::new("xgroup|createconsumer", group::xgroup_createconsumer)
        .arity(5)
        .group("stream")
        .flags(WRITE | DENYOOM)
        .keys(2, 2, 1),
    Command::new("xgroup|delconsumer", group::xgroup_delconsumer)
        .arity(5)
        .group("stream")
        .flags(WRITE)
        .keys(2, 2, 1),
    Command::new("xgroup|help", group::xgroup_help)
        .arity(2)
        .group("stream")
        .flags(LOADING | STALE),
];

pub static XINFO_SUBCOMMANDS: &[Command] = &[
    Command::new("xinfo|consumers", info::xinfo_consumers)
        .arity(4)
        .group("stream")
        .flags(READONLY)
        .keys(2, 2, 1),
    Command::new("xinfo|groups", info::xinfo_groups)
        .arity(3)
        .group("stream")
        .flags(READONLY)
        .keys(2, 2, 1),
    Command::new("xinfo|stream", info::xinfo_stream)
        .arity(-3)
        .group("stream")
        .flags(READONLY)
        .keys(2, 2, 1),
    Command::new("xinfo|help", info::xinfo_help)
        .arity(2)
        .group("stream")
        .flags(LOADING | STALE),
];

pub static COMMANDS: &[Command] = &[
    Command::new("xadd", add::xadd)
        .arity(-5)
        .group("stream")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("xrange", add::xrange)
        .arity(-4)
        .group("stream")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("xrevrange", add::xrevrange)
        .arity(-4)
        .group("stream")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("xlen", add::xlen)
        .arity(2)
        .group("stream")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("xdel", add::xdel)
        .arity(-3)
        .group("stream")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("xtrim", add::xtrim)
        .arity(-4)
        .group("stream")
        .flags(WRITE)
        .keys(1, 1, 1),
    Command::new("xsetid", add::xsetid)
        .arity(-3)
        .group("stream")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("xread", read::xread)
        .arity(-4)
        .group("stream")
        .flags(READONLY | BLOCKING),
    Command::new("xreadgroup", read::xreadgroup)
        .arity(-7)
        .group("stream")
        .flags(WRITE | BLOCKING),
    Command::new("xack", pending::xack)
        .arity(-4)
        .group("stream")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("xpending", pending::xpending)
        .arity(-3)
        .group("stream")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("xclaim", pending::xclaim)
        .arity(-6)
        .group("stream")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("xautoclaim", pending::xautoclaim)
        .arity(-6)
        .group("stream")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::container("xgroup", XGROUP_SUBCOMMANDS)
        .arity(-2)
        .group("stream"),
    Command::container("xinfo", XINFO_SUBCOMMANDS)
        .arity(-2)
        .group("stream"),
];

/// The stream at `key` for reading: Ok(None) if missing, Err after replying
/// WRONGTYPE.
fn stream_read<'a>(
    srv: &'a mut Server,
    c: &mut Client,
    key: &[u8],
) -> Result<Option<&'a mut Stream>, ()> {
    match srv.lookup_read(c, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => {
                c.reply.error(WRONGTYPE);
                Err(())
            }
        },
    }
}

/// The stream at `key` for writing: Ok(None) if missing, Err after replying
/// WRONGTYPE.
fn stream_write<'a>(
    srv: &'a mut Server,
    c: &mut Client,
    key: &[u8],
) -> Result<Option<&'a mut Stream>, ()> {
    match srv.lookup_write(c.db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => {
                c.reply.error(WRONGTYPE);
                Err(())
            }
        },
    }
}

/// Replies with an id as a bulk string.
fn reply_id(c: &mut Client, id: StreamId) {
    c.reply.bulk(&id.to_bytes());
}

/// Replies with one entry: `[id, [field, value, ...]]`.
fn reply_entry(c: &mut Client, id: StreamId, fields: &[(&[u8], &[u8])]) {
    c.reply.array(2);
    reply_id(c, id);
    c.reply.array(fields.len() * 2);
    for (f, v) in fields {
        c.reply.bulk(f);
        c.reply.bulk(v);
    }
}

/// Parses a signed integer argument, replying `msg` (or Redis's generic text).
fn parse_ll(c: &mut Client, a: &[u8], msg: Option<&str>) -> Option<i64> {
    match crate::server::util::parse_i64(a) {
        Some(v) => Some(v),
        None => {
            c.reply
                .error(msg.unwrap_or(crate::server::resp::errors::NOT_INTEGER));
            None
        }
    }
}

/// Parses a stream id argument, replying Redis's error when it is invalid.
fn parse_id_or_reply(c: &mut Client, a: &[u8], missing_seq: u64, strict: bool) -> Option<StreamId> {
    let r = if strict {
        crate::server::types::stream::id::parse_strict(a, missing_seq)
    } else {
        crate::server::types::stream::id::parse_loose(a, missing_seq)
    };
    match r {
        Ok(id) => Some(id),
        Err(e) => {
            c.reply.error(e);
            None
        }
    }
}

/// The reply Redis gives for a bad subcommand option
/// (addReplySubcommandSyntaxError).
fn subcommand_syntax_error(c: &mut Client, argv: &[Vec<u8>]) {
    c.reply.error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&argv[1])
            .chars()
            .take(128)
            .collect::<String>(),
        String::from_utf8_lossy(&argv[0]).to_uppercase()
    ));
}

/// Replies with a HELP text as Redis's addReplyHelp does.
fn reply_help(c: &mut Client, cmd: &str, lines: &[&str]) {
    c.reply.array(lines.len() + 3);
    c.reply.simple(&format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        cmd
    ));
    for l in lines {
        c.reply.simple(l);
    }
    c.reply.simple("HELP");
    c.reply.simple("    Prints this help.");
}

/// The current time in ms, as Redis's mstime() in a command.
fn now() -> i64 {
    crate::server::util::command_time_ms()
}

/// Case-insensitive comparison of an argument with an option name.
fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Writes an array whose length is only known after its elements: `f` writes
/// them and returns how many (Redis's deferred length). With `map`, a map of
/// that many pairs.
fn deferred(c: &mut Client, map: bool, f: impl FnOnce(&mut Client) -> usize) {
    let saved = std::mem::take(&mut c.reply.buf);
    let n = f(c);
    let body = std::mem::replace(&mut c.reply.buf, saved);
    if map {
        c.reply.map(n);
    } else {
        c.reply.array(n);
    }
    c.reply.raw(&body);
}

/// `deferred` for an array.
fn deferred_array(c: &mut Client, f: impl FnOnce(&mut Client) -> usize) {
    deferred(c, false, f)
}
