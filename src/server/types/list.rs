//! Lists: a double-ended queue, O(1) at both ends and by index (Redis 7.0's
//! quicklist gives the same complexities; OBJECT ENCODING reports "quicklist").
use std::collections::VecDeque;

#[derive(Debug, Clone, Default)]
pub struct List {
    items: VecDeque<Vec<u8>>,
}

impl List {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn push_back(&mut self, v: Vec<u8>) {
        self.items.push_back(v)
    }
    pub fn push_front(&mut self, v: Vec<u8>) {
        self.items.push_front(v)
    }
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.items.pop_front()
    }
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.items.pop_back()
    }
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.items.get(i).map(|v| &v[..])
    }
    pub fn set(&mut self, i: usize, v: Vec<u8>) -> bool {
        match self.items.get_mut(i) {
            Some(slot) => {
                *slot = v;
                true
            }
            None => false,
        }
    }
    pub fn insert(&mut self, i: usize, v: Vec<u8>) {
        self.items.insert(i, v)
    }
    pub fn position(&self, v: &[u8]) -> Option<usize> {
        self.items.iter().position(|x| x == v)
    }
    /// Keeps only the items for which `keep` returns true (in order).
    pub fn retain(&mut self, keep: impl FnMut(&Vec<u8>) -> bool) {
        self.items.retain(keep)
    }
    /// Keeps the inclusive index range [start, end] (already clamped).
    pub fn trim(&mut self, start: usize, end: usize) {
        self.items.truncate(end + 1);
        self.items.drain(..start.min(self.items.len()));
    }
    pub fn clear(&mut self) {
        self.items.clear()
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(|v| &v[..])
    }
    /// Items from index `start` on.
    pub fn range(&self, start: usize, end: usize) -> impl DoubleEndedIterator<Item = &[u8]> {
        self.items.range(start..=end).map(|v| &v[..])
    }
}
