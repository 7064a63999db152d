//! Hashes, with Redis's two encodings: while small (at most
//! hash-max-listpack-entries fields, none longer than hash-max-listpack-value) a
//! compact vector in insertion order, like a listpack (same field order in
//! HGETALL, little memory); beyond that a hash table. Conversion is one-way.
use super::packed::Packed;
use crate::server::dict::Dict;

#[derive(Debug, Clone)]
pub enum Hash {
    /// Fields and values alternating, in insertion order.
    Small(Packed),
    Big(Box<Dict<Box<[u8]>>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Small(Packed::new())
    }
}

impl Hash {
    /// An empty hash in the small (listpack) encoding.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Small(p) => p.len() / 2,
            Hash::Big(d) => d.len(),
        }
    }
    /// True when the hash has no field.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// DEBUG HTSTATS-KEY's table statistics; None while small.
    pub fn table_stats(&self) -> Option<String> {
        match self {
            Hash::Big(d) => Some(d.stats()),
            Hash::Small(_) => None,
        }
    }
    /// The value of `field`, or None. Linear scan of the fields while small.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Small(p) => {
                let mut it = p.iter();
                while let (Some(f), Some(v)) = (it.next(), it.next()) {
                    if f == field {
                        return Some(v);
                    }
                }
                None
            }
            Hash::Big(d) => d.get(field).map(|x| &x[..]),
        }
    }
    /// Sets `field` to `value` (HSET); true if the field is new, false if it was
    /// overwritten. Converts to a hash table when the field or value is longer than
    /// `max_value` bytes, or when a new field takes the count past `max_entries`.
    /// While small, an existing field keeps its position.
    pub fn insert_with(
        &mut self,
        field: &[u8],
        value: Vec<u8>,
        max_entries: u64,
        max_value: u64,
    ) -> bool {
        if let Hash::Small(p) = self {
            if field.len() as u64 > max_value || value.len() as u64 > max_value {
                self.convert();
            } else {
                if let Some(i) = p.find(field, 2) {
                    p.set(i + 1, &value);
                    return false;
                }
                p.push(field);
                p.push(&value);
                if (p.len() / 2) as u64 > max_entries {
                    self.convert();
                }
                return true;
            }
        }
        match self {
            Hash::Big(d) => {
                // An overwrite allocates nothing for the field, and reuses the old
                // value's allocation when the length is the same.
                let mut value = Some(value);
                let (slot, added) = d.get_or_insert_with(field, || {
                    value.take().unwrap_or_default().into_boxed_slice()
                });
                if let Some(v) = value {
                    if slot.len() == v.len() {
                        slot.copy_from_slice(&v);
                    } else {
                        *slot = v.into_boxed_slice();
                    }
                }
                added
            }
            Hash::Small(_) => unreachable!("converted above"),
        }
    }
    /// Deletes `field`; true if it was present.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Small(p) => match p.find(field, 2) {
                Some(i) => {
                    p.remove_range(i, 2);
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
            Hash::Small(p) => {
                let mut it = p.iter();
                Box::new(std::iter::from_fn(move || Some((it.next()?, it.next()?))))
            }
            Hash::Big(d) => Box::new(d.iter().map(|(f, x)| (f, &x[..]))),
        }
    }
    fn convert(&mut self) {
        if let Hash::Small(p) = self {
            let mut d = Dict::with_capacity(p.len() / 2 + 1);
            let mut it = p.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                d.insert(f.into(), v.into());
            }
            *self = Hash::Big(Box::new(d));
        }
    }
    /// The OBJECT ENCODING name: "listpack" or "hashtable".
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Small(_) => "listpack",
            Hash::Big(_) => "hashtable",
        }
    }
    /// HSCAN: a small hash is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Small(_) => {
                for (k, x) in self.iter() {
                    f(k, x);
                }
                0
            }
            Hash::Big(d) => d.scan(cursor, |k, x| f(k, x)),
        }
    }
    /// A uniformly random field.
    pub fn random(&mut self, r: &mut crate::server::util::Rng) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Small(p) => {
                let n = p.len() / 2;
                if n == 0 {
                    None
                } else {
                    let i = r.below(n as u64) as usize;
                    Some((p.get(2 * i)?, p.get(2 * i + 1)?))
                }
            }
            Hash::Big(d) => {
                let mut g = || r.next_u64();
                d.random_entry(&mut g).map(|(f, x)| (f, &x[..]))
            }
        }
    }
}
