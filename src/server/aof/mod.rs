//! Append-only file persistence, as Redis 7.0's multi-part AOF: a folder
//! (`appenddirname`) holding a manifest, one base file and incremental files
//! (`manifest`); every command of the replication stream is buffered in AOF
//! form (`writer`) and written before any reply goes out, fsynced per
//! `appendfsync` (`flush`; `always` through one shared fsync, `group_sync`);
//! rewrites run in a forked child (`rewrite`, `commands_form`); the folder is
//! loaded at start in place of the RDB (`loader`, `startup`); `CONFIG SET
//! appendonly` turns it on and off (`onoff`).

pub mod commands_form;
pub mod flush;
pub mod group_sync;
pub mod loader;
pub mod manifest;
pub mod onoff;
pub mod rewrite;
pub mod startup;
pub mod writer;

pub use flush::flush;
pub use onoff::{restart_after_sync, start, stop};

use crate::server::log;
use crate::server::state::Server;
use crate::server::util::now_ms;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

/// Redis's aof_state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum State {
    #[default]
    Off,
    On,
    /// `CONFIG SET appendonly yes` waits for its first rewrite.
    WaitRewrite,
}

/// `appendfsync`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fsync {
    Always,
    #[default]
    Everysec,
    No,
}

/// The AOF's run-time state (Redis's aof_* server fields).
#[derive(Debug)]
pub struct Aof {
    /// Commands fed by the stream, not yet written (shared with the feeder).
    pub pending: Rc<RefCell<writer::Pending>>,
    /// The feeder is attached to the stream (for the process's life).
    pub attached: bool,
    pub state: State,
    /// `appendfsync` and `no-appendfsync-on-rewrite`, kept at hand.
    pub fsync: Fsync,
    pub no_fsync_on_rewrite: bool,
    /// The incremental file writes go to.
    pub file: Option<std::fs::File>,
    pub manifest: manifest::Manifest,
    pub bio: writer::Bio,
    /// aof_last_write_status, and the error that set it.
    pub last_write_ok: bool,
    pub last_write_err: String,
    pub delayed_fsync: u64,
    /// When a write was first postponed behind a running fsync (s, 0: none).
    pub flush_postponed_start: i64,
    /// When the last fsync was done or started (s).
    pub last_fsync_sec: i64,
    /// Size of the current incremental file, and how much of it is fsynced.
    pub last_incr_size: u64,
    pub last_incr_fsync_offset: u64,
    pub current_size: u64,
    /// aof_base_size: the size after the last load or rewrite.
    pub rewrite_base_size: u64,
    /// The rewrite child.
    pub child: Option<i32>,
    pub rewrite_time_start: i64,
    pub rewrite_time_last: i64,
    pub rewrite_scheduled: bool,
    pub last_bgrewrite_ok: bool,
    pub rewrites: u64,
    pub consecutive_failures: u64,
    /// When the last write error was logged (s), to log one per 30 s.
    pub last_error_log_sec: i64,
    /// Deferred fsyncs of `appendfsync always`.
    pub group: group_sync::GroupSync,
    /// The automatic-rewrite limit after failures: the next delay (min) and
    /// when rewrites may start again (s, 0: not limited).
    pub limit_next_delay_min: i64,
    pub limit_next_time: i64,
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            pending: Default::default(),
            attached: false,
            state: State::Off,
            fsync: Fsync::Everysec,
            no_fsync_on_rewrite: false,
            file: None,
            manifest: Default::default(),
            bio: Default::default(),
            last_write_ok: true,
            last_write_err: String::new(),
            delayed_fsync: 0,
            flush_postponed_start: 0,
            last_fsync_sec: now_ms() / 1000,
            last_incr_size: 0,
            last_incr_fsync_offset: 0,
            current_size: 0,
            rewrite_base_size: 0,
            child: None,
            rewrite_time_start: -1,
            rewrite_time_last: -1,
            rewrite_scheduled: false,
            last_bgrewrite_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            last_error_log_sec: 0,
            limit_next_delay_min: 0,
            limit_next_time: 0,
            group: Default::default(),
        }
    }
}

/// The folder of the AOF files (relative to `dir`, the working directory).
pub fn dir(srv: &Server) -> PathBuf {
    PathBuf::from(srv.config.get("appenddirname").unwrap_or_default())
}

/// The file-name prefix (`appendfilename`).
pub fn prefix(srv: &Server) -> String {
    srv.config.get("appendfilename").unwrap_or_default()
}

/// Whether a new base is an RDB (`aof-use-rdb-preamble yes`).
pub fn use_rdb_preamble(srv: &Server) -> bool {
    srv.config.get("aof-use-rdb-preamble").as_deref() != Some("no")
}

/// Whether a background child runs (a save or a rewrite): Redis's
/// hasActiveChildProcess.
pub fn has_active_child(srv: &Server) -> bool {
    srv.persistence.child_pid.is_some() || srv.aof.child.is_some()
}

/// Tells the hash tables whether a child runs (Redis's
/// updateDictResizePolicy); called whenever a child starts or ends.
pub fn update_resize_policy(srv: &Server) {
    use crate::server::dict::{set_resize_policy, ResizePolicy};
    set_resize_policy(if has_active_child(srv) {
        ResizePolicy::Avoid
    } else {
        ResizePolicy::Enable
    });
}

/// Takes `appendfsync`, `no-appendfsync-on-rewrite` and
/// `aof-timestamp-enabled` from the configuration (at start and after
/// CONFIG SET).
pub fn refresh_config(srv: &mut Server) {
    srv.aof.fsync = match srv.config.get("appendfsync").as_deref() {
        Some("always") => Fsync::Always,
        Some("no") => Fsync::No,
        _ => Fsync::Everysec,
    };
    srv.aof.no_fsync_on_rewrite =
        srv.config.get("no-appendfsync-on-rewrite").as_deref() == Some("yes");
    srv.aof.pending.borrow_mut().timestamps =
        srv.config.get("aof-timestamp-enabled").as_deref() == Some("yes");
}

/// Whether the stream is buffered: the AOF is on, or a rewrite child runs
/// while `appendonly yes` waits for it (feedAppendOnlyFile's condition).
pub fn set_buffering(srv: &mut Server) {
    let on = srv.aof.state == State::On
        || (srv.aof.state == State::WaitRewrite && srv.aof.child.is_some());
    srv.aof.pending.borrow_mut().enabled = on;
}

/// Writes the manifest safely (Redis's persistAofManifest): a temporary file
/// in the folder, fsynced, renamed over the old one, then the folder fsynced.
/// Errors are logged with Redis's lines.
pub fn persist_manifest(srv: &Server, m: &manifest::Manifest) -> Result<(), ()> {
    use std::io::Write;
    let d = dir(srv);
    let name = manifest::manifest_name(&prefix(srv));
    let tmp_name = format!("temp-{}", name);
    let tmp = d.join(&tmp_name);
    let mut f = std::fs::File::create(&tmp).map_err(|e| {
        log::warning(&format!(
            "Can't open the AOF manifest file {}: {}",
            tmp_name, e
        ))
    })?;
    f.write_all(m.render().as_bytes()).map_err(|e| {
        log::warning(&format!(
            "Error trying to write the temporary AOF manifest file {}: {}",
            tmp_name, e
        ))
    })?;
    f.sync_all().map_err(|e| {
        log::warning(&format!(
            "Fail to fsync the temp AOF file {}: {}.",
            tmp_name, e
        ))
    })?;
    std::fs::rename(&tmp, d.join(&name)).map_err(|e| {
        log::warning(&format!(
            "Error trying to rename the temporary AOF manifest file {} into {}: {}",
            tmp_name, name, e
        ))
    })?;
    std::fs::File::open(&d)
        .and_then(|f| f.sync_all())
        .map_err(|e| {
            log::warning(&format!(
                "Fail to fsync AOF directory {}: {}.",
                d.join(&name).display(),
                e
            ))
        })
}

/// Attaches the feeder to the stream (once per process).
pub fn attach(srv: &mut Server) {
    if !srv.aof.attached {
        let feeder = writer::Feeder(srv.aof.pending.clone());
        srv.attach_stream_consumer(Box::new(feeder));
        srv.aof.attached = true;
    }
}

/// The cron's AOF chores before the save rules (Redis's serverCron order):
/// collect a finished rewrite child, start a scheduled rewrite.
pub fn cron_before_save(srv: &mut Server) {
    rewrite::reap_child(srv);
    if !has_active_child(srv) && srv.aof.rewrite_scheduled && !rewrite_limited(srv) {
        let _ = rewrite::start_background(srv);
    }
}

/// The cron's AOF chores after the save rules: the automatic rewrite
/// (auto-aof-rewrite-percentage / -min-size), a postponed flush, and once a
/// second a retry after a write error; `everysec` fsyncs come from `flush`.
pub fn cron(srv: &mut Server) {
    let perc: u64 = srv
        .config
        .get("auto-aof-rewrite-percentage")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let min: u64 = srv
        .config
        .get("auto-aof-rewrite-min-size")
        .and_then(|v| crate::server::util::parse_memory(&v))
        .unwrap_or(0);
    if srv.aof.state == State::On
        && !has_active_child(srv)
        && perc > 0
        && srv.aof.current_size > min
    {
        let base = srv.aof.rewrite_base_size.max(1);
        let growth = (srv.aof.current_size * 100 / base) as i64 - 100;
        if growth >= perc as i64 && !rewrite_limited(srv) {
            log::notice(&format!(
                "Starting automatic rewriting of AOF on {}% growth",
                growth
            ));
            let _ = rewrite::start_background(srv);
        }
    }
    if srv.aof.state == State::Off {
        return;
    }
    // A postponed write, a retry after a write error, writes made outside
    // any client's turn (active expiry), and the everysec fsync when writes
    // stopped.
    flush(srv, false);
}

/// Whether automatic rewrites are held back after repeated failures
/// (aofRewriteLimited): after 3 failures in a row, 1 minute, then 2, 4...
/// up to an hour between attempts.
fn rewrite_limited(srv: &mut Server) -> bool {
    let a = &mut srv.aof;
    if a.consecutive_failures < 3 {
        a.limit_next_delay_min = 0;
        a.limit_next_time = 0;
        return false;
    }
    let now = now_ms() / 1000;
    if a.limit_next_time != 0 {
        if now < a.limit_next_time {
            return true;
        }
        a.limit_next_time = 0;
        return false;
    }
    a.limit_next_delay_min = (a.limit_next_delay_min * 2).clamp(1, 60);
    a.limit_next_time = now + a.limit_next_delay_min * 60;
    log::warning(&format!("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes", a.limit_next_delay_min));
    true
}

/// The AOF's part of a shutdown (prepareForShutdown): a rewrite child is
/// killed, except the one writing the first base after `CONFIG SET
/// appendonly yes` (the shutdown then fails: the dataset would be lost);
/// then the buffer is written and the file fsynced.
pub fn shutdown(srv: &mut Server) -> Result<(), String> {
    if srv.aof.child.is_some() {
        if srv.aof.state == State::WaitRewrite {
            return Err("Writing initial AOF, can't exit.".into());
        }
        log::warning("There is a child rewriting the AOF. Killing it!");
        rewrite::kill_child(srv);
    }
    if srv.aof.state == State::Off {
        return Ok(());
    }
    log::notice("Calling fsync() on the AOF file.");
    flush(srv, true);
    if let Some(f) = srv.aof.file.as_ref() {
        if let Err(e) = f.sync_data() {
            log::warning(&format!("Fail to fsync the AOF file: {}", e));
        }
    }
    Ok(())
}

/// Why writes are refused (Redis's DISK_ERROR_TYPE_AOF): the last write or
/// background fsync of the AOF failed; None while the AOF is off or fine.
pub fn write_error(srv: &Server) -> Option<String> {
    let a = &srv.aof;
    if a.state == State::Off {
        return None;
    }
    if !a.last_write_ok {
        return Some(a.last_write_err.clone());
    }
    if !a.bio.ok.load(std::sync::atomic::Ordering::Acquire) {
        return Some(a.bio.err.lock().map(|e| e.clone()).unwrap_or_default());
    }
    None
}

/// An I/O error as C's strerror words it (without Rust's "(os error N)").
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The aof_* lines of INFO persistence, in Redis 7.0's order.
pub fn info_fields(srv: &Server) -> String {
    let a = &srv.aof;
    let now_s = now_ms() / 1000;
    let write_ok = a.last_write_ok && a.bio.ok.load(std::sync::atomic::Ordering::Acquire);
    let mut s = format!(
        "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        (a.state != State::Off) as u8,
        a.child.is_some() as u8,
        a.rewrite_scheduled as u8,
        a.rewrite_time_last,
        if a.child.is_some() { now_s - a.rewrite_time_start } else { -1 },
        if a.last_bgrewrite_ok { "ok" } else { "err" },
        a.rewrites,
        a.consecutive_failures,
        if write_ok { "ok" } else { "err" },
    );
    if srv.config.appendonly {
        s.push_str(&format!(
            "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:{}\r\naof_delayed_fsync:{}\r\n",
            a.current_size,
            a.rewrite_base_size,
            a.rewrite_scheduled as u8,
            a.pending.borrow().bytes.len(),
            a.bio.pending.load(std::sync::atomic::Ordering::Acquire),
            a.delayed_fsync
        ));
    }
    s
}
