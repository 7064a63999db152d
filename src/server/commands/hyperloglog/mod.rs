//! HyperLogLog commands (PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST) as
//! Redis 7.0 runs them. An HLL is a plain string holding Redis's exact bytes
//! (see `repr`), so GET, SET, DUMP and replication carry it unchanged.
mod repr;

use super::*;
use crate::server::client::Client;
use crate::server::state::Server;
use crate::server::types::{Value, WRONGTYPE};
use repr::*;

pub static COMMANDS: &[Command] = &[
    Command::new("pfadd", pfadd)
        .arity(-2)
        .group("hyperloglog")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1),
    Command::new("pfcount", pfcount)
        .arity(-2)
        .group("hyperloglog")
        .flags(READONLY | MAY_REPLICATE)
        .keys(1, -1, 1),
    Command::new("pfmerge", pfmerge)
        .arity(-2)
        .group("hyperloglog")
        .flags(WRITE | DENYOOM)
        .keys(1, -1, 1),
    Command::new("pfdebug", pfdebug)
        .arity(3)
        .group("hyperloglog")
        .flags(WRITE | DENYOOM | ADMIN)
        .keys(2, 2, 1),
    Command::new("pfselftest", pfselftest)
        .arity(1)
        .group("hyperloglog")
        .flags(ADMIN),
];

/// What a key holds, as the PF commands see it.
enum Found {
    Missing,
    Hll,
}

/// Checks `key` (already looked up by the caller) is an HLL: Ok(Missing) when
/// absent, Err after replying WRONGTYPE (another type) or Redis's "not a valid
/// HyperLogLog" error (a string that is not one).
fn check_hll(srv: &mut Server, c: &mut Client, db: usize, key: &[u8]) -> Result<Found, ()> {
    match srv.dbs[db].get(key).map(|e| &e.value) {
        None => Ok(Found::Missing),
        Some(Value::Str(s)) if is_valid(s) => Ok(Found::Hll),
        Some(Value::Str(_)) => {
            c.reply.error(NOT_HLL);
            Err(())
        }
        Some(_) => {
            c.reply.error(WRONGTYPE);
            Err(())
        }
    }
}

/// Looks `key` up for reading and checks it is an HLL.
fn read_hll(srv: &mut Server, c: &mut Client, key: &[u8]) -> Result<Found, ()> {
    if srv.lookup_read(c, key).is_none() {
        return Ok(Found::Missing);
    }
    check_hll(srv, c, c.db, key)
}

/// The HLL string stored at `key` (checked to exist and be one).
fn hll_mut<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> Option<&'a mut Vec<u8>> {
    match srv.dbs[db].get_mut(key).map(|e| &mut e.value) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

/// The HLL string at `key` for modification: like Redis's
/// dbUnshareStringValue, the value becomes a raw string (OBJECT ENCODING).
fn hll_unshared<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> Option<&'a mut Vec<u8>> {
    let e = srv.dbs[db].get_mut(key)?;
    e.raw = true;
    match &mut e.value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn sparse_max(srv: &Server) -> u64 {
    srv.config.hll_sparse_max_bytes
}

/// PFADD key [element ...]: creates an empty sparse HLL when the key is
/// missing, adds each element; replies 1 when a register changed (or the key
/// was created), else 0. A corrupt HLL answers INVALIDOBJ.
fn pfadd(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let key = &argv[1];
    srv.lookup_write(db, key);
    let mut updated = 0u64;
    match check_hll(srv, c, db, key) {
        Err(()) => return,
        Ok(Found::Missing) => {
            srv.dbs[db].set(key, Value::Str(new_sparse()), false);
            crate::server::notify::new_key(srv, key, db);
            updated += 1;
        }
        Ok(Found::Hll) => {}
    }
    let max = sparse_max(srv);
    let s = hll_unshared(srv, db, key).expect("checked");
    for ele in &argv[2..] {
        match add(s, ele, max) {
            Ok(true) => updated += 1,
            Ok(false) => {}
            Err(()) => {
                c.reply.error(INVALID_HLL);
                return;
            }
        }
    }
    if updated > 0 {
        invalidate_cache(s);
        srv.signal_modified(db, key);
        crate::server::notify::notify(srv, crate::server::notify::STRING, "pfadd", key, db);
        srv.add_dirty(updated);
    }
    c.reply.int(i64::from(updated > 0));
}

/// PFCOUNT key [key ...]: one key answers the cached cardinality, or computes
/// it, stores it in the header and propagates the command (the string
/// changed); several keys answer the cardinality of their union without
/// touching them. Missing keys count as empty HLLs.
fn pfcount(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    if argv.len() > 2 {
        let mut max = Box::new([0u8; REGISTERS]);
        for key in &argv[1..] {
            match read_hll(srv, c, key) {
                Err(()) => return,
                Ok(Found::Missing) => continue,
                Ok(Found::Hll) => {}
            }
            let s = hll_mut(srv, db, key).expect("checked");
            if merge_into(&mut max, s).is_err() {
                c.reply.error(INVALID_HLL);
                return;
            }
        }
        c.reply.int(estimate(&raw_histogram(&max)) as i64);
        return;
    }
    let key = &argv[1];
    match read_hll(srv, c, key) {
        Err(()) => return,
        Ok(Found::Missing) => {
            c.reply.int(0);
            return;
        }
        Ok(Found::Hll) => {}
    }
    let s = hll_unshared(srv, db, key).expect("checked");
    if let Some(card) = cached(s) {
        c.reply.int(card as i64);
        return;
    }
    let (h, invalid) = histogram(s);
    if invalid {
        c.reply.error(INVALID_HLL);
        return;
    }
    let card = estimate(&h);
    set_cache(s, card);
    srv.signal_modified(db, key);
    srv.add_dirty(1);
    // A read-only command that changed the string: replicas get it too.
    srv.also_propagate(db, argv.to_vec());
    c.reply.int(card as i64);
}

/// PFMERGE destkey [sourcekey ...]: the register-wise maximum of every given
/// HLL (the destination included) is written into the destination, created
/// empty and sparse if missing and made dense if any input is dense. Replies OK.
fn pfmerge(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let mut max = Box::new([0u8; REGISTERS]);
    let mut use_dense = false;
    for key in &argv[1..] {
        match read_hll(srv, c, key) {
            Err(()) => return,
            Ok(Found::Missing) => continue,
            Ok(Found::Hll) => {}
        }
        let s = hll_mut(srv, db, key).expect("checked");
        use_dense |= s[4] == DENSE;
        if merge_into(&mut max, s).is_err() {
            c.reply.error(INVALID_HLL);
            return;
        }
    }
    let key = &argv[1];
    if srv.lookup_write(db, key).is_none() {
        srv.dbs[db].set(key, Value::Str(new_sparse()), false);
        crate::server::notify::new_key(srv, key, db);
    }
    let limit = sparse_max(srv);
    let Some(s) = hll_unshared(srv, db, key) else {
        return;
    };
    if use_dense && sparse_to_dense(s).is_err() {
        c.reply.error(INVALID_HLL);
        return;
    }
    for (j, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        if s[4] == DENSE {
            if m > dense_get(&s[HDR..], j) {
                dense_put(&mut s[HDR..], j, m);
            }
        } else {
            // Corruption was ruled out by the merge above.
            let _ = sparse_set(s, j, m, limit);
        }
    }
    invalidate_cache(s);
    srv.signal_modified(db, key);
    crate::server::notify::notify(srv, crate::server::notify::STRING, "pfadd", key, db);
    srv.add_dirty(1);
    c.reply.ok();
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key: Redis's debugging view of an
/// HLL. GETREG (making a sparse HLL dense) lists the 16384 registers, DECODE
/// spells the sparse opcodes (`z:len`, `Z:len`, `v:value,len`), ENCODING
/// answers dense or sparse, TODENSE converts and replies 1 (0 if already dense).
fn pfdebug(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let key = &argv[2];
    let cmd = String::from_utf8_lossy(&argv[1]).into_owned();
    if srv.lookup_write(db, key).is_none() {
        c.reply.error("ERR The specified key does not exist");
        return;
    }
    if check_hll(srv, c, db, key).is_err() {
        return;
    }
    let s = hll_unshared(srv, db, key).expect("checked");
    match cmd.to_ascii_lowercase().as_str() {
        "getreg" => {
            let was_sparse = s[4] == SPARSE;
            if sparse_to_dense(s).is_err() {
                c.reply.error(INVALID_HLL);
                return;
            }
            c.reply.array(REGISTERS);
            for j in 0..REGISTERS {
                c.reply.int(dense_get(&s[HDR..], j) as i64);
            }
            if was_sparse {
                srv.add_dirty(1);
            }
        }
        "decode" => {
            if s[4] != SPARSE {
                c.reply.error("ERR HLL encoding is not sparse");
                return;
            }
            let mut out = String::new();
            let mut p = HDR;
            while p < s.len() {
                let (op, n) = op_at(s, p);
                match op {
                    Op::Zero(l) => out.push_str(&format!("z:{} ", l)),
                    Op::XZero(l) => out.push_str(&format!("Z:{} ", l)),
                    Op::Val(v, l) => out.push_str(&format!("v:{},{} ", v, l)),
                }
                p += n;
            }
            c.reply.bulk(out.trim_matches(' ').as_bytes());
        }
        "encoding" => c
            .reply
            .simple(if s[4] == DENSE { "dense" } else { "sparse" }),
        "todense" => {
            let conv = s[4] == SPARSE;
            if sparse_to_dense(s).is_err() {
                c.reply.error(INVALID_HLL);
                return;
            }
            if conv {
                srv.add_dirty(1);
            }
            c.reply.int(i64::from(conv));
        }
        _ => c
            .reply
            .error(&format!("ERR Unknown PFDEBUG subcommand '{}'", cmd)),
    }
}

/// PFSELFTEST: checks the register accessors (every register of a dense HLL
/// read back after a random fill) and the estimator's error against a growing
/// set of elements, as Redis's self test does. Replies OK, or a TESTFAILED
/// error saying what went wrong.
fn pfselftest(_srv: &mut Server, c: &mut Client, _argv: &[Vec<u8>]) {
    match selftest() {
        Ok(()) => c.reply.ok(),
        Err(e) => c.reply.error(&format!("TESTFAILED {}", e)),
    }
}

fn selftest() -> Result<(), String> {
    // Register accessors: a pseudo-random fill read back exactly.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    let mut want = vec![0u8; REGISTERS];
    for _ in 0..100 {
        for (i, w) in want.iter_mut().enumerate() {
            *w = (next() & 63) as u8;
            dense_put(&mut regs, i, *w);
        }
        for (i, w) in want.iter().enumerate() {
            if dense_get(&regs, i) != *w {
                return Err(format!("Register error at {}", i));
            }
        }
    }
    // The estimate stays within 5 standard errors for both encodings.
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut sparse = new_sparse();
    let mut dense = new_sparse();
    sparse_to_dense(&mut dense).map_err(|_| "conversion error".to_string())?;
    let mut checkpoint = 1u64;
    for j in 1..=100_000u64 {
        let ele = next().to_le_bytes();
        add(&mut sparse, &ele, u64::MAX).map_err(|_| "add error".to_string())?;
        add(&mut dense, &ele, u64::MAX).map_err(|_| "add error".to_string())?;
        if j == checkpoint {
            let a = estimate(&histogram(&sparse).0);
            let b = estimate(&histogram(&dense).0);
            if a != b {
                return Err(format!(
                    "Sparse and dense representations disagree at {}: {} vs {}",
                    j, a, b
                ));
            }
            let maxerr = (relerr * 5.0 * j as f64).ceil().max(1.0) as u64;
            if b.abs_diff(j) > maxerr {
                return Err(format!(
                    "Too big error. card:{} abserr:{}",
                    j,
                    b.abs_diff(j)
                ));
            }
            checkpoint *= 10;
        }
    }
    Ok(())
}
