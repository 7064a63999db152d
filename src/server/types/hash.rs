//! Hashes (basic representation; the data-structures work refines the encodings).
use crate::server::keyspace::Dict;

#[derive(Debug, Clone, Default)]
pub struct Hash {
    map: Dict<Vec<u8>>,
}

impl Hash {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// Sets a field; true if it is new.
    pub fn insert(&mut self, field: &[u8], value: Vec<u8>) -> bool {
        self.map.insert(field.into(), value).is_none()
    }
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.map.get(field).map(|v| &v[..])
    }
    pub fn remove(&mut self, field: &[u8]) -> bool {
        self.map.remove(field).is_some()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.map.iter().map(|(k, v)| (k, &v[..]))
    }
}

impl Hash {
    pub fn encoding(&self) -> &'static str {
        if self.len() <= 128 && self.iter().all(|(k, v)| k.len() <= 64 && v.len() <= 64) {
            "listpack"
        } else {
            "hashtable"
        }
    }
}
