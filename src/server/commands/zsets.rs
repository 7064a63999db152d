//! Sorted-set commands. Every range command turns its bounds (ranks, scores or
//! lexicographic items) into a half-open range of ranks with the ZSet's O(log n)
//! counting, then reads or removes that range.
use super::keys::{parse_scan_args, scan_steps};
use super::*;
use crate::server::client::Client;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::zset::Inserted;
use crate::server::types::{Set, Value, ZSet, WRONGTYPE};
use crate::server::util::{glob_match, parse_f64, parse_i64};

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
        .flags(WRITE | FAST | BLOCKING)
        .keys(1, -2, 1),
    Command::new("bzpopmax", bzpopmax)
        .arity(-3)
        .group("sortedset")
        .flags(WRITE | FAST | BLOCKING)
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

/// Deletes the key when a command emptied its sorted set.
fn drop_if_empty(srv: &mut Server, db: usize, key: &[u8]) {
    if get(srv, db, key).is_some_and(|z| z.is_empty()) {
        srv.dbs[db].remove(key);
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

fn zadd(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
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
    if exists {
        let z = get_mut(srv, db, &argv[1]).expect("exists");
        n = argv[2..].iter().filter(|m| z.remove(m)).count();
        drop_if_empty(srv, db, &argv[1]);
    }
    if n > 0 {
        srv.signal_modified(db, &argv[1]);
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
// Ranges

/// One end of a score range: the value and whether it is exclusive ("(1.5").
#[derive(Clone, Copy)]
struct ScoreBound {
    value: f64,
    exclusive: bool,
}

fn parse_score_bound(a: &[u8]) -> Option<ScoreBound> {
    let (exclusive, s) = match a.first() {
        Some(b'(') => (true, &a[1..]),
        _ => (false, a),
    };
    parse_f64(s).map(|value| ScoreBound { value, exclusive })
}

/// One end of a lexicographic range.
#[derive(Clone)]
enum LexBound {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

fn parse_lex_bound(a: &[u8]) -> Option<LexBound> {
    match a.first() {
        Some(b'-') if a.len() == 1 => Some(LexBound::Min),
        Some(b'+') if a.len() == 1 => Some(LexBound::Max),
        Some(b'[') => Some(LexBound::Incl(a[1..].to_vec())),
        Some(b'(') => Some(LexBound::Excl(a[1..].to_vec())),
        _ => None,
    }
}

/// A range the caller asked for, already parsed.
enum Range {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

/// The half-open ascending rank range [start, end) a score or lex range covers.
fn rank_span(z: &ZSet, r: &Range) -> (usize, usize) {
    let len = z.len();
    match r {
        Range::Rank(start, stop) => {
            let len = len as i64;
            let mut s = if *start < 0 { len + start } else { *start };
            let mut e = if *stop < 0 { len + stop } else { *stop };
            if s < 0 {
                s = 0;
            }
            if s > e || s >= len {
                return (0, 0);
            }
            if e >= len {
                e = len - 1;
            }
            (s as usize, e as usize + 1)
        }
        Range::Score(min, max) => {
            let s = z.count_score(min.value, min.exclusive);
            let e = z.count_score(max.value, !max.exclusive);
            (s, e.max(s))
        }
        Range::Lex(min, max) => {
            let s = match min {
                LexBound::Min => 0,
                LexBound::Max => len,
                LexBound::Incl(v) => z.count_lex(v, false),
                LexBound::Excl(v) => z.count_lex(v, true),
            };
            let e = match max {
                LexBound::Min => 0,
                LexBound::Max => len,
                LexBound::Incl(v) => z.count_lex(v, true),
                LexBound::Excl(v) => z.count_lex(v, false),
            };
            (s, e.max(s))
        }
    }
}

/// The elements of a range in the requested direction, after LIMIT.
/// For a rank range with `rev`, ranks count from the highest score.
fn select(z: &ZSet, r: &Range, rev: bool, offset: i64, limit: i64) -> Vec<(Vec<u8>, f64)> {
    let len = z.len();
    let (mut s, mut e) = rank_span(z, r);
    if rev {
        if let Range::Rank(..) = r {
            // Reverse ranks: rank i from the top is ascending rank len-1-i.
            let (rs, re) = (s, e);
            s = len - re;
            e = len - rs;
        }
    }
    if !matches!(r, Range::Rank(..)) {
        // LIMIT offset count, in the direction of the traversal.
        if offset < 0 {
            return Vec::new();
        }
        let n = e - s;
        let off = (offset as usize).min(n);
        let take = if limit < 0 {
            n - off
        } else {
            (limit as usize).min(n - off)
        };
        if rev {
            e -= off;
            s = e - take;
        } else {
            s += off;
            e = s + take;
        }
    }
    let mut out = z.range(s, e);
    if rev {
        out.reverse();
    }
    out
}

/// Which legacy command is being run, fixing the range type and direction.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

struct RangeArgs {
    range: Range,
    rev: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
}

/// Parses `min max [options]` the way Redis's zrangeGenericCommand does.
/// `first` is the index of min; `kind`/`rev` come from the command name.
fn parse_range_args(
    c: &mut Client,
    argv: &[Vec<u8>],
    first: usize,
    kind: Kind,
    rev: Option<bool>,
    store: bool,
) -> Option<RangeArgs> {
    let (mut kind, mut dir) = (kind, rev);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = first + 2;
    while j < argv.len() {
        let a = argv[j].to_ascii_lowercase();
        let left = argv.len() - j - 1;
        if !store && a == b"withscores" {
            withscores = true;
        } else if a == b"limit" && left >= 2 {
            match (parse_i64(&argv[j + 1]), parse_i64(&argv[j + 2])) {
                (Some(o), Some(l)) => {
                    offset = o;
                    limit = l;
                }
                _ => {
                    c.reply.error(NOT_INT);
                    return None;
                }
            }
            j += 2;
        } else if dir.is_none() && a == b"rev" {
            dir = Some(true);
        } else if kind == Kind::Auto && a == b"bylex" {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && a == b"byscore" {
            kind = Kind::Score;
        } else {
            c.reply.error(errors::SYNTAX);
            return None;
        }
        j += 1;
    }
    let rev = dir.unwrap_or(false);
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    if limit != -1 && kind == Kind::Rank {
        c.reply.error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
        return None;
    }
    if withscores && kind == Kind::Lex {
        c.reply
            .error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return None;
    }
    let (mut lo, mut hi) = (&argv[first], &argv[first + 1]);
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let range = match kind {
        Kind::Rank | Kind::Auto => match (parse_i64(lo), parse_i64(hi)) {
            (Some(a), Some(b)) => Range::Rank(a, b),
            _ => {
                c.reply.error(NOT_INT);
                return None;
            }
        },
        Kind::Score => match (parse_score_bound(lo), parse_score_bound(hi)) {
            (Some(a), Some(b)) => Range::Score(a, b),
            _ => {
                c.reply.error(errors::MIN_MAX_NOT_FLOAT);
                return None;
            }
        },
        Kind::Lex => match (parse_lex_bound(lo), parse_lex_bound(hi)) {
            (Some(a), Some(b)) => Range::Lex(a, b),
            _ => {
                c.reply.error(errors::MIN_MAX_NOT_STRING_RANGE);
                return None;
            }
        },
    };
    Some(RangeArgs {
        range,
        rev,
        withscores,
        offset,
        limit,
    })
}

fn range_reply(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], kind: Kind, rev: Option<bool>) {
    let Some(a) = parse_range_args(c, argv, 2, kind, rev, false) else {
        return;
    };
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let items = get(srv, c.db, &argv[1])
        .map(|z| select(z, &a.range, a.rev, a.offset, a.limit))
        .unwrap_or_default();
    reply_with_scores(c, &items, a.withscores);
}

fn zrange(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Auto, None)
}
fn zrevrange(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Rank, Some(true))
}
fn zrangebyscore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Score, Some(false))
}
fn zrevrangebyscore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Score, Some(true))
}
fn zrangebylex(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Lex, Some(false))
}
fn zrevrangebylex(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Lex, Some(true))
}

/// Builds a new sorted set from (member, score) items, small when it fits.
fn build(srv: &Server, items: &[(Vec<u8>, f64)]) -> ZSet {
    let (me, mv) = limits(srv);
    let mut z = ZSet::new();
    for (m, s) in items {
        z.insert_with(m, *s, me, mv);
    }
    z
}

/// Stores `z` at `dst` (deleting `dst` when empty) and replies its size.
fn store(srv: &mut Server, c: &mut Client, dst: &[u8], z: ZSet) {
    let db = c.db;
    let n = z.len();
    if n == 0 {
        if srv.dbs[db].remove(dst).is_some() {
            srv.signal_modified(db, dst);
            srv.add_dirty(1);
        }
    } else {
        srv.set_key(db, dst, Value::ZSet(z), false);
        srv.signal_key_ready(db, dst);
        srv.add_dirty(1);
    }
    c.reply.int(n as i64);
}

fn zrangestore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(a) = parse_range_args(c, argv, 3, Kind::Auto, None, true) else {
        return;
    };
    let Ok(_) = check_read(srv, c, &argv[2]) else {
        return;
    };
    let items = get(srv, c.db, &argv[2])
        .map(|z| select(z, &a.range, a.rev, a.offset, a.limit))
        .unwrap_or_default();
    let z = build(srv, &items);
    store(srv, c, &argv[1], z);
}

fn count_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], lex: bool) {
    let range = if lex {
        match (parse_lex_bound(&argv[2]), parse_lex_bound(&argv[3])) {
            (Some(a), Some(b)) => Range::Lex(a, b),
            _ => {
                c.reply.error(errors::MIN_MAX_NOT_STRING_RANGE);
                return;
            }
        }
    } else {
        match (parse_score_bound(&argv[2]), parse_score_bound(&argv[3])) {
            (Some(a), Some(b)) => Range::Score(a, b),
            _ => {
                c.reply.error(errors::MIN_MAX_NOT_FLOAT);
                return;
            }
        }
    };
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let n = get(srv, c.db, &argv[1])
        .map(|z| {
            let (s, e) = rank_span(z, &range);
            e - s
        })
        .unwrap_or(0);
    c.reply.int(n as i64);
}

fn zcount(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    count_generic(srv, c, argv, false)
}
fn zlexcount(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    count_generic(srv, c, argv, true)
}

fn remrange_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], kind: Kind) {
    let range = match kind {
        Kind::Score => match (parse_score_bound(&argv[2]), parse_score_bound(&argv[3])) {
            (Some(a), Some(b)) => Range::Score(a, b),
            _ => {
                c.reply.error(errors::MIN_MAX_NOT_FLOAT);
                return;
            }
        },
        Kind::Lex => match (parse_lex_bound(&argv[2]), parse_lex_bound(&argv[3])) {
            (Some(a), Some(b)) => Range::Lex(a, b),
            _ => {
                c.reply.error(errors::MIN_MAX_NOT_STRING_RANGE);
                return;
            }
        },
        _ => match (parse_i64(&argv[2]), parse_i64(&argv[3])) {
            (Some(a), Some(b)) => Range::Rank(a, b),
            _ => {
                c.reply.error(NOT_INT);
                return;
            }
        },
    };
    let db = c.db;
    let Ok(exists) = check_write(srv, c, &argv[1]) else {
        return;
    };
    let mut n = 0;
    if exists {
        let z = get_mut(srv, db, &argv[1]).expect("exists");
        let (s, e) = rank_span(z, &range);
        n = z.remove_range(s, e).len();
        drop_if_empty(srv, db, &argv[1]);
    }
    if n > 0 {
        srv.signal_modified(db, &argv[1]);
        srv.add_dirty(n as u64);
    }
    c.reply.int(n as i64);
}

fn zremrangebyrank(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    remrange_generic(srv, c, argv, Kind::Rank)
}
fn zremrangebyscore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    remrange_generic(srv, c, argv, Kind::Score)
}
fn zremrangebylex(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    remrange_generic(srv, c, argv, Kind::Lex)
}

// ---------------------------------------------------------------------------
// Pops

/// Pops up to `count` from the low (`max` false) or high end of an existing set.
fn pop_n(srv: &mut Server, db: usize, key: &[u8], max: bool, count: usize) -> Vec<(Vec<u8>, f64)> {
    let Some(z) = get_mut(srv, db, key) else {
        return Vec::new();
    };
    let len = z.len();
    let n = count.min(len);
    let mut out = if max {
        z.remove_range(len - n, len)
    } else {
        z.remove_range(0, n)
    };
    if max {
        out.reverse();
    }
    drop_if_empty(srv, db, key);
    if !out.is_empty() {
        srv.signal_modified(db, key);
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
// Union, intersection, difference

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(agg: Aggregate, target: &mut f64, v: f64) {
    match agg {
        Aggregate::Sum => {
            *target += v;
            // inf + -inf: Redis stores 0 rather than NaN.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *target {
                *target = v
            }
        }
        Aggregate::Max => {
            if v > *target {
                *target = v
            }
        }
    }
}

/// An input of ZUNION & co.: a sorted set, or a set whose members score 1.
enum Input<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl Input<'_> {
    fn len(&self) -> usize {
        match self {
            Input::Missing => 0,
            Input::Z(z) => z.len(),
            Input::S(s) => s.len(),
        }
    }
    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Input::Missing => None,
            Input::Z(z) => z.score(m),
            Input::S(s) => s.contains(m).then_some(1.0),
        }
    }
    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Input::Missing => {}
            Input::Z(z) => z.for_each(f),
            Input::S(s) => s.for_each(|m| f(m, 1.0)),
        }
    }
}

/// Parses and computes ZUNION/ZINTER/ZDIFF[STORE]. `first` is the index of numkeys.
/// Returns the result (sorted) and WITHSCORES, or None after replying an error.
fn setop(
    srv: &mut Server,
    c: &mut Client,
    argv: &[Vec<u8>],
    first: usize,
    op: SetOp,
    storing: bool,
) -> Option<(Scored, bool)> {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let numkeys = match parse_i64(&argv[first]) {
        Some(n) => n,
        None => {
            c.reply.error(NOT_INT);
            return None;
        }
    };
    if numkeys < 1 {
        c.reply.error(&format!(
            "ERR at least 1 input key is needed for '{}' command",
            name
        ));
        return None;
    }
    let numkeys = numkeys as usize;
    if numkeys > argv.len() - first - 1 {
        c.reply.error(errors::SYNTAX);
        return None;
    }
    let keys = &argv[first + 1..first + 1 + numkeys];
    let mut weights = vec![1.0f64; numkeys];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut j = first + 1 + numkeys;
    while j < argv.len() {
        let a = argv[j].to_ascii_lowercase();
        let left = argv.len() - j - 1;
        if op != SetOp::Diff && a == b"weights" && left >= numkeys {
            for (w, arg) in weights.iter_mut().zip(&argv[j + 1..j + 1 + numkeys]) {
                match parse_f64(arg) {
                    Some(v) => *w = v,
                    None => {
                        c.reply.error("ERR weight value is not a float");
                        return None;
                    }
                }
            }
            j += numkeys + 1;
        } else if op != SetOp::Diff && a == b"aggregate" && left >= 1 {
            agg = match argv[j + 1].to_ascii_lowercase().as_slice() {
                b"sum" => Aggregate::Sum,
                b"min" => Aggregate::Min,
                b"max" => Aggregate::Max,
                _ => {
                    c.reply.error(errors::SYNTAX);
                    return None;
                }
            };
            j += 2;
        } else if !storing && a == b"withscores" {
            withscores = true;
            j += 1;
        } else {
            c.reply.error(errors::SYNTAX);
            return None;
        }
    }
    // Type checks first (lazy expiry included), then borrow the inputs.
    for k in keys {
        let ok = srv
            .lookup_read(c, k)
            .map(|e| matches!(e.value, Value::ZSet(_) | Value::Set(_)));
        if ok == Some(false) {
            c.reply.error(WRONGTYPE);
            return None;
        }
    }
    let db = c.db;
    let inputs: Vec<Input> = keys
        .iter()
        .map(|k| match srv.dbs[db].get(k).map(|e| &e.value) {
            Some(Value::ZSet(z)) => Input::Z(z),
            Some(Value::Set(s)) => Input::S(s),
            _ => Input::Missing,
        })
        .collect();
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut acc: crate::server::dict::Dict<f64> = crate::server::dict::Dict::new();
    match op {
        SetOp::Union => {
            for (inp, w) in inputs.iter().zip(&weights) {
                inp.for_each(|m, s| {
                    let v = weighted(s, *w);
                    let (t, new) = acc.get_or_insert_with(m, || v);
                    if !new {
                        aggregate(agg, t, v);
                    }
                });
            }
        }
        SetOp::Inter => {
            if inputs.iter().all(|i| !matches!(i, Input::Missing)) {
                let mut order: Vec<usize> = (0..inputs.len()).collect();
                order.sort_by_key(|&i| inputs[i].len());
                inputs[order[0]].for_each(|m, s| {
                    let mut score = weighted(s, weights[order[0]]);
                    for &i in &order[1..] {
                        match inputs[i].score(m) {
                            Some(o) => aggregate(agg, &mut score, weighted(o, weights[i])),
                            None => return,
                        }
                    }
                    acc.insert(m.into(), score);
                });
            }
        }
        SetOp::Diff => {
            inputs[0].for_each(|m, s| {
                if !inputs[1..].iter().any(|i| i.score(m).is_some()) {
                    acc.insert(m.into(), s);
                }
            });
        }
    }
    let mut items: Vec<(Vec<u8>, f64)> = acc.iter().map(|(m, s)| (m.to_vec(), *s)).collect();
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    Some((items, withscores))
}

fn setop_reply(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], op: SetOp) {
    if let Some((items, withscores)) = setop(srv, c, argv, 1, op, false) {
        reply_with_scores(c, &items, withscores);
    }
}

fn setop_store(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], op: SetOp) {
    if let Some((items, _)) = setop(srv, c, argv, 2, op, true) {
        let z = build(srv, &items);
        store(srv, c, &argv[1], z);
    }
}

fn zunion(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_reply(srv, c, argv, SetOp::Union)
}
fn zinter(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_reply(srv, c, argv, SetOp::Inter)
}
fn zdiff(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_reply(srv, c, argv, SetOp::Diff)
}
fn zunionstore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_store(srv, c, argv, SetOp::Union)
}
fn zinterstore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_store(srv, c, argv, SetOp::Inter)
}
fn zdiffstore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_store(srv, c, argv, SetOp::Diff)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let numkeys = match parse_i64(&argv[1]) {
        Some(n) if n > 0 => n as usize,
        Some(_) => {
            c.reply
                .error("ERR at least 1 input key is needed for 'zintercard' command");
            return;
        }
        None => {
            c.reply.error(NOT_INT);
            return;
        }
    };
    if numkeys > argv.len() - 2 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"limit") && j + 1 < argv.len() {
            match parse_i64(&argv[j + 1]) {
                Some(n) if n >= 0 => limit = n as usize,
                _ => {
                    c.reply.error(errors::LIMIT_NEGATIVE);
                    return;
                }
            }
            j += 2;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    let mut args = vec![b"zinter".to_vec(), argv[1].clone()];
    args.extend_from_slice(&argv[2..2 + numkeys]);
    let Some((items, _)) = setop(srv, c, &args, 1, SetOp::Inter, false) else {
        return;
    };
    let n = if limit > 0 {
        items.len().min(limit)
    } else {
        items.len()
    };
    c.reply.int(n as i64);
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
