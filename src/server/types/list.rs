//! Lists. Small lists (up to 8 KB of elements, list-max-listpack-size -2) are
//! packed in one allocation like a listpack; bigger ones are a double-ended
//! queue, O(1) at both ends and by index (Redis 7.0's quicklist gives the same
//! complexities; OBJECT ENCODING reports "quicklist" for both, as 7.0 does).
use super::packed::Packed;
use std::collections::VecDeque;

/// Bytes a packed list may hold before it becomes a deque.
const SMALL_MAX_BYTES: usize = 8192;

#[derive(Debug, Clone)]
pub enum List {
    Small(Packed),
    Big(Box<VecDeque<Box<[u8]>>>),
}

impl Default for List {
    fn default() -> Self {
        List::Small(Packed::new())
    }
}

/// Iterators over list elements, from either end, with a known length.
pub trait ListIter<'a>: DoubleEndedIterator<Item = &'a [u8]> + ExactSizeIterator {}
impl<'a, T: DoubleEndedIterator<Item = &'a [u8]> + ExactSizeIterator> ListIter<'a> for T {}

impl List {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        match self {
            List::Small(p) => p.len(),
            List::Big(d) => d.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Converts to the big encoding when adding `extra` bytes would overflow the
    /// small one.
    fn grow_check(&mut self, extra: usize) {
        if let List::Small(p) = self {
            if p.bytes() + extra + 5 > SMALL_MAX_BYTES || p.len() >= u16::MAX as usize - 1 {
                let d: VecDeque<Box<[u8]>> = p.iter().map(|x| x.into()).collect();
                *self = List::Big(Box::new(d));
            }
        }
    }
    pub fn push_back(&mut self, v: Vec<u8>) {
        self.grow_check(v.len());
        match self {
            List::Small(p) => p.push(&v),
            List::Big(d) => d.push_back(v.into_boxed_slice()),
        }
    }
    pub fn push_front(&mut self, v: Vec<u8>) {
        self.grow_check(v.len());
        match self {
            List::Small(p) => p.insert(0, &v),
            List::Big(d) => d.push_front(v.into_boxed_slice()),
        }
    }
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        match self {
            List::Small(p) => p.remove(0),
            List::Big(d) => d.pop_front().map(|b| b.into_vec()),
        }
    }
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        match self {
            List::Small(p) => {
                let n = p.len();
                if n == 0 {
                    None
                } else {
                    p.remove(n - 1)
                }
            }
            List::Big(d) => d.pop_back().map(|b| b.into_vec()),
        }
    }
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        match self {
            List::Small(p) => p.get(i),
            List::Big(d) => d.get(i).map(|v| &v[..]),
        }
    }
    pub fn set(&mut self, i: usize, v: Vec<u8>) -> bool {
        if i >= self.len() {
            return false;
        }
        self.grow_check(v.len());
        match self {
            List::Small(p) => p.set(i, &v),
            List::Big(d) => {
                d[i] = v.into_boxed_slice();
                true
            }
        }
    }
    pub fn insert(&mut self, i: usize, v: Vec<u8>) {
        self.grow_check(v.len());
        match self {
            List::Small(p) => p.insert(i, &v),
            List::Big(d) => d.insert(i, v.into_boxed_slice()),
        }
    }
    pub fn position(&self, v: &[u8]) -> Option<usize> {
        match self {
            List::Small(p) => p.find(v, 1),
            List::Big(d) => d.iter().position(|x| &x[..] == v),
        }
    }
    /// Keeps only the items for which `keep` returns true (in order).
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8]) -> bool) {
        match self {
            List::Small(p) => {
                let mut out = Packed::new();
                for x in p.iter() {
                    if keep(x) {
                        out.push(x);
                    }
                }
                *p = out;
            }
            List::Big(d) => d.retain(|x| keep(x)),
        }
    }
    /// Keeps the inclusive index range [start, end] (already clamped).
    pub fn trim(&mut self, start: usize, end: usize) {
        match self {
            List::Small(p) => {
                let n = p.len();
                if end + 1 < n {
                    p.remove_range(end + 1, n - end - 1);
                }
                p.remove_range(0, start);
            }
            List::Big(d) => {
                d.truncate(end + 1);
                d.drain(..start.min(d.len()));
            }
        }
    }
    pub fn clear(&mut self) {
        *self = List::default();
    }
    pub fn iter(&self) -> Box<dyn ListIter<'_> + '_> {
        match self {
            List::Small(p) => Box::new(p.iter().collect::<Vec<_>>().into_iter()),
            List::Big(d) => Box::new(d.iter().map(|v| &v[..])),
        }
    }
    /// Items with indexes start..=end.
    pub fn range(&self, start: usize, end: usize) -> Box<dyn ListIter<'_> + '_> {
        match self {
            List::Small(p) => Box::new(
                p.iter()
                    .skip(start)
                    .take(end + 1 - start)
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            List::Big(d) => Box::new(d.range(start..=end).map(|v| &v[..])),
        }
    }
}
