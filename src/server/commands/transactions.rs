//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queued commands run back to back inside EXEC with nothing interleaved (the
//! server is single-threaded), and are replicated as one MULTI ... EXEC block.
use super::*;
use crate::server::client::Client;
use crate::server::state::Server;

pub static COMMANDS: &[Command] = &[
    Command::new("multi", multi)
        .arity(1)
        .group("transactions")
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY),
    Command::new("exec", exec)
        .arity(1)
        .group("transactions")
        .flags(NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG),
    Command::new("discard", discard)
        .arity(1)
        .group("transactions")
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY),
    Command::new("watch", watch)
        .arity(-2)
        .group("transactions")
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY)
        .keys(1, -1, 1),
    Command::new("unwatch", unwatch)
        .arity(1)
        .group("transactions")
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY),
];

/// MULTI: starts queueing commands for EXEC. Replies OK; nesting is an error.
fn multi(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    if c.multi.is_some() {
        c.reply.error("ERR MULTI calls can not be nested");
        return;
    }
    c.multi = Some(Vec::new());
    c.multi_error = false;
    c.reply.ok();
}

/// Leaves MULTI state, dropping the queue.
pub fn discard_transaction(srv: &mut Server, c: &mut Client) {
    c.multi = None;
    c.multi_error = false;
    unwatch_all(srv, c);
}

/// DISCARD: drops the queued commands, leaves MULTI and unwatches all keys. Replies OK, or
/// an error outside MULTI.
fn discard(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    if c.multi.is_none() {
        c.reply.error("ERR DISCARD without MULTI");
        return;
    }
    discard_transaction(srv, c);
    c.reply.ok();
}

/// EXEC: runs the queued commands back to back and replies with an array of their replies.
/// Replies EXECABORT if a command failed to queue, or a null array if a WATCHed key was
/// modified; either way (and on success) all keys are unwatched. Each queued command goes
/// through `call` with `in_exec` set, so blocking commands don't block and their writes are
/// replicated together.
fn exec(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let Some(queue) = c.multi.take() else {
        c.reply.error("ERR EXEC without MULTI");
        return;
    };
    if c.multi_error {
        c.multi_error = false;
        unwatch_all(srv, c);
        c.reply
            .error("EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    // A key that expired since it was WATCHed (and was not expired then)
    // changed too, even if nothing deleted it yet.
    let expired_since = c.watched.iter().any(|(db, k)| {
        !srv.watched_stale.contains(&(c.id, *db, k.clone())) && srv.key_is_stale(*db, k)
    });
    if c.dirty_cas || expired_since {
        unwatch_all(srv, c);
        c.reply.null_array();
        return;
    }
    unwatch_all(srv, c);
    c.reply.array(queue.len());
    // The queued commands' effects are part of EXEC's execution unit: they go
    // out together, wrapped in MULTI/EXEC when there is more than one.
    let outer = srv.in_exec;
    srv.in_exec = true;
    for argv in &queue {
        match resolve(argv) {
            // Permissions may have changed since the command was queued.
            Ok(cmd) => match crate::server::acl::check(srv, c, cmd, argv) {
                Ok(()) => call(srv, c, cmd, argv),
                Err(denied) => {
                    crate::server::acl::log_denied(srv, c, cmd, argv, denied, "multi");
                    c.reply
                        .error(&crate::server::acl::exec_noperm_text(denied.0));
                }
            },
            Err(e) => c.reply.error(&e),
        }
    }
    srv.in_exec = outer;
}

/// WATCH key [key ...]: watches the keys (in the current DB) for EXEC's optimistic locking.
/// Replies OK; an error inside MULTI.
fn watch(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if c.multi.is_some() {
        c.reply.error("ERR WATCH inside MULTI is not allowed");
        return;
    }
    for k in &argv[1..] {
        let slot = (c.db, k.clone());
        if c.watched.contains(&slot) {
            continue;
        }
        if srv.key_is_stale(c.db, k) {
            srv.watched_stale.insert((c.id, c.db, k.clone()));
        }
        srv.watched_keys.entry(slot.clone()).or_default().push(c.id);
        c.watched.push(slot);
    }
    c.reply.ok();
}

/// Forgets every WATCHed key of a client.
pub fn unwatch_all(srv: &mut Server, c: &mut Client) {
    for slot in c.watched.drain(..) {
        if !srv.watched_stale.is_empty() {
            srv.watched_stale.remove(&(c.id, slot.0, slot.1.clone()));
        }
        if let Some(v) = srv.watched_keys.get_mut(&slot) {
            v.retain(|&x| x != c.id);
            if v.is_empty() {
                srv.watched_keys.remove(&slot);
            }
        }
    }
    c.dirty_cas = false;
}

/// UNWATCH: forgets all WATCHed keys. Replies OK.
fn unwatch(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    unwatch_all(srv, c);
    c.reply.ok();
}
