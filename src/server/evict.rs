//! maxmemory: when the dataset grows past `maxmemory`, either refuse commands
//! that may add memory (`noeviction`: the OOM error) or evict keys by the
//! configured policy, sampling `maxmemory-samples` keys at a time as Redis does.
//! Evictions are propagated to replicas as DEL (or UNLINK with
//! lazyfree-lazy-eviction), so replicas hold the same dataset.

use crate::server::keyspace::db::NO_EXPIRE;
use crate::server::memory;
use crate::server::state::Server;

pub const OOM_ERROR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Memory that counts against maxmemory: everything but replication buffers.
fn used_for_eviction(srv: &Server) -> usize {
    let backlog = srv.repl.backlog.as_ref().map(|b| b.size()).unwrap_or(0);
    let replica_out: usize = srv
        .repl
        .replicas
        .iter()
        .filter_map(|id| srv.clients.get(id))
        .map(|c| c.output_len())
        .sum();
    memory::used().saturating_sub(backlog + replica_out)
}

/// Makes room before a command that may grow memory. Returns false when the
/// command must be refused with [`OOM_ERROR`]. Replicas never evict on their own
/// (their master's DELs arrive in the stream).
pub fn make_room(srv: &mut Server) -> bool {
    let max = srv.config.maxmemory as usize;
    if max == 0 || srv.is_replica() {
        return true;
    }
    let policy = srv.config.maxmemory_policy.clone();
    let mut guard = 0;
    while used_for_eviction(srv) > max {
        guard += 1;
        if policy == "noeviction" || guard > 10_000 {
            return false;
        }
        let Some((db, key)) = pick_victim(srv, &policy) else {
            return false;
        };
        if srv.dbs[db].remove(&key).is_some() {
            srv.stats.evicted_keys += 1;
            srv.signal_modified_by(db, &key, None);
            crate::server::notify::notify(srv, crate::server::notify::EVICTED, "evicted", &key, db);
            srv.propagate_deletion(db, &key, srv.config.lazyfree_lazy_eviction);
        }
    }
    true
}

/// Chooses a key to evict: the best of a sample, by the policy's measure.
fn pick_victim(srv: &mut Server, policy: &str) -> Option<(usize, Vec<u8>)> {
    let volatile = policy.starts_with("volatile");
    let samples = srv.config.maxmemory_samples.max(1) as usize;
    let mut best: Option<(i64, usize, Vec<u8>)> = None;
    for db in 0..srv.dbs.len() {
        let pool_empty = if volatile {
            srv.dbs[db].expires.is_empty()
        } else {
            srv.dbs[db].is_empty()
        };
        if pool_empty {
            continue;
        }
        let mut keys: Vec<Vec<u8>> = Vec::with_capacity(samples);
        {
            let rng = &mut srv.rng;
            let mut r = || rng.next_u64();
            if volatile {
                srv.dbs[db]
                    .expires
                    .sample(samples, &mut r, |k, _| keys.push(k.to_vec()));
            } else {
                srv.dbs[db]
                    .keys
                    .sample(samples, &mut r, |k, _| keys.push(k.to_vec()));
            }
        }
        for k in keys {
            let Some(e) = srv.dbs[db].get(&k) else {
                continue;
            };
            // Higher score = better victim.
            let score = match policy {
                "allkeys-random" | "volatile-random" => 0,
                "volatile-ttl" => {
                    if e.expire == NO_EXPIRE {
                        continue;
                    }
                    -e.expire
                }
                // LRU and LFU both approximated by idle time.
                _ => crate::server::keyspace::db::lru_clock().wrapping_sub(e.lru) as i64,
            };
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, db, k));
            }
        }
        if best.is_some() && policy.ends_with("random") {
            break;
        }
    }
    best.map(|(_, db, k)| (db, k))
}
