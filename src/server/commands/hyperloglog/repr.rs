//! Redis's HyperLogLog string representation, byte for byte: a 16-byte header
//! ("HYLL", the encoding byte, three unused bytes, the cached cardinality as 8
//! little-endian bytes whose top bit marks the cache invalid), then either the
//! dense form (16384 registers of 6 bits, least significant bits first) or the
//! sparse form (ZERO `00xxxxxx`, XZERO `01xxxxxx yyyyyyyy` and VAL `1vvvvvxx`
//! opcodes). Elements are hashed with MurmurHash64A (seed 0xadc83b19) and the
//! cardinality comes from Ertl's improved estimator, as Redis 7.0 computes it.

/// Number of index bits (registers = 2^P).
pub const P: u32 = 14;
/// Bits of the hash left for the run of zeroes.
pub const Q: u32 = 50;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = (REGISTERS as u64) - 1;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Header length.
pub const HDR: usize = 16;
/// Length of a dense HLL string.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
/// Encoding byte values.
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = 1;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// Redis's error for a damaged HLL.
pub const INVALID_HLL: &str = "INVALIDOBJ Corrupted HLL object detected";
/// Redis's error for a string that is not an HLL.
pub const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";

/// MurmurHash64A as Redis's hyperloglog.c has it (little-endian 8-byte words,
/// the tail folded in byte by byte).
pub fn murmurhash64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for ch in &mut chunks {
        let mut k = u64::from_le_bytes(ch.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate().rev() {
            h ^= (*b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the length of its zero run plus one
/// (Redis's hllPatLen).
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(ele, 0xadc8_3b19);
    let index = (hash & P_MASK) as usize;
    let h = (hash >> P) | (1u64 << Q);
    (index, h.trailing_zeros() as u8 + 1)
}

/// True when `s` is a string PF* commands accept (Redis's isHLLObjectOrReply):
/// long enough for the header, "HYLL", a known encoding, dense at full size.
pub fn is_valid(s: &[u8]) -> bool {
    s.len() >= HDR
        && &s[..4] == b"HYLL"
        && s[4] <= MAX_ENCODING
        && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

/// A fresh, empty HLL: sparse, one XZERO opcode covering every register.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let mut i = 0;
    while i < REGISTERS {
        let n = (REGISTERS - i).min(XZERO_MAX_LEN);
        push_xzero(&mut v, n);
        i += n;
    }
    v
}

fn push_xzero(v: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    v.push(((l >> 8) as u8) | 0x40);
    v.push((l & 0xff) as u8);
}

fn val_byte(val: u8, len: usize) -> u8 {
    (((val - 1) << 2) | (len as u8 - 1)) | 0x80
}

/// One sparse opcode read at a position.
#[derive(Clone, Copy, PartialEq)]
pub enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

/// Decodes the opcode at `s[p]` (a missing second XZERO byte reads as 0, as
/// Redis reads the string's terminator); returns it and its length in bytes.
pub fn op_at(s: &[u8], p: usize) -> (Op, usize) {
    let b = s[p];
    if b & 0xc0 == 0 {
        (Op::Zero((b & 0x3f) as usize + 1), 1)
    } else if b & 0xc0 == 0x40 {
        let lo = s.get(p + 1).copied().unwrap_or(0) as usize;
        (Op::XZero((((b & 0x3f) as usize) << 8 | lo) + 1), 2)
    } else {
        (Op::Val(((b >> 2) & 0x1f) + 1, (b & 3) as usize + 1), 1)
    }
}

/// Reads dense register `i` from the register bytes `r`.
pub fn dense_get(r: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = r[byte] as u16;
    let b1 = r.get(byte + 1).copied().unwrap_or(0) as u16;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u16) as u8
}

/// Writes dense register `i` in the register bytes `r`.
pub fn dense_put(r: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = v as u16;
    r[byte] &= !((REGISTER_MAX as u16) << fb) as u8;
    r[byte] |= (v << fb) as u8;
    if let Some(b) = r.get_mut(byte + 1) {
        *b &= !((REGISTER_MAX as u16) >> (8 - fb)) as u8;
        *b |= (v >> (8 - fb)) as u8;
    }
}

/// Raises dense register `i` to `count` if it is lower; true when it changed.
fn dense_set(r: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(r, i) {
        dense_put(r, i, count);
        true
    } else {
        false
    }
}

/// Marks the cached cardinality stale.
pub fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// The cached cardinality when it is valid.
pub fn cached(s: &[u8]) -> Option<u64> {
    if s[15] & 0x80 != 0 {
        None
    } else {
        Some(u64::from_le_bytes(s[8..16].try_into().expect("8 bytes")))
    }
}

/// Stores a freshly computed cardinality (the cache becomes valid).
pub fn set_cache(s: &mut [u8], card: u64) {
    s[8..16].copy_from_slice(&card.to_le_bytes());
}

/// Converts a sparse HLL to dense in place (Redis's hllSparseToDense: the
/// header, cache bytes included, is kept). Err when the opcodes do not cover
/// exactly 16384 registers. A dense HLL is left alone.
pub fn sparse_to_dense(s: &mut Vec<u8>) -> Result<(), ()> {
    if s[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&s[..HDR]);
    dense[4] = DENSE;
    let mut idx = 0usize;
    let mut p = HDR;
    while p < s.len() {
        let (op, n) = op_at(s, p);
        match op {
            Op::Zero(l) | Op::XZero(l) => idx += l,
            Op::Val(v, l) => {
                if idx + l > REGISTERS {
                    break;
                }
                for _ in 0..l {
                    dense_put(&mut dense[HDR..], idx, v);
                    idx += 1;
                }
            }
        }
        p += n;
    }
    if idx != REGISTERS {
        return Err(());
    }
    *s = dense;
    Ok(())
}

/// Raises register `index` of a sparse HLL to `count` (Redis's hllSparseSet,
/// with its in-place split of the covering opcode, its merge of adjacent VAL
/// opcodes and its promotion to dense when a value exceeds 32 or the string
/// would outgrow `max_bytes`). Ok(true) when a register changed, Err when the
/// representation is corrupt.
pub fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: u64) -> Result<bool, ()> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    let mut p = HDR;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    let mut cur = Op::Zero(1);
    let mut oplen = 1;
    while p < s.len() {
        let (op, n) = op_at(s, p);
        span = match op {
            Op::Zero(l) | Op::XZero(l) | Op::Val(_, l) => l,
        };
        cur = op;
        oplen = n;
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += n;
        first += span;
    }
    if span == 0 || p >= s.len() {
        return Err(());
    }
    let mut updated_in_place = false;
    match cur {
        Op::Val(old, len) => {
            if old >= count {
                return Ok(false);
            }
            if len == 1 {
                s[p] = val_byte(count, 1);
                updated_in_place = true;
            }
        }
        Op::Zero(1) => {
            s[p] = val_byte(count, 1);
            updated_in_place = true;
        }
        _ => {}
    }
    if !updated_in_place {
        let last = first + span - 1;
        let mut seq: Vec<u8> = Vec::with_capacity(5);
        match cur {
            Op::Zero(_) | Op::XZero(_) => {
                let zeros = |seq: &mut Vec<u8>, len: usize| {
                    if len > ZERO_MAX_LEN {
                        push_xzero(seq, len);
                    } else {
                        seq.push((len - 1) as u8);
                    }
                };
                if index != first {
                    zeros(&mut seq, index - first);
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    zeros(&mut seq, last - index);
                }
            }
            Op::Val(curval, _) => {
                if index != first {
                    seq.push(val_byte(curval, index - first));
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    seq.push(val_byte(curval, last - index));
                }
            }
        }
        if seq.len() > oplen && (s.len() + seq.len() - oplen) as u64 > max_bytes {
            return promote(s, index, count);
        }
        s.splice(p..p + oplen, seq);
    }
    // Merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes from prev.
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        let (op, n) = op_at(s, p);
        let Op::Val(v1, l1) = op else {
            p += n;
            continue;
        };
        if p + 1 < s.len() {
            if let (Op::Val(v2, l2), _) = op_at(s, p + 1) {
                if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                    s[p + 1] = val_byte(v1, l1 + l2);
                    s.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(s);
    Ok(true)
}

fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, ()> {
    sparse_to_dense(s)?;
    dense_set(&mut s[HDR..], index, count);
    Ok(true)
}

/// Adds one element (Redis's hllAdd): Ok(true) when a register changed.
pub fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: u64) -> Result<bool, ()> {
    let (index, count) = pat_len(ele);
    match s[4] {
        DENSE => Ok(dense_set(&mut s[HDR..], index, count)),
        SPARSE => sparse_set(s, index, count, max_bytes),
        _ => Err(()),
    }
}

/// Raises `max[i]` to each register of the HLL `s` (Redis's hllMerge); Err
/// when a sparse representation is corrupt.
pub fn merge_into(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), ()> {
    if s[4] == DENSE {
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(&s[HDR..], i));
        }
        return Ok(());
    }
    let mut i = 0usize;
    let mut p = HDR;
    while p < s.len() {
        let (op, n) = op_at(s, p);
        match op {
            Op::Zero(l) | Op::XZero(l) => i += l,
            Op::Val(v, l) => {
                if i + l > REGISTERS {
                    break;
                }
                for m in &mut max[i..i + l] {
                    *m = (*m).max(v);
                }
                i += l;
            }
        }
        p += n;
    }
    if i != REGISTERS {
        return Err(());
    }
    Ok(())
}

/// The register histogram of an HLL string; the flag says a sparse
/// representation did not cover exactly 16384 registers.
pub fn histogram(s: &[u8]) -> ([u32; 64], bool) {
    let mut h = [0u32; 64];
    if s[4] == DENSE {
        for i in 0..REGISTERS {
            h[dense_get(&s[HDR..], i) as usize] += 1;
        }
        return (h, false);
    }
    let mut idx = 0usize;
    let mut p = HDR;
    while p < s.len() {
        let (op, n) = op_at(s, p);
        match op {
            Op::Zero(l) | Op::XZero(l) => {
                idx += l;
                h[0] += l as u32;
            }
            Op::Val(v, l) => {
                if idx + l > REGISTERS {
                    break;
                }
                idx += l;
                h[v as usize] += l as u32;
            }
        }
        p += n;
    }
    (h, idx != REGISTERS)
}

/// The register histogram of plain one-byte-per-register values.
pub fn raw_histogram(r: &[u8; REGISTERS]) -> [u32; 64] {
    let mut h = [0u32; 64];
    for v in r {
        h[(*v & 63) as usize] += 1;
    }
    h
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let zp = z;
        z += x * y;
        y += y;
        if zp == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let zp = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if zp == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from a register histogram (Redis 7.0's hllCount).
pub fn estimate(h: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_18_bytes() {
        let s = new_sparse();
        assert_eq!(s.len(), 18);
        assert_eq!(&s[16..], &[0x7f, 0xff]);
        assert_eq!(estimate(&histogram(&s).0), 0);
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut r = vec![0u8; DENSE_SIZE - HDR];
        for i in 0..REGISTERS {
            dense_put(&mut r, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&r, i), (i % 64) as u8);
        }
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut s = new_sparse();
        for i in 0..2000u32 {
            add(&mut s, i.to_string().as_bytes(), 1 << 20).unwrap();
        }
        assert_eq!(s[4], SPARSE);
        let (hs, bad) = histogram(&s);
        assert!(!bad);
        let mut d = s.clone();
        sparse_to_dense(&mut d).unwrap();
        assert_eq!(histogram(&d).0, hs);
    }
}
