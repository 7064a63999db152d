//! List commands, including the blocking ones: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH
//! and BLMPOP wait on keys and are served in arrival order when a push arrives;
//! what they pop is propagated as the non-blocking pop (LPOP, RPOP, LMOVE).
use super::*;
use crate::server::client::Client;
use crate::server::notify;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::{List, Value, WRONGTYPE};
use crate::server::util::parse_i64;

pub static COMMANDS: &[Command] = &[
    Command::new("lpush", lpush)
        .arity(-3)
        .group("list")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("rpush", rpush)
        .arity(-3)
        .group("list")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("lpushx", lpushx)
        .arity(-3)
        .group("list")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("rpushx", rpushx)
        .arity(-3)
        .group("list")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("lpop", lpop)
        .arity(-2)
        .group("list")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("rpop", rpop)
        .arity(-2)
        .group("list")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("llen", llen)
        .arity(2)
        .group("list")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("lrange", lrange)
        .arity(4)
        .group("list")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("lindex", lindex)
        .arity(3)
        .group("list")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("lset", lset)
        .arity(4)
        .group("list")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("linsert", linsert)
        .arity(5)
        .group("list")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("lrem", lrem)
        .arity(4)
        .group("list")
        .flags(WRITE)
        .keys(1, 1, 1),
    Command::new("ltrim", ltrim)
        .arity(4)
        .group("list")
        .flags(WRITE)
        .keys(1, 1, 1),
    Command::new("lpos", lpos)
        .arity(-3)
        .group("list")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("lmove", lmove)
        .arity(5)
        .group("list")
        .flags(WRITE | DENYOOM)
        .keys(1, 2, 1),
    Command::new("rpoplpush", rpoplpush)
        .arity(3)
        .group("list")
        .flags(WRITE | DENYOOM)
        .keys(1, 2, 1),
    Command::new("lmpop", lmpop)
        .arity(-4)
        .group("list")
        .flags(WRITE),
    Command::new("blpop", blpop)
        .arity(-3)
        .group("list")
        .flags(WRITE | NOSCRIPT | BLOCKING)
        .keys(1, -2, 1),
    Command::new("brpop", brpop)
        .arity(-3)
        .group("list")
        .flags(WRITE | NOSCRIPT | BLOCKING)
        .keys(1, -2, 1),
    Command::new("blmove", blmove)
        .arity(6)
        .group("list")
        .flags(WRITE | DENYOOM | NOSCRIPT | BLOCKING)
        .keys(1, 2, 1),
    Command::new("brpoplpush", brpoplpush)
        .arity(4)
        .group("list")
        .flags(WRITE | DENYOOM | NOSCRIPT | BLOCKING)
        .keys(1, 2, 1),
    Command::new("blmpop", blmpop)
        .arity(-5)
        .group("list")
        .flags(WRITE | BLOCKING),
];

/// The list at `key` for writing: Ok(None) if missing, Err after replying WRONGTYPE.
fn list_mut<'a>(
    srv: &'a mut Server,
    c: &mut Client,
    key: &[u8],
) -> Result<Option<&'a mut List>, ()> {
    match srv.lookup_write(c.db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok(Some(l)),
            _ => {
                c.reply.error(WRONGTYPE);
                Err(())
            }
        },
    }
}

/// The list at `key` for reading.
fn list_ref<'a>(srv: &'a mut Server, c: &mut Client, key: &[u8]) -> Result<Option<&'a List>, ()> {
    match srv.lookup_read(c, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::List(l) => Ok(Some(l)),
            _ => {
                c.reply.error(WRONGTYPE);
                Err(())
            }
        },
    }
}

/// After a change: deletes the key if the list became empty, signals watchers.
/// Returns whether the key was deleted.
fn after_change(srv: &mut Server, db: usize, key: &[u8]) -> bool {
    let empty =
        matches!(srv.dbs[db].get(key).map(|e| &e.value), Some(Value::List(l)) if l.is_empty());
    if empty {
        srv.dbs[db].remove(key);
    }
    srv.signal_modified(db, key);
    empty
}

/// After a change that may have emptied the list: the list event, then the
/// deletion of an empty list with its `del` event (Redis's order).
fn changed_event(srv: &mut Server, db: usize, key: &[u8], event: &str) {
    notify::notify(srv, notify::LIST, event, key, db);
    if after_change(srv, db, key) {
        notify::notify(srv, notify::GENERIC, "del", key, db);
    }
}

/// The event name of a pop from `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// The event name of a push to `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Left,
    Right,
}

/// Shared body of LPUSH, RPUSH, LPUSHX and RPUSHX: pushes the elements one by one to the
/// chosen end (so LPUSH a b c leaves c first), creating the list unless `only_existing`.
/// Replies with the new length, or 0 for the X variants on a missing key. Signals the key
/// as ready so blocked BLPOP-style clients are served.
fn push_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], end: End, only_existing: bool) {
    let db = c.db;
    let key = &argv[1];
    let exists = match list_mut(srv, c, key) {
        Err(()) => return,
        Ok(l) => l.is_some(),
    };
    if !exists {
        if only_existing {
            c.reply.int(0);
            return;
        }
        srv.dbs[db].set(key, Value::List(Default::default()), false);
        notify::new_key(srv, key, db);
    }
    let Some(Value::List(l)) = srv.dbs[db].get_mut(key).map(|e| &mut e.value) else {
        return;
    };
    for v in &argv[2..] {
        match end {
            End::Left => l.push_front(v.clone()),
            End::Right => l.push_back(v.clone()),
        }
    }
    let n = l.len();
    srv.signal_modified(db, key);
    srv.signal_key_ready(db, key);
    notify::notify(srv, notify::LIST, push_event(end), key, db);
    srv.add_dirty((argv.len() - 2) as u64);
    c.reply.int(n as i64);
}

/// LPUSH key element [element ...]: prepends the elements; replies with the new length.
fn lpush(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    push_generic(srv, c, argv, End::Left, false)
}
/// RPUSH key element [element ...]: appends the elements; replies with the new length.
fn rpush(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    push_generic(srv, c, argv, End::Right, false)
}
/// LPUSHX key element [element ...]: LPUSH only if the list exists; replies 0 otherwise.
fn lpushx(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    push_generic(srv, c, argv, End::Left, true)
}
/// RPUSHX key element [element ...]: RPUSH only if the list exists; replies 0 otherwise.
fn rpushx(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    push_generic(srv, c, argv, End::Right, true)
}

/// Pops up to `count` items from one end of an existing list.
fn pop_n(srv: &mut Server, db: usize, key: &[u8], end: End, count: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(Value::List(l)) = srv.dbs[db].get_mut(key).map(|e| &mut e.value) {
        for _ in 0..count {
            match if end == End::Left {
                l.pop_front()
            } else {
                l.pop_back()
            } {
                Some(v) => out.push(v),
                None => break,
            }
        }
    }
    if out.is_empty() {
        after_change(srv, db, key);
    } else {
        changed_event(srv, db, key, pop_event(end));
    }
    out
}

/// Shared body of LPOP and RPOP. The count must be a non-negative integer. Without a count
/// it replies with one bulk string, or nil for a missing key; with a count, an array of up
/// to `count` elements, or a null array for a missing key. An emptied list is deleted.
fn pop_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], end: End) {
    if argv.len() > 3 {
        c.reply.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            if end == End::Left { "lpop" } else { "rpop" }
        ));
        return;
    }
    let count = match argv.get(2) {
        None => None,
        Some(a) => match parse_i64(a) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => {
                c.reply.error(errors::OUT_OF_RANGE_POSITIVE);
                return;
            }
        },
    };
    let db = c.db;
    match list_mut(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {
            if count.is_some() {
                c.reply.null_array();
            } else {
                c.reply.null();
            }
            return;
        }
        Ok(Some(_)) => {}
    }
    let items = pop_n(srv, db, &argv[1], end, count.unwrap_or(1));
    srv.add_dirty(items.len() as u64);
    match count {
        None => c.reply.bulk(&items[0]),
        Some(_) => {
            c.reply.array(items.len());
            for i in &items {
                c.reply.bulk(i);
            }
        }
    }
}

/// LPOP key [count]: removes and returns the first element(s) of the list.
fn lpop(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    pop_generic(srv, c, argv, End::Left)
}
/// RPOP key [count]: removes and returns the last element(s) of the list.
fn rpop(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    pop_generic(srv, c, argv, End::Right)
}

/// LLEN key: replies with the length of the list (0 if the key is missing).
fn llen(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if let Ok(l) = list_ref(srv, c, &argv[1]) {
        let n = l.map(|l| l.len()).unwrap_or(0);
        c.reply.int(n as i64);
    }
}

/// Converts a Redis [start, stop] pair to an inclusive index range in 0..len.
fn clamp(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if stop < 0 { len + stop } else { stop };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

/// Parses two integer arguments (e.g. LRANGE's start and stop), replying "not an integer"
/// and returning `None` if either is invalid.
fn two_ints(c: &mut Client, a: &[u8], b: &[u8]) -> Option<(i64, i64)> {
    match (parse_i64(a), parse_i64(b)) {
        (Some(x), Some(y)) => Some((x, y)),
        _ => {
            c.reply.error(errors::NOT_INTEGER);
            None
        }
    }
}

/// LRANGE key start stop: replies with the elements in the inclusive range, with negative
/// indexes counting from the end; out-of-range bounds are clamped, as in Redis.
fn lrange(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some((start, stop)) = two_ints(c, &argv[2], &argv[3]) else {
        return;
    };
    let Ok(l) = list_ref(srv, c, &argv[1]) else {
        return;
    };
    let Some(l) = l else {
        c.reply.array(0);
        return;
    };
    match clamp(start, stop, l.len()) {
        None => c.reply.array(0),
        Some((s, e)) => {
            c.reply.array(e - s + 1);
            for v in l.range(s, e) {
                c.reply.bulk(v);
            }
        }
    }
}

/// Resolves a possibly negative index.
fn index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    if i < 0 || i >= len as i64 {
        None
    } else {
        Some(i as usize)
    }
}

/// LINDEX key index: replies with the element at `index` (negative counts from the end), or
/// nil if the key is missing or the index out of range.
fn lindex(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(i) = parse_i64(&argv[2]) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    let Ok(l) = list_ref(srv, c, &argv[1]) else {
        return;
    };
    match l.and_then(|l| index(i, l.len()).and_then(|i| l.get(i))) {
        Some(v) => {
            let v = v.to_vec();
            c.reply.bulk(&v)
        }
        None => c.reply.null(),
    }
}

/// LSET key index element: replaces the element at `index`. Replies OK; "no such key" for a
/// missing key and "index out of range" for a bad index.
fn lset(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(i) = parse_i64(&argv[2]) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    let db = c.db;
    match list_mut(srv, c, &argv[1]) {
        Err(()) => {}
        Ok(None) => c.reply.error(errors::NO_SUCH_KEY),
        Ok(Some(l)) => match index(i, l.len()) {
            Some(i) => {
                l.set(i, argv[3].clone());
                srv.signal_modified(db, &argv[1]);
                notify::notify(srv, notify::LIST, "lset", &argv[1], db);
                srv.add_dirty(1);
                c.reply.ok();
            }
            None => c.reply.error("ERR index out of range"),
        },
    }
}

/// LINSERT key BEFORE|AFTER pivot element: inserts `element` next to the first occurrence of
/// `pivot`. Replies with the new length, -1 if the pivot is not found, 0 if the key is
/// missing.
fn linsert(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let after = match &argv[2].to_ascii_lowercase()[..] {
        b"after" => true,
        b"before" => false,
        _ => {
            c.reply.error(errors::SYNTAX);
            return;
        }
    };
    let db = c.db;
    match list_mut(srv, c, &argv[1]) {
        Err(()) => {}
        Ok(None) => c.reply.int(0),
        Ok(Some(l)) => match l.position(&argv[3]) {
            None => c.reply.int(-1),
            Some(p) => {
                l.insert(if after { p + 1 } else { p }, argv[4].clone());
                let n = l.len();
                srv.signal_modified(db, &argv[1]);
                notify::notify(srv, notify::LIST, "linsert", &argv[1], db);
                srv.add_dirty(1);
                c.reply.int(n as i64);
            }
        },
    }
}

/// LREM key count element: removes occurrences of `element`: the first `count` from the head
/// if count > 0, the last `|count|` from the tail if count < 0, all if count is 0. Deletes
/// the list if it becomes empty. Replies with the number removed.
fn lrem(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(count) = parse_i64(&argv[2]) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    let db = c.db;
    let removed = match list_mut(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(l)) => {
            let target = &argv[3];
            let limit = if count == 0 {
                usize::MAX
            } else {
                count.unsigned_abs() as usize
            };
            let mut removed = 0usize;
            if count >= 0 {
                l.retain(|v| {
                    if removed < limit && v == target {
                        removed += 1;
                        false
                    } else {
                        true
                    }
                });
            } else {
                // From the tail: mark the last `limit` matches.
                let matches: Vec<usize> = l
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| *v == &target[..])
                    .map(|(i, _)| i)
                    .collect();
                let drop: std::collections::HashSet<usize> =
                    matches.iter().rev().take(limit).copied().collect();
                let mut i = 0;
                l.retain(|_| {
                    let keep = !drop.contains(&i);
                    i += 1;
                    keep
                });
                removed = drop.len();
            }
            removed
        }
    };
    if removed > 0 {
        changed_event(srv, db, &argv[1], "lrem");
        srv.add_dirty(removed as u64);
    }
    c.reply.int(removed as i64);
}

/// LTRIM key start stop: keeps only the elements in the inclusive range (deleting the list
/// if nothing remains). Replies OK, also for a missing key.
fn ltrim(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some((start, stop)) = two_ints(c, &argv[2], &argv[3]) else {
        return;
    };
    let db = c.db;
    match list_mut(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {}
        Ok(Some(l)) => {
            let before = l.len();
            match clamp(start, stop, l.len()) {
                None => l.clear(),
                Some((s, e)) => l.trim(s, e),
            }
            let removed = before - l.len();
            changed_event(srv, db, &argv[1], "ltrim");
            srv.add_dirty(removed as u64);
        }
    }
    c.reply.ok();
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]: replies with the index of
/// the first match (nil if none), or with COUNT an array of up to `num-matches` indexes (0
/// means all). RANK r skips the first `|r| - 1` matches, searching from the tail when r is
/// negative; MAXLEN limits how many elements are compared. Options are validated before the
/// key is read.
fn lpos(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut i = 3;
    while i < argv.len() {
        let opt = argv[i].to_ascii_lowercase();
        let Some(val) = argv.get(i + 1) else {
            c.reply.error(errors::SYNTAX);
            return;
        };
        let Some(n) = parse_i64(val) else {
            c.reply.error(errors::NOT_INTEGER);
            return;
        };
        match &opt[..] {
            b"rank" => {
                if n == 0 || n == i64::MIN {
                    c.reply.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                    return;
                }
                rank = n;
            }
            b"count" => {
                if n < 0 {
                    c.reply.error("ERR COUNT can't be negative");
                    return;
                }
                count = Some(n);
            }
            b"maxlen" => {
                if n < 0 {
                    c.reply.error("ERR MAXLEN can't be negative");
                    return;
                }
                maxlen = n;
            }
            _ => {
                c.reply.error(errors::SYNTAX);
                return;
            }
        }
        i += 2;
    }
    let Ok(l) = list_ref(srv, c, &argv[1]) else {
        return;
    };
    let Some(l) = l else {
        if count.is_some() {
            c.reply.array(0);
        } else {
            c.reply.null();
        }
        return;
    };
    let target = &argv[2][..];
    let want = match count {
        Some(0) => usize::MAX,
        Some(n) => n as usize,
        None => 1,
    };
    let len = l.len();
    let scan = if maxlen == 0 {
        len
    } else {
        (maxlen as usize).min(len)
    };
    let mut skip = rank.unsigned_abs() as usize - 1;
    let mut found = Vec::new();
    for k in 0..scan {
        let idx = if rank > 0 { k } else { len - 1 - k };
        if l.get(idx) == Some(target) {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            found.push(idx as i64);
            if found.len() >= want {
                break;
            }
        }
    }
    match count {
        None => match found.first() {
            Some(&p) => c.reply.int(p),
            None => c.reply.null(),
        },
        Some(_) => {
            c.reply.array(found.len());
            for p in found {
                c.reply.int(p);
            }
        }
    }
}

/// Parses a LEFT|RIGHT argument (case-insensitive).
fn parse_end(a: &[u8]) -> Option<End> {
    match &a.to_ascii_lowercase()[..] {
        b"left" => Some(End::Left),
        b"right" => Some(End::Right),
        _ => None,
    }
}

/// The LEFT/RIGHT argument spelling of an `End`, for propagated LMOVE commands.
fn end_name(e: End) -> &'static [u8] {
    if e == End::Left {
        b"LEFT"
    } else {
        b"RIGHT"
    }
}

/// LMOVE's core: pops from `src`, pushes to `dst`. Err(()) after a WRONGTYPE reply;
/// Ok(None) when the source is empty.
fn move_one(
    srv: &mut Server,
    c: &mut Client,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Vec<u8>>, ()> {
    let db = c.db;
    if list_mut(srv, c, src)?.is_none() {
        return Ok(None);
    }
    // The destination must be a list (or missing) before anything is popped.
    list_mut(srv, c, dst)?;
    // Popped, pushed, then the source's emptiness is looked at (so that a
    // rotation of a one-element list keeps its key), as Redis's LMOVE.
    let Some(Value::List(l)) = srv.dbs[db].get_mut(src).map(|e| &mut e.value) else {
        return Ok(None);
    };
    let Some(v) = (match from {
        End::Left => l.pop_front(),
        End::Right => l.pop_back(),
    }) else {
        return Ok(None);
    };
    if srv.dbs[db].get(dst).is_none() {
        srv.dbs[db].set(dst, Value::List(Default::default()), false);
        notify::new_key(srv, dst, db);
    }
    if let Some(Value::List(l)) = srv.dbs[db].get_mut(dst).map(|e| &mut e.value) {
        match to {
            End::Left => l.push_front(v.clone()),
            End::Right => l.push_back(v.clone()),
        }
    }
    srv.signal_modified(db, dst);
    srv.signal_key_ready(db, dst);
    notify::notify(srv, notify::LIST, push_event(to), dst, db);
    changed_event(srv, db, src, pop_event(from));
    srv.add_dirty(2);
    Ok(Some(v))
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT: atomically pops from one end of `source`
/// and pushes to one end of `destination`. Replies with the moved element, or nil if the
/// source is missing. A destination of the wrong type is an error and nothing is popped.
fn lmove(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let (Some(from), Some(to)) = (parse_end(&argv[3]), parse_end(&argv[4])) else {
        c.reply.error(errors::SYNTAX);
        return;
    };
    match move_one(srv, c, &argv[1], &argv[2], from, to) {
        Err(()) => {}
        Ok(None) => c.reply.null(),
        Ok(Some(v)) => c.reply.bulk(&v),
    }
}

/// RPOPLPUSH source destination: LMOVE source destination RIGHT LEFT.
fn rpoplpush(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match move_one(srv, c, &argv[1], &argv[2], End::Right, End::Left) {
        Err(()) => {}
        Ok(None) => c.reply.null(),
        Ok(Some(v)) => c.reply.bulk(&v),
    }
}

/// Pops from the first non-empty list of `keys`; replies [key, [items]] and
/// propagates LPOP/RPOP key count. Returns false when all lists were empty.
fn mpop_serve(
    srv: &mut Server,
    c: &mut Client,
    keys: &[Vec<u8>],
    end: End,
    count: usize,
) -> Result<bool, ()> {
    let db = c.db;
    for k in keys {
        if list_mut(srv, c, k)?.is_none() {
            continue;
        }
        let items = pop_n(srv, db, k, end, count);
        srv.add_dirty(items.len() as u64);
        let op: &[u8] = if end == End::Left { b"LPOP" } else { b"RPOP" };
        srv.propagate_instead(
            db,
            vec![vec![
                op.to_vec(),
                k.clone(),
                items.len().to_string().into_bytes(),
            ]],
        );
        c.reply.array(2);
        c.reply.bulk(k);
        c.reply.array(items.len());
        for i in &items {
            c.reply.bulk(i);
        }
        return Ok(true);
    }
    Ok(false)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: pops up to `count` elements (1 by
/// default) from the first non-empty list. Replies with `[key, [elements]]`, or a null
/// array if all lists are empty. Propagated as LPOP/RPOP key count.
fn lmpop(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some((keys, end, count)) = parse_mpop(c, argv, 1, parse_end) else {
        return;
    };
    if let Ok(false) = mpop_serve(srv, c, &keys, end, count) {
        c.reply.null_array()
    }
}

/// Shared body of BLPOP and BRPOP: pops one element from the first non-empty list, replying
/// `[key, element]` and propagating a plain LPOP/RPOP key. If every list is empty it blocks
/// on all the keys (the command is run again when one gets data), or, inside MULTI/EXEC or
/// for our master's stream, replies with a null array at once. A non-list key is a
/// WRONGTYPE error even if an earlier key is merely missing.
fn bpop_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], end: End) {
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
        match list_mut(srv, c, k) {
            Err(()) => return,
            Ok(None) => continue,
            Ok(Some(_)) => {
                let v = pop_n(srv, db, k, end, 1).pop().expect("non-empty");
                srv.add_dirty(1);
                let op: &[u8] = if end == End::Left { b"LPOP" } else { b"RPOP" };
                srv.propagate_instead(db, vec![vec![op.to_vec(), k.clone()]]);
                c.reply.array(2);
                c.reply.bulk(k);
                c.reply.bulk(&v);
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

/// BLPOP key [key ...] timeout: blocking LPOP over several keys (timeout in seconds, 0 =
/// forever).
fn blpop(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    bpop_generic(srv, c, argv, End::Left)
}
/// BRPOP key [key ...] timeout: blocking RPOP over several keys (timeout in seconds, 0 =
/// forever).
fn brpop(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    bpop_generic(srv, c, argv, End::Right)
}

/// Shared body of BLMOVE and BRPOPLPUSH: moves an element like LMOVE and replies with it,
/// propagating LMOVE with explicit ends. If the source is empty it blocks on the source key,
/// or replies with a null array when it cannot block (MULTI/EXEC, master stream).
fn bmove_generic(
    srv: &mut Server,
    c: &mut Client,
    argv: &[Vec<u8>],
    from: End,
    to: End,
    timeout_arg: &[u8],
) {
    let timeout = match parse_timeout(timeout_arg) {
        Ok(t) => t,
        Err(e) => {
            c.reply.error(&e);
            return;
        }
    };
    let db = c.db;
    match move_one(srv, c, &argv[1], &argv[2], from, to) {
        Err(()) => {}
        Ok(Some(v)) => {
            srv.propagate_instead(
                db,
                vec![vec![
                    b"LMOVE".to_vec(),
                    argv[1].clone(),
                    argv[2].clone(),
                    end_name(from).to_vec(),
                    end_name(to).to_vec(),
                ]],
            );
            c.reply.bulk(&v);
        }
        Ok(None) => {
            if cannot_block(srv, c) {
                c.reply.null_array();
            } else {
                block_on_keys(srv, c, vec![argv[1].clone()], timeout, argv);
            }
        }
    }
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout: blocking LMOVE. The ends are
/// checked before the timeout.
fn blmove(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let (Some(from), Some(to)) = (parse_end(&argv[3]), parse_end(&argv[4])) else {
        c.reply.error(errors::SYNTAX);
        return;
    };
    let t = argv[5].clone();
    bmove_generic(srv, c, argv, from, to, &t)
}

/// BRPOPLPUSH source destination timeout: blocking RPOPLPUSH.
fn brpoplpush(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let t = argv[3].clone();
    bmove_generic(srv, c, argv, End::Right, End::Left, &t)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: blocking LMPOP. Replies
/// `[key, [elements]]`, blocks on all keys if they are empty, or replies with a null array
/// when it cannot block. Propagated as LPOP/RPOP key count.
fn blmpop(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let timeout = match parse_timeout(&argv[1]) {
        Ok(t) => t,
        Err(e) => {
            c.reply.error(&e);
            return;
        }
    };
    let Some((keys, end, count)) = parse_mpop(c, argv, 2, parse_end) else {
        return;
    };
    match mpop_serve(srv, c, &keys, end, count) {
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
