//! Listpacks, the compact encoding Redis 7 uses for small hashes, sorted sets and
//! list nodes, as they appear inside RDB files.
//!
//! Layout: total bytes (u32 LE), element count (u16 LE, 65535 when unknown), the
//! entries, and a 0xFF terminator. Each entry is an encoding byte (integers of
//! 7/13/16/24/32/64 bits, strings with 6/12/32-bit lengths), the data, and a
//! "backlen" (the entry size in 1..5 bytes) for walking backwards.

/// One element: listpacks store integer-looking strings as integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Int(i64),
    Str(Vec<u8>),
}

impl Item {
    /// The element as a byte string: an integer in its canonical decimal form.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Item::Int(i) => itoa::Buffer::new().format(i).as_bytes().to_vec(),
            Item::Str(s) => s,
        }
    }
}

fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

fn push_backlen(out: &mut Vec<u8>, l: usize) {
    let l = l as u64;
    match backlen_size(l as usize) {
        1 => out.push(l as u8),
        2 => out.extend_from_slice(&[(l >> 7) as u8, ((l & 127) | 128) as u8]),
        3 => out.extend_from_slice(&[
            (l >> 14) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
        4 => out.extend_from_slice(&[
            (l >> 21) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
        _ => out.extend_from_slice(&[
            (l >> 28) as u8,
            (((l >> 21) & 127) | 128) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
    }
}

/// Builds a listpack; strings that are canonical integers are stored as integers,
/// as Redis does.
#[derive(Debug)]
pub struct Writer {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Writer {
    fn default() -> Self {
        Writer {
            buf: vec![0; 6],
            count: 0,
        }
    }
}

impl Writer {
    /// An empty listpack: room for the 6-byte header, which `finish` fills in.
    pub fn new() -> Self {
        Self::default()
    }
    /// The size the listpack would have if finished now (terminator included).
    pub fn len_bytes(&self) -> usize {
        self.buf.len() + 1
    }
    /// Appends an integer with the smallest encoding that holds it (7-bit, 13-bit,
    /// 16, 24, 32 or 64 bits), followed by its backlen.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u16) & 0x1fff;
            self.buf.push(0xC0 | (u >> 8) as u8);
            self.buf.push((u & 0xff) as u8);
        } else if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        let l = self.buf.len() - start;
        push_backlen(&mut self.buf, l);
        self.count += 1;
    }
    /// Appends a string: a canonical integer of at most 20 bytes is stored as an
    /// integer (as Redis does), anything else with a 6-, 12- or 32-bit length.
    pub fn push(&mut self, s: &[u8]) {
        if s.len() <= 20 {
            if let Some(v) = crate::server::util::parse_i64(s) {
                return self.push_int(v);
            }
        }
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.push(0xE0 | (n >> 8) as u8);
            self.buf.push((n & 0xff) as u8);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let l = self.buf.len() - start;
        push_backlen(&mut self.buf, l);
        self.count += 1;
    }
    /// Appends the 0xFF terminator, fills in the total size and element count (65535
    /// when there are that many or more, meaning "unknown") and returns the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xFF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = if self.count < 65535 {
            self.count as u16
        } else {
            65535
        };
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// Decodes every element; Err names what is wrong.
pub fn decode(lp: &[u8]) -> Result<Vec<Item>, String> {
    if lp.len() < 7 {
        return Err("listpack shorter than its header".into());
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() {
        return Err(format!(
            "listpack header says {} bytes, blob has {}",
            total,
            lp.len()
        ));
    }
    let count = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    let mut items = Vec::with_capacity(count.min(lp.len()));
    let mut p = 6;
    let bad = || "listpack entry runs past its end".to_string();
    loop {
        let b = *lp.get(p).ok_or_else(bad)?;
        if b == 0xFF {
            if p + 1 != lp.len() {
                return Err("listpack terminator before its end".into());
            }
            break;
        }
        let get = |from: usize, n: usize| lp.get(from..from + n).ok_or_else(bad);
        let (item, size) = if b & 0x80 == 0 {
            (Item::Int((b & 0x7f) as i64), 1)
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3f) as usize;
            (Item::Str(get(p + 1, n)?.to_vec()), 1 + n)
        } else if b & 0xE0 == 0xC0 {
            let x = get(p, 2)?;
            let u = (((x[0] & 0x1f) as u16) << 8) | x[1] as u16;
            // Sign-extend 13 bits.
            let v = ((u << 3) as i16 >> 3) as i64;
            (Item::Int(v), 2)
        } else if b & 0xF0 == 0xE0 {
            let x = get(p, 2)?;
            let n = (((x[0] & 0x0f) as usize) << 8) | x[1] as usize;
            (Item::Str(get(p + 2, n)?.to_vec()), 2 + n)
        } else {
            match b {
                0xF0 => {
                    let x = get(p + 1, 4)?;
                    let n = u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize;
                    (Item::Str(get(p + 5, n)?.to_vec()), 5 + n)
                }
                0xF1 => {
                    let x = get(p + 1, 2)?;
                    (Item::Int(i16::from_le_bytes([x[0], x[1]]) as i64), 3)
                }
                0xF2 => {
                    let x = get(p + 1, 3)?;
                    let v = (i32::from_le_bytes([0, x[0], x[1], x[2]]) >> 8) as i64;
                    (Item::Int(v), 4)
                }
                0xF3 => {
                    let x = get(p + 1, 4)?;
                    (
                        Item::Int(i32::from_le_bytes([x[0], x[1], x[2], x[3]]) as i64),
                        5,
                    )
                }
                0xF4 => {
                    let x = get(p + 1, 8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(x);
                    (Item::Int(i64::from_le_bytes(a)), 9)
                }
                _ => {
                    return Err(format!(
                        "listpack entry with unknown encoding byte 0x{:02x}",
                        b
                    ))
                }
            }
        };
        p += size + backlen_size(size);
        if p > lp.len() {
            return Err(bad());
        }
        items.push(item);
    }
    if count != 65535 && count != items.len() {
        return Err(format!(
            "listpack header says {} elements, found {}",
            count,
            items.len()
        ));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_encoding() {
        let ints = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -32768,
            32767,
            40000,
            -(1 << 23),
            (1 << 23) - 1,
            1 << 23,
            i32::MIN as i64,
            i32::MAX as i64,
            i64::MIN,
            i64::MAX,
        ];
        let long = vec![b'z'; 5000];
        let mid = vec![b'y'; 300];
        let mut w = Writer::new();
        for i in ints {
            w.push_int(i);
        }
        w.push(b"hello");
        w.push(&mid);
        w.push(&long);
        w.push(b"007");
        let lp = w.finish();
        let items = decode(&lp).unwrap();
        let mut want: Vec<Item> = ints.iter().map(|i| Item::Int(*i)).collect();
        want.push(Item::Str(b"hello".to_vec()));
        want.push(Item::Str(mid));
        want.push(Item::Str(long));
        want.push(Item::Str(b"007".to_vec()));
        assert_eq!(items, want);
    }

    #[test]
    fn truncated_listpacks_are_errors() {
        let mut w = Writer::new();
        w.push(b"hello");
        let lp = w.finish();
        for cut in 0..lp.len() {
            assert!(decode(&lp[..cut]).is_err());
        }
    }
}
