//! RDB persistence: the snapshot writer and reader, and when snapshots happen.
use crate::server::state::Server;

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
        }
    }
}

/// True when the last background save failed (stop-writes-on-bgsave-error).
pub fn last_bgsave_failed(srv: &Server) -> bool {
    !srv.persistence.last_bgsave_ok
}

/// Loads `dir`/`dbfilename` at start-up if it exists. An unreadable or corrupt file
/// is an error: starting empty over it would lose the data at the next save.
pub fn load_on_startup(_srv: &mut Server) -> Result<(), String> {
    Ok(())
}

/// SAVE: writes a snapshot in the foreground.
pub fn save(_srv: &mut Server) -> Result<(), String> {
    Err("RDB persistence is not implemented yet".into())
}

/// Stops a running background save (shutdown).
pub fn kill_child(_srv: &mut Server) {}

/// Persistence work the server cron does: reap a finished child, save rules.
pub fn cron(_srv: &mut Server) {}

/// INFO persistence, with Redis 7.0's fields in its order.
pub fn info_section(srv: &Server, o: &mut String) {
    use std::fmt::Write;
    let p = &srv.persistence;
    let now = crate::server::util::now_ms();
    let _ = write!(
        o,
        "# Persistence\r\nloading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:0\r\nrdb_last_load_keys_loaded:0\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        srv.loading as u8,
        srv.dirty,
        p.child_pid.is_some() as u8,
        srv.lastsave,
        if p.last_bgsave_ok { "ok" } else { "err" },
        p.last_bgsave_time_sec,
        if p.child_pid.is_some() { (now - p.current_bgsave_start_ms) / 1000 } else { -1 },
        p.rdb_saves,
    );
}

// ---------------------------------------------------------------------------
// The API that persistence and replication share (bodies filled in by the RDB work).

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
}

/// Why a snapshot could not be read; the message names what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError(pub String);

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Writes the whole dataset as an RDB (REDIS0010) to `w`, with the replication
/// AUX fields when `repl` is given.
pub fn write_rdb(
    srv: &Server,
    w: &mut dyn std::io::Write,
    repl: Option<&ReplInfo>,
) -> std::io::Result<()> {
    let _ = (srv, repl);
    // Placeholder: an empty RDB with no checksum.
    w.write_all(b"REDIS0010")?;
    w.write_all(&[0xFF])?;
    w.write_all(&[0u8; 8])
}

/// Reads an RDB stream into fresh databases (`ndbs` of them). Nothing in the
/// server changes: the caller installs the result only if the whole file was good.
pub fn read_rdb(r: &mut dyn std::io::Read, ndbs: usize) -> Result<Loaded, RdbError> {
    let _ = r;
    Ok(Loaded {
        dbs: (0..ndbs)
            .map(|_| crate::server::keyspace::Db::new())
            .collect(),
        ..Default::default()
    })
}
