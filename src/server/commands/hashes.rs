//! Hash commands.
use super::*;
use crate::server::client::Client;
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

fn hash_ref<'a>(srv: &'a mut Server, c: &mut Client, key: &[u8]) -> Result<Option<&'a Hash>, ()> {
    match srv.lookup_read(c, key) {
        None => Ok(None),
        Some(e) => match &e.value {
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
    }
    match srv.dbs[db].get_mut(key).map(|e| &mut e.value) {
        Some(Value::Hash(h)) => Ok(Some(h)),
        _ => Ok(None),
    }
}

fn limits(srv: &Server) -> (u64, u64) {
    (
        srv.config.hash_max_listpack_entries,
        srv.config.hash_max_listpack_value,
    )
}

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
    srv.add_dirty(((argv.len() - 2) / 2) as u64);
    if ok_reply {
        c.reply.ok();
    } else {
        c.reply.int(added);
    }
}

fn hset(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    hset_generic(srv, c, argv, false)
}
fn hmset(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    hset_generic(srv, c, argv, true)
}

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
    srv.add_dirty(1);
    c.reply.int(1);
}

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

fn hmget(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(h) = hash_ref(srv, c, &argv[1]) else {
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

fn hdel(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let n = match hash_mut(srv, c, &argv[1], false) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(h)) => {
            let n = argv[2..].iter().filter(|f| h.remove(f)).count();
            if h.is_empty() {
                srv.dbs[db].remove(&argv[1]);
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

fn hlen(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if let Ok(h) = hash_ref(srv, c, &argv[1]) {
        let n = h.map(|h| h.len()).unwrap_or(0);
        c.reply.int(n as i64);
    }
}

fn hstrlen(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if let Ok(h) = hash_ref(srv, c, &argv[1]) {
        let n = h
            .and_then(|h| h.get(&argv[2]))
            .map(|v| v.len())
            .unwrap_or(0);
        c.reply.int(n as i64);
    }
}

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

fn hkeys(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    getall_generic(srv, c, argv, Part::Keys)
}
fn hvals(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    getall_generic(srv, c, argv, Part::Vals)
}
fn hgetall(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    getall_generic(srv, c, argv, Part::Both)
}

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
    srv.add_dirty(1);
    c.reply.int(n);
}

/// A hash created for a command that then failed must not be left empty.
fn cleanup_empty(srv: &mut Server, db: usize, key: &[u8]) {
    if matches!(srv.dbs[db].get(key).map(|e| &e.value), Some(Value::Hash(h)) if h.is_empty()) {
        srv.dbs[db].remove(key);
    }
}

fn hincrbyfloat(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if crate::server::util::parse_f64(&argv[3]).is_none() {
        c.reply.error(errors::NOT_FLOAT);
        return;
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
