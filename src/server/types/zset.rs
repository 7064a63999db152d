//! Sorted sets (basic representation; the data-structures work replaces the ordered
//! index with a structure that gives ranks in O(log n)).
use crate::server::keyspace::Dict;
use std::collections::BTreeSet;

/// An f64 with a total order (scores are never NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score(f64);
impl PartialOrd for Score {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Eq for Score {}
impl Ord for Score {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0
            .partial_cmp(&o.0)
            .unwrap_or(std::cmp::Ordering::Equal)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ZSet {
    scores: Dict<f64>,
    order: BTreeSet<(Score, Box<[u8]>)>,
}

impl ZSet {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.scores.len()
    }
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
    /// Adds or updates a member; true if it is new.
    pub fn insert(&mut self, member: &[u8], score: f64) -> bool {
        if let Some(old) = self.scores.insert(member.into(), score) {
            self.order.remove(&(Score(old), member.into()));
            self.order.insert((Score(score), member.into()));
            false
        } else {
            self.order.insert((Score(score), member.into()));
            true
        }
    }
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }
    pub fn remove(&mut self, member: &[u8]) -> bool {
        if let Some((k, s)) = self.scores.remove(member) {
            self.order.remove(&(Score(s), k));
            true
        } else {
            false
        }
    }
    /// Members in score order (ties by member bytes).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        self.order.iter().map(|(s, m)| (&m[..], s.0))
    }
}

impl ZSet {
    pub fn encoding(&self) -> &'static str {
        if self.len() <= 128 && self.iter().all(|(m, _)| m.len() <= 64) {
            "listpack"
        } else {
            "skiplist"
        }
    }
}
