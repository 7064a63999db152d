//! String commands, with Redis 7.0's options, replies and error texts (the bit
//! commands in `bits`, BITOP and BITFIELD in `bitops`).
mod bitops;
mod bits;
mod lcs;

use super::*;
use crate::server::client::Client;
use crate::server::notify;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::{Value, WRONGTYPE};
use crate::server::util::{now_ms, parse_f64, parse_i64};
use bitops::*;
use bits::*;

pub static COMMANDS: &[Command] = &[
    Command::new("get", get)
        .arity(2)
        .group("string")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("set", set)
        .arity(-3)
        .group("string")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("setnx", setnx)
        .arity(3)
        .group("string")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("setex", setex)
        .arity(4)
        .group("string")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("psetex", psetex)
        .arity(4)
        .group("string")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("getset", getset)
        .arity(3)
        .group("string")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("getdel", getdel)
        .arity(2)
        .group("string")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("getex", getex)
        .arity(-2)
        .group("string")
        .flags(WRITE | FAST)
        .keys(1, 1, 1),
    Command::new("mget", mget)
        .arity(-2)
        .group("string")
        .flags(READONLY | FAST)
        .keys(1, -1, 1),
    Command::new("mset", mset)
        .arity(-3)
        .group("string")
        .flags(WRITE | DENYOOM)
        .keys(1, -1, 2),
    Command::new("msetnx", msetnx)
        .arity(-3)
        .group("string")
        .flags(WRITE | DENYOOM)
        .keys(1, -1, 2),
    Command::new("append", append)
        .arity(3)
        .group("string")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("strlen", strlen)
        .arity(2)
        .group("string")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("lcs", lcs::lcs)
        .arity(-3)
        .group("string")
        .flags(READONLY)
        .keys(1, 2, 1),
    Command::new("getrange", getrange)
        .arity(4)
        .group("string")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("substr", getrange)
        .arity(4)
        .group("string")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("setrange", setrange)
        .arity(4)
        .group("string")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("incr", incr)
        .arity(2)
        .group("string")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("decr", decr)
        .arity(2)
        .group("string")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("incrby", incrby)
        .arity(3)
        .group("string")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("decrby", decrby)
        .arity(3)
        .group("string")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("incrbyfloat", incrbyfloat)
        .arity(3)
        .group("string")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("setbit", setbit)
        .arity(4)
        .group("bitmap")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("getbit", getbit)
        .arity(3)
        .group("bitmap")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
    Command::new("bitcount", bitcount)
        .arity(-2)
        .group("bitmap")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("bitpos", bitpos)
        .arity(-3)
        .group("bitmap")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("bitop", bitop)
        .arity(-4)
        .group("bitmap")
        .flags(WRITE | DENYOOM)
        .keys(2, -1, 1),
    Command::new("bitfield", bitfield)
        .arity(-2)
        .group("bitmap")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("bitfield_ro", bitfield_ro)
        .arity(-2)
        .group("bitmap")
        .flags(READONLY | FAST)
        .keys(1, 1, 1),
];

/// Reads a string key: Ok(None) when missing, Err(()) after replying WRONGTYPE.
fn read_str<'a>(
    srv: &'a mut Server,
    c: &mut Client,
    key: &[u8],
) -> Result<Option<&'a Vec<u8>>, ()> {
    match srv.lookup_read(c, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(Some(s)),
            _ => {
                c.reply.error(WRONGTYPE);
                Err(())
            }
        },
    }
}

/// GET key: replies with the string value, nil if the key is missing, WRONGTYPE otherwise.
fn get(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match srv.lookup_read(c, &argv[1]) {
        None => c.reply.null(),
        Some(e) => match &e.value {
            Value::Str(s) => c.reply.bulk(s),
            _ => c.reply.error(WRONGTYPE),
        },
    }
}

/// SET's parsed options.
#[derive(Default)]
struct SetOpts {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    /// Absolute expiry in ms.
    expire_at: Option<i64>,
}

/// Turns a relative or absolute expire argument into absolute ms, with Redis's
/// validation ("invalid expire time in 'set' command").
pub fn expire_arg_to_abs(
    arg: &[u8],
    unit_ms: bool,
    absolute: bool,
    cmd: &str,
) -> Result<i64, String> {
    let invalid = || format!("ERR invalid expire time in '{}' command", cmd);
    let v = parse_i64(arg).ok_or(errors::NOT_INTEGER)?;
    if v <= 0 {
        return Err(invalid());
    }
    let ms = if unit_ms {
        v
    } else {
        v.checked_mul(1000).ok_or_else(invalid)?
    };
    if absolute {
        Ok(ms)
    } else {
        ms.checked_add(now_ms()).ok_or_else(invalid)
    }
}

/// Parses SET's options after the value: NX|XX, GET, and one of KEEPTTL or EX|PX|EXAT|PXAT
/// time. Conflicting or repeated expiry options, NX with XX, and unknown words are syntax
/// errors; expiry times are validated by `expire_arg_to_abs`.
fn parse_set_opts(argv: &[Vec<u8>]) -> Result<SetOpts, String> {
    let mut o = SetOpts::default();
    let mut i = 3;
    let mut have_expire = false;
    while i < argv.len() {
        let a = argv[i].to_ascii_uppercase();
        let next = argv.get(i + 1);
        match &a[..] {
            b"NX" if !o.xx => o.nx = true,
            b"XX" if !o.nx => o.xx = true,
            b"GET" => o.get = true,
            b"KEEPTTL" if !have_expire => o.keepttl = true,
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if !have_expire && !o.keepttl && next.is_some() => {
                let unit_ms = a == b"PX" || a == b"PXAT";
                let abs = a == b"EXAT" || a == b"PXAT";
                o.expire_at = Some(expire_arg_to_abs(
                    next.expect("checked"),
                    unit_ms,
                    abs,
                    "set",
                )?);
                have_expire = true;
                i += 1;
            }
            _ => return Err(errors::SYNTAX.into()),
        }
        i += 1;
    }
    Ok(o)
}

/// SET key value [NX|XX] [GET] [EX seconds|PX ms|EXAT unix-seconds|PXAT unix-ms|KEEPTTL]:
/// options are parsed (and errors reported) before the key is touched; the rest is in
/// `set_generic`.
fn set(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let opts = match parse_set_opts(argv) {
        Ok(o) => o,
        Err(e) => {
            c.reply.error(&e);
            return;
        }
    };
    set_generic(srv, c, argv, opts);
}

/// Does SET once the options are parsed. Without GET a plain SET overwrites any type and
/// clears the TTL unless KEEPTTL; with GET the old value must be a string (else WRONGTYPE,
/// nothing written). Replies OK, or the old value/nil with GET; nil when the NX/XX
/// condition fails (the old value with GET). A relative expiry is propagated as
/// `SET key value PXAT <abs-ms>` so replicas and the AOF expire the key at the same instant.
fn set_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], o: SetOpts) {
    let key = &argv[1];
    let db = c.db;
    let mut old: Option<Vec<u8>> = None;
    let exists;
    if o.get {
        match srv.lookup_read(c, key) {
            Some(e) => match &e.value {
                Value::Str(s) => {
                    old = Some(s.clone());
                    exists = true;
                }
                _ => {
                    c.reply.error(WRONGTYPE);
                    return;
                }
            },
            None => exists = false,
        }
    } else if o.nx || o.xx || o.keepttl {
        exists = srv.lookup_write(db, key).is_some();
    } else {
        // A plain SET replaces whatever is there, expired or not: no lookup needed.
        exists = false;
    }
    if (o.nx && exists) || (o.xx && !exists) {
        if o.get {
            match old {
                Some(v) => c.reply.bulk(&v),
                None => c.reply.null(),
            }
        } else {
            c.reply.null();
        }
        return;
    }
    srv.set_key(db, key, Value::Str(argv[2].clone()), o.keepttl);
    notify::notify(srv, notify::STRING, "set", key, db);
    if let Some(at) = o.expire_at {
        srv.dbs[db].set_expire(key, at);
        notify::notify(srv, notify::GENERIC, "expire", key, db);
    }
    srv.add_dirty(1);
    if let Some(at) = o.expire_at {
        // Relative times would expire later on a replica: as Redis, any
        // expiry goes out as `SET key value PXAT <abs-ms>` (NX, XX and GET
        // dropped: they were decided here).
        let v = vec![
            b"SET".to_vec(),
            key.clone(),
            argv[2].clone(),
            b"PXAT".to_vec(),
            at.to_string().into_bytes(),
        ];
        srv.propagate_instead(db, vec![v]);
    }
    if o.get {
        match old {
            Some(v) => c.reply.bulk(&v),
            None => c.reply.null(),
        }
    } else {
        c.reply.ok();
    }
}

/// SETNX key value: sets the key only if it does not exist. Replies 1 if set, else 0.
fn setnx(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    if srv.lookup_write(db, &argv[1]).is_some() {
        c.reply.int(0);
        return;
    }
    srv.set_key(db, &argv[1], Value::Str(argv[2].clone()), false);
    notify::notify(srv, notify::STRING, "set", &argv[1], db);
    srv.add_dirty(1);
    c.reply.int(1);
}

/// Shared body of SETEX and PSETEX: the TTL must be a positive integer (Redis's `invalid
/// expire time in '<cmd>' command` otherwise). Overwrites any existing value and replies
/// OK. Propagated as `SET key value PXAT <abs-ms>` for a deterministic expiry on replicas.
fn setex_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], unit_ms: bool, name: &str) {
    let at = match expire_arg_to_abs(&argv[2], unit_ms, false, name) {
        Ok(v) => v,
        Err(e) => {
            c.reply.error(&e);
            return;
        }
    };
    let db = c.db;
    srv.lookup_write(db, &argv[1]);
    srv.set_key(db, &argv[1], Value::Str(argv[3].clone()), false);
    notify::notify(srv, notify::STRING, "set", &argv[1], db);
    srv.dbs[db].set_expire(&argv[1], at);
    notify::notify(srv, notify::GENERIC, "expire", &argv[1], db);
    srv.add_dirty(1);
    srv.propagate_instead(
        db,
        vec![vec![
            b"SET".to_vec(),
            argv[1].clone(),
            argv[3].clone(),
            b"PXAT".to_vec(),
            at.to_string().into_bytes(),
        ]],
    );
    c.reply.ok();
}

/// SETEX key seconds value: SET with an expiry in seconds.
fn setex(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setex_generic(srv, c, argv, false, "setex")
}

/// PSETEX key milliseconds value: SET with an expiry in milliseconds.
fn psetex(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setex_generic(srv, c, argv, true, "psetex")
}

/// GETSET key value: sets the new value (clearing any TTL) and replies with the old one,
/// or nil. A non-string old value is WRONGTYPE and nothing is written.
fn getset(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let old = match read_str(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(v) => v.cloned(),
    };
    srv.set_key(c.db, &argv[1], Value::Str(argv[2].clone()), false);
    notify::notify(srv, notify::STRING, "set", &argv[1], c.db);
    srv.add_dirty(1);
    match old {
        Some(v) => c.reply.bulk(&v),
        None => c.reply.null(),
    }
}

/// GETDEL key: replies with the string value and deletes the key (nil if missing). The
/// deletion is propagated as DEL.
fn getdel(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let old = match read_str(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(v) => v.cloned(),
    };
    match old {
        Some(v) => {
            srv.delete_key(c.db, &argv[1]);
            notify::notify(srv, notify::GENERIC, "del", &argv[1], c.db);
            srv.add_dirty(1);
            srv.propagate_instead(c.db, vec![vec![b"DEL".to_vec(), argv[1].clone()]]);
            c.reply.bulk(&v);
        }
        None => c.reply.null(),
    }
}

/// GETEX key [EX seconds|PX ms|EXAT unix-seconds|PXAT unix-ms|PERSIST]: replies with the
/// string value (nil if missing) and optionally changes its TTL. Options are checked before
/// the key is read. Propagated as PEXPIREAT with the absolute time or as PERSIST; a time
/// already in the past deletes the key on a master and is propagated as DEL. PERSIST on a
/// key without TTL changes (and propagates) nothing.
fn getex(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut expire_at: Option<i64> = None;
    let mut persist = false;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i].to_ascii_uppercase();
        match &a[..] {
            b"PERSIST" if expire_at.is_none() && !persist => persist = true,
            b"EX" | b"PX" | b"EXAT" | b"PXAT"
                if expire_at.is_none() && !persist && i + 1 < argv.len() =>
            {
                let unit_ms = a == b"PX" || a == b"PXAT";
                let abs = a == b"EXAT" || a == b"PXAT";
                match expire_arg_to_abs(&argv[i + 1], unit_ms, abs, "getex") {
                    Ok(v) => expire_at = Some(v),
                    Err(e) => {
                        c.reply.error(&e);
                        return;
                    }
                }
                i += 1;
            }
            _ => {
                c.reply.error(errors::SYNTAX);
                return;
            }
        }
        i += 1;
    }
    let val = match read_str(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply.null();
            return;
        }
        Ok(Some(v)) => v.clone(),
    };
    let db = c.db;
    if let Some(at) = expire_at {
        if at <= now_ms() && !srv.is_replica() {
            srv.delete_key(db, &argv[1]);
            notify::notify(srv, notify::GENERIC, "del", &argv[1], db);
            srv.add_dirty(1);
            srv.propagate_instead(db, vec![vec![b"DEL".to_vec(), argv[1].clone()]]);
        } else {
            srv.dbs[db].set_expire(&argv[1], at);
            srv.signal_modified(db, &argv[1]);
            notify::notify(srv, notify::GENERIC, "expire", &argv[1], db);
            srv.add_dirty(1);
            srv.propagate_instead(
                db,
                vec![vec![
                    b"PEXPIREAT".to_vec(),
                    argv[1].clone(),
                    at.to_string().into_bytes(),
                ]],
            );
        }
    } else if persist && srv.dbs[db].persist(&argv[1]) {
        srv.signal_modified(db, &argv[1]);
        notify::notify(srv, notify::GENERIC, "persist", &argv[1], db);
        srv.add_dirty(1);
        srv.propagate_instead(db, vec![vec![b"PERSIST".to_vec(), argv[1].clone()]]);
    }
    c.reply.bulk(&val);
}

/// MGET key [key ...]: replies with an array of the values, nil for missing keys and for
/// keys that are not strings (no WRONGTYPE, as in Redis).
fn mget(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    c.reply.array(argv.len() - 1);
    for k in &argv[1..] {
        match srv.lookup_read(c, k) {
            Some(e) => match &e.value {
                Value::Str(s) => c.reply.bulk(s),
                _ => c.reply.null(),
            },
            None => c.reply.null(),
        }
    }
}

/// MSET key value [key value ...]: sets every pair, overwriting any type and clearing TTLs.
/// Replies OK; an unpaired argument is an arity error.
fn mset(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len().is_multiple_of(2) {
        c.reply.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            String::from_utf8_lossy(&argv[0]).to_lowercase()
        ));
        return;
    }
    for pair in argv[1..].chunks(2) {
        srv.set_key(c.db, &pair[0], Value::Str(pair[1].clone()), false);
        notify::notify(srv, notify::STRING, "set", &pair[0], c.db);
    }
    srv.add_dirty(((argv.len() - 1) / 2) as u64);
    c.reply.ok();
}

/// MSETNX key value [key value ...]: sets every pair only if none of the keys exists.
/// Replies 1 if all were set, 0 if nothing was.
fn msetnx(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len().is_multiple_of(2) {
        c.reply
            .error("ERR wrong number of arguments for 'msetnx' command");
        return;
    }
    let db = c.db;
    for pair in argv[1..].chunks(2) {
        if srv.lookup_write(db, &pair[0]).is_some() {
            c.reply.int(0);
            return;
        }
    }
    for pair in argv[1..].chunks(2) {
        srv.set_key(db, &pair[0], Value::Str(pair[1].clone()), false);
        notify::notify(srv, notify::STRING, "set", &pair[0], db);
    }
    srv.add_dirty(((argv.len() - 1) / 2) as u64);
    c.reply.int(1);
}

/// Checks that a string of `len` bytes stays within `proto-max-bulk-len`, replying with
/// Redis's "string exceeds maximum allowed size" error otherwise.
fn check_size(srv: &Server, c: &mut Client, len: usize) -> bool {
    // Compared without a cast that could wrap (an offset near i64::MAX).
    if i64::try_from(len).map_or(true, |l| l > srv.config.proto_max_bulk_len) {
        c.reply.error(errors::STRING_TOO_LONG);
        return false;
    }
    true
}

/// APPEND key value: appends to the string (creating it if missing) and replies with the new
/// length. Growing past `proto-max-bulk-len` is an error and leaves the value unchanged.
fn append(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let max = srv.config.proto_max_bulk_len;
    let newlen = match srv.lookup_write(db, &argv[1]) {
        None => {
            srv.set_key(db, &argv[1], Value::Str(argv[2].clone()), false);
            argv[2].len()
        }
        Some(e) => match &mut e.value {
            Value::Str(s) => {
                if (s.len() + argv[2].len()) as i64 > max {
                    c.reply.error(errors::STRING_TOO_LONG);
                    return;
                }
                s.extend_from_slice(&argv[2]);
                e.raw = true;
                let n = s.len();
                srv.signal_modified(db, &argv[1]);
                n
            }
            _ => {
                c.reply.error(WRONGTYPE);
                return;
            }
        },
    };
    notify::notify(srv, notify::STRING, "append", &argv[1], db);
    srv.add_dirty(1);
    c.reply.int(newlen as i64);
}

/// STRLEN key: replies with the length of the string value (0 if missing).
fn strlen(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match read_str(srv, c, &argv[1]) {
        Err(()) => {}
        Ok(v) => {
            let n = v.map(|s| s.len()).unwrap_or(0);
            c.reply.int(n as i64)
        }
    }
}

/// GETRANGE key start end (also SUBSTR): replies with the substring in the inclusive byte
/// range, negative offsets counting from the end and out-of-range ones clamped as in Redis;
/// an empty string for a missing key or an empty range.
fn getrange(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let (Some(mut start), Some(mut end)) = (parse_i64(&argv[2]), parse_i64(&argv[3])) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    let s = match read_str(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply.bulk(b"");
            return;
        }
        Ok(Some(s)) => s,
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        c.reply.bulk(b"");
        return;
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        c.reply.bulk(b"");
        return;
    }
    let out = s[start as usize..=end as usize].to_vec();
    c.reply.bulk(&out);
}

/// SETRANGE key offset value: overwrites bytes starting at `offset`, zero-padding the string
/// (or a new key) as needed, and replies with the resulting length. An empty value changes
/// nothing (and creates no key) and replies with the current length. The offset must be
/// non-negative and the result within `proto-max-bulk-len`.
fn setrange(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(offset) = parse_i64(&argv[2]) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    if offset < 0 {
        c.reply.error("ERR offset is out of range");
        return;
    }
    let db = c.db;
    let val = &argv[3];
    let offset = offset as usize;
    let exists = match srv.lookup_write(db, &argv[1]) {
        None => false,
        Some(e) => match &e.value {
            Value::Str(_) => true,
            _ => {
                c.reply.error(WRONGTYPE);
                return;
            }
        },
    };
    if !exists {
        if val.is_empty() {
            c.reply.int(0);
            return;
        }
        if !check_size(srv, c, offset + val.len()) {
            return;
        }
        let mut s = vec![0u8; offset + val.len()];
        s[offset..].copy_from_slice(val);
        srv.set_key(db, &argv[1], Value::Str(s), false);
        notify::notify(srv, notify::STRING, "setrange", &argv[1], db);
        srv.add_dirty(1);
        c.reply.int((offset + val.len()) as i64);
        return;
    }
    let cur_len = match srv.dbs[db].get(&argv[1]).map(|e| &e.value) {
        Some(Value::Str(s)) => s.len(),
        _ => 0,
    };
    if val.is_empty() {
        c.reply.int(cur_len as i64);
        return;
    }
    if !check_size(srv, c, offset + val.len()) {
        return;
    }
    let Some(e) = srv.dbs[db].get_mut(&argv[1]) else {
        return;
    };
    let Value::Str(s) = &mut e.value else { return };
    if s.len() < offset + val.len() {
        s.resize(offset + val.len(), 0);
    }
    s[offset..offset + val.len()].copy_from_slice(val);
    e.raw = true;
    let n = s.len();
    srv.signal_modified(db, &argv[1]);
    notify::notify(srv, notify::STRING, "setrange", &argv[1], db);
    srv.add_dirty(1);
    c.reply.int(n as i64);
}

/// INCR/DECR/INCRBY/DECRBY: one lookup, and the number is rewritten in place.
fn incr_by(srv: &mut Server, c: &mut Client, key: &[u8], by: i64) {
    let db = c.db;
    let n = match srv.lookup_write(db, key) {
        None => {
            let mut b = itoa::Buffer::new();
            srv.set_key(db, key, Value::Str(b.format(by).as_bytes().to_vec()), false);
            by
        }
        Some(e) => {
            let Value::Str(s) = &mut e.value else {
                c.reply.error(WRONGTYPE);
                return;
            };
            let Some(cur) = parse_i64(s) else {
                c.reply.error(errors::NOT_INTEGER);
                return;
            };
            let Some(n) = cur.checked_add(by) else {
                c.reply.error(errors::INCR_OVERFLOW);
                return;
            };
            let mut b = itoa::Buffer::new();
            s.clear();
            s.extend_from_slice(b.format(n).as_bytes());
            e.raw = false;
            srv.signal_modified(db, key);
            n
        }
    };
    notify::notify(srv, notify::STRING, "incrby", key, db);
    srv.add_dirty(1);
    c.reply.int(n);
}

/// INCR key: adds 1 to the integer value (0 if missing) and replies with the result.
fn incr(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    incr_by(srv, c, &argv[1], 1)
}
/// DECR key: subtracts 1 from the integer value (0 if missing) and replies with the result.
fn decr(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    incr_by(srv, c, &argv[1], -1)
}
/// INCRBY key increment: adds `increment`, replying with the result; a non-integer
/// increment is rejected before the key is read.
fn incrby(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match parse_i64(&argv[2]) {
        Some(v) => incr_by(srv, c, &argv[1], v),
        None => c.reply.error(errors::NOT_INTEGER),
    }
}
/// DECRBY key decrement: subtracts `decrement`, replying with the result. A decrement of
/// i64::MIN cannot be negated and is rejected ("decrement would overflow"), as in Redis.
fn decrby(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match parse_i64(&argv[2]) {
        Some(v) if v != i64::MIN => incr_by(srv, c, &argv[1], -v),
        Some(_) => c.reply.error("ERR decrement would overflow"),
        None => c.reply.error(errors::NOT_INTEGER),
    }
}

/// INCRBYFLOAT key increment: adds a float increment to the value (0 if missing), keeping
/// its TTL, and replies with the new value as a bulk string. Errors on a non-float value or a
/// NaN/infinite result. Propagated as `SET key result KEEPTTL`, so replicas and the AOF
/// don't redo the float arithmetic.
fn incrbyfloat(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    if parse_f64(&argv[2]).is_none() {
        c.reply.error(errors::NOT_FLOAT);
        return;
    }
    let cur: Vec<u8> = match srv.lookup_write(db, &argv[1]) {
        None => b"0".to_vec(),
        Some(e) => match &e.value {
            Value::Str(s) => s.clone(),
            _ => {
                c.reply.error(WRONGTYPE);
                return;
            }
        },
    };
    let s = match crate::server::util::incr_float_str(&cur, &argv[2]) {
        Ok(s) => s,
        Err(crate::server::util::FloatIncrError::NotAFloat) => {
            c.reply.error(errors::NOT_FLOAT);
            return;
        }
        Err(crate::server::util::FloatIncrError::NanOrInfinity) => {
            c.reply.error(errors::INCR_NAN);
            return;
        }
    };
    srv.set_key(db, &argv[1], Value::Str(s.clone()), true);
    notify::notify(srv, notify::STRING, "incrbyfloat", &argv[1], db);
    srv.add_dirty(1);
    // Float formatting may differ across machines: replicate the result.
    srv.propagate_instead(
        db,
        vec![vec![
            b"SET".to_vec(),
            argv[1].clone(),
            s.clone(),
            b"KEEPTTL".to_vec(),
        ]],
    );
    c.reply.bulk(&s);
}
