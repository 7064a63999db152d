//! Sorted-set commands. Every range command turns its bounds (ranks, scores or
//! lexicographic items) into a half-open range of ranks with the ZSet's O(log n)
//! counting, then reads or removes that range.
mod ranges;
mod setops;

use super::*;
use crate::server::client::Client;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::zset::Inserted;
use crate::server::types::{Set, Value, ZSet, WRONGTYPE};
use crate::server::util::{glob_match, parse_f64, parse_i64};
use ranges::*;
use setops::*;

pub static COMMANDS: &[Command] = &[
    Command::new("zadd", zadd)
        .arity(-4)
        .group("sortedset")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("zincrby", zincrby)
        .arity(4)
        .group("sortedset")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("zrem", zrem)
        .arity(-3)
        .group("sortedset")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("zcard", zcard)
        .arity(2)
        .group("sortedset")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("zcount", zcount)
        .arity(4)
        .group("sortedset")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("zlexcount", zlexcount)
        .arity(4)
        .group("sortedset")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("zscore", zscore)
        .arity(3)
        .group("sortedset")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("zmscore", zmscore)
        .arity(-3)
        .group("sortedset")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("zrank", zrank)
        .arity(3)
        .group("sortedset")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("zrevrank", zrevrank)
        .arity(3)
        .group("sortedset")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("zrange", zrange)
        .arity(-4)
        .group("sortedset")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("zrangestore", zrangestore)
        .arity(-5)
        .group("sortedset")
        .flags(WRITE | DENYOOM)
        .keys(1, 2, 1),
    Command::new("zrevrange", zrevrange)
        .arity(-4)
        .group("sortedset")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("zrangebyscore", zrangebyscore)
        .arity(-4)
        .group("sortedset")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("zrevrangebyscore", zrevrangebyscore)
        .arity(-4)
        .group("sortedset")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("zrangebylex", zrangebylex)
        .arity(-4)
        .group("sortedset")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("zrevrangebylex", zrevrangebylex)
        .arity(-4)
        .group("sortedset")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("zpopmin", zpopmin)
        .arity(-2)
        .group("sortedset")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("zpopmax", zpopmax)
        .arity(-2)
        .group("sortedset")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("bzpopmin", bzpopmin)
        .arity(-3)
        .group("sortedset")
        .flags(WRITE | FAST | BLOCKING | NOSCRIPT)
        .keys(1, -2, 1),
    Command::new("bzpopmax", bzpopmax)
        .arity(-3)
        .group("sortedset")
        .flags(WRITE | FAST | BLOCKING | NOSCRIPT)
        .keys(1, -2, 1),
    Command::new("zmpop", zmpop)
        .arity(-4)
        .group("sortedset")
        .flags(WRITE),
    Command::new("bzmpop", bzmpop)
        .arity(-5)
        .group("sortedset")
        .flags(WRITE | BLOCKING),
    Command::new("zremrangebyrank", zremrangebyrank)
        .arity(4)
        .group("sortedset")
        .flags(WRITE)
        .keys(1, 1, 1),
    Command::new("zremrangebyscore", zremrangebyscore)
        .arity(4)
        .group("sortedset")
        .flags(WRITE)
        .keys(1, 1, 1),
    Command::new("zremrangebylex", zremrangebylex)
        .arity(4)
        .group("sortedset")
        .flags(WRITE)
        .keys(1, 1, 1),
    Command::new("zunionstore", zunionstore)
        .arity(-4)
        .group("sortedset")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("zinterstore", zinterstore)
        .arity(-4)
        .group("sortedset")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("zdiffstore", zdiffstore)
        .arity(-4)
        .group("sortedset")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("zunion", zunion)
        .arity(-3)
        .group("sortedset")
        .flags(READONLY),
    Command::new("zinter", zinter)
        .arity(-3)
        .group("sortedset")
        .flags(READONLY),
    Command::new("zdiff", zdiff)
        .arity(-3)
        .group("sortedset")
        .flags(READONLY),
    Command::new("zintercard", zintercard)
        .arity(-3)
        .group("sortedset")
        .flags(READONLY),
    Command::new("zrandmember", zrandmember)
        .arity(-2)
        .group("sortedset")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("zscan", zscan)
        .arity(-3)
        .group("sortedset")
        .flags(READONLY)
        .keys(1, 1, 1),
];

/// Members with their scores, in order.
type Scored = Vec<(Vec<u8>, f64)>;

const NOT_FLOAT: &str = errors::NOT_FLOAT;
const NOT_INT: &str = errors::NOT_INTEGER;

// ---------------------------------------------------------------------------
// Lookups

/// Ok(true) when `key` holds a zset, Ok(false) when missing, Err after WRONGTYPE.
fn check_read(srv: &mut Server, c: &mut Client, key: &[u8]) -> Result<bool, ()> {
    check_read_type(srv, c, key, |v| matches!(v, Value::ZSet(_)))
}

fn get<'a>(srv: &'a Server, db: usize, key: &[u8]) -> Option<&'a ZSet> {
    match srv.dbs[db].get(key).map(|e| &e.value) {
        Some(Value::ZSet(z)) => Some(z),
        _ => None,
    }
}

fn get_mut<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> Option<&'a mut ZSet> {
    match srv.dbs[db].get_mut(key).map(|e| &mut e.value) {
        Some(Value::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// Checks `key` for writing: Ok(true) if a sorted set, Ok(false) if missing.
fn check_write(srv: &mut Server, c: &mut Client, key: &[u8]) -> Result<bool, ()> {
    match srv
        .lookup_write(c.db, key)
        .map(|e| matches!(e.value, Value::ZSet(_)))
    {
        None => Ok(false),
        Some(true) => Ok(true),
        Some(false) => {
            c.reply.error(WRONGTYPE);
            Err(())
        }
    }
}

fn limits(srv: &Server) -> (u64, u64) {
    (
        srv.config.zset_max_listpack_entries,
        srv.config.zset_max_listpack_value,
    )
}

/// Deletes the key when a command emptied its sorted set; returns whether it did.
fn drop_if_empty(srv: &mut Server, db: usize, key: &[u8]) -> bool {
    if get(srv, db, key).is_some_and(|z| z.is_empty()) {
        srv.dbs[db].remove(key);
        return true;
    }
    false
}

/// After members were removed: the zset event, then `del` if the key went
/// (Redis's order).
fn removed_event(srv: &mut Server, db: usize, key: &[u8], event: &str, deleted: bool) {
    crate::server::notify::notify(srv, crate::server::notify::ZSET, event, key, db);
    if deleted {
        crate::server::notify::notify(srv, crate::server::notify::GENERIC, "del", key, db);
    }
}

// ---------------------------------------------------------------------------
// Replies

/// Member/score pairs: flat in RESP2, [member, score] pairs in RESP3.
fn reply_with_scores(c: &mut Client, items: &[(Vec<u8>, f64)], withscores: bool) {
    if withscores && c.reply.resp3 {
        c.reply.array(items.len());
        for (m, s) in items {
            c.reply.array(2);
            c.reply.bulk(m);
            c.reply.double(*s);
        }
    } else {
        c.reply.array(if withscores {
            items.len() * 2
        } else {
            items.len()
        });
        for (m, s) in items {
            c.reply.bulk(m);
            if withscores {
                c.reply.double(*s);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// ZADD / ZINCRBY / ZREM / simple reads

pub(crate) fn zadd(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    zadd_generic(srv, c, argv, false)
}

fn zincrby(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    zadd_generic(srv, c, argv, true)
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...], and
/// ZINCRBY as ZADD INCR.
fn zadd_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], zincrby: bool) {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, zincrby);
    let mut i = 2;
    if !zincrby {
        while i < argv.len() {
            let a = &argv[i][..];
            let is = |f: &[u8]| a.eq_ignore_ascii_case(f);
            if is(b"nx") {
                nx = true;
            } else if is(b"xx") {
                xx = true;
            } else if is(b"gt") {
                gt = true;
            } else if is(b"lt") {
                lt = true;
            } else if is(b"ch") {
                ch = true;
            } else if is(b"incr") {
                incr = true;
            } else {
                break;
            }
            i += 1;
        }
    }
    let elements = argv.len() - i;
    if elements == 0 || !elements.is_multiple_of(2) {
        c.reply.error(errors::SYNTAX);
        return;
    }
    if incr && elements > 2 {
        c.reply
            .error("ERR INCR option supports a single increment-element pair");
        return;
    }
    if nx && xx {
        c.reply
            .error("ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt || lt) && nx) || (gt && lt) {
        c.reply
            .error("ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    let mut pairs = Vec::with_capacity(elements / 2);
    for p in argv[i..].chunks(2) {
        let Some(s) = parse_f64(&p[0]) else {
            c.reply.error(NOT_FLOAT);
            return;
        };
        pairs.push((s, &p[1]));
    }
    let key = &argv[1];
    let db = c.db;
    let Ok(exists) = check_write(srv, c, key) else {
        return;
    };
    let (added, updated, processed, last) = if !exists && xx {
        (0, 0, 0, 0.0)
    } else {
        if !exists {
            srv.dbs[db].set(key, Value::ZSet(Default::default()), false);
            crate::server::notify::new_key(srv, key, db);
        }
        let (me, mv) = limits(srv);
        let z = get_mut(srv, db, key).expect("created above");
        let (mut added, mut updated, mut processed, mut last) = (0, 0, 0, 0.0);
        for (mut score, member) in pairs {
            match z.score(member) {
                Some(cur) => {
                    if nx {
                        continue;
                    }
                    if incr {
                        score += cur;
                        if score.is_nan() {
                            c.reply.error("ERR resulting score is not a number (NaN)");
                            drop_if_empty(srv, db, key);
                            return;
                        }
                    }
                    if (lt && score >= cur) || (gt && score <= cur) {
                        continue;
                    }
                    if z.insert_with(member, score, me, mv) == Inserted::Updated {
                        updated += 1;
                    }
                }
                None => {
                    if xx {
                        continue;
                    }
                    z.insert_with(member, score, me, mv);
                    added += 1;
                }
            }
            processed += 1;
            last = score;
        }
        (added, updated, processed, last)
    };
    drop_if_empty(srv, db, key);
    if added + updated > 0 {
        srv.signal_modified(db, key);
        srv.signal_key_ready(db, key);
        let event = if incr { "zincr" } else { "zadd" };
        crate::server::notify::notify(srv, crate::server::notify::ZSET, event, key, db);
        srv.add_dirty((added + updated) as u64);
    }
    if incr {
        if processed > 0 {
            c.reply.double(last);
        } else {
            c.reply.null();
        }
    } else {
        c.reply.int(if ch { added + updated } else { added });
    }
}

fn zrem(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let Ok(exists) = check_write(srv, c, &argv[1]) else {
        return;
    };
    let mut n = 0;
    let mut deleted = false;
    if exists {
        let z = get_mut(srv, db, &argv[1]).expect("exists");
        n = argv[2..].iter().filter(|m| z.remove(m)).count();
        deleted = drop_if_empty(srv, db, &argv[1]);
    }
    if n > 0 {
        srv.signal_modified(db, &argv[1]);
        removed_event(srv, db, &argv[1], "zrem", deleted);
        srv.add_dirty(n as u64);
    }
    c.reply.int(n as i64);
}

fn zcard(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let n = get(srv, c.db, &argv[1]).map(|z| z.len()).unwrap_or(0);
    c.reply.int(n as i64);
}

fn zscore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    match get(srv, c.db, &argv[1]).and_then(|z| z.score(&argv[2])) {
        Some(s) => c.reply.double(s),
        None => c.reply.null(),
    }
}

fn zmscore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let z = get(srv, c.db, &argv[1]);
    let scores: Vec<Option<f64>> = argv[2..]
        .iter()
        .map(|m| z.and_then(|z| z.score(m)))
        .collect();
    c.reply.array(scores.len());
    for s in scores {
        match s {
            Some(s) => c.reply.double(s),
            None => c.reply.null(),
        }
    }
}

fn rank_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], rev: bool) {
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let r = get(srv, c.db, &argv[1]).and_then(|z| {
        z.rank(&argv[2])
            .map(|r| if rev { z.len() - 1 - r } else { r })
    });
    match r {
        Some(r) => c.reply.int(r as i64),
        None => c.reply.null(),
    }
}

fn zrank(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    rank_generic(srv, c, argv, false)
}
fn zrevrank(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    rank_generic(srv, c, argv, true)
}

// ---------------------------------------------------------------------------
// Pops

/// Pops up to `count` from the low (`max` false) or high end of an existing set.
fn pop_n(srv: &mut Server, db: usize, key: &[u8], max: bool, count: usize) -> Vec<(Vec<u8>, f64)> {
    let Some(z) = get_mut(srv, db, key) else {
        return Vec::new();
    };
    let out = z.pop(max, count);
    let deleted = drop_if_empty(srv, db, key);
    if !out.is_empty() {
        srv.signal_modified(db, key);
        let event = if max { "zpopmax" } else { "zpopmin" };
        removed_event(srv, db, key, event, deleted);
        srv.add_dirty(out.len() as u64);
    }
    out
}

fn pop_name(max: bool) -> &'static [u8] {
    if max {
        b"ZPOPMAX"
    } else {
        b"ZPOPMIN"
    }
}

fn zpop_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], max: bool) {
    if argv.len() > 3 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let count = if argv.len() == 3 {
        match parse_i64(&argv[2]) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => {
                c.reply.error(errors::OUT_OF_RANGE_POSITIVE);
                return;
            }
        }
    } else {
        None
    };
    let db = c.db;
    let Ok(_) = check_write(srv, c, &argv[1]) else {
        return;
    };
    let items = pop_n(srv, db, &argv[1], max, count.unwrap_or(1));
    if count.is_some() && c.reply.resp3 {
        reply_with_scores(c, &items, true);
    } else {
        c.reply.array(items.len() * 2);
        for (m, s) in &items {
            c.reply.bulk(m);
            c.reply.double(*s);
        }
    }
}

fn zpopmin(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    zpop_generic(srv, c, argv, false)
}
fn zpopmax(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    zpop_generic(srv, c, argv, true)
}

/// BZPOPMIN/BZPOPMAX key [key ...] timeout: replies [key, member, score] and
/// replicates ZPOPMIN/ZPOPMAX key.
fn bzpop_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], max: bool) {
    let timeout = match parse_timeout(&argv[argv.len() - 1]) {
        Ok(t) => t,
        Err(e) => {
            c.reply.error(&e);
            return;
        }
    };
    let db = c.db;
    let keys = &argv[1..argv.len() - 1];
    for k in keys {
        match check_write(srv, c, k) {
            Err(()) => return,
            Ok(false) => continue,
            Ok(true) => {
                let (m, s) = pop_n(srv, db, k, max, 1).pop().expect("non-empty");
                srv.propagate_instead(db, vec![vec![pop_name(max).to_vec(), k.clone()]]);
                c.reply.array(3);
                c.reply.bulk(k);
                c.reply.bulk(&m);
                c.reply.double(s);
                return;
            }
        }
    }
    if cannot_block(srv, c) {
        c.reply.null_array();
        return;
    }
    block_on_keys(srv, c, keys.to_vec(), timeout, argv);
}

fn bzpopmin(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    bzpop_generic(srv, c, argv, false)
}
fn bzpopmax(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    bzpop_generic(srv, c, argv, true)
}

/// MIN or MAX of ZMPOP/BZMPOP: true for MAX.
fn parse_min_max(a: &[u8]) -> Option<bool> {
    match a.to_ascii_lowercase().as_slice() {
        b"min" => Some(false),
        b"max" => Some(true),
        _ => None,
    }
}

/// Pops from the first non-empty set; replies [key, [[member, score] ...]].
/// Ok(false) when every set was empty.
fn mpop_serve(
    srv: &mut Server,
    c: &mut Client,
    keys: &[Vec<u8>],
    max: bool,
    count: usize,
) -> Result<bool, ()> {
    let db = c.db;
    for k in keys {
        if !check_write(srv, c, k)? {
            continue;
        }
        let items = pop_n(srv, db, k, max, count);
        srv.propagate_instead(
            db,
            vec![vec![
                pop_name(max).to_vec(),
                k.clone(),
                items.len().to_string().into_bytes(),
            ]],
        );
        c.reply.array(2);
        c.reply.bulk(k);
        c.reply.array(items.len());
        for (m, s) in &items {
            c.reply.array(2);
            c.reply.bulk(m);
            c.reply.double(*s);
        }
        return Ok(true);
    }
    Ok(false)
}

fn zmpop(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some((keys, max, count)) = parse_mpop(c, argv, 1, parse_min_max) else {
        return;
    };
    if let Ok(false) = mpop_serve(srv, c, &keys, max, count) {
        c.reply.null_array()
    }
}

fn bzmpop(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let timeout = match parse_timeout(&argv[1]) {
        Ok(t) => t,
        Err(e) => {
            c.reply.error(&e);
            return;
        }
    };
    let Some((keys, max, count)) = parse_mpop(c, argv, 2, parse_min_max) else {
        return;
    };
    match mpop_serve(srv, c, &keys, max, count) {
        Err(()) | Ok(true) => {}
        Ok(false) => {
            if cannot_block(srv, c) {
                c.reply.null_array();
            } else {
                block_on_keys(srv, c, keys, timeout, argv);
            }
        }
    }
}
// ---------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN

fn zrandmember(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut count: Option<i64> = None;
    let mut withscores = false;
    if argv.len() >= 3 {
        match parse_i64(&argv[2]) {
            Some(n) => count = Some(n),
            None => {
                c.reply.error(NOT_INT);
                return;
            }
        }
        if argv.len() == 4 && argv[3].eq_ignore_ascii_case(b"withscores") {
            withscores = true;
        } else if argv.len() >= 4 {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    if let Some(n) = count {
        if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
            c.reply.error(errors::OUT_OF_RANGE);
            return;
        }
    }
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let mut rng = std::mem::take(&mut srv.rng);
    let picked = get(srv, c.db, &argv[1]).map(|z| {
        let len = z.len();
        let pick = |rng: &mut crate::server::util::Rng| {
            let (m, s) = z
                .get_by_rank(rng.below(len as u64) as usize)
                .expect("in range");
            (m.to_vec(), s)
        };
        match count {
            None => vec![pick(&mut rng)],
            Some(n) if n < 0 => (0..n.unsigned_abs()).map(|_| pick(&mut rng)).collect(),
            Some(n) if n as usize >= len => z.iter_all(),
            Some(n) if (n as usize) * 3 <= len => {
                // Few members out of many: distinct random ranks, O(count log n).
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::with_capacity(n as usize);
                while out.len() < n as usize {
                    let i = rng.below(len as u64) as usize;
                    if seen.insert(i) {
                        let (m, s) = z.get_by_rank(i).expect("in range");
                        out.push((m.to_vec(), s));
                    }
                }
                out
            }
            Some(n) => {
                let mut all = z.iter_all();
                for i in 0..n as usize {
                    let j = i + rng.below((all.len() - i) as u64) as usize;
                    all.swap(i, j);
                }
                all.truncate(n as usize);
                all
            }
        }
    });
    srv.rng = rng;
    match (count, picked) {
        (None, None) => c.reply.null(),
        (None, Some(p)) => c.reply.bulk(&p[0].0),
        (Some(_), p) => reply_with_scores(c, &p.unwrap_or_default(), withscores),
    }
}

fn zscan(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some((cursor, o)) = parse_scan_args(c, argv) else {
        return;
    };
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let mut out: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut next = 0;
    if let Some(z) = get(srv, c.db, &argv[1]) {
        let mut seen = 0;
        next = scan_steps(cursor, o.count, |cur| {
            let n = z.scan(cur, |m, s| {
                seen += 1;
                if o.pattern.as_ref().is_none_or(|p| glob_match(p, m, false)) {
                    out.push((m.to_vec(), s));
                }
            });
            (n, seen)
        });
    }
    c.reply.array(2);
    c.reply.bulk(next.to_string().as_bytes());
    c.reply.array(out.len() * 2);
    for (m, s) in out {
        c.reply.bulk(&m);
        c.reply.bulk(crate::server::util::format_f64(s).as_bytes());
    }
}
