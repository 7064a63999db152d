//! One database: its keys, their values and expiry times.
//!
//! A `Db` knows nothing of clients, replication or statistics; the server wraps its
//! lookups (`server::keys`) to apply lazy expiry, count hits and misses and feed the
//! replication stream. Expiry times are absolute Unix milliseconds, as in RDB files.

use crate::server::dict::Dict;
use crate::server::types::Value;

/// No expiry.
pub const NO_EXPIRE: i64 = -1;

/// A key's value plus its metadata.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix ms, or NO_EXPIRE.
    pub expire: i64,
    /// LRU clock (seconds, wrapping) of the last access, for OBJECT IDLETIME.
    pub lru: u32,
    /// A string modified in place (APPEND, SETRANGE, SETBIT): OBJECT ENCODING says raw.
    pub raw: bool,
}

impl Entry {
    /// A fresh entry for `value`: no expiry, not raw, last accessed now.
    pub fn new(value: Value) -> Self {
        Entry {
            value,
            expire: NO_EXPIRE,
            lru: lru_clock(),
            raw: false,
        }
    }
}

/// Seconds since the epoch, truncated: good enough for idle times.
pub fn lru_clock() -> u32 {
    (crate::server::util::command_time_ms() / 1000) as u32
}

#[derive(Debug, Default)]
pub struct Db {
    pub keys: Dict<Entry>,
    /// The keys that have an expiry (sampled by the active-expire cycle).
    pub expires: Dict<()>,
}

impl Db {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys, expired ones not yet reclaimed included (like DBSIZE in Redis).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the database holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The entry, whether or not it has expired (callers decide what expiry means).
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.keys.get(key)
    }

    /// The entry for mutation, whether or not it has expired. Changing `expire`
    /// through it does not update `expires`; use `set_expire` or `persist`.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.keys.get_mut(key)
    }

    /// Sets a key to a value. The old expiry is dropped unless `keep_ttl`.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        let (e, inserted) = self
            .keys
            .get_or_insert_with(key, || Entry::new(Value::Str(Vec::new())));
        e.value = value;
        e.raw = false;
        e.lru = lru_clock();
        if !inserted && !keep_ttl && e.expire != NO_EXPIRE {
            e.expire = NO_EXPIRE;
            self.expires.remove(key);
        }
    }

    /// Adds a key with an expiry in one step (used by RDB loading and replication).
    pub fn insert_entry(&mut self, key: &[u8], entry: Entry) {
        let has_ttl = entry.expire != NO_EXPIRE;
        if let Some(old) = self.keys.insert(key.into(), entry) {
            if old.expire != NO_EXPIRE && !has_ttl {
                self.expires.remove(key);
            }
        }
        if has_ttl {
            self.expires.get_or_insert_with(key, || ());
        }
    }

    /// Removes the key (and its place in `expires`) and returns its entry, expired
    /// or not; None when absent.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (_, e) = self.keys.remove(key)?;
        if e.expire != NO_EXPIRE {
            self.expires.remove(key);
        }
        Some(e)
    }

    /// Sets an absolute expiry (ms) on an existing key.
    pub fn set_expire(&mut self, key: &[u8], when: i64) {
        if let Some(e) = self.keys.get_mut(key) {
            e.expire = when;
            self.expires.get_or_insert_with(key, || ());
        }
    }

    /// Removes the expiry; true if there was one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        match self.keys.get_mut(key) {
            Some(e) if e.expire != NO_EXPIRE => {
                e.expire = NO_EXPIRE;
                self.expires.remove(key);
                true
            }
            _ => false,
        }
    }

    /// Drops every key and every expiry (FLUSHDB).
    pub fn clear(&mut self) {
        self.keys.clear();
        self.expires.clear();
    }
}
