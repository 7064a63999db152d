//! Server configuration: the running values of every redis.conf directive, read
//! from the command line and config files (`parse`), validated against the
//! directive table (`directives`), changed by CONFIG SET and written back by
//! CONFIG REWRITE (`rewrite`).
//!
//! Every directive's current value is kept as the text CONFIG GET prints; the
//! values the server reads on hot paths are also kept as typed fields, refreshed
//! whenever a value changes.

pub mod directives;
pub mod parse;
pub mod rewrite;

use directives::{Directive, Kind, Mode};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug)]
pub enum StartupAction {
    Run(Box<Config>),
    Version,
    Help,
}

/// The running configuration. Hot values are typed public fields (read on every
/// request); everything else is reached by name through `get`.
#[derive(Clone)]
pub struct Config {
    pub config_file: Option<PathBuf>,
    /// Current value of every canonical directive, as CONFIG GET prints it.
    values: BTreeMap<&'static str, String>,
    /// A `save` line was seen in the file being loaded (the first one resets).
    save_seen: bool,
    pub port: u16,
    pub bind: Vec<String>,
    pub requirepass: Option<Vec<u8>>,
    pub masterauth: Option<Vec<u8>>,
    pub masteruser: Option<Vec<u8>>,
    /// `user` lines (name and rules), applied at startup by the ACL.
    pub acl_users: Vec<Vec<Vec<u8>>>,
    pub protected_mode: bool,
    pub replicaof: Option<(String, u16)>,
    pub replica_read_only: bool,
    pub replica_serve_stale_data: bool,
    pub dir: PathBuf,
    pub dbfilename: String,
    /// `save` rules: (seconds, changes).
    pub save_params: Vec<(u64, u64)>,
    pub databases: usize,
    pub maxclients: u64,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub tcp_backlog: u32,
    pub repl_backlog_size: u64,
    pub repl_backlog_ttl: u64,
    pub repl_timeout: u64,
    pub repl_ping_replica_period: u64,
    pub repl_diskless_sync: bool,
    pub repl_diskless_sync_delay: u64,
    pub repl_diskless_load: String,
    pub replica_priority: u64,
    pub replica_announce_ip: Option<String>,
    pub replica_announce_port: u16,
    pub min_replicas_to_write: u64,
    pub min_replicas_max_lag: u64,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    pub maxmemory_samples: u64,
    pub daemonize: bool,
    pub pidfile: Option<PathBuf>,
    pub logfile: String,
    pub loglevel: String,
    pub proto_max_bulk_len: i64,
    pub client_query_buffer_limit: u64,
    pub hz: u64,
    pub appendonly: bool,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub stop_writes_on_bgsave_error: bool,
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub set_max_intset_entries: u64,
    pub zset_max_listpack_entries: u64,
    /// hll-sparse-max-bytes: a sparse HyperLogLog growing past it turns dense.
    pub hll_sparse_max_bytes: u64,
    pub zset_max_listpack_value: u64,
    pub list_max_listpack_size: i64,
    pub list_compress_depth: u64,
    pub stream_node_max_bytes: u64,
    pub stream_node_max_entries: u64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_tracking: bool,
    /// tracking-table-max-keys: keys the tracking table may hold (0: no limit).
    pub tracking_table_max_keys: u64,
    /// latency-monitor-threshold in ms (0: the latency monitor is off).
    pub latency_monitor_threshold: i64,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_server_del: bool,
    pub notify_keyspace_events: String,
    /// notify-keyspace-events as flags (see `server::notify`).
    pub notify_flags: u32,
    /// (class, hard, soft, soft_seconds) for normal, replica, pubsub.
    pub client_output_buffer_limit: Vec<(String, u64, u64, u64)>,
    pub enable_debug_command: String,
    pub enable_protected_configs: String,
    /// `unixsocket`: the path of a Unix-domain listener, if any.
    pub unixsocket: Option<PathBuf>,
    /// `unixsocketperm`: the socket file's mode (0 = leave the umask's).
    pub unixsocketperm: u32,
    pub always_show_logo: bool,
}

impl std::fmt::Debug for Config {
    /// Passwords never appear in Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("config_file", &self.config_file)
            .field("port", &self.port)
            .field("bind", &self.bind)
            .field("requirepass", &self.requirepass.as_ref().map(|_| "(set)"))
            .field("masterauth", &self.masterauth.as_ref().map(|_| "(set)"))
            .field("replicaof", &self.replicaof)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        let mut c = Config::unsynced();
        for d in directives::DIRECTIVES
            .iter()
            .filter(|d| d.alias_of.is_none())
        {
            c.values.insert(d.name, d.default.to_string());
        }
        c.values.insert("dir", c.dir.display().to_string());
        c.sync_fields();
        c
    }
}

impl Config {
    /// The struct with placeholder typed values; `sync_fields` fills them.
    fn unsynced() -> Self {
        Config {
            config_file: None,
            values: BTreeMap::new(),
            save_seen: false,
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            requirepass: None,
            masterauth: None,
            masteruser: None,
            acl_users: Vec::new(),
            protected_mode: true,
            replicaof: None,
            replica_read_only: true,
            replica_serve_stale_data: true,
            dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            dbfilename: "dump.rdb".into(),
            save_params: vec![(3600, 1), (300, 100), (60, 10000)],
            databases: 16,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            repl_backlog_size: 1024 * 1024,
            repl_backlog_ttl: 3600,
            repl_timeout: 60,
            repl_ping_replica_period: 10,
            repl_diskless_sync: true,
            repl_diskless_sync_delay: 5,
            repl_diskless_load: "disabled".into(),
            replica_priority: 100,
            replica_announce_ip: None,
            replica_announce_port: 0,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            maxmemory_samples: 5,
            daemonize: false,
            pidfile: None,
            logfile: String::new(),
            loglevel: "notice".into(),
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            hz: 10,
            appendonly: false,
            rdbcompression: true,
            rdbchecksum: true,
            stop_writes_on_bgsave_error: true,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            hll_sparse_max_bytes: 3000,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_tracking: true,
            tracking_table_max_keys: 1_000_000,
            latency_monitor_threshold: 0,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_server_del: false,
            notify_keyspace_events: String::new(),
            notify_flags: 0,
            client_output_buffer_limit: vec![
                ("normal".into(), 0, 0, 0),
                ("replica".into(), 256 << 20, 64 << 20, 60),
                ("pubsub".into(), 32 << 20, 8 << 20, 60),
            ],
            enable_debug_command: "no".into(),
            enable_protected_configs: "no".into(),
            unixsocket: None,
            unixsocketperm: 0,
            always_show_logo: false,
        }
    }
}

impl Config {
    /// Parses `tripod-server [CONFIG_FILE] [--directive value ...] [-]`. The error
    /// string is the complete message to print before exiting with status 1.
    pub fn from_args(args: &[String]) -> Result<StartupAction, String> {
        if let Some(first) = args.first() {
            match first.as_str() {
                "-v" | "--version" => return Ok(StartupAction::Version),
                "-h" | "--help" => return Ok(StartupAction::Help),
                _ => {}
            }
        }
        let mut cfg = Config::default();
        let mut rest = args;
        if let Some(first) = args.first() {
            if !first.starts_with('-') {
                let text = std::fs::read_to_string(first).map_err(|e| {
                    format!("Fatal error, can't open config file '{}': {}", first, e)
                })?;
                let abs = std::fs::canonicalize(first).unwrap_or_else(|_| PathBuf::from(first));
                cfg.config_file = Some(abs);
                cfg.load_text(&text, first)?;
                rest = &args[1..];
            }
        }
        // A lone "-" reads more configuration from standard input, like Redis.
        let (opts, stdin) = match rest.last() {
            Some(l) if l == "-" => (&rest[..rest.len() - 1], true),
            _ => (rest, false),
        };
        if stdin {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("Fatal error reading the configuration from stdin: {}", e))?;
            cfg.load_text(&text, "(stdin)")?;
        }
        if let Some(bad) = opts.first().filter(|a| !a.starts_with("--")) {
            return Err(format!(
                "Invalid option or argument '{}': options start with -- (see --help)",
                bad
            ));
        }
        cfg.save_seen = false;
        cfg.load_text(&parse::options_text(opts), "(command line)")?;
        Ok(StartupAction::Run(Box::new(cfg)))
    }

    /// Applies every directive line of a config text, in order.
    fn load_text(&mut self, text: &str, source: &str) -> Result<(), String> {
        for line in parse::lines(text, source, 0)? {
            let name = line.args[0].to_ascii_lowercase();
            let vals = &line.args[1..];
            self.apply_startup(&name, vals)
                .map_err(|e| parse::fatal(&line.source, line.number, &line.text, &e))?;
        }
        Ok(())
    }

    /// A directive from a file or the command line.
    fn apply_startup(&mut self, name: &str, vals: &[String]) -> Result<(), String> {
        match name {
            "rename-command" => {
                return Err(
                    "rename-command is not supported by tripod-server; remove the directive".into(),
                )
            }
            "loadmodule" => {
                return Err(
                    "loadmodule is not supported by tripod-server (modules are not implemented)"
                        .into(),
                )
            }
            "user" => {
                if vals.is_empty() {
                    return Err("Bad directive or wrong number of arguments".into());
                }
                let args: Vec<Vec<u8>> = vals.iter().map(|v| v.as_bytes().to_vec()).collect();
                if self.acl_users.iter().any(|u| u[0] == args[0]) {
                    return Err(format!(
                        "Error in user declaration '{}': Duplicate user found. A user can only be defined once in config files",
                        vals[0]
                    ));
                }
                crate::server::acl::file::users_from_config(std::slice::from_ref(&args), false)?;
                self.acl_users.push(args);
                return Ok(());
            }
            _ => {}
        }
        let Some(d) = directives::find(name) else {
            return Err("Bad directive or wrong number of arguments".into());
        };
        let d = directives::canonical(d);
        if d.name == "save" {
            // The first save line of a file replaces the defaults; later ones add.
            // `save` alone or `save ""` disables snapshots (Redis 7.0 accepts both).
            if vals.is_empty() || (vals.len() == 1 && vals[0].is_empty()) {
                self.values.insert("save", String::new());
                self.save_seen = true;
                self.sync_fields();
                return Ok(());
            }
            // Like Redis 7, one argument may hold several pairs: save "3600 1 300 100".
            let split: Vec<String>;
            let vals = if vals.len() == 1 && vals[0].contains(' ') {
                split = vals[0].split_whitespace().map(String::from).collect();
                &split[..]
            } else {
                vals
            };
            if vals.is_empty() || !vals.len().is_multiple_of(2) {
                return Err("Invalid save parameters".into());
            }
            let new = check_save(&vals.join(" "))?;
            let cur = if self.save_seen {
                self.values.get("save").cloned().unwrap_or_default()
            } else {
                String::new()
            };
            let joined = if cur.is_empty() {
                new
            } else {
                format!("{} {}", cur, new)
            };
            self.values.insert("save", joined);
            self.save_seen = true;
            self.sync_fields();
            return Ok(());
        }
        if d.name == "client-output-buffer-limit" {
            let merged = merge_obuf_limits(
                self.values.get(d.name).map(String::as_str).unwrap_or(""),
                &vals.join(" "),
            )?;
            self.values.insert(d.name, merged);
            self.sync_fields();
            return Ok(());
        }
        let value = normalize(d, vals, true)?;
        if let Some(msg) = directives::unsupported(d.name, &value) {
            return Err(msg);
        }
        self.values.insert(d.name, value);
        self.sync_fields();
        Ok(())
    }

    /// CONFIG GET: (name, value) pairs for every directive matching one of the
    /// globs, each once, aliases under their own names as Redis prints them.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for d in directives::DIRECTIVES {
            let shown = if d.mode == Mode::Hidden {
                patterns
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(d.name.as_bytes()))
            } else {
                patterns
                    .iter()
                    .any(|p| crate::server::util::glob_match(p, d.name.as_bytes(), true))
            };
            if shown {
                let c = directives::canonical(d);
                out.push((
                    d.name.to_string(),
                    self.values.get(c.name).cloned().unwrap_or_default(),
                ));
            }
        }
        out
    }

    /// One directive's current value as CONFIG GET prints it.
    pub fn get(&self, name: &str) -> Option<String> {
        let d = directives::canonical(directives::find(name)?);
        self.values.get(d.name).cloned()
    }

    /// CONFIG SET name value [name value ...], all or nothing. Returns the
    /// canonical names that changed so the server can apply side effects; the error
    /// is the reply text (without the leading `-`).
    pub fn set(&mut self, pairs: &[(Vec<u8>, Vec<u8>)]) -> Result<Vec<&'static str>, String> {
        let mut next = self.clone();
        let mut seen: Vec<&'static str> = Vec::new();
        for (k, v) in pairs {
            let name = String::from_utf8_lossy(k).to_ascii_lowercase();
            let Some(d) = directives::find(&name) else {
                return Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                    name
                ));
            };
            let d = directives::canonical(d);
            let fail = |msg: &str| {
                format!(
                    "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
                    name, msg
                )
            };
            if seen.contains(&d.name) {
                return Err(fail("duplicate parameter"));
            }
            seen.push(d.name);
            match d.mode {
                Mode::Immutable => return Err(fail("can't set immutable config")),
                Mode::Protected if self.enable_protected_configs != "yes" => {
                    return Err(fail("can't set protected config"))
                }
                _ => {}
            }
            let text = String::from_utf8_lossy(v).into_owned();
            let value = match d.name {
                "save" => {
                    if text.trim().is_empty() {
                        String::new()
                    } else {
                        check_save(&text).map_err(|e| fail(&e))?
                    }
                }
                "client-output-buffer-limit" => merge_obuf_limits(
                    next.values.get(d.name).map(String::as_str).unwrap_or(""),
                    &text,
                )
                .map_err(|e| fail(&e))?,
                _ => {
                    let vals: Vec<String> = match d.kind {
                        Kind::Special => text.split_whitespace().map(String::from).collect(),
                        _ => vec![text],
                    };
                    normalize(d, &vals, false).map_err(|e| fail(&e))?
                }
            };
            if let Some(msg) = directives::unsupported(d.name, &value) {
                return Err(fail(&msg));
            }
            next.values.insert(d.name, value);
        }
        next.sync_fields();
        let changed: Vec<&'static str> = seen
            .into_iter()
            .filter(|n| self.values.get(n) != next.values.get(n))
            .collect();
        *self = next;
        Ok(changed)
    }

    /// Sets replicaof at run time (REPLICAOF / SLAVEOF), so CONFIG REWRITE keeps it.
    pub fn set_replicaof(&mut self, to: Option<(String, u16)>) {
        let v = match &to {
            Some((h, p)) => format!("{} {}", h, p),
            None => String::new(),
        };
        self.values.insert("replicaof", v);
        self.sync_fields();
    }

    /// CONFIG REWRITE: rewrite the config file in place, keeping its comments.
    pub fn rewrite(&self) -> Result<(), String> {
        rewrite::rewrite(self)
    }

    /// The current value of a canonical directive.
    pub(crate) fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    /// Refreshes the typed fields from the value table.
    fn sync_fields(&mut self) {
        let v = |n: &str| self.values.get(n).cloned().unwrap_or_default();
        let b = |n: &str| self.values.get(n).is_some_and(|x| x == "yes");
        let i = |n: &str| v(n).parse::<i64>().unwrap_or(0);
        let u = |n: &str| v(n).parse::<u64>().unwrap_or(0);
        let opt = |n: &str| {
            let s = v(n);
            if s.is_empty() {
                None
            } else {
                Some(s.into_bytes())
            }
        };
        self.port = u("port") as u16;
        self.bind = v("bind").split_whitespace().map(String::from).collect();
        self.requirepass = opt("requirepass");
        self.masterauth = opt("masterauth");
        self.masteruser = opt("masteruser");
        self.protected_mode = b("protected-mode");
        self.replicaof = {
            let r = v("replicaof");
            let mut it = r.split_whitespace();
            match (it.next(), it.next().and_then(|p| p.parse().ok())) {
                (Some(h), Some(p)) => Some((h.to_string(), p)),
                _ => None,
            }
        };
        self.replica_read_only = b("replica-read-only");
        self.replica_serve_stale_data = b("replica-serve-stale-data");
        self.dir = PathBuf::from(v("dir"));
        self.dbfilename = v("dbfilename");
        let nums: Vec<u64> = v("save")
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        self.save_params = nums
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (c[0], c[1]))
            .collect();
        self.databases = u("databases").max(1) as usize;
        self.maxclients = u("maxclients");
        self.timeout = u("timeout");
        self.tcp_keepalive = u("tcp-keepalive");
        self.tcp_backlog = u("tcp-backlog") as u32;
        self.repl_backlog_size = u("repl-backlog-size");
        self.repl_backlog_ttl = u("repl-backlog-ttl");
        self.repl_timeout = u("repl-timeout");
        self.repl_ping_replica_period = u("repl-ping-replica-period");
        self.repl_diskless_sync = b("repl-diskless-sync");
        self.repl_diskless_sync_delay = u("repl-diskless-sync-delay");
        self.repl_diskless_load = v("repl-diskless-load");
        self.replica_priority = u("replica-priority");
        self.replica_announce_ip =
            opt("replica-announce-ip").map(|x| String::from_utf8_lossy(&x).into_owned());
        self.replica_announce_port = u("replica-announce-port") as u16;
        self.min_replicas_to_write = u("min-replicas-to-write");
        self.min_replicas_max_lag = u("min-replicas-max-lag");
        self.maxmemory = u("maxmemory");
        self.maxmemory_policy = v("maxmemory-policy");
        self.maxmemory_samples = u("maxmemory-samples");
        self.daemonize = b("daemonize");
        self.pidfile =
            opt("pidfile").map(|x| PathBuf::from(String::from_utf8_lossy(&x).into_owned()));
        self.logfile = v("logfile");
        self.loglevel = v("loglevel");
        self.proto_max_bulk_len = i("proto-max-bulk-len");
        self.client_query_buffer_limit = u("client-query-buffer-limit");
        self.hz = u("hz");
        self.appendonly = b("appendonly");
        self.rdbcompression = b("rdbcompression");
        self.rdbchecksum = b("rdbchecksum");
        self.stop_writes_on_bgsave_error = b("stop-writes-on-bgsave-error");
        self.hash_max_listpack_entries = u("hash-max-listpack-entries");
        self.hash_max_listpack_value = u("hash-max-listpack-value");
        self.set_max_intset_entries = u("set-max-intset-entries");
        self.zset_max_listpack_entries = u("zset-max-listpack-entries");
        self.hll_sparse_max_bytes = u("hll-sparse-max-bytes");
        self.zset_max_listpack_value = u("zset-max-listpack-value");
        self.list_max_listpack_size = i("list-max-listpack-size");
        self.list_compress_depth = u("list-compress-depth");
        self.stream_node_max_bytes = u("stream-node-max-bytes");
        self.stream_node_max_entries = u("stream-node-max-entries");
        self.slowlog_log_slower_than = i("slowlog-log-slower-than");
        self.slowlog_max_len = u("slowlog-max-len");
        self.latency_tracking = b("latency-tracking");
        self.tracking_table_max_keys = u("tracking-table-max-keys");
        self.latency_monitor_threshold = i("latency-monitor-threshold");
        self.lazyfree_lazy_expire = b("lazyfree-lazy-expire");
        self.lazyfree_lazy_user_del = b("lazyfree-lazy-user-del");
        self.lazyfree_lazy_user_flush = b("lazyfree-lazy-user-flush");
        self.lazyfree_lazy_server_del = b("lazyfree-lazy-server-del");
        self.lazyfree_lazy_eviction = b("lazyfree-lazy-eviction");
        self.notify_keyspace_events = v("notify-keyspace-events");
        self.notify_flags =
            crate::server::notify::parse_flags(&self.notify_keyspace_events).unwrap_or(0);
        let limits: Vec<String> = v("client-output-buffer-limit")
            .split_whitespace()
            .map(String::from)
            .collect();
        self.client_output_buffer_limit = limits
            .chunks(4)
            .filter(|c| c.len() == 4)
            .map(|c| {
                let class = if c[0] == "slave" {
                    "replica".to_string()
                } else {
                    c[0].clone()
                };
                (
                    class,
                    c[1].parse().unwrap_or(0),
                    c[2].parse().unwrap_or(0),
                    c[3].parse().unwrap_or(0),
                )
            })
            .collect();
        self.enable_debug_command = v("enable-debug-command");
        self.enable_protected_configs = v("enable-protected-configs");
        self.unixsocket =
            opt("unixsocket").map(|x| PathBuf::from(String::from_utf8_lossy(&x).into_owned()));
        self.unixsocketperm = u32::from_str_radix(&v("unixsocketperm"), 8).unwrap_or(0);
        self.always_show_logo = b("always-show-logo");
        crate::server::rdb::delay::configure(i("rdb-key-save-delay"), i("key-load-delay"));
        crate::server::rdb::limits::configure(
            (self.hash_max_listpack_entries, self.hash_max_listpack_value),
            (self.zset_max_listpack_entries, self.zset_max_listpack_value),
        );
    }
}

/// Validates a directive's arguments and returns the value as CONFIG GET prints it.
fn normalize(d: &Directive, vals: &[String], startup: bool) -> Result<String, String> {
    let one = || -> Result<&String, String> {
        if vals.len() != 1 {
            Err(if startup {
                "Bad directive or wrong number of arguments".to_string()
            } else {
                "wrong number of arguments".to_string()
            })
        } else {
            Ok(&vals[0])
        }
    };
    match d.kind {
        Kind::Bool => match one()?.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int(min, max) => {
            let s = one()?;
            let n: i64 = crate::server::util::parse_i64(s.as_bytes())
                .or_else(|| s.parse().ok())
                .ok_or("argument couldn't be parsed into an integer")?;
            if n < min || n > max {
                return Err(format!(
                    "argument must be between {} and {} inclusive",
                    min, max
                ));
            }
            Ok(n.to_string())
        }
        Kind::Mem(min, max) => {
            let s = one()?;
            let n = crate::server::util::parse_memory(s).ok_or("argument must be a memory value")?
                as i64;
            if n < min || n > max {
                return Err(format!(
                    "argument must be between {} and {} inclusive",
                    min, max
                ));
            }
            Ok(n.to_string())
        }
        Kind::Enum(options) => {
            let s = one()?.to_ascii_lowercase();
            if options.contains(&s.as_str()) {
                Ok(s)
            } else {
                Err(format!(
                    "argument(s) must be one of the following: {}",
                    options.join(", ")
                ))
            }
        }
        Kind::Str => {
            let v = one()?;
            // As Redis: the AOF folder and file names are names, not paths.
            match d.name {
                "appenddirname" if v.contains('/') => {
                    Err("appenddirname can't be a path, just a dirname".into())
                }
                "appendfilename" if v.contains('/') => {
                    Err("appendfilename can't be a path, just a filename".into())
                }
                _ => Ok(v.clone()),
            }
        }
        Kind::Special => special(d.name, vals, startup),
    }
}

/// Directives with their own syntax.
fn special(name: &str, vals: &[String], startup: bool) -> Result<String, String> {
    let wrong = || {
        if startup {
            "Bad directive or wrong number of arguments".to_string()
        } else {
            "wrong number of arguments".to_string()
        }
    };
    match name {
        "bind" => {
            // `bind ""` (or CONFIG SET bind "") means no TCP listener at all.
            let addrs: Vec<&String> = vals.iter().filter(|v| !v.is_empty()).collect();
            if addrs.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            Ok(addrs
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(" "))
        }
        "dir" => {
            if vals.len() != 1 {
                return Err(wrong());
            }
            let p = std::path::Path::new(&vals[0]);
            let abs = std::fs::canonicalize(p).map_err(|e| {
                e.to_string()
                    .split(" (os error")
                    .next()
                    .unwrap_or("")
                    .to_string()
            })?;
            if !abs.is_dir() {
                return Err("Not a directory".into());
            }
            Ok(abs.display().to_string())
        }
        "replicaof" => {
            if vals.len() != 2 {
                return Err(wrong());
            }
            if vals[0].eq_ignore_ascii_case("no") && vals[1].eq_ignore_ascii_case("one") {
                return Ok(String::new());
            }
            let port: u16 = vals[1]
                .parse()
                .map_err(|_| "Invalid master port".to_string())?;
            Ok(format!("{} {}", vals[0], port))
        }
        "notify-keyspace-events" => {
            // One argument in Redis: whitespace inside it is an invalid class.
            let s = vals.join(" ");
            match crate::server::notify::parse_flags(&s) {
                Some(f) => Ok(crate::server::notify::flags_to_string(f)),
                None => Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
            }
        }
        "oom-score-adj-values" => {
            if vals.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            for v in vals {
                match v.parse::<i64>() {
                    Ok(n) if (-2000..=2000).contains(&n) => {}
                    _ => return Err(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                            .into(),
                    ),
                }
            }
            Ok(vals.join(" "))
        }
        "latency-tracking-info-percentiles" => {
            // Kept as Redis prints them back: "%f" without trailing zeros.
            let mut out = Vec::new();
            for v in vals {
                match v.parse::<f64>() {
                    Ok(n) if (0.0..=100.0).contains(&n) => out.push(trim_double(n)),
                    _ => {
                        return Err(
                            "latency-tracking-info-percentiles config must be between 0 and 100"
                                .into(),
                        )
                    }
                }
            }
            Ok(out.join(" "))
        }
        "shutdown-on-sigint" | "shutdown-on-sigterm" => {
            if vals.is_empty() {
                return Err(wrong());
            }
            for v in vals {
                if !["default", "save", "nosave", "now", "force"]
                    .contains(&v.to_ascii_lowercase().as_str())
                {
                    return Err("argument(s) must be one of the following: default, save, nosave, now, force".into());
                }
            }
            Ok(vals
                .iter()
                .map(|v| v.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" "))
        }
        _ => Err(wrong()),
    }
}

/// Validates `save` pairs ("seconds changes ...").
fn check_save(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    if parts.is_empty() || !parts.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    let mut out = Vec::new();
    for p in parts {
        let n: i64 = p
            .parse()
            .map_err(|_| "Invalid save parameters".to_string())?;
        if n < 0 {
            return Err("Invalid save parameters".into());
        }
        out.push(n.to_string());
    }
    Ok(out.join(" "))
}

/// Applies `class hard soft seconds` groups to the current limits.
fn merge_obuf_limits(current: &str, text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    if parts.is_empty() || !parts.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut table: Vec<[String; 4]> = current
        .split_whitespace()
        .collect::<Vec<_>>()
        .chunks(4)
        .filter(|c| c.len() == 4)
        .map(|c| {
            [
                c[0].to_string(),
                c[1].to_string(),
                c[2].to_string(),
                c[3].to_string(),
            ]
        })
        .collect();
    for g in parts.chunks(4) {
        let class = match g[0].to_ascii_lowercase().as_str() {
            "normal" => "normal",
            "slave" | "replica" => "slave",
            "pubsub" => "pubsub",
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let hard = crate::server::util::parse_memory(g[1]);
        let soft = crate::server::util::parse_memory(g[2]);
        let secs = g[3].parse::<u64>().ok();
        let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        let row = [
            class.to_string(),
            hard.to_string(),
            soft.to_string(),
            secs.to_string(),
        ];
        match table.iter_mut().find(|r| r[0] == class) {
            Some(r) => *r = row,
            None => table.push(row),
        }
    }
    let order = ["normal", "slave", "pubsub"];
    table.sort_by_key(|r| order.iter().position(|o| *o == r[0]).unwrap_or(9));
    Ok(table
        .iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join(" "))
}

#[cfg(test)]
mod tests;

/// A double as C's "%f" prints it, without trailing zeros or point (Redis's
/// trimDoubleString): 99.9 -> "99.9", 50.0 -> "50".
pub fn trim_double(n: f64) -> String {
    let s = format!("{n:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
