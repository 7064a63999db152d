//! Append-only file persistence, as Redis 7.0's multi-part AOF: a folder
//! (`appenddirname`) holding a manifest, one base file and incremental files
//! (`manifest`), fed from the replication stream and written before replies
//! go out (`writer`), loaded at start before the RDB (`loader`, `startup`).

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
use std::sync::atomic::Ordering;

/// The AOF's run-time state (INFO persistence's aof_* fields).
#[derive(Debug, Default)]
pub struct Aof {
    /// Commands fed by the stream, not yet written (shared with the consumer).
    pub pending: Rc<RefCell<writer::Pending>>,
    /// The consumer is attached to the stream (it stays for the process's life,
    /// and is fed only while the AOF is on).
    pub attached: bool,
    /// The AOF is on (aof_enabled).
    pub on: bool,
    /// The open incremental file.
    pub writer: Option<writer::Writer>,
    pub manifest: manifest::Manifest,
    /// The last write failed (aof_last_write_status).
    pub last_write_err: bool,
    /// Writes done while a background fsync was running (aof_delayed_fsync).
    pub delayed_fsync: u64,
    pub rewrites: u64,
    pub last_rewrite_time_sec: i64,
    /// aof_base_size as Redis: the size after the last load or rewrite.
    pub base_size: u64,
    pub current_size: u64,
}

/// The folder of the AOF files (relative to `dir`, the working directory).
pub fn dir(srv: &Server) -> PathBuf {
    PathBuf::from(srv.config.get("appenddirname").unwrap_or_default())
}

/// The file-name prefix (`appendfilename`).
pub fn prefix(srv: &Server) -> String {
    srv.config.get("appendfilename").unwrap_or_default()
}

/// Writes the manifest safely: a temporary file, fsynced, renamed over the
/// old one (Redis's `persistAofManifest`), then the folder fsynced.
pub fn persist_manifest(srv: &Server, m: &manifest::Manifest) -> Result<(), String> {
    use std::io::Write;
    let d = dir(srv);
    let name = manifest::manifest_name(&prefix(srv));
    let tmp = d.join(format!("temp-{}", name));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(m.render().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, d.join(&name))?;
        std::fs::File::open(&d)?.sync_all()
    };
    write().map_err(|e| format!("Can't persist the AOF manifest file {}: {}", name, e))
}

/// Opens (creating) the incremental file `name` for appending.
pub fn open_incr(srv: &Server, name: &str) -> Result<std::fs::File, String> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir(srv).join(name))
        .map_err(|e| format!("Can't open the append-only file {}: {}", name, e))
}

/// Starts feeding the AOF from the stream, into the open incremental file.
pub fn attach(srv: &mut Server) {
    if !srv.aof.attached {
        let feeder = writer::Feeder(srv.aof.pending.clone());
        srv.attach_stream_consumer(Box::new(feeder));
        srv.aof.attached = true;
    }
    srv.aof.pending.borrow_mut().db = -1;
}

/// Writes what the stream queued to the incremental file before any reply
/// goes out (Redis's flushAppendOnlyFile in beforeSleep); with `appendfsync
/// always` the data is on disk when this returns. Nothing to do when the AOF
/// is off (the queue is then dropped).
pub fn flush(srv: &mut Server) {
    if srv.aof.pending.borrow().bytes.is_empty() {
        return;
    }
    let bytes = std::mem::take(&mut srv.aof.pending.borrow_mut().bytes);
    if !srv.aof.on {
        return;
    }
    let always = srv.config.get("appendfsync").as_deref() == Some("always");
    let Some(w) = srv.aof.writer.as_mut() else {
        return;
    };
    if !always && w.fsync_running.load(Ordering::Acquire) {
        srv.aof.delayed_fsync += 1;
    }
    let res = w
        .write(&bytes)
        .and_then(|_| if always { w.fsync_now() } else { Ok(()) });
    match res {
        Ok(()) => {
            srv.aof.current_size += bytes.len() as u64;
            if srv.aof.last_write_err {
                log::warning("AOF write error looks solved, Redis can write again.");
            }
            srv.aof.last_write_err = false;
        }
        Err(e) => {
            if always {
                // As Redis: with appendfsync always a failed write can't be
                // acknowledged, so the process exits.
                log::warning(&format!(
                    "Can't recover from AOF write error when the AOF fsync policy is 'always': {}. Exiting...",
                    e
                ));
                std::process::exit(1);
            }
            if !srv.aof.last_write_err {
                log::warning(&format!("Error writing to the AOF file: {}", e));
            }
            srv.aof.last_write_err = true;
        }
    }
}

/// The cron's AOF chores: with `everysec`, an fsync in the background once
/// a second.
pub fn cron(srv: &mut Server) {
    if !srv.aof.on {
        return;
    }
    flush(srv);
    let everysec = srv.config.get("appendfsync").as_deref() == Some("everysec");
    if let Some(w) = srv.aof.writer.as_mut() {
        if everysec && w.unsynced && now_ms() - w.last_fsync_ms >= 1000 {
            w.fsync_in_background();
        }
    }
}

/// Flushes and fsyncs at shutdown (Redis: "Calling fsync() on the AOF file.").
pub fn shutdown(srv: &mut Server) {
    if !srv.aof.on {
        return;
    }
    flush(srv);
    if let Some(w) = srv.aof.writer.as_mut() {
        log::notice("Calling fsync() on the AOF file.");
        let _ = w.fsync_now();
    }
}

/// The aof_* lines of INFO persistence (Redis 7.0's order), replacing the
/// fixed ones.
pub fn info_fields(srv: &Server) -> String {
    let a = &srv.aof;
    let mut s = format!(
        "aof_enabled:{}\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:0\r\naof_last_write_status:{}\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        a.on as u8,
        a.last_rewrite_time_sec,
        a.rewrites,
        if a.last_write_err { "err" } else { "ok" },
    );
    if a.on {
        let (pending, running) = match &a.writer {
            Some(w) => (
                w.fsync_running.load(Ordering::Acquire) as u8,
                w.fsync_ok.load(Ordering::Acquire),
            ),
            None => (0, true),
        };
        let _ = running;
        s.push_str(&format!(
            "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:0\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:{}\r\naof_delayed_fsync:{}\r\n",
            a.current_size,
            a.base_size,
            a.pending.borrow().bytes.len(),
            pending,
            a.delayed_fsync
        ));
    }
    s
}
