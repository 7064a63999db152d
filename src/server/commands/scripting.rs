//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis 7.0's
//! eval.c). The interpreter and the `redis` library are in `server::scripting`.
//!
//! A script's commands run through `call` as the script client, so their effects
//! join the EVAL's execution unit and replicate as a MULTI/EXEC block (or bare,
//! when there is one), as Redis 7 replicates scripts by their effects.

use super::*;
use crate::server::client::{Client, ClientKind};
use crate::server::scripting::redis_lib::{RunCtx, REPL_AOF, REPL_REPLICA, RUN};
use crate::server::scripting::{self as sc, busy, convert, ldb};
use crate::server::state::Server;
use mlua::Value;
use std::cell::RefCell;

pub static COMMANDS: &[Command] = &[
    Command::new("eval", eval)
        .arity(-3)
        .group("scripting")
        .flags(NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE),
    Command::new("evalsha", evalsha)
        .arity(-3)
        .group("scripting")
        .flags(NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE),
    Command::new("eval_ro", eval_ro)
        .arity(-3)
        .group("scripting")
        .flags(NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY),
    Command::new("evalsha_ro", evalsha_ro)
        .arity(-3)
        .group("scripting")
        .flags(NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY),
    Command::container("script", SCRIPT_SUBCOMMANDS)
        .arity(-2)
        .group("scripting"),
];

static SCRIPT_SUBCOMMANDS: &[Command] = &[
    Command::new("script|load", script_load)
        .arity(3)
        .group("scripting")
        .flags(NOSCRIPT | STALE),
    Command::new("script|exists", script_exists)
        .arity(-3)
        .group("scripting")
        .flags(NOSCRIPT),
    Command::new("script|flush", script_flush)
        .arity(-2)
        .group("scripting")
        .flags(NOSCRIPT),
    Command::new("script|kill", script_kill)
        .arity(2)
        .group("scripting")
        .flags(NOSCRIPT | ALLOW_BUSY),
    Command::new("script|debug", script_debug)
        .arity(3)
        .group("scripting")
        .flags(NOSCRIPT),
    Command::new("script|help", script_help)
        .arity(2)
        .group("scripting")
        .flags(LOADING | STALE),
];

/// EVAL script numkeys [key ...] [arg ...]: runs a Lua script (compiling and caching it
/// first) and replies with its return value converted as Redis does.
fn eval(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    eval_generic(srv, c, argv, false, false);
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]: EVAL of a cached script; NOSCRIPT if unknown.
fn evalsha(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    eval_generic(srv, c, argv, true, false);
}

/// EVAL_RO: EVAL whose script may not write (write commands fail inside it).
fn eval_ro(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    eval_generic(srv, c, argv, false, true);
}

/// EVALSHA_RO: EVALSHA whose script may not write.
fn evalsha_ro(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    eval_generic(srv, c, argv, true, true);
}

/// The flags `process_command` checks for EVAL/EVALSHA/FCALL: a script with a
/// shebang (or a function) declares whether it writes, may run out of memory or
/// on a stale replica, and those replace the command's own (Redis's
/// evalGetCommandFlags / fcallGetCommandFlags). Other commands keep theirs.
pub fn command_flags(srv: &Server, cmd: &Command, argv: &[Vec<u8>]) -> u64 {
    if cmd.group != "scripting" || argv.len() < 2 {
        return cmd.flags;
    }
    let script_flags = match cmd.name {
        "eval" | "eval_ro" => match srv.scripting.scripts.get(&sc::sha1hex(&argv[1])) {
            Some(s) => s.flags,
            None => match sc::parse_shebang(&argv[1]) {
                Ok((f, _)) => f,
                Err(_) => return cmd.flags,
            },
        },
        "evalsha" | "evalsha_ro" => {
            let sha = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
            match srv.scripting.scripts.get(&sha) {
                Some(s) => s.flags,
                None => return cmd.flags,
            }
        }
        "fcall" | "fcall_ro" => match srv
            .scripting
            .functions
            .get(&String::from_utf8_lossy(&argv[1]))
        {
            Some(f) => f.flags,
            None => return cmd.flags,
        },
        _ => return cmd.flags,
    };
    if script_flags & sc::FLAG_EVAL_COMPAT != 0 {
        return cmd.flags;
    }
    let mut flags = cmd.flags & !(STALE | DENYOOM | WRITE);
    if script_flags & (sc::FLAG_ALLOW_OOM | sc::FLAG_NO_WRITES) == 0 {
        flags |= DENYOOM;
    }
    if script_flags & sc::FLAG_NO_WRITES == 0 {
        flags |= WRITE;
    }
    if script_flags & sc::FLAG_ALLOW_STALE != 0 {
        flags |= STALE;
    }
    flags & !MAY_REPLICATE
}

const NOSCRIPT_ERR: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// Compiles and caches `body` unless cached. Returns its SHA1 or the error reply.
pub fn create_script(srv: &mut Server, body: &[u8]) -> Result<String, String> {
    let sha = sc::sha1hex(body);
    if srv.scripting.scripts.contains_key(&sha) {
        return Ok(sha);
    }
    let (flags, shebang_len) = sc::parse_shebang(body).map_err(|e| format!("ERR {}", e))?;
    let func = srv
        .scripting
        .engine
        .compile(&body[shebang_len..], "@user_script")
        .map_err(|e| format!("ERR Error compiling script (new function): {}", e))?;
    srv.scripting.scripts_mem += body.len() + 40;
    srv.scripting
        .scripts
        .insert(sha.clone(), sc::Script { flags, func });
    Ok(sha)
}

fn eval_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], evalsha: bool, ro: bool) {
    if !srv.monitors.is_empty() {
        feed_monitors(srv, c, c.db, argv);
    }
    if evalsha && argv[1].len() != 40 {
        c.reply.error(NOSCRIPT_ERR);
        return;
    }
    if c.lua_debug != ldb::Mode::Off {
        if evalsha {
            c.reply
                .error("ERR Please use EVAL instead of EVALSHA for debugging");
            return;
        }
        eval_debugging(srv, c, argv, ro);
        return;
    }
    eval_body(srv, c, argv, evalsha, ro);
}

/// EVAL of a client that asked for SCRIPT DEBUG: the script runs inside a
/// debugging session (in a forked child with YES, the parent closing its side
/// of the connection; in place with SYNC), which ends with the EVAL's reply.
fn eval_debugging(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], ro: bool) {
    if !ldb::start_session(srv, c, &argv[1]) {
        ldb::disable(c);
        return;
    }
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        eval_body(srv, c, argv, false, ro)
    }));
    if run.is_err() && ldb::in_forked_child() {
        // The child must never get back to the event loop it shares with the parent.
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(1) };
    }
    ldb::end_session(c);
    if let Err(p) = run {
        std::panic::resume_unwind(p);
    }
}

/// EVAL/EVALSHA past the monitors and the debugger: checks the arguments,
/// compiles (or finds) the script and runs it.
fn eval_body(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], evalsha: bool, ro: bool) {
    let Some(numkeys) = crate::server::util::parse_i64(&argv[2]) else {
        c.reply.error("ERR value is not an integer or out of range");
        return;
    };
    if numkeys > argv.len() as i64 - 3 {
        c.reply
            .error("ERR Number of keys can't be greater than number of args");
        return;
    }
    if numkeys < 0 {
        c.reply.error("ERR Number of keys can't be negative");
        return;
    }
    let sha = if evalsha {
        let sha = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        if !srv.scripting.scripts.contains_key(&sha) {
            c.reply.error(NOSCRIPT_ERR);
            return;
        }
        sha
    } else {
        match create_script(srv, &argv[1]) {
            Ok(s) => s,
            Err(e) => {
                c.reply.error(&e);
                return;
            }
        }
    };
    let Some(script) = srv.scripting.scripts.get(&sha) else {
        c.reply.error(NOSCRIPT_ERR);
        return;
    };
    let (func, flags) = (script.func.clone(), script.flags);
    let keys = &argv[3..3 + numkeys as usize];
    let args = &argv[3 + numkeys as usize..];
    run_script(srv, c, &func, flags, ro, &sha, keys, args, argv, true);
}

thread_local! {
    /// The client scripts run their commands as (Redis's lua_client), kept between runs.
    static SCRIPT_CLIENT: RefCell<Option<Box<Client>>> = const { RefCell::new(None) };
}

/// The checks Redis's scriptPrepareForRun makes on the script's flags.
fn prepare_checks(srv: &mut Server, c: &Client, flags: u64, ro: bool) -> Result<(), String> {
    let from_master = c.kind == ClientKind::Master;
    let running_stale =
        srv.is_replica() && !srv.master_link_up() && !srv.config.replica_serve_stale_data;
    if flags & sc::FLAG_EVAL_COMPAT != 0 {
        if running_stale {
            return Err(
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
                    .into(),
            );
        }
        return Ok(());
    }
    if running_stale && flags & sc::FLAG_ALLOW_STALE == 0 {
        return Err("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.".into());
    }
    if flags & sc::FLAG_NO_WRITES == 0 {
        if srv.is_replica() && srv.config.replica_read_only && !from_master {
            return Err("READONLY Can not run script with write flag on readonly replica".into());
        }
        if srv.config.stop_writes_on_bgsave_error
            && !srv.config.save_params.is_empty()
            && !from_master
            && crate::server::rdb::last_bgsave_failed(srv)
        {
            return Err("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".into());
        }
        if ro {
            return Err("ERR Can not execute a script with write flag using *_ro command.".into());
        }
        if !srv.is_replica()
            && srv.config.min_replicas_to_write > 0
            && srv.good_replicas() < srv.config.min_replicas_to_write as usize
        {
            return Err("NOREPLICAS Not enough good replicas to write.".into());
        }
    }
    if srv.config.maxmemory > 0
        && flags & (sc::FLAG_ALLOW_OOM | sc::FLAG_NO_WRITES) == 0
        && !from_master
        && !crate::server::evict::make_room(srv)
    {
        return Err("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'".into());
    }
    Ok(())
}

/// Runs a compiled script (EVAL or FCALL) for client `c` and writes its reply.
#[allow(clippy::too_many_arguments)]
pub fn run_script(
    srv: &mut Server,
    c: &mut Client,
    func: &mlua::Function,
    flags: u64,
    ro: bool,
    funcname: &str,
    keys: &[Vec<u8>],
    args: &[Vec<u8>],
    argv: &[Vec<u8>],
    eval_mode: bool,
) {
    if let Err(e) = prepare_checks(srv, c, flags, ro) {
        c.reply.error(&e);
        return;
    }
    let compat = flags & sc::FLAG_EVAL_COMPAT != 0;
    let oom_at_start = srv.config.maxmemory > 0
        && c.kind != ClientKind::Master
        && !crate::server::evict::make_room(srv);
    let mut script_client = SCRIPT_CLIENT
        .with(|s| s.borrow_mut().take())
        .unwrap_or_else(|| {
            let mut sc = Box::new(Client::new(
                crate::server::client::SCRIPT_CLIENT_ID,
                "lua".into(),
                String::new(),
                -1,
                true,
            ));
            sc.name = None;
            sc
        });
    script_client.db = c.db;
    script_client.reply.resp3 = false;
    script_client.reply.buf.clear();
    let engine = srv.scripting.engine.clone();
    let threshold = busy::threshold_ms(srv);
    let outer_exec = srv.in_exec;
    srv.in_exec = true;
    let ctx = RunCtx {
        srv: srv as *mut Server,
        caller: c as *mut Client,
        script_client: Some(script_client),
        read_only: ro || (!compat && flags & sc::FLAG_NO_WRITES != 0),
        allow_oom: !compat && flags & sc::FLAG_ALLOW_OOM != 0,
        write_dirty: false,
        eval_mode,
        killed: false,
        timed_out: false,
        repl_flags: REPL_AOF | REPL_REPLICA,
        start: std::time::Instant::now(),
        funcname: funcname.to_string(),
        oom_at_start,
        from_master: c.kind == ClientKind::Master,
        argv: argv as *const [Vec<u8>],
    };
    RUN.with(|r| *r.borrow_mut() = Some(ctx));
    // Time stands still for the script's keys: one that expires while it runs is
    // still there until it ends (Redis's script time snapshot).
    let unfrozen = crate::server::util::freeze_expiry_time(crate::server::util::command_time_ms());
    let result = engine.run(func, keys, args, eval_mode, threshold);
    crate::server::util::freeze_expiry_time(unfrozen);
    let ctx = RUN.with(|r| r.borrow_mut().take());
    srv.in_exec = outer_exec;
    let script_resp3 = ctx
        .as_ref()
        .and_then(|x| x.script_client.as_ref())
        .is_some_and(|s| s.reply.resp3);
    if let Some(mut s) = ctx.and_then(|x| x.script_client) {
        s.reply.buf.clear();
        SCRIPT_CLIENT.with(|slot| *slot.borrow_mut() = Some(s));
    }
    match result {
        Ok(v) => convert::lua_to_reply(&v, &mut c.reply, script_resp3, 0),
        Err(Value::Table(t)) => {
            let err: String = t
                .raw_get::<mlua::String>("err")
                .map(|s| String::from_utf8_lossy(&s.as_bytes()).into_owned())
                .unwrap_or_else(|_| "ERR unknown error".into());
            let source: Option<String> = t
                .raw_get::<Value>("source")
                .ok()
                .and_then(|v| crate::server::scripting::redis_lib::lua_tostring(&v))
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            let line: Option<String> = t
                .raw_get::<Value>("line")
                .ok()
                .and_then(|v| crate::server::scripting::redis_lib::lua_tostring(&v))
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            let msg = match (source, line) {
                (Some(s), Some(l)) => format!("{} script: {}, on {}:{}.", err, funcname, s, l),
                _ => err,
            };
            if convert::already_counted(&t) {
                c.reply.error_verbatim_uncounted(&msg);
            } else {
                c.reply.error_verbatim(&msg);
            }
        }
        Err(other) => {
            let msg = crate::server::scripting::redis_lib::lua_tostring(&other)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_else(|| "execution failure".into());
            let msg: String = msg.chars().take(100).collect();
            c.reply
                .error(&format!("ERR Error running script {}, {} ", funcname, msg));
        }
    }
    srv.scripting.runs += 1;
    if srv.scripting.runs.is_multiple_of(50) {
        engine.gc_step();
    }
}

/// SCRIPT LOAD script: compiles and caches the script without running it; replies
/// with its SHA1.
fn script_load(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match create_script(srv, &argv[2]) {
        Ok(sha) => c.reply.bulk(sha.as_bytes()),
        Err(e) => c.reply.error(&e),
    }
}

/// SCRIPT EXISTS sha1 [sha1 ...]: an array of 1/0, one per SHA1, for whether it is cached.
fn script_exists(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    c.reply.array(argv.len() - 2);
    for a in &argv[2..] {
        let sha = String::from_utf8_lossy(a).to_ascii_lowercase();
        c.reply.int(i64::from(
            a.len() == 40 && srv.scripting.scripts.contains_key(&sha),
        ));
    }
}

/// SCRIPT FLUSH [ASYNC|SYNC]: empties the script cache and starts a fresh interpreter.
fn script_flush(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 3
        || (argv.len() == 3
            && !argv[2].eq_ignore_ascii_case(b"sync")
            && !argv[2].eq_ignore_ascii_case(b"async"))
    {
        c.reply
            .error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    let runs = srv.scripting.runs;
    srv.scripting.reset();
    srv.scripting.runs = runs;
    c.reply.ok();
}

/// SCRIPT KILL: stops the running read-only script (it gets an error); NOTBUSY when none
/// runs, UNKILLABLE when it already wrote. While a script runs, `scripting::busy` answers
/// it in place; here no script runs.
fn script_kill(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    match busy::kill_reply(true) {
        Ok(()) => c.reply.ok(),
        Err(e) => c.reply.error(e),
    }
}

/// SCRIPT DEBUG YES|SYNC|NO: whether the client's next EVAL runs in a debugging
/// session (forked, or blocking the server), see `scripting::ldb`. Refused with
/// replies still pending (in a pipeline or a transaction), since the session
/// writes to the socket directly.
fn script_debug(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if !c.reply.is_empty() || !c.out_queue.is_empty() || c.pending_out > 0 {
        c.reply
            .error("ERR SCRIPT DEBUG must be called outside a pipeline");
        return;
    }
    let mode = argv[2].to_ascii_lowercase();
    match mode.as_slice() {
        b"no" => ldb::disable(c),
        b"yes" => ldb::enable(c, ldb::Mode::Fork),
        b"sync" => ldb::enable(c, ldb::Mode::Sync),
        _ => {
            c.reply.error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
            return;
        }
    }
    c.reply.ok();
}

/// SCRIPT HELP: the list of SCRIPT subcommands, as Redis prints it.
fn script_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}
