//! Hash commands.
use super::*;
use crate::server::client::Client;
use crate::server::notify;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::{Hash, Value, WRONGTYPE};
use crate::server::util::{glob_match, parse_i64};

pub static COMMANDS: &[Command] = &[
    Command::new("hset", hset)
        .arity(-4)
        .group("hash")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("hmset", hmset)
        .arity(-4)
        .group("hash")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("hsetnx", hsetnx)
        .arity(4)
        .group("hash")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("hget", hget)
        .arity(3)
        .group("hash")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("hmget", hmget)
        .arity(-3)
        .group("hash")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("hdel", hdel)
        .arity(-3)
        .group("hash")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("hlen", hlen)
        .arity(2)
        .group("hash")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("hstrlen", hstrlen)
        .arity(3)
        .group("hash")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("hexists", hexists)
        .arity(3)
        .group("hash")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("hkeys", hkeys)
        .arity(2)
        .group("hash")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("hvals", hvals)
        .arity(2)
        .group("hash")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("hgetall", hgetall)
        .arity(2)
        .group("hash")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("hincrby", hincrby)
        .arity(4)
        .group("hash")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("hincrbyfloat", hincrbyfloat)
        .arity(4)
        .group("hash")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("hrandfield", hrandfield)
        .arity(-2)
        .group("hash")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("hscan", hscan)
        .arity(-3)
        .group("hash")
        .flags(READONLY)
        .keys(1, 1, 1),
];

/// The hash at `key` for reading (`Ok(None)` if missing). On a non-hash value it replies
/// WRONGTYPE and returns `Err`, so callers just return.
/// Mutable because a random pick takes a rehash step.
fn hash_ref<'a>(
    srv: &'a mut Server,
    c: &mut Client,
    key: &[u8],
) -> Result<Option<&'a mut Hash>, ()> {
    match srv.lookup_read(c, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => {
                c.reply.error(WRONGTYPE);
                Err(())
            }
        },
    }
}

/// The hash at `key` for writing, created when `create`.
fn hash_mut<'a>(
    srv: &'a mut Server,
    c: &mut Client,
    key: &[u8],
    create: bool,
) -> Result<Option<&'a mut Hash>, ()> {
    let db = c.db;
    let exists = match srv.lookup_write(db, key) {
        None => false,
        Some(e) => match &e.value {
            Value::Hash(_) => true,
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
        srv.dbs[db].set(key, Value::Hash(Default::default()), false);
        notify::new_key(srv, key, db);
    }
    match srv.dbs[db].get_mut(key).map(|e| &mut e.value) {
        Some(Value::Hash(h)) => Ok(Some(h)),
        _ => Ok(None),
    }
}

/// The listpack conversion limits (`hash-max-listpack-entries`, `hash-max-listpack-value`).
fn limits(srv: &Server) -> (u64, u64) {
    (
        srv.config.hash_max_listpack_entries,
        srv.config.hash_max_listpack_value,
    )
}

/// Shared body of HSET and HMSET: an odd field/value count is an arity error naming the
/// command. Sets every pair, creating the hash if needed; HSET replies with the number of
/// new fields, HMSET with OK.
fn hset_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], ok_reply: bool) {
    if !argv.len().is_multiple_of(2) {
        let name = if ok_reply { "hmset" } else { "hset" };
        c.reply.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            name
        ));
        return;
    }
    let (me, mv) = limits(srv);
    let db = c.db;
    let Ok(Some(h)) = hash_mut(srv, c, &argv[1], true) else {
        return;
    };
    let mut added = 0;
    for pair in argv[2..].chunks(2) {
        if h.insert_with(&pair[0], pair[1].clone(), me, mv) {
            added += 1;
        }
    }
    srv.signal_modified(db, &argv[1]);
    notify::notify(srv, notify::HASH, "hset", &argv[1], db);
    srv.add_dirty(((argv.len() - 2) / 2) as u64);
    if ok_reply {
        c.reply.ok();
    } else {
        c.reply.int(added);
    }
}

/// HSET key field value [field value ...]: sets fields, replies with how many were new.
fn hset(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    hset_generic(srv, c, argv, false)
}
/// HMSET key field value [field value ...]: deprecated alias of HSET that replies OK.
fn hmset(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    hset_generic(srv, c, argv, true)
}

/// HSETNX key field value: sets `field` only if it does not exist yet. Replies 1 if it was
/// set, 0 if the field already existed.
fn hsetnx(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let (me, mv) = limits(srv);
    let db = c.db;
    let Ok(Some(h)) = hash_mut(srv, c, &argv[1], true) else {
        return;
    };
    if h.get(&argv[2]).is_some() {
        c.reply.int(0);
        return;
    }
    h.insert_with(&argv[2], argv[3].clone(), me, mv);
    srv.signal_modified(db, &argv[1]);
    notify::notify(srv, notify::HASH, "hset", &argv[1], db);
    srv.add_dirty(1);
    c.reply.int(1);
}

/// HGET key field: replies with the field's value, or nil if the key or field is missing.
fn hget(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match hash_ref(srv, c, &argv[1]) {
        Err(()) => {}
        Ok(h) => match h.and_then(|h| h.get(&argv[2])) {
            Some(v) => {
                let v = v.to_vec();
                c.reply.bulk(&v)
            }
            None => c.reply.null(),
        },
    }
}

/// HMGET key field [field ...]: replies with an array holding each field's value, nil for
/// missing fields (all nil if the key is missing).
fn hmget(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(h) = hash_ref(srv, c, &argv[1]).map(|h| h.map(|h| &*h)) else {
        return;
    };
    let vals: Vec<Option<Vec<u8>>> = argv[2..]
        .iter()
        .map(|f| h.and_then(|h| h.get(f)).map(|v| v.to_vec()))
        .collect();
    c.reply.array(vals.len());
    for v in vals {
        match v {
            Some(v) => c.reply.bulk(&v),
            None => c.reply.null(),
        }
    }
}

/// HDEL key field [field ...]: removes the given fields, deleting the key when the hash
/// becomes empty. Replies with the number of fields removed.
fn hdel(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let n = match hash_mut(srv, c, &argv[1], false) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(h)) => {
            let n = argv[2..].iter().filter(|f| h.remove(f)).count();
            let emptied = h.is_empty();
            if emptied {
                srv.dbs[db].remove(&argv[1]);
            }
            if n > 0 {
                notify::notify(srv, notify::HASH, "hdel", &argv[1], db);
                if emptied {
                    notify::notify(srv, notify::GENERIC, "del", &argv[1], db);
                }
            }
            n
        }
    };
    if n > 0 {
        srv.signal_modified(db, &argv[1]);
        srv.add_dirty(n as u64);
    }
    c.reply.int(n as i64);
}

/// HLEN key: replies with the number of fields in the hash (0 if the key is missing).
fn hlen(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if let Ok(h) = hash_ref(srv, c, &argv[1]) {
        let n = h.map(|h| h.len()).unwrap_or(0);
        c.reply.int(n as i64);
    }
}

/// HSTRLEN key field: replies with the length of the field's value (0 if missing).
fn hstrlen(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if let Ok(h) = hash_ref(srv, c, &argv[1]) {
        let n = h
            .and_then(|h| h.get(&argv[2]))
            .map(|v| v.len())
            .unwrap_or(0);
        c.reply.int(n as i64);
    }
}

/// HEXISTS key field: replies 1 if the field exists, else 0.
fn hexists(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if let Ok(h) = hash_ref(srv, c, &argv[1]) {
        let n = h.is_some_and(|h| h.get(&argv[2]).is_some());
        c.reply.int(n as i64);
    }
}

#[derive(Clone, Copy)]
enum Part {
    Keys,
    Vals,
    Both,
}

/// Shared body of HKEYS, HVALS and HGETALL: replies with the fields, the values, or (HGETALL)
/// a field/value map (a flat array under RESP2); empty if the key is missing.
fn getall_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], part: Part) {
    let Ok(h) = hash_ref(srv, c, &argv[1]) else {
        return;
    };
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = h
        .map(|h| h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect())
        .unwrap_or_default();
    match part {
        Part::Both => c.reply.map(pairs.len()),
        _ => c.reply.array(pairs.len()),
    }
    for (f, v) in pairs {
        match part {
            Part::Keys => c.reply.bulk(&f),
            Part::Vals => c.reply.bulk(&v),
            Part::Both => {
                c.reply.bulk(&f);
                c.reply.bulk(&v);
            }
        }
    }
}

/// HKEYS key: replies with an array of all field names.
fn hkeys(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    getall_generic(srv, c, argv, Part::Keys)
}
/// HVALS key: replies with an array of all values.
fn hvals(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    getall_generic(srv, c, argv, Part::Vals)
}
/// HGETALL key: replies with every field and value, as a map (flat array in RESP2).
fn hgetall(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    getall_generic(srv, c, argv, Part::Both)
}

/// HINCRBY key field increment: adds `increment` to the integer stored in `field` (0 if
/// missing), creating the hash if needed. Replies with the new value; errors if the field
/// is not an integer or the result would overflow, removing a hash created for the call.
fn hincrby(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(by) = parse_i64(&argv[3]) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    let (me, mv) = limits(srv);
    let db = c.db;
    let Ok(Some(h)) = hash_mut(srv, c, &argv[1], true) else {
        return;
    };
    let cur = match h.get(&argv[2]) {
        None => 0,
        Some(v) => match parse_i64(v) {
            Some(n) => n,
            None => {
                c.reply.error("ERR hash value is not an integer");
                cleanup_empty(srv, db, &argv[1]);
                return;
            }
        },
    };
    let Some(n) = cur.checked_add(by) else {
        c.reply.error(errors::INCR_OVERFLOW);
        cleanup_empty(srv, db, &argv[1]);
        return;
    };
    h.insert_with(&argv[2], n.to_string().into_bytes(), me, mv);
    srv.signal_modified(db, &argv[1]);
    notify::notify(srv, notify::HASH, "hincrby", &argv[1], db);
    srv.add_dirty(1);
    c.reply.int(n);
}

/// A hash created for a command that then failed must not be left empty.
fn cleanup_empty(srv: &mut Server, db: usize, key: &[u8]) {
    if matches!(srv.dbs[db].get(key).map(|e| &e.value), Some(Value::Hash(h)) if h.is_empty()) {
        srv.dbs[db].remove(key);
    }
}

/// HINCRBYFLOAT key field increment: adds a float increment to the field (0 if missing) and
/// replies with the new value as a bulk string. Errors on a non-float field or a NaN/infinite
/// result. Like Redis, it propagates `HSET key field result` instead of the command, so
/// replicas and the AOF don't redo the float arithmetic.
fn hincrbyfloat(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    // The increment is a long double, as in Redis (1e400 is a valid one);
    // Redis 7.0 refuses an infinite one before touching the key.
    match crate::server::long_double::parse(&argv[3]) {
        Err(crate::server::long_double::NotFinite::Invalid) => {
            c.reply.error(errors::NOT_FLOAT);
            return;
        }
        Err(crate::server::long_double::NotFinite::Infinite) => {
            c.reply.error("ERR value is NaN or Infinity");
            return;
        }
        Ok(_) => {}
    }
    let (me, mv) = limits(srv);
    let db = c.db;
    let Ok(Some(h)) = hash_mut(srv, c, &argv[1], true) else {
        return;
    };
    let cur = h
        .get(&argv[2])
        .map(|v| v.to_vec())
        .unwrap_or_else(|| b"0".to_vec());
    let s = match crate::server::util::incr_float_str(&cur, &argv[3]) {
        Ok(s) => s,
        Err(crate::server::util::FloatIncrError::NotAFloat) => {
            c.reply.error("ERR hash value is not a float");
            cleanup_empty(srv, db, &argv[1]);
            return;
        }
        Err(crate::server::util::FloatIncrError::NanOrInfinity) => {
            c.reply.error(errors::INCR_NAN);
            cleanup_empty(srv, db, &argv[1]);
            return;
        }
    };
    h.insert_with(&argv[2], s.clone(), me, mv);
    srv.signal_modified(db, &argv[1]);
    notify::notify(srv, notify::HASH, "hincrbyfloat", &argv[1], db);
    srv.add_dirty(1);
    // Replicate the result, not the float arithmetic.
    srv.propagate_instead(
        db,
        vec![vec![
            b"HSET".to_vec(),
            argv[1].clone(),
            argv[2].clone(),
            s.clone(),
        ]],
    );
    c.reply.bulk(&s);
}

/// HRANDFIELD key [count [WITHVALUES]]: without count, replies with one random field (nil if
/// the key is missing). With a positive count, replies with up to `count` distinct fields;
/// with a negative count, exactly `|count|` fields that may repeat; an empty array if the
/// key is missing. WITHVALUES adds the values (as [field, value] pairs under RESP3). Counts
/// beyond ±i64::MAX/2 are rejected as out of range.
fn hrandfield(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut count: Option<i64> = None;
    let mut withvalues = false;
    if argv.len() >= 3 {
        match parse_i64(&argv[2]) {
            Some(n) => count = Some(n),
            None => {
                c.reply.error(errors::NOT_INTEGER);
                return;
            }
        }
        if argv.len() == 4 {
            if !argv[3].eq_ignore_ascii_case(b"withvalues") {
                c.reply.error(errors::SYNTAX);
                return;
            }
            withvalues = true;
        } else if argv.len() > 4 {
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
    let mut rng = std::mem::take(&mut srv.rng);
    let picked: Option<Vec<(Vec<u8>, Vec<u8>)>> = {
        let Ok(h) = hash_ref(srv, c, &argv[1]) else {
            srv.rng = rng;
            return;
        };
        h.map(|h| {
            let len = h.len();
            match count {
                None => h
                    .random(&mut rng)
                    .map(|(f, v)| vec![(f.to_vec(), v.to_vec())])
                    .unwrap_or_default(),
                Some(n) if n < 0 => (0..n.unsigned_abs())
                    .filter_map(|_| h.random(&mut rng).map(|(f, v)| (f.to_vec(), v.to_vec())))
                    .collect(),
                Some(n) if n as usize >= len => {
                    h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
                }
                Some(n) if (n as usize) * 3 <= len => {
                    // Few fields out of many: random picks until enough distinct ones.
                    let mut seen = std::collections::HashSet::new();
                    let mut out = Vec::with_capacity(n as usize);
                    while out.len() < n as usize {
                        if let Some((f, v)) = h.random(&mut rng) {
                            if seen.insert(f.to_vec()) {
                                out.push((f.to_vec(), v.to_vec()));
                            }
                        }
                    }
                    out
                }
                Some(n) => {
                    // Distinct fields: a partial shuffle of all of them.
                    let mut all: Vec<(Vec<u8>, Vec<u8>)> =
                        h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                    for i in 0..n as usize {
                        let j = i + rng.below((all.len() - i) as u64) as usize;
                        all.swap(i, j);
                    }
                    all.truncate(n as usize);
                    all
                }
            }
        })
    };
    srv.rng = rng;
    match (picked, count) {
        (None, None) => c.reply.null(),
        (None, Some(_)) => c.reply.array(0),
        (Some(p), None) => match p.first() {
            Some((f, _)) => c.reply.bulk(f),
            None => c.reply.null(),
        },
        (Some(p), Some(_)) => {
            if withvalues && c.reply.resp3 {
                c.reply.array(p.len());
                for (f, v) in &p {
                    c.reply.array(2);
                    c.reply.bulk(f);
                    c.reply.bulk(v);
                }
            } else {
                c.reply
                    .array(if withvalues { p.len() * 2 } else { p.len() });
                for (f, v) in &p {
                    c.reply.bulk(f);
                    if withvalues {
                        c.reply.bulk(v);
                    }
                }
            }
        }
    }
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]: one step of incremental iteration over
/// the hash. Replies with `[next-cursor, [field, value, ...]]`; cursor 0 means done.
fn hscan(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some((cursor, o)) = parse_scan_args(c, argv) else {
        return;
    };
    let Ok(h) = hash_ref(srv, c, &argv[1]) else {
        return;
    };
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut next = 0;
    if let Some(h) = h {
        next = scan_steps(cursor, o.count, |cur| {
            let n = h.scan(cur, |f, v| {
                if o.pattern.as_ref().is_none_or(|p| glob_match(p, f, false)) {
                    out.push((f.to_vec(), v.to_vec()));
                }
            });
            (n, out.len())
        });
    }
    c.reply.array(2);
    c.reply.bulk(next.to_string().as_bytes());
    c.reply.array(out.len() * 2);
    for (f, v) in out {
        c.reply.bulk(&f);
        c.reply.bulk(&v);
    }
}
