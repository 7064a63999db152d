//! Server configuration: redis.conf parsing, the directive table, CONFIG GET/SET/REWRITE.
//!
//! (Minimal version: the full directive table, file syntax and REWRITE are being
//! written; this file fixes the API the rest of the server uses.)

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
#[derive(Debug, Clone)]
pub struct Config {
    pub config_file: Option<PathBuf>,
    pub port: u16,
    pub bind: Vec<String>,
    pub requirepass: Option<Vec<u8>>,
    pub masterauth: Option<Vec<u8>>,
    pub masteruser: Option<Vec<u8>>,
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
    pub set_max_listpack_entries: u64,
    pub set_max_listpack_value: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    pub list_max_listpack_size: i64,
    pub list_compress_depth: u64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_tracking: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_server_del: bool,
    pub notify_keyspace_events: String,
    /// (class, hard, soft, soft_seconds) for normal, replica, pubsub.
    pub client_output_buffer_limit: Vec<(String, u64, u64, u64)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            config_file: None,
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            requirepass: None,
            masterauth: None,
            masteruser: None,
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
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_tracking: true,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_server_del: false,
            notify_keyspace_events: String::new(),
            client_output_buffer_limit: vec![
                ("normal".into(), 0, 0, 0),
                ("replica".into(), 256 << 20, 64 << 20, 60),
                ("pubsub".into(), 32 << 20, 8 << 20, 60),
            ],
        }
    }
}

impl Config {
    /// Parses `tripod-server [CONFIG_FILE] [--directive value ...]`. The error string is
    /// the complete message to print (Redis's FATAL CONFIG FILE ERROR format).
    pub fn from_args(args: &[String]) -> Result<StartupAction, String> {
        let mut cfg = Config::default();
        let mut i = 0;
        if let Some(first) = args.first() {
            match first.as_str() {
                "-v" | "--version" => return Ok(StartupAction::Version),
                "-h" | "--help" => return Ok(StartupAction::Help),
                f if !f.starts_with("--") => {
                    let text = std::fs::read_to_string(f).map_err(|e| {
                        format!("Fatal error, can't open config file '{}': {}", f, e)
                    })?;
                    cfg.config_file = Some(PathBuf::from(f));
                    cfg.apply_text(&text, f)?;
                    i = 1;
                }
                _ => {}
            }
        }
        let mut text = String::new();
        for a in &args[i..] {
            if let Some(name) = a.strip_prefix("--") {
                text.push('\n');
                text.push_str(name);
            } else {
                text.push(' ');
                text.push_str(&format!(
                    "\"{}\"",
                    a.replace('\\', "\\\\").replace('"', "\\\"")
                ));
            }
        }
        cfg.apply_text(&text, "(command line)")?;
        Ok(StartupAction::Run(Box::new(cfg)))
    }

    fn apply_text(&mut self, text: &str, source: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let args = crate::server::util::split_args(t.as_bytes()).map_err(|_| {
                fatal(
                    source,
                    n + 1,
                    line,
                    "Unbalanced quotes in configuration line",
                )
            })?;
            let args: Vec<String> = args
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let Some(name) = args.first() else { continue };
            let vals: Vec<Vec<u8>> = args[1..].iter().map(|s| s.clone().into_bytes()).collect();
            self.set_one(&name.to_ascii_lowercase(), &vals, true)
                .map_err(|e| fatal(source, n + 1, line, &e))?;
        }
        Ok(())
    }

    fn set_one(&mut self, name: &str, vals: &[Vec<u8>], _startup: bool) -> Result<(), String> {
        let s = |i: usize| {
            String::from_utf8_lossy(vals.get(i).map(|v| &v[..]).unwrap_or(b"")).into_owned()
        };
        let int = |i: usize| {
            s(i).parse::<u64>()
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())
        };
        let yes = |i: usize| match s(i).to_ascii_lowercase().as_str() {
            "yes" => Ok(true),
            "no" => Ok(false),
            _ => Err("argument must be 'yes' or 'no'".to_string()),
        };
        match name {
            "port" => self.port = int(0)? as u16,
            "bind" => self.bind = (0..vals.len()).map(s).collect(),
            "requirepass" => {
                self.requirepass = if vals[0].is_empty() {
                    None
                } else {
                    Some(vals[0].clone())
                }
            }
            "masterauth" => {
                self.masterauth = if vals[0].is_empty() {
                    None
                } else {
                    Some(vals[0].clone())
                }
            }
            "protected-mode" => self.protected_mode = yes(0)?,
            "replicaof" | "slaveof" => self.replicaof = Some((s(0), int(1)? as u16)),
            "replica-read-only" | "slave-read-only" => self.replica_read_only = yes(0)?,
            "dir" => self.dir = PathBuf::from(s(0)),
            "dbfilename" => self.dbfilename = s(0),
            "save" => {
                self.save_params.clear();
                let mut i = 0;
                while i + 1 < vals.len() {
                    self.save_params.push((int(i)?, int(i + 1)?));
                    i += 2;
                }
            }
            "databases" => self.databases = int(0)? as usize,
            "daemonize" => self.daemonize = yes(0)?,
            "pidfile" => self.pidfile = Some(PathBuf::from(s(0))),
            "logfile" => self.logfile = s(0),
            "loglevel" => self.loglevel = s(0),
            "timeout" => self.timeout = int(0)?,
            "repl-backlog-size" => self.repl_backlog_size = int(0)?,
            "maxmemory" => {
                self.maxmemory = crate::server::util::parse_memory(&s(0))
                    .ok_or("argument must be a memory value")?
            }
            "maxmemory-policy" => self.maxmemory_policy = s(0).to_ascii_lowercase(),
            "proto-max-bulk-len" => {
                self.proto_max_bulk_len = crate::server::util::parse_memory(&s(0))
                    .ok_or("argument must be a memory value")?
                    as i64
            }
            "appendonly" if yes(0)? => {
                return Err("appendonly yes is not supported by tripod-server".into());
            }
            _ => {}
        }
        Ok(())
    }

    /// CONFIG GET: (name, value) pairs for every directive matching one of the globs.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, value) in [
            ("port", self.port.to_string()),
            ("dir", self.dir.display().to_string()),
            ("dbfilename", self.dbfilename.clone()),
            ("databases", self.databases.to_string()),
        ] {
            if patterns
                .iter()
                .any(|p| crate::server::util::glob_match(p, name.as_bytes(), true))
            {
                out.push((name.to_string(), value));
            }
        }
        out
    }

    /// One directive's current value as CONFIG GET prints it.
    pub fn get(&self, name: &str) -> Option<String> {
        self.get_matching(&[name.as_bytes()])
            .into_iter()
            .next()
            .map(|(_, v)| v)
    }

    /// CONFIG SET name value [name value ...], all or nothing. Returns the canonical
    /// names that changed so the server can apply side effects; the error is the
    /// reply text (without the leading `-`).
    pub fn set(&mut self, pairs: &[(Vec<u8>, Vec<u8>)]) -> Result<Vec<&'static str>, String> {
        let mut next = self.clone();
        for (k, v) in pairs {
            let name = String::from_utf8_lossy(k).to_ascii_lowercase();
            next.set_one(&name, std::slice::from_ref(v), false)
                .map_err(|e| {
                    format!(
                        "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
                        name, e
                    )
                })?;
        }
        *self = next;
        Ok(Vec::new())
    }

    /// CONFIG REWRITE: rewrite the config file in place, keeping its comments.
    pub fn rewrite(&self) -> Result<(), String> {
        Err("ERR The server is running without a config file".into())
    }
}

/// Formats a fatal config error the way Redis does, naming the file too.
pub fn fatal(source: &str, line_no: usize, line: &str, msg: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file {}, at line {}\n>>> '{}'\n{}",
        source, line_no, line.trim(), msg
    )
}
