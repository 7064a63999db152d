//! The command table and the one path every command takes: lookup, arity,
//! authentication, the checks Redis makes before running a command (read-only
//! replica, min-replicas, pub/sub context, pause, MULTI queueing), then `call`,
//! which runs the handler and feeds what it changed to the replication stream.
//!
//! Each command family lives in its own module and exports a `COMMANDS` table.

pub mod connection;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod server_admin;
pub mod sets;
pub mod strings;
pub mod transactions;
pub mod zsets;

use crate::server::client::{Blocked, Client, ClientKind, ReplyMode};
use crate::server::state::{CmdStat, PauseKind, Server};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A command handler: runs one command for client `c` with arguments `argv`
/// (argv[0] is the command name), writing its reply into `c.reply`.
pub type Handler = fn(&mut Server, &mut Client, &[Vec<u8>]);

// Command flags (Redis's CMD_*). COMMAND INFO prints their names.
pub const WRITE: u64 = 1 << 0;
pub const READONLY: u64 = 1 << 1;
pub const DENYOOM: u64 = 1 << 2;
pub const ADMIN: u64 = 1 << 3;
pub const PUBSUB: u64 = 1 << 4;
pub const NOSCRIPT: u64 = 1 << 5;
pub const BLOCKING: u64 = 1 << 6;
pub const LOADING: u64 = 1 << 7;
pub const STALE: u64 = 1 << 8;
pub const SKIP_MONITOR: u64 = 1 << 9;
pub const SKIP_SLOWLOG: u64 = 1 << 10;
pub const FAST: u64 = 1 << 11;
pub const NO_AUTH: u64 = 1 << 12;
pub const MAY_REPLICATE: u64 = 1 << 13;
pub const NO_MULTI: u64 = 1 << 14;
pub const ALLOW_BUSY: u64 = 1 << 15;
pub const NO_MANDATORY_KEYS: u64 = 1 << 16;
pub const SENTINEL: u64 = 1 << 17;

const FLAG_NAMES: &[(u64, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (MAY_REPLICATE, "may_replicate"),
    (NO_MULTI, "no_multi"),
    (ALLOW_BUSY, "allow_busy"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
];

/// One entry of the command table.
#[derive(Debug)]
pub struct Command {
    /// Lower-case name; subcommands are named `parent|sub`.
    pub name: &'static str,
    /// Redis's arity: N means exactly N arguments (with the name), -N at least N.
    pub arity: i32,
    /// Command group as COMMAND DOCS reports it ("string", "generic", ...).
    pub group: &'static str,
    pub flags: u64,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub handler: Handler,
    pub subcommands: &'static [Command],
}

/// Builds a table entry (const, so family tables are plain statics).
#[allow(clippy::too_many_arguments)]
pub const fn cmd(
    name: &'static str,
    arity: i32,
    group: &'static str,
    flags: u64,
    first_key: i32,
    last_key: i32,
    step: i32,
    handler: Handler,
) -> Command {
    Command {
        name,
        arity,
        group,
        flags,
        first_key,
        last_key,
        step,
        handler,
        subcommands: &[],
    }
}

/// A container command (CONFIG, CLIENT...) whose subcommands have their own entries.
pub const fn container(
    name: &'static str,
    arity: i32,
    group: &'static str,
    flags: u64,
    subs: &'static [Command],
) -> Command {
    Command {
        name,
        arity,
        group,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        handler: container_help,
        subcommands: subs,
    }
}

fn container_help(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    c.reply.error(&format!(
        "unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(argv.get(1).map(|v| &v[..]).unwrap_or(b"")),
        String::from_utf8_lossy(&argv[0]).to_uppercase()
    ));
}

impl Command {
    pub fn flag_names(&self) -> Vec<&'static str> {
        FLAG_NAMES
            .iter()
            .filter(|(f, _)| self.flags & f != 0)
            .map(|(_, n)| *n)
            .collect()
    }

    pub fn is_write(&self) -> bool {
        self.flags & WRITE != 0
    }

    /// ACL categories, derived from the flags and the group as Redis does.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.flags & WRITE != 0 {
            v.push("@write");
        }
        if self.flags & READONLY != 0 {
            v.push("@read");
        }
        match self.group {
            "string" => v.push("@string"),
            "list" => v.push("@list"),
            "hash" => v.push("@hash"),
            "set" => v.push("@set"),
            "sorted-set" => v.push("@sortedset"),
            "generic" => v.push("@keyspace"),
            "connection" => v.push("@connection"),
            "pubsub" => v.push("@pubsub"),
            "transactions" => v.push("@transaction"),
            _ => {}
        }
        if self.flags & ADMIN != 0 {
            v.push("@admin");
            v.push("@dangerous");
        }
        if self.flags & FAST != 0 {
            v.push("@fast");
        } else {
            v.push("@slow");
        }
        if self.flags & BLOCKING != 0 {
            v.push("@blocking");
        }
        v
    }

    /// The key positions of this invocation (COMMAND GETKEYS).
    pub fn key_positions(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 {
            return Vec::new();
        }
        let last = if self.last_key < 0 {
            argc as i32 + self.last_key
        } else {
            self.last_key
        };
        let mut v = Vec::new();
        let mut i = self.first_key;
        while i <= last && (i as usize) < argc {
            v.push(i as usize);
            i += self.step.max(1);
        }
        v
    }
}

/// All top-level commands, by lower-case name.
pub fn table() -> &'static HashMap<&'static str, &'static Command, crate::server::util::FxBuild> {
    static TABLE: OnceLock<HashMap<&'static str, &'static Command, crate::server::util::FxBuild>> =
        OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = HashMap::default();
        for family in [
            connection::COMMANDS,
            strings::COMMANDS,
            keys::COMMANDS,
            server_admin::COMMANDS,
            hashes::COMMANDS,
            lists::COMMANDS,
            sets::COMMANDS,
            zsets::COMMANDS,
            transactions::COMMANDS,
            pubsub::COMMANDS,
            persistence::COMMANDS,
            replication::COMMANDS,
        ] {
            for c in family {
                t.insert(c.name, c);
            }
        }
        t
    })
}

/// Looks up a command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    for (i, b) in name.iter().enumerate() {
        buf[i] = b.to_ascii_lowercase();
    }
    let s = std::str::from_utf8(&buf[..name.len()]).ok()?;
    table().get(s).copied()
}

/// Resolves `argv` to the command (or subcommand) that will run, or the error
/// reply Redis gives (unknown command, unknown subcommand, wrong arity).
pub fn resolve(argv: &[Vec<u8>]) -> Result<&'static Command, String> {
    let Some(cmd) = lookup(&argv[0]) else {
        let mut args = String::new();
        for a in argv[1..].iter() {
            if args.len() >= 128 {
                break;
            }
            let s = String::from_utf8_lossy(a);
            let room = 128 - args.len();
            args.push_str(&format!("'{}' ", s.chars().take(room).collect::<String>()));
        }
        let name: String = String::from_utf8_lossy(&argv[0])
            .chars()
            .take(128)
            .collect();
        return Err(format!(
            "ERR unknown command '{}', with args beginning with: {}",
            name, args
        ));
    };
    let cmd = if !cmd.subcommands.is_empty() && argv.len() >= 2 {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        match cmd
            .subcommands
            .iter()
            .find(|s| s.name.split('|').nth(1) == Some(sub.as_str()))
        {
            Some(s) => s,
            None => {
                return Err(format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    String::from_utf8_lossy(&argv[1])
                        .chars()
                        .take(128)
                        .collect::<String>(),
                    cmd.name.to_uppercase()
                ))
            }
        }
    } else {
        cmd
    };
    let argc = argv.len() as i32;
    if (cmd.arity > 0 && cmd.arity != argc) || argc < -cmd.arity {
        return Err(format!(
            "ERR wrong number of arguments for '{}' command",
            cmd.name
        ));
    }
    Ok(cmd)
}

/// Commands a client in MULTI runs at once instead of queueing.
fn runs_in_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Processes one request from client `c`: checks, MULTI queueing or execution,
/// then serves clients blocked on keys this command fed.
pub fn process_command(srv: &mut Server, c: &mut Client, argv: Vec<Vec<u8>>) {
    let reply_start = c.reply.len();
    let cmd = match resolve(&argv) {
        Ok(cmd) => cmd,
        Err(e) => {
            reject(srv, c, None, &e);
            finish_reply_mode(c, reply_start);
            return;
        }
    };
    if let Err(e) = precheck(srv, c, cmd, &argv) {
        reject(srv, c, Some(cmd), &e);
        finish_reply_mode(c, reply_start);
        return;
    }
    // CLIENT PAUSE postpones the command (and everything after it from this client).
    if is_paused_for(srv, c, cmd) {
        c.blocked = Some(Blocked::Paused { argv });
        return;
    }
    if c.multi.is_some() && !runs_in_multi(cmd.name) {
        if cmd.flags & NO_MULTI != 0 {
            reject(
                srv,
                c,
                Some(cmd),
                "ERR Command not allowed inside a transaction",
            );
            return;
        }
        c.multi.as_mut().expect("in multi").push(argv);
        c.reply.simple("QUEUED");
        return;
    }
    call(srv, c, cmd, &argv);
    finish_reply_mode(c, reply_start);
    if !srv.ready_keys.is_empty() {
        serve_blocked_clients(srv, c.id);
    }
}

/// CLIENT REPLY OFF/SKIP: drop what this command replied.
fn finish_reply_mode(c: &mut Client, reply_start: usize) {
    match c.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => c.reply.truncate(reply_start),
        ReplyMode::Skip => c.reply_mode = ReplyMode::SkipNext,
        ReplyMode::SkipNext => {
            c.reply.truncate(reply_start);
            c.reply_mode = ReplyMode::On;
        }
    }
}

fn reject(srv: &mut Server, c: &mut Client, cmd: Option<&Command>, err: &str) {
    if c.multi.is_some() {
        c.multi_error = true;
    }
    if let Some(cmd) = cmd {
        srv.cmd_stats
            .entry(cmd as *const Command as usize)
            .or_insert((cmd.name, CmdStat::default()))
            .1
            .rejected_calls += 1;
    }
    error_reply(srv, c, err);
}

/// Writes an error reply and counts it in INFO errorstats.
pub fn error_reply(srv: &mut Server, c: &mut Client, err: &str) {
    c.reply.error(err);
    count_error(srv, err);
}

fn count_error(srv: &mut Server, err: &str) {
    let code = err.split(' ').next().unwrap_or("ERR");
    let code = if code.bytes().all(|b| b.is_ascii_uppercase()) && !code.is_empty() {
        code
    } else {
        "ERR"
    };
    *srv.err_stats.entry(code.to_string()).or_insert(0) += 1;
    srv.stats.total_error_replies += 1;
}

/// The checks Redis's processCommand makes before running (or queueing) a command.
fn precheck(
    srv: &mut Server,
    c: &mut Client,
    cmd: &Command,
    argv: &[Vec<u8>],
) -> Result<(), String> {
    if srv.config.requirepass.is_some() && !c.authenticated && cmd.flags & NO_AUTH == 0 {
        return Err("NOAUTH Authentication required.".into());
    }
    let is_write = cmd.is_write() || (cmd.name == "exec" && multi_has_write(c));
    let from_master = c.kind == ClientKind::Master;
    if srv.config.maxmemory > 0 && !from_master {
        let may_grow = cmd.flags & DENYOOM != 0
            || (cmd.name == "exec"
                && c.multi.as_ref().is_some_and(|q| {
                    q.iter()
                        .any(|a| lookup(&a[0]).is_some_and(|k| k.flags & DENYOOM != 0))
                }));
        if !crate::server::evict::make_room(srv) && may_grow {
            return Err(crate::server::evict::OOM_ERROR.into());
        }
    }
    if srv.config.stop_writes_on_bgsave_error
        && is_write
        && !from_master
        && !srv.is_replica()
        && !srv.config.save_params.is_empty()
        && crate::server::rdb::last_bgsave_failed(srv)
    {
        return Err("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.".into());
    }
    if is_write && !from_master && !srv.is_replica() && srv.config.min_replicas_to_write > 0 {
        let good = srv.good_replicas();
        if good < srv.config.min_replicas_to_write as usize {
            return Err("NOREPLICAS Not enough good replicas to write.".into());
        }
    }
    if srv.is_replica() && srv.config.replica_read_only && !from_master && cmd.is_write() {
        return Err("READONLY You can't write against a read only replica.".into());
    }
    if c.in_pubsub_context()
        && !matches!(
            cmd.name,
            "ping"
                | "subscribe"
                | "ssubscribe"
                | "unsubscribe"
                | "sunsubscribe"
                | "psubscribe"
                | "punsubscribe"
                | "quit"
                | "reset"
        )
    {
        return Err(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            cmd.name
        ));
    }
    if srv.is_replica()
        && !srv.config.replica_serve_stale_data
        && !srv.master_link_up()
        && cmd.flags & STALE == 0
        && !from_master
    {
        return Err(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
                .into(),
        );
    }
    if srv.loading && cmd.flags & LOADING == 0 {
        return Err("LOADING Redis is loading the dataset in memory".into());
    }
    let _ = argv;
    Ok(())
}

fn multi_has_write(c: &Client) -> bool {
    c.multi.as_ref().is_some_and(|q| {
        q.iter()
            .any(|a| lookup(&a[0]).is_some_and(|k| k.is_write()))
    })
}

fn is_paused_for(srv: &Server, c: &Client, cmd: &Command) -> bool {
    if srv.pause == PauseKind::None || c.kind != ClientKind::Normal {
        return false;
    }
    if srv.pause_until_ms <= crate::server::util::now_ms() {
        return false;
    }
    match srv.pause {
        PauseKind::All => !matches!(cmd.name, "client|unpause"),
        PauseKind::Write => {
            cmd.is_write()
                || cmd.flags & MAY_REPLICATE != 0
                || (cmd.name == "exec" && multi_has_write(c))
        }
        PauseKind::None => false,
    }
}

/// Runs a command and propagates its effects. Used by `process_command`, EXEC and
/// the replica applying its master's stream.
pub fn call(srv: &mut Server, c: &mut Client, cmd: &Command, argv: &[Vec<u8>]) {
    // One clock read per command: the end of the previous command (or the
    // read the connection made before this batch) is this one's start, and the
    // command-time snapshot used for expiry.
    let start_us = crate::server::util::command_time_us();
    let dirty_before = srv.dirty;
    let mark = srv.begin_call();
    let errors_before = c.reply.errors;
    let db_before = c.db;
    c.last_cmd = cmd.name;

    (cmd.handler)(srv, c, argv);
    if !srv.detached_dirty_cas.is_empty() {
        if srv.detached_dirty_cas.contains(&c.id) {
            c.dirty_cas = true;
        }
        srv.detached_dirty_cas.clear();
    }

    let usec = (crate::server::util::tick() - start_us).max(0) as u64;
    let failed = c.reply.errors > errors_before;
    let st = &mut srv
        .cmd_stats
        .entry(cmd as *const Command as usize)
        .or_insert((cmd.name, CmdStat::default()))
        .1;
    st.calls += 1;
    st.usec += usec;
    if failed {
        st.failed_calls += 1;
        srv.stats.total_error_replies += c.reply.errors - errors_before;
        // errorstats: count by code of the last error written.
        if let Some(code) = last_error_code(&c.reply.buf) {
            *srv.err_stats.entry(code).or_insert(0) += 1;
        }
    }
    srv.stats.total_commands_processed += 1;

    // Propagation: by default a write that changed something goes out verbatim,
    // after what it queued on the way. The master's stream is proxied verbatim
    // by the replica link instead.
    let changed = cmd.is_write() && srv.dirty > dirty_before;
    srv.end_call(mark, db_before, argv, changed, c.kind == ClientKind::Master);

    if !srv.monitors.is_empty() && cmd.flags & (SKIP_MONITOR | ADMIN) == 0 {
        feed_monitors(srv, c, db_before, argv);
    }
    if usec as i64 >= srv.config.slowlog_log_slower_than
        && srv.config.slowlog_log_slower_than >= 0
        && cmd.flags & SKIP_SLOWLOG == 0
    {
        server_admin::slowlog_push(srv, c, argv, usec);
    }
}

fn last_error_code(buf: &[u8]) -> Option<String> {
    let start = buf.iter().rposition(|&b| b == b'-')?;
    let rest = &buf[start + 1..];
    let end = rest.iter().position(|&b| b == b' ' || b == b'\r')?;
    let code = std::str::from_utf8(&rest[..end]).ok()?;
    if !code.is_empty() && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Some(code.to_string())
    } else {
        None
    }
}

/// MONITOR output: `+<time> [<db> <addr>] "arg" ...`.
fn feed_monitors(srv: &mut Server, c: &Client, db: usize, argv: &[Vec<u8>]) {
    let now = crate::server::util::now_us();
    let who = match c.kind {
        ClientKind::Master => "master".to_string(),
        _ => c.addr.clone(),
    };
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now / 1_000_000,
        now % 1_000_000,
        db,
        who
    );
    for a in argv {
        line.push(' ');
        line.push_str(&crate::server::util::repr(a));
    }
    line.push_str("\r\n");
    for id in srv.monitors.clone() {
        if id == c.id {
            continue;
        }
        srv.push_to(id, |r| r.raw(line.as_bytes()));
    }
}

/// Whether a blocking command must answer at once instead of blocking: inside
/// MULTI/EXEC, or when it comes from our master.
pub fn cannot_block(srv: &Server, c: &Client) -> bool {
    srv.in_exec || c.kind == ClientKind::Master
}

/// Looks `key` up for reading and checks its type: Ok(true) when it holds a value
/// for which `is` holds, Ok(false) when it does not exist, Err after replying
/// WRONGTYPE.
pub(crate) fn check_read_type(
    srv: &mut Server,
    c: &mut Client,
    key: &[u8],
    is: fn(&crate::server::types::Value) -> bool,
) -> Result<bool, ()> {
    match srv.lookup_read(c, key).map(|e| is(&e.value)) {
        None => Ok(false),
        Some(true) => Ok(true),
        Some(false) => {
            c.reply.error(crate::server::types::WRONGTYPE);
            Err(())
        }
    }
}

/// Parses `numkeys key... WHERE [COUNT n]` of LMPOP/ZMPOP and their blocking
/// forms, starting at argv[first]; `side` reads WHERE (LEFT|RIGHT, MIN|MAX).
/// Replies Redis's error and returns None when an argument is bad.
pub fn parse_mpop<D>(
    c: &mut Client,
    argv: &[Vec<u8>],
    first: usize,
    side: fn(&[u8]) -> Option<D>,
) -> Option<(Vec<Vec<u8>>, D, usize)> {
    let numkeys = match crate::server::util::parse_i64(&argv[first]) {
        Some(n) if n > 0 => n as usize,
        _ => {
            c.reply.error("ERR numkeys should be greater than 0");
            return None;
        }
    };
    let keys_end = first + 1 + numkeys;
    if keys_end >= argv.len() {
        c.reply.error("ERR syntax error");
        return None;
    }
    let Some(d) = side(&argv[keys_end]) else {
        c.reply.error("ERR syntax error");
        return None;
    };
    let mut count = 1usize;
    let rest = &argv[keys_end + 1..];
    match rest.len() {
        0 => {}
        2 if rest[0].eq_ignore_ascii_case(b"count") => {
            match crate::server::util::parse_i64(&rest[1]) {
                Some(n) if n > 0 => count = n as usize,
                _ => {
                    c.reply.error("ERR count should be greater than 0");
                    return None;
                }
            }
        }
        _ => {
            c.reply.error("ERR syntax error");
            return None;
        }
    }
    Some((argv[first + 1..keys_end].to_vec(), d, count))
}

/// Blocks client `c` on keys (BLPOP and friends). The command is run again when a
/// key gets data; `timeout_ms` 0 blocks forever.
pub fn block_on_keys(
    srv: &mut Server,
    c: &mut Client,
    keys: Vec<Vec<u8>>,
    timeout_ms: i64,
    argv: &[Vec<u8>],
) {
    let deadline_ms = if let Some(d) = srv_reprocess_deadline(srv) {
        d
    } else if timeout_ms > 0 {
        crate::server::util::now_ms() + timeout_ms
    } else {
        0
    };
    for k in &keys {
        srv.blocking_keys
            .entry((c.db, k.clone()))
            .or_default()
            .push_back(c.id);
    }
    c.blocked = Some(Blocked::Keys {
        db: c.db,
        keys,
        argv: argv.to_vec(),
        deadline_ms,
    });
}

thread_local! {
    static REPROCESS_DEADLINE: std::cell::Cell<Option<i64>> = const { std::cell::Cell::new(None) };
}

fn srv_reprocess_deadline(_srv: &Server) -> Option<i64> {
    REPROCESS_DEADLINE.with(|d| d.get())
}

/// Removes a client from the blocking tables (served, timed out, killed).
pub fn unblock(srv: &mut Server, c: &mut Client) {
    if let Some(Blocked::Keys { db, keys, .. }) = &c.blocked {
        for k in keys {
            let slot = (*db, k.clone());
            if let Some(q) = srv.blocking_keys.get_mut(&slot) {
                q.retain(|&id| id != c.id);
                if q.is_empty() {
                    srv.blocking_keys.remove(&slot);
                }
            }
        }
    }
    c.blocked = None;
}

/// Serves clients blocked on keys that got data, in the order they blocked, by
/// running their command again (Redis 7's approach). `current` is the client that
/// is executing (not in the client table).
pub fn serve_blocked_clients(srv: &mut Server, current: u64) {
    let mut guard = 0;
    while !srv.ready_keys.is_empty() && guard < 100_000 {
        guard += 1;
        let ready = std::mem::take(&mut srv.ready_keys);
        for (db, key) in ready {
            loop {
                if !srv.dbs[db].keys.contains_key(&key) {
                    break;
                }
                let Some(id) = srv
                    .blocking_keys
                    .get(&(db, key.clone()))
                    .and_then(|q| q.front().copied())
                else {
                    break;
                };
                if id == current {
                    break;
                }
                let Some(mut bc) = srv.clients.remove(&id) else {
                    if let Some(q) = srv.blocking_keys.get_mut(&(db, key.clone())) {
                        q.pop_front();
                    }
                    continue;
                };
                let (argv, deadline) = match &bc.blocked {
                    Some(Blocked::Keys {
                        argv, deadline_ms, ..
                    }) => (argv.clone(), *deadline_ms),
                    _ => {
                        srv.clients.insert(id, bc);
                        break;
                    }
                };
                unblock(srv, &mut bc);
                let saved_db = bc.db;
                bc.db = db;
                REPROCESS_DEADLINE.with(|d| d.set(Some(deadline)));
                if let Ok(cmd) = resolve(&argv) {
                    call(srv, &mut bc, cmd, &argv);
                }
                REPROCESS_DEADLINE.with(|d| d.set(None));
                bc.db = saved_db;
                let still_blocked = bc.blocked.is_some();
                bc.wake();
                srv.clients.insert(id, bc);
                if still_blocked {
                    // Nothing left for it: keep its place at the front and stop.
                    if let Some(q) = srv.blocking_keys.get_mut(&(db, key.clone())) {
                        if let Some(pos) = q.iter().position(|&x| x == id) {
                            q.remove(pos);
                            q.push_front(id);
                        }
                    }
                    break;
                }
            }
        }
    }
}

/// A blocked client's deadline passed: reply as Redis does and unblock it.
pub fn block_timed_out(srv: &mut Server, c: &mut Client) {
    match c.blocked.clone() {
        Some(Blocked::Keys { .. }) => {
            unblock(srv, c);
            c.reply.null_array();
        }
        Some(Blocked::Wait {
            numreplicas: _,
            offset,
            ..
        }) => {
            c.blocked = None;
            let n = srv.replicas_acked(offset);
            c.reply.int(n as i64);
        }
        Some(Blocked::Paused { .. }) | Some(Blocked::Shutdown) | None => {}
    }
}

/// The deadline (ms) of a blocked client, if it has one.
pub fn block_deadline(c: &Client) -> Option<i64> {
    match &c.blocked {
        Some(Blocked::Keys { deadline_ms, .. }) | Some(Blocked::Wait { deadline_ms, .. })
            if *deadline_ms > 0 =>
        {
            Some(*deadline_ms)
        }
        _ => None,
    }
}

/// Parses a blocking timeout argument (seconds, may be fractional) like Redis.
pub fn parse_timeout(arg: &[u8]) -> Result<i64, String> {
    let v =
        crate::server::util::parse_f64(arg).ok_or("ERR timeout is not a float or out of range")?;
    if v < 0.0 {
        return Err("ERR timeout is negative".into());
    }
    if v > (i64::MAX / 1000) as f64 {
        return Err("ERR timeout is out of range".into());
    }
    Ok((v * 1000.0).ceil() as i64)
}

/// DEBUG subcommands owned by other parts of the server (RELOAD by persistence,
/// DIGEST and DIGEST-VALUE by replication). Returns false if `argv[1]` is not one.
pub fn debug_extension(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) -> bool {
    use crate::server::replication::digest;
    let sub = argv[1].to_ascii_lowercase();
    match &sub[..] {
        b"digest" if argv.len() == 2 => {
            let d = digest::dataset_digest(&srv.dbs);
            c.reply.simple(&digest::hex(&d));
        }
        b"digest-value" => {
            c.reply.array(argv.len() - 2);
            for k in &argv[2..] {
                let d = digest::value_digest(srv.dbs[c.db].get(k));
                c.reply.simple(&digest::hex(&d));
            }
        }
        b"populate" if argv.len() >= 3 && argv.len() <= 5 => {
            // DEBUG POPULATE count [prefix] [size]: keys prefix:N holding
            // "value:N" (padded with zero bytes, or cut, to `size`); existing
            // keys are left alone. As Redis, this does not propagate.
            let Some(count) = crate::server::util::parse_i64(&argv[2]).filter(|n| *n >= 0) else {
                c.reply.error("ERR value is out of range, must be positive");
                return true;
            };
            let prefix = argv.get(3).cloned().unwrap_or_else(|| b"key".to_vec());
            let size = match argv.get(4).map(|a| crate::server::util::parse_i64(a)) {
                None => None,
                Some(Some(n)) if n >= 0 => Some(n as usize),
                Some(_) => {
                    c.reply.error("ERR value is out of range, must be positive");
                    return true;
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
        b"reload" => {
            // Save, then load the file back (what a restart would do).
            if let Err(e) = crate::server::rdb::save(srv) {
                c.reply
                    .error(&format!("ERR Error trying to save the DB: {}", e));
                return true;
            }
            match crate::server::rdb::load_on_startup(srv) {
                Ok(()) => c.reply.ok(),
                Err(e) => c
                    .reply
                    .error(&format!("ERR Error trying to load the RDB dump: {}", e)),
            }
        }
        _ => return false,
    }
    true
}
