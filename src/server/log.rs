//! The server log, in Redis's format: `pid:role dd Mon yyyy hh:mm:ss.mmm <level> msg`.
//!
//! Messages never contain passwords: callers log what happened, not credentials.
use std::io::Write;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug = 0,
    Verbose = 1,
    Notice = 2,
    Warning = 3,
}

struct Logger {
    path: String,
    level: Level,
    role: char,
}

static LOGGER: Mutex<Logger> = Mutex::new(Logger {
    path: String::new(),
    level: Level::Notice,
    role: 'M',
});

/// Sets where logs go ("" = standard output) and the minimum level.
pub fn init(path: &str, level: &str) {
    let mut l = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    l.path = path.to_string();
    l.level = parse_level(level);
}

/// Maps a `loglevel` name to a level; anything unrecognised (including "notice")
/// is Notice.
pub fn parse_level(s: &str) -> Level {
    match s {
        "debug" => Level::Debug,
        "verbose" => Level::Verbose,
        "warning" => Level::Warning,
        _ => Level::Notice,
    }
}

/// 'M' master, 'S' replica, 'C' a forked child.
pub fn set_role(role: char) {
    LOGGER.lock().unwrap_or_else(|e| e.into_inner()).role = role;
}

/// Writes one line to the log (the logfile, or stdout when it is empty) in
/// Redis's format, when `level` passes the configured verbosity.
pub fn log(level: Level, msg: &str) {
    let l = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    if level < l.level {
        return;
    }
    let mark = match level {
        Level::Debug => '.',
        Level::Verbose => '-',
        Level::Notice => '*',
        Level::Warning => '#',
    };
    let line = format!(
        "{}:{} {} {} {}\n",
        std::process::id(),
        l.role,
        timestamp(),
        mark,
        msg
    );
    if l.path.is_empty() {
        let _ = std::io::stdout().write_all(line.as_bytes());
        let _ = std::io::stdout().flush();
    } else if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&l.path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// Writes `text` to the log as it is, without the `pid:role time level` prefix
/// (Redis's LL_RAW, used for the startup logo), at notice level.
pub fn raw(text: &str) {
    let l = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    if Level::Notice < l.level {
        return;
    }
    if l.path.is_empty() {
        let _ = std::io::stdout().write_all(text.as_bytes());
        let _ = std::io::stdout().flush();
    } else if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&l.path)
    {
        let _ = f.write_all(text.as_bytes());
    }
}

/// Logs `msg` at warning level (`#`).
pub fn warning(msg: &str) {
    log(Level::Warning, msg)
}
/// Logs `msg` at notice level (`*`).
pub fn notice(msg: &str) {
    log(Level::Notice, msg)
}
/// Logs `msg` at verbose level (`-`).
pub fn verbose(msg: &str) {
    log(Level::Verbose, msg)
}

fn timestamp() -> String {
    let ms = crate::server::util::now_ms();
    let secs = ms.div_euclid(1000);
    let t = secs as libc::time_t;
    // SAFETY: localtime_r writes into the provided tm struct only.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe {
        libc::localtime_r(&t, &mut tm);
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[(tm.tm_mon.clamp(0, 11)) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        ms.rem_euclid(1000)
    )
}
