//! Feeding the AOF from the replication stream and writing it out: commands
//! are buffered in Redis's AOF form (a SELECT when the database changes), and
//! written to the current incremental file before any reply goes out; the
//! fsync follows `appendfsync` (`always` before the replies, `everysec` in a
//! background thread once a second, `no` left to the kernel).

use crate::server::replication::stream::{encode_command, StreamConsumer};
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Commands waiting to be written, and the database the file is in.
#[derive(Debug, Default)]
pub struct Pending {
    pub bytes: Vec<u8>,
    /// The database the AOF's last command applies to (-1: none yet, so the
    /// first command of a new file is preceded by a SELECT, as Redis).
    pub db: i64,
}

/// The stream consumer that buffers commands for the AOF.
pub struct Feeder(pub Rc<RefCell<Pending>>);

impl StreamConsumer for Feeder {
    /// Appends `argv` in AOF form, with a SELECT first when `db` differs.
    fn feed(&mut self, db: usize, argv: &[Vec<u8>]) {
        let mut p = self.0.borrow_mut();
        if p.db != db as i64 {
            let d = db.to_string().into_bytes();
            encode_command(&[b"SELECT".to_vec(), d], &mut p.bytes);
            p.db = db as i64;
        }
        encode_command(argv, &mut p.bytes);
    }
}

/// The open incremental file and its fsync bookkeeping.
#[derive(Debug)]
pub struct Writer {
    pub file: std::fs::File,
    /// Bytes written since the last fsync started.
    pub unsynced: bool,
    /// A background fsync (everysec) is running.
    pub fsync_running: Arc<AtomicBool>,
    /// The last background fsync's outcome (false: failed).
    pub fsync_ok: Arc<AtomicBool>,
    pub last_fsync_ms: i64,
    /// When a write was first postponed because an fsync was running (0: none).
    pub postponed_since_ms: i64,
}

impl Writer {
    /// Wraps an open incremental file.
    pub fn new(file: std::fs::File) -> Self {
        Writer {
            file,
            unsynced: false,
            fsync_running: Arc::new(AtomicBool::new(false)),
            fsync_ok: Arc::new(AtomicBool::new(true)),
            last_fsync_ms: crate::server::util::now_ms(),
            postponed_since_ms: 0,
        }
    }

    /// Writes all of `bytes` to the file.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes)?;
        self.unsynced = true;
        Ok(())
    }

    /// fsyncs in the foreground (appendfsync always).
    pub fn fsync_now(&mut self) -> std::io::Result<()> {
        self.file.sync_data()?;
        self.unsynced = false;
        self.last_fsync_ms = crate::server::util::now_ms();
        Ok(())
    }

    /// Starts an fsync in a background thread (Redis's bio job) unless one
    /// runs; returns whether it started.
    pub fn fsync_in_background(&mut self) -> bool {
        if self.fsync_running.load(Ordering::Acquire) {
            return false;
        }
        let Ok(f) = self.file.try_clone() else {
            return false;
        };
        self.fsync_running.store(true, Ordering::Release);
        let running = self.fsync_running.clone();
        let ok = self.fsync_ok.clone();
        self.unsynced = false;
        self.last_fsync_ms = crate::server::util::now_ms();
        let spawned = std::thread::Builder::new()
            .name("aof-fsync".into())
            .spawn(move || {
                ok.store(f.sync_data().is_ok(), Ordering::Release);
                running.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.fsync_running.store(false, Ordering::Release);
            return false;
        }
        true
    }
}
