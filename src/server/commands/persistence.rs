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
        .flags(ADMIN | NOSCRIPT | NO_MULTI),
    Command::new("bgsave", bgsave)
        .arity(-1)
        .group("server")
        .flags(ADMIN | NOSCRIPT | NO_MULTI),
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
        if schedule {
            srv.persistence.bgsave_scheduled = true;
            c.reply.simple("Background saving scheduled");
        } else {
            c.reply.error(errors::BGSAVE_IN_PROGRESS);
        }
        return;
    }
    match crate::server::rdb::bgsave(srv) {
        Ok(()) => c.reply.simple("Background saving started"),
        Err(e) => c.reply.error(&format!("ERR {}", e)),
    }
}
