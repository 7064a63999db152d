//! The RDB reader: loads what Redis 7.0 and 7.2 write (versions 1 to 11).
//!
//! It reads from a stream (a file or a replication socket) and builds fresh
//! databases; nothing in the server changes until the whole file was read and its
//! checksum verified, so a bad file never leaves half a dataset behind. Lengths in
//! the file are never trusted for allocation: a corrupt length fails with
//! "truncated" rather than exhausting memory.
use super::format::*;
use super::listpack::{self, Item};
use super::{crc64, lzf, Loaded, RdbError, ReplInfo};
use crate::server::keyspace::db::{Entry, NO_EXPIRE};
use crate::server::keyspace::Db;
use crate::server::types::{Hash, List, Set, Value, ZSet};
use std::io::Read;

/// Limits on preallocation driven by lengths read from the file.
const MAX_PREALLOC: usize = 1 << 16;

pub(super) struct Input<'a> {
    r: &'a mut dyn Read,
    crc: u64,
    pos: u64,
}

/// Reads one RDB string (length-prefixed, integer-encoded or LZF) from the front
/// of `r`, advancing it (FUNCTION RESTORE payloads).
pub fn read_string_from(r: &mut &[u8]) -> Result<Vec<u8>, RdbError> {
    let mut inp = Input { r, crc: 0, pos: 0 };
    inp.string()
}

fn err(msg: impl Into<String>) -> RdbError {
    RdbError(msg.into())
}

impl Input<'_> {
    pub(super) fn exact(&mut self, buf: &mut [u8]) -> Result<(), RdbError> {
        let mut done = 0;
        while done < buf.len() {
            match self.r.read(&mut buf[done..]) {
                Ok(0) => {
                    return Err(err(format!(
                        "unexpected end of file at byte {} (the file is truncated)",
                        self.pos + done as u64
                    )))
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(err(format!(
                        "read error at byte {}: {}",
                        self.pos + done as u64,
                        e
                    )))
                }
            }
        }
        self.crc = crc64::update(self.crc, buf);
        self.pos += buf.len() as u64;
        Ok(())
    }
    pub(super) fn bytes(&mut self, n: u64) -> Result<Vec<u8>, RdbError> {
        // Read straight into the result, growing it as data arrives instead of
        // trusting `n` (a corrupt length must fail as truncation, not allocate).
        let mut out = Vec::new();
        let mut left = n;
        while left > 0 {
            let k = (left as usize).min(MAX_PREALLOC.max(out.len()));
            let at = out.len();
            out.resize(at + k, 0);
            self.exact(&mut out[at..])?;
            left -= k as u64;
        }
        Ok(out)
    }
    pub(super) fn byte(&mut self) -> Result<u8, RdbError> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }
    pub(super) fn fixed<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut b = [0u8; N];
        self.exact(&mut b)?;
        Ok(b)
    }
    /// A length, or (None, encoding) for the special string encodings.
    pub(super) fn len_or_enc(&mut self) -> Result<(Option<u64>, u8), RdbError> {
        let b = self.byte()?;
        match b >> 6 {
            0 => Ok((Some((b & 0x3f) as u64), 0)),
            1 => Ok((Some((((b & 0x3f) as u64) << 8) | self.byte()? as u64), 0)),
            2 => match b {
                LEN_32BIT => Ok((Some(u32::from_be_bytes(self.fixed()?) as u64), 0)),
                LEN_64BIT => Ok((Some(u64::from_be_bytes(self.fixed()?)), 0)),
                _ => Err(err(format!(
                    "bad length encoding 0x{:02x} at byte {}",
                    b,
                    self.pos - 1
                ))),
            },
            _ => Ok((None, b & 0x3f)),
        }
    }
    pub(super) fn len(&mut self) -> Result<u64, RdbError> {
        match self.len_or_enc()? {
            (Some(n), _) => Ok(n),
            (None, _) => Err(err(format!("expected a length at byte {}", self.pos - 1))),
        }
    }
    pub(super) fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        match self.len_or_enc()? {
            (Some(n), _) => self.bytes(n),
            (None, ENC_INT8) => Ok((self.byte()? as i8).to_string().into_bytes()),
            (None, ENC_INT16) => Ok(i16::from_le_bytes(self.fixed()?).to_string().into_bytes()),
            (None, ENC_INT32) => Ok(i32::from_le_bytes(self.fixed()?).to_string().into_bytes()),
            (None, ENC_LZF) => {
                let clen = self.len()?;
                let len = self.len()?;
                let at = self.pos;
                let c = self.bytes(clen)?;
                if len > (clen.saturating_mul(256)).max(1 << 10) {
                    return Err(err(format!(
                        "LZF string at byte {} claims an impossible length {}",
                        at, len
                    )));
                }
                lzf::decompress(&c, len as usize)
                    .ok_or_else(|| err(format!("corrupt LZF string at byte {}", at)))
            }
            (None, e) => Err(err(format!(
                "unknown string encoding {} at byte {}",
                e,
                self.pos - 1
            ))),
        }
    }
    /// A double in the old ZSET (type 3) text form.
    fn text_double(&mut self) -> Result<f64, RdbError> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let b = self.bytes(n as u64)?;
                std::str::from_utf8(&b)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| err(format!("bad double value at byte {}", self.pos)))
            }
        }
    }
    /// Skips a module value serialised with the generic opcodes (MODULE_AUX).
    fn skip_module_value(&mut self) -> Result<(), RdbError> {
        loop {
            match self.len()? {
                0 => return Ok(()),
                1 | 2 => {
                    self.len()?;
                }
                3 => {
                    self.fixed::<4>()?;
                }
                4 => {
                    self.fixed::<8>()?;
                }
                5 => {
                    self.string()?;
                }
                op => {
                    return Err(err(format!(
                        "unknown module opcode {} at byte {}",
                        op, self.pos
                    )))
                }
            }
        }
    }
}

/// Decodes a listpack blob, naming the key when it is corrupt.
fn decode_lp(blob: &[u8], key: &[u8]) -> Result<Vec<Item>, RdbError> {
    listpack::decode(blob).map_err(|e| {
        err(format!(
            "corrupt listpack in key '{}': {}",
            String::from_utf8_lossy(key),
            e
        ))
    })
}

fn item_score(item: Item, key: &[u8]) -> Result<f64, RdbError> {
    let s = match item {
        Item::Int(i) => return Ok(i as f64),
        Item::Str(s) => s,
    };
    crate::server::util::parse_f64(&s).ok_or_else(|| {
        err(format!(
            "bad score in sorted set '{}'",
            String::from_utf8_lossy(key)
        ))
    })
}

fn no_nan(s: f64, key: &[u8]) -> Result<f64, RdbError> {
    if s.is_nan() {
        Err(err(format!(
            "NaN score in sorted set '{}'",
            String::from_utf8_lossy(key)
        )))
    } else {
        Ok(s)
    }
}

/// Reads one value of type `t`. Ok(None) for an empty collection (Redis 7
/// skips such keys).
fn read_value(inp: &mut Input, t: u8, key: &[u8]) -> Result<Option<Value>, RdbError> {
    let v = match t {
        TYPE_STRING => Value::Str(inp.string()?),
        TYPE_LIST => {
            let n = inp.len()?;
            let mut l = List::new();
            for _ in 0..n {
                l.push_back(inp.string()?);
            }
            Value::List(l)
        }
        TYPE_LIST_QUICKLIST_2 => {
            let nodes = inp.len()?;
            let mut l = List::new();
            for _ in 0..nodes {
                let container = inp.len()?;
                let blob = inp.string()?;
                match container {
                    QUICKLIST_NODE_PLAIN => l.push_back(blob),
                    QUICKLIST_NODE_PACKED => {
                        for it in decode_lp(&blob, key)? {
                            l.push_back(it.into_bytes());
                        }
                    }
                    c => {
                        return Err(err(format!(
                            "unknown quicklist container {} in key '{}'",
                            c,
                            String::from_utf8_lossy(key)
                        )))
                    }
                }
            }
            Value::List(l)
        }
        TYPE_SET => {
            let n = inp.len()?;
            let mut s = Set::new();
            for _ in 0..n {
                s.insert(&inp.string()?);
            }
            Value::Set(s)
        }
        TYPE_SET_INTSET => {
            let blob = inp.string()?;
            let bad = || {
                err(format!(
                    "corrupt intset in key '{}'",
                    String::from_utf8_lossy(key)
                ))
            };
            if blob.len() < 8 {
                return Err(bad());
            }
            let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
            let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
            if !matches!(width, 2 | 4 | 8) || blob.len() != 8 + width * count {
                return Err(bad());
            }
            let mut s = Set::new();
            for chunk in blob[8..].chunks(width) {
                let v = match width {
                    2 => i16::from_le_bytes([chunk[0], chunk[1]]) as i64,
                    4 => i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as i64,
                    _ => i64::from_le_bytes(chunk.try_into().map_err(|_| bad())?),
                };
                s.insert(itoa::Buffer::new().format(v).as_bytes());
            }
            Value::Set(s)
        }
        TYPE_SET_LISTPACK => {
            let blob = inp.string()?;
            let mut s = Set::new();
            for it in decode_lp(&blob, key)? {
                s.insert(&it.into_bytes());
            }
            Value::Set(s)
        }
        TYPE_HASH => {
            let n = inp.len()?;
            let mut h = Hash::new();
            for _ in 0..n {
                let f = inp.string()?;
                let v = inp.string()?;
                let (entries, value) = super::limits::hash();
                h.insert_with(&f, v, entries, value);
            }
            Value::Hash(h)
        }
        TYPE_HASH_LISTPACK => {
            let blob = inp.string()?;
            let items = decode_lp(&blob, key)?;
            if items.len() % 2 != 0 {
                return Err(err(format!(
                    "hash listpack with an odd number of items in key '{}'",
                    String::from_utf8_lossy(key)
                )));
            }
            let mut h = Hash::new();
            let mut it = items.into_iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                let (entries, value) = super::limits::hash();
                h.insert_with(&f.into_bytes(), v.into_bytes(), entries, value);
            }
            Value::Hash(h)
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = inp.len()?;
            let mut z = ZSet::new();
            for _ in 0..n {
                let m = inp.string()?;
                let s = if t == TYPE_ZSET_2 {
                    f64::from_le_bytes(inp.fixed()?)
                } else {
                    inp.text_double()?
                };
                let (entries, value) = super::limits::zset();
                z.insert_with(&m, no_nan(s, key)?, entries, value);
            }
            Value::ZSet(z)
        }
        TYPE_ZSET_LISTPACK => {
            let blob = inp.string()?;
            let items = decode_lp(&blob, key)?;
            if items.len() % 2 != 0 {
                return Err(err(format!(
                    "sorted set listpack with an odd number of items in key '{}'",
                    String::from_utf8_lossy(key)
                )));
            }
            let mut z = ZSet::new();
            let mut it = items.into_iter();
            while let (Some(m), Some(s)) = (it.next(), it.next()) {
                let s = item_score(s, key)?;
                let (entries, value) = super::limits::zset();
                z.insert_with(&m.into_bytes(), s, entries, value);
            }
            Value::ZSet(z)
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
            // Redis keeps empty streams: they are never skipped.
            return Ok(Some(Value::Stream(Box::new(
                super::stream_format::read_stream(inp, t, key)?,
            ))));
        }
        other => {
            return Err(err(format!(
                "key '{}' holds a {} (RDB type {}), which tripod-server cannot load",
                String::from_utf8_lossy(key),
                type_name(other),
                other
            )))
        }
    };
    let empty = match &v {
        Value::Str(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        Value::Stream(_) => false,
    };
    Ok(if empty { None } else { Some(v) })
}

fn is_object_type(t: u8) -> bool {
    matches!(t, 0..=7 | 9..=21)
}

/// Reads a whole RDB stream into `ndbs` fresh databases. Keys whose expiry is
/// before `drop_expired_before` (ms) are skipped, as a master does on load.
pub fn read(
    r: &mut dyn Read,
    ndbs: usize,
    drop_expired_before: Option<i64>,
) -> Result<Loaded, RdbError> {
    let mut inp = Input { r, crc: 0, pos: 0 };
    let magic = inp.fixed::<9>()?;
    if &magic[..5] != b"REDIS" {
        return Err(err(
            "wrong signature trying to load DB from file (not an RDB file)",
        ));
    }
    let version: u32 = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| err("bad RDB version field"))?;
    if !(1..=MAX_READ_VERSION).contains(&version) {
        return Err(err(format!("can't handle RDB format version {}", version)));
    }
    let mut loaded = Loaded {
        dbs: (0..ndbs).map(|_| Db::new()).collect(),
        ..Default::default()
    };
    let mut db = 0usize;
    let mut expire = NO_EXPIRE;
    // Every loaded key gets the load's time as its access time (one clock read).
    let lru = crate::server::keyspace::db::lru_clock();
    let (mut replid, mut offset, mut stream_db) = (None, None, 0i64);
    loop {
        let op = inp.byte()?;
        match op {
            OPCODE_EXPIRETIME => {
                expire = u32::from_le_bytes(inp.fixed()?) as i64 * 1000;
                continue;
            }
            OPCODE_EXPIRETIME_MS => {
                expire = i64::from_le_bytes(inp.fixed()?);
                continue;
            }
            OPCODE_FREQ => {
                inp.byte()?;
                continue;
            }
            OPCODE_IDLE => {
                inp.len()?;
                continue;
            }
            OPCODE_SELECTDB => {
                let d = inp.len()?;
                if d >= ndbs as u64 {
                    return Err(err(format!("the file uses database {}, but this server is configured with {} databases (raise `databases`)", d, ndbs)));
                }
                db = d as usize;
                continue;
            }
            OPCODE_RESIZEDB => {
                // Sizes from the file: trusted only up to a bound, so that a damaged
                // or hostile stream cannot make us allocate a huge table up front.
                const MAX_PRESIZE: u64 = 1 << 22;
                let keys = inp.len()?.min(MAX_PRESIZE) as usize;
                let expires = inp.len()?.min(MAX_PRESIZE) as usize;
                loaded.dbs[db].keys.reserve(keys);
                loaded.dbs[db].expires.reserve(expires);
                continue;
            }
            OPCODE_AUX => {
                let k = inp.string()?;
                let v = inp.string()?;
                let text = String::from_utf8_lossy(&v).to_string();
                match &k[..] {
                    b"repl-id" => replid = Some(text),
                    b"repl-offset" => offset = text.parse::<i64>().ok(),
                    b"repl-stream-db" => stream_db = text.parse().unwrap_or(0),
                    _ => {}
                }
                continue;
            }
            OPCODE_MODULE_AUX => {
                inp.len()?;
                inp.skip_module_value()?;
                continue;
            }
            OPCODE_FUNCTION2 => {
                let code = inp.string()?;
                loaded.functions.push(code);
                continue;
            }
            OPCODE_FUNCTION_PRE_GA => {
                return Err(err(
                    "the RDB file holds functions in a pre-release format that cannot be loaded",
                ))
            }
            OPCODE_EOF => break,
            _ => {}
        }
        // A key/value pair of type `op`.
        if !is_object_type(op) {
            return Err(err(format!(
                "unknown RDB value type or opcode {} at byte {}",
                op,
                inp.pos - 1
            )));
        }
        let key = inp.string()?;
        let value = read_value(&mut inp, op, &key)?;
        super::delay::after_key_loaded();
        let when = std::mem::replace(&mut expire, NO_EXPIRE);
        let Some(value) = value else { continue };
        if drop_expired_before.is_some_and(|now| when != NO_EXPIRE && when < now) {
            loaded.keys_expired += 1;
            continue;
        }
        let entry = Entry {
            value,
            expire: when,
            lru,
            raw: false,
        };
        let key = key.into_boxed_slice();
        if when != NO_EXPIRE {
            // A duplicate is reported just below, by the keys table.
            let _ = loaded.dbs[db].expires.insert_new(key.clone(), ());
        }
        if let Err((key, _)) = loaded.dbs[db].keys.insert_new(key, entry) {
            return Err(err(format!(
                "duplicate key '{}' in database {}",
                String::from_utf8_lossy(&key),
                db
            )));
        }
        loaded.keys_loaded += 1;
    }
    if version >= 5 {
        let computed = inp.crc;
        let stored = u64::from_le_bytes(inp.fixed()?);
        if stored != 0 && stored != computed {
            return Err(err(format!(
                "wrong RDB checksum: expected {:016x}, got {:016x}",
                stored, computed
            )));
        }
    }
    if let (Some(replid), Some(offset)) = (replid, offset) {
        loaded.repl = Some(ReplInfo {
            replid,
            offset,
            stream_db,
        });
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::rdb::writer::RdbWriter;

    /// Builds an RDB file of the given version from raw pieces, with its CRC.
    fn file(version: u32, body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = format!("REDIS{:04}", version).into_bytes();
        body(&mut out);
        out.push(OPCODE_EOF);
        let crc = crc64::update(0, &out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    fn enc_len(n: u64) -> Vec<u8> {
        let mut v = Vec::new();
        RdbWriter::new(&mut v, false).len(n).unwrap();
        v
    }

    fn enc_str(s: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        RdbWriter::new(&mut v, false).string(s).unwrap();
        v
    }

    fn load(bytes: &[u8]) -> Result<Loaded, RdbError> {
        read(&mut &bytes[..], 16, None)
    }

    #[test]
    fn reads_redis_7_2_set_listpacks_at_version_11() {
        let mut lp = listpack::Writer::new();
        lp.push(b"a");
        lp.push(b"12");
        let bytes = file(11, |o| {
            o.push(TYPE_SET_LISTPACK);
            o.extend(enc_str(b"s"));
            o.extend(enc_str(&lp.finish()));
        });
        let l = load(&bytes).unwrap();
        match &l.dbs[0].get(b"s").unwrap().value {
            Value::Set(s) => {
                assert!(s.contains(b"a") && s.contains(b"12") && s.len() == 2);
            }
            v => panic!("{:?}", v),
        }
    }

    #[test]
    fn reads_old_text_scores_module_aux_and_resizedb() {
        let bytes = file(9, |o| {
            // MODULE_AUX: module id, then opcodes: uint 5, string "x", EOF.
            o.push(OPCODE_MODULE_AUX);
            o.extend(enc_len(12345));
            o.extend(enc_len(2));
            o.extend(enc_len(5));
            o.extend(enc_len(5));
            o.extend(enc_str(b"x"));
            o.extend(enc_len(0));
            o.push(OPCODE_SELECTDB);
            o.extend(enc_len(2));
            o.push(OPCODE_RESIZEDB);
            o.extend(enc_len(1));
            o.extend(enc_len(0));
            o.push(OPCODE_IDLE);
            o.extend(enc_len(100));
            o.push(TYPE_ZSET);
            o.extend(enc_str(b"z"));
            o.extend(enc_len(3));
            o.extend(enc_str(b"a"));
            o.push(3);
            o.extend_from_slice(b"1.5");
            o.extend(enc_str(b"b"));
            o.push(254);
            o.extend(enc_str(b"c"));
            o.push(255);
        });
        let l = load(&bytes).unwrap();
        match &l.dbs[2].get(b"z").unwrap().value {
            Value::ZSet(z) => {
                assert_eq!(z.score(b"a"), Some(1.5));
                assert_eq!(z.score(b"b"), Some(f64::INFINITY));
                assert_eq!(z.score(b"c"), Some(f64::NEG_INFINITY));
            }
            v => panic!("{:?}", v),
        }
    }

    #[test]
    fn types_it_cannot_hold_are_errors_naming_the_key() {
        for (t, name) in [(TYPE_MODULE_2, "module value"), (TYPE_HASH_ZIPLIST, "hash")] {
            let bytes = file(10, |o| {
                o.push(t);
                o.extend(enc_str(b"mykey"));
                o.extend(enc_str(b"whatever"));
            });
            let e = load(&bytes).unwrap_err().0;
            assert!(e.contains("'mykey'") && e.contains(name), "{}", e);
        }
    }

    #[test]
    fn versions_and_databases_out_of_range_are_errors() {
        let e = load(&file(12, |_| {})).unwrap_err().0;
        assert!(e.contains("version 12"), "{}", e);
        let e = load(&file(10, |o| {
            o.push(OPCODE_SELECTDB);
            o.extend(enc_len(16));
        }))
        .unwrap_err()
        .0;
        assert!(e.contains("database 16"), "{}", e);
        let e = load(&file(10, |o| {
            for _ in 0..2 {
                o.push(TYPE_STRING);
                o.extend(enc_str(b"dup"));
                o.extend(enc_str(b"v"));
            }
        }))
        .unwrap_err()
        .0;
        assert!(e.contains("duplicate key 'dup'"), "{}", e);
    }

    #[test]
    fn absurd_lengths_fail_as_truncation_not_allocation() {
        let bytes = file(10, |o| {
            o.push(TYPE_STRING);
            o.extend(enc_str(b"k"));
            o.push(LEN_64BIT);
            o.extend_from_slice(&u64::MAX.to_be_bytes());
        });
        let e = load(&bytes).unwrap_err().0;
        assert!(e.contains("truncated"), "{}", e);
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::server::keyspace::db::Entry;
    use crate::server::types::{Hash, List, Set, ZSet};

    /// A small dataset of every type, written by our writer.
    fn sample_file() -> Vec<u8> {
        let mut db = Db::new();
        db.insert_entry(
            b"s",
            Entry::new(Value::Str(b"hello world hello world hello world".to_vec())),
        );
        db.insert_entry(b"i", Entry::new(Value::Str(b"12345".to_vec())));
        let mut l = List::new();
        for i in 0..50 {
            l.push_back(format!("item{}", i).into_bytes());
        }
        db.insert_entry(b"l", Entry::new(Value::List(l)));
        let mut s = Set::new();
        s.insert(b"1");
        s.insert(b"2");
        db.insert_entry(b"set", Entry::new(Value::Set(s)));
        let mut h = Hash::new();
        h.insert_with(b"f", b"v".to_vec(), 128, 64);
        db.insert_entry(b"h", Entry::new(Value::Hash(h)));
        let mut z = ZSet::new();
        z.insert(b"m", 1.5);
        let mut e = Entry::new(Value::ZSet(z));
        e.expire = 4_000_000_000_000;
        db.insert_entry(b"z", e);
        let mut out = Vec::new();
        let meta = crate::server::rdb::writer::Meta {
            functions: Vec::new(),
            repl: None,
            compress: true,
            checksum: false,
            used_mem: 0,
            ctime: 0,
            aof_base: false,
        };
        crate::server::rdb::writer::write(&[db], &mut out, &meta).unwrap();
        out
    }

    #[test]
    fn mutated_files_never_panic() {
        let good = sample_file();
        assert!(read(&mut &good[..], 16, None).is_ok());
        let mut rng = crate::server::util::Rng::new();
        for round in 0..5000 {
            let mut bad = good.clone();
            match round % 3 {
                0 => {
                    let cut = rng.below(bad.len() as u64) as usize;
                    bad.truncate(cut);
                }
                1 => {
                    for _ in 0..1 + rng.below(4) {
                        let i = rng.below(bad.len() as u64) as usize;
                        bad[i] = rng.next_u64() as u8;
                    }
                }
                _ => {
                    let i = rng.below(bad.len() as u64) as usize;
                    bad.insert(i, rng.next_u64() as u8);
                }
            }
            // Checksum disabled in the sample, so the parser itself sees the damage.
            let _ = read(&mut &bad[..], 16, None);
        }
    }
}

/// Reads one value as DUMP serializes it (RESTORE's rdbLoadObjectType plus
/// rdbLoadObject): the RDB type byte and the value, any encoding an RDB file
/// of a supported version may hold. Errors for an unknown or truncated value
/// and for an empty collection (Redis refuses to restore those too).
pub fn read_object(bytes: &[u8], key: &[u8]) -> Result<Value, RdbError> {
    let mut r: &[u8] = bytes;
    let mut inp = Input {
        r: &mut r,
        crc: 0,
        pos: 0,
    };
    let t = inp.byte()?;
    if !is_object_type(t) {
        return Err(err(format!("unknown object type {t}")));
    }
    read_value(&mut inp, t, key)?.ok_or_else(|| err("empty collection"))
}
