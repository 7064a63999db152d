//! SAVE and BGSAVE (LASTSAVE lives with the other server commands). The work is
//! in `server::rdb`; these parse arguments and reply as Redis does.
use super::*;
use crate::server::client::Client;
use crate::server::resp::errors;
use crate::server::state::Server;

pub static COMMANDS: &[Command] = &[
    Command::new("save", save)
        .arity(1)
        .group("server")
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI),
    Command::new("bgsave", bgsave)
        .arity(-1)
        .group("server")
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING),
    Command::new("bgrewriteaof", bgrewriteaof)
        .arity(1)
        .group("server")
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING),
];

/// SAVE: writes the RDB snapshot synchronously, blocking the server. Replies OK, an error if
/// a background save is in progress, or a bare "ERR" if the save failed.
fn save(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    if srv.persistence.child_pid.is_some() {
        c.reply.error(errors::BGSAVE_IN_PROGRESS);
        return;
    }
    match crate::server::rdb::save(srv) {
        Ok(()) => c.reply.ok(),
        Err(_) => c.reply.error("ERR"),
    }
}

/// BGSAVE [SCHEDULE]: with SCHEDULE, a save requested while another runs is
/// started when that one ends instead of failing.
fn bgsave(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let schedule = match argv.len() {
        1 => false,
        2 if argv[1].eq_ignore_ascii_case(b"schedule") => true,
        _ => {
            c.reply.error(errors::SYNTAX);
            return;
        }
    };
    if srv.persistence.child_pid.is_some() {
        c.reply.error(errors::BGSAVE_IN_PROGRESS);
        return;
    }
    if crate::server::aof::has_active_child(srv) || srv.in_exec {
        if schedule || srv.in_exec {
            srv.persistence.bgsave_scheduled = true;
            c.reply.simple("Background saving scheduled");
        } else {
            c.reply.error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        }
        return;
    }
    match crate::server::rdb::bgsave(srv) {
        Ok(()) => c.reply.simple("Background saving started"),
        Err(e) => c.reply.error(&format!("ERR {}", e)),
    }
}

/// BGREWRITEAOF: rewrites the AOF in a background child (Redis's
/// bgrewriteaofCommand): an error while one runs; scheduled (with the
/// failure count reset) while another child runs or inside a transaction;
/// otherwise started now.
fn bgrewriteaof(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    if srv.aof.child.is_some() {
        c.reply
            .error("ERR Background append only file rewriting already in progress");
    } else if crate::server::aof::has_active_child(srv) || srv.in_exec {
        srv.aof.rewrite_scheduled = true;
        srv.aof.consecutive_failures = 0;
        c.reply
            .simple("Background append only file rewriting scheduled");
    } else if crate::server::aof::rewrite::start_background(srv).is_ok() {
        c.reply
            .simple("Background append only file rewriting started");
    } else {
        c.reply.error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
    }
}
