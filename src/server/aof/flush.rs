//! Writing the AOF buffer and fsyncing it (Redis's flushAppendOnlyFile):
//! called before any reply goes out, from the cron, and forced before a
//! rewrite, a stop or a shutdown.

use super::{group_sync, has_active_child, strerror, writer, Fsync, State};
use crate::server::log;
use crate::server::state::Server;
use crate::server::util::now_ms;

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
