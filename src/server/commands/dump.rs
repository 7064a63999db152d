//! DUMP and RESTORE, as Redis 7.0's cluster.c: a value travels as its RDB
//! serialization (type byte and value), then the RDB version (2 bytes, little
//! endian) and the CRC-64 of everything before (8 bytes, little endian), so a
//! payload from Redis restores here and one from here restores in Redis.
use super::*;
use crate::server::client::Client;
use crate::server::keyspace::db::lru_clock;
use crate::server::rdb::format::WRITE_VERSION;
use crate::server::rdb::{crc64, reader, writer};
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::Value;
use crate::server::util::{now_ms, parse_i64};

pub static COMMANDS: &[Command] = &[
    Command::new("dump", dump)
        .arity(2)
        .group("generic")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("restore", restore)
        .arity(-4)
        .group("generic")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("restore-asking", restore)
        .arity(-4)
        .group("server")
        .flags(WRITE | DENYOOM | ASKING)
        .keys(1, 1, 1),
    Command::new("migrate", super::migrate::migrate)
        .arity(-6)
        .group("generic")
        .flags(WRITE)
        .keys(3, 3, 1)
        .get_keys(super::migrate::migrate_keys),
];

/// Redis's createDumpPayload: the serialized value, the RDB version we write
/// and the CRC-64 of both.
pub fn dump_payload(v: &Value, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = writer::write_object(v, &mut out, compress);
    out.extend_from_slice(&(WRITE_VERSION as u16).to_le_bytes());
    let crc = crc64::update(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Redis's verifyDumpPayload: at least the 10-byte footer, an RDB version we
/// read, and a matching CRC-64. Returns the serialized value without its footer.
pub fn verify_payload(p: &[u8]) -> Option<&[u8]> {
    if p.len() < 10 {
        return None;
    }
    let footer = &p[p.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]) as u32;
    if version > WRITE_VERSION {
        return None;
    }
    let crc = crc64::update(0, &p[..p.len() - 8]);
    if crc.to_le_bytes() != footer[2..] {
        return None;
    }
    Some(&p[..p.len() - 10])
}

/// DUMP key: the key's value serialized as Redis does (see the module doc),
/// nil for a missing key.
fn dump(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let compress = srv.config.rdbcompression;
    match srv.lookup_read(c, &argv[1]) {
        None => c.reply.null(),
        Some(e) => {
            let p = dump_payload(&e.value, compress);
            c.reply.bulk(&p);
        }
    }
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]:
/// creates key from a DUMP payload, with a TTL in ms (0: none; an absolute Unix
/// time in ms with ABSTTL). BUSYKEY when the key exists and REPLACE is not given;
/// a TTL already past deletes the replaced key instead. A relative TTL goes to
/// replicas as an absolute one with ABSTTL. IDLETIME sets the idle time;
/// FREQ is accepted (the server keeps no LFU counter).
fn restore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut replace = false;
    let mut absttl = false;
    let mut idle: Option<i64> = None;
    let mut freq: Option<i64> = None;
    let mut j = 4;
    while j < argv.len() {
        let more = argv.len() - j - 1;
        let a = argv[j].to_ascii_lowercase();
        match &a[..] {
            b"replace" => replace = true,
            b"absttl" => absttl = true,
            b"idletime" if more >= 1 && freq.is_none() => {
                let Some(v) = parse_i64(&argv[j + 1]) else {
                    c.reply.error(errors::NOT_INTEGER);
                    return;
                };
                if v < 0 {
                    c.reply.error("ERR Invalid IDLETIME value, must be >= 0");
                    return;
                }
                idle = Some(v);
                j += 1;
            }
            b"freq" if more >= 1 && idle.is_none() => {
                let Some(v) = parse_i64(&argv[j + 1]) else {
                    c.reply.error(errors::NOT_INTEGER);
                    return;
                };
                if !(0..=255).contains(&v) {
                    c.reply
                        .error("ERR Invalid FREQ value, must be >= 0 and <= 255");
                    return;
                }
                freq = Some(v);
                j += 1;
            }
            _ => {
                c.reply.error(errors::SYNTAX);
                return;
            }
        }
        j += 1;
    }
    let db = c.db;
    let key = &argv[1];
    if !replace && srv.lookup_write(db, key).is_some() {
        c.reply.error("BUSYKEY Target key name already exists.");
        return;
    }
    let Some(mut ttl) = parse_i64(&argv[2]) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    if ttl < 0 {
        c.reply.error("ERR Invalid TTL value, must be >= 0");
        return;
    }
    let Some(body) = verify_payload(&argv[3]) else {
        c.reply
            .error("ERR DUMP payload version or checksum are wrong");
        return;
    };
    let Ok(value) = reader::read_object(body, key) else {
        c.reply.error("ERR Bad data format");
        return;
    };
    let deleted = replace && srv.delete_key(db, key);
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(now_ms());
    }
    if ttl != 0 && ttl <= now_ms() && !srv.loading && !srv.is_replica() {
        if deleted {
            srv.propagate_instead(db, vec![vec![b"DEL".to_vec(), key.clone()]]);
            crate::server::notify::notify(srv, crate::server::notify::GENERIC, "del", key, db);
            srv.add_dirty(1);
        }
        c.reply.ok();
        return;
    }
    srv.set_key(db, key, value, false);
    if ttl != 0 {
        srv.dbs[db].set_expire(key, ttl);
        if !absttl {
            let mut v = argv.to_vec();
            v[2] = ttl.to_string().into_bytes();
            v.push(b"ABSTTL".to_vec());
            srv.propagate_instead(db, vec![v]);
        }
    }
    if let (Some(idle), Some(e)) = (idle, srv.dbs[db].get_mut(key)) {
        e.lru = lru_clock().wrapping_sub(idle.min(u32::MAX as i64) as u32);
    }
    let _ = freq;
    crate::server::notify::notify(srv, crate::server::notify::GENERIC, "restore", key, db);
    srv.add_dirty(1);
    c.reply.ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_round_trips_and_a_flipped_byte_is_refused() {
        let v = Value::Str(b"hello world".to_vec());
        let p = dump_payload(&v, true);
        let body = verify_payload(&p).expect("valid");
        assert!(
            matches!(reader::read_object(body, b"k"), Ok(Value::Str(s)) if s == b"hello world")
        );
        let mut bad = p.clone();
        bad[1] ^= 1;
        assert!(verify_payload(&bad).is_none());
        assert!(verify_payload(&p[..5]).is_none());
    }
}
