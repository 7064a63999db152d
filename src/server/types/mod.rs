//! Value types: what a key holds. Each collection type lives in its own module and
//! keeps its own compact and big encodings behind one API, so that commands, RDB and
//! replication never depend on the representation.
pub mod hash;
pub mod list;
pub mod packed;
pub mod set;
pub mod stream;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;

/// The value of a key. Each collection type keeps its small encoding inline (one
/// allocation for a small collection) and boxes its big one, so a keyspace entry
/// stays small.
#[derive(Debug, Clone)]
pub enum Value {
    Str(Vec<u8>),
    List(List),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
    Stream(Box<Stream>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }
}

/// The reply for a command used against a key of another type.
pub use crate::server::resp::errors::WRONGTYPE;

impl Value {
    /// The name OBJECT ENCODING reports (Redis 7.0's encodings).
    pub fn encoding(&self, raw: bool) -> &'static str {
        match self {
            Value::Str(s) => string_encoding(s, raw),
            Value::List(_) => "quicklist",
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }
}

/// The OBJECT ENCODING of a string value.
///
/// A string modified in place (`raw`: APPEND, SETRANGE, SETBIT) is raw even when
/// it reads as a number, as in Redis, where only a fresh value gets the int or
/// embstr encoding.
pub fn string_encoding(s: &[u8], raw: bool) -> &'static str {
    if raw {
        "raw"
    } else if s.len() <= 20 && crate::server::util::parse_i64(s).is_some() {
        "int"
    } else if s.len() <= 44 {
        "embstr"
    } else {
        "raw"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_stay_small() {
        // A keyspace entry holds a Value inline: collections keep only their small
        // encoding (or a pointer to the big one) there.
        assert!(
            std::mem::size_of::<super::Value>() <= 32,
            "{}",
            std::mem::size_of::<super::Value>()
        );
        assert!(std::mem::size_of::<super::Hash>() <= 24);
        assert!(std::mem::size_of::<super::List>() <= 24);
        assert!(std::mem::size_of::<super::ZSet>() <= 24);
    }
}
