//! Turning the AOF on and off at run time: `CONFIG SET appendonly yes|no`
//! (Redis's startAppendOnly / stopAppendOnly) and the restart after a
//! replica's full sync.

use super::{attach, flush, rewrite, set_buffering, State};
use crate::server::log;
use crate::server::state::Server;
use crate::server::util::now_ms;

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
