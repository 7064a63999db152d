//! AOF rewrites (Redis's rewriteAppendOnlyFile and the background rewrite):
//! the dataset written as a new base file (an RDB with
//! `aof-use-rdb-preamble yes`, commands otherwise) by a forked child while
//! the parent writes to a new incremental file; when the child succeeds the
//! old base and incremental files become history and are deleted.

use super::manifest::Manifest;
use super::{dir, persist_manifest, prefix, State};
use crate::server::log;
use crate::server::state::Server;
use crate::server::util::now_ms;
use std::path::{Path, PathBuf};

/// The temporary file a rewrite writes first (in the working directory).
fn temp_name(pid: i32) -> String {
    format!("temp-rewriteaof-{}.aof", pid)
}

/// The temporary base a background rewrite child leaves for the parent.
fn temp_bg_name(pid: i32) -> String {
    format!("temp-rewriteaof-bg-{}.aof", pid)
}

/// The temporary incremental file written while `CONFIG SET appendonly yes`
/// waits for its first rewrite (`temp-<appendfilename>.incr`).
pub fn temp_incr_name(srv: &Server) -> String {
    format!("temp-{}.incr", prefix(srv))
}

/// Writes the dataset as a base file at `dest` (Redis's
/// rewriteAppendOnlyFile): a temporary file, fsynced, renamed. The format
/// follows `aof-use-rdb-preamble`. Errors are logged with Redis's lines.
pub fn write_base(srv: &Server, dest: &Path) -> Result<(), ()> {
    use std::io::Write;
    let tmp = PathBuf::from(temp_name(std::process::id() as i32));
    let rdb = super::use_rdb_preamble(srv);
    let write = || -> std::io::Result<()> {
        let file = std::fs::File::create(&tmp)?;
        let incremental = srv.config.get("aof-rewrite-incremental-fsync").as_deref() != Some("no");
        let mut w = std::io::BufWriter::with_capacity(
            1 << 16,
            super::writer::AutoSync::new(file, incremental),
        );
        let functions = srv.scripting.functions.codes();
        if rdb {
            let meta = crate::server::rdb::writer::Meta {
                repl: None,
                compress: srv.config.rdbcompression,
                checksum: srv.config.rdbchecksum,
                used_mem: crate::server::memory::used() as u64,
                ctime: now_ms() / 1000,
                functions,
                aof_base: true,
            };
            crate::server::rdb::writer::write(&srv.dbs, &mut w, &meta)?;
        } else {
            if srv.aof.pending.borrow().timestamps {
                write!(w, "#TS:{}\r\n", now_ms() / 1000)?;
            }
            super::commands_form::write(&srv.dbs, &functions, &mut w)?;
        }
        w.flush()?;
        w.get_ref().file.sync_all()
    };
    if let Err(e) = write() {
        log::warning(&format!(
            "Write error writing append only file on disk: {}",
            e
        ));
        let _ = std::fs::remove_file(&tmp);
        return Err(());
    }
    if let Err(e) = std::fs::rename(&tmp, dest) {
        log::warning(&format!(
            "Error moving temp append only file on the final destination: {}",
            e
        ));
        let _ = std::fs::remove_file(&tmp);
        return Err(());
    }
    Ok(())
}

/// Creates the AOF folder if it is missing (logged as Redis on failure).
pub fn ensure_dir(srv: &Server) -> Result<(), ()> {
    let d = dir(srv);
    if d.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(&d).map_err(|e| {
        log::warning(&format!(
            "Can't open or create append-only dir {}: {}",
            d.display(),
            e
        ))
    })
}

/// Starts a background rewrite (Redis's rewriteAppendOnlyFileBackground):
/// flushes the buffer, opens a new incremental file for the writes to come
/// (the temporary one while `appendonly yes` waits for this rewrite), and
/// forks the child that writes the new base.
pub fn start_background(srv: &mut Server) -> Result<(), ()> {
    if super::has_active_child(srv) {
        return Err(());
    }
    if ensure_dir(srv).is_err() {
        srv.aof.last_bgrewrite_ok = false;
        return Err(());
    }
    srv.aof.pending.borrow_mut().db = -1;
    super::flush(srv, true);
    if open_new_incr(srv).is_err() {
        srv.aof.last_bgrewrite_ok = false;
        return Err(());
    }
    srv.aof.rewrites += 1;
    let fork_start = std::time::Instant::now();
    // SAFETY: the event loop is single-threaded (the background fsync
    // threads only fsync and close files); the child only writes a file
    // from memory it owns and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid > 0 {
        srv.stats.total_forks += 1;
        srv.stats.latest_fork_usec = fork_start.elapsed().as_micros() as u64;
    }
    if pid < 0 {
        srv.aof.last_bgrewrite_ok = false;
        log::warning(&format!(
            "Can't rewrite append only file in background: fork: {}",
            std::io::Error::last_os_error()
        ));
        return Err(());
    }
    if pid == 0 {
        crate::server::rdb::in_child(srv, &[]);
        let tmp = temp_bg_name(std::process::id() as i32);
        let code = match write_base(srv, Path::new(&tmp)) {
            Ok(()) => {
                log::notice(&format!(
                    "Successfully created the temporary AOF base file {}",
                    tmp
                ));
                0
            }
            Err(()) => 1,
        };
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    log::notice(&format!(
        "Background append only file rewriting started by pid {}",
        pid
    ));
    srv.aof.child = Some(pid);
    super::update_resize_policy(srv);
    srv.aof.rewrite_scheduled = false;
    srv.aof.rewrite_time_start = now_ms() / 1000;
    super::set_buffering(srv);
    Ok(())
}

/// Opens the incremental file the writes go to from now on
/// (openNewIncrAofForAppend): the next one of the manifest, persisted
/// first, or the temporary one while waiting for the first rewrite. The old
/// file is fsynced and closed in the background. Nothing to do when off.
fn open_new_incr(srv: &mut Server) -> Result<(), ()> {
    if srv.aof.state == State::Off {
        return Ok(());
    }
    let mut m = srv.aof.manifest.clone();
    let name = if srv.aof.state == State::WaitRewrite {
        temp_incr_name(srv)
    } else {
        m.new_incr(&prefix(srv))
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir(srv).join(&name))
        .map_err(|e| log::warning(&format!("Can't open the append-only file {}: {}", name, e)))?;
    if srv.aof.state == State::On {
        persist_manifest(srv, &m)?;
    }
    log::notice(&format!(
        "Creating AOF incr file {} on background rewrite",
        name
    ));
    if let Some(old) = srv.aof.file.replace(file) {
        srv.aof.bio.fsync(old, true);
        srv.aof.last_fsync_sec = now_ms() / 1000;
    }
    srv.aof.last_incr_size = 0;
    srv.aof.last_incr_fsync_offset = 0;
    srv.aof.manifest = m;
    Ok(())
}

/// Removes a rewrite child's temporary files.
fn remove_temp_files(pid: i32) {
    let _ = std::fs::remove_file(temp_bg_name(pid));
    let _ = std::fs::remove_file(temp_name(pid));
}

/// Kills a running rewrite child and waits for it (killAppendOnlyChild).
pub fn kill_child(srv: &mut Server) {
    let Some(pid) = srv.aof.child.take() else {
        return;
    };
    log::notice(&format!("Killing running AOF rewrite child: {}", pid));
    // SAFETY: plain syscalls on the pid of our own child.
    unsafe {
        if libc::kill(pid, libc::SIGUSR1) != -1 {
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
    remove_temp_files(pid);
    srv.aof.rewrite_time_start = -1;
    super::set_buffering(srv);
}

/// Collects the rewrite child if it exited (non-blocking) and finishes the
/// rewrite.
pub fn reap_child(srv: &mut Server) {
    let Some(pid) = srv.aof.child else {
        return;
    };
    let mut status = 0;
    // SAFETY: non-blocking wait on our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    if r == 0 {
        return;
    }
    let (code, signal) = if r == pid && libc::WIFSIGNALED(status) {
        (0, libc::WTERMSIG(status))
    } else if r == pid && libc::WIFEXITED(status) {
        (libc::WEXITSTATUS(status), 0)
    } else {
        (1, 0)
    };
    done(srv, pid, code, signal);
    srv.aof.child = None;
    super::update_resize_policy(srv);
    super::set_buffering(srv);
}

/// A background rewrite ended (backgroundRewriteDoneHandler): on success
/// the temporary base becomes the new base, the covered incremental files
/// history, the manifest is persisted and the history deleted.
fn done(srv: &mut Server, pid: i32, code: i32, signal: i32) {
    if signal == 0 && code == 0 {
        log::notice("Background AOF rewrite terminated with success");
        if install(srv, pid).is_ok() {
            srv.aof.last_bgrewrite_ok = true;
            srv.aof.consecutive_failures = 0;
            log::notice("Background AOF rewrite finished successfully");
            if srv.aof.state == State::WaitRewrite {
                srv.aof.state = State::On;
            }
        } else {
            srv.aof.last_bgrewrite_ok = false;
            srv.aof.consecutive_failures += 1;
        }
    } else if signal == 0 {
        srv.aof.last_bgrewrite_ok = false;
        srv.aof.consecutive_failures += 1;
        log::warning("Background AOF rewrite terminated with error");
    } else {
        if signal != libc::SIGUSR1 {
            srv.aof.last_bgrewrite_ok = false;
            srv.aof.consecutive_failures += 1;
        }
        log::warning(&format!(
            "Background AOF rewrite terminated by signal {}",
            signal
        ));
    }
    remove_temp_files(pid);
    if srv.aof.state == State::WaitRewrite {
        srv.aof.pending.borrow_mut().bytes.clear();
        let name = temp_incr_name(srv);
        log::notice(&format!(
            "Removing the temp incr aof file {} in the background",
            name
        ));
        let _ = std::fs::remove_file(dir(srv).join(name));
        srv.aof.file = None;
    }
    srv.aof.rewrite_time_last = now_ms() / 1000 - srv.aof.rewrite_time_start;
    srv.aof.rewrite_time_start = -1;
    if srv.aof.state == State::WaitRewrite {
        srv.aof.rewrite_scheduled = true;
    }
}

/// Installs a finished rewrite's files and manifest (the success half of
/// backgroundRewriteDoneHandler); on error nothing the manifest names changed.
fn install(srv: &mut Server, pid: i32) -> Result<(), ()> {
    let tmp = temp_bg_name(pid);
    let pre = prefix(srv);
    let d = dir(srv);
    let mut m = srv.aof.manifest.clone();
    let base = m.new_base(&pre, super::use_rdb_preamble(srv));
    let base_path = d.join(&base);
    if let Err(e) = std::fs::rename(&tmp, &base_path) {
        log::warning(&format!(
            "Error trying to rename the temporary AOF base file {} into {}: {}",
            tmp,
            base_path.display(),
            e
        ));
        return Err(());
    }
    log::notice(&format!(
        "Successfully renamed the temporary AOF base file {} into {}",
        tmp, base
    ));
    let mut new_incr = None;
    if srv.aof.state == State::WaitRewrite {
        let temp_incr = temp_incr_name(srv);
        let name = m.new_incr(&pre);
        if let Err(e) = std::fs::rename(d.join(&temp_incr), d.join(&name)) {
            log::warning(&format!(
                "Error trying to rename the temporary AOF incr file {} into {}: {}",
                d.join(&temp_incr).display(),
                d.join(&name).display(),
                e
            ));
            let _ = std::fs::remove_file(&base_path);
            return Err(());
        }
        log::notice(&format!(
            "Successfully renamed the temporary AOF incr file {} into {}",
            temp_incr, name
        ));
        new_incr = Some(name);
    }
    m.mark_rewritten_incrs_as_history(srv.aof.file.is_some());
    if persist_manifest(srv, &m).is_err() {
        let _ = std::fs::remove_file(&base_path);
        if let Some(n) = new_incr {
            let _ = std::fs::remove_file(d.join(n));
        }
        return Err(());
    }
    srv.aof.manifest = m;
    if srv.aof.state != State::Off {
        let base_size = std::fs::metadata(&base_path).map_or(0, |md| md.len());
        srv.aof.current_size = base_size + srv.aof.last_incr_size;
        srv.aof.rewrite_base_size = srv.aof.current_size;
    }
    delete_history(srv);
    Ok(())
}

/// Deletes the history files the manifest lists and drops them from it
/// (Redis's aofDelHistoryFiles), unless `aof-disable-auto-gc yes`.
pub fn delete_history(srv: &mut Server) {
    if srv.aof.manifest.history.is_empty()
        || srv.config.get("aof-disable-auto-gc").as_deref() == Some("yes")
    {
        return;
    }
    let d = dir(srv);
    let mut m: Manifest = srv.aof.manifest.clone();
    for h in std::mem::take(&mut m.history) {
        log::notice(&format!(
            "Removing the history file {} in the background",
            h.name
        ));
        let _ = std::fs::remove_file(d.join(&h.name));
    }
    let _ = persist_manifest(srv, &m);
    srv.aof.manifest = m;
}
