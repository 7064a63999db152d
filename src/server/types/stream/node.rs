//! One node of a stream: a packed run of entries sharing a "master entry" (the
//! field names of the node's first entry; an entry with the same fields stores
//! only its values), as Redis's stream listpacks do.
//!
//! In-memory layout of `data`, per entry: a flags byte (deleted, same fields),
//! the id as LEB128 deltas from the node's master id (ms, then seq), then either
//! the values (same fields) or a field count and field/value pairs, each string
//! as a LEB128 length and its bytes. Deletion sets the flag in place; ids only
//! grow, so a node is always sorted.
//!
//! `lp_bytes` follows the size the node would have as a Redis listpack, so that
//! `stream-node-max-bytes` splits nodes where Redis does.

use super::id::StreamId;

/// Entry flag: deleted (a tombstone until the node is rewritten or dropped).
pub const FLAG_DELETED: u8 = 1;
/// Entry flag: the entry has the master entry's fields, only values are stored.
pub const FLAG_SAMEFIELDS: u8 = 2;

/// One stream node (see the module documentation).
#[derive(Debug, Clone)]
pub struct Node {
    fields: Box<[Box<[u8]>]>,
    data: Vec<u8>,
    /// Entries not deleted.
    pub live: u32,
    /// Entries marked deleted.
    pub deleted: u32,
    /// The id of the node's last entry (deleted or not).
    pub last: StreamId,
    lp_bytes: u32,
}

/// Where one entry sits in a node.
#[derive(Debug, Clone, Copy)]
pub struct RawEntry {
    pub id: StreamId,
    pub flags: u8,
    flags_pos: u32,
    body: u32,
}

impl RawEntry {
    /// Whether the entry is a tombstone.
    pub fn is_deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
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

fn get_varint(buf: &[u8], p: &mut usize) -> u64 {
    let mut n = 0u64;
    let mut shift = 0;
    while let Some(&b) = buf.get(*p) {
        *p += 1;
        if shift < 64 {
            n |= ((b & 0x7f) as u64) << shift;
        }
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    n
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn get_str<'a>(buf: &'a [u8], p: &mut usize) -> &'a [u8] {
    let n = get_varint(buf, p) as usize;
    let start = (*p).min(buf.len());
    let end = start.saturating_add(n).min(buf.len());
    *p = end;
    &buf[start..end]
}

/// Size of a listpack backlen for an element of `l` bytes.
fn backlen(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Bytes a listpack integer element takes.
pub fn lp_int_size(v: i64) -> usize {
    let l = if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
        3
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        4
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        5
    } else {
        9
    };
    l + backlen(l)
}

/// Bytes a listpack string element takes (integers stored as integers).
pub fn lp_str_size(s: &[u8]) -> usize {
    if s.len() <= 20 {
        if let Some(v) = crate::server::util::parse_i64(s) {
            return lp_int_size(v);
        }
    }
    let n = s.len();
    let l = if n < 64 {
        1 + n
    } else if n < 4096 {
        2 + n
    } else {
        5 + n
    };
    l + backlen(l)
}

impl Node {
    /// A node whose master entry has the fields of its first entry `pairs`.
    pub fn new(pairs: &[(&[u8], &[u8])]) -> Node {
        let fields: Box<[Box<[u8]>]> = pairs.iter().map(|(f, _)| Box::from(*f)).collect();
        let mut lp = 6 + 1 + lp_int_size(0) * 2 + lp_int_size(fields.len() as i64) + 2;
        for f in fields.iter() {
            lp += lp_str_size(f);
        }
        Node {
            fields,
            data: Vec::new(),
            live: 0,
            deleted: 0,
            last: StreamId::MIN,
            lp_bytes: lp.min(u32::MAX as usize) as u32,
        }
    }

    /// The master entry's fields.
    pub fn master_fields(&self) -> &[Box<[u8]>] {
        &self.fields
    }

    /// The size this node would have as a Redis listpack.
    pub fn lp_bytes(&self) -> usize {
        self.lp_bytes as usize
    }

    /// Entries, live and deleted.
    pub fn count(&self) -> usize {
        (self.live + self.deleted) as usize
    }

    fn same_fields(&self, pairs: &[(&[u8], &[u8])]) -> bool {
        pairs.len() == self.fields.len()
            && pairs
                .iter()
                .zip(self.fields.iter())
                .all(|((f, _), m)| *f == &m[..])
    }

    /// Frees the unused capacity of a node that takes no more entries, and
    /// returns the size of its data (the next node's capacity hint). The
    /// bytes move to an allocation of their exact size: a shrinking realloc
    /// may keep the block (mimalloc keeps it while at least half is used).
    pub fn seal(&mut self) -> usize {
        let len = self.data.len();
        if self.data.capacity() - len > len / 8 {
            let mut exact = Vec::with_capacity(len);
            exact.extend_from_slice(&self.data);
            self.data = exact;
        }
        len
    }

    /// The entry data's length and capacity (for tests of `seal`).
    #[cfg(test)]
    pub fn data_sizes(&self) -> (usize, usize) {
        (self.data.len(), self.data.capacity())
    }

    /// Reserves room for `bytes` of entries (a new node sized like the one
    /// before it, so that it does not grow by doubling).
    pub fn reserve(&mut self, bytes: usize) {
        self.data.reserve_exact(bytes);
    }

    /// Appends an entry (`id` above every id in the node, `master` the node's key).
    pub fn append(&mut self, master: StreamId, id: StreamId, pairs: &[(&[u8], &[u8])]) {
        let same = self.same_fields(pairs);
        let flags = if same { FLAG_SAMEFIELDS } else { 0 };
        self.data.push(flags);
        put_varint(&mut self.data, id.ms.wrapping_sub(master.ms));
        put_varint(&mut self.data, id.seq);
        let ms_delta = id.ms.wrapping_sub(master.ms) as i64;
        let seq_delta = id.seq.wrapping_sub(master.seq) as i64;
        let mut lp = lp_int_size(flags as i64) + lp_int_size(ms_delta) + lp_int_size(seq_delta);
        let n = pairs.len() as i64;
        if same {
            for (_, v) in pairs {
                put_str(&mut self.data, v);
                lp += lp_str_size(v);
            }
            lp += lp_int_size(n + 3);
        } else {
            put_varint(&mut self.data, pairs.len() as u64);
            lp += lp_int_size(n);
            for (f, v) in pairs {
                put_str(&mut self.data, f);
                put_str(&mut self.data, v);
                lp += lp_str_size(f) + lp_str_size(v);
            }
            lp += lp_int_size(2 * n + 4);
        }
        self.live += 1;
        self.last = id;
        self.lp_bytes = (self.lp_bytes as usize + lp).min(u32::MAX as usize) as u32;
    }

    /// Every entry of the node, in id order, deleted ones included.
    pub fn entries(&self, master: StreamId) -> Vec<RawEntry> {
        let mut out = Vec::with_capacity(self.count());
        let mut p = 0;
        let d = &self.data;
        while p < d.len() {
            let flags_pos = p;
            let flags = d[p];
            p += 1;
            let ms = master.ms.wrapping_add(get_varint(d, &mut p));
            let seq = get_varint(d, &mut p);
            let body = p;
            if flags & FLAG_SAMEFIELDS != 0 {
                for _ in 0..self.fields.len() {
                    get_str(d, &mut p);
                }
            } else {
                let n = get_varint(d, &mut p);
                for _ in 0..n.saturating_mul(2) {
                    if p >= d.len() {
                        break;
                    }
                    get_str(d, &mut p);
                }
            }
            out.push(RawEntry {
                id: StreamId::new(ms, seq),
                flags,
                flags_pos: flags_pos as u32,
                body: body as u32,
            });
        }
        out
    }

    /// The field/value pairs of an entry.
    pub fn fields(&self, e: &RawEntry) -> Vec<(&[u8], &[u8])> {
        let d = &self.data;
        let mut p = e.body as usize;
        if e.flags & FLAG_SAMEFIELDS != 0 {
            self.fields
                .iter()
                .map(|f| (&f[..], get_str(d, &mut p)))
                .collect()
        } else {
            let n = get_varint(d, &mut p) as usize;
            let mut out = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                if p >= d.len() {
                    break;
                }
                let f = get_str(d, &mut p);
                let v = get_str(d, &mut p);
                out.push((f, v));
            }
            out
        }
    }

    /// Marks an entry deleted; false if it already was.
    pub fn mark_deleted(&mut self, e: &RawEntry) -> bool {
        let b = &mut self.data[e.flags_pos as usize];
        if *b & FLAG_DELETED != 0 {
            return false;
        }
        *b |= FLAG_DELETED;
        self.live -= 1;
        self.deleted += 1;
        true
    }
}
