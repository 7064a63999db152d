//! The byte-string keyed hash table behind the keyspace, hashes and sets.
//!
//! Why not `std::collections::HashMap`: SCAN needs Redis's guarantee (every element
//! present for the whole iteration is returned at least once, even across resizes),
//! which comes from a power-of-two table of chained buckets walked with a
//! reverse-binary cursor; and RANDOMKEY, SPOP and eviction need a random element in
//! O(1), which needs access to the buckets.
//!
//! The table doubles when it holds as many elements as buckets and halves when it is
//! less than 1/8 full, so chains stay short and random picks find a non-empty bucket
//! after a few tries. Keys are hashed with a per-process random seed so that a client
//! cannot choose keys that collide.

/// One element of a bucket's chain.
#[derive(Debug, Clone)]
struct Node<V> {
    /// `hash_bytes(key)`, kept so that a chain walk skips other keys without
    /// touching their bytes (another cache miss each) and a resize rehashes
    /// nothing.
    hash: u64,
    key: Key,
    value: V,
    next: Option<Box<Node<V>>>,
}

/// Bytes a key may have to be kept inside its node.
const INLINE: usize = 22;

/// A node's key: short keys (most keys, fields and members) live inside the
/// node itself, long ones in their own allocation. Inline keys save an
/// allocation (32 bytes with glibc's malloc) per element, and comparing one
/// touches no memory beyond the node the chain walk already loaded.
#[derive(Debug, Clone)]
enum Key {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
}

impl Key {
    fn from_slice(k: &[u8]) -> Key {
        if k.len() <= INLINE {
            let mut b = [0u8; INLINE];
            b[..k.len()].copy_from_slice(k);
            Key::Inline(k.len() as u8, b)
        } else {
            Key::Heap(k.into())
        }
    }
    fn from_box(k: Box<[u8]>) -> Key {
        if k.len() <= INLINE {
            Key::from_slice(&k)
        } else {
            Key::Heap(k)
        }
    }
    fn into_box(self) -> Box<[u8]> {
        match self {
            Key::Inline(n, b) => b[..n as usize].into(),
            Key::Heap(b) => b,
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Key::Inline(n, b) => &b[..*n as usize],
            Key::Heap(b) => b,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Dict<V> {
    table: Vec<Option<Box<Node<V>>>>,
    len: usize,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Dict {
            table: Vec::new(),
            len: 0,
        }
    }
}

/// The process-wide hash seed, drawn once.
fn seed() -> u64 {
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec we own.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        let pid = std::process::id() as u64;
        mix(
            ts.tv_nsec as u64 ^ (ts.tv_sec as u64).rotate_left(32),
            pid | 1,
        )
    })
}

#[inline]
fn mix(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

/// A fast seeded hash of a byte string (multiply-fold over 8-byte words).
#[inline]
pub fn hash_bytes(key: &[u8]) -> u64 {
    const K1: u64 = 0x9E37_79B9_7F4A_7C15;
    const K2: u64 = 0xA076_1D64_78BD_642F;
    let mut h = seed() ^ (key.len() as u64).wrapping_mul(K1);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = mix(h ^ w, K2);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = mix(h ^ u64::from_le_bytes(b), K1);
    }
    mix(h, K2 ^ 0x5555_5555_5555_5555)
}

impl<V> Dict<V> {
    /// An empty table; no buckets are allocated until the first insert.
    pub fn new() -> Self {
        Self::default()
    }
    /// An empty table pre-sized for about `n` elements: `n` rounded up to a power
    /// of two buckets, at least 4 (none when `n` is 0).
    pub fn with_capacity(n: usize) -> Self {
        let mut d = Self::default();
        if n > 0 {
            d.resize(n.next_power_of_two().max(4));
        }
        d
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when the table holds no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn find(&self, key: &[u8]) -> Option<&Node<V>> {
        if self.table.is_empty() {
            return None;
        }
        let h = hash_bytes(key);
        let mut n = self.table[(h as usize) & (self.table.len() - 1)].as_deref();
        while let Some(node) = n {
            if node.hash == h && &node.key[..] == key {
                return Some(node);
            }
            n = node.next.as_deref();
        }
        None
    }
    fn find_mut(&mut self, key: &[u8]) -> Option<&mut Node<V>> {
        if self.table.is_empty() {
            return None;
        }
        let h = hash_bytes(key);
        let i = (h as usize) & (self.table.len() - 1);
        let mut n = self.table[i].as_deref_mut();
        while let Some(node) = n {
            if node.hash == h && &node.key[..] == key {
                return Some(node);
            }
            n = node.next.as_deref_mut();
        }
        None
    }
    /// The value stored under `key`, or None.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.find(key).map(|n| &n.value)
    }
    /// A mutable reference to the value under `key`, or None.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.find_mut(key).map(|n| &mut n.value)
    }
    /// True when `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.find(key).is_some()
    }

    /// Rebuilds the table with `size` buckets (a power of two).
    fn resize(&mut self, size: usize) {
        let old = std::mem::take(&mut self.table);
        self.table.resize_with(size, || None);
        let mask = size - 1;
        for mut bucket in old {
            while let Some(mut node) = bucket {
                bucket = node.next.take();
                let i = (node.hash as usize) & mask;
                node.next = self.table[i].take();
                self.table[i] = Some(node);
            }
        }
    }
    fn grow_for_one_more(&mut self) {
        if self.table.is_empty() {
            self.resize(4);
        } else if self.len >= self.table.len() {
            self.resize(self.table.len() * 2);
        }
    }
    fn maybe_shrink(&mut self) {
        if self.len == 0 {
            self.table = Vec::new();
        } else if self.table.len() > 4 && self.len * 8 < self.table.len() {
            self.resize((self.len * 2).next_power_of_two().max(4));
        }
    }
    /// Links a new node for a key known to be absent, growing the table first.
    fn push_new(&mut self, hash: u64, key: Key, value: V) -> &mut V {
        self.grow_for_one_more();
        let i = (hash as usize) & (self.table.len() - 1);
        let next = self.table[i].take();
        self.len += 1;
        let node = self.table[i].insert(Box::new(Node {
            hash,
            key,
            value,
            next,
        }));
        &mut node.value
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: Box<[u8]>, value: V) -> Option<V> {
        if let Some(n) = self.find_mut(&key) {
            return Some(std::mem::replace(&mut n.value, value));
        }
        self.push_new(hash_bytes(&key), Key::from_box(key), value);
        None
    }
    /// The value of `key`, inserted with `make` when absent; true if inserted.
    /// One hash computation and one chain walk.
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> (&mut V, bool) {
        let hash = hash_bytes(key);
        let h = hash as usize;
        if !self.table.is_empty() {
            let i = h & (self.table.len() - 1);
            let mut found: *mut Node<V> = std::ptr::null_mut();
            let mut n = self.table[i].as_deref_mut();
            while let Some(node) = n {
                if node.hash == hash && &node.key[..] == key {
                    found = node;
                    break;
                }
                n = node.next.as_deref_mut();
            }
            if !found.is_null() {
                // SAFETY: `found` points at a node of this table, which is not
                // modified before the returned borrow of `self` ends.
                return (unsafe { &mut (*found).value }, false);
            }
        }
        (self.push_new(hash, Key::from_slice(key), make()), true)
    }
    /// Inserts `key` (owned, not copied) with `value` unless it is present, in
    /// one hash computation and one chain walk; when it was present, both are
    /// handed back. Bulk loads use it: a snapshot must not hold a key twice.
    pub fn insert_new(&mut self, key: Box<[u8]>, value: V) -> Result<(), (Box<[u8]>, V)> {
        let hash = hash_bytes(&key);
        let h = hash as usize;
        if !self.table.is_empty() {
            let mut n = self.table[h & (self.table.len() - 1)].as_deref();
            while let Some(node) = n {
                if node.hash == hash && *node.key == *key {
                    return Err((key, value));
                }
                n = node.next.as_deref();
            }
        }
        self.push_new(hash, Key::from_box(key), value);
        Ok(())
    }
    /// Makes room for `n` elements in total without a resize (a snapshot's
    /// RESIZEDB sizes, so loading does not rehash the keyspace again and again).
    pub fn reserve(&mut self, n: usize) {
        let want = n.next_power_of_two().max(4);
        if n > 0 && want > self.table.len() {
            self.resize(want);
        }
    }
    /// Removes `key` and returns the owned key and its value, or None when absent.
    /// May shrink the table (freeing it entirely when it becomes empty).
    pub fn remove(&mut self, key: &[u8]) -> Option<(Box<[u8]>, V)> {
        if self.table.is_empty() {
            return None;
        }
        let h = hash_bytes(key);
        let i = (h as usize) & (self.table.len() - 1);
        let mut link = &mut self.table[i];
        loop {
            match link {
                None => return None,
                Some(node) if node.hash == h && &node.key[..] == key => {
                    let mut node = link.take().expect("matched");
                    *link = node.next.take();
                    self.len -= 1;
                    let Node { key, value, .. } = *node;
                    self.maybe_shrink();
                    return Some((key.into_box(), value));
                }
                Some(node) => link = &mut node.next,
            }
        }
    }
    /// Drops every element and frees the table. Chains are unlinked one node at a
    /// time so that a long chain cannot overflow the stack through recursive drops.
    pub fn clear(&mut self) {
        // Unlink chains iteratively so that long chains cannot overflow the stack.
        for bucket in &mut self.table {
            let mut n = bucket.take();
            while let Some(mut node) = n {
                n = node.next.take();
            }
        }
        self.table = Vec::new();
        self.len = 0;
    }
    /// Iterates over (key, value) pairs in table order (bucket by bucket), which
    /// is unrelated to insertion order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            buckets: self.table.iter(),
            cur: None,
        }
    }
    /// Iterates over the keys, in table order.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.iter().map(|(k, _)| k)
    }

    /// Visits one bucket of a SCAN and returns the next cursor (0 when done).
    ///
    /// The cursor is advanced by incrementing its bit-reversed form under the
    /// table's mask, as Redis does: because sizes are powers of two, an element that
    /// stays in the table is visited at least once even if the table grows or
    /// shrinks between calls.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.table.is_empty() {
            return 0;
        }
        let mask = (self.table.len() - 1) as u64;
        let mut n = self.table[(cursor & mask) as usize].as_deref();
        while let Some(node) = n {
            f(&node.key, &node.value);
            n = node.next.as_deref();
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A random element, close to uniformly chosen whatever the chain lengths
    /// (Redis's dictGetFairRandomKey): from a random bucket on, whole chains of
    /// consecutive buckets are gathered until `FAIR_WINDOW` elements (at most
    /// ten times that many buckets, jumping elsewhere after a run of empty
    /// ones), and one of them is taken at random. Picking a random bucket and
    /// then a link of its chain would favour elements alone in their bucket.
    pub fn random_entry(&self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        const FAIR_WINDOW: usize = 15;
        if self.len == 0 {
            return None;
        }
        let mask = self.table.len() as u64 - 1;
        let mut picks: [Option<&Node<V>>; FAIR_WINDOW] = [None; FAIR_WINDOW];
        let mut n = 0;
        let mut i = rand() & mask;
        let mut empty_run = 0;
        let mut steps = FAIR_WINDOW * 10;
        while n < FAIR_WINDOW && steps > 0 {
            steps -= 1;
            let mut node = self.table[i as usize].as_deref();
            if node.is_none() {
                empty_run += 1;
                if empty_run > FAIR_WINDOW {
                    i = rand() & mask;
                    empty_run = 0;
                    continue;
                }
            } else {
                empty_run = 0;
            }
            while let Some(x) = node {
                if n == FAIR_WINDOW {
                    break;
                }
                picks[n] = Some(x);
                n += 1;
                node = x.next.as_deref();
            }
            i = (i + 1) & mask;
        }
        if n == 0 {
            return self.random_entry_by_bucket(rand);
        }
        let node = picks[(rand() % n as u64) as usize]?;
        Some((&node.key, &node.value))
    }

    /// A random non-empty bucket, then a random link of its chain (biased
    /// towards short chains; the fallback of `random_entry`).
    fn random_entry_by_bucket(&self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        if self.len == 0 {
            return None;
        }
        let mask = self.table.len() as u64 - 1;
        let head = loop {
            if let Some(n) = self.table[(rand() & mask) as usize].as_deref() {
                break n;
            }
        };
        let mut chain = 0;
        let mut n = Some(head);
        while let Some(node) = n {
            chain += 1;
            n = node.next.as_deref();
        }
        let mut node = head;
        for _ in 0..(rand() % chain) {
            node = node.next.as_deref().expect("within chain");
        }
        Some((&node.key, &node.value))
    }
    /// Calls `f` for up to `count` random elements (possibly repeated), for eviction
    /// and expiry sampling.
    pub fn sample(
        &self,
        count: usize,
        rand: &mut impl FnMut() -> u64,
        mut f: impl FnMut(&[u8], &V),
    ) {
        // Sampling (eviction, expiry) needs no fairness, only speed, as
        // Redis's dictGetSomeKeys.
        for _ in 0..count.min(self.len) {
            if let Some((k, v)) = self.random_entry_by_bucket(rand) {
                f(k, v);
            }
        }
    }
    /// Incremental rehashing step (resizes here are done at once; nothing to do).
    pub fn rehash_for(&mut self, _max_micros: u64) -> bool {
        false
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        self.clear();
    }
}

pub struct Iter<'a, V> {
    buckets: std::slice::Iter<'a, Option<Box<Node<V>>>>,
    cur: Option<&'a Node<V>>,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a [u8], &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(n) = self.cur {
                self.cur = n.next.as_deref();
                return Some((&n.key, &n.value));
            }
            self.cur = self.buckets.next()?.as_deref();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inline key keeps a keyspace node within glibc's 96-byte chunk, a
    /// set member's within 48 bytes: the layout is part of the memory budget.
    #[test]
    fn node_sizes() {
        assert_eq!(std::mem::size_of::<Key>(), 24);
        assert!(std::mem::size_of::<Node<crate::server::keyspace::db::Entry>>() <= 88);
        assert!(std::mem::size_of::<Node<()>>() <= 40);
    }

    #[test]
    fn short_and_long_keys() {
        let mut d = Dict::new();
        for len in 0..64usize {
            let k: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(d.insert(k.clone().into(), len).is_none());
            assert_eq!(d.get(&k), Some(&len));
        }
        let mut keys: Vec<Vec<u8>> = d.keys().map(|k| k.to_vec()).collect();
        keys.sort_by_key(|k| k.len());
        assert_eq!(keys.len(), 64);
        for (len, k) in keys.iter().enumerate() {
            assert_eq!(k.len(), len);
            let (owned, v) = d.remove(k).unwrap();
            assert_eq!((&owned[..], v), (&k[..], len));
        }
        assert!(d.is_empty());
    }

    #[test]
    fn insert_get_remove_and_resize() {
        let mut d = Dict::new();
        for i in 0..10_000u32 {
            assert!(d.insert(i.to_string().into_bytes().into(), i).is_none());
        }
        assert_eq!(d.len(), 10_000);
        for i in 0..10_000u32 {
            assert_eq!(d.get(i.to_string().as_bytes()), Some(&i));
        }
        for i in 0..9_990u32 {
            assert_eq!(d.remove(i.to_string().as_bytes()).unwrap().1, i);
        }
        assert_eq!(d.len(), 10);
        assert!(d.table.len() <= 64, "shrunk to {}", d.table.len());
        assert_eq!(d.iter().count(), 10);
        assert_eq!(d.get(b"9999"), Some(&9_999));
    }

    #[test]
    fn scan_returns_every_stable_element_across_resizes() {
        let mut d = Dict::new();
        for i in 0..1000u32 {
            d.insert(format!("k{i}").into_bytes().into(), ());
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            step += 1;
            // Grow in the middle of the scan, then shrink.
            if step == 100 {
                for i in 1000..5000u32 {
                    d.insert(format!("k{i}").into_bytes().into(), ());
                }
            }
            if step == 400 {
                for i in 1000..5000u32 {
                    d.remove(format!("k{i}").as_bytes());
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000u32 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "k{i} missed");
        }
    }

    /// Elements that share a bucket are picked about as often as those alone
    /// in theirs: the window pick is much closer to uniform than a
    /// bucket-then-link pick, which gives a chained element half the chance
    /// or less. (Neither is exact: a window's reach depends on how the
    /// elements before it are spread, as with Redis's dictGetFairRandomKey.)
    #[test]
    fn random_entry_is_much_fairer_than_a_bucket_pick() {
        let mut d = Dict::new();
        for i in 0..1000u32 {
            d.insert(format!("member:{i}").into_bytes().into(), i);
        }
        let mut rng = crate::server::util::Rng::new();
        let mut r = || rng.next_u64();
        let draws = 200_000;
        let chi2 = |hits: &[u32]| -> f64 {
            let expected = draws as f64 / hits.len() as f64;
            hits.iter()
                .map(|&h| (h as f64 - expected).powi(2) / expected)
                .sum()
        };
        let mut fair = vec![0u32; 1000];
        let mut bucket = vec![0u32; 1000];
        for _ in 0..draws {
            fair[*d.random_entry(&mut r).unwrap().1 as usize] += 1;
            bucket[*d.random_entry_by_bucket(&mut r).unwrap().1 as usize] += 1;
        }
        let (f, b) = (chi2(&fair), chi2(&bucket));
        assert!(fair.iter().all(|&h| h > 0));
        assert!(f * 3.0 < b, "window pick chi-square {f}, bucket pick {b}");
    }

    #[test]
    fn random_entry_reaches_every_element() {
        let mut d = Dict::new();
        for i in 0..8u32 {
            d.insert(vec![i as u8].into(), i);
        }
        let mut rng = crate::server::util::Rng::new();
        let mut r = || rng.next_u64();
        let mut hit = [false; 8];
        for _ in 0..1000 {
            hit[*d.random_entry(&mut r).unwrap().1 as usize] = true;
        }
        assert!(hit.iter().all(|h| *h));
    }
}
