//! Sorted sets, with Redis's two encodings:
//! - `Small`: a vector kept sorted by (score, member), like a listpack, while there
//!   are at most zset-max-listpack-entries members of at most
//!   zset-max-listpack-value bytes: compact, and fast at that size.
//! - `Big`: a hash table member → score plus an order-statistic tree (a treap whose
//!   nodes know their subtree size), the role Redis's skip list plays: insert,
//!   delete, rank and select by rank in O(log n).
//!
//! Every range command works on ranks: it turns its bounds (scores, members or
//! indexes) into a half-open rank range with `count_*` and then reads or removes it.
use super::packed::Packed;
use crate::server::dict::Dict;
use std::cmp::Ordering;

/// Redis orders by score, then by member bytes.
#[inline]
fn cmp_key(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    score: f64,
    member: Box<[u8]>,
    left: u32,
    right: u32,
    prio: u32,
    size: u32,
}

/// An order-statistic treap in an arena (indexes instead of pointers).
#[derive(Debug, Clone)]
struct Tree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    seed: u32,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            seed: 0x2545_F491,
        }
    }
}

impl Tree {
    fn size(&self, t: u32) -> u32 {
        if t == NIL {
            0
        } else {
            self.nodes[t as usize].size
        }
    }
    fn fix(&mut self, t: u32) {
        let (l, r) = (self.nodes[t as usize].left, self.nodes[t as usize].right);
        self.nodes[t as usize].size = 1 + self.size(l) + self.size(r);
    }
    fn next_prio(&mut self) -> u32 {
        // xorshift32: priorities only need to look random to the shape.
        let mut x = self.seed;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.seed = x;
        x
    }
    /// Splits `t` into (keys before (score, member), rest).
    fn split(&mut self, t: u32, score: f64, member: &[u8]) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let n = &self.nodes[t as usize];
        let o = cmp_key(n.score, &n.member, score, member);
        if o == Ordering::Less {
            let r = n.right;
            let (a, b) = self.split(r, score, member);
            self.nodes[t as usize].right = a;
            self.fix(t);
            (t, b)
        } else {
            let l = n.left;
            let (a, b) = self.split(l, score, member);
            self.nodes[t as usize].left = b;
            self.fix(t);
            (a, t)
        }
    }
    /// Joins two trees where every key of `a` is before every key of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio > self.nodes[b as usize].prio {
            let r = self.nodes[a as usize].right;
            let m = self.merge(r, b);
            self.nodes[a as usize].right = m;
            self.fix(a);
            a
        } else {
            let l = self.nodes[b as usize].left;
            let m = self.merge(a, l);
            self.nodes[b as usize].left = m;
            self.fix(b);
            b
        }
    }
    /// Adds a node for (score, member); the key must not be in the tree.
    fn insert(&mut self, score: f64, member: Box<[u8]>) {
        let node = Node {
            score,
            member,
            left: NIL,
            right: NIL,
            prio: 0,
            size: 1,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.link(idx);
    }
    /// Puts the detached node `idx` into the tree with a fresh priority.
    fn link(&mut self, idx: u32) {
        let prio = self.next_prio();
        let n = &mut self.nodes[idx as usize];
        (n.left, n.right, n.size, n.prio) = (NIL, NIL, 1, prio);
        self.root = self.insert_at(self.root, idx);
    }
    /// Inserts node `idx` into the subtree `t`; returns the subtree's new root.
    /// One descent to where the node's priority belongs, then a split of only
    /// the subtree below it (expected O(1) size): a treap insert costs one path,
    /// where split + two merges walked it three times.
    fn insert_at(&mut self, t: u32, idx: u32) -> u32 {
        if t == NIL {
            return idx;
        }
        if self.nodes[idx as usize].prio > self.nodes[t as usize].prio {
            // The key is borrowed out of the node for the split (no allocation).
            let member = std::mem::take(&mut self.nodes[idx as usize].member);
            let score = self.nodes[idx as usize].score;
            let (l, r) = self.split(t, score, &member);
            let n = &mut self.nodes[idx as usize];
            n.member = member;
            (n.left, n.right) = (l, r);
            self.fix(idx);
            return idx;
        }
        let goes_left = {
            let (a, b) = (&self.nodes[idx as usize], &self.nodes[t as usize]);
            cmp_key(a.score, &a.member, b.score, &b.member) == Ordering::Less
        };
        if goes_left {
            let l = self.insert_at(self.nodes[t as usize].left, idx);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.insert_at(self.nodes[t as usize].right, idx);
            self.nodes[t as usize].right = r;
        }
        self.nodes[t as usize].size += 1;
        t
    }
    /// Unlinks the node with key (score, member) from the subtree `t`: returns
    /// the subtree's new root and the node's index (NIL when absent). The node
    /// keeps its member, so it can be linked again with another score.
    fn unlink_at(&mut self, t: u32, score: f64, member: &[u8]) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let o = {
            let n = &self.nodes[t as usize];
            cmp_key(score, member, n.score, &n.member)
        };
        let (l, r) = (self.nodes[t as usize].left, self.nodes[t as usize].right);
        let found = match o {
            Ordering::Equal => return (self.merge(l, r), t),
            Ordering::Less => {
                let (nl, found) = self.unlink_at(l, score, member);
                self.nodes[t as usize].left = nl;
                found
            }
            Ordering::Greater => {
                let (nr, found) = self.unlink_at(r, score, member);
                self.nodes[t as usize].right = nr;
                found
            }
        };
        if found != NIL {
            self.nodes[t as usize].size -= 1;
        }
        (t, found)
    }
    fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let (root, found) = self.unlink_at(self.root, score, member);
        self.root = root;
        if found != NIL {
            self.nodes[found as usize].member = Box::default();
            self.free.push(found);
        }
        if self.root == NIL {
            self.nodes.clear();
            self.free.clear();
        }
        found != NIL
    }
    /// Unlinks the first node in order (the last with `max`) in one descent
    /// along the edge, without comparing keys: ZPOPMIN/ZPOPMAX's path. The
    /// edge node has no child on the edge side, so its other child takes its
    /// place, which keeps the heap order of priorities.
    fn pop_edge(&mut self, max: bool) -> Option<(Box<[u8]>, f64)> {
        if self.root == NIL {
            return None;
        }
        let mut parent = NIL;
        let mut t = self.root;
        loop {
            let n = &mut self.nodes[t as usize];
            let next = if max { n.right } else { n.left };
            if next == NIL {
                break;
            }
            n.size -= 1;
            parent = t;
            t = next;
        }
        let n = &mut self.nodes[t as usize];
        let child = if max { n.left } else { n.right };
        let member = std::mem::take(&mut n.member);
        let score = n.score;
        if parent == NIL {
            self.root = child;
        } else if max {
            self.nodes[parent as usize].right = child;
        } else {
            self.nodes[parent as usize].left = child;
        }
        self.free.push(t);
        if self.root == NIL {
            self.nodes.clear();
            self.free.clear();
        }
        Some((member, score))
    }
    /// Moves `member` from score `old` to score `new`, reusing its node (no
    /// allocation); false when (old, member) is not in the tree.
    fn rescore(&mut self, old: f64, member: &[u8], new: f64) -> bool {
        let (root, found) = self.unlink_at(self.root, old, member);
        self.root = root;
        if found == NIL {
            return false;
        }
        self.nodes[found as usize].score = new;
        self.link(found);
        true
    }
    /// Number of nodes for which `before(node)` holds, where `before` is monotone
    /// (true for a prefix of the order).
    fn count_prefix(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut t = self.root;
        let mut n = 0;
        while t != NIL {
            let node = &self.nodes[t as usize];
            if before(node.score, &node.member) {
                n += self.size(node.left) as usize + 1;
                t = node.right;
            } else {
                t = node.left;
            }
        }
        n
    }
    fn select(&self, mut k: usize) -> Option<(&[u8], f64)> {
        let mut t = self.root;
        while t != NIL {
            let node = &self.nodes[t as usize];
            let ls = self.size(node.left) as usize;
            match k.cmp(&ls) {
                Ordering::Less => t = node.left,
                Ordering::Equal => return Some((&node.member, node.score)),
                Ordering::Greater => {
                    k -= ls + 1;
                    t = node.right;
                }
            }
        }
        None
    }
    /// The nodes with ranks `start..end`, in order (an in-order walk from `start`).
    fn range(&self, start: usize, end: usize, mut f: impl FnMut(&[u8], f64)) {
        let mut stack = Vec::new();
        let mut t = self.root;
        let mut k = start;
        while t != NIL {
            let node = &self.nodes[t as usize];
            let ls = self.size(node.left) as usize;
            if k < ls {
                stack.push(t);
                t = node.left;
            } else if k == ls {
                stack.push(t);
                break;
            } else {
                k -= ls + 1;
                t = node.right;
            }
        }
        let mut left = end.saturating_sub(start);
        while left > 0 {
            let Some(t) = stack.pop() else { break };
            let node = &self.nodes[t as usize];
            f(&node.member, node.score);
            left -= 1;
            let mut c = node.right;
            while c != NIL {
                stack.push(c);
                c = self.nodes[c as usize].left;
            }
        }
    }
}

/// The small encoding: (member, score) pairs packed in one allocation, sorted.
#[derive(Debug, Clone, Default)]
pub struct SmallZ(Packed);

fn score_of(b: &[u8]) -> f64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    f64::from_le_bytes(a)
}

impl SmallZ {
    fn len(&self) -> usize {
        self.0.len() / 2
    }
    fn iter(&self) -> impl Iterator<Item = (f64, &[u8])> + '_ {
        let mut it = self.0.iter();
        std::iter::from_fn(move || {
            let m = it.next()?;
            let s = it.next()?;
            Some((score_of(s), m))
        })
    }
    fn position(&self, member: &[u8]) -> Option<usize> {
        self.0.find(member, 2).map(|i| i / 2)
    }
    fn get(&self, i: usize) -> Option<(f64, &[u8])> {
        Some((score_of(self.0.get(2 * i + 1)?), self.0.get(2 * i)?))
    }
    fn remove(&mut self, i: usize) {
        self.0.remove_range(2 * i, 2);
    }
    fn remove_range(&mut self, i: usize, n: usize) {
        self.0.remove_range(2 * i, 2 * n);
    }
    fn partition_point(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        self.iter().take_while(|(s, m)| pred(*s, m)).count()
    }
    fn insert(&mut self, pos: usize, score: f64, member: &[u8]) {
        self.0.insert(2 * pos, &score.to_le_bytes());
        self.0.insert(2 * pos, member);
    }
}

#[derive(Debug, Clone)]
pub enum ZSet {
    Small(SmallZ),
    Big(Box<BigZ>),
}

/// The big encoding: member -> score, and the order-statistic tree.
#[derive(Debug, Clone, Default)]
pub struct BigZ {
    dict: Dict<f64>,
    tree: Tree,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Small(SmallZ::default())
    }
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Added,
    Updated,
    Unchanged,
}

impl ZSet {
    /// An empty sorted set in the small (listpack) encoding.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            ZSet::Small(v) => v.len(),
            ZSet::Big(b) => b.dict.len(),
        }
    }
    /// True when the set has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// DEBUG HTSTATS-KEY's statistics of the member table; None while small.
    pub fn table_stats(&self) -> Option<String> {
        match self {
            ZSet::Big(b) => Some(b.dict.stats()),
            ZSet::Small(_) => None,
        }
    }
    /// The score of `member`, or None when absent. Linear scan while small, a hash
    /// lookup when big.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Small(v) => v.position(member).and_then(|i| v.get(i)).map(|(s, _)| s),
            ZSet::Big(b) => b.dict.get(member).copied(),
        }
    }
    /// Adds or updates with Redis's default thresholds (tests; the server
    /// always passes the configured ones to `insert_with`).
    #[cfg(test)]
    pub fn insert(&mut self, member: &[u8], score: f64) -> Inserted {
        self.insert_with(member, score, 128, 64)
    }
    /// Adds a member or changes its score, converting to the big encoding when the
    /// small one would exceed `max_entries` entries or `max_value` bytes.
    pub fn insert_with(
        &mut self,
        member: &[u8],
        score: f64,
        max_entries: u64,
        max_value: u64,
    ) -> Inserted {
        if let ZSet::Small(v) = self {
            // A listpack stores -0 as the integer 0, so Redis reads it back as 0.
            let score = score + 0.0;
            let existing = v.position(member);
            if let Some(i) = existing {
                if v.get(i).map(|(s, _)| s) == Some(score) {
                    return Inserted::Unchanged;
                }
                v.remove(i);
                let pos = v.partition_point(|s, x| cmp_key(s, x, score, member) == Ordering::Less);
                v.insert(pos, score, member);
                return Inserted::Updated;
            }
            if member.len() as u64 > max_value || v.len() as u64 + 1 > max_entries {
                self.convert();
            } else {
                let pos = v.partition_point(|s, x| cmp_key(s, x, score, member) == Ordering::Less);
                v.insert(pos, score, member);
                return Inserted::Added;
            }
        }
        let ZSet::Big(b) = self else {
            unreachable!("converted above")
        };
        match b.dict.get_mut(member) {
            Some(old) => {
                if *old == score {
                    return Inserted::Unchanged;
                }
                let prev = *old;
                *old = score;
                if !b.tree.rescore(prev, member, score) {
                    b.tree.insert(score, member.into());
                }
                Inserted::Updated
            }
            None => {
                b.dict.insert(member.into(), score);
                b.tree.insert(score, member.into());
                Inserted::Added
            }
        }
    }
    fn convert(&mut self) {
        if let ZSet::Small(v) = self {
            let mut dict = Dict::with_capacity(v.len() + 1);
            let mut tree = Tree::default();
            for (s, m) in v.iter() {
                tree.insert(s, m.into());
                dict.insert(m.into(), s);
            }
            *self = ZSet::Big(Box::new(BigZ { dict, tree }));
        }
    }
    /// Removes `member`; true if it was present. A big set never converts back
    /// to the small encoding.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Small(v) => match v.position(member) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            ZSet::Big(b) => match b.dict.remove(member) {
                Some((_, s)) => {
                    b.tree.remove(s, member);
                    true
                }
                None => false,
            },
        }
    }
    /// 0-based rank in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.count_before(|s, m| cmp_key(s, m, score, member) == Ordering::Less))
    }
    /// How many members satisfy `before`, a predicate true for a prefix of the order.
    pub fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Small(v) => v.partition_point(before),
            ZSet::Big(b) => b.tree.count_prefix(before),
        }
    }
    /// Members with a score below `score` (or at most `score` when `inclusive`).
    pub fn count_score(&self, score: f64, inclusive: bool) -> usize {
        if inclusive {
            self.count_before(|s, _| s <= score)
        } else {
            self.count_before(|s, _| s < score)
        }
    }
    /// Members before `member` in lexicographic order (or up to it when
    /// `inclusive`); meaningful when all scores are equal, as in Redis.
    pub fn count_lex(&self, member: &[u8], inclusive: bool) -> usize {
        if inclusive {
            self.count_before(|_, m| m <= member)
        } else {
            self.count_before(|_, m| m < member)
        }
    }
    /// The member and score at 0-based ascending rank `k`, or None when out of range.
    pub fn get_by_rank(&self, k: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Small(v) => v.get(k).map(|(s, m)| (m, s)),
            ZSet::Big(b) => b.tree.select(k),
        }
    }
    /// The members with ranks `start..end` (ascending), copied out.
    pub fn range(&self, start: usize, end: usize) -> Vec<(Vec<u8>, f64)> {
        let end = end.min(self.len());
        let mut out = Vec::with_capacity(end.saturating_sub(start));
        if start >= end {
            return out;
        }
        match self {
            ZSet::Small(v) => out.extend(
                v.iter()
                    .skip(start)
                    .take(end - start)
                    .map(|(s, m)| (m.to_vec(), s)),
            ),
            ZSet::Big(b) => b.tree.range(start, end, |m, s| out.push((m.to_vec(), s))),
        }
        out
    }
    /// Every member in order.
    pub fn iter_all(&self) -> Vec<(Vec<u8>, f64)> {
        self.range(0, self.len())
    }
    /// Removes the members with ranks `start..end`; returns them.
    pub fn remove_range(&mut self, start: usize, end: usize) -> Vec<(Vec<u8>, f64)> {
        let gone = self.range(start, end);
        match self {
            ZSet::Small(v) => v.remove_range(start, gone.len()),
            ZSet::Big(_) => {
                for (m, _) in &gone {
                    self.remove(m);
                }
            }
        }
        gone
    }
    /// Removes and returns up to `count` members from the low end (from the
    /// high end with `max`), in the order they are popped.
    pub fn pop(&mut self, max: bool, count: usize) -> Vec<(Vec<u8>, f64)> {
        let len = self.len();
        let n = count.min(len);
        match self {
            ZSet::Small(_) => {
                let mut out = if max {
                    self.remove_range(len - n, len)
                } else {
                    self.remove_range(0, n)
                };
                if max {
                    out.reverse();
                }
                out
            }
            ZSet::Big(b) => {
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    let Some((member, score)) = b.tree.pop_edge(max) else {
                        break;
                    };
                    b.dict.remove(&member);
                    out.push((member.into_vec(), score));
                }
                out
            }
        }
    }
    /// Calls `f` for every member (order unspecified for the big encoding: table order).
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            ZSet::Small(v) => v.iter().for_each(|(s, m)| f(m, s)),
            ZSet::Big(b) => b.dict.iter().for_each(|(m, s)| f(m, *s)),
        }
    }
    /// ZSCAN: a small set is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Small(_) => {
                self.for_each(f);
                0
            }
            ZSet::Big(b) => b.dict.scan(cursor, |m, s| f(m, *s)),
        }
    }
    /// The OBJECT ENCODING name: "listpack" or "skiplist", as Redis 7.0 reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Small(_) => "listpack",
            ZSet::Big(_) => "skiplist",
        }
    }
    /// True while the set uses the small (listpack) encoding.
    pub fn is_small(&self) -> bool {
        matches!(self, ZSet::Small(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(z: &ZSet, reference: &std::collections::BTreeMap<Vec<u8>, f64>) {
        let mut want: Vec<(Vec<u8>, f64)> =
            reference.iter().map(|(m, s)| (m.clone(), *s)).collect();
        want.sort_by(|a, b| cmp_key(a.1, &a.0, b.1, &b.0));
        assert_eq!(z.iter_all(), want);
        assert_eq!(z.len(), want.len());
        for (i, (m, _)) in want.iter().enumerate() {
            assert_eq!(z.rank(m), Some(i));
            assert_eq!(z.get_by_rank(i).map(|(x, _)| x.to_vec()), Some(m.clone()));
        }
        if want.len() > 3 {
            assert_eq!(z.range(1, 3), want[1..3].to_vec());
        }
    }

    /// The big encoding alone, with many members and frequent score changes
    /// (the rescore path that reuses nodes) and removals.
    #[test]
    fn pops_from_both_ends_agree_with_a_reference() {
        let mut z = ZSet::new();
        let mut reference = std::collections::BTreeMap::new();
        let mut x = 0x9e37_79b9u64;
        for i in 0..3000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = format!("m{}", x % 5000).into_bytes();
            let score = (x % 97) as f64;
            z.insert(&m, score);
            reference.insert(m, score);
            if i % 7 == 0 {
                let max = i % 2 == 0;
                let got = z.pop(max, 3);
                let mut order: Vec<(f64, Vec<u8>)> =
                    reference.iter().map(|(m, s)| (*s, m.clone())).collect();
                order.sort_by(|a, b| cmp_key(a.0, &a.1, b.0, &b.1));
                if max {
                    order.reverse();
                }
                let want: Vec<(Vec<u8>, f64)> =
                    order.into_iter().take(3).map(|(s, m)| (m, s)).collect();
                assert_eq!(
                    got,
                    want,
                    "pop {} at {}",
                    if max { "max" } else { "min" },
                    i
                );
                for (m, _) in &got {
                    reference.remove(m);
                }
                check(&z, &reference);
            }
        }
        while !reference.is_empty() {
            let got = z.pop(false, 100);
            for (m, _) in &got {
                assert!(reference.remove(m).is_some());
            }
        }
        assert!(z.is_empty());
        assert!(z.pop(true, 5).is_empty());
    }

    #[test]
    fn big_encoding_with_many_updates_agrees_with_a_reference() {
        let mut rng = crate::server::util::Rng::new();
        let mut z = ZSet::new();
        let mut r = std::collections::BTreeMap::new();
        for round in 0..40_000 {
            let m = format!("element:{:012}", rng.below(3000)).into_bytes();
            let s = rng.below(500) as f64;
            match rng.below(5) {
                0 => assert_eq!(z.remove(&m), r.remove(&m).is_some()),
                _ => {
                    let before = r.insert(m.clone(), s);
                    let got = z.insert_with(&m, s, 16, 64);
                    assert_eq!(got == Inserted::Added, before.is_none());
                }
            }
            if round % 5000 == 0 {
                check(&z, &r);
            }
        }
        check(&z, &r);
        while !z.is_empty() {
            let gone = z.remove_range(0, 7);
            for (m, _) in gone {
                r.remove(&m);
            }
        }
        assert!(r.is_empty());
    }

    #[test]
    fn small_and_big_agree_with_a_reference() {
        let mut rng = crate::server::util::Rng::new();
        for max_entries in [128u64, 4] {
            let mut z = ZSet::new();
            let mut r = std::collections::BTreeMap::new();
            for round in 0..3000 {
                let m = format!("m{}", rng.below(60)).into_bytes();
                let s = rng.below(20) as f64 - 10.0;
                if rng.below(3) == 0 {
                    assert_eq!(z.remove(&m), r.remove(&m).is_some());
                } else {
                    let before = r.insert(m.clone(), s);
                    let got = z.insert_with(&m, s, max_entries, 64);
                    let want = match before {
                        None => Inserted::Added,
                        Some(b) if b == s => Inserted::Unchanged,
                        Some(_) => Inserted::Updated,
                    };
                    assert_eq!(got, want);
                }
                if round % 100 == 0 {
                    check(&z, &r);
                }
            }
            check(&z, &r);
            assert_eq!(z.is_small(), max_entries == 128);
            let n = z.count_score(0.0, false);
            assert_eq!(n, r.values().filter(|s| **s < 0.0).count());
            let n = z.count_score(0.0, true);
            assert_eq!(n, r.values().filter(|s| **s <= 0.0).count());
            let len = z.len();
            let gone = z.remove_range(0, 5);
            assert_eq!(gone.len(), 5.min(len));
            assert_eq!(z.len(), len - gone.len());
        }
    }
}
