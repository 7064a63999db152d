//! FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: a master hands its role
//! to one of its replicas without losing writes.
//!
//! Steps, as Redis 7.0: pause writes, `waiting-for-sync` until the target replica
//! acknowledged our whole stream (or the timeout: then abort, or with FORCE go
//! on), then `failover-in-progress`: become a replica of the target and send it
//! `PSYNC <replid> <offset> FAILOVER`, which makes it a master; when that link is
//! up the failover is over.
use crate::server::log;
use crate::server::state::Server;
use crate::server::util::now_ms;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Phase {
    #[default]
    None,
    WaitingForSync,
    InProgress,
}

#[derive(Debug, Clone, Default)]
pub struct Failover {
    pub phase: Phase,
    pub target: Option<(String, u16)>,
    pub force: bool,
    /// Absolute deadline (ms) or 0 for none.
    pub deadline_ms: i64,
    /// Our offset when writes were paused: the target must reach it.
    pub offset: i64,
    /// Whether the PSYNC we send must carry FAILOVER.
    pub psync_failover: bool,
}

impl Failover {
    /// The `master_failover_state` value INFO replication reports for the phase.
    pub fn state_name(&self) -> &'static str {
        match self.phase {
            Phase::None => "no-failover",
            Phase::WaitingForSync => "waiting-for-sync",
            Phase::InProgress => "failover-in-progress",
        }
    }
}

/// Ends a failover (done or aborted) and lifts the write pause it set.
pub fn clear(srv: &mut Server, why: &str) {
    if srv.repl.failover.phase == Phase::None {
        return;
    }
    log::notice(&format!("FAILOVER {}", why));
    srv.repl.failover = Failover::default();
    if srv.pause == crate::server::state::PauseKind::Write && srv.pause_until_ms == i64::MAX {
        srv.pause = crate::server::state::PauseKind::None;
        srv.unpause.notify_waiters();
        srv.wake_all.notify_waiters();
    }
}

/// Failover steps run by the cron: the sync wait, its timeout, completion.
pub fn cron(srv: &mut Server) {
    let f = srv.repl.failover.clone();
    match f.phase {
        Phase::None => {}
        Phase::WaitingForSync => {
            let timed_out = f.deadline_ms > 0 && now_ms() > f.deadline_ms;
            let target = target_replica(srv, &f);
            // Writes are paused, so the stream only grows by the GETACK sent at the
            // start; the target is synced when it acknowledged all of it.
            let synced = target
                .as_ref()
                .is_some_and(|(_, _, ack)| *ack >= srv.repl.offset);
            if synced || (timed_out && f.force) {
                let (host, port) = match (&f.target, target) {
                    (Some(t), _) => t.clone(),
                    (None, Some((h, p, _))) => (h, p),
                    (None, None) => {
                        clear(srv, "aborted: no replica to fail over to");
                        return;
                    }
                };
                log::notice(&format!(
                    "Failover target {}:{} is synced, failing over.",
                    host, port
                ));
                srv.repl.failover.phase = Phase::InProgress;
                srv.repl.failover.target = Some((host.clone(), port));
                srv.repl.failover.psync_failover = true;
                crate::server::replication::replica::set_master(srv, host, port);
            } else if timed_out {
                clear(srv, "aborted: replica not synced before the timeout");
            }
        }
        Phase::InProgress => {
            if srv.master_link_up() {
                clear(srv, "completed: now a replica of the new master");
            } else if f.deadline_ms > 0 && now_ms() > f.deadline_ms + 10_000 && !f.force {
                // The target did not take over: go back to being a master.
                crate::server::replication::replica::unset_master(srv);
                clear(srv, "aborted: the target did not accept the failover");
            }
        }
    }
}

/// The replica a failover goes to: the one named, or the online replica with the
/// highest acknowledged offset. Returns (ip, port, ack offset).
pub fn target_replica(srv: &Server, f: &Failover) -> Option<(String, u16, i64)> {
    let mut best: Option<(String, u16, i64)> = None;
    for id in &srv.repl.replicas {
        let Some(c) = srv.clients.get(id) else {
            continue;
        };
        let Some(l) = &c.repl else { continue };
        if l.state != crate::server::replication::ReplicaState::Online {
            continue;
        }
        let ip = l.announced_ip.clone().unwrap_or_else(|| {
            c.addr
                .rsplit_once(':')
                .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
                .unwrap_or_default()
        });
        let cand = (ip, l.listening_port, l.ack_offset);
        match &f.target {
            Some((h, p)) => {
                if *h == cand.0 && *p == cand.1 {
                    return Some(cand);
                }
            }
            None => {
                if best.as_ref().is_none_or(|b| cand.2 > b.2) {
                    best = Some(cand);
                }
            }
        }
    }
    best
}
