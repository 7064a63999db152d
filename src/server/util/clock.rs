//! The clock: milliseconds and microseconds since the epoch, and the
//! command-time snapshot every expiry check of one command shares.

thread_local! {
    /// The time the current command started (µs since the epoch), like Redis's
    /// command time snapshot: one clock read per command, shared by every expiry
    /// check and access-time update it makes.
    static COMMAND_TIME_US: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
    /// While a script runs: the time its keys expire against (ms), its start, as
    /// Redis's script time snapshot (0: not frozen).
    static EXPIRY_FROZEN_MS: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Makes `ms` the time expiry checks use until the returned previous value is given
/// back to `freeze_expiry_time` (0 unfreezes).
pub fn freeze_expiry_time(ms: i64) -> i64 {
    EXPIRY_FROZEN_MS.with(|c| c.replace(ms))
}

/// The time a key's expiry is compared with (ms): the running script's start, else
/// the current command's time.
pub fn expiry_time_ms() -> i64 {
    match EXPIRY_FROZEN_MS.with(|c| c.get()) {
        0 => command_time_ms(),
        ms => ms,
    }
}

/// Reads the clock and makes it the current command's time; returns it (µs).
pub fn tick() -> i64 {
    let us = now_us();
    COMMAND_TIME_US.with(|c| c.set(us));
    us
}

/// Forgets the command-time snapshot: the next reader of `command_time_*` reads
/// the clock. A connection's round starts with this instead of a clock read, so
/// a round that runs no command (the one after a reply went out) costs none.
pub fn invalidate() {
    COMMAND_TIME_US.with(|c| c.set(0));
}

/// The current command-time snapshot in µs (read from the clock if unset).
pub fn command_time_us() -> i64 {
    let us = COMMAND_TIME_US.with(|c| c.get());
    if us == 0 {
        tick()
    } else {
        us
    }
}

/// The current command's time in ms (the clock, if no command ran yet).
pub fn command_time_ms() -> i64 {
    command_time_us() / 1000
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    now_us() / 1000
}

/// Microseconds since the Unix epoch (one vDSO clock read).
pub fn now_us() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
}
