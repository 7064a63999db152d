//! Streams: an ordered map of nodes keyed by each node's first (master) id, the
//! same shape and complexity as Redis's radix tree of listpacks, plus the
//! stream's counters (length, last id, first id, max deleted id, entries
//! added) and its consumer groups.
pub mod group;
pub mod id;
pub mod node;

pub use group::{Consumer, Group, Nack, INVALID_ENTRIES_READ};
pub use id::StreamId;
pub use node::Node;

use std::collections::BTreeMap;

/// A callback over entries: (id, field/value pairs) -> keep going.
type EntryVisitor<'a> = dyn FnMut(StreamId, Vec<(&[u8], &[u8])>) -> bool + 'a;

/// Why an append failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The id is not above the stream's last id (or no id is left).
    NotGreater,
    /// The elements exceed what a node can hold.
    TooLarge,
}

/// How XADD/XTRIM trim a stream.
#[derive(Debug, Clone, Copy)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// The largest size of a node's elements (Redis's STREAM_LISTPACK_MAX_SIZE).
pub const NODE_MAX_SIZE: usize = 1 << 30;

/// A stream value (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct Stream {
    pub nodes: BTreeMap<StreamId, Node>,
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Vec<u8>, Group>,
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry (streamAppendItem). `id` None: an id from the clock
    /// `now_ms`; `Some((id, seq_given false))`: `id.ms` with the next sequence.
    /// A node is closed when it reaches `max_bytes` (listpack bytes) or
    /// `max_entries` (0: no limit).
    pub fn append(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        id: Option<(StreamId, bool)>,
        now_ms: u64,
        max_bytes: usize,
        max_entries: usize,
    ) -> Result<StreamId, AppendError> {
        let new_id = match id {
            Some((id, true)) => id,
            Some((id, false)) => {
                if self.last_id.ms == id.ms {
                    if self.last_id.seq == u64::MAX {
                        return Err(AppendError::NotGreater);
                    }
                    StreamId::new(id.ms, self.last_id.seq + 1)
                } else {
                    id
                }
            }
            None => {
                if now_ms > self.last_id.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    self.last_id.incr().unwrap_or(StreamId::MIN)
                }
            }
        };
        if new_id <= self.last_id {
            return Err(AppendError::NotGreater);
        }
        let total: usize = pairs.iter().map(|(f, v)| f.len() + v.len()).sum();
        if total > NODE_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        let max_bytes = if max_bytes == 0 || max_bytes > NODE_MAX_SIZE {
            NODE_MAX_SIZE
        } else {
            max_bytes
        };
        let need_new = match self.nodes.iter().next_back() {
            None => true,
            Some((_, n)) => {
                n.lp_bytes() + total >= max_bytes || (max_entries > 0 && n.count() >= max_entries)
            }
        };
        if need_new {
            // The node before is full: give back its growth slack (a Vec
            // doubles; Redis reallocates a listpack to its exact size).
            let hint = match self.nodes.iter_mut().next_back() {
                Some((_, last)) => last.seal(),
                None => 0,
            };
            let mut node = Node::new(pairs);
            node.reserve(hint + hint / 16);
            self.nodes.insert(new_id, node);
        }
        let (master, node) = self.nodes.iter_mut().next_back().expect("a node");
        node.append(*master, new_id, pairs);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = new_id;
        if self.length == 1 {
            self.first_id = new_id;
        }
        Ok(new_id)
    }

    /// Calls `f(id, fields)` for live entries with `start <= id <= end`, in
    /// order (reverse when `rev`), until it returns false.
    pub fn for_range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(StreamId, Vec<(&[u8], &[u8])>) -> bool,
    ) {
        if start > end {
            return;
        }
        let first = self
            .nodes
            .range(..=start)
            .next_back()
            .map(|(k, _)| *k)
            .unwrap_or(start);
        let visit = |master: &StreamId, node: &Node, f: &mut EntryVisitor| -> bool {
            if node.last < start {
                return true;
            }
            let entries = node.entries(*master);
            let mut go = |e: &node::RawEntry| -> Option<bool> {
                if e.is_deleted() || e.id < start || e.id > end {
                    return None;
                }
                Some(f(e.id, node.fields(e)))
            };
            if rev {
                for e in entries.iter().rev() {
                    if go(e) == Some(false) {
                        return false;
                    }
                }
            } else {
                for e in entries.iter() {
                    if e.id > end {
                        return false;
                    }
                    if go(e) == Some(false) {
                        return false;
                    }
                }
            }
            true
        };
        if rev {
            for (k, n) in self.nodes.range(first..=end).rev() {
                if !visit(k, n, &mut f) {
                    return;
                }
            }
        } else {
            for (k, n) in self.nodes.range(first..=end) {
                if !visit(k, n, &mut f) {
                    return;
                }
            }
        }
    }

    /// The fields of the live entry `id`, if there is one.
    pub fn get(&self, id: StreamId) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = None;
        self.for_range(id, id, false, |_, fields| {
            out = Some(
                fields
                    .into_iter()
                    .map(|(f, v)| (f.to_vec(), v.to_vec()))
                    .collect(),
            );
            false
        });
        out
    }

    /// Whether a live entry `id` exists.
    pub fn exists(&self, id: StreamId) -> bool {
        let mut found = false;
        self.for_range(id, id, false, |_, _| {
            found = true;
            false
        });
        found
    }

    /// The first (or last, `last`) live id; 0-0 when the stream is empty.
    pub fn edge_id(&self, last: bool) -> StreamId {
        let mut out = StreamId::MIN;
        self.for_range(StreamId::MIN, StreamId::MAX, last, |id, _| {
            out = id;
            false
        });
        out
    }

    /// Deletes live entry `id` (streamDeleteItem); a node left with no live
    /// entry is dropped. Does not touch first_id / max_deleted.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        if node.last < id {
            return false;
        }
        let entries = node.entries(master);
        let Some(e) = entries.iter().find(|e| e.id == id) else {
            return false;
        };
        if !node.mark_deleted(e) {
            return false;
        }
        if node.live == 0 {
            self.nodes.remove(&master);
        }
        self.length -= 1;
        true
    }

    /// Trims the stream (streamTrim): whole nodes first; with `approx` it stops
    /// at the first node it cannot drop entirely; `limit` (0: none) caps the
    /// entries removed. Returns how many entries were removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let Some((&master, node)) = self.nodes.iter_mut().next() else {
                break;
            };
            let entries = node.live as u64;
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => node.last < min,
            };
            if remove_node {
                self.nodes.remove(&master);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            for e in node.entries(master) {
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if node.mark_deleted(&e) {
                    self.length -= 1;
                    deleted += 1;
                }
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(false);
        }
        deleted
    }

    /// Whether `[start, end]` may hold a deleted entry (streamRangeHasTombstones).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted {
            return false;
        }
        start <= self.max_deleted && self.max_deleted <= end
    }

    /// The logical read counter of `id` (streamEstimateDistanceFromFirstEverEntry),
    /// or INVALID_ENTRIES_READ when it cannot be known.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag (streamReplyWithCGLag): None when it cannot be computed.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(g.last_id, StreamId::MAX)
        {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let er = self.estimate_distance(g.last_id);
        if er != INVALID_ENTRIES_READ {
            Some(self.entries_added as i64 - er)
        } else {
            None
        }
    }

    /// Advances a group past delivered entry `id` (the bookkeeping of
    /// streamReplyWithRange): last_id and entries_read.
    pub fn advance_group(&self, g: &mut Group, id: StreamId) {
        if id > g.last_id {
            if g.entries_read != INVALID_ENTRIES_READ
                && !self.range_has_tombstones(id, StreamId::MAX)
            {
                g.entries_read += 1;
            } else if self.entries_added > 0 {
                g.entries_read = self.estimate_distance(id);
            }
            g.last_id = id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(s: &mut Stream, ms: u64, f: &[u8], v: &[u8]) -> StreamId {
        s.append(&[(f, v)], Some((StreamId::new(ms, 0), true)), 0, 4096, 3)
            .unwrap()
    }

    /// Full nodes keep no growth slack (memory per entry close to Redis's
    /// listpacks), and later nodes start at the size of the one before.
    #[test]
    fn full_nodes_are_sealed_to_their_size() {
        let mut s = Stream::new();
        for i in 1..=1000u64 {
            let v = format!("value-{i}");
            s.append(
                &[(b"user", v.as_bytes()), (b"action", b"view")],
                Some((StreamId::new(i, 0), true)),
                0,
                4096,
                100,
            )
            .unwrap();
        }
        assert_eq!(s.nodes.len(), 10);
        for (_, n) in s.nodes.iter().take(9) {
            let (len, cap) = n.data_sizes();
            assert!(len > 0 && cap <= len + len / 8, "len {len} capacity {cap}");
        }
    }

    #[test]
    fn appends_ranges_deletes_and_trims() {
        let mut s = Stream::new();
        for i in 1..=10 {
            add(&mut s, i, b"f", format!("{i}").as_bytes());
        }
        add(&mut s, 11, b"other", b"x");
        assert_eq!(s.length, 11);
        assert_eq!(s.nodes.len(), 4);
        let mut ids = vec![];
        s.for_range(StreamId::new(3, 0), StreamId::new(7, 0), true, |id, f| {
            assert_eq!(f.len(), 1);
            ids.push(id.ms);
            true
        });
        assert_eq!(ids, vec![7, 6, 5, 4, 3]);
        assert_eq!(s.get(StreamId::new(11, 0)).unwrap()[0].0, b"other");
        assert!(s.delete(StreamId::new(5, 0)));
        assert!(!s.delete(StreamId::new(5, 0)));
        assert!(!s.exists(StreamId::new(5, 0)));
        assert_eq!(s.length, 10);
        // Whole nodes only: [1 2 3] and [4 (5) 6] go, [7 8 9] would leave 2.
        assert_eq!(s.trim(Trim::MaxLen(5), true, 0), 5);
        assert_eq!(s.trim(Trim::MaxLen(5), false, 0), 0);
        assert_eq!(s.length, 5);
        assert_eq!(s.first_id, StreamId::new(7, 0));
        assert_eq!(
            s.append(&[(b"a", b"b")], Some((StreamId::new(3, 0), true)), 0, 0, 0),
            Err(AppendError::NotGreater)
        );
    }
}
