//! XREAD and XREADGROUP (xreadCommand), their blocking forms, and the
//! delivery bookkeeping of consumer groups (streamReplyWithRange with a group):
//! PEL records, last delivered id, entries read, and their propagation as
//! XCLAIM / XGROUP SETID / XGROUP CREATECONSUMER.
use super::*;
use crate::server::resp::errors;
use crate::server::types::stream::{Consumer, Group};

/// Arguments of a blocked read: COUNT when the command gave none.
const BLOCKED_DEFAULT_COUNT: &[u8] = b"1000";

/// Parses XREAD's BLOCK argument (milliseconds): Ok(-1) when absent.
fn parse_block_ms(c: &mut Client, a: &[u8]) -> Option<i64> {
    let Some(v) = crate::server::util::parse_i64(a) else {
        c.reply.error(errors::TIMEOUT_NOT_INTEGER);
        return None;
    };
    if v < 0 {
        c.reply.error(errors::TIMEOUT_NEGATIVE);
        return None;
    }
    if v > i64::MAX - crate::server::util::now_ms() {
        c.reply.error("ERR timeout is out of range");
        return None;
    }
    Some(v)
}

/// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]: entries
/// after each id (`$`: the stream's last id); blocks when there are none and
/// BLOCK was given.
pub(super) fn xread(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    read_generic(srv, c, argv, false)
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS
/// key [key ...] id [id ...]: `>` delivers new entries to the consumer (adding
/// them to its PEL unless NOACK), another id re-reads its own pending history.
/// Propagated as its effects: XCLAIM per delivered entry, XGROUP SETID for
/// NOACK reads, XGROUP CREATECONSUMER for consumers NOACK creates.
pub(super) fn xreadgroup(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    read_generic(srv, c, argv, true)
}

fn read_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], xreadgroup: bool) {
    let mut timeout: i64 = -1;
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut nstreams = 0;
    let mut noack = false;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = &argv[i][..];
        if eq_ignore_case(o, b"block") && more > 0 {
            if c.is_script() {
                // Blocking makes no sense in a script; Redis says so rather
                // than answering as if the timeout had passed.
                c.reply.error(&format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(&argv[0])
                ));
                return;
            }
            i += 1;
            let Some(t) = parse_block_ms(c, &argv[i]) else {
                return;
            };
            timeout = t;
        } else if eq_ignore_case(o, b"count") && more > 0 {
            i += 1;
            let Some(v) = parse_ll(c, &argv[i], None) else {
                return;
            };
            count = v.max(0);
        } else if eq_ignore_case(o, b"streams") && more > 0 {
            streams_arg = i + 1;
            let n = argv.len() - streams_arg;
            if !n.is_multiple_of(2) {
                c.reply.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
                return;
            }
            nstreams = n / 2;
            break;
        } else if eq_ignore_case(o, b"group") && more >= 2 {
            if !xreadgroup {
                c.reply.error(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                );
                return;
            }
            group = Some((&argv[i + 1], &argv[i + 2]));
            i += 2;
        } else if eq_ignore_case(o, b"noack") {
            if !xreadgroup {
                c.reply.error(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                );
                return;
            }
            noack = true;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
        i += 1;
    }
    if streams_arg == 0 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    if xreadgroup && group.is_none() {
        c.reply.error("ERR Missing GROUP option for XREADGROUP");
        return;
    }
    if xreadgroup {
        let db = c.db;
        // Only the effects go out (preventCommandPropagation).
        srv.propagate_instead(db, vec![]);
    }
    let keys = &argv[streams_arg..streams_arg + nstreams];
    let db = c.db;
    let mut ids: Vec<StreamId> = Vec::with_capacity(nstreams);
    for (k, key) in keys.iter().enumerate() {
        let ida = &argv[streams_arg + nstreams + k];
        // Served again after a wake-up: a key that now holds another type is
        // as good as missing (Redis only serves stream readers from streams).
        let other_type = srv.serving_blocked
            && matches!(srv.dbs[db].get(key).map(|e| &e.value), Some(v) if !matches!(v, Value::Stream(_)));
        let s = if other_type {
            None
        } else {
            match stream_read(srv, c, key) {
                Err(()) => return,
                Ok(s) => s,
            }
        };
        if let Some((g, _)) = group {
            if s.as_ref().is_none_or(|s| !s.groups.contains_key(g)) {
                if srv.serving_blocked {
                    c.reply.error(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    );
                } else {
                    c.reply.error(&format!(
                        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                        String::from_utf8_lossy(key),
                        String::from_utf8_lossy(g)
                    ));
                }
                return;
            }
        }
        if &ida[..] == b"$" {
            if xreadgroup {
                c.reply.error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
                return;
            }
            ids.push(s.map(|s| s.last_id).unwrap_or_default());
        } else if &ida[..] == b">" {
            if !xreadgroup {
                c.reply.error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
                return;
            }
            ids.push(StreamId::MAX);
        } else {
            let Some(id) = parse_id_or_reply(c, ida, 0, true) else {
                return;
            };
            ids.push(id);
        }
    }

    let now = now();
    let resp3 = c.reply.resp3;
    let mut served = 0usize;
    let saved = std::mem::take(&mut c.reply.buf);
    for (k, key) in keys.iter().enumerate() {
        let Some(Value::Stream(s)) = srv.dbs[db].get_mut(key).map(|e| &mut e.value) else {
            continue;
        };
        let mut gt = ids[k];
        let mut history = false;
        let serve = if let Some((g, _)) = group {
            if gt != StreamId::MAX {
                history = true;
                true
            } else {
                // `>`: what comes after the group's last delivered id.
                gt = s.groups.get(g).map(|g| g.last_id).unwrap_or_default();
                s.length > 0 && s.edge_id(true) > gt
            }
        } else {
            s.length > 0 && s.edge_id(true) > gt
        };
        if !serve {
            continue;
        }
        served += 1;
        if !resp3 {
            c.reply.array(2);
        }
        c.reply.bulk(key);
        let start = gt.incr().unwrap_or(StreamId::MAX);
        match group {
            None => {
                let limit = if count == 0 {
                    usize::MAX
                } else {
                    count as usize
                };
                deferred_array(c, |c| {
                    let mut n = 0;
                    s.for_range(start, StreamId::MAX, false, |id, f| {
                        reply_entry(c, id, &f);
                        n += 1;
                        n < limit
                    });
                    n
                });
            }
            Some((gname, cname)) => {
                let Some(mut g) = s.groups.remove(gname) else {
                    continue;
                };
                let mut effects = Vec::new();
                let created = ensure_consumer(&mut g, cname, now, noack, key, gname, &mut effects);
                if history {
                    reply_history(c, s, &mut g, cname, start, count as usize, now);
                } else {
                    deliver(
                        c,
                        s,
                        &mut g,
                        Delivery {
                            key,
                            gname,
                            cname,
                            start,
                            count: count as usize,
                            noack,
                            now,
                        },
                        &mut effects,
                    );
                }
                s.groups.insert(gname.to_vec(), g);
                if created {
                    crate::server::notify::notify(
                        srv,
                        crate::server::notify::STREAM,
                        "xgroup-createconsumer",
                        key,
                        db,
                    );
                }
                for e in effects {
                    srv.also_propagate(db, e);
                }
                srv.add_dirty(1);
            }
        }
    }
    let body = std::mem::replace(&mut c.reply.buf, saved);
    if served > 0 {
        if resp3 {
            c.reply.map(served);
        } else {
            c.reply.array(served);
        }
        c.reply.raw(&body);
        return;
    }
    if timeout != -1 {
        if cannot_block(srv, c) {
            c.reply.null_array();
            return;
        }
        // Block with the ids resolved now (`$` is the last id at this time),
        // and Redis's default COUNT for a blocked read.
        let mut stored = Vec::with_capacity(argv.len() + 2);
        stored.push(argv[0].clone());
        stored.push(b"COUNT".to_vec());
        stored.push(BLOCKED_DEFAULT_COUNT.to_vec());
        stored.extend_from_slice(&argv[1..]);
        let off = 2;
        for (k, id) in ids.iter().enumerate() {
            let pos = streams_arg + nstreams + k + off;
            if stored[pos] == b"$" {
                stored[pos] = id.to_bytes();
            }
        }
        block_on_keys(srv, c, keys.to_vec(), timeout, &stored);
        return;
    }
    c.reply.null_array();
}

/// Makes sure consumer `cname` exists (refreshing its seen time); a consumer
/// NOACK creates is propagated as XGROUP CREATECONSUMER. True when created.
fn ensure_consumer(
    g: &mut Group,
    cname: &[u8],
    now: i64,
    noack: bool,
    key: &[u8],
    gname: &[u8],
    effects: &mut Vec<Vec<Vec<u8>>>,
) -> bool {
    match g.consumers.get_mut(cname) {
        Some(cons) => {
            cons.seen_time = now;
            false
        }
        None => {
            g.consumers.insert(
                cname.to_vec(),
                Consumer {
                    seen_time: now,
                    ..Default::default()
                },
            );
            if noack {
                effects.push(vec![
                    b"XGROUP".to_vec(),
                    b"CREATECONSUMER".to_vec(),
                    key.to_vec(),
                    gname.to_vec(),
                    cname.to_vec(),
                ]);
            }
            true
        }
    }
}

/// The XCLAIM that reproduces a PEL record on replicas (streamPropagateXCLAIM).
pub(super) fn xclaim_effect(
    key: &[u8],
    gname: &[u8],
    g: &Group,
    id: StreamId,
) -> Option<Vec<Vec<u8>>> {
    let n = g.pel.get(&id)?;
    Some(vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        gname.to_vec(),
        n.consumer.to_vec(),
        b"0".to_vec(),
        id.to_bytes(),
        b"TIME".to_vec(),
        n.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        n.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        g.last_id.to_bytes(),
    ])
}

/// The XGROUP SETID that carries a group's position (streamPropagateGroupID).
pub(super) fn setid_effect(key: &[u8], gname: &[u8], g: &Group) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        gname.to_vec(),
        g.last_id.to_bytes(),
        b"ENTRIESREAD".to_vec(),
        g.entries_read.to_string().into_bytes(),
    ]
}

struct Delivery<'a> {
    key: &'a [u8],
    gname: &'a [u8],
    cname: &'a [u8],
    start: StreamId,
    count: usize,
    noack: bool,
    now: i64,
}

/// Delivers new entries from `d.start` to consumer `d.cname` of group `g`.
fn deliver(
    c: &mut Client,
    s: &Stream,
    g: &mut Group,
    d: Delivery,
    effects: &mut Vec<Vec<Vec<u8>>>,
) {
    let limit = if d.count == 0 { usize::MAX } else { d.count };
    let mut moved = false;
    deferred_array(c, |c| {
        let mut n = 0;
        s.for_range(d.start, StreamId::MAX, false, |id, f| {
            if id > g.last_id {
                s.advance_group(g, id);
                moved = true;
            }
            reply_entry(c, id, &f);
            if !d.noack {
                let nack = g.assign(id, d.cname, d.now);
                nack.delivery_time = d.now;
                nack.delivery_count = 1;
                if let Some(e) = xclaim_effect(d.key, d.gname, g, id) {
                    effects.push(e);
                }
            }
            n += 1;
            n < limit
        });
        n
    });
    if d.noack && moved {
        effects.push(setid_effect(d.key, d.gname, g));
    }
}

/// Re-reads a consumer's pending entries after `start`
/// (streamReplyWithRangeFromConsumerPEL): deleted entries come back as
/// `[id, nil]`; each delivered one counts as a new delivery.
fn reply_history(
    c: &mut Client,
    s: &Stream,
    g: &mut Group,
    cname: &[u8],
    start: StreamId,
    count: usize,
    now: i64,
) {
    let ids: Vec<StreamId> = g
        .consumers
        .get(cname)
        .map(|cons| {
            cons.pel
                .range(start..)
                .take(if count == 0 { usize::MAX } else { count })
                .copied()
                .collect()
        })
        .unwrap_or_default();
    c.reply.array(ids.len());
    for id in ids {
        let mut found = false;
        s.for_range(id, id, false, |id, f| {
            reply_entry(c, id, &f);
            found = true;
            false
        });
        if found {
            if let Some(n) = g.pel.get_mut(&id) {
                n.delivery_time = now;
                n.delivery_count += 1;
            }
        } else {
            c.reply.array(2);
            reply_id(c, id);
            c.reply.null_array();
        }
    }
}
