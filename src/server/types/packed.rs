//! A packed run of byte strings in one allocation: the in-memory counterpart of
//! Redis's listpack, used for the small encodings of lists, hashes and sorted
//! sets and for the nodes of big lists. A two-byte element count, then each
//! element as a LEB128 length, its bytes, and a "back length" (the size of
//! length + bytes, readable from its end) so that the last elements are reached
//! from the end without a scan: pops at either end stay cheap. Other operations
//! are linear, which is what small collections can afford.

#[derive(Debug, Clone)]
pub struct Packed {
    buf: Vec<u8>,
}

impl Default for Packed {
    fn default() -> Self {
        Packed { buf: vec![0, 0] }
    }
}

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn len_size(mut n: usize) -> usize {
    let mut s = 1;
    while n >= 0x80 {
        n >>= 7;
        s += 1;
    }
    s
}

/// Size of the back length for an entry of `total` bytes.
fn back_size(total: usize) -> usize {
    len_size(total)
}

/// Writes the back length: 7-bit groups, most significant first in memory; all
/// but the first carry 0x80, meaning "more groups before me".
fn put_back(out: &mut Vec<u8>, total: usize) {
    let n = back_size(total);
    for k in (0..n).rev() {
        let g = ((total >> (7 * k)) & 0x7f) as u8;
        out.push(if k + 1 == n { g } else { g | 0x80 });
    }
}

/// Reads a back length ending right before `end`: (entry total, back length size).
fn read_back(buf: &[u8], end: usize) -> (usize, usize) {
    let mut total = 0usize;
    let mut k = 0;
    loop {
        let b = buf[end - 1 - k];
        total |= ((b & 0x7f) as usize) << (7 * k);
        k += 1;
        if b & 0x80 == 0 {
            return (total, k);
        }
    }
}

/// Appends one encoded element.
fn encode(out: &mut Vec<u8>, v: &[u8]) {
    put_len(out, v.len());
    out.extend_from_slice(v);
    put_back(out, len_size(v.len()) + v.len());
}

/// The byte offset just past the element starting at `p` (its back length included).
#[inline]
fn next_at(buf: &[u8], p: usize) -> usize {
    let (_, e) = read_at(buf, p);
    e + back_size(e - p)
}

/// Reads the element at byte offset `p`: (start of data, end of data).
#[inline]
fn read_at(buf: &[u8], mut p: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[p];
        p += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (p, p + n)
}

impl Packed {
    /// An empty packing (just the two-byte zero count).
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of elements, read from the two-byte header (so at most 65535;
    /// lists move to a new node or encoding before reaching it).
    pub fn len(&self) -> usize {
        u16::from_le_bytes([self.buf[0], self.buf[1]]) as usize
    }
    /// True when the packing holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Bytes used, for the size thresholds.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }
    fn set_len(&mut self, n: usize) {
        let v = (n as u16).to_le_bytes();
        self.buf[0] = v[0];
        self.buf[1] = v[1];
    }
    /// Iterates over the elements front to back, borrowing their bytes in place.
    pub fn iter(&self) -> PackedIter<'_> {
        PackedIter {
            buf: &self.buf,
            p: 2,
        }
    }
    /// Byte offset of element `i` (or the end when i == len).
    fn offset(&self, i: usize) -> usize {
        let n = self.len();
        if i > n / 2 {
            // Nearer the end: walk back over the back lengths.
            let mut p = self.buf.len();
            for _ in i..n {
                let (total, bs) = read_back(&self.buf, p);
                p -= bs + total;
            }
            return p;
        }
        let mut p = 2;
        for _ in 0..i {
            p = next_at(&self.buf, p);
        }
        p
    }
    /// Element `i`, or None when out of range. Walks from whichever end is nearer.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len() {
            return None;
        }
        let (s, e) = read_at(&self.buf, self.offset(i));
        Some(&self.buf[s..e])
    }
    /// Appends `v` as the last element.
    pub fn push(&mut self, v: &[u8]) {
        encode(&mut self.buf, v);
        let n = self.len() + 1;
        self.set_len(n);
    }
    /// Inserts before element `i` (i == len appends).
    pub fn insert(&mut self, i: usize, v: &[u8]) {
        let at = self.offset(i);
        let mut enc = Vec::with_capacity(2 * len_size(v.len()) + v.len());
        encode(&mut enc, v);
        self.buf.splice(at..at, enc);
        let n = self.len() + 1;
        self.set_len(n);
    }
    /// Removes element `i` and returns its bytes, or None (no change) when out of range.
    pub fn remove(&mut self, i: usize) -> Option<Vec<u8>> {
        if i >= self.len() {
            return None;
        }
        let at = self.offset(i);
        let (s, e) = read_at(&self.buf, at);
        let v = self.buf[s..e].to_vec();
        let end = e + back_size(e - at);
        if end == self.buf.len() {
            self.buf.truncate(at);
        } else {
            self.buf.drain(at..end);
        }
        let n = self.len() - 1;
        self.set_len(n);
        Some(v)
    }
    /// Removes `count` elements starting at `i`.
    pub fn remove_range(&mut self, i: usize, count: usize) {
        let count = count.min(self.len().saturating_sub(i));
        if count == 0 {
            return;
        }
        let start = self.offset(i);
        let mut end = start;
        for _ in 0..count {
            end = next_at(&self.buf, end);
        }
        self.buf.drain(start..end);
        let n = self.len() - count;
        self.set_len(n);
    }
    /// Replaces element `i` with `v`; returns false (no change) when `i` is out of range.
    pub fn set(&mut self, i: usize, v: &[u8]) -> bool {
        if i >= self.len() {
            return false;
        }
        let at = self.offset(i);
        let end = next_at(&self.buf, at);
        let mut enc = Vec::with_capacity(2 * len_size(v.len()) + v.len());
        encode(&mut enc, v);
        self.buf.splice(at..end, enc);
        true
    }
    /// Index of the first element equal to `v`, looking at every `step`-th
    /// element (2 for the fields of a field/value packing).
    pub fn find(&self, v: &[u8], step: usize) -> Option<usize> {
        self.iter()
            .step_by(step)
            .position(|x| x == v)
            .map(|i| i * step)
    }
}

pub struct PackedIter<'a> {
    buf: &'a [u8],
    p: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.p >= self.buf.len() {
            return None;
        }
        let (s, e) = read_at(self.buf, self.p);
        self.p = e + back_size(e - self.p);
        Some(&self.buf[s..e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec() {
        let mut p = Packed::new();
        let mut v: Vec<Vec<u8>> = Vec::new();
        let mut rng = crate::server::util::Rng::new();
        for round in 0..2000 {
            let item = vec![b'a' + (round % 26) as u8; rng.below(300) as usize];
            match rng.below(5) {
                0 | 1 => {
                    p.push(&item);
                    v.push(item);
                }
                2 => {
                    let i = rng.below(v.len() as u64 + 1) as usize;
                    p.insert(i, &item);
                    v.insert(i, item);
                }
                3 if !v.is_empty() => {
                    let i = rng.below(v.len() as u64) as usize;
                    assert_eq!(p.remove(i).unwrap(), v.remove(i));
                }
                _ if !v.is_empty() => {
                    let i = rng.below(v.len() as u64) as usize;
                    p.set(i, &item);
                    v[i] = item;
                }
                _ => {}
            }
            assert_eq!(p.len(), v.len());
        }
        let got: Vec<Vec<u8>> = p.iter().map(|x| x.to_vec()).collect();
        assert_eq!(got, v);
        p.remove_range(1, 3);
        v.drain(1..4);
        assert_eq!(p.iter().map(|x| x.to_vec()).collect::<Vec<_>>(), v);
    }
}
