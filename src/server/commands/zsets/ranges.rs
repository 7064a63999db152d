//! Sorted-set ranges: score, lexicographic and rank bounds turned into a
//! half-open range of ranks, and the commands that read, count, store or
//! remove such a range (ZRANGE and its older forms, ZRANGESTORE, ZCOUNT,
//! ZLEXCOUNT, ZREMRANGEBY*).
use super::*;

// ---------------------------------------------------------------------------
// Ranges

/// One end of a score range: the value and whether it is exclusive ("(1.5").
#[derive(Clone, Copy)]
pub(super) struct ScoreBound {
    value: f64,
    exclusive: bool,
}

/// Parses a score bound: a float, exclusive when prefixed with "(" ("(1.5").
/// None when the rest is not a valid float.
pub(super) fn parse_score_bound(a: &[u8]) -> Option<ScoreBound> {
    let (exclusive, s) = match a.first() {
        Some(b'(') => (true, &a[1..]),
        _ => (false, a),
    };
    parse_f64(s).map(|value| ScoreBound { value, exclusive })
}

/// One end of a lexicographic range.
#[derive(Clone)]
pub(super) enum LexBound {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

/// Parses a lex bound: "-" (minimum), "+" (maximum), "[x" (inclusive) or "(x"
/// (exclusive). Anything else is None, as in Redis (a bare "x" is an error).
pub(super) fn parse_lex_bound(a: &[u8]) -> Option<LexBound> {
    match a.first() {
        Some(b'-') if a.len() == 1 => Some(LexBound::Min),
        Some(b'+') if a.len() == 1 => Some(LexBound::Max),
        Some(b'[') => Some(LexBound::Incl(a[1..].to_vec())),
        Some(b'(') => Some(LexBound::Excl(a[1..].to_vec())),
        _ => None,
    }
}

/// A range the caller asked for, already parsed.
pub(super) enum Range {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

/// The half-open ascending rank range [start, end) a score or lex range covers.
pub(super) fn rank_span(z: &ZSet, r: &Range) -> (usize, usize) {
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
pub(super) fn select(
    z: &ZSet,
    r: &Range,
    rev: bool,
    offset: i64,
    limit: i64,
) -> Vec<(Vec<u8>, f64)> {
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
pub(super) enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

pub(super) struct RangeArgs {
    range: Range,
    rev: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
}

/// Parses `min max [options]` the way Redis's zrangeGenericCommand does.
/// `first` is the index of min; `kind`/`rev` come from the command name.
pub(super) fn parse_range_args(
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

/// ZRANGE and its legacy forms: parses `key min max [options]`, then replies the
/// selected members (an empty array when the key is missing). `kind` and `rev`
/// are fixed by the legacy command names and left open (Auto/None) for ZRANGE.
pub(super) fn range_reply(
    srv: &mut Server,
    c: &mut Client,
    argv: &[Vec<u8>],
    kind: Kind,
    rev: Option<bool>,
) {
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

/// ZRANGE key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub(super) fn zrange(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Auto, None)
}
/// ZREVRANGE key start stop [WITHSCORES]: ranks counted from the highest score.
pub(super) fn zrevrange(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Rank, Some(true))
}
/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub(super) fn zrangebyscore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Score, Some(false))
}
/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]: note max comes first.
pub(super) fn zrevrangebyscore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Score, Some(true))
}
/// ZRANGEBYLEX key min max [LIMIT offset count]
pub(super) fn zrangebylex(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Lex, Some(false))
}
/// ZREVRANGEBYLEX key max min [LIMIT offset count]: note max comes first.
pub(super) fn zrevrangebylex(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_reply(srv, c, argv, Kind::Lex, Some(true))
}

/// Builds a new sorted set from (member, score) items, small when it fits.
pub(super) fn build(srv: &Server, items: &[(Vec<u8>, f64)]) -> ZSet {
    let (me, mv) = limits(srv);
    let mut z = ZSet::new();
    for (m, s) in items {
        z.insert_with(m, *s, me, mv);
    }
    z
}

/// Stores `z` at `dst` (deleting `dst` when empty) and replies its size.
/// `event` names the store for keyspace notifications (`zunionstore`...).
pub(super) fn store(srv: &mut Server, c: &mut Client, dst: &[u8], z: ZSet, event: &str) {
    let db = c.db;
    let n = z.len();
    if n == 0 {
        if srv.dbs[db].remove(dst).is_some() {
            srv.signal_modified(db, dst);
            crate::server::notify::notify(srv, crate::server::notify::GENERIC, "del", dst, db);
            srv.add_dirty(1);
        }
    } else {
        srv.set_key(db, dst, Value::ZSet(z), false);
        crate::server::notify::notify(srv, crate::server::notify::ZSET, event, dst, db);
        srv.add_dirty(1);
    }
    c.reply.int(n as i64);
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]:
/// stores the selected range at `dst` (deleting `dst` when it is empty) and
/// replies its size. WITHSCORES is a syntax error here.
pub(super) fn zrangestore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
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
    store(srv, c, &argv[1], z, "zrangestore");
}

/// ZCOUNT / ZLEXCOUNT: replies how many members fall within the score range
/// (or, with `lex`, the lexicographic range) given as argv[2] and argv[3];
/// 0 for a missing key. Bounds are parsed before the key's type is checked.
pub(super) fn count_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], lex: bool) {
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

/// ZCOUNT key min max
pub(super) fn zcount(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    count_generic(srv, c, argv, false)
}
/// ZLEXCOUNT key min max
pub(super) fn zlexcount(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    count_generic(srv, c, argv, true)
}

/// ZREMRANGEBYRANK/SCORE/LEX: removes the members in the range of `kind` (any
/// kind other than Score or Lex means ranks), deletes the key if it empties, and
/// replies the number removed. Only a non-zero removal signals the key as
/// modified and counts as dirty.
pub(super) fn remrange_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], kind: Kind) {
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
    let mut deleted = false;
    if exists {
        let z = get_mut(srv, db, &argv[1]).expect("exists");
        let (s, e) = rank_span(z, &range);
        n = z.remove_range(s, e).len();
        deleted = drop_if_empty(srv, db, &argv[1]);
    }
    if n > 0 {
        srv.signal_modified(db, &argv[1]);
        let event = match kind {
            Kind::Score => "zremrangebyscore",
            Kind::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        removed_event(srv, db, &argv[1], event, deleted);
        srv.add_dirty(n as u64);
    }
    c.reply.int(n as i64);
}

/// ZREMRANGEBYRANK key start stop
pub(super) fn zremrangebyrank(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    remrange_generic(srv, c, argv, Kind::Rank)
}
/// ZREMRANGEBYSCORE key min max
pub(super) fn zremrangebyscore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    remrange_generic(srv, c, argv, Kind::Score)
}
/// ZREMRANGEBYLEX key min max
pub(super) fn zremrangebylex(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    remrange_generic(srv, c, argv, Kind::Lex)
}
