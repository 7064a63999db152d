//! Blocked clients: clients blocked on keys (BLPOP and friends), served when a
//! key gets data by running their command again, as Redis 7 does; their
//! timeouts; and the wake-ups of clients waiting in WAIT and behind CLIENT PAUSE.

use super::call::call;
use super::table::resolve;
use crate::server::client::{Blocked, Client, ClientKind};
use crate::server::state::Server;

/// Whether a blocking command must answer at once instead of blocking: inside
/// MULTI/EXEC, or when it comes from our master.
pub fn cannot_block(srv: &Server, c: &Client) -> bool {
    srv.in_exec || c.kind == ClientKind::Master
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
    let deadline_ms = if timeout_ms > 0 {
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
/// running their command again (Redis 7's approach).
///
/// The loop ends: a round after the first only happens when a served command
/// made keys ready, which means it did not block again, so every round takes
/// at least one client out of the blocking tables for good.
pub fn serve_blocked_clients(srv: &mut Server) {
    while !srv.ready_keys.is_empty() {
        let ready = std::mem::take(&mut srv.ready_keys);
        for (db, key) in ready {
            loop {
                if !srv.dbs[db].keys.contains_key(&key) {
                    break;
                }
                // As Redis 7.0, only clients whose command waits for the type the
                // key holds now are served (BLPOP's key overwritten by SET in a
                // transaction serves nobody: its clients stay blocked rather than
                // get WRONGTYPE), the first of them in blocking order.
                let holds = srv.dbs[db].keys.get(&key).map(|e| e.value.type_name());
                let Some(id) = srv.blocking_keys.get(&(db, key.clone())).and_then(|q| {
                    q.iter().copied().find(|id| {
                        let want = srv.clients.get(id).and_then(|c| match &c.blocked {
                            Some(Blocked::Keys { argv, .. }) => waits_for_type(argv),
                            _ => None,
                        });
                        want.is_none() || want == holds
                    })
                }) else {
                    break;
                };
                if srv.clients.is_lent(id) {
                    // Its own command is running (it is not waiting for this key).
                    break;
                }
                let Some(mut bc) = srv.clients.lend(id) else {
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
                        srv.clients.give_back(bc);
                        break;
                    }
                };
                unblock(srv, &mut bc);
                let saved_db = bc.db;
                bc.db = db;
                if let Ok(cmd) = resolve(&argv) {
                    // It is the current client while its command runs (NOLOOP).
                    let outer = srv.tracking.current.replace(id);
                    srv.clients.sync_lent(&bc);
                    srv.serving_blocked = true;
                    call(srv, &mut bc, cmd, &argv);
                    srv.serving_blocked = false;
                    srv.tracking.current = outer;
                }
                // Blocked again (nothing left for it): it keeps its first deadline.
                if let Some(Blocked::Keys { deadline_ms, .. }) = &mut bc.blocked {
                    *deadline_ms = deadline;
                }
                bc.db = saved_db;
                let still_blocked = bc.blocked.is_some();
                bc.wake();
                srv.clients.give_back(bc);
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

/// The type of value a blocked command waits for.
fn waits_for_type(argv: &[Vec<u8>]) -> Option<&'static str> {
    match crate::server::commands::table::lookup(argv.first()?)?.name {
        "blpop" | "brpop" | "blmove" | "brpoplpush" | "blmpop" => Some("list"),
        "bzpopmin" | "bzpopmax" | "bzmpop" => Some("zset"),
        "xread" | "xreadgroup" => Some("stream"),
        _ => None,
    }
}

/// XREADGROUP clients blocked on a key that no longer holds a stream (deleted,
/// overwritten, flushed, swapped away) get Redis's UNBLOCKED error
/// (unblockDeletedStreamReadgroupClients). Run after write commands while
/// clients are blocked.
pub fn unblock_gone_stream_readers(srv: &mut Server) {
    let gone: Vec<(usize, Vec<u8>)> = srv
        .blocking_keys
        .keys()
        .filter(|(db, k)| {
            !matches!(
                srv.dbs[*db].get(k).map(|e| &e.value),
                Some(crate::server::types::Value::Stream(_))
            )
        })
        .cloned()
        .collect();
    for slot in gone {
        let ids: Vec<u64> = srv
            .blocking_keys
            .get(&slot)
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            if srv.clients.is_lent(id) {
                continue;
            }
            let Some(mut bc) = srv.clients.lend(id) else {
                continue;
            };
            let is_group_read = matches!(&bc.blocked, Some(Blocked::Keys { argv, .. })
                if argv[0].eq_ignore_ascii_case(b"xreadgroup"));
            if is_group_read {
                unblock(srv, &mut bc);
                super::call::error_reply(srv, &mut bc, "UNBLOCKED the stream key no longer exists");
                if let Some(st) = srv.cmd_stats.get_mut("xreadgroup") {
                    st.calls += 1;
                    st.failed_calls += 1;
                }
                bc.wake();
            }
            srv.clients.give_back(bc);
        }
    }
}

/// A blocked client's deadline passed: reply as Redis does and unblock it.
pub fn block_timed_out(srv: &mut Server, c: &mut Client) {
    match c.blocked.clone() {
        Some(Blocked::Keys { argv, .. }) => {
            unblock(srv, c);
            c.reply.null_array();
            // Counted now, as Redis counts a blocked command on unblock.
            if let Ok(cmd) = resolve(&argv) {
                srv.cmd_stats.entry(cmd.name).or_default().calls += 1;
            }
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

/// Answers WAIT clients whose replicas have acknowledged enough.
pub fn wake_waiters(srv: &mut Server) {
    let ids: Vec<u64> = srv
        .clients
        .iter()
        .filter(|(_, c)| matches!(c.blocked, Some(Blocked::Wait { .. })))
        .map(|(id, _)| *id)
        .collect();
    for id in ids {
        let Some(mut c) = srv.clients.lend(id) else {
            continue;
        };
        if let Some(Blocked::Wait {
            offset,
            numreplicas,
            ..
        }) = c.blocked.clone()
        {
            let n = srv.replicas_acked(offset);
            if n >= numreplicas {
                c.blocked = None;
                c.reply.int(n as i64);
                c.wake();
            }
        }
        srv.clients.give_back(c);
    }
}

/// Runs a postponed (paused) command once the pause is over.
pub fn resume_paused(srv: &mut Server, id: u64) {
    let Some(mut c) = srv.clients.lend(id) else {
        return;
    };
    if let Some(Blocked::Paused { argv, raw }) = c.blocked.take() {
        super::process_command(srv, &mut c, argv);
        if c.kind == crate::server::client::ClientKind::Master {
            if let Some(Blocked::Paused { raw: r, .. }) = c.blocked.as_mut() {
                // Paused again: its bytes still wait.
                *r = raw;
            } else {
                // A replica never answers its master; the offset counts the
                // command now that it ran.
                c.reply.buf.clear();
                srv.master_stream_applied(&raw);
            }
        }
    }
    srv.clients.give_back(c);
}
