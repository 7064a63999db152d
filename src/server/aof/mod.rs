//! Append-only file persistence, as Redis 7.0's multi-part AOF: a folder
//! (`appenddirname`) holding a manifest, one base file and incremental files
//! (`manifest`); every command of the replication stream is buffered in AOF
//! form (`writer`) and written before any reply goes out, fsynced per
//! `appendfsync` (`flush`); rewrites run in a forked child (`rewrite`,
//! `commands_form`); the folder is loaded at start in place of the RDB
//! (`loader`, `startup`).

pub mod commands_form;
pub mod group_sync;
pub mod loader;
pub mod manifest;
pub mod rewrite;
pub mod startup;
pub mod writer;

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

/// Writes the buffered commands to the incremental file and fsyncs per
/// `appendfsync` (Redis's flushAppendOnlyFile), before any reply goes out:
/// with `always` the data is on disk when this returns (a failed write or
/// fsync then ends the process, as Redis); with `everysec` a write waits up
/// to 2 s behind a running background fsync unless `force`, and an fsync
/// starts in the background once a second.
pub fn flush(srv: &mut Server, force: bool) {
    if srv.aof.state == State::Off {
        return;
    }
    let empty = srv.aof.pending.borrow().bytes.is_empty();
    let a = &mut srv.aof;
    if a.file.is_none() {
        return;
    }
    let now_s = now_ms() / 1000;
    let mut sync_in_progress = false;
    if empty {
        let unsynced = a.last_incr_fsync_offset != a.last_incr_size;
        let due = match a.fsync {
            Fsync::Everysec => {
                unsynced && now_s > a.last_fsync_sec && {
                    sync_in_progress = a.bio.in_progress();
                    !sync_in_progress
                }
            }
            Fsync::Always => unsynced && (force || !group_sync::deferred(srv)),
            Fsync::No => false,
        };
        if !due {
            return;
        }
    } else {
        if a.fsync == Fsync::Everysec {
            sync_in_progress = a.bio.in_progress();
        }
        if a.fsync == Fsync::Everysec && !force && sync_in_progress {
            if a.flush_postponed_start == 0 {
                a.flush_postponed_start = now_s;
                return;
            } else if now_s - a.flush_postponed_start < 2 {
                return;
            }
            a.delayed_fsync += 1;
            log::notice("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
        }
        if !write_buffer(srv) {
            return;
        }
    }
    if srv.aof.no_fsync_on_rewrite && has_active_child(srv) {
        return;
    }
    if srv.aof.fsync == Fsync::Always && !force && group_sync::deferred(srv) {
        // The replies wait for the syncer's fsync (group_sync).
        group_sync::written(srv);
        return;
    }
    let a = &mut srv.aof;
    let Some(file) = a.file.as_ref() else {
        return;
    };
    match a.fsync {
        Fsync::Always => {
            if let Err(e) = file.sync_data() {
                log::warning(&format!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...", strerror(&e)));
                std::process::exit(1);
            }
            a.last_incr_fsync_offset = a.last_incr_size;
            a.last_fsync_sec = now_s;
            group_sync::all_synced(srv);
        }
        Fsync::Everysec if now_s > a.last_fsync_sec => {
            if !sync_in_progress {
                if let Ok(dup) = file.try_clone() {
                    a.bio.fsync(dup, false);
                }
                a.last_incr_fsync_offset = a.last_incr_size;
            }
            a.last_fsync_sec = now_s;
        }
        _ => {}
    }
}

/// The write half of `flush`: returns whether the whole buffer went out.
fn write_buffer(srv: &mut Server) -> bool {
    let now_s = now_ms() / 1000;
    let pending = srv.aof.pending.clone();
    let mut p = pending.borrow_mut();
    let a = &mut srv.aof;
    let Some(file) = a.file.as_mut() else {
        return false;
    };
    let (mut written, err) = writer::write_all(file, &p.bytes);
    a.flush_postponed_start = 0;
    let Some(e) = err else {
        if !a.last_write_ok {
            log::warning("AOF write error looks solved, Redis can write again.");
            a.last_write_ok = true;
        }
        a.current_size += written as u64;
        a.last_incr_size += written as u64;
        if p.bytes.capacity() > 1 << 20 {
            p.bytes = Vec::new();
        } else {
            p.bytes.clear();
        }
        return true;
    };
    let can_log = now_s - a.last_error_log_sec > 30;
    if can_log {
        a.last_error_log_sec = now_s;
    }
    if written == 0 {
        if can_log {
            log::warning(&format!("Error writing to the AOF file: {}", e));
        }
    } else {
        if can_log {
            log::warning(&format!(
                "Short write while writing to the AOF file: (nwritten={}, expected={})",
                written,
                p.bytes.len()
            ));
        }
        // Take the partial command back out so the file stays loadable.
        if file.set_len(a.last_incr_size).is_ok() {
            written = 0;
        } else if can_log {
            log::warning("Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: failed");
        }
    }
    if a.fsync == Fsync::Always {
        log::warning(
            "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...",
        );
        std::process::exit(1);
    }
    a.last_write_ok = false;
    a.last_write_err = strerror(&e);
    if written > 0 {
        a.current_size += written as u64;
        a.last_incr_size += written as u64;
        p.bytes.drain(..written);
    }
    false
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

/// `CONFIG SET appendonly yes` (startAppendOnly): the AOF waits for a
/// rewrite that writes the dataset as a new base, started now or scheduled
/// when another child runs. Err is the reply's reason.
pub fn start(srv: &mut Server) -> Result<(), String> {
    if srv.aof.state != State::Off {
        return Ok(());
    }
    attach(srv);
    srv.aof.state = State::WaitRewrite;
    if srv.persistence.child_pid.is_some() {
        srv.aof.rewrite_scheduled = true;
        log::warning("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
    } else if srv.in_exec {
        srv.aof.rewrite_scheduled = true;
        log::warning("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
    } else {
        if srv.aof.child.is_some() {
            log::warning("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
            rewrite::kill_child(srv);
        }
        if rewrite::start_background(srv).is_err() {
            srv.aof.state = State::Off;
            set_buffering(srv);
            log::warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
            return Err("Unable to turn on AOF. Check server logs.".into());
        }
    }
    srv.aof.last_fsync_sec = now_ms() / 1000;
    if !srv
        .aof
        .bio
        .ok
        .swap(true, std::sync::atomic::Ordering::AcqRel)
    {
        log::warning("AOF reopen, just ignore the AOF fsync error in bio job");
    }
    if !srv.aof.last_write_ok {
        log::warning("AOF reopen, just ignore the last error.");
        srv.aof.last_write_ok = true;
    }
    set_buffering(srv);
    Ok(())
}

/// `CONFIG SET appendonly no` (stopAppendOnly): flushes, fsyncs and closes
/// the file, and kills a rewrite child.
pub fn stop(srv: &mut Server) {
    if srv.aof.state == State::Off {
        return;
    }
    flush(srv, true);
    if let Some(f) = srv.aof.file.take() {
        match f.sync_data() {
            Ok(()) => srv.aof.last_fsync_sec = now_ms() / 1000,
            Err(e) => log::warning(&format!("Fail to fsync the AOF file: {}", e)),
        }
    }
    srv.aof.pending.borrow_mut().db = -1;
    srv.aof.state = State::Off;
    srv.aof.rewrite_scheduled = false;
    srv.aof.last_incr_size = 0;
    srv.aof.last_incr_fsync_offset = 0;
    rewrite::kill_child(srv);
    srv.aof.pending.borrow_mut().bytes = Vec::new();
    set_buffering(srv);
}

/// A replica finished loading its master's snapshot: with the AOF on, the
/// old files no longer describe the dataset, so the AOF restarts with a
/// rewrite (Redis's stopAppendOnly before the load, restartAOFAfterSYNC
/// after).
pub fn restart_after_sync(srv: &mut Server) {
    if !srv.config.appendonly {
        return;
    }
    stop(srv);
    for _ in 0..10 {
        if start(srv).is_ok() {
            return;
        }
        log::warning("Failed enabling the AOF after successful master synchronization! Trying it again in one second.");
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    log::warning("FATAL: this replica instance finished the synchronization with its master, but the AOF can't be turned on. Exiting now.");
    std::process::exit(1);
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
