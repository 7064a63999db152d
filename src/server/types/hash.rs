//! Hashes, with Redis's two encodings: while small (at most
//! hash-max-listpack-entries fields, none longer than hash-max-listpack-value) a
//! compact vector in insertion order, like a listpack (same field order in
//! HGETALL, little memory); beyond that a hash table. Conversion is one-way.
use crate::server::keyspace::Dict;

/// A field and its value.
pub type Pair = (Box<[u8]>, Box<[u8]>);

#[derive(Debug, Clone)]
pub enum Hash {
    Small(Vec<Pair>),
    Big(Dict<Box<[u8]>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Small(Vec::new())
    }
}

impl Hash {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        match self {
            Hash::Small(v) => v.len(),
            Hash::Big(d) => d.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Small(v) => v.iter().find(|(f, _)| &f[..] == field).map(|(_, x)| &x[..]),
            Hash::Big(d) => d.get(field).map(|x| &x[..]),
        }
    }
    /// Sets a field; true if it is new. Uses Redis's default thresholds; commands
    /// call `insert_with` with the configured ones.
    pub fn insert(&mut self, field: &[u8], value: Vec<u8>) -> bool {
        self.insert_with(field, value, 512, 64)
    }
    pub fn insert_with(
        &mut self,
        field: &[u8],
        value: Vec<u8>,
        max_entries: u64,
        max_value: u64,
    ) -> bool {
        if let Hash::Small(v) = self {
            if field.len() as u64 > max_value || value.len() as u64 > max_value {
                self.convert();
            } else {
                if let Some(slot) = v.iter_mut().find(|(f, _)| &f[..] == field) {
                    slot.1 = value.into_boxed_slice();
                    return false;
                }
                v.push((field.into(), value.into_boxed_slice()));
                if v.len() as u64 > max_entries {
                    self.convert();
                }
                return true;
            }
        }
        match self {
            Hash::Big(d) => d.insert(field.into(), value.into_boxed_slice()).is_none(),
            Hash::Small(_) => unreachable!("converted above"),
        }
    }
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Small(v) => match v.iter().position(|(f, _)| &f[..] == field) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            Hash::Big(d) => d.remove(field).is_some(),
        }
    }
    /// Fields and values: insertion order while small.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            Hash::Small(v) => Box::new(v.iter().map(|(f, x)| (&f[..], &x[..]))),
            Hash::Big(d) => Box::new(d.iter().map(|(f, x)| (f, &x[..]))),
        }
    }
    fn convert(&mut self) {
        if let Hash::Small(v) = self {
            let mut d = Dict::with_capacity(v.len());
            for (f, x) in v.drain(..) {
                d.insert(f, x);
            }
            *self = Hash::Big(d);
        }
    }
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Small(_) => "listpack",
            Hash::Big(_) => "hashtable",
        }
    }
    /// HSCAN: a small hash is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Small(v) => {
                for (k, x) in v {
                    f(k, x);
                }
                0
            }
            Hash::Big(d) => d.scan(cursor, |k, x| f(k, x)),
        }
    }
    /// A uniformly random field.
    pub fn random(&self, r: &mut crate::server::util::Rng) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Small(v) => {
                if v.is_empty() {
                    None
                } else {
                    let (f, x) = &v[r.below(v.len() as u64) as usize];
                    Some((f, x))
                }
            }
            Hash::Big(d) => {
                let mut g = || r.next_u64();
                d.random_entry(&mut g).map(|(f, x)| (f, &x[..]))
            }
        }
    }
}
