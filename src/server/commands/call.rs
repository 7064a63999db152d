//! The path every request takes (Redis's processCommand and call): the checks
//! made before a command runs or is queued (authentication, read-only replica,
//! min-replicas, maxmemory, pub/sub context, loading, CLIENT PAUSE, MULTI
//! queueing), then `call`, which runs the handler, keeps the statistics, ends
//! the command's propagation unit, and feeds MONITOR and the slowlog.

use super::blocking::serve_blocked_clients;
use super::table::*;
use crate::server::client::{Blocked, Client, ClientKind, ReplyMode};
use crate::server::state::{PauseKind, Server};

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
    let outer = srv.tracking.current.replace(c.id);
    srv.clients.sync_lent(c);
    let name = process(srv, c, argv);
    crate::server::tracking::after_command(srv, c, name);
    // Invalidations produced for this client while it ran follow its reply.
    srv.clients.take_deferred(c);
    srv.tracking.current = outer;
}

/// `process_command` for the client set as the current one; returns the
/// name of the command it resolved to, if any.
fn process(srv: &mut Server, c: &mut Client, argv: Vec<Vec<u8>>) -> Option<&'static str> {
    // Push marks left by output written outside a command are stale.
    c.reply.forget_pushes();
    let mut reply_start = c.reply.len();
    let cmd = match resolve(&argv) {
        Ok(cmd) => cmd,
        Err(e) => {
            // A known command with the wrong arity counts as its rejected call
            // (an unknown command or subcommand has nothing to count against).
            let known = lookup_exact(&argv);
            reject(srv, c, known, &e);
            finish_reply_mode(c, reply_start);
            return None;
        }
    };
    let checked = precheck(srv, c, cmd, &argv);
    if checked.is_ok() && !srv.tracking.clients.is_empty() {
        crate::server::tracking::limit_used_slots(srv);
    }
    // Invalidations for keys evicted (or dropped from the tracking table)
    // before the command come before its reply, as in Redis.
    srv.clients.take_deferred(c);
    reply_start = reply_start.max(c.reply.len());
    if let Err(e) = checked {
        reject(srv, c, Some(cmd), &e);
        finish_reply_mode(c, reply_start);
        return Some(cmd.name);
    }
    // CLIENT PAUSE postpones the command (and everything after it from this client).
    if is_paused_for(srv, c, cmd, &argv) {
        c.blocked = Some(Blocked::Paused {
            argv,
            raw: Vec::new(),
        });
        return Some(cmd.name);
    }
    if c.multi.is_some() && !runs_in_multi(cmd.name) {
        if cmd.flags & NO_MULTI != 0 {
            reject(
                srv,
                c,
                Some(cmd),
                "ERR Command not allowed inside a transaction",
            );
            return Some(cmd.name);
        }
        c.multi.as_mut().expect("in multi").push(argv);
        c.reply.simple("QUEUED");
        return Some(cmd.name);
    }
    call(srv, c, cmd, &argv);
    finish_reply_mode(c, reply_start);
    // A command served while a busy script runs leaves blocked clients alone: the
    // script's writes are not done yet, the script's own command serves them after.
    if crate::server::scripting::redis_lib::script_running() {
        return Some(cmd.name);
    }
    if !srv.blocking_keys.is_empty() && (cmd.is_write() || cmd.name == "exec") {
        super::blocking::unblock_gone_stream_readers(srv);
    }
    if !srv.ready_keys.is_empty() {
        serve_blocked_clients(srv);
    }
    Some(cmd.name)
}

/// CLIENT REPLY OFF/SKIP: drop what this command replied, except the
/// pushes it sent itself (pub/sub confirmations and messages), which Redis
/// writes whatever the reply mode.
fn finish_reply_mode(c: &mut Client, reply_start: usize) {
    match c.reply_mode {
        ReplyMode::On => c.reply.forget_pushes(),
        ReplyMode::Off => c.reply.drop_since(reply_start),
        ReplyMode::Skip => {
            c.reply.forget_pushes();
            c.reply_mode = ReplyMode::SkipNext;
        }
        ReplyMode::SkipNext => {
            c.reply.drop_since(reply_start);
            c.reply_mode = ReplyMode::On;
        }
    }
}

/// Replies with an error for a command refused before running (unknown command, failed
/// precheck, not allowed in MULTI). Inside MULTI it flags the transaction so EXEC answers
/// EXECABORT, as Redis does; a known command also counts as a rejected call in its stats.
/// EXEC itself refused (a read-only replica, min-replicas...) discards the transaction
/// and says why (Redis's execCommandAbort).
pub fn reject(srv: &mut Server, c: &mut Client, cmd: Option<&Command>, err: &str) {
    if c.multi.is_some() {
        c.multi_error = true;
    }
    if let Some(cmd) = cmd {
        srv.cmd_stats.entry(cmd.name).or_default().rejected_calls += 1;
        if cmd.name == "exec" && c.multi.is_some() {
            super::transactions::discard_transaction(srv, c);
            let err = err.strip_prefix('-').unwrap_or(err);
            error_reply(
                srv,
                c,
                &format!("EXECABORT Transaction discarded because of: {}", err),
            );
            return;
        }
    }
    error_reply(srv, c, err);
}

/// Writes an error reply and counts it in INFO errorstats.
pub fn error_reply(srv: &mut Server, c: &mut Client, err: &str) {
    c.reply.error(err);
    count_error(srv, err);
    c.reply.accounted = c.reply.errors;
}

/// Counts an error reply in INFO errorstats under its code (the leading all-uppercase word,
/// "ERR" otherwise) and in `total_error_replies`.
pub fn count_error(srv: &mut Server, err: &str) {
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
    if !c.authenticated && cmd.flags & NO_AUTH == 0 && srv.acl.auth_required() {
        return Err("NOAUTH Authentication required.".into());
    }
    if let Err(denied) = crate::server::acl::check(srv, c, cmd, argv) {
        let context = if c.multi.is_some() {
            "multi"
        } else {
            "toplevel"
        };
        crate::server::acl::log_denied(srv, c, cmd, argv, denied, context);
        return Err(crate::server::acl::noperm_text(denied.0, cmd));
    }
    // Scripts and functions with declared flags are checked by those flags.
    let flags = if cmd.group == "scripting" {
        super::scripting::command_flags(srv, cmd, argv)
    } else {
        cmd.flags
    };
    // EXEC is checked with the flags of what it runs, as Redis: any of them
    // writing or growing memory, any of them not allowed stale or loading.
    let (queued_any, queued_missing) = if cmd.name == "exec" {
        queued_flags(srv, c)
    } else {
        (0, 0)
    };
    let is_write = flags & WRITE != 0 || queued_any & WRITE != 0;
    let from_master = c.kind == ClientKind::Master;
    if srv.config.maxmemory > 0 && !from_master {
        let may_grow = flags & DENYOOM != 0 || queued_any & DENYOOM != 0;
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
    if (is_write || cmd.name == "ping") && !from_master {
        if let Some(e) = crate::server::aof::write_error(srv) {
            return Err(format!("MISCONF Errors writing to the AOF file: {}", e));
        }
    }
    if is_write && !from_master && !srv.is_replica() && srv.config.min_replicas_to_write > 0 {
        let good = srv.good_replicas();
        if good < srv.config.min_replicas_to_write as usize {
            return Err("NOREPLICAS Not enough good replicas to write.".into());
        }
    }
    if srv.is_replica() && srv.config.replica_read_only && !from_master && is_write {
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
        && (flags & STALE == 0 || queued_missing & STALE != 0)
        && !from_master
    {
        return Err(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
                .into(),
        );
    }
    if srv.loading && (cmd.flags & LOADING == 0 || queued_missing & LOADING != 0) {
        return Err("LOADING Redis is loading the dataset in memory".into());
    }
    Ok(())
}

/// The flags of the client's queued MULTI commands: those any of them has, and
/// those any of them lacks (Redis's mstate.cmd_flags and cmd_inv_flags). A
/// script counts by its shebang flags, as Redis's getCommandFlags.
fn queued_flags(srv: &Server, c: &Client) -> (u64, u64) {
    let (mut any, mut missing) = (0, 0);
    for a in c.multi.iter().flatten() {
        if let Ok(k) = resolve(a) {
            let f = if k.group == "scripting" {
                super::scripting::command_flags(srv, k, a)
            } else {
                k.flags
            };
            any |= f;
            missing |= !f;
        }
    }
    (any, missing)
}

/// Whether CLIENT PAUSE holds this command back: every client but our replicas (our
/// master's stream too, so a paused replica's offset stays still), and only while the
/// pause lasts. ALL pauses everything except CLIENT UNPAUSE; WRITE pauses writes,
/// commands that may replicate, and EXEC of a transaction holding a write.
fn is_paused_for(srv: &Server, c: &Client, cmd: &Command, argv: &[Vec<u8>]) -> bool {
    if srv.pause == PauseKind::None || c.kind == ClientKind::Replica {
        return false;
    }
    if srv.pause_until_ms <= crate::server::util::now_ms() {
        return false;
    }
    // A script's declared flags stand for EVAL's and FCALL's (a no-writes
    // script runs during a WRITE pause, as in Redis).
    let flags = super::scripting::command_flags(srv, cmd, argv);
    match srv.pause {
        PauseKind::All => !matches!(cmd.name, "client|unpause"),
        PauseKind::Write => {
            flags & (WRITE | MAY_REPLICATE) != 0
                || (cmd.name == "exec" && queued_flags(srv, c).0 & (WRITE | MAY_REPLICATE) != 0)
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
    let uncounted_before = c.reply.uncounted_errors;
    let db_before = c.db;
    c.last_cmd = cmd.name;

    (cmd.handler)(srv, c, argv);
    // WATCHed keys this command changed itself flag it for its next command.
    srv.clients.take_flags(c);
    // A tracking client caches what a read-only command read.
    if cmd.flags & READONLY != 0 && !srv.tracking.clients.is_empty() {
        let keys = cmd.key_positions(argv);
        crate::server::tracking::remember_keys(srv, c.id, argv, &keys);
    }

    let usec = (crate::server::util::tick() - start_us).max(0) as u64;
    // This command's own errors: not those its nested commands (EXEC's) counted,
    // and those counted where a script's command raised them fail it without
    // counting again (Redis's prev_err_count and ERR_REPLY_FLAG_NO_STATS_UPDATE).
    let own = c
        .reply
        .errors
        .saturating_sub(errors_before.max(c.reply.accounted));
    let elsewhere = (c.reply.uncounted_errors - uncounted_before).min(own);
    c.reply.accounted = c.reply.errors;
    let failed = own > 0;
    let st = srv.cmd_stats.entry(cmd.name).or_default();
    // A command that blocked is counted when it is served (Redis counts a
    // blocked command once, on unblock).
    if !matches!(c.blocked, Some(crate::server::client::Blocked::Keys { .. })) {
        st.calls += 1;
    }
    st.usec += usec;
    if srv.config.latency_tracking {
        st.hist.record(usec);
    }
    if failed {
        st.failed_calls += 1;
        if own > elsewhere {
            srv.stats.total_error_replies += own - elsewhere;
            // errorstats: count by code of the last error written.
            *srv.err_stats
                .entry(c.reply.last_error_code.clone())
                .or_insert(0) += 1;
        }
    }
    srv.stats.total_commands_processed += 1;
    let event = if cmd.flags & FAST != 0 {
        "fast-command"
    } else {
        "command"
    };
    let threshold = srv.config.latency_monitor_threshold;
    if threshold > 0 && (usec / 1000) as i64 >= threshold {
        let now_s = crate::server::util::now_ms() / 1000;
        srv.latency
            .add_if_needed(threshold, event, usec / 1000, now_s);
    }

    // Propagation: by default a write that changed something goes out verbatim,
    // after what it queued on the way. The master's stream is proxied verbatim
    // by the replica link instead: what our master sends (or an AOF replays)
    // only goes to the AOF.
    let changed = cmd.is_write() && srv.dirty > dirty_before;
    srv.end_call(mark, db_before, argv, changed, c.kind == ClientKind::Master);

    let to_monitors = !srv.monitors.is_empty() && cmd.flags & (SKIP_MONITOR | ADMIN) == 0;
    let to_slowlog = usec as i64 >= srv.config.slowlog_log_slower_than
        && srv.config.slowlog_log_slower_than >= 0
        && cmd.flags & SKIP_SLOWLOG == 0;
    if to_monitors || to_slowlog {
        let shown = redacted(argv);
        if to_monitors {
            feed_monitors(srv, c, db_before, &shown);
        }
        if to_slowlog {
            let max_len = srv.config.slowlog_max_len as usize;
            let name = c.name.as_deref().unwrap_or_default();
            srv.slowlog.push(&shown, usec, &c.addr, name, max_len);
        }
    }
}

/// Configs whose values CONFIG SET hides from MONITOR and SLOWLOG (Redis's
/// sensitive configs).
const SENSITIVE_CONFIGS: [&[u8]; 3] = [b"requirepass", b"masterauth", b"masteruser"];

/// The arguments as MONITOR and SLOWLOG may show them: secrets replaced by
/// `(redacted)` as Redis 7.0 does: every argument of AUTH, HELLO's AUTH username
/// and password, MIGRATE's AUTH password and AUTH2 username and password,
/// every argument of ACL SETUSER after the subcommand (name and rules), and
/// the value of a sensitive config in CONFIG SET.
fn redacted(argv: &[Vec<u8>]) -> std::borrow::Cow<'_, [Vec<u8>]> {
    const REDACTED: &[u8] = b"(redacted)";
    let mut hide: Vec<usize> = Vec::new();
    let is = |i: usize, w: &[u8]| argv.get(i).is_some_and(|a| a.eq_ignore_ascii_case(w));
    if is(0, b"auth") {
        hide.extend(1..argv.len());
    } else if is(0, b"hello") {
        let mut j = 2;
        while j < argv.len() {
            let more = argv.len() - j - 1;
            if is(j, b"auth") && more >= 2 {
                hide.extend([j + 1, j + 2]);
                j += 2;
            } else if is(j, b"setname") && more >= 1 {
                j += 1;
            }
            j += 1;
        }
    } else if is(0, b"migrate") {
        let mut j = 6;
        while j < argv.len() {
            if is(j, b"auth") && j + 1 < argv.len() {
                hide.push(j + 1);
                j += 1;
            } else if is(j, b"auth2") && j + 2 < argv.len() {
                hide.extend([j + 1, j + 2]);
                j += 2;
            } else if is(j, b"keys") {
                break;
            }
            j += 1;
        }
    } else if is(0, b"acl") && is(1, b"setuser") && argv.len() >= 3 {
        hide.extend(2..argv.len());
    } else if is(0, b"config") && is(1, b"set") {
        let mut j = 2;
        while j + 1 < argv.len() {
            if SENSITIVE_CONFIGS
                .iter()
                .any(|n| argv[j].eq_ignore_ascii_case(n))
            {
                hide.push(j + 1);
            }
            j += 2;
        }
    }
    if hide.is_empty() {
        return std::borrow::Cow::Borrowed(argv);
    }
    let mut v = argv.to_vec();
    for i in hide {
        v[i] = REDACTED.to_vec();
    }
    std::borrow::Cow::Owned(v)
}

/// MONITOR output: `+<time> [<db> <addr>] "arg" ...` (EVAL feeds its own line
/// first, so the script's commands follow it).
pub fn feed_monitors(srv: &mut Server, c: &Client, db: usize, argv: &[Vec<u8>]) {
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

#[cfg(test)]
mod tests {
    use super::redacted;

    fn shown(args: &[&str]) -> Vec<String> {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        redacted(&v)
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    #[test]
    fn secrets_are_redacted_as_redis_does() {
        let r = "(redacted)";
        assert_eq!(shown(&["auth", "pw"]), ["auth", r]);
        assert_eq!(shown(&["AUTH", "u", "pw"]), ["AUTH", r, r]);
        assert_eq!(
            shown(&["ACL", "setuser", "u", ">pw", "+get"]),
            ["ACL", "setuser", r, r, r]
        );
        assert_eq!(shown(&["acl", "getuser", "u"]), ["acl", "getuser", "u"]);
        assert_eq!(
            shown(&["hello", "3", "setname", "auth", "AUTH", "u", "p"]),
            ["hello", "3", "setname", "auth", "AUTH", r, r]
        );
        assert_eq!(
            shown(&["hello", "3", "auth", "u"]),
            ["hello", "3", "auth", "u"]
        );
        assert_eq!(
            shown(&["MIGRATE", "h", "1", "k", "0", "10", "COPY", "AUTH", "pw"]),
            ["MIGRATE", "h", "1", "k", "0", "10", "COPY", "AUTH", r]
        );
        assert_eq!(
            shown(&["migrate", "h", "1", "", "0", "10", "auth2", "u", "p", "keys", "auth", "b"]),
            ["migrate", "h", "1", "", "0", "10", "auth2", r, r, "keys", "auth", "b"]
        );
        assert_eq!(
            shown(&[
                "config",
                "set",
                "maxmemory",
                "1",
                "MASTERAUTH",
                "x",
                "requirepass",
                "y"
            ]),
            [
                "config",
                "set",
                "maxmemory",
                "1",
                "MASTERAUTH",
                r,
                "requirepass",
                r
            ]
        );
        assert_eq!(
            shown(&["config", "get", "requirepass"]),
            ["config", "get", "requirepass"]
        );
    }
}
