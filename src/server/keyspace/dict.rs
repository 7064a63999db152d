//! Stand-in for the byte-string keyed hash table (replaced by the real one with
//! Redis's SCAN guarantees and incremental rehashing).
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Dict<V> {
    map: HashMap<Box<[u8]>, V>,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Dict {
            map: HashMap::new(),
        }
    }
}

impl<V> Dict<V> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn with_capacity(n: usize) -> Self {
        Dict {
            map: HashMap::with_capacity(n),
        }
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.map.get(key)
    }
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.map.get_mut(key)
    }
    pub fn get_key_value(&self, key: &[u8]) -> Option<(&[u8], &V)> {
        self.map.get_key_value(key).map(|(k, v)| (&k[..], v))
    }
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.map.contains_key(key)
    }
    pub fn insert(&mut self, key: Box<[u8]>, value: V) -> Option<V> {
        self.map.insert(key, value)
    }
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> (&mut V, bool) {
        let inserted = !self.map.contains_key(key);
        if inserted {
            self.map.insert(key.into(), make());
        }
        (self.map.get_mut(key).expect("present"), inserted)
    }
    pub fn remove(&mut self, key: &[u8]) -> Option<(Box<[u8]>, V)> {
        self.map.remove_entry(key)
    }
    pub fn clear(&mut self) {
        self.map.clear()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.map.iter().map(|(k, v)| (&k[..], v))
    }
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&[u8], &mut V)> {
        self.map.iter_mut().map(|(k, v)| (&k[..], v))
    }
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.map.keys().map(|k| &k[..])
    }
    pub fn drain(&mut self) -> impl Iterator<Item = (Box<[u8]>, V)> + '_ {
        self.map.drain()
    }
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        let mut keys: Vec<&Box<[u8]>> = self.map.keys().collect();
        keys.sort();
        let start = cursor as usize;
        let end = (start + 10).min(keys.len());
        for k in &keys[start.min(keys.len())..end] {
            f(k, &self.map[*k]);
        }
        if end >= keys.len() {
            0
        } else {
            end as u64
        }
    }
    pub fn random_entry(&self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        if self.map.is_empty() {
            return None;
        }
        let n = (rand() % self.map.len() as u64) as usize;
        self.map.iter().nth(n).map(|(k, v)| (&k[..], v))
    }
    pub fn sample(
        &self,
        count: usize,
        rand: &mut impl FnMut() -> u64,
        mut f: impl FnMut(&[u8], &V),
    ) {
        for _ in 0..count.min(self.map.len()) {
            if let Some((k, v)) = self.random_entry(rand) {
                f(k, v);
            }
        }
    }
    pub fn rehash_for(&mut self, _max_micros: u64) -> bool {
        false
    }
    pub fn table_bytes(&self) -> usize {
        self.map.capacity() * (std::mem::size_of::<V>() + 24)
    }
}
