//! Sets (basic representation; the data-structures work refines the encodings).
use crate::server::keyspace::Dict;

#[derive(Debug, Clone, Default)]
pub struct Set {
    map: Dict<()>,
}

impl Set {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// Adds a member; true if it is new.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        self.map.get_or_insert_with(member, || ()).1
    }
    pub fn contains(&self, member: &[u8]) -> bool {
        self.map.contains_key(member)
    }
    pub fn remove(&mut self, member: &[u8]) -> bool {
        self.map.remove(member).is_some()
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.map.keys()
    }
}

impl Set {
    pub fn encoding(&self) -> &'static str {
        if self.len() <= 512
            && self
                .iter()
                .all(|m| crate::server::util::parse_i64(m).is_some())
        {
            "intset"
        } else {
            "hashtable"
        }
    }
}
