//! DEBUG DIGEST and DEBUG DIGEST-VALUE, computed the way Redis computes them, so
//! that a dataset has the same digest on tripod-server and on Redis: replicas
//! and masters can be compared with one command.
//!
//! Building blocks (Redis's debug.c): `xor` folds SHA1(data) into a digest with
//! XOR (order-independent: set members, hash fields, sorted-set elements,
//! keys); `mix` XORs then replaces the digest by its own SHA1 (order-dependent:
//! list elements, a value after its type).
use crate::server::keyspace::db::{Entry, NO_EXPIRE};
use crate::server::keyspace::Db;
use crate::server::types::Value;
use crate::server::util::format_f64;

pub type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    sha1_smol::Sha1::from(data).digest().bytes()
}

fn xor(d: &mut Digest, data: &[u8]) {
    let h = sha1(data);
    for (a, b) in d.iter_mut().zip(h.iter()) {
        *a ^= b;
    }
}

fn mix(d: &mut Digest, data: &[u8]) {
    xor(d, data);
    *d = sha1(&d[..]);
}

/// Mixes one value into `d` (Redis's xorObjectDigest): its type code (string
/// 0, list 1, set 2, zset 3, hash 4), its contents, and the expire marker.
pub fn object_digest(d: &mut Digest, e: &Entry) {
    let type_code: u32 = match &e.value {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    };
    mix(d, &type_code.to_be_bytes());
    match &e.value {
        Value::Str(s) => mix(d, s),
        Value::List(l) => {
            for item in l.iter() {
                mix(d, item);
            }
        }
        Value::Set(s) => s.for_each(|m| xor(d, m)),
        Value::ZSet(z) => z.for_each(|m, score| {
            let mut ele = [0u8; 20];
            mix(&mut ele, m);
            mix(&mut ele, format_f64(score).as_bytes());
            xor(d, &ele);
        }),
        Value::Stream(st) => st.for_range(
            crate::server::types::stream::StreamId::MIN,
            crate::server::types::stream::StreamId::MAX,
            false,
            |id, fields| {
                mix(d, format!("{}.{}", id.ms, id.seq).as_bytes());
                for (f, v) in fields {
                    mix(d, f);
                    mix(d, v);
                }
                true
            },
        ),
        Value::Hash(h) => {
            for (f, v) in h.iter() {
                let mut ele = [0u8; 20];
                mix(&mut ele, f);
                mix(&mut ele, v);
                xor(d, &ele);
            }
        }
    }
    if e.expire != NO_EXPIRE {
        xor(d, b"!!expire!!");
    }
}

/// DEBUG DIGEST-VALUE of one key (all zeros when missing).
pub fn value_digest(e: Option<&Entry>) -> Digest {
    let mut d = [0u8; 20];
    if let Some(e) = e {
        object_digest(&mut d, e);
    }
    d
}

/// The digest of every database (all zeros when the dataset is empty): per
/// key, the key then its value are mixed into a fresh digest, whose SHA1 is
/// XORed into the result, so key order does not matter.
pub fn dataset_digest(dbs: &[Db]) -> Digest {
    let mut fin = [0u8; 20];
    for (j, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix(&mut fin, &(j as u32).to_be_bytes());
        for (key, e) in db.keys.iter() {
            let mut d = [0u8; 20];
            mix(&mut d, key);
            object_digest(&mut d, e);
            xor(&mut fin, &d);
        }
    }
    fin
}

/// The digest as 40 lowercase hex digits, as DEBUG DIGEST replies it.
pub fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{:02x}", b)).collect()
}
