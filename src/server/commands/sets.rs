//! Set commands: SADD .. SSCAN, the algebra (SINTER, SUNION, SDIFF and their STORE
//! forms, SINTERCARD) and the random ones (SPOP, SRANDMEMBER).
use super::*;
use crate::server::client::Client;
use crate::server::notify;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::{Set, Value, WRONGTYPE};
use crate::server::util::{glob_match, parse_i64};

pub static COMMANDS: &[Command] = &[
    Command::new("sadd", sadd)
        .arity(-3)
        .group("set")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("srem", srem)
        .arity(-3)
        .group("set")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("smembers", smembers)
        .arity(2)
        .group("set")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("sismember", sismember)
        .arity(3)
        .group("set")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("smismember", smismember)
        .arity(-3)
        .group("set")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("scard", scard)
        .arity(2)
        .group("set")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("spop", spop)
        .arity(-2)
        .group("set")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("srandmember", srandmember)
        .arity(-2)
        .group("set")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("smove", smove)
        .arity(4)
        .group("set")
        .flags(WRITE | FAST)
        .keys(1, 2, 1),
    Command::new("sinter", sinter)
        .arity(-2)
        .group("set")
        .flags(READONLY)
        .keys(1, -1, 1),
    Command::new("sinterstore", sinterstore)
        .arity(-3)
        .group("set")
        .flags(WRITE | DENYOOM)
        .keys(1, -1, 1),
    Command::new("sunion", sunion)
        .arity(-2)
        .group("set")
        .flags(READONLY)
        .keys(1, -1, 1),
    Command::new("sunionstore", sunionstore)
        .arity(-3)
        .group("set")
        .flags(WRITE | DENYOOM)
        .keys(1, -1, 1),
    Command::new("sdiff", sdiff)
        .arity(-2)
        .group("set")
        .flags(READONLY)
        .keys(1, -1, 1),
    Command::new("sdiffstore", sdiffstore)
        .arity(-3)
        .group("set")
        .flags(WRITE | DENYOOM)
        .keys(1, -1, 1),
    Command::new("sintercard", sintercard)
        .arity(-3)
        .group("set")
        .flags(READONLY),
    Command::new("sscan", sscan)
        .arity(-3)
        .group("set")
        .flags(READONLY)
        .keys(1, 1, 1),
];

/// Ok(true) when `key` holds a set, Ok(false) when missing, Err after WRONGTYPE.
fn check_read(srv: &mut Server, c: &mut Client, key: &[u8]) -> Result<bool, ()> {
    check_read_type(srv, c, key, |v| matches!(v, Value::Set(_)))
}

/// The set at `key` (after `check_read` said it exists).
fn get<'a>(srv: &'a Server, db: usize, key: &[u8]) -> Option<&'a Set> {
    match srv.dbs[db].get(key).map(|e| &e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

/// The set at `key` for a random pick, which takes a rehash step (after
/// `check_read` said it exists).
fn get_for_pick<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> Option<&'a mut Set> {
    match srv.dbs[db].get_mut(key).map(|e| &mut e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

/// The set at `key` for writing, created when `create`.
fn set_mut<'a>(
    srv: &'a mut Server,
    c: &mut Client,
    key: &[u8],
    create: bool,
) -> Result<Option<&'a mut Set>, ()> {
    let db = c.db;
    let exists = match srv.lookup_write(db, key) {
        None => false,
        Some(e) => match &e.value {
            Value::Set(_) => true,
            _ => {
                c.reply.error(WRONGTYPE);
                return Err(());
            }
        },
    };
    if !exists {
        if !create {
            return Ok(None);
        }
        srv.dbs[db].set(key, Value::Set(Default::default()), false);
        notify::new_key(srv, key, db);
    }
    match srv.dbs[db].get_mut(key).map(|e| &mut e.value) {
        Some(Value::Set(s)) => Ok(Some(s)),
        _ => Ok(None),
    }
}

/// Replies with `members` as a set (a plain array under RESP2).
fn reply_members(c: &mut Client, members: &[Vec<u8>]) {
    c.reply.set(members.len());
    for m in members {
        c.reply.bulk(m);
    }
}

/// SADD key member [member ...]: adds the members, creating the set if needed. Replies with
/// the number of members that were new.
fn sadd(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let max = srv.config.set_max_intset_entries;
    let db = c.db;
    let Ok(Some(s)) = set_mut(srv, c, &argv[1], true) else {
        return;
    };
    let added = argv[2..].iter().filter(|m| s.insert_with(m, max)).count();
    if added > 0 {
        srv.signal_modified(db, &argv[1]);
        notify::notify(srv, notify::SET, "sadd", &argv[1], db);
        srv.add_dirty(added as u64);
    }
    c.reply.int(added as i64);
}

/// SREM key member [member ...]: removes the members, deleting the key when the set becomes
/// empty. Replies with the number removed.
fn srem(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let removed = match set_mut(srv, c, &argv[1], false) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(s)) => {
            let n = argv[2..].iter().filter(|m| s.remove(m)).count();
            let emptied = s.is_empty();
            if emptied {
                srv.dbs[db].remove(&argv[1]);
            }
            if n > 0 {
                notify::notify(srv, notify::SET, "srem", &argv[1], db);
                if emptied {
                    notify::notify(srv, notify::GENERIC, "del", &argv[1], db);
                }
            }
            n
        }
    };
    if removed > 0 {
        srv.signal_modified(db, &argv[1]);
        srv.add_dirty(removed as u64);
    }
    c.reply.int(removed as i64);
}

/// SMEMBERS key: replies with all members as a set reply (empty if the key is missing).
fn smembers(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(exists) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let members = if exists {
        get(srv, c.db, &argv[1])
            .map(|s| s.members())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    reply_members(c, &members);
}

/// SISMEMBER key member: replies 1 if `member` is in the set, else 0.
fn sismember(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let n = get(srv, c.db, &argv[1]).is_some_and(|s| s.contains(&argv[2]));
    c.reply.int(n as i64);
}

/// SMISMEMBER key member [member ...]: replies with an array of 1/0, one per member.
fn smismember(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let s = get(srv, c.db, &argv[1]);
    let flags: Vec<bool> = argv[2..]
        .iter()
        .map(|m| s.is_some_and(|s| s.contains(m)))
        .collect();
    c.reply.array(flags.len());
    for f in flags {
        c.reply.int(f as i64);
    }
}

/// SCARD key: replies with the number of members (0 if the key is missing).
fn scard(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let n = get(srv, c.db, &argv[1]).map(|s| s.len()).unwrap_or(0);
    c.reply.int(n as i64);
}

/// SPOP key [count]. Replicated as SREM of what was popped (or DEL when the
/// whole set went), since a replica must not pick its own random members.
fn spop(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let count = match argv.len() {
        2 => None,
        3 => match parse_i64(&argv[2]) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => {
                c.reply.error(errors::OUT_OF_RANGE_POSITIVE);
                return;
            }
        },
        _ => {
            c.reply.error(errors::SYNTAX);
            return;
        }
    };
    let db = c.db;
    let key = &argv[1];
    let mut rng = std::mem::take(&mut srv.rng);
    let popped: Option<(Vec<Vec<u8>>, bool)> = match set_mut(srv, c, key, false) {
        Err(()) => {
            srv.rng = rng;
            return;
        }
        Ok(None) => None,
        Ok(Some(s)) => {
            let n = count.unwrap_or(1);
            if n >= s.len() as u64 {
                Some((s.members(), true))
            } else {
                Some((
                    (0..n).filter_map(|_| s.pop_random(&mut rng)).collect(),
                    false,
                ))
            }
        }
    };
    srv.rng = rng;
    let Some((members, whole)) = popped else {
        match count {
            None => c.reply.null(),
            Some(_) => c.reply.array(0),
        }
        return;
    };
    if count == Some(0) {
        c.reply.array(0);
        return;
    }
    if whole {
        srv.dbs[db].remove(key);
    }
    notify::notify(srv, notify::SET, "spop", key, db);
    if whole {
        notify::notify(srv, notify::GENERIC, "del", key, db);
    }
    srv.signal_modified(db, key);
    srv.add_dirty(members.len() as u64);
    if whole && count.is_some() {
        srv.propagate_instead(db, vec![vec![b"DEL".to_vec(), key.clone()]]);
    } else {
        let cmds = members
            .chunks(1024)
            .map(|chunk| {
                let mut v = vec![b"SREM".to_vec(), key.clone()];
                v.extend(chunk.iter().cloned());
                v
            })
            .collect();
        srv.propagate_instead(db, cmds);
    }
    match count {
        None => c.reply.bulk(&members[0]),
        Some(_) => reply_members(c, &members),
    }
}

/// SRANDMEMBER key [count]: without count, replies with one random member (nil if the key
/// is missing). A positive count gives up to `count` distinct members, a negative one
/// exactly `|count|` members that may repeat; as in Redis 7.0 it is always a plain array
/// (empty for a missing key). The count is parsed before the key's type is checked.
fn srandmember(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let count = match argv.len() {
        2 => None,
        3 => match parse_i64(&argv[2]) {
            Some(n) if n > -i64::MAX => Some(n),
            Some(_) => {
                c.reply.error(errors::OUT_OF_RANGE);
                return;
            }
            None => {
                c.reply.error(errors::NOT_INTEGER);
                return;
            }
        },
        _ => {
            c.reply.error(errors::SYNTAX);
            return;
        }
    };
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let mut rng = std::mem::take(&mut srv.rng);
    let picked = get_for_pick(srv, c.db, &argv[1]).map(|s| match count {
        None => s.random(&mut rng).into_iter().collect::<Vec<_>>(),
        Some(n) if n < 0 => (0..n.unsigned_abs())
            .filter_map(|_| s.random(&mut rng))
            .collect(),
        Some(n) if n as usize >= s.len() => s.members(),
        Some(n) if (n as usize) * 3 <= s.len() => {
            // Few members out of many: random picks until enough distinct ones
            // (O(count), as Redis), instead of copying the whole set.
            let mut seen = std::collections::HashSet::new();
            let mut out = Vec::with_capacity(n as usize);
            while out.len() < n as usize {
                if let Some(m) = s.random(&mut rng) {
                    if seen.insert(m.clone()) {
                        out.push(m);
                    }
                }
            }
            out
        }
        Some(n) => {
            let mut all = s.members();
            for i in 0..n as usize {
                let j = i + rng.below((all.len() - i) as u64) as usize;
                all.swap(i, j);
            }
            all.truncate(n as usize);
            all
        }
    });
    srv.rng = rng;
    match (count, picked) {
        (None, None) => c.reply.null(),
        (None, Some(p)) => c.reply.bulk(&p[0]),
        (Some(_), p) => {
            let p = p.unwrap_or_default();
            // Redis 7.0 answers an array for either sign of count (in RESP3 too).
            c.reply.array(p.len());
            for m in &p {
                c.reply.bulk(m);
            }
        }
    }
}

/// SMOVE source destination member: moves `member` from `source` to `destination`. Replies
/// 1 if moved, 0 if the source is missing or lacks the member. As in Redis, a missing source
/// replies 0 before the destination's type is checked; otherwise both must be sets. Moving
/// within one set just reports whether the member is there.
fn smove(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let (src, dst, member) = (&argv[1], &argv[2], &argv[3]);
    let db = c.db;
    // As Redis: a missing source answers 0 before any type check of the
    // destination; otherwise both must be sets.
    if srv.lookup_write(db, src).is_none() {
        c.reply.int(0);
        return;
    }
    let Ok(_) = set_mut(srv, c, src, false) else {
        return;
    };
    let Ok(_) = set_mut(srv, c, dst, false) else {
        return;
    };
    if src == dst {
        let n = get(srv, db, src).is_some_and(|s| s.contains(member));
        c.reply.int(n as i64);
        return;
    }
    let removed = match set_mut(srv, c, src, false) {
        Ok(Some(s)) => {
            let r = s.remove(member);
            let emptied = s.is_empty();
            if emptied {
                srv.dbs[db].remove(src);
            }
            if r {
                notify::notify(srv, notify::SET, "srem", src, db);
                if emptied {
                    notify::notify(srv, notify::GENERIC, "del", src, db);
                }
            }
            r
        }
        _ => false,
    };
    if !removed {
        c.reply.int(0);
        return;
    }
    srv.signal_modified(db, src);
    let max = srv.config.set_max_intset_entries;
    let added = match set_mut(srv, c, dst, true) {
        Ok(Some(d)) => d.insert_with(member, max),
        _ => false,
    };
    // The destination changed only if the member was new there: WATCH and
    // the sadd event stay quiet otherwise, as Redis.
    if added {
        srv.signal_modified(db, dst);
        notify::notify(srv, notify::SET, "sadd", dst, db);
    }
    srv.add_dirty(1);
    c.reply.int(1);
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// Computes SINTER/SUNION/SDIFF over `keys`; Err after replying WRONGTYPE.
/// The result is a new set, so its reply order is the one Redis gives for the
/// same encoding (ascending for an intset).
fn algebra(srv: &mut Server, c: &mut Client, keys: &[Vec<u8>], op: Op) -> Result<Set, ()> {
    let mut exists = Vec::with_capacity(keys.len());
    for k in keys {
        exists.push(check_read(srv, c, k)?);
    }
    let max = srv.config.set_max_intset_entries;
    let db = c.db;
    let sets: Vec<Option<&Set>> = keys
        .iter()
        .zip(&exists)
        .map(|(k, e)| if *e { get(srv, db, k) } else { None })
        .collect();
    let mut out = Set::new();
    match op {
        Op::Inter => {
            if sets.iter().any(|s| s.is_none()) {
                return Ok(out);
            }
            let mut sets: Vec<&Set> = sets.into_iter().flatten().collect();
            sets.sort_by_key(|s| s.len());
            sets[0].for_each(|m| {
                if sets[1..].iter().all(|s| s.contains(m)) {
                    out.insert_with(m, max);
                }
            });
        }
        Op::Union => {
            for s in sets.iter().flatten() {
                s.for_each(|m| {
                    out.insert_with(m, max);
                });
            }
        }
        Op::Diff => {
            if let Some(first) = sets[0] {
                first.for_each(|m| {
                    if !sets[1..].iter().flatten().any(|s| s.contains(m)) {
                        out.insert_with(m, max);
                    }
                });
            }
        }
    }
    Ok(out)
}

/// Shared body of SINTER, SUNION and SDIFF: replies with the resulting members as a set.
fn algebra_reply(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], op: Op) {
    if let Ok(s) = algebra(srv, c, &argv[1..], op) {
        reply_members(c, &s.members());
    }
}

/// Shared body of the STORE forms: stores the result in the destination (overwriting any
/// type) and replies with its cardinality. An empty result deletes the destination instead.
fn algebra_store(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], op: Op) {
    let Ok(s) = algebra(srv, c, &argv[2..], op) else {
        return;
    };
    let db = c.db;
    let dst = &argv[1];
    let n = s.len();
    if n == 0 {
        if srv.dbs[db].remove(dst).is_some() {
            srv.signal_modified(db, dst);
            notify::notify(srv, notify::GENERIC, "del", dst, db);
            srv.add_dirty(1);
        }
    } else {
        srv.set_key(db, dst, Value::Set(s), false);
        let event = match op {
            Op::Inter => "sinterstore",
            Op::Union => "sunionstore",
            Op::Diff => "sdiffstore",
        };
        notify::notify(srv, notify::SET, event, dst, db);
        srv.add_dirty(1);
    }
    c.reply.int(n as i64);
}

/// SINTER key [key ...]: replies with the intersection of the sets (missing keys are empty).
fn sinter(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    algebra_reply(srv, c, argv, Op::Inter)
}
/// SUNION key [key ...]: replies with the union of the sets.
fn sunion(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    algebra_reply(srv, c, argv, Op::Union)
}
/// SDIFF key [key ...]: replies with the members of the first set not in any of the others.
fn sdiff(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    algebra_reply(srv, c, argv, Op::Diff)
}
/// SINTERSTORE destination key [key ...]: stores SINTER's result, replies with its size.
fn sinterstore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    algebra_store(srv, c, argv, Op::Inter)
}
/// SUNIONSTORE destination key [key ...]: stores SUNION's result, replies with its size.
fn sunionstore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    algebra_store(srv, c, argv, Op::Union)
}
/// SDIFFSTORE destination key [key ...]: stores SDIFF's result, replies with its size.
fn sdiffstore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    algebra_store(srv, c, argv, Op::Diff)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let numkeys = match parse_i64(&argv[1]) {
        Some(n) if n > 0 => n as usize,
        Some(_) => {
            c.reply.error(errors::NUMKEYS_NOT_POSITIVE);
            return;
        }
        None => {
            c.reply.error(errors::NUMKEYS_NOT_POSITIVE);
            return;
        }
    };
    if numkeys > argv.len() - 2 {
        c.reply
            .error("ERR Number of keys can't be greater than number of args");
        return;
    }
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < argv.len() {
        if argv[i].eq_ignore_ascii_case(b"limit") && i + 1 < argv.len() {
            match parse_i64(&argv[i + 1]) {
                Some(n) if n >= 0 => limit = n as usize,
                _ => {
                    c.reply.error(errors::LIMIT_NEGATIVE);
                    return;
                }
            }
            i += 2;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    let keys = &argv[2..2 + numkeys];
    let mut exists = Vec::with_capacity(keys.len());
    for k in keys {
        match check_read(srv, c, k) {
            Ok(e) => exists.push(e),
            Err(()) => return,
        }
    }
    if exists.iter().any(|e| !e) {
        c.reply.int(0);
        return;
    }
    let db = c.db;
    let mut sets: Vec<&Set> = keys.iter().filter_map(|k| get(srv, db, k)).collect();
    sets.sort_by_key(|s| s.len());
    let mut n = 0usize;
    let members = sets[0].members();
    for m in &members {
        if sets[1..].iter().all(|s| s.contains(m)) {
            n += 1;
            if limit != 0 && n >= limit {
                break;
            }
        }
    }
    c.reply.int(n as i64);
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]: one step of incremental iteration over
/// the set. Replies with `[next-cursor, [member, ...]]`; cursor 0 means done.
fn sscan(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some((cursor, o)) = parse_scan_args(c, argv) else {
        return;
    };
    let Ok(_) = check_read(srv, c, &argv[1]) else {
        return;
    };
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut next = 0;
    if let Some(s) = get(srv, c.db, &argv[1]) {
        let mut seen = 0;
        next = scan_steps(cursor, o.count, |cur| {
            let n = s.scan(cur, |m| {
                seen += 1;
                if o.pattern.as_ref().is_none_or(|p| glob_match(p, m, false)) {
                    out.push(m.to_vec());
                }
            });
            (n, seen)
        });
    }
    c.reply.array(2);
    c.reply.bulk(next.to_string().as_bytes());
    c.reply.array(out.len());
    for m in out {
        c.reply.bulk(&m);
    }
}
