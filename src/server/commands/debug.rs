//! DEBUG: the subcommands Redis's own test suite and tools use to look inside
//! the server and to slow it down, with Redis 7.0's replies. Allowed only as
//! `enable-debug-command` says.

use super::*;
use crate::server::client::{Client, ClientKind};
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::util::{parse_f64, parse_i64};

pub static COMMANDS: &[Command] = &[Command::new("debug", debug)
    .arity(-2)
    .group("server")
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)];

/// Test knobs DEBUG sets on the running server.
#[derive(Debug)]
pub struct DebugKnobs {
    /// DEBUG PAUSE-CRON 1: the periodic tasks stop until 0.
    pub cron_paused: bool,
    /// DEBUG QUICKLIST-PACKED-THRESHOLD: list elements at least this big are kept
    /// in nodes of their own (Redis's plain nodes).
    pub quicklist_packed_threshold: u64,
    /// DEBUG REPLYBUFFER PEAK-RESET-TIME (ms; -1 never) and RESIZING.
    pub replybuffer_peak_reset_ms: i64,
    pub replybuffer_resizing: bool,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS 1: scripts may call commands flagged noscript.
    pub script_disable_deny: bool,
}

impl Default for DebugKnobs {
    fn default() -> Self {
        DebugKnobs {
            cron_paused: false,
            quicklist_packed_threshold: 1 << 30,
            replybuffer_peak_reset_ms: 5000,
            replybuffer_resizing: true,
            script_disable_deny: false,
        }
    }
}

/// Redis 7.0 refuses DEBUG unless enable-debug-command allows it: `yes`, or
/// `local` for a client on the loopback interface or the Unix socket. Our master
/// may always send it.
fn debug_allowed(srv: &Server, c: &Client) -> bool {
    match srv.config.enable_debug_command.as_str() {
        "yes" => true,
        "local" => {
            if c.addr.starts_with('/') {
                return true;
            }
            let host = c
                .addr
                .rsplit_once(':')
                .map(|(h, _)| h.trim_matches(['[', ']']))
                .unwrap_or("");
            host.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
        }
        _ => c.kind == ClientKind::Master,
    }
}

const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "OBJECT <key>",
    "    Show low level info about the <key> and associated value.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the replay buffer resize cron job",
    "HELP",
    "    Print this help.",
];

/// DEBUG subcommand ...: dispatches to the subcommands below; an unknown one
/// (or a wrong argument count) gets Redis's error.
fn debug(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if !debug_allowed(srv, c) {
        c.reply.error("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
        return;
    }
    let sub = argv[1].to_ascii_lowercase();
    let n = argv.len();
    match (&sub[..], n) {
        (b"help", 2) => {
            c.reply.array(HELP.len());
            for l in HELP {
                c.reply.simple(l);
            }
        }
        (b"sleep", 3) => {
            let secs = parse_f64(&argv[2]).unwrap_or(0.0).max(0.0);
            std::thread::sleep(std::time::Duration::from_micros((secs * 1e6) as u64));
            c.reply.ok();
        }
        (b"set-active-expire", 3) => {
            srv.active_expire_enabled = argv[2] != b"0";
            c.reply.ok();
        }
        (b"pause-cron", 3) => {
            srv.debug.cron_paused = argv[2] != b"0";
            c.reply.ok();
        }
        (b"quicklist-packed-threshold", 3) => {
            match crate::server::util::parse_memory(&String::from_utf8_lossy(&argv[2])) {
                Some(v) if v <= 4 << 30 => {
                    srv.debug.quicklist_packed_threshold = if v == 0 { 1 << 30 } else { v };
                    c.reply.ok();
                }
                _ => c.reply.error(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                ),
            }
        }
        (b"replybuffer", 4) => replybuffer(srv, c, argv),
        (b"set-skip-checksum-validation", 3) => c.reply.ok(),
        (b"set-disable-deny-scripts", 3) => {
            srv.debug.script_disable_deny = parse_i64(&argv[2]).unwrap_or(0) != 0;
            c.reply.ok();
        }
        (b"log", 3) => {
            crate::server::log::warning(&format!(
                "DEBUG LOG: {}",
                String::from_utf8_lossy(&argv[2])
            ));
            c.reply.ok();
        }
        (b"error", 3) => c.reply.error(&String::from_utf8_lossy(&argv[2])),
        (b"protocol", 3) => protocol(c, &argv[2]),
        (b"object", 3) => object(srv, c, &argv[2]),
        (b"htstats", 3) => htstats(srv, c, &argv[2]),
        (b"htstats-key", 3) => htstats_key(srv, c, &argv[2]),
        (b"change-repl-id", 2) => {
            let id = crate::server::replication::new_replid(&mut srv.rng);
            srv.repl.replid2 = std::mem::replace(&mut srv.repl.replid, id);
            srv.repl.second_offset = srv.repl.offset + 1;
            c.reply.ok();
        }
        (b"digest", 2) => {
            let d = crate::server::replication::digest::dataset_digest(&srv.dbs);
            c.reply.simple(&crate::server::replication::digest::hex(&d));
        }
        (b"digest-value", _) => {
            c.reply.array(n - 2);
            for k in &argv[2..] {
                let d = crate::server::replication::digest::value_digest(srv.dbs[c.db].get(k));
                c.reply.simple(&crate::server::replication::digest::hex(&d));
            }
        }
        (b"populate", 3..=5) => populate(srv, c, argv),
        (b"reload", _) => reload(srv, c, argv),
        (b"loadaof", 2) => loadaof(srv, c),
        (b"config-rewrite-force-all", 2) => match srv.config.rewrite() {
            Ok(()) => c.reply.ok(),
            Err(e) => c.reply.error(&format!(
                "ERR CONFIG-REWRITE-FORCE-ALL failed: {}",
                e.trim_start_matches("ERR ")
            )),
        },
        _ => c.reply.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&argv[1])
        )),
    }
}

/// DEBUG REPLYBUFFER PEAK-RESET-TIME never|reset|<ms> / RESIZING 0|1.
fn replybuffer(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let what = argv[2].to_ascii_lowercase();
    let arg = argv[3].to_ascii_lowercase();
    match &what[..] {
        b"peak-reset-time" => {
            let v = match &arg[..] {
                b"never" => Some(-1),
                b"reset" => Some(5000),
                _ => parse_i64(&arg).filter(|v| *v >= 0),
            };
            match v {
                Some(v) => {
                    srv.debug.replybuffer_peak_reset_ms = v;
                    c.reply.ok();
                }
                None => c.reply.error(errors::NOT_INTEGER),
            }
        }
        b"resizing" => {
            srv.debug.replybuffer_resizing = arg != b"0";
            c.reply.ok();
        }
        _ => c.reply.error(errors::SYNTAX),
    }
}

/// DEBUG PROTOCOL type: one value of each RESP3 type (degraded in RESP2 as
/// Redis does), for client libraries' tests.
fn protocol(c: &mut Client, ty: &[u8]) {
    let resp3 = c.reply.resp3;
    match &ty.to_ascii_lowercase()[..] {
        b"string" => c.reply.bulk(b"Hello World"),
        b"integer" => c.reply.int(12345),
        // Redis's test value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        b"double" => c.reply.double(3.141),
        b"bignum" => {
            let n = b"1234567999999999999999999999999999999";
            if resp3 {
                c.reply.raw(b"(");
                c.reply.raw(n);
                c.reply.raw(b"\r\n");
            } else {
                c.reply.bulk(n);
            }
        }
        b"null" => c.reply.null(),
        b"array" | b"set" => {
            if ty.eq_ignore_ascii_case(b"set") {
                c.reply.set(3);
            } else {
                c.reply.array(3);
            }
            for j in 0..3 {
                c.reply.int(j);
            }
        }
        b"map" => {
            c.reply.map(3);
            for j in 0..3 {
                c.reply.int(j);
                boolean(c, j == 1);
            }
        }
        b"attrib" => {
            if resp3 {
                c.reply.raw(b"|1\r\n");
                c.reply.bulk(b"key-popularity");
                c.reply.array(2);
                c.reply.bulk(b"key:123");
                c.reply.int(90);
            }
            c.reply.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !resp3 {
                c.reply.error("ERR RESP2 is not supported by this command");
                return;
            }
            c.reply.push(2);
            c.reply.bulk(b"server-cpu-usage");
            c.reply.int(42);
            c.reply.bulk(b"Some real reply following the push reply");
        }
        b"verbatim" => c.reply.verbatim(b"This is a verbatim\nstring"),
        b"true" => boolean(c, true),
        b"false" => boolean(c, false),
        _ => c.reply.error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"),
    }
}

/// A boolean: `#t`/`#f` in RESP3, the integers 1/0 in RESP2.
fn boolean(c: &mut Client, v: bool) {
    if c.reply.resp3 {
        c.reply.raw(if v { b"#t\r\n" } else { b"#f\r\n" });
    } else {
        c.reply.int(v as i64);
    }
}

/// DEBUG OBJECT key: the value's encoding, serialized length and LRU state.
/// DEBUG OBJECT: looks in the table itself, as Redis, so a key that expired but was not
/// reclaimed yet is still described (and stays).
fn object(srv: &mut Server, c: &mut Client, key: &[u8]) {
    match srv.dbs[c.db].get(key) {
        None => c.reply.error(errors::NO_SUCH_KEY),
        Some(e) => {
            let idle = crate::server::keyspace::db::lru_clock().wrapping_sub(e.lru);
            let s = format!(
                "Value at:0x0 refcount:1 encoding:{} serializedlength:0 lru:{} lru_seconds_idle:{}",
                e.value.encoding(e.raw),
                e.lru & 0xFFFFFF,
                idle
            );
            c.reply.simple(&s);
        }
    }
}

/// DEBUG HTSTATS dbid: the main and expires tables' sizes, in Redis's text form.
fn htstats(srv: &mut Server, c: &mut Client, db: &[u8]) {
    let Some(id) = parse_i64(db).filter(|&d| d >= 0 && (d as usize) < srv.dbs.len()) else {
        c.reply.error("ERR Out of range database");
        return;
    };
    let d = &srv.dbs[id as usize];
    let text = format!(
        "[Dictionary HT]\n{}[Expires HT]\n{}",
        d.keys.stats(),
        d.expires.stats()
    );
    c.reply.bulk(text.as_bytes());
}

/// DEBUG HTSTATS-KEY key: the table statistics of a set, hash or sorted set
/// in its hashtable encoding; other encodings get Redis's error.
fn htstats_key(srv: &mut Server, c: &mut Client, key: &[u8]) {
    use crate::server::types::Value;
    let Some(e) = srv.lookup_quiet(c, key) else {
        c.reply.error(errors::NO_SUCH_KEY);
        return;
    };
    let stats = match &e.value {
        Value::Set(s) => s.table_stats(),
        Value::Hash(h) => h.table_stats(),
        Value::ZSet(z) => z.table_stats(),
        _ => None,
    };
    let Some(stats) = stats else {
        c.reply.error(
            "ERR The value stored at the specified key is not represented using an hash table",
        );
        return;
    };
    c.reply.bulk(stats.as_bytes());
}

/// DEBUG POPULATE count [prefix] [size]: keys prefix:N holding "value:N"
/// (padded with zero bytes, or cut, to `size`); existing keys are left alone.
/// As Redis, this does not propagate.
fn populate(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(count) = parse_i64(&argv[2]).filter(|n| *n >= 0) else {
        c.reply.error(errors::OUT_OF_RANGE_POSITIVE);
        return;
    };
    let prefix = argv.get(3).cloned().unwrap_or_else(|| b"key".to_vec());
    let size = match argv.get(4).map(|a| parse_i64(a)) {
        None => None,
        Some(Some(n)) if n >= 0 => Some(n as usize),
        Some(_) => {
            c.reply.error(errors::OUT_OF_RANGE_POSITIVE);
            return;
        }
    };
    let db = c.db;
    for j in 0..count {
        let mut key = prefix.clone();
        key.push(b':');
        key.extend_from_slice(j.to_string().as_bytes());
        if srv.dbs[db].get(&key).is_some() {
            continue;
        }
        let text = format!("value:{}", j).into_bytes();
        let value = match size {
            None => text,
            Some(n) => {
                let mut v = vec![0u8; n];
                let k = n.min(text.len());
                v[..k].copy_from_slice(&text[..k]);
                v
            }
        };
        srv.dbs[db].set(&key, crate::server::types::Value::Str(value), false);
    }
    c.reply.ok();
}

/// DEBUG RELOAD: save, then load the file back (what a restart would do).
/// DEBUG LOADAOF: flushes the AOF, then empties the dataset and loads the
/// AOF folder again (Redis exits when that fails, so does this).
fn loadaof(srv: &mut Server, c: &mut Client) {
    if crate::server::aof::startup::debug_loadaof(srv).is_err() {
        std::process::exit(1);
    }
    c.reply.ok();
}

fn reload(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let (mut save, mut flush, mut merge) = (true, true, false);
    for opt in &argv[2..] {
        match opt.to_ascii_lowercase().as_slice() {
            b"merge" => merge = true,
            b"noflush" => flush = false,
            b"nosave" => save = false,
            _ => {
                c.reply
                    .error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
                return;
            }
        }
    }
    if save {
        if let Err(e) = crate::server::rdb::save(srv) {
            c.reply
                .error(&format!("ERR Error trying to save the DB: {}", e));
            return;
        }
    }
    match crate::server::rdb::reload(srv, flush, merge) {
        Ok(()) => {
            crate::server::log::warning("DB reloaded by DEBUG RELOAD");
            c.reply.ok()
        }
        Err(e) => {
            crate::server::log::warning(&format!("DEBUG RELOAD failed: {}", e));
            c.reply.error("ERR Error trying to load the RDB dump")
        }
    }
}
