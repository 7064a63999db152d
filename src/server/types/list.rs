//! Lists (basic representation; the data-structures work refines the encodings).
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
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(|v| &v[..])
    }
}
