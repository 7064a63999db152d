//! LZF, the compression RDB strings use (liblzf's format).
//!
//! A compressed stream is a sequence of items. A control byte below 32 starts a
//! literal run of ctrl+1 bytes. Otherwise its top 3 bits are a match length
//! minus 2 (7 means "add the next byte"), its low 5 bits and the following byte
//! a back-reference distance minus 1 (up to 8192).

const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3); // 264
const HLOG: u32 = 14;

fn hash(a: u8, b: u8, c: u8) -> usize {
    let v = ((a as u32) << 16) | ((b as u32) << 8) | c as u32;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HLOG)) as usize
}

fn flush_literals(out: &mut Vec<u8>, lit: &[u8]) {
    for chunk in lit.chunks(32) {
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
}

/// Compresses `input`; None when the result would exceed `max_out` bytes (the
/// caller then stores the string uncompressed, as Redis does).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    thread_local! {
        // The hash table is reused between calls and never cleared: a stale slot
        // only proposes a candidate, which is checked against the input bytes.
        static TABLE: std::cell::RefCell<Vec<u32>> = std::cell::RefCell::new(vec![0u32; 1 << HLOG]);
    }
    TABLE.with(|t| compress_with(input, max_out, &mut t.borrow_mut()))
}

fn compress_with(input: &[u8], max_out: usize, table: &mut [u32]) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out = Vec::with_capacity(max_out.min(n + n / 16 + 64));
    let mut lit_start = 0;
    let mut i = 0;
    while i + 2 < n {
        let h = hash(input[i], input[i + 1], input[i + 2]);
        let cand = table[h] as usize;
        table[h] = (i + 1) as u32;
        if cand > 0 && cand - 1 < i {
            let r = cand - 1;
            let off = i - r;
            if off <= MAX_OFF && input[r..r + 3] == input[i..i + 3] {
                let max_len = MAX_REF.min(n - i);
                let mut len = 3;
                while len < max_len && input[r + len] == input[i + len] {
                    len += 1;
                }
                flush_literals(&mut out, &input[lit_start..i]);
                let l = len - 2;
                let o = off - 1;
                if l < 7 {
                    out.push(((l as u8) << 5) | (o >> 8) as u8);
                } else {
                    out.push((7 << 5) | (o >> 8) as u8);
                    out.push((l - 7) as u8);
                }
                out.push((o & 0xff) as u8);
                i += len;
                lit_start = i;
                if out.len() > max_out {
                    return None;
                }
                continue;
            }
        }
        i += 1;
    }
    flush_literals(&mut out, &input[lit_start..]);
    (out.len() <= max_out).then_some(out)
}

/// Decompresses into exactly `out_len` bytes; None when the data is corrupt.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            if i + run > input.len() || out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(&input[i..i + run]);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i)? as usize;
                i += 1;
            }
            let off = ((ctrl & 0x1f) << 8) + *input.get(i)? as usize + 1;
            i += 1;
            len += 2;
            if off > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - off;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut rng = crate::server::util::Rng::new();
        for case in 0..200 {
            let len = rng.below(5000) as usize;
            let alphabet = 1 + (case % 20) as u64;
            let data: Vec<u8> = (0..len).map(|_| b'a' + rng.below(alphabet) as u8).collect();
            if let Some(c) = compress(&data, data.len() + 64) {
                assert_eq!(decompress(&c, data.len()).unwrap(), data);
            }
        }
        let rep = vec![b'x'; 10_000];
        let c = compress(&rep, rep.len()).unwrap();
        assert!(c.len() < 200);
        assert_eq!(decompress(&c, rep.len()).unwrap(), rep);
    }

    #[test]
    fn corrupt_input_is_refused() {
        assert!(decompress(&[0xE0, 0x00], 10).is_none());
        assert!(decompress(&[5, b'a'], 6).is_none());
        assert!(decompress(&[0, b'a'], 2).is_none());
    }
}
