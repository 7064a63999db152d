//! The byte-string keyed hash table behind the keyspace, hashes and sets.
//!
//! Why not `std::collections::HashMap`: SCAN needs Redis's guarantee (every element
//! present for the whole iteration is returned at least once, even across resizes),
//! which comes from a power-of-two table of chained buckets walked with a
//! reverse-binary cursor; and RANDOMKEY, SPOP and eviction need a random element in
//! O(1), which needs access to the buckets.
//!
//! The table doubles when it holds as many elements as buckets and shrinks when it
//! is less than 10% full, so chains stay short and random picks find a non-empty
//! bucket after a few tries; both resizes are incremental (see `Dict`). Keys are hashed with a per-process random seed so that a client
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

type Link<V> = Option<Box<Node<V>>>;

/// Whether tables may resize now: Redis's `dict_can_resize`. While a fork
/// child writes a snapshot, every page the parent touches is copied, and a
/// rehash touches every node; so resizes wait for the child unless a table
/// is out of proportion by `FORCE_RATIO` or more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizePolicy {
    Enable,
    Avoid,
}

static RESIZE_AVOIDED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Sets the process-wide resize policy (the server calls it when a child
/// process starts or ends).
pub fn set_resize_policy(p: ResizePolicy) {
    RESIZE_AVOIDED.store(
        p == ResizePolicy::Avoid,
        std::sync::atomic::Ordering::Relaxed,
    );
}

#[inline]
fn resize_avoided() -> bool {
    RESIZE_AVOIDED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Elements per bucket (or bucket-count ratio between the two tables of a
/// rehash) past which a resize goes on even while a child runs.
const FORCE_RATIO: usize = 5;
/// A table less full than this (percent) shrinks.
const MIN_FILL_PERCENT: usize = 10;
/// The smallest table.
const MIN_SIZE: usize = 4;

/// A hash table that resizes incrementally, as Redis's dict: a resize
/// allocates the new table (`target`) and moves the old one's buckets over
/// a few at a time, one step per write and random pick, plus a
/// millisecond's worth each cron tick for the keyspace. So a keyspace of ten
/// million keys that doubles does not stop the server while every node
/// moves, and while a fork child saves, memory is not copied for a rehash.
#[derive(Debug, Clone)]
pub struct Dict<V> {
    /// Every element when not rehashing; during a rehash, the buckets from
    /// `rehash_idx` on that have not moved yet.
    table: Box<[Link<V>]>,
    /// The table a rehash moves into; empty when not rehashing.
    target: Box<[Link<V>]>,
    /// The next bucket of `table` to move.
    rehash_idx: usize,
    /// Elements in `table` and in `target`.
    used: [usize; 2],
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Dict {
            table: Box::default(),
            target: Box::default(),
            rehash_idx: 0,
            used: [0, 0],
        }
    }
}

fn new_table<V>(size: usize) -> Box<[Link<V>]> {
    let mut v = Vec::with_capacity(size);
    v.resize_with(size, || None);
    v.into_boxed_slice()
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

/// The node holding `key` in one table.
#[inline]
fn find_in<'a, V>(t: &'a [Link<V>], h: u64, key: &[u8]) -> Option<&'a Node<V>> {
    if t.is_empty() {
        return None;
    }
    let mut n = t[(h as usize) & (t.len() - 1)].as_deref();
    while let Some(node) = n {
        if node.hash == h && &node.key[..] == key {
            return Some(node);
        }
        n = node.next.as_deref();
    }
    None
}

#[inline]
fn find_in_mut<'a, V>(t: &'a mut [Link<V>], h: u64, key: &[u8]) -> Option<&'a mut Node<V>> {
    if t.is_empty() {
        return None;
    }
    let i = (h as usize) & (t.len() - 1);
    let mut n = t[i].as_deref_mut();
    while let Some(node) = n {
        if node.hash == h && &node.key[..] == key {
            return Some(node);
        }
        n = node.next.as_deref_mut();
    }
    None
}

/// Unlinks the node holding `key` from one table.
fn unlink_in<V>(t: &mut [Link<V>], h: u64, key: &[u8]) -> Option<Box<Node<V>>> {
    if t.is_empty() {
        return None;
    }
    let i = (h as usize) & (t.len() - 1);
    let mut link = &mut t[i];
    loop {
        match link {
            None => return None,
            Some(node) if node.hash == h && &node.key[..] == key => {
                let mut node = link.take().expect("matched");
                *link = node.next.take();
                return Some(node);
            }
            Some(node) => link = &mut node.next,
        }
    }
}

/// Number of nodes in a chain.
fn chain_len<V>(mut n: Option<&Node<V>>) -> usize {
    let mut len = 0;
    while let Some(x) = n {
        len += 1;
        n = x.next.as_deref();
    }
    len
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
        d.reserve(n);
        d
    }
    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.used[0] + self.used[1]
    }
    /// True when the table holds no element.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// True while a resize is moving elements into the new table.
    #[inline]
    pub fn is_rehashing(&self) -> bool {
        !self.target.is_empty()
    }
    fn find(&self, key: &[u8]) -> Option<&Node<V>> {
        if self.is_empty() {
            return None;
        }
        let h = hash_bytes(key);
        match find_in(&self.table, h, key) {
            None if self.is_rehashing() => find_in(&self.target, h, key),
            found => found,
        }
    }
    fn find_hashed_mut(&mut self, h: u64, key: &[u8]) -> Option<&mut Node<V>> {
        let in_target = self.is_rehashing() && find_in(&self.table, h, key).is_none();
        let t = if in_target {
            &mut self.target
        } else {
            &mut self.table
        };
        find_in_mut(t, h, key)
    }
    /// The value stored under `key`, or None.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.find(key).map(|n| &n.value)
    }
    /// A mutable reference to the value under `key`, or None.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let h = hash_bytes(key);
        self.find_hashed_mut(h, key).map(|n| &mut n.value)
    }
    /// True when `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.find(key).is_some()
    }

    /// One rehash step, as every write and random pick does during a resize.
    #[inline]
    fn rehash_step(&mut self) {
        if self.is_rehashing() {
            self.rehash(1);
        }
    }
    /// Moves up to `n` buckets (visiting at most 10 empty ones per bucket)
    /// unless the resize policy holds rehashing back; true while there is
    /// more to move.
    fn rehash(&mut self, n: usize) -> bool {
        if !self.is_rehashing() {
            return false;
        }
        if resize_avoided() {
            let (a, b) = (self.table.len(), self.target.len());
            if a.max(b) / a.min(b) < FORCE_RATIO {
                return false;
            }
        }
        self.move_buckets(n)
    }
    /// `rehash` without the policy check.
    fn move_buckets(&mut self, mut n: usize) -> bool {
        let mut empty_visits = n.saturating_mul(10);
        let mask = self.target.len() - 1;
        while n > 0 && self.used[0] != 0 {
            n -= 1;
            // used[0] > 0: a non-empty bucket lies ahead.
            while self.table[self.rehash_idx].is_none() {
                self.rehash_idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    return true;
                }
            }
            let mut chain = self.table[self.rehash_idx].take();
            while let Some(mut node) = chain {
                chain = node.next.take();
                let i = (node.hash as usize) & mask;
                node.next = self.target[i].take();
                self.target[i] = Some(node);
                self.used[0] -= 1;
                self.used[1] += 1;
            }
            self.rehash_idx += 1;
        }
        if self.used[0] == 0 {
            self.table = std::mem::take(&mut self.target);
            self.used = [self.used[1], 0];
            self.rehash_idx = 0;
            return false;
        }
        true
    }
    /// Finishes a rehash in progress at once, whatever the policy.
    fn finish_rehash(&mut self) {
        while self.is_rehashing() && self.move_buckets(self.table.len()) {}
    }
    /// Begins a resize to `size` buckets (a power of two). The first table is
    /// allocated at once; nothing happens during a rehash or when the size
    /// would not change.
    fn start_resize(&mut self, size: usize) {
        if self.is_rehashing() || size == self.table.len() {
            return;
        }
        if self.table.is_empty() {
            self.table = new_table(size);
            return;
        }
        self.target = new_table(size);
        self.rehash_idx = 0;
    }
    /// Before an insert: the first table, or a doubling once there are as
    /// many elements as buckets (Redis's _dictExpandIfNeeded).
    fn grow_for_one_more(&mut self) {
        if self.is_rehashing() {
            return;
        }
        if self.table.is_empty() {
            self.table = new_table(MIN_SIZE);
            return;
        }
        let (used, size) = (self.used[0], self.table.len());
        if used >= size && (!resize_avoided() || used / size > FORCE_RATIO) {
            self.start_resize((used + 1).next_power_of_two());
        }
    }
    /// Starts shrinking a table that is less than 10% full to the smallest
    /// power of two that holds its elements, unless a child runs or a rehash
    /// is in progress (Redis's htNeedsResize + dictResize). Removals call it;
    /// the cron calls it for the keyspace.
    pub fn shrink_if_sparse(&mut self) {
        let size = self.table.len() + self.target.len();
        let used = self.len();
        if size > MIN_SIZE
            && used * 100 / size < MIN_FILL_PERCENT
            && !resize_avoided()
            && !self.is_rehashing()
        {
            self.start_resize(used.max(MIN_SIZE).next_power_of_two());
        }
    }
    /// Links a new node for a key known to be absent, growing the table first.
    fn push_new(&mut self, hash: u64, key: Key, value: V) -> &mut V {
        self.grow_for_one_more();
        let t = if self.is_rehashing() {
            self.used[1] += 1;
            &mut self.target
        } else {
            self.used[0] += 1;
            &mut self.table
        };
        let i = (hash as usize) & (t.len() - 1);
        let next = t[i].take();
        let node = t[i].insert(Box::new(Node {
            hash,
            key,
            value,
            next,
        }));
        &mut node.value
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: Box<[u8]>, value: V) -> Option<V> {
        self.rehash_step();
        let hash = hash_bytes(&key);
        if let Some(n) = self.find_hashed_mut(hash, &key) {
            return Some(std::mem::replace(&mut n.value, value));
        }
        self.push_new(hash, Key::from_box(key), value);
        None
    }
    /// The value of `key`, inserted with `make` when absent; true if inserted.
    /// One hash computation.
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> (&mut V, bool) {
        let hash = hash_bytes(key);
        if !self.is_empty() {
            self.rehash_step();
            if let Some(n) = self.find_hashed_mut(hash, key) {
                let found: *mut V = &mut n.value;
                // SAFETY: `found` points into a node of this table, which is
                // not modified before the returned borrow of `self` ends.
                return (unsafe { &mut *found }, false);
            }
        }
        (self.push_new(hash, Key::from_slice(key), make()), true)
    }
    /// Inserts `key` (owned, not copied) with `value` unless it is present, in
    /// one hash computation; when it was present, both are handed back. Bulk
    /// loads use it: a snapshot must not hold a key twice.
    pub fn insert_new(&mut self, key: Box<[u8]>, value: V) -> Result<(), (Box<[u8]>, V)> {
        let hash = hash_bytes(&key);
        if !self.is_empty() {
            self.rehash_step();
            let found = find_in(&self.table, hash, &key).is_some()
                || (self.is_rehashing() && find_in(&self.target, hash, &key).is_some());
            if found {
                return Err((key, value));
            }
        }
        self.push_new(hash, Key::from_box(key), value);
        Ok(())
    }
    /// Makes room for `n` elements in total without a resize (a snapshot's
    /// RESIZEDB sizes, so loading does not rehash the keyspace again and
    /// again). Done at once, not incrementally.
    pub fn reserve(&mut self, n: usize) {
        let want = n.next_power_of_two().max(MIN_SIZE);
        self.finish_rehash();
        if n > 0 && want > self.table.len() {
            self.start_resize(want);
            self.finish_rehash();
        }
    }
    /// Removes `key` and returns the owned key and its value, or None when absent.
    /// May start a shrink (and frees the tables when the last element goes).
    pub fn remove(&mut self, key: &[u8]) -> Option<(Box<[u8]>, V)> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let h = hash_bytes(key);
        let (t, node) = match unlink_in(&mut self.table, h, key) {
            Some(n) => (0, n),
            None if self.is_rehashing() => (1, unlink_in(&mut self.target, h, key)?),
            None => return None,
        };
        self.used[t] -= 1;
        let Node { key, value, .. } = *node;
        if self.is_empty() {
            self.clear();
        } else {
            self.shrink_if_sparse();
        }
        Some((key.into_box(), value))
    }
    /// Drops every element and frees the tables. Chains are unlinked one node
    /// at a time so that a long chain cannot overflow the stack through
    /// recursive drops.
    pub fn clear(&mut self) {
        for bucket in self.table.iter_mut().chain(self.target.iter_mut()) {
            let mut n = bucket.take();
            while let Some(mut node) = n {
                n = node.next.take();
            }
        }
        // Field by field: assigning a whole new Dict would drop the old one,
        // whose Drop calls clear again.
        self.table = Box::default();
        self.target = Box::default();
        self.rehash_idx = 0;
        self.used = [0, 0];
    }
    /// Iterates over (key, value) pairs in table order (bucket by bucket), which
    /// is unrelated to insertion order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            buckets: self.table.iter().chain(self.target.iter()),
            cur: None,
        }
    }
    /// Iterates over the keys, in table order.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.iter().map(|(k, _)| k)
    }

    /// Visits the buckets of one SCAN step and returns the next cursor (0
    /// when done).
    ///
    /// The cursor is advanced by incrementing its bit-reversed form under the
    /// table's mask, as Redis does: because sizes are powers of two, an element
    /// that stays in the table is visited at least once even if the table grows
    /// or shrinks between calls. During a rehash the smaller table's bucket is
    /// visited, then every bucket of the larger table that expands it.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mut visit = |b: &Link<V>| {
            let mut n = b.as_deref();
            while let Some(node) = n {
                f(&node.key, &node.value);
                n = node.next.as_deref();
            }
        };
        // Advance the cursor: increment its bit-reversed form within `mask`.
        let next = |v: u64, mask: u64| (v | !mask).reverse_bits().wrapping_add(1).reverse_bits();
        if !self.is_rehashing() {
            let m0 = (self.table.len() - 1) as u64;
            visit(&self.table[(cursor & m0) as usize]);
            return next(cursor, m0);
        }
        let (small, large) = if self.table.len() <= self.target.len() {
            (&self.table, &self.target)
        } else {
            (&self.target, &self.table)
        };
        let m0 = (small.len() - 1) as u64;
        let m1 = (large.len() - 1) as u64;
        let mut v = cursor;
        visit(&small[(v & m0) as usize]);
        // Every bucket of the larger table that the smaller one's bucket
        // expands into; the reversed increment under the larger mask walks
        // the extra bits and, when they wrap to zero, has carried into the
        // smaller mask's bits: that is the next cursor.
        loop {
            visit(&large[(v & m1) as usize]);
            v = next(v, m1);
            if v & (m0 ^ m1) == 0 {
                return v;
            }
        }
    }

    /// A random element, close to uniformly chosen whatever the chain lengths
    /// (Redis's dictGetFairRandomKey): from a random bucket on, whole chains
    /// of consecutive buckets (of both tables during a rehash) are gathered
    /// until `FAIR_WINDOW` elements (at most ten times that many buckets,
    /// jumping elsewhere after a run of empty ones), and one of the gathered
    /// elements is taken at random. Picking a random bucket and then a link
    /// of its chain would favour elements alone in their bucket; taking whole
    /// chains keeps every element of a long chain reachable. Does one rehash
    /// step first, as every random pick in Redis.
    pub fn random_entry(&mut self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        self.rehash_step();
        self.fair_pick(rand)
    }

    fn fair_pick(&self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        const FAIR_WINDOW: usize = 15;
        if self.is_empty() {
            return None;
        }
        let rehashing = self.is_rehashing();
        let tables: [&[Link<V>]; 2] = [&self.table, &self.target];
        let mask = self.table.len().max(self.target.len()) - 1;
        let mut heads: [Option<&Node<V>>; FAIR_WINDOW] = [None; FAIR_WINDOW];
        let mut lens = [0usize; FAIR_WINDOW];
        let (mut chains, mut total) = (0, 0);
        let mut i = rand() as usize & mask;
        let mut empty_run = 0;
        let mut steps = FAIR_WINDOW * 10;
        'window: while total < FAIR_WINDOW && steps > 0 {
            steps -= 1;
            let mut found = false;
            for (j, t) in tables.iter().enumerate() {
                if j == 1 && !rehashing {
                    break;
                }
                // Buckets of the old table before rehash_idx are empty.
                if (j == 0 && rehashing && i < self.rehash_idx) || i >= t.len() {
                    continue;
                }
                if let Some(head) = t[i].as_deref() {
                    found = true;
                    let n = chain_len(Some(head));
                    heads[chains] = Some(head);
                    lens[chains] = n;
                    chains += 1;
                    total += n;
                    if total >= FAIR_WINDOW {
                        break 'window;
                    }
                }
            }
            if found {
                empty_run = 0;
            } else {
                empty_run += 1;
                if empty_run > FAIR_WINDOW {
                    i = rand() as usize & mask;
                    empty_run = 0;
                    continue;
                }
            }
            i = (i + 1) & mask;
        }
        if total == 0 {
            return self.bucket_pick(rand);
        }
        let mut r = (rand() % total as u64) as usize;
        for c in 0..chains {
            if r < lens[c] {
                let mut node = heads[c]?;
                for _ in 0..r {
                    node = node.next.as_deref()?;
                }
                return Some((&node.key, &node.value));
            }
            r -= lens[c];
        }
        None
    }

    /// A random non-empty bucket, then a random link of its chain (biased
    /// towards short chains: Redis's dictGetRandomKey; the fallback of
    /// `random_entry` and what sampling uses).
    fn bucket_pick(&self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        if self.is_empty() {
            return None;
        }
        let head = if self.is_rehashing() {
            // Only buckets from rehash_idx on, and the new table, hold elements.
            let s0 = self.table.len();
            let span = (s0 + self.target.len() - self.rehash_idx) as u64;
            loop {
                let h = self.rehash_idx + (rand() % span) as usize;
                let b = if h >= s0 {
                    &self.target[h - s0]
                } else {
                    &self.table[h]
                };
                if let Some(n) = b.as_deref() {
                    break n;
                }
            }
        } else {
            let mask = self.table.len() as u64 - 1;
            loop {
                if let Some(n) = self.table[(rand() & mask) as usize].as_deref() {
                    break n;
                }
            }
        };
        let chain = chain_len(Some(head)) as u64;
        let mut node = head;
        for _ in 0..(rand() % chain) {
            node = node.next.as_deref()?;
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
        for _ in 0..count.min(self.len()) {
            if let Some((k, v)) = self.bucket_pick(rand) {
                f(k, v);
            }
        }
    }
    /// Rehashes for about `max_micros` (checking the clock every 100
    /// buckets), as Redis's cron does for the keyspace; true while a rehash
    /// remains to be done.
    pub fn rehash_for(&mut self, max_micros: u64) -> bool {
        if !self.is_rehashing() {
            return false;
        }
        let start = std::time::Instant::now();
        while self.rehash(100) {
            if start.elapsed().as_micros() as u64 >= max_micros {
                return true;
            }
        }
        self.is_rehashing()
    }

    /// The table statistics of DEBUG HTSTATS, in Redis's text form: the main
    /// table, and the rehashing target while a rehash runs.
    pub fn stats(&self) -> String {
        let mut out = stats_of(&self.table, self.used[0], 0);
        if self.is_rehashing() {
            out.push_str(&stats_of(&self.target, self.used[1], 1));
        }
        out
    }
}

/// One table's statistics, as Redis's _dictGetStatsHt prints them.
fn stats_of<V>(t: &[Link<V>], used: usize, which: usize) -> String {
    use std::fmt::Write;
    const VECTLEN: usize = 50;
    let title = if which == 0 {
        "main hash table"
    } else {
        "rehashing target"
    };
    if used == 0 {
        return format!(
            "Hash table {which} stats ({title}):\nNo stats available for empty dictionaries\n"
        );
    }
    let mut lens = [0usize; VECTLEN];
    let (mut slots, mut max_chain, mut total) = (0usize, 0usize, 0usize);
    for b in t {
        let n = chain_len(b.as_deref());
        lens[n.min(VECTLEN - 1)] += 1;
        if n > 0 {
            slots += 1;
            max_chain = max_chain.max(n);
            total += n;
        }
    }
    let mut s = String::new();
    let _ = write!(
        s,
        "Hash table {} stats ({}):\n table size: {}\n number of elements: {}\n different slots: {}\n max chain length: {}\n avg chain length (counted): {:.2}\n avg chain length (computed): {:.2}\n Chain length distribution:\n",
        which,
        title,
        t.len(),
        used,
        slots,
        max_chain,
        total as f32 / slots as f32,
        used as f32 / slots as f32
    );
    for (i, n) in lens.iter().enumerate().take(VECTLEN - 1) {
        if *n > 0 {
            let _ = writeln!(
                s,
                "   {}: {} ({:.2}%)",
                i,
                n,
                *n as f32 / t.len() as f32 * 100.0
            );
        }
    }
    s
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        self.clear();
    }
}

type Buckets<'a, V> =
    std::iter::Chain<std::slice::Iter<'a, Link<V>>, std::slice::Iter<'a, Link<V>>>;

pub struct Iter<'a, V> {
    buckets: Buckets<'a, V>,
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

    /// The resize policy is process-wide: tests that change it or depend on
    /// resizes taking place run one at a time.
    fn policy_lock() -> std::sync::MutexGuard<'static, ()> {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        LOCK.lock().unwrap_or_else(|e| e.into_inner())
    }

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
        let _policy = policy_lock();
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
        // Shrinks are incremental: let them run to the end, as the cron would.
        loop {
            d.finish_rehash();
            d.shrink_if_sparse();
            if !d.is_rehashing() {
                break;
            }
        }
        assert!(d.table.len() <= 64, "shrunk to {}", d.table.len());
        assert_eq!(d.iter().count(), 10);
        assert_eq!(d.get(b"9999"), Some(&9_999));
    }

    #[test]
    fn scan_returns_every_stable_element_across_resizes() {
        let _policy = policy_lock();
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
            bucket[*d.bucket_pick(&mut r).unwrap().1 as usize] += 1;
        }
        let (f, b) = (chi2(&fair), chi2(&bucket));
        assert!(fair.iter().all(|&h| h > 0));
        assert!(f * 2.0 < b, "window pick chi-square {f}, bucket pick {b}");
    }

    /// Redis issue #4906: a scan that goes on while a shrink is half done
    /// must still return every element that stayed.
    #[test]
    fn scan_during_an_incremental_shrink_misses_nothing() {
        let _policy = policy_lock();
        let mut rng = crate::server::util::Rng::seeded(4906);
        for _ in 0..300 {
            let mut d = Dict::new();
            let n = 101 + rng.below(1000) as u32;
            for j in 0..n {
                d.insert(j.to_string().into_bytes().into(), ());
            }
            let del_at = rng.below(10);
            let mut found = std::collections::HashSet::new();
            let (mut cursor, mut iteration) = (0, 0);
            loop {
                cursor = d.scan(cursor, |k, _| {
                    found.insert(k.to_vec());
                });
                iteration += 1;
                if iteration == del_at {
                    for j in 100..n {
                        d.remove(j.to_string().as_bytes());
                    }
                }
                // Let the rehash move a bucket between scan calls.
                d.get_mut(b"0");
                if cursor == 0 {
                    break;
                }
            }
            for j in 0..100u32 {
                assert!(
                    found.contains(j.to_string().as_bytes()),
                    "{j} missed (n {n})"
                );
            }
        }
    }

    /// A doubling is spread over later operations: while it runs, every
    /// element is found, iterated and scanned exactly as before.
    #[test]
    fn growth_is_incremental_and_invisible() {
        let _policy = policy_lock();
        let mut d = Dict::new();
        for i in 0..1024u32 {
            d.insert(format!("k{i}").into_bytes().into(), i);
        }
        assert!(!d.is_rehashing());
        d.insert(b"k1024".to_vec().into(), 1024);
        assert!(d.is_rehashing(), "the 1025th element starts a rehash");
        assert_eq!((d.table.len(), d.target.len()), (1024, 2048));
        for i in 0..1025u32 {
            assert_eq!(d.get(format!("k{i}").as_bytes()), Some(&i));
        }
        assert_eq!(d.iter().count(), 1025);
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1025);
        // Each write moves a bucket along; the rehash ends by itself.
        let mut writes = 0;
        while d.is_rehashing() {
            d.insert(b"k0".to_vec().into(), 0);
            writes += 1;
            assert!(writes < 2000);
        }
        assert_eq!(d.table.len(), 2048);
        assert_eq!(d.len(), 1025);
        assert_eq!(d.remove(b"k5").map(|(_, v)| v), Some(5));
    }

    /// While a child saves, tables neither grow nor shrink nor rehash unless
    /// they are five times out of proportion (Redis's dict_can_resize).
    #[test]
    fn resize_policy_holds_resizes_back_while_a_child_runs() {
        let _policy = policy_lock();
        set_resize_policy(ResizePolicy::Avoid);
        let mut d = Dict::new();
        for i in 0..24u32 {
            d.insert(i.to_string().into_bytes().into(), i);
        }
        assert_eq!((d.table.len(), d.is_rehashing()), (4, false));
        // More than five per bucket: the table is allowed to grow.
        for i in 24..64u32 {
            d.insert(i.to_string().into_bytes().into(), i);
        }
        assert!(d.table.len() > 4 || d.target.len() > 4);
        set_resize_policy(ResizePolicy::Enable);
        d.finish_rehash();
        for i in 0..2000u32 {
            d.insert(i.to_string().into_bytes().into(), i);
        }
        d.finish_rehash();
        set_resize_policy(ResizePolicy::Avoid);
        for i in 0..1990u32 {
            d.remove(i.to_string().as_bytes());
        }
        assert!(!d.is_rehashing(), "no shrink while a child runs");
        set_resize_policy(ResizePolicy::Enable);
        d.remove(b"1995");
        assert!(
            d.is_rehashing(),
            "the first removal after it starts the shrink"
        );
        // 2048 -> 16 is more than five times: it proceeds even with a child.
        set_resize_policy(ResizePolicy::Avoid);
        while d.is_rehashing() {
            d.get_mut(b"1999");
        }
        set_resize_policy(ResizePolicy::Enable);
        assert_eq!(d.table.len(), 16);
        assert_eq!(d.len(), 9);
    }

    /// Every element of one long chain is picked about equally often (the
    /// SRANDMEMBER "long chain" case of Redis's test suite): the window takes
    /// whole chains.
    #[test]
    fn random_entry_is_fair_within_a_long_chain() {
        let mut keys = Vec::new();
        let mut i = 0u64;
        while keys.len() < 30 {
            let k = format!("m:{i}").into_bytes();
            if hash_bytes(&k) & 511 == 511 {
                keys.push(k);
            }
            i += 1;
        }
        let mut d = Dict::with_capacity(512);
        for (n, k) in keys.iter().enumerate() {
            d.insert(k.clone().into(), n);
        }
        let stats = d.stats();
        assert!(
            stats.contains(" different slots: 1\n max chain length: 30\n"),
            "{stats}"
        );
        let mut rng = crate::server::util::Rng::new();
        let mut r = || rng.next_u64();
        let draws = 30_000;
        let mut hits = [0u32; 30];
        for _ in 0..draws {
            hits[*d.random_entry(&mut r).unwrap().1] += 1;
        }
        let expected = draws as f64 / 30.0;
        let chi2: f64 = hits
            .iter()
            .map(|&h| (h as f64 - expected).powi(2) / expected)
            .sum();
        // df = 29: 73 is a 0.00001 tail.
        assert!(chi2 < 73.0, "chi-square {chi2}: {hits:?}");
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
