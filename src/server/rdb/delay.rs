//! Redis's test-only per-key delays (`rdb-key-save-delay`, `key-load-delay`):
//! they slow a save or a load down so that tests can watch one in progress.
//!
//! They live in process-wide atomics rather than in the configuration because the
//! code that writes and reads keys runs in a forked child or deep inside the
//! format code, far from the server; CONFIG SET and start-up keep them in step.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

static SAVE_DELAY: AtomicI64 = AtomicI64::new(0);
static LOAD_DELAY: AtomicI64 = AtomicI64::new(0);
static RNG: AtomicU64 = AtomicU64::new(0x2545_f491_4f6c_dd1d);

/// Takes the delays from the configuration.
pub fn configure(save_us: i64, load_us: i64) {
    SAVE_DELAY.store(save_us, Ordering::Relaxed);
    LOAD_DELAY.store(load_us, Ordering::Relaxed);
}

/// Called after each key written to a snapshot.
pub fn after_key_saved() {
    delay(SAVE_DELAY.load(Ordering::Relaxed));
}

/// Called after each key read from a snapshot.
pub fn after_key_loaded() {
    delay(LOAD_DELAY.load(Ordering::Relaxed));
}

/// Redis's debugDelay: sleeps `us` microseconds; a negative value sleeps one
/// microsecond with probability 1/|us| (a statistically shorter delay than any
/// real sleep).
fn delay(us: i64) {
    if us == 0 {
        return;
    }
    let us = if us < 0 {
        let mut x = RNG.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        RNG.store(x, Ordering::Relaxed);
        u64::from(x.is_multiple_of(us.unsigned_abs()))
    } else {
        us as u64
    };
    if us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}
