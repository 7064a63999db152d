//! Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, the
//! sharded SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH (one shard here: no
//! cluster), and PUBSUB.
//! Messages reach subscribers through their output buffers (with the pub/sub
//! output limit), as push frames for RESP3 clients and arrays for RESP2 ones.
use super::*;
use crate::server::client::Client;
use crate::server::resp::Reply;
use crate::server::state::Server;
use crate::server::util::glob_match;

pub static COMMANDS: &[Command] = &[
    Command::new("subscribe", subscribe)
        .arity(-2)
        .group("pubsub")
        .flags(PUBSUB | NOSCRIPT | LOADING | STALE),
    Command::new("unsubscribe", unsubscribe)
        .arity(-1)
        .group("pubsub")
        .flags(PUBSUB | NOSCRIPT | LOADING | STALE),
    Command::new("psubscribe", psubscribe)
        .arity(-2)
        .group("pubsub")
        .flags(PUBSUB | NOSCRIPT | LOADING | STALE),
    Command::new("punsubscribe", punsubscribe)
        .arity(-1)
        .group("pubsub")
        .flags(PUBSUB | NOSCRIPT | LOADING | STALE),
    Command::new("publish", publish)
        .arity(3)
        .group("pubsub")
        .flags(PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE),
    Command::new("ssubscribe", ssubscribe)
        .arity(-2)
        .group("pubsub")
        .flags(PUBSUB | NOSCRIPT | LOADING | STALE)
        .keys(1, -1, 1),
    Command::new("sunsubscribe", sunsubscribe)
        .arity(-1)
        .group("pubsub")
        .flags(PUBSUB | NOSCRIPT | LOADING | STALE)
        .keys(1, -1, 1),
    Command::new("spublish", spublish)
        .arity(3)
        .group("pubsub")
        .flags(PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE)
        .keys(1, 1, 1),
    Command::container("pubsub", PUBSUB_SUBCOMMANDS)
        .arity(-2)
        .group("pubsub"),
];

static PUBSUB_SUBCOMMANDS: &[Command] = &[
    Command::new("pubsub|channels", pubsub_channels)
        .arity(-2)
        .group("pubsub")
        .flags(PUBSUB | LOADING | STALE),
    Command::new("pubsub|numsub", pubsub_numsub)
        .arity(-2)
        .group("pubsub")
        .flags(PUBSUB | LOADING | STALE),
    Command::new("pubsub|numpat", pubsub_numpat)
        .arity(2)
        .group("pubsub")
        .flags(PUBSUB | LOADING | STALE),
    Command::new("pubsub|shardchannels", pubsub_shardchannels)
        .arity(-2)
        .group("pubsub")
        .flags(PUBSUB | LOADING | STALE),
    Command::new("pubsub|shardnumsub", pubsub_shardnumsub)
        .arity(-2)
        .group("pubsub")
        .flags(PUBSUB | LOADING | STALE),
    Command::new("pubsub|help", pubsub_help)
        .arity(2)
        .group("pubsub")
        .flags(LOADING | STALE),
];

/// `[kind, name, count]` confirmation for (un)subscribe, written as a push:
/// it is sent even under CLIENT REPLY OFF, as in Redis.
fn confirm(r: &mut Reply, kind: &[u8], name: Option<&[u8]>, count: usize) {
    let start = r.len();
    r.push(3);
    r.bulk(kind);
    match name {
        Some(n) => r.bulk(n),
        None => r.null(),
    }
    r.int(count as i64);
    r.mark_push(start);
}

/// SUBSCRIBE channel [channel ...]: subscribes to each channel, replying with one
/// `["subscribe", channel, channels+patterns]` frame per channel (a push frame in
/// RESP3). Allowed inside MULTI/EXEC, as in Redis 7.0.
fn subscribe(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    for ch in &argv[1..] {
        if c.channels.insert(ch.clone()) {
            srv.channels.entry(ch.clone()).or_default().push(c.id);
        }
        let n = c.subscriptions();
        confirm(&mut c.reply, b"subscribe", Some(ch), n);
    }
}

/// PSUBSCRIBE pattern [pattern ...]: subscribes to glob patterns, replying with one
/// `["psubscribe", pattern, channels+patterns]` frame per pattern. Allowed inside
/// MULTI/EXEC like SUBSCRIBE.
fn psubscribe(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    for p in &argv[1..] {
        if c.patterns.insert(p.clone()) {
            srv.patterns.entry(p.clone()).or_default().push(c.id);
        }
        let n = c.subscriptions();
        confirm(&mut c.reply, b"psubscribe", Some(p), n);
    }
}

/// Removes client `id` from the subscriber list of `name`, dropping the entry once empty.
fn remove_sub(map: &mut std::collections::HashMap<Vec<u8>, Vec<u64>>, name: &[u8], id: u64) {
    if let Some(v) = map.get_mut(name) {
        v.retain(|&x| x != id);
        if v.is_empty() {
            map.remove(name);
        }
    }
}

/// UNSUBSCRIBE [channel [channel ...]]: unsubscribes from the given channels, or from all
/// (sorted) when none are given, replying with one `["unsubscribe", channel, remaining]`
/// frame each. With no subscriptions and no arguments it sends a single frame with a nil
/// channel, as Redis does.
fn unsubscribe(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let targets: Vec<Vec<u8>> = if argv.len() > 1 {
        argv[1..].to_vec()
    } else {
        let mut v: Vec<Vec<u8>> = c.channels.iter().cloned().collect();
        v.sort();
        v
    };
    if targets.is_empty() {
        let n = c.subscriptions();
        confirm(&mut c.reply, b"unsubscribe", None, n);
        return;
    }
    for ch in targets {
        if c.channels.remove(&ch) {
            remove_sub(&mut srv.channels, &ch, c.id);
        }
        let n = c.subscriptions();
        confirm(&mut c.reply, b"unsubscribe", Some(&ch), n);
    }
}

/// PUNSUBSCRIBE [pattern [pattern ...]]: the pattern counterpart of UNSUBSCRIBE, replying
/// with `["punsubscribe", pattern, remaining]` frames (one with a nil pattern if there was
/// nothing to leave).
fn punsubscribe(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let targets: Vec<Vec<u8>> = if argv.len() > 1 {
        argv[1..].to_vec()
    } else {
        let mut v: Vec<Vec<u8>> = c.patterns.iter().cloned().collect();
        v.sort();
        v
    };
    if targets.is_empty() {
        let n = c.subscriptions();
        confirm(&mut c.reply, b"punsubscribe", None, n);
        return;
    }
    for p in targets {
        if c.patterns.remove(&p) {
            remove_sub(&mut srv.patterns, &p, c.id);
        }
        let n = c.subscriptions();
        confirm(&mut c.reply, b"punsubscribe", Some(&p), n);
    }
}

/// Delivers a message to channel and pattern subscribers; returns the receivers.
/// The publishing client itself (executing, outside the client table) is `me`.
pub fn publish_message(srv: &mut Server, me: &mut Client, channel: &[u8], msg: &[u8]) -> usize {
    let mut n = 0;
    let write_msg = |r: &mut Reply| {
        let start = r.len();
        r.push(3);
        r.bulk(b"message");
        r.bulk(channel);
        r.bulk(msg);
        r.mark_push(start);
    };
    if let Some(ids) = srv.channels.get(channel).cloned() {
        for id in ids {
            if id == me.id {
                write_msg(&mut me.reply);
            } else {
                srv.push_to(id, write_msg);
            }
            n += 1;
        }
    }
    let pats: Vec<(Vec<u8>, Vec<u64>)> = srv
        .patterns
        .iter()
        .filter(|(p, _)| glob_match(p, channel, false))
        .map(|(p, ids)| (p.clone(), ids.clone()))
        .collect();
    for (p, ids) in pats {
        let write_pmsg = |r: &mut Reply| {
            let start = r.len();
            r.push(4);
            r.bulk(b"pmessage");
            r.bulk(&p);
            r.bulk(channel);
            r.bulk(msg);
            r.mark_push(start);
        };
        for id in ids {
            if id == me.id {
                write_pmsg(&mut me.reply);
            } else {
                srv.push_to(id, write_pmsg);
            }
            n += 1;
        }
    }
    n
}

/// Delivers a message the server itself publishes (keyspace notifications) to
/// channel and pattern subscribers, like [`publish_message`] but with no
/// executing client at hand: output for the client whose command is running
/// follows its reply. Returns the receivers.
pub fn publish_from_server(srv: &mut Server, channel: &[u8], msg: &[u8]) -> usize {
    let mut n = 0;
    if let Some(ids) = srv.channels.get(channel).cloned() {
        for id in ids {
            srv.send_to(id, |r, _| {
                let start = r.len();
                r.push(3);
                r.bulk(b"message");
                r.bulk(channel);
                r.bulk(msg);
                r.mark_push(start);
            });
            n += 1;
        }
    }
    if srv.patterns.is_empty() {
        return n;
    }
    let pats: Vec<(Vec<u8>, Vec<u64>)> = srv
        .patterns
        .iter()
        .filter(|(p, _)| glob_match(p, channel, false))
        .map(|(p, ids)| (p.clone(), ids.clone()))
        .collect();
    for (p, ids) in pats {
        for id in ids {
            srv.send_to(id, |r, _| {
                let start = r.len();
                r.push(4);
                r.bulk(b"pmessage");
                r.bulk(&p);
                r.bulk(channel);
                r.bulk(msg);
                r.mark_push(start);
            });
            n += 1;
        }
    }
    n
}

/// PUBLISH channel message: delivers the message to channel and matching pattern
/// subscribers and replies with the number of receivers. It is propagated to replicas (and
/// the AOF) so their subscribers get the message too.
fn publish(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let n = publish_message(srv, c, &argv[1], &argv[2]);
    // Replicas' subscribers get the message too: PUBLISH is propagated.
    srv.propagate_instead(c.db, vec![argv.to_vec()]);
    c.reply.int(n as i64);
}

/// PUBSUB CHANNELS [pattern]: replies with the sorted active channels (those with at least
/// one subscriber), optionally filtered by a glob pattern.
fn pubsub_channels(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 3 {
        c.reply
            .error("ERR wrong number of arguments for 'pubsub|channels' command");
        return;
    }
    let mut names: Vec<&Vec<u8>> = srv
        .channels
        .keys()
        .filter(|ch| argv.get(2).is_none_or(|p| glob_match(p, ch, false)))
        .collect();
    names.sort();
    c.reply.array(names.len());
    for n in names {
        c.reply.bulk(n);
    }
}

/// PUBSUB NUMSUB [channel ...]: replies with a map (flat array in RESP2) of each channel to
/// its number of channel subscribers; pattern subscribers are not counted.
fn pubsub_numsub(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    c.reply.map(argv.len() - 2);
    for ch in &argv[2..] {
        c.reply.bulk(ch);
        c.reply
            .int(srv.channels.get(ch).map(|v| v.len()).unwrap_or(0) as i64);
    }
}

/// PUBSUB SHARDNUMSUB [shardchannel ...]: replies with a map (flat array in RESP2) of
/// each shard channel to its number of subscribers.
fn pubsub_shardnumsub(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    c.reply.map(argv.len() - 2);
    for ch in &argv[2..] {
        c.reply.bulk(ch);
        c.reply
            .int(srv.shard_channels.get(ch).map_or(0, |v| v.len()) as i64);
    }
}

/// PUBSUB SHARDCHANNELS [pattern]: replies with the sorted active shard channels,
/// optionally filtered by a glob pattern.
fn pubsub_shardchannels(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 3 {
        c.reply
            .error("ERR wrong number of arguments for 'pubsub|shardchannels' command");
        return;
    }
    let mut names: Vec<&Vec<u8>> = srv
        .shard_channels
        .keys()
        .filter(|ch| argv.get(2).is_none_or(|p| glob_match(p, ch, false)))
        .collect();
    names.sort();
    c.reply.array(names.len());
    for n in names {
        c.reply.bulk(n);
    }
}

/// SSUBSCRIBE shardchannel [shardchannel ...]: subscribes to shard channels, replying
/// with one `["ssubscribe", channel, shard-subscriptions]` frame per channel (the count
/// is of shard channels only). Refused inside MULTI/EXEC with Redis 7.0's error.
fn ssubscribe(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if srv.in_exec {
        c.reply
            .error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    for ch in &argv[1..] {
        if c.shard_channels.insert(ch.clone()) {
            srv.shard_channels.entry(ch.clone()).or_default().push(c.id);
        }
        let n = c.shard_channels.len();
        confirm(&mut c.reply, b"ssubscribe", Some(ch), n);
    }
}

/// SUNSUBSCRIBE [shardchannel ...]: leaves the given shard channels, or all (sorted)
/// when none are given, one `["sunsubscribe", channel, remaining-shard-subscriptions]`
/// frame each; a single frame with a nil channel when there was nothing to leave.
fn sunsubscribe(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let targets: Vec<Vec<u8>> = if argv.len() > 1 {
        argv[1..].to_vec()
    } else {
        let mut v: Vec<Vec<u8>> = c.shard_channels.iter().cloned().collect();
        v.sort();
        v
    };
    if targets.is_empty() {
        let n = c.shard_channels.len();
        confirm(&mut c.reply, b"sunsubscribe", None, n);
        return;
    }
    for ch in targets {
        if c.shard_channels.remove(&ch) {
            remove_sub(&mut srv.shard_channels, &ch, c.id);
        }
        let n = c.shard_channels.len();
        confirm(&mut c.reply, b"sunsubscribe", Some(&ch), n);
    }
}

/// SPUBLISH shardchannel message: delivers `["smessage", channel, message]` to the shard
/// channel's subscribers (patterns do not apply) and replies with their number. It is
/// propagated to replicas, whose shard subscribers get it too.
fn spublish(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let (channel, msg) = (&argv[1], &argv[2]);
    let write = |r: &mut Reply| {
        let start = r.len();
        r.push(3);
        r.bulk(b"smessage");
        r.bulk(channel);
        r.bulk(msg);
        r.mark_push(start);
    };
    let mut n = 0;
    for id in srv.shard_channels.get(channel).cloned().unwrap_or_default() {
        if id == c.id {
            write(&mut c.reply);
        } else {
            srv.push_to(id, write);
        }
        n += 1;
    }
    srv.propagate_instead(c.db, vec![argv.to_vec()]);
    c.reply.int(n);
}

/// PUBSUB NUMPAT: replies with the number of distinct patterns subscribed to.
fn pubsub_numpat(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.int(srv.patterns.len() as i64);
}

/// PUBSUB HELP: replies with the list of PUBSUB subcommands as simple strings.
fn pubsub_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}

/// Drops every subscription of a client (RESET, disconnect).
pub fn reset(srv: &mut Server, c: &mut Client) {
    for ch in c.channels.drain() {
        remove_sub(&mut srv.channels, &ch, c.id);
    }
    for p in c.patterns.drain() {
        remove_sub(&mut srv.patterns, &p, c.id);
    }
    for ch in c.shard_channels.drain() {
        remove_sub(&mut srv.shard_channels, &ch, c.id);
    }
}
