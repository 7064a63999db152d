//! `tripod promote INVENTORY NAME [--force] [--timeout S]`: hand the master role to the replica
//! NAME without losing a write, repoint everyone else, persist the new roles (configs and
//! inventory), verify.
//!
//! The handover is FAILOVER ([`handover`]): the server itself pauses writes, waits for NAME to
//! have every byte, and switches, or aborts and resumes writes after `--timeout`; so a slow or
//! stopped target leaves the old master in charge, never two masters. Only `--force` (the master
//! is unreachable) makes a replica master without it, and says what that can lose.
//!
//! With Sentinels running, the role moves through Sentinel instead (a REPLICAOF behind its back
//! would be undone): see [`sentinel::failover`]. With the master down, `--force` waits for
//! Sentinel's own failover rather than racing it.
use std::time::Duration;

use crate::cli::error::{Error, Result};
use crate::cli::group::{self, Snapshot};
use crate::cli::handover::{self, replicaof};
use crate::cli::inventory::{Host, Inventory};
use crate::cli::probe::{self, LiveRole};
use crate::cli::roles;
use crate::cli::sentinel::{self, ask};

const T: Duration = Duration::from_secs(5);
/// How long promote through Sentinel waits for the target's link to the master to come up.
const LINK_WAIT: Duration = Duration::from_secs(10);

/// Promotes `name`; see the module doc. `timeout` bounds how long writes stay paused.
pub async fn run(inv: Inventory, name: &str, force: bool, timeout: Duration) -> Result<i32> {
    let Some(target) = inv.host(name).cloned() else {
        return Err(Error::usage(format!(
            "{} has no host named {name}; its hosts are {}",
            inv.path.display(),
            inv.hosts
                .iter()
                .map(|h| h.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    // With Sentinels, a failover in progress ends first, and the snapshot follows it (the
    // node Sentinel promoted is then a live master, not the replica it was before).
    let views = ask::settled_views(&inv, ask::failover_wait(&inv)).await;
    let snap = Snapshot::take(&inv.hosts).await;
    out!("offsets before: {}", snap.offsets_line());
    if inv.sentinel.is_some() {
        if views.iter().any(|v| v.reachable && v.master.is_some()) {
            through_sentinel(&inv, &snap, views, &target, force, timeout).await?;
            return finish(&inv, &snap, &target).await;
        }
        out!("no Sentinel answers (not deployed yet?): promoting without Sentinel");
    }
    let live_master = snap.live_master();
    let ti = snap.index(&target.name).expect("an inventory host");
    let tinfo = snap.probes[ti].info.clone();

    if live_master == Some(ti) && snap.masters().len() == 1 {
        out!("{} is already the master", target.name);
        if inv.master().name == target.name {
            return Ok(0);
        }
    } else {
        let Some(tinfo) = tinfo else {
            return Err(Error::failed(format!(
                "cannot promote {}: it does not answer: {}",
                target.name,
                snap.probes[ti].error.clone().unwrap_or_default()
            )));
        };
        match live_master.filter(|&m| m != ti) {
            Some(mi) => {
                let old = inv.hosts[mi].clone();
                if tinfo.role != LiveRole::Replica || !tinfo.link_up() || !tinfo.follows(&old) {
                    return Err(Error::failed(format!(
                        "refusing to promote {}: it is not a linked replica of the master {} (role:{}, master_link_status:{})",
                        target.name,
                        old.name,
                        tinfo.role.as_str(),
                        tinfo.master_link_status.as_deref().unwrap_or("-")
                    )));
                }
                let others: Vec<&Host> = inv
                    .hosts
                    .iter()
                    .zip(&snap.probes)
                    .filter(|(h, p)| {
                        h.name != target.name && h.name != old.name && p.info.is_some()
                    })
                    .map(|(h, _)| h)
                    .collect();
                for (h, p) in inv.hosts.iter().zip(&snap.probes) {
                    if p.info.is_none() && h.name != target.name {
                        out!(
                            "warning: {} is unreachable; deploy will repoint it when it is back",
                            h.name
                        );
                    }
                }
                handover::handover(&old, &target, &others, timeout).await?;
            }
            None => force_promote(&inv, &snap, &target, &tinfo, force).await?,
        }
    }

    finish(&inv, &snap, &target).await
}

/// After the switch: persist the roles (the inventory first, it is what later deploys read,
/// then every host's config), verify as deploy does leaving out nodes that are down, and with
/// Sentinels check that they all name the new master.
async fn finish(inv: &Inventory, snap: &Snapshot, target: &Host) -> Result<i32> {
    let new_inv = roles::persist_inventory(inv, target)?;
    let unreachable: Vec<String> = roles::upload_configs(&new_inv).await;

    // Verify as deploy does, leaving out nodes that are down.
    let down: Vec<&str> = inv
        .hosts
        .iter()
        .zip(&snap.probes)
        .filter(|(_, p)| p.info.is_none())
        .map(|(h, _)| h.name.as_str())
        .collect();
    let master = new_inv.master().clone();
    let replicas: Vec<&Host> = new_inv
        .replicas()
        .filter(|h| !down.contains(&h.name.as_str()))
        .collect();
    let mut problems =
        group::wait_healthy(&new_inv.hosts, &master, &replicas, Duration::from_secs(20)).await;
    if new_inv.sentinel.is_some() && down.is_empty() {
        problems.extend(sentinel::plan::wait_verified(&new_inv, Duration::from_secs(30)).await);
    }
    let after = Snapshot::take(&new_inv.hosts).await;
    out!("offsets after:  {}", after.offsets_line());
    for d in &down {
        out!(
            "{d} was unreachable: it must rejoin as a replica of {}; run `tripod deploy {}` when it is back",
            master.name,
            new_inv.path.display()
        );
    }
    for u in &unreachable {
        out!("warning: {u}");
    }
    if problems.is_empty() {
        out!(
            "replication verified: {} is master with {} replica(s) online",
            master.name,
            replicas.len()
        );
        Ok(0)
    } else {
        out!("replication NOT verified:");
        for p in &problems {
            out!("  - {p}");
        }
        Ok(1)
    }
}

/// promote with Sentinels running: through SENTINEL FAILOVER ([`sentinel::failover`]). The
/// master is the one the Sentinels name; when it is down, `--force` waits for Sentinel's own
/// failover and then, if Sentinel chose another replica, moves the role on to `target`.
async fn through_sentinel(
    inv: &Inventory,
    snap: &Snapshot,
    views: Vec<ask::View>,
    target: &Host,
    force: bool,
    timeout: Duration,
) -> Result<()> {
    let live_master = |name: &str, snap: &Snapshot| {
        snap.probe_of(name)
            .and_then(|p| p.info.as_ref())
            .is_some_and(|i| i.role == LiveRole::Master)
    };
    let mut views = views;
    let mut snap = snap.clone();
    let master = match ask::agreed_master(inv, &views) {
        ask::Agreement::Host(m) if live_master(&m, &snap) => inv.host(&m).cloned().expect("a host"),
        ask::Agreement::Host(m) => {
            let dead = inv.host(&m).cloned().expect("a host");
            if !force {
                return Err(Error::failed(format!(
                    "the Sentinels' master {m} is not a live master ({}); Sentinel fails it over after down_after_ms. \
                     Nothing was changed; promote --force waits for Sentinel's failover and then promotes {}",
                    snap.probe_of(&m).and_then(|p| p.error.clone()).unwrap_or_else(|| "not a master".into()),
                    target.name
                )));
            }
            let new = sentinel::failover::wait_for_sentinel_failover(inv, &dead).await?;
            views = ask::settled_views(inv, ask::failover_wait(inv)).await;
            snap = Snapshot::take(&inv.hosts).await;
            new
        }
        ask::Agreement::Stranger(ep) => {
            return Err(Error::failed(format!(
                "the Sentinels name {ep} as the master, which is no host of the inventory; nothing was changed"
            )))
        }
        ask::Agreement::Split(sides) => {
            return Err(Error::failed(format!(
                "the Sentinels disagree about the master ({}); a failover may be under way. Nothing was changed; try again",
                sides.join("; ")
            )))
        }
        ask::Agreement::NoAnswer => {
            return Err(Error::failed("no Sentinel names a master; nothing was changed"))
        }
    };
    if master.name == target.name {
        out!("{} is already the master (Sentinel agrees)", target.name);
        return Ok(());
    }
    // Right after a Sentinel failover the target may still be resyncing with the new master:
    // give its link a few seconds to come up.
    let linked_of = |snap: &Snapshot| {
        let tinfo = snap.probe_of(&target.name).and_then(|p| p.info.clone());
        let linked = tinfo
            .as_ref()
            .is_some_and(|t| t.role == LiveRole::Replica && t.link_up() && t.follows(&master));
        (tinfo, linked)
    };
    let link_deadline = std::time::Instant::now() + LINK_WAIT;
    let (tinfo, linked) = loop {
        let (tinfo, linked) = linked_of(&snap);
        if linked || std::time::Instant::now() >= link_deadline {
            break (tinfo, linked);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        snap = Snapshot::take(&inv.hosts).await;
    };
    if !linked {
        return Err(Error::failed(format!(
            "refusing to promote {}: it is not a linked replica of the master {} ({}); nothing was changed",
            target.name,
            master.name,
            match &tinfo {
                Some(t) => format!(
                    "role:{}, master_link_status:{}",
                    t.role.as_str(),
                    t.master_link_status.as_deref().unwrap_or("-")
                ),
                None => "it does not answer".to_string(),
            }
        )));
    }
    let others: Vec<Host> = inv
        .hosts
        .iter()
        .zip(&snap.probes)
        .filter(|(h, p)| h.name != target.name && h.name != master.name && p.info.is_some())
        .map(|(h, _)| h.clone())
        .collect();
    sentinel::failover::promote(inv, &views, &master, target, &others, timeout).await
}

/// The master is unreachable: with `force`, make `target` master without a handover and
/// repoint the reachable replicas (writes the old master had not sent are lost, as the
/// refusal without `force` says).
async fn force_promote(
    inv: &Inventory,
    snap: &Snapshot,
    target: &Host,
    tinfo: &probe::ReplInfo,
    force: bool,
) -> Result<()> {
    if !force {
        let mp = snap
            .probe_of(&inv.master().name)
            .expect("an inventory host");
        return Err(Error::failed(format!(
            "the master {} is unreachable ({}); nothing was changed. To promote {} anyway, run promote --force \
             (writes the master had not yet sent to {} are lost)",
            inv.master().name,
            mp.error.clone().unwrap_or_else(|| "it is not a master".into()),
            target.name,
            target.name
        )));
    }
    if tinfo.role != LiveRole::Replica {
        return Err(Error::failed(format!(
            "refusing to promote {}: it reports role:{}, not a replica",
            target.name,
            tinfo.role.as_str()
        )));
    }
    out!(
        "--force: the master {} is unreachable; promoting {} at offset {}",
        inv.master().name,
        target.name,
        tinfo.offset()
    );
    let mut con = probe::connect(target, T).await?;
    replicaof(target, &mut con, None).await?;
    for (h, p) in inv.hosts.iter().zip(&snap.probes) {
        if h.name == target.name || p.info.is_none() {
            continue;
        }
        let r = async {
            let mut c = probe::connect(h, T).await?;
            replicaof(h, &mut c, Some(target)).await
        }
        .await;
        match r {
            Ok(()) => out!("{} now replicates from {}", h.name, target.name),
            Err(e) => out!("warning: could not repoint {}: {}", h.name, e.message),
        }
    }
    Ok(())
}
