//! Feeding the AOF from the replication stream: every command of the stream
//! is buffered in Redis's AOF form (a SELECT first when the database changes,
//! Redis's feedAppendOnlyFile), to be written by `flush` before any reply
//! goes out. The background fsync of `appendfsync everysec` (Redis's bio
//! job) lives here too.

use crate::server::replication::stream::{encode_command, StreamConsumer};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Commands waiting to be written (Redis's aof_buf), and the database the
/// file's last command applies to.
#[derive(Debug)]
pub struct Pending {
    pub bytes: Vec<u8>,
    /// The database of the AOF's last command (-1: none, so the next command
    /// is preceded by a SELECT, as after a new incremental file).
    pub db: i64,
    /// Whether the stream is buffered at all: the AOF is on, or a rewrite
    /// child runs while `CONFIG SET appendonly yes` waits for it.
    pub enabled: bool,
    /// `aof-timestamp-enabled`: a `#TS:<unix time>` line before the first
    /// command of each second, and the second last annotated.
    pub timestamps: bool,
    pub cur_ts: i64,
}

impl Default for Pending {
    fn default() -> Self {
        Pending {
            bytes: Vec::new(),
            db: -1,
            enabled: false,
            timestamps: false,
            cur_ts: 0,
        }
    }
}

/// The stream consumer that buffers commands for the AOF.
pub struct Feeder(pub Rc<RefCell<Pending>>);

impl StreamConsumer for Feeder {
    /// Appends `argv` in AOF form, with a SELECT first when `db` differs
    /// from the last command's; nothing while the AOF does not want it.
    fn feed(&mut self, db: usize, argv: &[Vec<u8>]) {
        let mut p = self.0.borrow_mut();
        if !p.enabled {
            return;
        }
        if p.timestamps {
            let now = crate::server::util::now_ms() / 1000;
            if p.cur_ts < now {
                p.cur_ts = now;
                p.bytes
                    .extend_from_slice(format!("#TS:{}\r\n", now).as_bytes());
            }
        }
        if p.db != db as i64 {
            let d = db.to_string().into_bytes();
            encode_command(&[b"SELECT".to_vec(), d], &mut p.bytes);
            p.db = db as i64;
        }
        encode_command(argv, &mut p.bytes);
    }
}

/// Background fsyncs (Redis's BIO_AOF_FSYNC jobs): how many are pending and
/// how the last one ended.
#[derive(Debug, Clone)]
pub struct Bio {
    pub pending: Arc<AtomicUsize>,
    /// The last background fsync succeeded (aof_bio_fsync_status), and
    /// the error of the last failed one.
    pub ok: Arc<AtomicBool>,
    pub err: Arc<std::sync::Mutex<String>>,
}

impl Default for Bio {
    fn default() -> Self {
        Bio {
            pending: Arc::new(AtomicUsize::new(0)),
            ok: Arc::new(AtomicBool::new(true)),
            err: Default::default(),
        }
    }
}

impl Bio {
    /// Whether an fsync job is pending (aofFsyncInProgress).
    pub fn in_progress(&self) -> bool {
        self.pending.load(Ordering::Acquire) > 0
    }

    /// fsyncs `file` in a background thread; with `close`, the file is
    /// closed after (Redis's aof_background_fsync_and_close). Falls back to
    /// a foreground fsync if no thread can be started.
    pub fn fsync(&self, file: std::fs::File, close: bool) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        if let Ok(dup) = file.try_clone() {
            let me = self.clone();
            let spawned = std::thread::Builder::new()
                .name("aof-fsync".into())
                .spawn(move || me.job(dup, close));
            if spawned.is_ok() {
                return;
            }
        }
        self.job(file, close);
    }

    /// One fsync job: the outcome is remembered (closing an old file after a
    /// rewrite never reports), then the file is closed.
    fn job(&self, file: std::fs::File, close: bool) {
        let res = file.sync_data();
        if let Err(e) = &res {
            let text = super::strerror(e);
            crate::server::log::warning(&format!("Fail to fsync the AOF file: {}", text));
            if let Ok(mut g) = self.err.lock() {
                *g = text;
            }
        }
        if !close {
            self.ok.store(res.is_ok(), Ordering::Release);
        }
        drop(file);
        self.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Writes all of `buf` to `file`, retrying short writes and EINTR (Redis's
/// aofWrite); returns how many bytes went out and the error that stopped it.
pub fn write_all(file: &mut std::fs::File, buf: &[u8]) -> (usize, Option<std::io::Error>) {
    use std::io::Write;
    let mut done = 0;
    while done < buf.len() {
        match file.write(&buf[done..]) {
            Ok(0) => return (done, Some(std::io::Error::from_raw_os_error(libc::ENOSPC))),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

/// A file written in 4 MB steps with an fsync after each
/// (`aof-rewrite-incremental-fsync`, Redis's rioSetAutoSync), so a rewrite
/// does not leave a huge amount of dirty pages to flush at once.
pub struct AutoSync {
    pub file: std::fs::File,
    pub on: bool,
    since: usize,
}

impl AutoSync {
    /// Wraps `file`; `on` enables the fsyncs.
    pub fn new(file: std::fs::File, on: bool) -> Self {
        AutoSync { file, on, since: 0 }
    }
}

impl std::io::Write for AutoSync {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.since += n;
        if self.on && self.since >= 4 << 20 {
            self.file.sync_data()?;
            self.since = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
