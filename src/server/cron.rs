//! The server cron (Redis's serverCron), run `hz` times a second: the active expire
//! cycle, idle-client timeouts, the end of CLIENT PAUSE, statistics samples,
//! incremental rehashing, and the persistence and replication housekeeping.

use crate::server::client::ClientKind;
use crate::server::state::{PauseKind, Server};
use crate::server::util::now_ms;

/// One cron tick (Redis's serverCron): active expiry (each expired key its own
/// propagation unit), client timeouts, the tracking table's limit and BCAST
/// invalidations, the end of CLIENT PAUSE, statistics, rehashing, persistence
/// and replication chores, MIGRATE's idle connections, WAIT wake-ups.
pub fn run(srv: &mut Server) {
    if srv.debug.cron_paused {
        return;
    }
    let now = now_ms();
    // As Redis: no active expiry on a replica (its master sends DELs) nor while
    // clients are paused (a paused dataset, and its replication offset, stay still).
    if !srv.is_replica() && srv.active_expire_enabled && srv.pause == PauseKind::None {
        let started = std::time::Instant::now();
        active_expire_cycle(srv, now);
        let ms = started.elapsed().as_millis() as u64;
        let threshold = srv.config.latency_monitor_threshold;
        srv.latency
            .add_if_needed(threshold, "expire-cycle", ms, now / 1000);
    }
    if srv.evict_soon && srv.pause == PauseKind::None {
        srv.evict_soon = false;
        crate::server::evict::make_room(srv);
    }
    client_timeouts(srv, now);
    output_limits(srv);
    if !srv.tracking.clients.is_empty() {
        crate::server::tracking::limit_used_slots(srv);
    }
    // Keys that expired under BCAST prefixes.
    crate::server::tracking::broadcast(srv);
    if srv.pause != PauseKind::None && srv.pause_until_ms <= now {
        srv.pause = PauseKind::None;
        srv.unpause.notify_waiters();
        for c in srv.clients.values() {
            if matches!(
                c.blocked,
                Some(crate::server::client::Blocked::Paused { .. })
            ) {
                c.wake();
            }
        }
    }
    sample_stats(srv, now);
    // Redis's databasesCron: shrink sparse keyspaces, then (with
    // activerehashing) give a rehash in progress a millisecond.
    let active_rehash = srv.config.get("activerehashing").as_deref() != Some("no");
    for db in srv.dbs.iter_mut() {
        db.keys.shrink_if_sparse();
        db.expires.shrink_if_sparse();
        if active_rehash {
            db.keys.rehash_for(1000);
            db.expires.rehash_for(200);
        }
    }
    crate::server::aof::cron_before_save(srv);
    crate::server::rdb::cron(srv);
    crate::server::scripting::ldb::reap_children();
    crate::server::aof::cron(srv);
    crate::server::replication::cron(srv);
    if !srv.migrate_sockets.is_empty() {
        srv.migrate_sockets.close_timed_out(now);
    }
    // WAIT clients whose replicas caught up (or went away).
    crate::server::commands::wake_waiters(srv);
}

/// Deletes expired keys a sample at a time, like Redis: 20 keys with a TTL per
/// database per round, another round while more than 10% of a sample had expired,
/// within a time budget of about a quarter of the cron period.
fn active_expire_cycle(srv: &mut Server, now: i64) {
    let budget = std::time::Duration::from_micros(250_000 / srv.config.hz.clamp(1, 500));
    let start = std::time::Instant::now();
    for db in 0..srv.dbs.len() {
        loop {
            if srv.dbs[db].expires.is_empty() {
                break;
            }
            let mut sample: Vec<Vec<u8>> = Vec::with_capacity(20);
            {
                let rng = &mut srv.rng;
                let mut r = || rng.next_u64();
                srv.dbs[db]
                    .expires
                    .sample(20, &mut r, |k, _| sample.push(k.to_vec()));
            }
            let sampled = sample.len();
            let mut expired = 0;
            for key in sample {
                let is_expired = srv.dbs[db]
                    .get(&key)
                    .is_some_and(|e| e.expire != -1 && e.expire <= now);
                if is_expired {
                    srv.delete_expired(db, &key);
                    expired += 1;
                }
            }
            if start.elapsed() > budget {
                srv.stats.expired_time_cap_reached_count += 1;
                return;
            }
            if sampled == 0 || expired * 10 <= sampled {
                break;
            }
        }
    }
}

/// The soft output limits also apply to clients that get no new output.
fn output_limits(srv: &mut Server) {
    let config = &srv.config;
    for c in srv.clients.values_mut() {
        if c.obuf_soft_since != 0 {
            crate::server::state::check_output_limits(config, c);
        }
    }
}

/// Closes normal clients idle for more than `timeout` seconds (not blocked ones,
/// not replicas or the master link, not pub/sub subscribers), like Redis.
fn client_timeouts(srv: &mut Server, now: i64) {
    let timeout = srv.config.timeout as i64 * 1000;
    if timeout == 0 {
        return;
    }
    for c in srv.clients.values_mut() {
        if c.kind != ClientKind::Normal || c.blocked.is_some() || c.total_subscriptions() > 0 {
            continue;
        }
        if now - c.last_interaction_ms > timeout {
            crate::server::log::verbose("Closing idle client");
            c.close_asap = true;
            c.wake();
        }
    }
}

fn sample_stats(srv: &mut Server, now: i64) {
    let st = &mut srv.stats;
    let push = |q: &mut std::collections::VecDeque<(i64, u64)>, v: u64| {
        if q.back().is_none_or(|(t, _)| now - t >= 100) {
            q.push_back((now, v));
            while q.len() > 16 {
                q.pop_front();
            }
        }
    };
    push(&mut st.ops_samples, st.total_commands_processed);
    push(&mut st.net_in_samples, st.total_net_input_bytes);
    push(&mut st.net_out_samples, st.total_net_output_bytes);
}
