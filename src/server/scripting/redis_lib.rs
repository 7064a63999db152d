//! The native half of the `redis` Lua library and the run context of the script
//! being executed.
//!
//! The context lives in a thread-local for the length of one script run: the
//! server is single-threaded and a script runs inside one command, so the
//! callbacks Lua makes (`redis.call`...) reach the server and the calling client
//! through it. The EVAL handler does not touch its `&mut` borrows while the
//! script runs; the raw pointers here stand in for them.

use super::convert;
use crate::server::client::{Client, ClientKind};
use crate::server::commands::{self, Command};
use crate::server::state::Server;
use mlua::{Lua, Table, Value, Variadic};
use std::cell::{Cell, RefCell};

/// Replication flags of `redis.set_repl` (Redis's PROPAGATE_AOF / PROPAGATE_REPL).
pub const REPL_AOF: u8 = 1;
pub const REPL_REPLICA: u8 = 2;

/// The state of the script being run (Redis's scriptRunCtx).
pub struct RunCtx {
    pub srv: *mut Server,
    pub caller: *mut Client,
    /// The client the script's commands run as (Redis's lua_client).
    pub script_client: Option<Box<Client>>,
    pub read_only: bool,
    pub allow_oom: bool,
    /// A write command ran: the script can no longer be killed or fail on OOM.
    pub write_dirty: bool,
    /// EVAL (SCRIPT KILL) rather than FCALL (FUNCTION KILL).
    pub eval_mode: bool,
    pub killed: bool,
    pub timed_out: bool,
    pub repl_flags: u8,
    pub start: std::time::Instant,
    /// The script's name in errors and logs (its SHA1, or the function's name).
    pub funcname: String,
    /// maxmemory was exceeded when the script started.
    pub oom_at_start: bool,
    /// The caller is our master (its scripts cannot be killed).
    pub from_master: bool,
    /// The command line that runs the script (FUNCTION STATS).
    pub argv: *const [Vec<u8>],
}

thread_local! {
    /// The running script, if any.
    pub static RUN: RefCell<Option<RunCtx>> = const { RefCell::new(None) };
    static RAND48: Cell<u64> = const { Cell::new(0x1234_ABCD_330E) };
}

/// True while a script runs (used to answer BUSY and SCRIPT KILL).
pub fn script_running() -> bool {
    RUN.with(|r| r.try_borrow().map(|r| r.is_some()).unwrap_or(true))
}

/// Redis's redisLrand48: the 48-bit linear congruential generator of drand48,
/// returning its top 31 bits, so `math.random` gives the same sequence as Redis.
pub fn lrand48() -> i64 {
    RAND48.with(|s| {
        let x = s.get().wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB) & 0xFFFF_FFFF_FFFF;
        s.set(x);
        (x >> 17) as i64
    })
}

/// Redis's redisSrand48 (`math.randomseed`).
pub fn srand48(seed: i32) {
    let seed = seed as u32 as u64;
    RAND48.with(|s| s.set((seed << 16) | 0x330E));
}

/// An error table `{err = "CODE message"}` as Redis's luaPushError builds it: a
/// message without a code gets `ERR`.
pub fn error_table(lua: &Lua, msg: &str) -> Value {
    // In a debugging session, the errors the script gets are shown when stepping.
    super::ldb::log_error(msg.as_bytes());
    let text = match msg.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((code, m)) => format!("{} {}", code, m.trim_matches(['\r', '\n'])),
            None => format!("ERR {}", rest.trim_matches(['\r', '\n'])),
        },
        None => format!("ERR {}", msg.trim_matches(['\r', '\n'])),
    };
    match lua.create_table() {
        Ok(t) => {
            let _ = t.raw_set("err", text);
            Value::Table(t)
        }
        Err(_) => Value::Nil,
    }
}

/// A Lua value as Lua's tostring would give it for strings and numbers (`%.14g`),
/// None for other types.
pub fn lua_tostring(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(convert::format_g(*i as f64, 14).into_bytes()),
        Value::Number(n) => Some(convert::format_g(*n, 14).into_bytes()),
        _ => None,
    }
}

/// Lua's tonumber for native arguments (0 when not a number, as lua_tonumber).
fn to_number(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        Value::String(s) => std::str::from_utf8(&s.as_bytes())
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .unwrap_or(0.0),
        _ => 0.0,
    }
}

/// The table of native functions handed to the prelude.
pub fn native_table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "call",
        lua.create_function(|lua, args: Variadic<Value>| {
            let (v, failed) = redis_call(lua, lua_args(&args));
            Ok(if failed {
                (Value::Nil, v)
            } else {
                (v, Value::Nil)
            })
        })?,
    )?;
    t.set(
        "pcall",
        lua.create_function(|lua, args: Variadic<Value>| Ok(redis_call(lua, lua_args(&args)).0))?,
    )?;
    t.set(
        "sha1hex",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.len() != 1 {
                return Ok((Value::Nil, error_table(lua, "wrong number of arguments")));
            }
            let data = lua_tostring(&args[0]).unwrap_or_default();
            Ok((
                Value::String(lua.create_string(super::sha1hex(&data))?),
                Value::Nil,
            ))
        })?,
    )?;
    t.set(
        "log",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.len() < 2 {
                return Ok((
                    Value::Nil,
                    error_table(lua, "redis.log() requires two arguments or more."),
                ));
            }
            if !matches!(args[0], Value::Integer(_) | Value::Number(_))
                && convert::parse_lua_number(&args[0]).is_none()
            {
                return Ok((
                    Value::Nil,
                    error_table(lua, "First argument must be a number (log level)."),
                ));
            }
            let level = to_number(&args[0]) as i64;
            let level = match level {
                0 => crate::server::log::Level::Debug,
                1 => crate::server::log::Level::Verbose,
                2 => crate::server::log::Level::Notice,
                3 => crate::server::log::Level::Warning,
                _ => return Ok((Value::Nil, error_table(lua, "Invalid debug level."))),
            };
            let parts: Vec<String> = args[1..]
                .iter()
                .filter_map(lua_tostring)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect();
            crate::server::log::log(level, &parts.join(" "));
            Ok((Value::Nil, Value::Nil))
        })?,
    )?;
    t.set(
        "setresp",
        lua.create_function(|lua, args: Variadic<Value>| {
            let err = |m: &str| Ok((Value::Nil, error_table(lua, m)));
            if !script_running() {
                return err("redis.setresp can only be called inside a script invocation");
            }
            if args.len() != 1 {
                return err("redis.setresp() requires one argument.");
            }
            let resp = to_number(&args[0]) as i64;
            if resp != 2 && resp != 3 {
                return err("RESP version must be 2 or 3.");
            }
            with_ctx(|ctx| {
                if let Some(sc) = ctx.script_client.as_mut() {
                    sc.reply.resp3 = resp == 3;
                }
            });
            Ok((Value::Nil, Value::Nil))
        })?,
    )?;
    t.set(
        "set_repl",
        lua.create_function(|lua, args: Variadic<Value>| {
            let err = |m: &str| Ok((Value::Nil, error_table(lua, m)));
            if !script_running() {
                return err("redis.set_repl can only be called inside a script invocation");
            }
            if args.len() != 1 {
                return err("redis.set_repl() requires two arguments.");
            }
            let flags = to_number(&args[0]) as i64;
            if flags & !3 != 0 {
                return err(
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                );
            }
            with_ctx(|ctx| ctx.repl_flags = flags as u8);
            Ok((Value::Nil, Value::Nil))
        })?,
    )?;
    t.set(
        "acl_check_cmd",
        lua.create_function(|lua, args: Variadic<Value>| {
            let err = |m: &str| Ok((Value::Nil, error_table(lua, m)));
            if !script_running() {
                return err("redis.acl_check_cmd can only be called inside a script invocation");
            }
            let argv = match lua_args(&args) {
                Ok(a) => a,
                Err(m) => return err(m),
            };
            let cmd = match commands::resolve(&argv) {
                Ok(c) => c,
                Err(_) => match commands::lookup(&argv[0]) {
                    Some(c) => c,
                    None => return err("Invalid command passed to redis.acl_check_cmd()"),
                },
            };
            let allowed = with_ctx(|ctx| {
                // SAFETY: as in redis_call, the pointers are the EVAL/FCALL
                // handler's borrows, unused while the script runs.
                let (srv, caller) = unsafe { (&*ctx.srv, &*ctx.caller) };
                crate::server::acl::check(srv, caller, cmd, &argv).is_ok()
            })
            .unwrap_or(false);
            Ok((Value::Boolean(allowed), Value::Nil))
        })?,
    )?;
    t.set(
        "lrand48",
        lua.create_function(|_, ()| Ok(lrand48() as f64))?,
    )?;
    t.set(
        "srand48",
        lua.create_function(|_, seed: f64| {
            srand48(seed as i64 as i32);
            Ok(())
        })?,
    )?;
    t.set(
        "raising",
        lua.create_function(
            |lua, (f, packed): (mlua::Function, Option<mlua::Function>)| {
                super::raising::wrap(lua, f, packed)
            },
        )?,
    )?;
    t.set(
        "packing",
        lua.create_function(|lua, (f, packed): (mlua::Function, mlua::Function)| {
            super::raising::packing(lua, f, packed)
        })?,
    )?;
    t.set(
        "call_packed",
        lua.create_function(|lua, args: Table| {
            let (v, failed) = redis_call(lua, unpacked(args)?);
            Ok(if failed {
                (Value::Nil, v)
            } else {
                (v, Value::Nil)
            })
        })?,
    )?;
    t.set(
        "pcall_packed",
        lua.create_function(|lua, args: Table| Ok(redis_call(lua, unpacked(args)?).0))?,
    )?;
    t.set(
        "errmsg",
        lua.create_function(|_, v: Value| {
            Ok(match v {
                Value::Error(e) => root_message(&e),
                other => lua_tostring(&other)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default(),
            })
        })?,
    )?;
    t.set(
        "breakpoint",
        lua.create_function(|_, ()| Ok(super::ldb::breakpoint()))?,
    )?;
    t.set(
        "debug",
        lua.create_function(|_, args: Variadic<Value>| {
            super::ldb::debug(&args);
            Ok(())
        })?,
    )?;
    t.set(
        "ldb_error",
        lua.create_function(|_, msg: mlua::String| {
            super::ldb::log_error(&msg.as_bytes());
            Ok(())
        })?,
    )?;
    t.set("version", crate::server::REDIS_VERSION)?;
    t.set("version_num", version_num())?;
    t.set("cjson", super::cjson::open(lua)?)?;
    t.set("bit", super::bit::open(lua)?)?;
    t.set("cmsgpack", super::cmsgpack::open(lua)?)?;
    t.set("struct", super::struct_lib::open(lua)?)?;
    t.set(
        "raising_multi",
        lua.create_function(|lua, f: mlua::Function| super::raising::wrap_multi(lua, f))?,
    )?;
    Ok(t)
}

/// The arguments `raising::push_native` packed into a table (`n` of them, nils
/// included), converted one at a time: holding thousands of Lua strings at
/// once would exhaust mlua's reference stack.
fn unpacked(t: Table) -> mlua::Result<Result<Vec<Vec<u8>>, &'static str>> {
    let n: i64 = t.raw_get("n")?;
    let mut argv = Vec::with_capacity(n.max(0) as usize);
    for i in 1..=n {
        match lua_arg(&t.raw_get::<Value>(i)?) {
            Ok(a) => argv.push(a),
            Err(m) => return Ok(Err(m)),
        }
    }
    Ok(if argv.is_empty() {
        Err(NO_ARGS)
    } else {
        Ok(argv)
    })
}

/// The message of an error raised from Rust, as a script sees it (the Lua
/// debugger's `eval` shows it).
pub fn error_message(e: &mlua::Error) -> String {
    root_message(e)
}

/// The message of an error raised from Rust (the kill error of the busy hook):
/// the innermost cause, without mlua's "runtime error:" and traceback.
fn root_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => root_message(cause),
        other => other.to_string(),
    }
}

/// REDIS_VERSION_NUM: 0x00MMmmpp.
fn version_num() -> i64 {
    let mut parts = crate::server::REDIS_VERSION
        .split('.')
        .map(|p| p.parse::<i64>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    (a << 16) | (b << 8) | c
}

/// Runs `f` on the context of the running script, if any.
pub fn with_ctx<R>(f: impl FnOnce(&mut RunCtx) -> R) -> Option<R> {
    RUN.with(|r| r.try_borrow_mut().ok()?.as_mut().map(f))
}

/// The arguments of redis.call as a command line: strings as they are, numbers
/// as `%.17g` (Redis's luaArgsToRedisArgv), anything else refused.
fn lua_args(args: &[Value]) -> Result<Vec<Vec<u8>>, &'static str> {
    if args.is_empty() {
        return Err(NO_ARGS);
    }
    args.iter().map(lua_arg).collect()
}

/// Redis's error for redis.call() without a command.
const NO_ARGS: &str = "Please specify at least one argument for this redis lib call";

/// One redis.call argument as bytes: strings as they are, numbers as Lua's
/// `%.17g`; anything else is Redis's error.
fn lua_arg(a: &Value) -> Result<Vec<u8>, &'static str> {
    match a {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Integer(i) => Ok(convert::format_g(*i as f64, 17).into_bytes()),
        Value::Number(n) => Ok(convert::format_g(*n, 17).into_bytes()),
        _ => Err("Lua redis lib command arguments must be strings or integers"),
    }
}

/// redis.call / redis.pcall: runs a command as the script client. Returns the
/// reply converted to Lua and whether it is an error (which redis.call raises).
fn redis_call(lua: &Lua, argv: Result<Vec<Vec<u8>>, &'static str>) -> (Value, bool) {
    let argv = match argv {
        Ok(a) => a,
        Err(m) => return (error_table(lua, m), true),
    };
    // Take what the command needs out of the context, so that nothing stays
    // borrowed while it runs.
    let taken =
        with_ctx(|ctx| ctx.script_client.take().map(|sc| (sc, ctx.srv, ctx.caller))).flatten();
    let Some((mut sc, srv_ptr, caller_ptr)) = taken else {
        return (
            error_table(
                lua,
                "redis.call/pcall can only be called inside a script invocation",
            ),
            true,
        );
    };
    // SAFETY: the pointers come from the EVAL/FCALL handler's `&mut` borrows,
    // which it does not use while the script runs; the server is single-threaded
    // and nothing else holds them now.
    let srv: &mut Server = unsafe { &mut *srv_ptr };
    let caller: &Client = unsafe { &*caller_ptr };
    super::ldb::log_command(&argv);
    let result = match check_command(srv, caller, &argv) {
        Err((e, cmd)) => {
            // Counted here, as Redis's scriptCall does, and not again when the
            // error ends the script.
            let v = error_table(lua, &e);
            if let Value::Table(t) = &v {
                let _ = t.raw_set("ignore_error_stats_update", true);
            }
            let code_err = match e.strip_prefix('-') {
                Some(rest) => rest.to_string(),
                None => format!("ERR {}", e),
            };
            commands::count_error(srv, &code_err);
            if let Some(cmd) = cmd {
                srv.cmd_stats.entry(cmd.name).or_default().rejected_calls += 1;
            }
            (v, true)
        }
        Ok(cmd) => {
            if cmd.is_write() {
                with_ctx(|ctx| ctx.write_dirty = true);
            }
            let repl = with_ctx(|ctx| ctx.repl_flags).unwrap_or(REPL_AOF | REPL_REPLICA);
            let mark = srv.propagation_mark();
            sc.reply.buf.clear();
            commands::call(srv, &mut sc, cmd, &argv);
            if repl & (REPL_AOF | REPL_REPLICA) == 0 {
                srv.propagation_truncate(mark);
            } else if repl != REPL_AOF | REPL_REPLICA {
                srv.propagation_limit(
                    mark,
                    crate::server::replication::stream::Targets {
                        consumers: repl & REPL_AOF != 0,
                        replicas: repl & REPL_REPLICA != 0,
                    },
                );
            }
            let buf = std::mem::take(&mut sc.reply.buf);
            let v = convert::reply_to_lua(lua, &buf).unwrap_or(Value::Nil);
            super::ldb::log_reply(&buf);
            let failed = buf.first() == Some(&b'-');
            (v, failed)
        }
    };
    with_ctx(|ctx| ctx.script_client = Some(sc));
    result
}

/// The checks Redis's scriptCall makes before running a command from a script.
/// Err holds the error and the command refused, when the name is one.
fn check_command(
    srv: &mut Server,
    caller: &Client,
    argv: &[Vec<u8>],
) -> Result<&'static Command, (String, Option<&'static Command>)> {
    let cmd = match commands::resolve(argv) {
        Ok(c) => c,
        Err(_) => {
            let known = commands::lookup(&argv[0]);
            let sub = argv
                .get(1)
                .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
                .unwrap_or_default();
            return Err(match known {
                Some(k) if k.subcommands.is_empty() => (
                    "Wrong number of args calling Redis command from script".into(),
                    Some(k),
                ),
                Some(k) => match k
                    .subcommands
                    .iter()
                    .find(|s| s.name.split('|').nth(1) == Some(sub.as_str()))
                {
                    Some(s) if argv.len() >= 2 => (
                        "Wrong number of args calling Redis command from script".into(),
                        Some(s),
                    ),
                    _ => ("Unknown Redis command called from script".into(), None),
                },
                None => ("Unknown Redis command called from script".into(), None),
            });
        }
    };
    check_resolved(srv, caller, cmd, argv).map_err(|e| (e, Some(cmd)))?;
    Ok(cmd)
}

/// The checks of `check_command` once the command is known.
fn check_resolved(
    srv: &mut Server,
    caller: &Client,
    cmd: &'static Command,
    argv: &[Vec<u8>],
) -> Result<(), String> {
    if cmd.flags & commands::NOSCRIPT != 0 && !srv.debug.script_disable_deny {
        return Err("This Redis command is not allowed from script".into());
    }
    let from_master = caller.kind == ClientKind::Master;
    if srv.is_replica()
        && !srv.master_link_up()
        && !srv.config.replica_serve_stale_data
        && cmd.flags & commands::STALE == 0
    {
        return Err("Can not execute the command on a stale replica".into());
    }
    if let Err(denied) = crate::server::acl::check(srv, caller, cmd, argv) {
        crate::server::acl::log_denied(srv, caller, cmd, argv, denied, "lua");
        return Err(crate::server::acl::script_noperm_text(denied.0).into());
    }
    let (read_only, write_dirty, allow_oom, oom_at_start) =
        with_ctx(|c| (c.read_only, c.write_dirty, c.allow_oom, c.oom_at_start))
            .unwrap_or((false, false, false, false));
    if read_only && cmd.flags & (commands::WRITE | commands::MAY_REPLICATE) != 0 {
        return Err("Write commands are not allowed from read-only scripts.".into());
    }
    if cmd.is_write() && !write_dirty {
        if srv.is_replica() && srv.config.replica_read_only && !from_master {
            return Err("-READONLY You can't write against a read only replica.".into());
        }
        if srv.config.stop_writes_on_bgsave_error
            && !srv.config.save_params.is_empty()
            && crate::server::rdb::last_bgsave_failed(srv)
        {
            return Err("-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.".into());
        }
        if !srv.is_replica()
            && srv.config.min_replicas_to_write > 0
            && srv.good_replicas() < srv.config.min_replicas_to_write as usize
        {
            return Err("-NOREPLICAS Not enough good replicas to write.".into());
        }
    }
    if !allow_oom
        && srv.config.maxmemory > 0
        && !from_master
        && !write_dirty
        && oom_at_start
        && cmd.flags & commands::DENYOOM != 0
    {
        return Err(format!("-{}", crate::server::evict::OOM_ERROR));
    }
    Ok(())
}
