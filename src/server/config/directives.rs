//! The directive table: every redis.conf directive Redis 7.0 knows, its kind,
//! default (formatted as CONFIG GET prints it), and whether it may change at run
//! time. Names and defaults follow Debian's redis-server 7.0.15.

/// How a directive's value is read and printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// yes / no.
    Bool,
    /// An integer within bounds.
    Int(i64, i64),
    /// A memory amount (`1gb`, `100mb`, bytes) within bounds, printed in bytes.
    Mem(i64, i64),
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// Free text.
    Str,
    /// Parsed by its own code in `Config::apply` (save, bind, replicaof, ...).
    Special,
}

/// Run-time changeability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Mutable,
    /// Only at start-up ("can't set immutable config").
    Immutable,
    /// Only with enable-protected-configs ("can't set protected config").
    Protected,
    /// Mutable, but CONFIG GET shows it only when asked by its exact name
    /// (Redis's test-only HIDDEN_CONFIG directives).
    Hidden,
}

#[derive(Debug)]
pub struct Directive {
    pub name: &'static str,
    /// For an alias (slaveof, hash-max-ziplist-entries...), the canonical name.
    pub alias_of: Option<&'static str>,
    pub kind: Kind,
    pub default: &'static str,
    pub mode: Mode,
}

const INT_MAX: i64 = i32::MAX as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LL_MAX: i64 = i64::MAX;

const YESNO_LOCAL: &[&str] = &["no", "yes", "local"];

use Kind::*;
use Mode::*;

macro_rules! d {
    ($name:expr, $kind:expr, $default:expr) => {
        Directive {
            name: $name,
            alias_of: None,
            kind: $kind,
            default: $default,
            mode: Mutable,
        }
    };
    ($name:expr, $kind:expr, $default:expr, $mode:expr) => {
        Directive {
            name: $name,
            alias_of: None,
            kind: $kind,
            default: $default,
            mode: $mode,
        }
    };
}
macro_rules! alias {
    ($name:expr, $of:expr) => {
        Directive {
            name: $name,
            alias_of: Some($of),
            kind: Special,
            default: "",
            mode: Mutable,
        }
    };
}

pub static DIRECTIVES: &[Directive] = &[
    d!(
        "acl-pubsub-default",
        Enum(&["allchannels", "resetchannels"]),
        "resetchannels"
    ),
    d!("aclfile", Str, "", Immutable),
    d!("acllog-max-len", Int(0, LL_MAX), "128"),
    d!("active-defrag-cycle-max", Int(1, 99), "25"),
    d!("active-defrag-cycle-min", Int(1, 99), "1"),
    d!("active-defrag-ignore-bytes", Mem(1, LL_MAX), "104857600"),
    d!("active-defrag-max-scan-fields", Int(1, LL_MAX), "1000"),
    d!("active-defrag-threshold-lower", Int(0, 1000), "10"),
    d!("active-defrag-threshold-upper", Int(0, 1000), "100"),
    d!("active-expire-effort", Int(1, 10), "1"),
    d!("activedefrag", Bool, "no"),
    d!("activerehashing", Bool, "yes"),
    d!("always-show-logo", Bool, "no", Immutable),
    d!("aof-disable-auto-gc", Bool, "no"),
    d!("aof-load-truncated", Bool, "yes"),
    d!("aof-rewrite-incremental-fsync", Bool, "yes"),
    d!("aof-timestamp-enabled", Bool, "no"),
    d!("aof-use-rdb-preamble", Bool, "yes"),
    d!("aof_rewrite_cpulist", Str, "", Immutable),
    d!("appenddirname", Str, "appendonlydir", Immutable),
    d!("appendfilename", Str, "appendonly.aof", Immutable),
    d!(
        "appendfsync",
        Enum(&["always", "everysec", "no"]),
        "everysec"
    ),
    d!("appendonly", Bool, "no"),
    d!("auto-aof-rewrite-min-size", Mem(0, LL_MAX), "67108864"),
    d!("auto-aof-rewrite-percentage", Int(0, INT_MAX), "100"),
    d!("bgsave_cpulist", Str, "", Immutable),
    // port and bind are fixed at start: tripod-server does not re-bind listeners.
    d!("bind", Special, "* -::*"),
    d!("bind-source-addr", Str, ""),
    d!("bio_cpulist", Str, "", Immutable),
    d!("busy-reply-threshold", Int(0, LL_MAX), "5000"),
    d!(
        "client-output-buffer-limit",
        Special,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    ),
    d!(
        "client-query-buffer-limit",
        Mem(1024 * 1024, LL_MAX),
        "1073741824"
    ),
    d!("cluster-allow-pubsubshard-when-down", Bool, "yes"),
    d!("cluster-allow-reads-when-down", Bool, "no"),
    d!("cluster-allow-replica-migration", Bool, "yes"),
    d!("cluster-announce-bus-port", Int(0, 65535), "0"),
    d!("cluster-announce-hostname", Str, ""),
    d!("cluster-announce-ip", Str, ""),
    d!("cluster-announce-port", Int(0, 65535), "0"),
    d!("cluster-announce-tls-port", Int(0, 65535), "0"),
    d!("cluster-config-file", Str, "nodes.conf", Immutable),
    d!("cluster-enabled", Bool, "no", Immutable),
    d!("cluster-link-sendbuf-limit", Mem(0, LL_MAX), "0"),
    d!("cluster-migration-barrier", Int(0, INT_MAX), "1"),
    d!("cluster-node-timeout", Int(0, LL_MAX), "15000"),
    d!("cluster-port", Int(0, 65535), "0", Immutable),
    d!(
        "cluster-preferred-endpoint-type",
        Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip"
    ),
    d!("cluster-replica-no-failover", Bool, "no"),
    alias!("cluster-slave-no-failover", "cluster-replica-no-failover"),
    d!("cluster-replica-validity-factor", Int(0, INT_MAX), "10"),
    alias!(
        "cluster-slave-validity-factor",
        "cluster-replica-validity-factor"
    ),
    d!("cluster-require-full-coverage", Bool, "yes"),
    d!("crash-log-enabled", Bool, "yes"),
    d!("crash-memcheck-enabled", Bool, "yes"),
    d!("daemonize", Bool, "no", Immutable),
    d!("databases", Int(1, INT_MAX), "16", Immutable),
    d!("dbfilename", Str, "dump.rdb", Protected),
    d!("dir", Special, "", Protected),
    d!("disable-thp", Bool, "yes", Immutable),
    d!("dynamic-hz", Bool, "yes"),
    d!("enable-debug-command", Enum(YESNO_LOCAL), "no", Immutable),
    d!("enable-module-command", Enum(YESNO_LOCAL), "no", Immutable),
    d!(
        "enable-protected-configs",
        Enum(YESNO_LOCAL),
        "no",
        Immutable
    ),
    d!("hash-max-listpack-entries", Int(0, LL_MAX), "512"),
    alias!("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    d!("hash-max-listpack-value", Mem(0, LL_MAX), "64"),
    alias!("hash-max-ziplist-value", "hash-max-listpack-value"),
    d!("hll-sparse-max-bytes", Mem(0, LL_MAX), "3000"),
    d!("hz", Int(0, INT_MAX), "10"),
    d!("ignore-warnings", Str, ""),
    d!("io-threads", Int(1, 128), "1", Immutable),
    d!("io-threads-do-reads", Bool, "no", Immutable),
    d!("jemalloc-bg-thread", Bool, "yes"),
    d!("latency-monitor-threshold", Int(0, LL_MAX), "0"),
    d!("latency-tracking", Bool, "yes"),
    d!("latency-tracking-info-percentiles", Special, "50 99 99.9"),
    d!("lazyfree-lazy-eviction", Bool, "no"),
    d!("lazyfree-lazy-expire", Bool, "no"),
    d!("lazyfree-lazy-server-del", Bool, "no"),
    d!("lazyfree-lazy-user-del", Bool, "no"),
    d!("lazyfree-lazy-user-flush", Bool, "no"),
    d!("lfu-decay-time", Int(0, INT_MAX), "1"),
    d!("lfu-log-factor", Int(0, INT_MAX), "10"),
    d!("list-compress-depth", Int(0, INT_MAX), "0"),
    d!(
        "list-max-listpack-size",
        Int(i32::MIN as i64, INT_MAX),
        "-2"
    ),
    alias!("list-max-ziplist-size", "list-max-listpack-size"),
    d!("logfile", Str, "", Immutable),
    d!(
        "loglevel",
        Enum(&["debug", "verbose", "notice", "warning"]),
        "notice"
    ),
    alias!("lua-time-limit", "busy-reply-threshold"),
    d!("masterauth", Str, ""),
    d!("masteruser", Str, ""),
    d!("maxclients", Int(1, UINT_MAX), "10000"),
    d!("maxmemory", Mem(0, LL_MAX), "0"),
    d!("maxmemory-clients", Mem(0, LL_MAX), "0"),
    d!("maxmemory-eviction-tenacity", Int(0, 100), "10"),
    d!(
        "maxmemory-policy",
        Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction"
        ]),
        "noeviction"
    ),
    d!("maxmemory-samples", Int(1, INT_MAX), "5"),
    d!("min-replicas-max-lag", Int(0, INT_MAX), "10"),
    d!("min-replicas-to-write", Int(0, INT_MAX), "0"),
    alias!("min-slaves-max-lag", "min-replicas-max-lag"),
    alias!("min-slaves-to-write", "min-replicas-to-write"),
    d!("no-appendfsync-on-rewrite", Bool, "no"),
    d!("notify-keyspace-events", Special, ""),
    d!(
        "oom-score-adj",
        Enum(&["no", "yes", "relative", "absolute"]),
        "no"
    ),
    d!("oom-score-adj-values", Special, "0 200 800"),
    d!("pidfile", Str, "", Immutable),
    d!("port", Int(0, 65535), "6379"),
    d!(
        "proc-title-template",
        Str,
        "{title} {listen-addr} {server-mode}"
    ),
    d!(
        "propagation-error-behavior",
        Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore"
    ),
    d!("protected-mode", Bool, "yes"),
    d!("proto-max-bulk-len", Mem(1024 * 1024, LL_MAX), "536870912"),
    d!("rdb-del-sync-files", Bool, "no"),
    d!("rdb-save-incremental-fsync", Bool, "yes"),
    d!("rdbchecksum", Bool, "yes", Immutable),
    d!("rdbcompression", Bool, "yes"),
    d!("repl-backlog-size", Mem(1, LL_MAX), "1048576"),
    d!("repl-backlog-ttl", Int(0, INT_MAX), "3600"),
    d!("repl-disable-tcp-nodelay", Bool, "no"),
    d!(
        "repl-diskless-load",
        Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled"
    ),
    d!("repl-diskless-sync", Bool, "yes"),
    d!("repl-diskless-sync-delay", Int(0, INT_MAX), "5"),
    d!("repl-diskless-sync-max-replicas", Int(0, INT_MAX), "0"),
    d!("repl-ping-replica-period", Int(1, INT_MAX), "10"),
    alias!("repl-ping-slave-period", "repl-ping-replica-period"),
    d!("repl-timeout", Int(1, INT_MAX), "60"),
    d!("replica-announce-ip", Str, ""),
    alias!("slave-announce-ip", "replica-announce-ip"),
    d!("replica-announce-port", Int(0, 65535), "0"),
    alias!("slave-announce-port", "replica-announce-port"),
    d!("replica-announced", Bool, "yes"),
    d!("replica-ignore-disk-write-errors", Bool, "no"),
    d!("replica-ignore-maxmemory", Bool, "yes"),
    alias!("slave-ignore-maxmemory", "replica-ignore-maxmemory"),
    d!("replica-lazy-flush", Bool, "no"),
    alias!("slave-lazy-flush", "replica-lazy-flush"),
    d!("replica-priority", Int(0, INT_MAX), "100"),
    alias!("slave-priority", "replica-priority"),
    d!("replica-read-only", Bool, "yes"),
    alias!("slave-read-only", "replica-read-only"),
    d!("replica-serve-stale-data", Bool, "yes"),
    alias!("slave-serve-stale-data", "replica-serve-stale-data"),
    d!("replicaof", Special, "", Immutable),
    alias!("slaveof", "replicaof"),
    d!("requirepass", Str, ""),
    d!(
        "sanitize-dump-payload",
        Enum(&["no", "yes", "clients"]),
        "no"
    ),
    d!("save", Special, "3600 1 300 100 60 10000"),
    d!("server_cpulist", Str, "", Immutable),
    d!("set-max-intset-entries", Int(0, LL_MAX), "512"),
    d!("set-proc-title", Bool, "yes", Immutable),
    d!("shutdown-on-sigint", Special, "default"),
    d!("shutdown-on-sigterm", Special, "default"),
    d!("shutdown-timeout", Int(0, INT_MAX), "10"),
    d!("slowlog-log-slower-than", Int(-1, LL_MAX), "10000"),
    d!("slowlog-max-len", Int(0, LL_MAX), "128"),
    d!("socket-mark-id", Int(0, UINT_MAX), "0", Immutable),
    // Test-only (hidden in CONFIG GET *): a delay per key, in microseconds
    // (negative: nanoseconds), when saving and when loading; how often loading
    // serves clients.
    d!(
        "rdb-key-save-delay",
        Int(i32::MIN as i64, INT_MAX),
        "0",
        Hidden
    ),
    d!("key-load-delay", Int(i32::MIN as i64, INT_MAX), "0", Hidden),
    d!(
        "loading-process-events-interval-bytes",
        Int(1024, INT_MAX),
        "2097152",
        Hidden
    ),
    d!("stop-writes-on-bgsave-error", Bool, "yes"),
    d!("stream-node-max-bytes", Mem(0, LL_MAX), "4096"),
    d!("stream-node-max-entries", Int(0, LL_MAX), "100"),
    d!(
        "supervised",
        Enum(&["upstart", "systemd", "auto", "no"]),
        "no",
        Immutable
    ),
    d!("syslog-enabled", Bool, "no", Immutable),
    d!(
        "syslog-facility",
        Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"
        ]),
        "local0",
        Immutable
    ),
    d!("syslog-ident", Str, "redis", Immutable),
    d!("tcp-backlog", Int(0, INT_MAX), "511", Immutable),
    d!("tcp-keepalive", Int(0, INT_MAX), "300"),
    d!("timeout", Int(0, INT_MAX), "0"),
    d!("tls-auth-clients", Str, "yes"),
    d!("tls-ca-cert-dir", Str, ""),
    d!("tls-ca-cert-file", Str, ""),
    d!("tls-cert-file", Str, ""),
    d!("tls-ciphers", Str, ""),
    d!("tls-ciphersuites", Str, ""),
    d!("tls-client-cert-file", Str, ""),
    d!("tls-client-key-file", Str, ""),
    d!("tls-client-key-file-pass", Str, ""),
    d!("tls-cluster", Bool, "no"),
    d!("tls-dh-params-file", Str, ""),
    d!("tls-key-file", Str, ""),
    d!("tls-key-file-pass", Str, ""),
    d!("tls-port", Int(0, 65535), "0"),
    d!("tls-prefer-server-ciphers", Bool, "no"),
    d!("tls-protocols", Str, ""),
    d!("tls-replication", Bool, "no"),
    d!("tls-session-cache-size", Int(0, INT_MAX), "20480"),
    d!("tls-session-cache-timeout", Int(0, INT_MAX), "300"),
    d!("tls-session-caching", Bool, "yes"),
    d!("tracking-table-max-keys", Int(0, LL_MAX), "1000000"),
    d!("unixsocket", Str, "", Immutable),
    d!("unixsocketperm", Str, "0", Immutable),
    d!("zset-max-listpack-entries", Int(0, LL_MAX), "128"),
    alias!("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    d!("zset-max-listpack-value", Mem(0, LL_MAX), "64"),
    alias!("zset-max-ziplist-value", "zset-max-listpack-value"),
];

/// Finds a directive (or alias) by name, case-insensitively.
pub fn find(name: &str) -> Option<&'static Directive> {
    let n = name.to_ascii_lowercase();
    DIRECTIVES.iter().find(|d| d.name == n)
}

/// The canonical directive behind a name or alias.
pub fn canonical(d: &'static Directive) -> &'static Directive {
    match d.alias_of {
        Some(of) => find(of).expect("alias targets exist"),
        None => d,
    }
}

/// Directives accepted in files but with a meaning tripod-server does not
/// implement at the given value: refused with a message that says what to do.
pub fn unsupported(name: &str, value: &str) -> Option<String> {
    let v = value.to_ascii_lowercase();
    match name {
        "cluster-enabled" if v == "yes" => {
            Some("cluster-enabled yes is not supported by tripod-server (Redis Cluster is not implemented); tripod runs a master/replica group".into())
        }
        "tls-port" if v != "0" => Some("tls-port is not supported by tripod-server (TLS is not implemented); remove it or set it to 0".into()),
        "tls-replication" | "tls-cluster" if v == "yes" => Some(format!("{} yes is not supported by tripod-server (TLS is not implemented)", name)),
        "supervised" if v == "systemd" || v == "upstart" => {
            Some(format!("supervised {} is not supported by tripod-server; use 'supervised no' (or auto) and daemonize/pidfile", v))
        }
        "io-threads" if v != "1" => None,
        _ => None,
    }
}
