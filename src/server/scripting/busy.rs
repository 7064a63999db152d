//! A script running past `busy-reply-threshold` (Redis's scriptInterrupt and
//! processEventsWhileBlocked).
//!
//! The Lua hook calls [`hook`] every 100000 instructions. Once the script has
//! run longer than the threshold it is "timed out": from then on each call
//! serves the other clients in place, since their connection tasks cannot run
//! while the script holds the thread. Their sockets are read without waiting,
//! complete requests are answered: SCRIPT KILL / FUNCTION KILL mark the script
//! killed, SHUTDOWN NOSAVE stops the server, commands flagged allow-busy run as
//! usual, and everything else gets the BUSY error. Bytes of an incomplete
//! request are kept in the client's `busy_input` for its task to parse later.

use super::redis_lib::{with_ctx, RunCtx};
use crate::server::client::ClientKind;
use crate::server::commands;
use crate::server::resp::{Limits, ParseOutcome, RequestParser};
use crate::server::state::Server;
use mlua::VmState;

/// The BUSY error while an EVAL script runs.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// The BUSY error while a function runs.
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// The Lua count hook: checks the time, serves other clients once timed out,
/// and raises the kill error after SCRIPT KILL.
pub fn hook(lua: &mlua::Lua) -> mlua::Result<VmState> {
    let Some((killed, timed_out, elapsed_ms, srv_ptr, eval_mode, name)) =
        with_ctx(|c: &mut RunCtx| {
            (
                c.killed,
                c.timed_out,
                c.start.elapsed().as_millis() as i64,
                c.srv,
                c.eval_mode,
                c.funcname.clone(),
            )
        })
    else {
        return Ok(VmState::Continue);
    };
    if killed {
        return kill(lua);
    }
    // SAFETY: see redis_lib: the handler's borrows are unused while the script runs.
    let srv: &mut Server = unsafe { &mut *srv_ptr };
    if !timed_out {
        if elapsed_ms < threshold_ms(srv) {
            return Ok(VmState::Continue);
        }
        crate::server::log::warning(&format!(
            "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
            elapsed_ms,
            if eval_mode { "SCRIPT KILL" } else { "FUNCTION KILL" },
            name
        ));
        with_ctx(|c| c.timed_out = true);
    }
    process_events(srv, eval_mode);
    if with_ctx(|c| c.killed).unwrap_or(false) {
        return kill(lua);
    }
    Ok(VmState::Continue)
}

fn kill(lua: &mlua::Lua) -> mlua::Result<VmState> {
    crate::server::log::warning("Lua script killed by user with SCRIPT KILL.");
    // From now on every line raises again, so pcall cannot swallow the kill.
    lua.set_hook(mlua::HookTriggers::EVERY_LINE, |_, _| {
        Err(mlua::Error::runtime(
            "Script killed by user with SCRIPT KILL...",
        ))
    });
    Err(mlua::Error::runtime(
        "Script killed by user with SCRIPT KILL...",
    ))
}

/// busy-reply-threshold in ms (lua-time-limit is its old name).
pub fn threshold_ms(srv: &Server) -> i64 {
    srv.config
        .get("busy-reply-threshold")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(5000)
}

/// SCRIPT KILL / FUNCTION KILL (`is_eval` says which): the reply Redis's scriptKill
/// gives, marking the running script killed when it can be.
pub fn kill_reply(is_eval: bool) -> Result<(), &'static str> {
    let r = with_ctx(|c| {
        if c.from_master {
            return Err("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.");
        }
        if c.write_dirty {
            return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
        }
        if is_eval && !c.eval_mode {
            return Err(BUSY_FUNCTION);
        }
        if !is_eval && c.eval_mode {
            return Err(BUSY_EVAL);
        }
        c.killed = true;
        Ok(())
    });
    r.unwrap_or(Err("NOTBUSY No scripts in execution right now."))
}

/// Serves every other normal client once, without waiting on any socket.
fn process_events(srv: &mut Server, eval_mode: bool) {
    crate::server::connection::accept_while_busy(srv);
    let max_bulk = srv.config.proto_max_bulk_len;
    let ids: Vec<u64> = srv.clients.keys().copied().collect();
    for id in ids {
        let Some(c) = srv.clients.get_mut(&id) else {
            continue;
        };
        if c.kind == ClientKind::Replica && c.fd >= 0 && !c.close_asap {
            // A replica that went away is forgotten now (INFO's connected_slaves,
            // min-replicas), as Redis's event processing would; what it sent waits.
            if replica_gone(c) {
                srv.free_client(id);
            }
            continue;
        }
        if c.kind != ClientKind::Normal || c.fd < 0 || c.close_asap {
            continue;
        }
        let fd = c.fd;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            // SAFETY: reading into a local buffer from the client's own socket.
            let n = unsafe {
                libc::recv(
                    fd,
                    chunk.as_mut_ptr() as *mut libc::c_void,
                    chunk.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n <= 0 {
                break;
            }
            c.busy_input.extend_from_slice(&chunk[..n as usize]);
            if (n as usize) < chunk.len() {
                break;
            }
        }
        while let Some(c) = srv.clients.get_mut(&id) {
            let limits = Limits {
                max_bulk,
                authenticated: c.authenticated,
            };
            let argv = match RequestParser::new().parse(&c.busy_input, limits) {
                Ok(ParseOutcome::Request(argv, n)) => {
                    c.busy_input.drain(..n);
                    argv
                }
                _ => break,
            };
            if argv.is_empty() {
                continue;
            }
            serve(srv, id, argv, eval_mode);
        }
        flush(srv, id);
    }
}

/// Reads what a replica sent (kept in `busy_input` for its connection task)
/// without waiting; true when its connection is closed or broken.
fn replica_gone(c: &mut crate::server::client::Client) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        // SAFETY: reading into a local buffer from the replica's own socket.
        let n = unsafe {
            libc::recv(
                c.fd,
                chunk.as_mut_ptr() as *mut libc::c_void,
                chunk.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n == 0 {
            return true;
        }
        if n < 0 {
            let e = std::io::Error::last_os_error();
            return !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
            );
        }
        c.busy_input.extend_from_slice(&chunk[..n as usize]);
    }
}

/// One request from another client while the script runs.
fn serve(srv: &mut Server, id: u64, argv: Vec<Vec<u8>>, eval_mode: bool) {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let sub = argv
        .get(1)
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
        .unwrap_or_default();
    if (name == "script" || name == "function") && sub == "kill" && argv.len() == 2 {
        let r = kill_reply(name == "script");
        if let Some(c) = srv.clients.get_mut(&id) {
            match r {
                Ok(()) => c.reply.ok(),
                Err(e) => c.reply.error(e),
            }
        }
        return;
    }
    if name == "shutdown" && argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"nosave")) {
        let _ =
            crate::server::rdb::finish_shutdown(srv, crate::server::state::ShutdownMode::NoSave);
        std::process::exit(0);
    }
    let cmd = commands::resolve(&argv).ok();
    if cmd.is_some_and(|cmd| cmd.flags & commands::ALLOW_BUSY != 0) {
        if let Some(mut c) = srv.clients.lend(id) {
            commands::process_command(srv, &mut c, argv);
            srv.clients.give_back(c);
        }
        return;
    }
    // Refused as any command is: a transaction it belongs to fails, and a
    // refused EXEC discards its transaction.
    if let Some(mut c) = srv.clients.lend(id) {
        let busy = if eval_mode { BUSY_EVAL } else { BUSY_FUNCTION };
        commands::reject(srv, &mut c, cmd, busy);
        srv.clients.give_back(c);
    }
}

/// Writes what a client was answered, if nothing else of its output is pending.
fn flush(srv: &mut Server, id: u64) {
    let Some(c) = srv.clients.get_mut(&id) else {
        return;
    };
    if c.reply.buf.is_empty() || !c.out_queue.is_empty() || c.pending_out > 0 {
        return;
    }
    // SAFETY: writing the client's own buffer to its own socket.
    let n = unsafe {
        libc::send(
            c.fd,
            c.reply.buf.as_ptr() as *const libc::c_void,
            c.reply.buf.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    if n > 0 {
        c.reply.buf.drain(..n as usize);
    }
}
