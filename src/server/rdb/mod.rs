//! RDB persistence: when snapshots happen (SAVE, BGSAVE, save rules, shutdown,
//! start-up load) and the bookkeeping INFO persistence shows. The file format
//! itself lives in `writer`, `reader`, `listpack`, `lzf` and `crc64`.
pub mod crc64;
pub mod delay;
pub mod format;
pub mod limits;
pub mod listpack;
pub mod lzf;
pub mod reader;
pub mod stream_format;
pub mod writer;

use crate::server::log;
use crate::server::state::Server;
use crate::server::util::now_ms;
use std::path::PathBuf;

/// Snapshot bookkeeping (INFO persistence).
#[derive(Debug)]
pub struct Persistence {
    /// Pid of the background save child, if one runs.
    pub child_pid: Option<i32>,
    pub last_bgsave_ok: bool,
    pub bgsave_scheduled: bool,
    pub rdb_saves: u64,
    pub last_bgsave_time_sec: i64,
    pub current_bgsave_start_ms: i64,
    /// `dirty` when the running background save started (subtracted on success).
    pub dirty_before_bgsave: u64,
    /// When the last background save was attempted (s), for the retry delay.
    pub last_bgsave_try: i64,
    /// Replication info read from the RDB at start-up (for a partial resync).
    pub loaded_repl: Option<ReplInfo>,
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
    /// The running child writes to replicas' sockets (diskless sync), not a file.
    pub child_to_socket: bool,
    /// How the last diskless transfer's child ended (None while it runs).
    pub socket_result: Option<bool>,
    /// Event: a background save (to a file or to replicas' sockets) ended, and
    /// whether it succeeded. Replication takes it (`replication::cron` and the
    /// SIGCHLD watcher) to go on with the replicas waiting for the snapshot.
    pub snapshot_done: Option<bool>,
}

impl Default for Persistence {
    fn default() -> Self {
        Persistence {
            child_pid: None,
            last_bgsave_ok: true,
            bgsave_scheduled: false,
            rdb_saves: 0,
            last_bgsave_time_sec: -1,
            current_bgsave_start_ms: 0,
            dirty_before_bgsave: 0,
            last_bgsave_try: 0,
            loaded_repl: None,
            last_load_keys_loaded: 0,
            last_load_keys_expired: 0,
            child_to_socket: false,
            socket_result: None,
            snapshot_done: None,
        }
    }
}

/// True when the last background save failed (stop-writes-on-bgsave-error).
pub fn last_bgsave_failed(srv: &Server) -> bool {
    !srv.persistence.last_bgsave_ok
}

/// The snapshot path (`dbfilename` inside `dir`, which is the working directory).
pub fn rdb_path(srv: &Server) -> PathBuf {
    PathBuf::from(&srv.config.dbfilename)
}

/// Loads `dir`/`dbfilename` at start-up if it exists. An unreadable or corrupt file
/// is an error: starting empty over it would lose the data at the next save.
pub fn load_on_startup(srv: &mut Server) -> Result<(), String> {
    let start = std::time::Instant::now();
    let Some(loaded) = read_file(srv)? else {
        return Ok(());
    };
    install(srv, loaded);
    // Resume the replication history the snapshot records (Redis 7 does this for
    // masters and replicas alike): replicas of a restarted master, or a restarted
    // replica, can then continue with a partial resync.
    if let Some(r) = srv.persistence.loaded_repl.clone() {
        srv.repl.replid = r.replid;
        srv.repl.offset = r.offset;
        srv.repl.can_continue = true;
        let size = srv.config.repl_backlog_size as usize;
        srv.repl.reset_backlog(size);
    }
    log::notice(&format!(
        "DB loaded from disk: {:.3} seconds",
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// DEBUG RELOAD's load: the snapshot replaces the dataset and the function libraries
/// (`flush`), or is added to them. Added without `merge`, a key or library that already
/// exists is an error and nothing changes; with `merge` the snapshot's one replaces it.
/// The replication history stays as it is (Redis loads without it here too).
pub fn reload(srv: &mut Server, flush: bool, merge: bool) -> Result<(), String> {
    let loaded = read_file(srv)?.ok_or_else(|| {
        format!(
            "can't open {}: No such file or directory",
            rdb_path(srv).display()
        )
    })?;
    if flush {
        install(srv, loaded);
        return Ok(());
    }
    if !merge {
        for (i, db) in loaded.dbs.iter().enumerate() {
            let Some(ours) = srv.dbs.get(i) else { break };
            if let Some(k) = db.keys.keys().find(|k| ours.keys.contains_key(k)) {
                return Err(format!(
                    "RDB has duplicated key '{}' in DB {}",
                    String::from_utf8_lossy(k),
                    i
                ));
            }
        }
        for code in &loaded.functions {
            let name = crate::server::scripting::functions::parse_metadata(code)?.1;
            if srv.scripting.functions.has_library(&name) {
                return Err(format!("Library '{}' already exists", name));
            }
        }
    }
    for code in &loaded.functions {
        crate::server::scripting::functions::create_library(&mut srv.scripting, code, true)?;
    }
    for (i, mut db) in loaded.dbs.into_iter().enumerate() {
        let Some(ours) = srv.dbs.get_mut(i) else {
            break;
        };
        let keys: Vec<Box<[u8]>> = db.keys.keys().map(Box::from).collect();
        for k in keys {
            if let Some(e) = db.remove(&k) {
                ours.insert_entry(&k, e);
            }
        }
    }
    srv.persistence.last_load_keys_loaded = loaded.keys_loaded;
    srv.persistence.last_load_keys_expired = loaded.keys_expired;
    Ok(())
}

/// Reads `dir`/`dbfilename` whole; None when there is no such file.
fn read_file(srv: &mut Server) -> Result<Option<Loaded>, String> {
    let path = rdb_path(srv);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("can't open {}: {}", path.display(), e)),
    };
    srv.loading = true;
    let mut r = std::io::BufReader::with_capacity(1 << 16, file);
    // A master drops keys that expired while it was down; a replica keeps them
    // until its master says DEL.
    let drop_before = if srv.config.replicaof.is_some() {
        None
    } else {
        Some(now_ms())
    };
    let result = reader::read(&mut r, srv.config.databases, drop_before);
    srv.loading = false;
    result
        .map(Some)
        .map_err(|e| format!("{} while reading {}", e, path.display()))
}

/// Replaces the dataset with a snapshot that was read completely.
pub fn install(srv: &mut Server, loaded: Loaded) {
    srv.dbs = loaded.dbs;
    // The snapshot's function libraries replace ours, as Redis's full sync and load.
    srv.scripting.functions = Default::default();
    for code in &loaded.functions {
        if let Err(e) =
            crate::server::scripting::functions::create_library(&mut srv.scripting, code, true)
        {
            log::warning(&format!(
                "Failed loading a function library of the snapshot: {}",
                e
            ));
        }
    }
    srv.persistence.loaded_repl = loaded.repl;
    srv.persistence.last_load_keys_loaded = loaded.keys_loaded;
    srv.persistence.last_load_keys_expired = loaded.keys_expired;
}

/// What the snapshot records of replication (so a restarted replica can resume).
fn repl_info(srv: &Server) -> Option<ReplInfo> {
    Some(ReplInfo {
        replid: srv.repl.replid.clone(),
        offset: srv.repl.offset,
        stream_db: srv.repl.stream_db.max(0),
    })
}

/// Writes a snapshot to `path` safely: a temporary file in the same directory,
/// fsynced, then renamed over the old one.
pub fn save_to(srv: &Server, path: &std::path::Path) -> Result<(), String> {
    use std::io::Write;
    let tmp = PathBuf::from(format!("temp-{}.rdb", std::process::id()));
    let file = std::fs::File::create(&tmp).map_err(|e| {
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        format!(
            "Failed opening the temp RDB file {} (in server root dir {}) for saving: {}",
            tmp.display(),
            cwd,
            e
        )
    })?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
    let repl = repl_info(srv);
    let meta = writer::Meta {
        repl: repl.as_ref(),
        compress: srv.config.rdbcompression,
        checksum: srv.config.rdbchecksum,
        used_mem: crate::server::memory::used() as u64,
        ctime: now_ms() / 1000,
        functions: srv.scripting.functions.codes(),
        aof_base: false,
    };
    let written = writer::write(&srv.dbs, &mut w, &meta)
        .and_then(|_| w.flush())
        .and_then(|_| w.get_ref().sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("Write error saving DB on disk: {}", e));
    }
    drop(w);
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "Error moving temp DB file {} on the final destination {}: {}",
            tmp.display(),
            path.display(),
            e
        ));
    }
    Ok(())
}

/// SAVE: writes a snapshot in the foreground.
pub fn save(srv: &mut Server) -> Result<(), String> {
    if srv.persistence.child_pid.is_some() {
        return Err("Background save already in progress".into());
    }
    let path = rdb_path(srv);
    match save_to(srv, &path) {
        Ok(()) => {
            log::notice("DB saved on disk");
            srv.dirty = 0;
            srv.lastsave = now_ms() / 1000;
            srv.persistence.last_bgsave_ok = true;
            srv.persistence.rdb_saves += 1;
            Ok(())
        }
        Err(e) => {
            log::warning(&e);
            srv.persistence.last_bgsave_ok = false;
            Err(e)
        }
    }
}

/// BGSAVE: forks a child that writes the snapshot while the parent keeps serving
/// clients (the child sees the dataset as it was at the fork).
pub fn bgsave(srv: &mut Server) -> Result<(), String> {
    if srv.persistence.child_pid.is_some() {
        return Err("Background save already in progress".into());
    }
    if srv.aof.child.is_some() {
        return Err("Another child process is active (AOF?): can't BGSAVE right now.".into());
    }
    let path = rdb_path(srv);
    srv.persistence.last_bgsave_try = now_ms() / 1000;
    let fork_start = std::time::Instant::now();
    // SAFETY: the server is single-threaded; the child only writes a file from
    // memory it owns and leaves with _exit, never returning into the runtime.
    let pid = unsafe { libc::fork() };
    if pid > 0 {
        srv.stats.total_forks += 1;
        srv.stats.latest_fork_usec = fork_start.elapsed().as_micros() as u64;
    }
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        srv.persistence.last_bgsave_ok = false;
        return Err(format!("Can't save in background: fork: {}", e));
    }
    if pid == 0 {
        in_child(srv, &[]);
        let code = match save_to(srv, &path) {
            Ok(()) => {
                log::notice("DB saved on disk");
                0
            }
            Err(e) => {
                log::warning(&e);
                1
            }
        };
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    log::notice(&format!("Background saving started by pid {}", pid));
    srv.persistence.child_pid = Some(pid);
    crate::server::aof::update_resize_policy(srv);
    srv.persistence.current_bgsave_start_ms = now_ms();
    srv.persistence.dirty_before_bgsave = srv.dirty;
    Ok(())
}

/// Prepares a freshly forked child: its log role and OOM score, and closes the
/// descriptors it must not hold, as Redis's child does: the listening sockets
/// (so a restarted server can bind the port while a child still runs) and
/// `close` (for a diskless sync, the pipe's read end: while the child holds it,
/// the child's writes never fail when the parent dies, and it would block
/// forever instead of exiting).
pub(crate) fn in_child(srv: &mut Server, close: &[i32]) {
    log::set_role('C');
    let _ = crate::server::oom::apply(srv, crate::server::oom::ProcessClass::BackgroundChild);
    for &fd in srv.listen_fds.iter().chain(close) {
        // SAFETY: closing descriptors in the child's own copy of the table; the
        // child never touches the runtime objects that wrap them again.
        unsafe { libc::close(fd) };
    }
}

/// Forks a child that writes the snapshot for a diskless full sync into the
/// pipe `(read_end, write_end)` whose read end the parent relays to replicas,
/// framed as Redis does: `$EOF:<mark>\r\n`, the RDB, then the 40-byte mark.
/// The child closes `read_end`, so it exits (EPIPE) if the parent dies.
pub fn fork_to_fd(srv: &mut Server, read_end: i32, fd: i32, mark: &str) -> Result<i32, String> {
    if crate::server::aof::has_active_child(srv) {
        return Err("Background save already in progress".into());
    }
    let fork_start = std::time::Instant::now();
    // SAFETY: as in `bgsave`; the child owns `fd` and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid > 0 {
        srv.stats.total_forks += 1;
        srv.stats.latest_fork_usec = fork_start.elapsed().as_micros() as u64;
    }
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        in_child(srv, &[read_end]);
        use std::io::Write;
        use std::os::fd::FromRawFd;
        // SAFETY: `fd` is the pipe's write end, owned by this child alone now.
        let file = unsafe { std::fs::File::from_raw_fd(fd) };
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let repl = repl_info(srv);
        let meta = writer::Meta {
            repl: repl.as_ref(),
            compress: srv.config.rdbcompression,
            checksum: srv.config.rdbchecksum,
            used_mem: crate::server::memory::used() as u64,
            ctime: now_ms() / 1000,
            functions: srv.scripting.functions.codes(),
            aof_base: false,
        };
        let ok = w.write_all(format!("$EOF:{}\r\n", mark).as_bytes()).is_ok()
            && writer::write(&srv.dbs, &mut w, &meta).is_ok()
            && w.write_all(mark.as_bytes()).is_ok()
            && w.flush().is_ok();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    log::notice(&format!(
        "Starting BGSAVE for SYNC with target: replicas sockets (pid {})",
        pid
    ));
    srv.persistence.child_pid = Some(pid);
    crate::server::aof::update_resize_policy(srv);
    srv.persistence.child_to_socket = true;
    srv.persistence.socket_result = None;
    srv.persistence.current_bgsave_start_ms = now_ms();
    Ok(pid)
}

/// Stops a running background save (shutdown, FLUSHALL) and removes its file.
pub fn kill_child(srv: &mut Server) {
    if let Some(pid) = srv.persistence.child_pid.take() {
        // SAFETY: plain syscalls on the pid of our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        let _ = std::fs::remove_file(format!("temp-{}.rdb", pid));
        crate::server::aof::update_resize_policy(srv);
    }
}

/// Persistence work the server cron does: reap a finished child, start a
/// scheduled save, apply the `save` rules.
pub fn cron(srv: &mut Server) {
    if srv.persistence.child_pid.is_some() {
        reap_child(srv);
        return;
    }
    if srv.aof.child.is_some() {
        // An AOF rewrite runs: saves wait for it, as Redis.
        return;
    }
    let now = now_ms() / 1000;
    if srv.persistence.bgsave_scheduled {
        srv.persistence.bgsave_scheduled = false;
        if let Err(e) = bgsave(srv) {
            log::warning(&e);
        }
        return;
    }
    let retry_ok = srv.persistence.last_bgsave_ok || now - srv.persistence.last_bgsave_try > 5;
    let due = srv
        .config
        .save_params
        .iter()
        .find(|(secs, changes)| {
            srv.dirty >= *changes && now - srv.lastsave > *secs as i64 && retry_ok
        })
        .copied();
    if let Some((secs, changes)) = due {
        log::notice(&format!(
            "{} changes in {} seconds. Saving...",
            changes, secs
        ));
        if let Err(e) = bgsave(srv) {
            log::warning(&e);
        }
    }
}

/// Collects the background save child if it has exited (non-blocking).
pub fn reap_child(srv: &mut Server) {
    let Some(pid) = srv.persistence.child_pid else {
        return;
    };
    let mut status = 0;
    // SAFETY: non-blocking wait on our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    if r == pid || r < 0 {
        let ok = r == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        bgsave_done(srv, ok, pid);
    }
}

/// Bookkeeping when a background save ends; records the `snapshot_done` event
/// for replication, which may be waiting for the snapshot.
fn bgsave_done(srv: &mut Server, ok: bool, pid: i32) {
    srv.persistence.child_pid = None;
    crate::server::aof::update_resize_policy(srv);
    let p = &mut srv.persistence;
    if std::mem::take(&mut p.child_to_socket) {
        // A diskless transfer: no file, no save bookkeeping; the relay task
        // finishes the replicas' transfers when it sees this result.
        p.socket_result = Some(ok);
        if ok {
            log::notice("Background RDB transfer terminated with success");
        } else {
            log::warning("Background transfer error");
        }
        p.snapshot_done = Some(ok);
        return;
    }
    p.last_bgsave_time_sec = (now_ms() - p.current_bgsave_start_ms) / 1000;
    if ok {
        log::notice("Background saving terminated with success");
        srv.dirty = srv.dirty.saturating_sub(p.dirty_before_bgsave);
        srv.lastsave = now_ms() / 1000;
        p.last_bgsave_ok = true;
        p.rdb_saves += 1;
    } else {
        log::warning("Background saving error");
        p.last_bgsave_ok = false;
        let _ = std::fs::remove_file(format!("temp-{}.rdb", pid));
    }
    p.snapshot_done = Some(ok);
}

/// Saves if asked (or if save points are configured), removes the pid file.
/// An error leaves the server running, like Redis.
pub fn finish_shutdown(
    srv: &mut Server,
    mode: crate::server::state::ShutdownMode,
) -> Result<(), String> {
    log::warning("User requested shutdown...");
    kill_child(srv);
    crate::server::scripting::ldb::kill_forked_sessions();
    crate::server::aof::shutdown(srv)?;
    let save = match mode {
        crate::server::state::ShutdownMode::Save => true,
        crate::server::state::ShutdownMode::NoSave => false,
        crate::server::state::ShutdownMode::Default => !srv.config.save_params.is_empty(),
    };
    if save {
        log::notice("Saving the final RDB snapshot before exiting.");
        self::save(srv).map_err(|e| format!("Error trying to save the DB, can't exit: {}", e))?;
        log::notice("DB saved on disk");
    }
    if let Some(p) = &srv.config.pidfile {
        log::notice("Removing the pid file.");
        let _ = std::fs::remove_file(p);
    }
    // Stop listening now, as Redis closes its listening sockets here: whoever connects
    // once SHUTDOWN's client saw its connection close is refused, not accepted by a
    // server about to exit. (shutdown(2), not close: the listeners still own the fds.)
    for &fd in &srv.listen_fds {
        // SAFETY: shutting down a listening socket this server owns; no memory involved.
        unsafe {
            libc::shutdown(fd, libc::SHUT_RDWR);
        }
    }
    // Flush replies (the last OK is not sent on SHUTDOWN, like Redis) and close.
    log::warning("tripod-server is now ready to exit, bye bye...");
    Ok(())
}

/// INFO persistence, with Redis 7.0's fields in its order.
pub fn info_section(srv: &Server, o: &mut String) {
    use std::fmt::Write;
    let p = &srv.persistence;
    let now = crate::server::util::now_ms();
    let _ = write!(
        o,
        "# Persistence\r\nloading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n",
        srv.loading as u8,
        srv.dirty,
        p.child_pid.is_some() as u8,
        srv.lastsave,
        if p.last_bgsave_ok { "ok" } else { "err" },
        p.last_bgsave_time_sec,
        if p.child_pid.is_some() { (now - p.current_bgsave_start_ms) / 1000 } else { -1 },
        p.rdb_saves,
        p.last_load_keys_expired,
        p.last_load_keys_loaded,
    );
    o.push_str(&crate::server::aof::info_fields(srv));
}

// ---------------------------------------------------------------------------
// The API that persistence and replication share.

/// Replication metadata stored in a snapshot's AUX fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplInfo {
    pub replid: String,
    pub offset: i64,
    /// The database the replication stream last selected (repl-stream-db).
    pub stream_db: i64,
}

/// A snapshot read into memory, not yet installed in the server.
#[derive(Debug, Default)]
pub struct Loaded {
    pub dbs: Vec<crate::server::keyspace::Db>,
    pub repl: Option<ReplInfo>,
    pub keys_loaded: u64,
    pub keys_expired: u64,
    /// The code of each function library (FUNCTION2 records).
    pub functions: Vec<Vec<u8>>,
}

/// Why a snapshot could not be read; the message names what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError(pub String);

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
