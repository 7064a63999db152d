//! The server's shared state (Redis's `struct redisServer`) and the keyspace
//! operations that every command goes through: lookups with lazy expiry, writes
//! that signal watchers and blocked clients, and deletions that are propagated.
//!
//! The server is single-threaded like Redis: one `Server` value, borrowed mutably
//! by whichever connection task is executing a command. No lock, no reordering:
//! the order commands execute in is the order they are replicated in.

use crate::server::client::Client;
use crate::server::config::Config;
use crate::server::keyspace::db::NO_EXPIRE;
use crate::server::keyspace::{Db, Entry};
use crate::server::replication::Replication;
use crate::server::types::Value;
use crate::server::util::{now_ms, Rng};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::rc::Rc;
use tokio::sync::Notify;

/// Counters for INFO stats.
#[derive(Debug, Default)]
pub struct Stats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub total_net_input_bytes: u64,
    pub total_net_output_bytes: u64,
    pub total_net_repl_input_bytes: u64,
    pub total_net_repl_output_bytes: u64,
    pub rejected_connections: u64,
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    pub expired_keys: u64,
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached_count: u64,
    pub expire_cycle_cpu_milliseconds: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub total_reads_processed: u64,
    pub total_writes_processed: u64,
    pub latest_fork_usec: u64,
    pub total_forks: u64,
    /// Samples for instantaneous_ops_per_sec: (ms, commands) ring.
    pub ops_samples: VecDeque<(i64, u64)>,
    pub net_in_samples: VecDeque<(i64, u64)>,
    pub net_out_samples: VecDeque<(i64, u64)>,
}

/// Per-command statistics (INFO commandstats).
#[derive(Debug, Default, Clone)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
    /// LATENCY HISTOGRAM's distribution of this command's run times.
    pub hist: crate::server::latency::Histogram,
}

/// CLIENT PAUSE state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseKind {
    None,
    Write,
    All,
}

/// A pending SHUTDOWN (from the command or a signal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// Save if save points are configured.
    Default,
    Save,
    NoSave,
}

/// A shutdown that waits (up to shutdown-timeout) for replicas to acknowledge
/// every write, as Redis 7 does, so that stopping a master loses nothing on them.
#[derive(Debug, Clone)]
pub struct ShutdownWait {
    pub mode: ShutdownMode,
    pub deadline_ms: i64,
    /// The client whose SHUTDOWN is waiting (none for a signal).
    pub client: Option<u64>,
}

/// The handle connection tasks, the cron and the replication link share: the
/// server is single-threaded, so a task borrows it for one round at a time.
pub type Shared = std::rc::Rc<std::cell::RefCell<Server>>;

pub struct Server {
    pub config: Config,
    /// ACL users, permissions and log.
    pub acl: crate::server::acl::Acl,
    pub dbs: Vec<Db>,
    pub clients: crate::server::client::Clients,
    pub next_client_id: u64,
    pub stats: Stats,
    /// INFO commandstats, by command name (`parent|sub` for subcommands).
    pub cmd_stats: HashMap<&'static str, CmdStat, crate::server::util::FxBuild>,
    pub err_stats: BTreeMap<String, u64>,
    pub repl: Replication,
    /// Channel -> subscribed client ids.
    pub channels: HashMap<Vec<u8>, Vec<u64>>,
    /// Pattern -> subscribed client ids.
    pub patterns: HashMap<Vec<u8>, Vec<u64>>,
    /// Shard channel -> subscribed client ids (SSUBSCRIBE).
    pub shard_channels: HashMap<Vec<u8>, Vec<u64>>,
    /// Client-side caching: the tracking table, BCAST prefixes, tracking clients.
    pub tracking: crate::server::tracking::Tracking,
    /// (db, key) -> clients blocked on it, in arrival order.
    pub blocking_keys: HashMap<(usize, Vec<u8>), VecDeque<u64>>,
    /// Keys that got data while clients were blocked on them (served after the command).
    pub ready_keys: Vec<(usize, Vec<u8>)>,
    /// (db, key) -> clients WATCHing it.
    pub watched_keys: HashMap<(usize, Vec<u8>), Vec<u64>>,
    /// (client, db, key) WATCHed while already expired (Redis's watchedKey
    /// `expired`): its deletion is no change for that client.
    pub watched_stale: std::collections::HashSet<(u64, usize, Vec<u8>)>,
    /// Changes since the last save.
    pub dirty: u64,
    pub rng: Rng,
    pub start_ms: i64,
    pub run_id: String,
    pub shutdown: Option<ShutdownMode>,
    /// A shutdown waiting for lagging replicas to catch up.
    pub shutdown_wait: Option<ShutdownWait>,
    pub pause: PauseKind,
    pub pause_until_ms: i64,
    pub unpause: Rc<Notify>,
    pub monitors: Vec<u64>,
    pub in_exec: bool,
    /// A blocked client's command is being run again to serve it.
    pub serving_blocked: bool,
    pub loading: bool,
    pub executable: String,
    /// Set when the listening sockets are up (for INFO tcp_port).
    pub tcp_port: u16,
    /// Time the last successful save finished (s).
    pub lastsave: i64,
    pub wake_all: Rc<Notify>,
    pub slowlog: crate::server::slowlog::Slowlog,
    pub client_recent_max_input_buffer: usize,
    pub client_recent_max_output_buffer: usize,
    pub persistence: crate::server::rdb::Persistence,
    /// The append-only file (appendonly yes).
    pub aof: crate::server::aof::Aof,
    /// SHUTDOWN finished its work: the main loop exits.
    pub exit_now: bool,
    /// DEBUG SET-ACTIVE-EXPIRE.
    pub active_expire_enabled: bool,
    /// Test knobs set by DEBUG (PAUSE-CRON, QUICKLIST-PACKED-THRESHOLD, REPLYBUFFER).
    pub debug: crate::server::commands::DebugKnobs,
    /// The OOM score before `oom-score-adj` changed it.
    pub oom: crate::server::oom::OomState,
    /// A handle on the shared server, for commands that start tasks (REPLICAOF).
    pub handle: Option<std::rc::Weak<std::cell::RefCell<Server>>>,
    /// The TCP listening sockets. Taking one out of its cell closes it at once.
    pub listeners: Vec<crate::server::connection::ListenerSlot>,
    /// Re-binds the TCP listeners after CONFIG SET port/bind (registered at
    /// start-up, where listening lives); on failure the previous configuration's
    /// listeners are restored and the error is the reply text.
    pub rebind: Option<Rebind>,
    /// MIGRATE's cached connections to its targets.
    pub migrate_sockets: crate::server::commands::migrate::SocketCache,
    /// The latency monitor's events (LATENCY LATEST, HISTORY...).
    pub latency: crate::server::latency::Monitor,
    /// The Lua interpreter and the script cache.
    pub scripting: crate::server::scripting::Scripting,
    /// The TCP listening sockets (a busy script accepts connections on them).
    pub listen_fds: Vec<i32>,
    /// CONFIG SET maxmemory asked for an eviction round outside any command
    /// (Redis's eviction time event), which the next cron tick runs.
    pub evict_soon: bool,
}

/// How CONFIG SET port/bind re-binds the listeners (see `Server::rebind`).
pub type Rebind = fn(&mut Server, &crate::server::config::Config) -> Result<(), String>;

impl Server {
    /// A server with empty databases, a fresh replication id and no clients.
    pub fn new(config: Config) -> Self {
        let mut rng = Rng::new();
        let repl = Replication::new(&mut rng);
        let run_id = crate::server::replication::new_replid(&mut rng);
        let dbs = (0..config.databases.max(1)).map(|_| Db::new()).collect();
        let mut acl = crate::server::acl::Acl::new();
        acl.set_requirepass(config.requirepass.as_deref());
        Server {
            acl,
            config,
            dbs,
            clients: Default::default(),
            next_client_id: 1,
            stats: Stats::default(),
            cmd_stats: HashMap::default(),
            err_stats: BTreeMap::new(),
            repl,
            channels: HashMap::new(),
            patterns: HashMap::new(),
            shard_channels: HashMap::new(),
            tracking: Default::default(),
            blocking_keys: HashMap::new(),
            ready_keys: Vec::new(),
            watched_keys: HashMap::new(),
            watched_stale: Default::default(),
            dirty: 0,
            rng,
            start_ms: now_ms(),
            run_id,
            shutdown: None,
            shutdown_wait: None,
            pause: PauseKind::None,
            pause_until_ms: 0,
            unpause: Rc::new(Notify::new()),
            monitors: Vec::new(),
            in_exec: false,
            serving_blocked: false,
            loading: false,
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            tcp_port: 0,
            lastsave: now_ms() / 1000,
            wake_all: Rc::new(Notify::new()),
            slowlog: Default::default(),
            client_recent_max_input_buffer: 0,
            client_recent_max_output_buffer: 0,
            persistence: crate::server::rdb::Persistence::default(),
            aof: Default::default(),
            exit_now: false,
            active_expire_enabled: true,
            debug: Default::default(),
            oom: Default::default(),
            handle: None,
            listeners: Vec::new(),
            rebind: None,
            migrate_sockets: Default::default(),
            latency: Default::default(),
            scripting: Default::default(),
            listen_fds: Vec::new(),
            evict_soon: false,
        }
    }

    /// True when this server replicates from a master (configured or at run time).
    pub fn is_replica(&self) -> bool {
        self.config.replicaof.is_some()
    }

    // ----- keyspace access: every command reads and writes keys through these -----

    /// Is the entry's expiry in the past?
    fn is_expired_at(e: &Entry, now: i64) -> bool {
        e.expire != NO_EXPIRE && e.expire <= now
    }

    /// Applies lazy expiry to `key`. Returns true if the key is (logically) gone.
    ///
    /// On a master, an expired key is deleted and a DEL is propagated, so replicas
    /// delete it too. A replica never deletes on its own (its master's DEL will come)
    /// but reports the key as missing to normal clients; commands from the master
    /// itself see the key as present.
    pub fn expire_if_needed(&mut self, db: usize, key: &[u8], from_master: bool) -> bool {
        let Some(e) = self.dbs[db].get(key) else {
            return false;
        };
        if e.expire == NO_EXPIRE || !Self::is_expired_at(e, crate::server::util::expiry_time_ms()) {
            return false;
        }
        if self.is_replica() {
            return !from_master;
        }
        if self.loading {
            return true;
        }
        // While clients are paused the dataset (and the replication offset)
        // stays still: the key is gone for readers, its deletion waits (Redis's
        // checkClientPauseTimeoutAndReturnIfPaused).
        if self.pause != PauseKind::None
            && self.pause_until_ms > crate::server::util::command_time_ms()
        {
            return true;
        }
        self.delete_expired(db, key);
        true
    }

    /// Deletes an expired key and propagates the deletion (DEL, or UNLINK with
    /// lazyfree-lazy-expire) as Redis does.
    pub fn delete_expired(&mut self, db: usize, key: &[u8]) {
        if self.dbs[db].remove(key).is_some() {
            self.stats.expired_keys += 1;
            crate::server::notify::notify(self, crate::server::notify::EXPIRED, "expired", key, db);
            self.signal_modified_by(db, key, None);
            self.propagate_deletion(db, key, self.config.lazyfree_lazy_expire);
        }
    }

    /// Looks a key up for reading: lazy expiry, hit/miss statistics, access time.
    pub fn lookup_read(&mut self, c: &Client, key: &[u8]) -> Option<&mut Entry> {
        let db = c.db;
        let from_master = c.kind == crate::server::client::ClientKind::Master;
        let has_ttl = match self.dbs[db].get(key) {
            None => {
                self.stats.keyspace_misses += 1;
                self.notify_key_miss(db, key);
                return None;
            }
            Some(e) => e.expire != NO_EXPIRE,
        };
        if has_ttl && self.expire_if_needed(db, key, from_master) {
            self.stats.keyspace_misses += 1;
            self.notify_key_miss(db, key);
            return None;
        }
        match self.dbs[db].get_mut(key) {
            Some(e) => {
                self.stats.keyspace_hits += 1;
                e.lru = crate::server::keyspace::db::lru_clock();
                Some(e)
            }
            None => {
                self.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// Looks a key up for writing: lazy expiry, no statistics.
    pub fn lookup_write(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        // Fast path, one hash lookup: the key has no expiry or has not expired.
        let now = crate::server::util::expiry_time_ms();
        let p: *mut Entry = self.dbs[db].get_mut(key)?;
        // SAFETY: `p` points into the table and nothing touches the table between
        // here and the return; this only works around the borrow checker's
        // refusal of a conditional return of a borrow (NLL "problem case 3").
        unsafe {
            if (*p).expire == NO_EXPIRE || !Self::is_expired_at(&*p, now) {
                (*p).lru = crate::server::keyspace::db::lru_clock();
                return Some(&mut *p);
            }
        }
        self.expire_if_needed(db, key, true);
        let e = self.dbs[db].get_mut(key)?;
        e.lru = crate::server::keyspace::db::lru_clock();
        Some(e)
    }

    /// Looks a key up without touching statistics or access times (TYPE is a read,
    /// but OBJECT, TTL and friends use this to not disturb idle times).
    pub fn lookup_quiet(&mut self, c: &Client, key: &[u8]) -> Option<&mut Entry> {
        let from_master = c.kind == crate::server::client::ClientKind::Master;
        if self.expire_if_needed(c.db, key, from_master) {
            return None;
        }
        self.dbs[c.db].get_mut(key)
    }

    /// Sets a key (SET and friends): replaces any value, drops the TTL unless
    /// `keep_ttl`, signals watchers. Counts as one change. An expired key it
    /// replaces is deleted (and the DEL propagated) first, as Redis's setKey.
    pub fn set_key(&mut self, db: usize, key: &[u8], value: Value, keep_ttl: bool) {
        if !self.dbs[db].expires.is_empty() {
            self.expire_if_needed(db, key, true);
        }
        let created = crate::server::notify::enabled(self, crate::server::notify::NEW)
            && self.dbs[db].get(key).is_none();
        self.dbs[db].set(key, value, keep_ttl);
        self.signal_modified(db, key);
        // A list, sorted set or stream stored whole (SORT ... STORE, COPY, ...)
        // may serve clients blocked on the key, as Redis's dbAdd signals it.
        self.signal_key_ready(db, key);
        if created {
            crate::server::notify::new_key(self, key, db);
        }
    }

    /// A read found no key (Redis's lookupKey miss): the `keymiss` event.
    fn notify_key_miss(&mut self, db: usize, key: &[u8]) {
        crate::server::notify::notify(self, crate::server::notify::KEY_MISS, "keymiss", key, db);
    }

    /// Deletes a key a client asked to delete; true if it existed (and had not expired).
    pub fn delete_key(&mut self, db: usize, key: &[u8]) -> bool {
        self.expire_if_needed(db, key, true);
        if self.dbs[db].remove(key).is_some() {
            self.signal_modified(db, key);
            true
        } else {
            false
        }
    }

    /// A client's command changed a key (Redis's signalModifiedKey): WATCHers
    /// are flagged and clients caching it are invalidated.
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        self.signal_modified_by(db, key, self.tracking.current);
    }

    /// A key changed, by the command of client `by` or, with None, by the
    /// server itself (expiry, eviction): touches WATCHers (touchWatchedKey)
    /// and invalidates client-side caches (trackingInvalidateKey; `by` is what
    /// BCAST's NOLOOP compares against).
    pub fn signal_modified_by(&mut self, db: usize, key: &[u8], by: Option<u64>) {
        crate::server::tracking::invalidate_key(self, key, true, by);
        if self.watched_keys.is_empty() {
            return;
        }
        if let Some(ids) = self.watched_keys.get(&(db, key.to_vec())) {
            let present = self.dbs[db].get(key).is_some();
            for id in ids.clone() {
                // A key watched while already expired and now deleted did not
                // change for that client.
                if self.watched_stale.remove(&(id, db, key.to_vec())) && !present {
                    continue;
                }
                self.clients.flag_dirty_cas(id);
            }
        }
    }

    /// Whether `key` is in `db` but expired (not yet deleted).
    pub fn key_is_stale(&self, db: usize, key: &[u8]) -> bool {
        self.dbs[db]
            .get(key)
            .is_some_and(|e| Self::is_expired_at(e, crate::server::util::expiry_time_ms()))
    }

    /// Before database `emptied` is flushed, or swapped with `replaced_with`:
    /// flags the WATCHers of its keys that change (Redis's
    /// touchAllWatchedKeysInDb). A key that exists in neither is untouched; a
    /// key watched while expired and gone afterwards, or expired on both sides,
    /// is no change.
    pub fn touch_watched_in_db(&mut self, emptied: usize, replaced_with: Option<usize>) {
        let keys: Vec<(Vec<u8>, Vec<u64>)> = self
            .watched_keys
            .iter()
            .filter(|((d, _), _)| *d == emptied)
            .map(|((_, k), ids)| (k.clone(), ids.clone()))
            .collect();
        for (key, ids) in keys {
            let in_emptied = self.dbs[emptied].get(&key).is_some();
            let in_replaced = replaced_with.is_some_and(|r| self.dbs[r].get(&key).is_some());
            if !in_emptied && !in_replaced {
                continue;
            }
            let stale_after = replaced_with.is_some_and(|r| self.key_is_stale(r, &key));
            for id in ids {
                let slot = (id, emptied, key.clone());
                if self.watched_stale.contains(&slot) {
                    if !in_replaced {
                        self.watched_stale.remove(&slot);
                        continue;
                    }
                    if stale_after {
                        continue;
                    }
                } else if !in_emptied && stale_after {
                    // A missing key replaced by an expired one: still missing.
                    self.watched_stale.insert(slot);
                    continue;
                }
                self.clients.flag_dirty_cas(id);
            }
        }
    }

    /// One or all databases were flushed (Redis's signalFlushedDb): every
    /// tracking client gets a null invalidation. (WATCHers were touched before
    /// the flush, by `touch_watched_in_db`, which needs the keys.)
    pub fn signal_flushed_db(&mut self, _db: Option<usize>) {
        crate::server::tracking::invalidate_on_flush(self);
    }

    /// Marks every watched key of a database as modified (FLUSHDB, SWAPDB...).
    pub fn signal_db_modified(&mut self, db: Option<usize>) {
        let ids: Vec<u64> = self
            .watched_keys
            .iter()
            .filter(|((d, _), _)| db.is_none_or(|x| x == *d))
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        for id in ids {
            self.clients.flag_dirty_cas(id);
        }
    }

    /// Records that a key got data that blocked clients may be waiting for.
    pub fn signal_key_ready(&mut self, db: usize, key: &[u8]) {
        if self.blocking_keys.is_empty() {
            return;
        }
        if self.blocking_keys.contains_key(&(db, key.to_vec())) {
            self.ready_keys.push((db, key.to_vec()));
        }
    }

    /// Marks the dataset as changed `n` times (save rules, propagation).
    pub fn add_dirty(&mut self, n: u64) {
        self.dirty += n;
    }

    /// Writes output for client `id` from outside its command (see
    /// `Clients::send`), then applies the output limits to it.
    pub fn send_to(&mut self, id: u64, f: impl FnOnce(&mut crate::server::resp::Reply, bool)) {
        if self.clients.send(id, f) {
            self.enforce_output_limits(id);
        }
    }

    /// Sends a message to a client other than the one executing (pub/sub, MONITOR).
    pub fn push_to(&mut self, id: u64, f: impl FnOnce(&mut crate::server::resp::Reply)) {
        if let Some(c) = self.clients.get_mut(&id) {
            f(&mut c.reply);
            c.wake();
        }
        self.enforce_output_limits(id);
    }

    /// client-output-buffer-limit: a client whose unsent output passes its class's
    /// hard limit, or stays past the soft limit for the soft period, is closed, so
    /// a slow subscriber or replica cannot grow the server's memory without bound.
    pub fn enforce_output_limits(&mut self, id: u64) {
        let config = &self.config;
        if let Some(c) = self.clients.get_mut(&id) {
            check_output_limits(config, c);
        }
    }

    /// Number of clients blocked (INFO blocked_clients).
    pub fn blocked_clients(&self) -> usize {
        self.clients
            .values()
            .filter(|c| c.blocked.is_some())
            .count()
    }
}

/// Checks one client against its class's `client-output-buffer-limit` (normal,
/// replica, pubsub) and schedules it to close, with Redis's log line, when it is
/// over the hard limit, or over the soft limit for longer than the soft period.
/// Returns whether it is to close. The executing client is checked after each
/// command (it then gets no reply at all, as in Redis), others whenever output is
/// added for them, and every client by the cron (the soft limit without traffic).
pub fn check_output_limits(config: &crate::server::config::Config, c: &mut Client) -> bool {
    let class = if c.kind == crate::server::client::ClientKind::Replica {
        "replica"
    } else if c.total_subscriptions() > 0 {
        "pubsub"
    } else {
        "normal"
    };
    if c.kind == crate::server::client::ClientKind::Master {
        return false;
    }
    let Some((_, hard, soft, secs)) = config
        .client_output_buffer_limit
        .iter()
        .find(|l| l.0 == class)
    else {
        return false;
    };
    let (hard, soft, secs) = (*hard as usize, *soft as usize, *secs as i64);
    if hard == 0 && soft == 0 {
        return false;
    }
    let used = c.output_len();
    let now = crate::server::util::now_ms();
    let mut close = hard > 0 && used > hard;
    if soft > 0 && used > soft {
        if c.obuf_soft_since == 0 {
            c.obuf_soft_since = now;
        } else if now - c.obuf_soft_since > secs * 1000 {
            close = true;
        }
    } else {
        c.obuf_soft_since = 0;
    }
    if close && !c.close_asap {
        let info = c.info_line(now, None);
        crate::server::log::warning(&format!(
            "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
            info.trim_end()
        ));
        c.close_asap = true;
        c.wake();
    }
    close
}
