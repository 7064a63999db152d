//! Lists. Small lists (up to 8 KB of elements, list-max-listpack-size -2) are
//! packed in one allocation like a listpack; bigger ones are a deque of such
//! packed nodes, like Redis's quicklist: O(1) at both ends, O(nodes) to find an
//! index, and a few bytes of overhead per element. OBJECT ENCODING reports
//! "quicklist" for both, as Redis 7.0 does.
use super::packed::Packed;
use std::collections::VecDeque;

/// Bytes a node of a big list holds before a new node starts.
const NODE_MAX_BYTES: usize = 8192;

/// Bytes a packed list may hold before it becomes a deque.
const SMALL_MAX_BYTES: usize = 8192;

#[derive(Debug, Clone)]
pub enum List {
    Small(Packed),
    Big(Box<Chunked>),
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
    /// An empty list in the small (packed) encoding.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            List::Small(p) => p.len(),
            List::Big(d) => d.len(),
        }
    }
    /// True when the list has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Converts to the big encoding when adding `extra` bytes would overflow the
    /// small one.
    fn grow_check(&mut self, extra: usize) {
        if let List::Small(p) = self {
            if p.bytes() + extra + 5 > SMALL_MAX_BYTES || p.len() >= u16::MAX as usize - 1 {
                let mut d = Chunked::default();
                for x in p.iter() {
                    d.push_back(x);
                }
                *self = List::Big(Box::new(d));
            }
        }
    }
    /// Appends `v` at the tail (RPUSH), converting to the big encoding first if the
    /// small one would overflow.
    pub fn push_back(&mut self, v: Vec<u8>) {
        self.grow_check(v.len());
        match self {
            List::Small(p) => p.push(&v),
            List::Big(d) => d.push_back(&v),
        }
    }
    /// Prepends `v` at the head (LPUSH), converting to the big encoding if needed.
    pub fn push_front(&mut self, v: Vec<u8>) {
        self.grow_check(v.len());
        match self {
            List::Small(p) => p.insert(0, &v),
            List::Big(d) => d.push_front(&v),
        }
    }
    /// Removes and returns the head element, or None when empty.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        match self {
            List::Small(p) => p.remove(0),
            List::Big(d) => d.pop_front(),
        }
    }
    /// Removes and returns the tail element, or None when empty.
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
            List::Big(d) => d.pop_back(),
        }
    }
    /// Element at index `i` (0-based from the head), or None when out of range.
    /// Callers translate Redis's negative indexes first.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        match self {
            List::Small(p) => p.get(i),
            List::Big(d) => d.get(i),
        }
    }
    /// Replaces element `i` with `v` (LSET); returns false and changes nothing when
    /// `i` is out of range. May convert to the big encoding.
    pub fn set(&mut self, i: usize, v: Vec<u8>) -> bool {
        if i >= self.len() {
            return false;
        }
        self.grow_check(v.len());
        match self {
            List::Small(p) => p.set(i, &v),
            List::Big(d) => d.set(i, &v),
        }
    }
    /// Inserts `v` before index `i`; an `i` at or past the end appends. May convert
    /// to the big encoding.
    pub fn insert(&mut self, i: usize, v: Vec<u8>) {
        self.grow_check(v.len());
        match self {
            List::Small(p) => p.insert(i, &v),
            List::Big(d) => d.insert(i, &v),
        }
    }
    /// Index of the first element equal to `v`, scanning from the head.
    pub fn position(&self, v: &[u8]) -> Option<usize> {
        match self {
            List::Small(p) => p.find(v, 1),
            List::Big(d) => d.range(0, d.len()).into_iter().position(|x| x == v),
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
            List::Big(d) => {
                let mut out = Chunked::default();
                for x in d.range(0, d.len()) {
                    if keep(x) {
                        out.push_back(x);
                    }
                }
                **d = out;
            }
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
                let mut out = Chunked::default();
                if start <= end {
                    for x in d.range(start, end + 1) {
                        out.push_back(x);
                    }
                }
                **d = out;
            }
        }
    }
    /// Empties the list and returns it to the small encoding.
    pub fn clear(&mut self) {
        *self = List::default();
    }
    /// Iterates over all elements, head to tail; double-ended and exact-size so
    /// callers can walk from the tail too. The small encoding collects the borrowed
    /// slices into a Vec first.
    pub fn iter(&self) -> Box<dyn ListIter<'_> + '_> {
        match self {
            List::Small(p) => Box::new(p.iter().collect::<Vec<_>>().into_iter()),
            List::Big(d) => Box::new(d.range(0, d.len()).into_iter()),
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
            List::Big(d) => Box::new(d.range(start, end + 1).into_iter()),
        }
    }
}

/// A big list: packed nodes of up to 8 KB each, in order.
#[derive(Debug, Clone, Default)]
pub struct Chunked {
    nodes: VecDeque<Packed>,
    len: usize,
}

impl Chunked {
    /// Number of elements across all nodes (kept as a counter, O(1)).
    pub fn len(&self) -> usize {
        self.len
    }
    fn fits(node: &Packed, v: &[u8]) -> bool {
        node.bytes() + v.len() + 5 <= NODE_MAX_BYTES && node.len() < u16::MAX as usize - 1
    }
    /// Appends `v` to the last node, or to a new node when it would not fit.
    pub fn push_back(&mut self, v: &[u8]) {
        match self.nodes.back_mut() {
            Some(n) if Self::fits(n, v) => n.push(v),
            _ => {
                let mut n = Packed::new();
                n.push(v);
                self.nodes.push_back(n);
            }
        }
        self.len += 1;
    }
    /// Prepends `v` to the first node, or to a new node when it would not fit.
    pub fn push_front(&mut self, v: &[u8]) {
        match self.nodes.front_mut() {
            Some(n) if Self::fits(n, v) => n.insert(0, v),
            _ => {
                let mut n = Packed::new();
                n.push(v);
                self.nodes.push_front(n);
            }
        }
        self.len += 1;
    }
    /// Removes and returns the first element, dropping its node if it empties;
    /// None when empty.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.front_mut()?;
        let v = n.remove(0);
        if n.is_empty() {
            self.nodes.pop_front();
        }
        self.len -= 1;
        v
    }
    /// Removes and returns the last element, dropping its node if it empties;
    /// None when empty.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.back_mut()?;
        let v = n.remove(n.len() - 1);
        if n.is_empty() {
            self.nodes.pop_back();
        }
        self.len -= 1;
        v
    }
    /// The node holding index `i` and the index inside it.
    fn locate(&self, mut i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        // Walk from the nearer end.
        if i < self.len / 2 {
            for (k, n) in self.nodes.iter().enumerate() {
                if i < n.len() {
                    return Some((k, i));
                }
                i -= n.len();
            }
        } else {
            let mut from_end = self.len - 1 - i;
            for (k, n) in self.nodes.iter().enumerate().rev() {
                if from_end < n.len() {
                    return Some((k, n.len() - 1 - from_end));
                }
                from_end -= n.len();
            }
        }
        None
    }
    /// Element `i`, or None when out of range; finds the node walking from the
    /// nearer end.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let (k, j) = self.locate(i)?;
        self.nodes[k].get(j)
    }
    /// Replaces element `i` with `v`, splitting its node if it grew too big; returns
    /// false when `i` is out of range.
    pub fn set(&mut self, i: usize, v: &[u8]) -> bool {
        match self.locate(i) {
            Some((k, j)) => {
                self.nodes[k].set(j, v);
                self.split_if_big(k);
                true
            }
            None => false,
        }
    }
    /// Inserts `v` before index `i` (`i` at or past the end appends), splitting the
    /// node if it grew too big.
    pub fn insert(&mut self, i: usize, v: &[u8]) {
        if i >= self.len {
            self.push_back(v);
            return;
        }
        let (k, j) = self.locate(i).expect("in range");
        self.nodes[k].insert(j, v);
        self.len += 1;
        self.split_if_big(k);
    }
    /// Splits node `k` in two when it grew past twice the node size.
    fn split_if_big(&mut self, k: usize) {
        let n = &self.nodes[k];
        if n.bytes() <= 2 * NODE_MAX_BYTES || n.len() < 2 {
            return;
        }
        let half = n.len() / 2;
        let mut a = Packed::new();
        let mut b = Packed::new();
        for (idx, x) in n.iter().enumerate() {
            if idx < half {
                a.push(x);
            } else {
                b.push(x);
            }
        }
        self.nodes[k] = a;
        self.nodes.insert(k + 1, b);
    }
    /// The elements with indexes start..end, in order.
    pub fn range(&self, start: usize, end: usize) -> Vec<&[u8]> {
        let end = end.min(self.len);
        let mut out = Vec::with_capacity(end.saturating_sub(start));
        if start >= end {
            return out;
        }
        let (mut k, mut j) = self.locate(start).expect("in range");
        while out.len() < end - start {
            let n = &self.nodes[k];
            for x in n.iter().skip(j) {
                out.push(x);
                if out.len() == end - start {
                    break;
                }
            }
            k += 1;
            j = 0;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_deque_in_both_encodings() {
        let mut rng = crate::server::util::Rng::new();
        let mut l = List::new();
        let mut r: VecDeque<Vec<u8>> = VecDeque::new();
        for round in 0..20_000u32 {
            let size = if rng.below(200) == 0 {
                9000
            } else {
                rng.below(40) as usize
            };
            let v = vec![b'a' + (round % 26) as u8; size];
            match rng.below(9) {
                0 | 1 => {
                    l.push_back(v.clone());
                    r.push_back(v);
                }
                2 | 3 => {
                    l.push_front(v.clone());
                    r.push_front(v);
                }
                4 => assert_eq!(l.pop_front(), r.pop_front()),
                5 => assert_eq!(l.pop_back(), r.pop_back()),
                6 if !r.is_empty() => {
                    let i = rng.below(r.len() as u64) as usize;
                    assert!(l.set(i, v.clone()));
                    r[i] = v;
                }
                7 => {
                    let i = rng.below(r.len() as u64 + 1) as usize;
                    l.insert(i, v.clone());
                    r.insert(i, v);
                }
                _ if !r.is_empty() => {
                    let i = rng.below(r.len() as u64) as usize;
                    assert_eq!(l.get(i), Some(&r[i][..]));
                }
                _ => {}
            }
            assert_eq!(l.len(), r.len());
        }
        assert!(matches!(l, List::Big(_)));
        let all: Vec<Vec<u8>> = l.iter().map(|x| x.to_vec()).collect();
        assert_eq!(all, r.iter().cloned().collect::<Vec<_>>());
        let n = r.len();
        let back: Vec<Vec<u8>> = l.range(n / 3, n - 1).rev().map(|x| x.to_vec()).collect();
        let want: Vec<Vec<u8>> = r.range(n / 3..n).rev().cloned().collect();
        assert_eq!(back, want);
        l.trim(2, n - 3);
        r.truncate(n - 2);
        r.drain(..2);
        assert_eq!(
            l.iter().map(|x| x.to_vec()).collect::<Vec<_>>(),
            r.iter().cloned().collect::<Vec<_>>()
        );
        l.retain(|x| x.len() % 2 == 0);
        r.retain(|x| x.len() % 2 == 0);
        assert_eq!(
            l.iter().map(|x| x.to_vec()).collect::<Vec<_>>(),
            r.iter().cloned().collect::<Vec<_>>()
        );
    }
}
