//! Keyspace commands (Redis's "generic" group and the database commands): DEL,
//! EXISTS, TYPE, KEYS, SCAN, RENAME, the EXPIRE family, COPY, MOVE, OBJECT,
//! DBSIZE, FLUSHDB, FLUSHALL, SWAPDB.
use super::*;
use crate::server::client::Client;
use crate::server::keyspace::db::NO_EXPIRE;
use crate::server::keyspace::Entry;
use crate::server::notify;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::util::{glob_match, now_ms, parse_i64};

pub static COMMANDS: &[Command] = &[
    Command::new("del", del)
        .arity(-2)
        .group("generic")
        .flags(WRITE)
        .keys(1, -1, 1),
    Command::new("unlink", del)
        .arity(-2)
        .group("generic")
        .flags(WRITE | FAST)
        .keys(1, -1, 1),
    Command::new("exists", exists)
        .arity(-2)
        .group("generic")
        .flags(READONLY | FAST)
        .keys(1, -1, 1),
    Command::new("type", type_cmd)
        .arity(2)
        .group("generic")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("keys", keys)
        .arity(2)
        .group("generic")
        .flags(READONLY),
    Command::new("scan", scan)
        .arity(-2)
        .group("generic")
        .flags(READONLY),
    Command::new("randomkey", randomkey)
        .arity(1)
        .group("generic")
        .flags(READONLY),
    Command::new("rename", rename)
        .arity(3)
        .group("generic")
        .flags(WRITE)
        .keys(1, 2, 1),
    Command::new("renamenx", renamenx)
        .arity(3)
        .group("generic")
        .flags(WRITE | FAST)
        .keys(1, 2, 1),
    Command::new("expire", expire)
        .arity(-3)
        .group("generic")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("pexpire", pexpire)
        .arity(-3)
        .group("generic")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("expireat", expireat)
        .arity(-3)
        .group("generic")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("pexpireat", pexpireat)
        .arity(-3)
        .group("generic")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("ttl", ttl)
        .arity(2)
        .group("generic")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("pttl", pttl)
        .arity(2)
        .group("generic")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("expiretime", expiretime)
        .arity(2)
        .group("generic")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("pexpiretime", pexpiretime)
        .arity(2)
        .group("generic")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("persist", persist)
        .arity(2)
        .group("generic")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("copy", copy)
        .arity(-3)
        .group("generic")
        .flags(WRITE | DENYOOM)
        .keys(1, 2, 1),
    Command::new("move", move_cmd)
        .arity(3)
        .group("generic")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("touch", touch)
        .arity(-2)
        .group("generic")
        .flags(READONLY | FAST)
        .keys(1, -1, 1),
    Command::new("dbsize", dbsize)
        .arity(1)
        .group("server")
        .flags(READONLY | FAST),
    Command::new("flushdb", flushdb)
        .arity(-1)
        .group("server")
        .flags(WRITE),
    Command::new("flushall", flushall)
        .arity(-1)
        .group("server")
        .flags(WRITE),
    Command::new("swapdb", swapdb)
        .arity(3)
        .group("server")
        .flags(WRITE | FAST),
    Command::container("object", OBJECT_SUBCOMMANDS)
        .arity(-2)
        .group("generic"),
];

static OBJECT_SUBCOMMANDS: &[Command] = &[
    Command::new("object|encoding", object_encoding)
        .arity(3)
        .group("generic")
        .flags(READONLY)
        .keys(2, 2, 1),
    Command::new("object|freq", object_freq)
        .arity(3)
        .group("generic")
        .flags(READONLY)
        .keys(2, 2, 1),
    Command::new("object|idletime", object_idletime)
        .arity(3)
        .group("generic")
        .flags(READONLY)
        .keys(2, 2, 1),
    Command::new("object|refcount", object_refcount)
        .arity(3)
        .group("generic")
        .flags(READONLY)
        .keys(2, 2, 1),
    Command::new("object|help", object_help)
        .arity(2)
        .group("generic")
        .flags(LOADING | STALE),
];

/// DEL key [key ...] (also registered as UNLINK): deletes the keys and replies with how
/// many existed. Deletion is synchronous for both commands.
fn del(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut n = 0;
    for k in &argv[1..] {
        if srv.delete_key(c.db, k) {
            notify::notify(srv, notify::GENERIC, "del", k, c.db);
            n += 1;
        }
    }
    srv.add_dirty(n as u64);
    c.reply.int(n);
}

/// EXISTS key [key ...]: replies with how many of the keys exist; a key named twice counts
/// twice. Does not touch the keys' access time.
fn exists(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut n = 0;
    for k in &argv[1..] {
        if srv.lookup_quiet(c, k).is_some() {
            n += 1;
        } else {
            keymiss(srv, c, k);
        }
    }
    c.reply.int(n);
}

/// TYPE key: replies with the value's type name as a simple string, or "none" if missing.
fn type_cmd(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let t = srv.lookup_quiet(c, &argv[1]).map(|e| e.value.type_name());
    if t.is_none() {
        keymiss(srv, c, &argv[1]);
    }
    c.reply.simple(t.unwrap_or("none"));
}

/// A read that does not touch access times found no key: the `keymiss` event
/// (Redis's lookupKeyReadWithFlags with LOOKUP_NOTOUCH notifies it; OBJECT's
/// lookups do not).
fn keymiss(srv: &mut Server, c: &Client, key: &[u8]) {
    notify::notify(srv, notify::KEY_MISS, "keymiss", key, c.db);
}

/// True if a key is logically expired now (used by iterations that must not delete).
fn expired(e: &Entry, now: i64) -> bool {
    e.expire != NO_EXPIRE && e.expire <= now
}

/// KEYS pattern: replies with every non-expired key of the current database matching the
/// glob pattern. Expired keys are skipped but not deleted while iterating.
fn keys(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let pat = &argv[1];
    let all = pat == b"*";
    let now = now_ms();
    let db = &srv.dbs[c.db];
    let mut out: Vec<&[u8]> = Vec::new();
    for (k, e) in db.keys.iter() {
        if !expired(e, now) && (all || glob_match(pat, k, false)) {
            out.push(k);
        }
    }
    c.reply.array(out.len());
    for k in out {
        c.reply.bulk(k);
    }
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: one step of incremental iteration
/// over the current database. Replies with `[next-cursor, [key, ...]]`; cursor 0 means done.
/// Expired keys are filtered out (not deleted), as are keys failing MATCH or TYPE.
fn scan(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let cursor = match parse_cursor(&argv[1]) {
        Ok(v) => v,
        Err(e) => {
            c.reply.error(&e);
            return;
        }
    };
    let o = match parse_scan_opts(argv, 2, true) {
        Ok(o) => o,
        Err(e) => {
            c.reply.error(&e);
            return;
        }
    };
    let now = now_ms();
    let db = &srv.dbs[c.db];
    let mut found: Vec<Vec<u8>> = Vec::new();
    // COUNT counts elements seen before filtering, as Redis does.
    let mut seen = 0usize;
    let cur = scan_steps(cursor, o.count, |cur| {
        let next = db.keys.scan(cur, |k, e| {
            seen += 1;
            if expired(e, now) {
                return;
            }
            if let Some(p) = &o.pattern {
                if !glob_match(p, k, false) {
                    return;
                }
            }
            if let Some(t) = &o.type_name {
                if e.value.type_name() != t {
                    return;
                }
            }
            found.push(k.to_vec());
        });
        (next, seen)
    });
    c.reply.array(2);
    c.reply.bulk(cur.to_string().as_bytes());
    c.reply.array(found.len());
    for k in &found {
        c.reply.bulk(k);
    }
}

/// RANDOMKEY: replies with a random non-expired key, or nil if the database is empty. On a
/// master, expired keys it hits are deleted and it retries; a replica cannot delete them and
/// just retries. After 100 unlucky attempts it gives up and replies nil.
fn randomkey(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let db = c.db;
    let now = now_ms();
    for _ in 0..100 {
        let key = {
            let rng = &mut srv.rng;
            let mut r = || rng.next_u64();
            srv.dbs[db]
                .keys
                .random_entry(&mut r)
                .map(|(k, e)| (k.to_vec(), expired(e, now)))
        };
        match key {
            None => {
                c.reply.null();
                return;
            }
            Some((k, false)) => {
                c.reply.bulk(&k);
                return;
            }
            Some((k, true)) => {
                if srv.is_replica() {
                    // A replica can't delete: return it only if everything is volatile.
                    continue;
                }
                srv.expire_if_needed(db, &k, false);
            }
        }
    }
    c.reply.null();
}

/// Shared body of RENAME and RENAMENX. A missing source is "no such key" even when source and
/// destination are equal; renaming a key to itself is a no-op success. The entry moves with
/// its TTL; an existing destination is deleted (RENAME) or makes RENAMENX reply 0. Wakes
/// clients blocked on the destination key.
fn rename_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], nx: bool) {
    let db = c.db;
    let (src, dst) = (&argv[1], &argv[2]);
    if srv.lookup_write(db, src).is_none() {
        c.reply.error(errors::NO_SUCH_KEY);
        return;
    }
    if src == dst {
        if nx {
            c.reply.int(0);
        } else {
            c.reply.ok();
        }
        return;
    }
    if srv.lookup_write(db, dst).is_some() {
        if nx {
            c.reply.int(0);
            return;
        }
        srv.delete_key(db, dst);
    }
    let Some(entry) = srv.dbs[db].remove(src) else {
        return;
    };
    srv.dbs[db].insert_entry(dst, entry);
    notify::new_key(srv, dst, db);
    srv.signal_modified(db, src);
    srv.signal_modified(db, dst);
    srv.signal_key_ready(db, dst);
    notify::notify(srv, notify::GENERIC, "rename_from", src, db);
    notify::notify(srv, notify::GENERIC, "rename_to", dst, db);
    srv.add_dirty(1);
    if nx {
        c.reply.int(1);
    } else {
        c.reply.ok();
    }
}

/// RENAME key newkey: renames `key`, overwriting `newkey`. Replies OK.
fn rename(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    rename_generic(srv, c, argv, false)
}

/// RENAMENX key newkey: renames `key` only if `newkey` does not exist. Replies 1 if renamed,
/// else 0.
fn renamenx(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    rename_generic(srv, c, argv, true)
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT, as Redis 7.0.
fn expire_generic(
    srv: &mut Server,
    c: &mut Client,
    argv: &[Vec<u8>],
    unit_ms: bool,
    absolute: bool,
) {
    let name = String::from_utf8_lossy(&argv[0]).to_lowercase();
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &argv[3..] {
        match &a.to_ascii_lowercase()[..] {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"gt" => gt = true,
            b"lt" => lt = true,
            _ => {
                c.reply.error(&format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(a)
                ));
                return;
            }
        }
    }
    if nx && (xx || gt || lt) {
        c.reply
            .error("ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if gt && lt {
        c.reply
            .error("ERR GT and LT options at the same time are not compatible");
        return;
    }
    let Some(when) = parse_i64(&argv[2]) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    let invalid = format!("ERR invalid expire time in '{}' command", name);
    let mut when_ms = if unit_ms {
        when
    } else {
        match when.checked_mul(1000) {
            Some(v) => v,
            None => {
                c.reply.error(&invalid);
                return;
            }
        }
    };
    if !absolute {
        match when_ms.checked_add(now_ms()) {
            Some(v) => when_ms = v,
            None => {
                c.reply.error(&invalid);
                return;
            }
        }
    }
    let db = c.db;
    let key = &argv[1];
    let Some(e) = srv.lookup_write(db, key) else {
        c.reply.int(0);
        return;
    };
    let cur = e.expire;
    if (nx && cur != NO_EXPIRE) || (xx && cur == NO_EXPIRE) {
        c.reply.int(0);
        return;
    }
    if gt && (cur == NO_EXPIRE || when_ms <= cur) {
        c.reply.int(0);
        return;
    }
    if lt && cur != NO_EXPIRE && when_ms >= cur {
        c.reply.int(0);
        return;
    }
    if when_ms <= now_ms() && !srv.loading && !srv.is_replica() {
        srv.delete_key(db, key);
        notify::notify(srv, notify::GENERIC, "del", key, db);
        srv.add_dirty(1);
        let cmd: &[u8] = if srv.config.lazyfree_lazy_expire {
            b"UNLINK"
        } else {
            b"DEL"
        };
        srv.propagate_instead(db, vec![vec![cmd.to_vec(), key.clone()]]);
        c.reply.int(1);
        return;
    }
    srv.dbs[db].set_expire(key, when_ms);
    srv.signal_modified(db, key);
    notify::notify(srv, notify::GENERIC, "expire", key, db);
    srv.add_dirty(1);
    if !(unit_ms && absolute) {
        let mut v = vec![
            b"PEXPIREAT".to_vec(),
            key.clone(),
            when_ms.to_string().into_bytes(),
        ];
        v.extend(argv[3..].iter().cloned());
        srv.propagate_instead(db, vec![v]);
    }
    c.reply.int(1);
}

/// EXPIRE key seconds [NX|XX|GT|LT]: sets a relative TTL in seconds.
fn expire(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    expire_generic(srv, c, argv, false, false)
}
/// PEXPIRE key milliseconds [NX|XX|GT|LT]: sets a relative TTL in milliseconds.
fn pexpire(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    expire_generic(srv, c, argv, true, false)
}
/// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]: sets an absolute expiry in seconds.
fn expireat(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    expire_generic(srv, c, argv, false, true)
}
/// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]: sets an absolute expiry in ms.
fn pexpireat(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    expire_generic(srv, c, argv, true, true)
}

/// TTL family: which number to report for a key with an expiry.
enum TtlKind {
    Seconds,
    Millis,
    AbsSeconds,
    AbsMillis,
}

/// Shared body of the TTL family: replies -2 if the key is missing, -1 if it has no expiry,
/// otherwise the remaining time (never negative) or the absolute expiry in `kind`'s unit.
/// TTL rounds the remaining milliseconds to the nearest second, like Redis.
fn ttl_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], kind: TtlKind) {
    let Some(e) = srv.lookup_quiet(c, &argv[1]) else {
        keymiss(srv, c, &argv[1]);
        c.reply.int(-2);
        return;
    };
    if e.expire == NO_EXPIRE {
        c.reply.int(-1);
        return;
    }
    let at = e.expire;
    let left = (at - now_ms()).max(0);
    c.reply.int(match kind {
        TtlKind::Seconds => (left + 500) / 1000,
        TtlKind::Millis => left,
        TtlKind::AbsSeconds => at / 1000,
        TtlKind::AbsMillis => at,
    });
}

/// TTL key: replies with the remaining time to live in seconds (-2 missing, -1 no expiry).
fn ttl(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    ttl_generic(srv, c, argv, TtlKind::Seconds)
}
/// PTTL key: replies with the remaining time to live in ms (-2 missing, -1 no expiry).
fn pttl(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    ttl_generic(srv, c, argv, TtlKind::Millis)
}
/// EXPIRETIME key: replies with the absolute Unix expiry time in seconds (-2/-1 as TTL).
fn expiretime(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    ttl_generic(srv, c, argv, TtlKind::AbsSeconds)
}
/// PEXPIRETIME key: replies with the absolute Unix expiry time in ms (-2/-1 as TTL).
fn pexpiretime(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    ttl_generic(srv, c, argv, TtlKind::AbsMillis)
}

/// PERSIST key: removes the key's expiry. Replies 1 if an expiry was removed, 0 if the key
/// is missing or had none.
fn persist(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    if srv.lookup_write(db, &argv[1]).is_none() {
        c.reply.int(0);
        return;
    }
    if srv.dbs[db].persist(&argv[1]) {
        srv.signal_modified(db, &argv[1]);
        notify::notify(srv, notify::GENERIC, "persist", &argv[1], db);
        srv.add_dirty(1);
        c.reply.int(1);
    } else {
        c.reply.int(0);
    }
}

/// Parses a database index argument, with Redis's "not an integer" and "DB index is out of
/// range" errors.
fn parse_db_index(srv: &Server, arg: &[u8]) -> Result<usize, String> {
    match parse_i64(arg) {
        None => Err(errors::NOT_INTEGER.into()),
        Some(n) if n < 0 || n as usize >= srv.dbs.len() => {
            Err(errors::DB_INDEX_OUT_OF_RANGE.into())
        }
        Some(n) => Ok(n as usize),
    }
}

/// COPY source destination [DB destination-db] [REPLACE]: copies the value (and its TTL) to
/// `destination`, optionally in another database. Replies 1 if copied, 0 if the source is
/// missing or the destination exists without REPLACE; copying a key onto itself is an error.
/// Wakes clients blocked on the destination.
fn copy(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut dst_db = c.db;
    let mut replace = false;
    let mut i = 3;
    while i < argv.len() {
        let a = argv[i].to_ascii_lowercase();
        if a == b"replace" {
            replace = true;
            i += 1;
        } else if a == b"db" && i + 1 < argv.len() {
            match parse_db_index(srv, &argv[i + 1]) {
                Ok(d) => dst_db = d,
                Err(e) => {
                    c.reply.error(&e);
                    return;
                }
            }
            i += 2;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    let (src, dst) = (&argv[1], &argv[2]);
    if src == dst && dst_db == c.db {
        c.reply.error(errors::SAME_OBJECT);
        return;
    }
    let Some(e) = srv.lookup_write(c.db, src) else {
        c.reply.int(0);
        return;
    };
    let entry = e.clone();
    if srv.lookup_write(dst_db, dst).is_some() {
        if !replace {
            c.reply.int(0);
            return;
        }
        srv.delete_key(dst_db, dst);
    }
    srv.dbs[dst_db].insert_entry(dst, entry);
    notify::new_key(srv, dst, dst_db);
    srv.signal_modified(dst_db, dst);
    srv.signal_key_ready(dst_db, dst);
    notify::notify(srv, notify::GENERIC, "copy_to", dst, dst_db);
    srv.add_dirty(1);
    c.reply.int(1);
}

/// MOVE key db: moves the key (with its TTL) to another database. Replies 1 if moved, 0 if
/// the key is missing or already exists in the target; the same database is an error.
fn move_cmd(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let dst_db = match parse_i64(&argv[2]) {
        Some(n) if n >= 0 && (n as usize) < srv.dbs.len() => n as usize,
        None => {
            c.reply.error(errors::NOT_INTEGER);
            return;
        }
        _ => {
            c.reply.error(errors::DB_INDEX_OUT_OF_RANGE);
            return;
        }
    };
    if dst_db == c.db {
        c.reply.error(errors::SAME_OBJECT);
        return;
    }
    let key = &argv[1];
    if srv.lookup_write(c.db, key).is_none() {
        c.reply.int(0);
        return;
    }
    if srv.lookup_write(dst_db, key).is_some() {
        c.reply.int(0);
        return;
    }
    let Some(e) = srv.dbs[c.db].remove(key) else {
        return;
    };
    srv.dbs[dst_db].insert_entry(key, e);
    notify::new_key(srv, key, dst_db);
    srv.signal_modified(c.db, key);
    srv.signal_modified(dst_db, key);
    srv.signal_key_ready(dst_db, key);
    notify::notify(srv, notify::GENERIC, "move_from", key, c.db);
    notify::notify(srv, notify::GENERIC, "move_to", key, dst_db);
    srv.add_dirty(1);
    c.reply.int(1);
}

/// TOUCH key [key ...]: updates the access time of the keys and replies with how many exist.
fn touch(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut n = 0;
    for k in &argv[1..] {
        if srv.lookup_read(c, k).is_some() {
            n += 1;
        }
    }
    c.reply.int(n);
}

/// DBSIZE: replies with the number of keys in the current database (expired keys not yet
/// reclaimed included).
fn dbsize(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.int(srv.dbs[c.db].len() as i64);
}

/// Validates the optional ASYNC|SYNC argument of FLUSHDB/FLUSHALL. Both modes flush
/// synchronously here.
fn flush_mode(argv: &[Vec<u8>]) -> Result<(), ()> {
    match argv.len() {
        1 => Ok(()),
        2 if argv[1].eq_ignore_ascii_case(b"async") || argv[1].eq_ignore_ascii_case(b"sync") => {
            Ok(())
        }
        _ => Err(()),
    }
}

/// FLUSHDB [ASYNC|SYNC]: removes every key of the current database. Replies OK. Always
/// counted as a change so it is propagated even when the database was already empty.
fn flushdb(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if flush_mode(argv).is_err() {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let n = srv.dbs[c.db].len() as u64;
    srv.touch_watched_in_db(c.db, None);
    srv.dbs[c.db].clear();
    srv.signal_flushed_db(Some(c.db));
    // Always propagated, even when the database was already empty.
    srv.add_dirty(n.max(1));
    c.reply.ok();
}

/// FLUSHALL [ASYNC|SYNC]: removes every key of every database and replies OK. Always
/// propagated. Like Redis, when save points are configured it kills any running background
/// save and writes the now-empty snapshot, without resetting the dirty counter.
fn flushall(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if flush_mode(argv).is_err() {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let mut n = 0;
    for db in 0..srv.dbs.len() {
        srv.touch_watched_in_db(db, None);
    }
    for db in srv.dbs.iter_mut() {
        n += db.len() as u64;
        db.clear();
    }
    srv.signal_flushed_db(None);
    srv.add_dirty(n.max(1));
    // Like Redis: with save points configured, FLUSHALL writes the (empty)
    // snapshot, which leaves no change unsaved; it still goes to the replicas.
    if !srv.config.save_params.is_empty() {
        crate::server::rdb::kill_child(srv);
        let _ = crate::server::rdb::save(srv);
        srv.propagate_instead(c.db, vec![argv.to_vec()]);
    }
    c.reply.ok();
}

/// SWAPDB index1 index2: swaps two databases. Replies OK. Clients blocked on keys of either
/// database are signalled since their keys may now hold data.
fn swapdb(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(a) = parse_i64(&argv[1]) else {
        c.reply.error("ERR invalid first DB index");
        return;
    };
    let Some(b) = parse_i64(&argv[2]) else {
        c.reply.error("ERR invalid second DB index");
        return;
    };
    let n = srv.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        c.reply.error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    }
    srv.touch_watched_in_db(a as usize, Some(b as usize));
    srv.touch_watched_in_db(b as usize, Some(a as usize));
    srv.dbs.swap(a as usize, b as usize);
    // Clients blocked on keys of either database may now be served.
    let keys: Vec<(usize, Vec<u8>)> = srv.blocking_keys.keys().cloned().collect();
    for (db, k) in keys {
        if db as i64 == a || db as i64 == b {
            srv.signal_key_ready(db, &k);
        }
    }
    srv.add_dirty(1);
    c.reply.ok();
}

/// OBJECT ENCODING key: replies with the value's internal encoding name (e.g. listpack,
/// embstr), or nil if the key is missing.
fn object_encoding(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match srv.lookup_quiet(c, &argv[2]) {
        None => c.reply.null(),
        Some(e) => {
            let enc = e.value.encoding(e.raw);
            c.reply.bulk(enc.as_bytes())
        }
    }
}

/// Whether the configured `maxmemory-policy` is an LFU one.
fn lfu_policy(srv: &Server) -> bool {
    srv.config.maxmemory_policy.contains("lfu")
}

/// OBJECT FREQ key: nil for a missing key; an error unless an LFU maxmemory policy is set.
/// Access frequency is not tracked, so under LFU it always replies 0.
fn object_freq(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if srv.lookup_quiet(c, &argv[2]).is_none() {
        c.reply.null();
        return;
    }
    if !lfu_policy(srv) {
        c.reply.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    c.reply.int(0);
}

/// OBJECT IDLETIME key: replies with the seconds since the key was last accessed, nil if the
/// key is missing, or an error when an LFU policy is selected (as in Redis).
fn object_idletime(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let lfu = lfu_policy(srv);
    let Some(e) = srv.lookup_quiet(c, &argv[2]) else {
        c.reply.null();
        return;
    };
    let idle = crate::server::keyspace::db::lru_clock().wrapping_sub(e.lru) as i64;
    if lfu {
        c.reply.error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    c.reply.int(idle);
}

/// OBJECT REFCOUNT key: nil if missing. Mirrors Redis's shared integer objects: strings
/// holding an integer in 0..9999 report INT_MAX, everything else 1.
fn object_refcount(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(e) = srv.lookup_quiet(c, &argv[2]) else {
        c.reply.null();
        return;
    };
    // Redis shares the integers 0..9999 between keys (refcount INT_MAX).
    let shared = matches!(&e.value, crate::server::types::Value::Str(s) if parse_i64(s).is_some_and(|v| (0..10000).contains(&v)));
    c.reply.int(if shared { 2147483647 } else { 1 });
}

/// OBJECT HELP: replies with the list of OBJECT subcommands as simple strings.
fn object_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}
