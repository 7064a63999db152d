//! The encoding thresholds a load applies (`hash-max-listpack-*`,
//! `zset-max-listpack-*`): a value read from a snapshot or DUMP payload gets
//! the compact encoding only when it fits them, as Redis converts after
//! loading. Process-wide, like the test delays in `delay.rs`, because the
//! format code that builds values runs far from the configuration (also in a
//! replica's sync and RESTORE); the configuration keeps them in step.

use std::sync::atomic::{AtomicU64, Ordering};

static HASH_ENTRIES: AtomicU64 = AtomicU64::new(128);
static HASH_VALUE: AtomicU64 = AtomicU64::new(64);
static ZSET_ENTRIES: AtomicU64 = AtomicU64::new(128);
static ZSET_VALUE: AtomicU64 = AtomicU64::new(64);

/// Takes the thresholds from the configuration.
pub fn configure(hash: (u64, u64), zset: (u64, u64)) {
    HASH_ENTRIES.store(hash.0, Ordering::Relaxed);
    HASH_VALUE.store(hash.1, Ordering::Relaxed);
    ZSET_ENTRIES.store(zset.0, Ordering::Relaxed);
    ZSET_VALUE.store(zset.1, Ordering::Relaxed);
}

/// (max entries, max value bytes) of a listpack-encoded hash.
pub fn hash() -> (u64, u64) {
    (
        HASH_ENTRIES.load(Ordering::Relaxed),
        HASH_VALUE.load(Ordering::Relaxed),
    )
}

/// (max entries, max member bytes) of a listpack-encoded sorted set.
pub fn zset() -> (u64, u64) {
    (
        ZSET_ENTRIES.load(Ordering::Relaxed),
        ZSET_VALUE.load(Ordering::Relaxed),
    )
}
