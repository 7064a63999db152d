//! Sets, with Redis 7.0's two encodings: an intset (a sorted array of integers,
//! while every member is an integer and there are at most set-max-intset-entries of
//! them: little memory, SMEMBERS in ascending order) and a hash table. Conversion is
//! one-way, as in Redis.
use crate::server::dict::Dict;
use crate::server::util::{parse_i64, Rng};

#[derive(Debug, Clone)]
pub enum Set {
    Ints(Vec<i64>),
    Big(Box<Dict<()>>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Ints(Vec::new())
    }
}

/// The canonical decimal form of an integer member.
fn int_bytes(i: i64) -> Vec<u8> {
    itoa::Buffer::new().format(i).as_bytes().to_vec()
}

impl Set {
    /// An empty set in the intset encoding.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Ints(v) => v.len(),
            Set::Big(d) => d.len(),
        }
    }
    /// True when the set has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// DEBUG HTSTATS-KEY's table statistics; None for an intset.
    pub fn table_stats(&self) -> Option<String> {
        match self {
            Set::Big(d) => Some(d.stats()),
            Set::Ints(_) => None,
        }
    }
    /// True when `member` is in the set. For an intset, a member that is not the
    /// canonical form of an integer cannot be present.
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Ints(v) => parse_i64(member).is_some_and(|i| v.binary_search(&i).is_ok()),
            Set::Big(d) => d.contains_key(member),
        }
    }
    /// Adds a member with Redis's default intset limit; true if it is new.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        self.insert_with(member, 512)
    }
    /// Adds a member, converting to a hash table when it is not an integer or the
    /// intset would exceed `max_intset` entries; true if it is new.
    pub fn insert_with(&mut self, member: &[u8], max_intset: u64) -> bool {
        if let Set::Ints(v) = self {
            match parse_i64(member) {
                Some(i) => match v.binary_search(&i) {
                    Ok(_) => return false,
                    Err(pos) => {
                        v.insert(pos, i);
                        if v.len() as u64 > max_intset {
                            self.convert();
                        }
                        return true;
                    }
                },
                None => self.convert(),
            }
        }
        match self {
            Set::Big(d) => d.get_or_insert_with(member, || ()).1,
            Set::Ints(_) => unreachable!("converted above"),
        }
    }
    /// Removes `member`; true if it was present. An intset stays an intset (Redis
    /// never converts back either).
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Ints(v) => match parse_i64(member).map(|i| v.binary_search(&i)) {
                Some(Ok(pos)) => {
                    v.remove(pos);
                    true
                }
                _ => false,
            },
            Set::Big(d) => d.remove(member).is_some(),
        }
    }
    fn convert(&mut self) {
        if let Set::Ints(v) = self {
            let mut d = Dict::with_capacity(v.len() + 1);
            for i in v.iter() {
                d.insert(int_bytes(*i).into(), ());
            }
            *self = Set::Big(Box::new(d));
        }
    }
    /// Calls `f` for every member: ascending for an intset, table order otherwise.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match self {
            Set::Ints(v) => {
                let mut b = itoa::Buffer::new();
                for i in v {
                    f(b.format(*i).as_bytes());
                }
            }
            Set::Big(d) => {
                for k in d.keys() {
                    f(k);
                }
            }
        }
    }
    /// Every member, copied out: ascending for an intset, table order otherwise.
    pub fn members(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|m| out.push(m.to_vec()));
        out
    }
    /// A uniformly random member.
    pub fn random(&mut self, r: &mut Rng) -> Option<Vec<u8>> {
        match self {
            Set::Ints(v) if v.is_empty() => None,
            Set::Ints(v) => Some(int_bytes(v[r.below(v.len() as u64) as usize])),
            Set::Big(d) => {
                let mut g = || r.next_u64();
                d.random_entry(&mut g).map(|(k, _)| k.to_vec())
            }
        }
    }
    /// Removes and returns a random member.
    pub fn pop_random(&mut self, r: &mut Rng) -> Option<Vec<u8>> {
        let m = self.random(r)?;
        self.remove(&m);
        Some(m)
    }
    /// SSCAN: an intset is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        match self {
            Set::Ints(_) => {
                self.for_each(f);
                0
            }
            Set::Big(d) => d.scan(cursor, |k, _| f(k)),
        }
    }
    /// The OBJECT ENCODING name: "intset" or "hashtable".
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Big(_) => "hashtable",
        }
    }
    /// True when the set is an intset (RDB type 11).
    pub fn ints(&self) -> Option<&[i64]> {
        match self {
            Set::Ints(v) => Some(v),
            Set::Big(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_until_a_string_or_too_many() {
        let mut s = Set::new();
        assert!(s.insert(b"3"));
        assert!(s.insert(b"-1"));
        assert!(!s.insert(b"3"));
        assert_eq!(s.members(), vec![b"-1".to_vec(), b"3".to_vec()]);
        assert_eq!(s.encoding(), "intset");
        // "03" is not the canonical form of an integer: it is a string member.
        assert!(s.insert(b"03"));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"3") && s.contains(b"03") && !s.contains(b"4"));
        let mut t = Set::new();
        for i in 0..3 {
            t.insert_with(i.to_string().as_bytes(), 2);
        }
        assert_eq!(t.encoding(), "hashtable");
        assert_eq!(t.len(), 3);
    }
}
