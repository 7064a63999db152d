//! Replication commands: REPLICAOF/SLAVEOF, ROLE, WAIT, FAILOVER, and the
//! protocol commands replicas send (REPLCONF, PSYNC, SYNC). The work is in
//! `server::replication`; these parse arguments and reply as Redis 7.0 does.
use super::*;
use crate::server::client::Client;
use crate::server::replication::failover::{self, Failover, Phase};
use crate::server::replication::{master, replica, LinkState};
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::util::parse_i64;

pub static COMMANDS: &[Command] = &[
    Command::new("replicaof", replicaof)
        .arity(3)
        .group("server")
        .flags(ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING),
    Command::new("slaveof", replicaof)
        .arity(3)
        .group("server")
        .flags(ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING),
    Command::new("role", role)
        .arity(1)
        .group("server")
        .flags(NOSCRIPT | LOADING | STALE | FAST),
    Command::new("wait", wait)
        .arity(3)
        .group("generic")
        .flags(NOSCRIPT),
    Command::new("failover", failover_cmd)
        .arity(-1)
        .group("server")
        .flags(ADMIN | NOSCRIPT | STALE),
    Command::new("replconf", master::replconf_command)
        .arity(-1)
        .group("server")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY),
    Command::new("psync", master::sync_command)
        .arity(-3)
        .group("server")
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI),
    Command::new("sync", master::sync_command)
        .arity(1)
        .group("server")
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI),
];

/// REPLICAOF host port | NO ONE
fn replicaof(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if srv.repl.failover.phase != Phase::None {
        c.reply
            .error("ERR REPLICAOF not allowed while failing over.");
        return;
    }
    if argv[1].eq_ignore_ascii_case(b"no") && argv[2].eq_ignore_ascii_case(b"one") {
        if srv.is_replica() {
            replica::unset_master(srv);
        }
        c.reply.ok();
        return;
    }
    let port = match parse_i64(&argv[2]) {
        Some(p) if (0..=65535).contains(&p) => p as u16,
        Some(_) => {
            c.reply.error("ERR Invalid master port");
            return;
        }
        None => {
            c.reply.error(errors::NOT_INTEGER);
            return;
        }
    };
    let host = String::from_utf8_lossy(&argv[1]).into_owned();
    if srv.config.replicaof.as_ref() == Some(&(host.clone(), port)) {
        crate::server::log::notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
        c.reply.simple("OK Already connected to specified master");
        return;
    }
    replica::set_master(srv, host, port);
    c.reply.ok();
}

/// ROLE: ["master", offset, [[ip, port, acked] ...]] or
/// ["slave", host, port, state, offset].
fn role(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    if let Some((host, port)) = srv.config.replicaof.clone() {
        let state = match srv.repl.link {
            LinkState::None | LinkState::Connecting if srv.repl.master_client.is_none() => {
                "connect"
            }
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
            LinkState::None => "connect",
        };
        c.reply.array(5);
        c.reply.bulk(b"slave");
        c.reply.bulk(host.as_bytes());
        c.reply.int(port as i64);
        c.reply.bulk(state.as_bytes());
        let off = if srv.master_link_up() {
            srv.repl.offset
        } else {
            -1
        };
        c.reply.int(off);
        return;
    }
    let mut rows = Vec::new();
    for id in &srv.repl.replicas {
        let Some(r) = srv.clients.get(id) else {
            continue;
        };
        let Some(l) = &r.repl else { continue };
        let ip = l.announced_ip.clone().unwrap_or_else(|| {
            r.addr
                .rsplit_once(':')
                .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
                .unwrap_or_default()
        });
        rows.push((ip, l.listening_port, l.ack_offset));
    }
    c.reply.array(3);
    c.reply.bulk(b"master");
    c.reply.int(srv.repl.offset);
    c.reply.array(rows.len());
    for (ip, port, off) in rows {
        c.reply.array(3);
        c.reply.bulk(ip.as_bytes());
        c.reply.bulk(port.to_string().as_bytes());
        c.reply.bulk(off.to_string().as_bytes());
    }
}

/// WAIT numreplicas timeout: blocks until that many replicas acknowledged every
/// write made so far, or the timeout (ms, 0 = forever) passes; replies the count.
fn wait(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if srv.is_replica() {
        c.reply.error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
        return;
    }
    let Some(numreplicas) = parse_i64(&argv[1]) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    let timeout = match parse_i64(&argv[2]) {
        Some(t) if t < 0 => {
            c.reply.error(errors::TIMEOUT_NEGATIVE);
            return;
        }
        Some(t) => t,
        None => {
            c.reply.error(errors::TIMEOUT_NOT_INTEGER);
            return;
        }
    };
    let offset = srv.repl.offset;
    let acked = srv.replicas_acked(offset);
    if acked as i64 >= numreplicas || srv.in_exec {
        c.reply.int(acked as i64);
        return;
    }
    c.blocked = Some(crate::server::client::Blocked::Wait {
        offset,
        numreplicas: numreplicas.max(0) as usize,
        deadline_ms: if timeout > 0 {
            crate::server::util::now_ms() + timeout
        } else {
            0
        },
    });
    master::request_acks(srv);
}

/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]
fn failover_cmd(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() == 2 && argv[1].eq_ignore_ascii_case(b"abort") {
        if srv.repl.failover.phase == Phase::None {
            c.reply.error("ERR No failover in progress.");
            return;
        }
        if srv.repl.failover.phase == Phase::InProgress && srv.is_replica() {
            replica::unset_master(srv);
        }
        failover::clear(srv, "aborted: Failover manually aborted");
        c.reply.ok();
        return;
    }
    let (mut timeout, mut target, mut force) = (0i64, None, false);
    let mut j = 1;
    while j < argv.len() {
        let a = argv[j].to_ascii_lowercase();
        if a == b"timeout" && j + 1 < argv.len() && timeout == 0 {
            let Some(t) = parse_i64(&argv[j + 1]) else {
                c.reply.error(errors::NOT_INTEGER);
                return;
            };
            if t <= 0 {
                c.reply.error("ERR FAILOVER timeout must be greater than 0");
                return;
            }
            timeout = t;
            j += 2;
        } else if a == b"to" && j + 2 < argv.len() && target.is_none() {
            let Some(p) = parse_i64(&argv[j + 2]) else {
                c.reply.error(errors::NOT_INTEGER);
                return;
            };
            target = Some((String::from_utf8_lossy(&argv[j + 1]).into_owned(), p));
            j += 3;
        } else if a == b"force" && !force {
            force = true;
            j += 1;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    if srv.repl.failover.phase != Phase::None {
        c.reply.error("ERR FAILOVER already in progress.");
        return;
    }
    if srv.is_replica() {
        c.reply
            .error("ERR FAILOVER is not valid when server is a replica.");
        return;
    }
    if srv.repl.replicas.is_empty() {
        c.reply.error("ERR FAILOVER requires connected replicas.");
        return;
    }
    if force && (timeout == 0 || target.is_none()) {
        c.reply.error(
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        );
        return;
    }
    let mut f = Failover {
        force,
        ..Default::default()
    };
    if let Some((host, port)) = &target {
        let probe = Failover {
            target: Some((host.clone(), (*port).clamp(0, 65535) as u16)),
            ..Default::default()
        };
        let known = srv
            .repl
            .replicas
            .iter()
            .filter_map(|id| srv.clients.get(id))
            .any(|r| {
                r.repl.as_ref().is_some_and(|l| {
                    l.listening_port as i64 == *port
                        && (l.announced_ip.as_deref() == Some(host.as_str())
                            || r.addr
                                .rsplit_once(':')
                                .map(|(h, _)| h.trim_matches(['[', ']']))
                                == Some(host.as_str()))
                })
            });
        if !known {
            c.reply
                .error("ERR FAILOVER target HOST and PORT is not a replica.");
            return;
        }
        if failover::target_replica(srv, &probe).is_none() {
            c.reply.error("ERR FAILOVER target replica is not online.");
            return;
        }
        crate::server::log::notice(&format!("FAILOVER requested to {}:{}.", host, port));
        f.target = probe.target;
    } else {
        crate::server::log::notice("FAILOVER requested to any replica.");
    }
    if timeout > 0 {
        f.deadline_ms = crate::server::util::now_ms() + timeout;
    }
    f.phase = Phase::WaitingForSync;
    // Pause writes until the failover ends, so the target can catch up exactly.
    srv.pause = crate::server::state::PauseKind::Write;
    srv.pause_until_ms = i64::MAX;
    f.offset = srv.repl.offset;
    srv.repl.failover = f;
    master::request_acks(srv);
    c.reply.ok();
}
