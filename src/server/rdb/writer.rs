//! The RDB writer: the whole dataset as a REDIS0010 file that Redis 7.0 loads.
//!
//! Encodings follow what Redis itself writes, so files are as compact as Redis's:
//! short integer strings as int8/16/32, strings over 20 bytes LZF-compressed when
//! that saves at least 4 bytes, small hashes and sorted sets as listpacks, lists as
//! quicklist-2 nodes of listpacks, integer sets as intsets.
use super::format::*;
use super::{crc64, listpack, lzf, ReplInfo};
use crate::server::keyspace::db::NO_EXPIRE;
use crate::server::keyspace::Db;
use crate::server::types::{Hash, List, Set, Stream, Value, ZSet};
use std::io::{self, Write};

/// A writer that keeps the running CRC-64 of everything written.
pub struct RdbWriter<'a> {
    w: &'a mut dyn Write,
    crc: u64,
    compress: bool,
}

impl<'a> RdbWriter<'a> {
    /// Writes to `w`, starting the CRC at 0; `compress` enables LZF for strings over
    /// 20 bytes (the rdbcompression setting).
    pub fn new(w: &'a mut dyn Write, compress: bool) -> Self {
        RdbWriter {
            w,
            crc: 0,
            compress,
        }
    }
    fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        self.crc = crc64::update(self.crc, b);
        self.w.write_all(b)
    }
    /// Writes one raw byte (an opcode).
    pub fn byte(&mut self, b: u8) -> io::Result<()> {
        self.raw(&[b])
    }
    /// Writes an RDB length: 6-bit, 14-bit, 32-bit or 64-bit big-endian form,
    /// the smallest that holds `n`.
    pub fn len(&mut self, n: u64) -> io::Result<()> {
        if n < 64 {
            self.byte((LEN_6BIT << 6) | n as u8)
        } else if n < 16384 {
            self.raw(&[(LEN_14BIT << 6) | (n >> 8) as u8, (n & 0xff) as u8])
        } else if n <= u32::MAX as u64 {
            self.byte(LEN_32BIT)?;
            self.raw(&(n as u32).to_be_bytes())
        } else {
            self.byte(LEN_64BIT)?;
            self.raw(&n.to_be_bytes())
        }
    }
    /// A string, with Redis's integer and LZF encodings where they apply.
    pub fn string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11 {
            if let Some(v) = crate::server::util::parse_i64(s) {
                let enc = LEN_ENCVAL << 6;
                if let Ok(v) = i8::try_from(v) {
                    return self.raw(&[enc | ENC_INT8, v as u8]);
                } else if let Ok(v) = i16::try_from(v) {
                    self.byte(enc | ENC_INT16)?;
                    return self.raw(&v.to_le_bytes());
                } else if let Ok(v) = i32::try_from(v) {
                    self.byte(enc | ENC_INT32)?;
                    return self.raw(&v.to_le_bytes());
                }
            }
        }
        if self.compress && s.len() > 20 {
            if let Some(c) = lzf::compress(s, s.len() - 4) {
                self.byte((LEN_ENCVAL << 6) | ENC_LZF)?;
                self.len(c.len() as u64)?;
                self.len(s.len() as u64)?;
                return self.raw(&c);
            }
        }
        self.len(s.len() as u64)?;
        self.raw(s)
    }
    fn aux(&mut self, key: &str, value: &str) -> io::Result<()> {
        self.byte(OPCODE_AUX)?;
        self.string(key.as_bytes())?;
        self.string(value.as_bytes())
    }
    /// Writes the EOF opcode and the checksum (0 when checksums are disabled).
    fn finish(&mut self, checksum: bool) -> io::Result<()> {
        self.byte(OPCODE_EOF)?;
        let crc = if checksum { self.crc } else { 0 };
        self.w.write_all(&crc.to_le_bytes())?;
        self.w.flush()
    }

    fn value(&mut self, v: &Value) -> io::Result<()> {
        match v {
            Value::Str(s) => self.string(s),
            Value::List(l) => self.list(l),
            Value::Set(s) => self.set(s),
            Value::Hash(h) => self.hash(h),
            Value::ZSet(z) => self.zset(z),
            Value::Stream(st) => self.stream(st),
        }
    }
    fn type_of(v: &Value) -> u8 {
        match v {
            Value::Str(_) => TYPE_STRING,
            Value::List(_) => TYPE_LIST_QUICKLIST_2,
            Value::Set(s) if s.ints().is_some() => TYPE_SET_INTSET,
            Value::Set(_) => TYPE_SET,
            Value::Hash(Hash::Small(_)) => TYPE_HASH_LISTPACK,
            Value::Hash(_) => TYPE_HASH,
            Value::ZSet(z) if z.is_small() => TYPE_ZSET_LISTPACK,
            Value::ZSet(_) => TYPE_ZSET_2,
            Value::Stream(_) => TYPE_STREAM_LISTPACKS_2,
        }
    }
    /// Quicklist-2: nodes of listpacks of at most 8 KB (list-max-listpack-size -2).
    fn list(&mut self, l: &List) -> io::Result<()> {
        let mut nodes: Vec<Vec<u8>> = Vec::new();
        let mut cur = listpack::Writer::new();
        let mut in_cur = 0;
        for item in l.iter() {
            if in_cur > 0 && cur.len_bytes() + item.len() + 11 > 8192 {
                nodes.push(std::mem::take(&mut cur).finish());
                in_cur = 0;
            }
            cur.push(item);
            in_cur += 1;
        }
        if in_cur > 0 {
            nodes.push(cur.finish());
        }
        self.len(nodes.len() as u64)?;
        for n in &nodes {
            self.len(QUICKLIST_NODE_PACKED)?;
            self.string(n)?;
        }
        Ok(())
    }
    fn set(&mut self, s: &Set) -> io::Result<()> {
        if let Some(ints) = s.ints() {
            // An intset blob: encoding width, count, then the integers (LE, sorted).
            let width: usize = if ints.iter().all(|&i| i16::try_from(i).is_ok()) {
                2
            } else if ints.iter().all(|&i| i32::try_from(i).is_ok()) {
                4
            } else {
                8
            };
            let mut blob = Vec::with_capacity(8 + width * ints.len());
            blob.extend_from_slice(&(width as u32).to_le_bytes());
            blob.extend_from_slice(&(ints.len() as u32).to_le_bytes());
            for &i in ints {
                blob.extend_from_slice(&i.to_le_bytes()[..width]);
            }
            return self.string(&blob);
        }
        self.len(s.len() as u64)?;
        let mut err = Ok(());
        s.for_each(|m| {
            if err.is_ok() {
                err = self.string(m);
            }
        });
        err
    }
    fn hash(&mut self, h: &Hash) -> io::Result<()> {
        if let Hash::Small(_) = h {
            let mut lp = listpack::Writer::new();
            for (f, v) in h.iter() {
                lp.push(f);
                lp.push(v);
            }
            return self.string(&lp.finish());
        }
        self.len(h.len() as u64)?;
        for (f, v) in h.iter() {
            self.string(f)?;
            self.string(v)?;
        }
        Ok(())
    }
    /// RDB_TYPE_STREAM_LISTPACKS_2, as Redis 7.0's rdbSaveObject writes it.
    fn stream(&mut self, s: &Stream) -> io::Result<()> {
        self.len(s.nodes.len() as u64)?;
        for (master, node) in &s.nodes {
            self.string(&master.encode())?;
            self.string(&super::stream_format::node_to_listpack(*master, node))?;
        }
        for n in [
            s.length,
            s.last_id.ms,
            s.last_id.seq,
            s.first_id.ms,
            s.first_id.seq,
            s.max_deleted.ms,
            s.max_deleted.seq,
            s.entries_added,
        ] {
            self.len(n)?;
        }
        self.len(s.groups.len() as u64)?;
        for (name, g) in &s.groups {
            self.string(name)?;
            self.len(g.last_id.ms)?;
            self.len(g.last_id.seq)?;
            self.len(g.entries_read as u64)?;
            self.len(g.pel.len() as u64)?;
            for (id, nack) in &g.pel {
                self.raw(&id.encode())?;
                self.raw(&nack.delivery_time.to_le_bytes())?;
                self.len(nack.delivery_count)?;
            }
            self.len(g.consumers.len() as u64)?;
            for (cname, c) in &g.consumers {
                self.string(cname)?;
                self.raw(&c.seen_time.to_le_bytes())?;
                self.len(c.pel.len() as u64)?;
                for id in &c.pel {
                    self.raw(&id.encode())?;
                }
            }
        }
        Ok(())
    }
    fn zset(&mut self, z: &ZSet) -> io::Result<()> {
        if z.is_small() {
            let mut lp = listpack::Writer::new();
            for (m, s) in z.iter_all() {
                lp.push(&m);
                push_score(&mut lp, s);
            }
            return self.string(&lp.finish());
        }
        // ZSET_2: binary doubles; highest first, as Redis writes it.
        self.len(z.len() as u64)?;
        let all = z.iter_all();
        for (m, s) in all.iter().rev() {
            self.string(m)?;
            self.raw(&s.to_le_bytes())?;
        }
        Ok(())
    }
}

/// A score in a listpack: an integer when it is one, else its %.17g text.
fn push_score(lp: &mut listpack::Writer, s: f64) {
    if s.fract() == 0.0 && s.abs() < 4.5e15 {
        lp.push_int(s as i64);
    } else {
        lp.push(crate::server::util::format_f64(s).as_bytes());
    }
}

/// Everything a snapshot needs besides the databases.
pub struct Meta<'a> {
    pub repl: Option<&'a ReplInfo>,
    pub compress: bool,
    pub checksum: bool,
    pub used_mem: u64,
    pub ctime: i64,
    /// The code of each function library, saved as FUNCTION2 records.
    pub functions: Vec<Vec<u8>>,
    /// The snapshot is an AOF base file (the `aof-base` aux field is 1).
    pub aof_base: bool,
}

/// Writes a full RDB file of `dbs` to `w`.
pub fn write(dbs: &[Db], w: &mut dyn Write, meta: &Meta) -> io::Result<()> {
    let mut out = RdbWriter::new(w, meta.compress);
    out.raw(format!("REDIS{:04}", WRITE_VERSION).as_bytes())?;
    out.aux("redis-ver", crate::server::REDIS_VERSION)?;
    out.aux("redis-bits", "64")?;
    out.aux("ctime", &meta.ctime.to_string())?;
    out.aux("used-mem", &meta.used_mem.to_string())?;
    if let Some(r) = meta.repl {
        out.aux("repl-stream-db", &r.stream_db.to_string())?;
        out.aux("repl-id", &r.replid)?;
        out.aux("repl-offset", &r.offset.to_string())?;
    }
    out.aux("aof-base", if meta.aof_base { "1" } else { "0" })?;
    for code in &meta.functions {
        out.byte(OPCODE_FUNCTION2)?;
        out.string(code)?;
    }
    for (i, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        out.byte(OPCODE_SELECTDB)?;
        out.len(i as u64)?;
        out.byte(OPCODE_RESIZEDB)?;
        out.len(db.len() as u64)?;
        out.len(db.expires.len() as u64)?;
        for (key, e) in db.keys.iter() {
            if e.expire != NO_EXPIRE {
                out.byte(OPCODE_EXPIRETIME_MS)?;
                out.raw(&e.expire.to_le_bytes())?;
            }
            out.byte(RdbWriter::type_of(&e.value))?;
            out.string(key)?;
            out.value(&e.value)?;
            super::delay::after_key_saved();
        }
    }
    out.finish(meta.checksum)
}

/// One value as DUMP and MIGRATE serialize it (Redis's rdbSaveObjectType plus
/// rdbSaveObject): the RDB type byte, then the value in the encoding an RDB file
/// holds it, LZF-compressing long strings when `compress` (rdbcompression).
pub fn write_object(v: &Value, w: &mut dyn Write, compress: bool) -> io::Result<()> {
    let mut rw = RdbWriter::new(w, compress);
    rw.byte(RdbWriter::type_of(v))?;
    rw.value(v)
}
