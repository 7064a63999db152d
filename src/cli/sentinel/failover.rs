//! promote through Sentinel: make Sentinel choose the target instead of fighting it (a plain
//! REPLICAOF would be undone by Sentinel).
//!
//! 1. The other replicas get `replica-priority 0` (Sentinel never promotes those), the target a
//!    non-zero one; tripod waits until the Sentinel that will lead has read them (it reads
//!    replicas' INFO every 10 s).
//! 2. The old master pauses writes (CLIENT PAUSE WRITE) and the target catches up with every
//!    byte it acknowledged; if it does not within the timeout, writes resume and nothing changed.
//! 3. SENTINEL FAILOVER on that Sentinel; tripod waits until the Sentinels name the target
//!    (`+switch-master`) and it reports role:master.
//! 4. The old master, still paused, becomes the target's replica (so no write lands on it after
//!    the switch), then writes are unpaused (a writer now gets READONLY there and follows
//!    Sentinel to the new master); the priorities are restored. Sentinel repoints the other
//!    replicas itself.
//!
//! As in the plain handover, nodes the inventory makes writable replicas
//! (`replica-read-only no`) are read-only from before the pause until after it (so a paused
//! write released on the demoted master is refused there, not taken by a replica), and
//! writable again afterwards.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::cli::error::{Error, Result};
use crate::cli::group;
use crate::cli::handover::{read_only_for_switch, replicaof, restore_writable};
use crate::cli::inventory::{Host, Inventory};
use crate::cli::probe::{self, LiveRole};

use super::ask::{self, View};

/// How long one command may take.
const STEP: Duration = Duration::from_secs(5);
/// How long the leading Sentinel may take to read new replica priorities (it reads a
/// replica's INFO every 10 s).
const PRIORITY_LIMIT: Duration = Duration::from_secs(25);

/// Reads a replica's `replica-priority` with CONFIG GET.
async fn get_priority(h: &Host) -> Result<String> {
    let mut c = probe::connect(h, STEP).await?;
    let v: Vec<String> = probe::cmd(
        h,
        &mut c,
        redis::cmd("CONFIG").arg("GET").arg("replica-priority"),
        STEP,
    )
    .await?;
    Ok(v.get(1).cloned().unwrap_or_else(|| "100".to_string()))
}

/// Sets a node's `replica-priority` with CONFIG SET.
async fn set_priority(h: &Host, value: &str) -> Result<()> {
    let mut c = probe::connect(h, STEP).await?;
    let _: String = probe::cmd(
        h,
        &mut c,
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("replica-priority")
            .arg(value),
        STEP,
    )
    .await?;
    Ok(())
}

/// Puts back the priorities in `saved`, warning about any it cannot.
async fn restore(saved: &HashMap<String, (Host, String)>) {
    for (h, v) in saved.values() {
        if let Err(e) = set_priority(h, v).await {
            out!(
                "warning: could not restore replica-priority {v} on {}: {}",
                h.name,
                e.message
            );
        }
    }
}

/// CLIENT PAUSE WRITE / CLIENT UNPAUSE on `h`.
async fn pause(h: &Host, ms: Option<u128>) -> Result<()> {
    let mut c = probe::connect(h, STEP).await?;
    let cmd = match ms {
        Some(ms) => redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(ms.to_string())
            .arg("WRITE")
            .to_owned(),
        None => redis::cmd("CLIENT").arg("UNPAUSE").to_owned(),
    };
    let _: String = probe::cmd(h, &mut c, &cmd, STEP).await?;
    Ok(())
}

/// Whether Sentinel would choose this replica (a `SENTINEL REPLICAS` entry) now, as its
/// replica selection sees it: a replica reporting role slave with its link to the master up,
/// not down nor disconnected, that answered a PING and whose INFO it read within the last
/// 5 s (the validity Sentinel applies while the master is down; a replica it has just learnt
/// of, after a `+switch-master`, has no INFO read yet and a default priority).
fn eligible(f: &HashMap<String, String>) -> bool {
    let ms = |k: &str| f.get(k).and_then(|v| v.parse::<u64>().ok());
    let flags = f.get("flags").map_or("", String::as_str);
    !flags.contains("s_down")
        && !flags.contains("o_down")
        && !flags.contains("disconnected")
        && f.get("role-reported").map(String::as_str) == Some("slave")
        && f.get("master-link-status").map(String::as_str) == Some("ok")
        && ms("info-refresh").is_some_and(|v| v < 5_000)
        && ms("last-ok-ping-reply").is_some_and(|v| v < 5_000)
}

/// Waits until Sentinel `leader` reads the wanted priorities: 0 for `zero`, not 0 for `target`,
/// and sees `target` as a replica it may choose ([`eligible`]).
async fn wait_priorities(
    inv: &Inventory,
    leader: &View,
    target: &Host,
    zero: &[Host],
) -> Result<()> {
    let deadline = Instant::now() + PRIORITY_LIMIT;
    loop {
        let mut con = ask::connect(&leader.node).await?;
        let list = ask::replicas(&leader.node, &mut con, &inv.cluster).await?;
        let entry = |h: &Host| {
            list.iter().find(|f| {
                f.get("port").and_then(|p| p.parse::<u16>().ok()) == Some(h.redis.port)
                    && f.get("ip").is_some_and(|ip| {
                        ask::host_at(inv, ip, h.redis.port).map(|x| x.name.as_str())
                            == Some(h.name.as_str())
                    })
            })
        };
        let prio = |h: &Host| entry(h).and_then(|f| f.get("slave-priority").cloned());
        let ok = prio(target).is_some_and(|p| p != "0")
            && entry(target).is_some_and(eligible)
            && zero.iter().all(|h| prio(h).as_deref() == Some("0"));
        if ok {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::failed(format!(
                "Sentinel {} did not read the new replica priorities, or did not see {} as a replica it may choose, within {PRIORITY_LIMIT:?}",
                leader.node.name(),
                target.name
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Makes `target` (a linked replica of the live master `old`) the master through Sentinel,
/// losing no acknowledged write; see the module doc. `views` are the Sentinels as asked just
/// before; `timeout` bounds how long writes stay paused waiting for `target` to catch up.
///
/// Contract: on error before SENTINEL FAILOVER was accepted, nothing changed (priorities
/// restored, writes unpaused, `old` still the master).
pub async fn promote(
    inv: &Inventory,
    views: &[View],
    old: &Host,
    target: &Host,
    others: &[Host],
    timeout: Duration,
) -> Result<()> {
    let old_ep = old.endpoint();
    let Some(leader) = views
        .iter()
        .find(|v| v.reachable && v.master_endpoint().as_deref() == Some(old_ep.as_str()))
    else {
        return Err(Error::failed(format!(
            "no Sentinel answers with {} as the master; nothing was changed",
            old.name
        )));
    };
    // 1. priorities
    let mut saved: HashMap<String, (Host, String)> = HashMap::new();
    let r = async {
        for h in others {
            let p = get_priority(h).await?;
            saved.insert(h.name.clone(), (h.clone(), p));
            set_priority(h, "0").await?;
        }
        let tp = get_priority(target).await?;
        if tp == "0" {
            saved.insert(target.name.clone(), (target.clone(), tp));
            set_priority(target, "100").await?;
        }
        out!(
            "waiting until Sentinel {} sees the replica priorities (only {} may be chosen)",
            leader.node.name(),
            target.name
        );
        wait_priorities(inv, leader, target, others).await
    }
    .await;
    if let Err(e) = r {
        restore(&saved).await;
        return Err(Error::failed(format!("{}; nothing was changed", e.message)));
    }
    // Writable replicas read-only for the switch (see the module doc).
    let writable = match read_only_for_switch(
        std::iter::once(old)
            .chain(std::iter::once(target))
            .chain(others.iter()),
    )
    .await
    {
        Ok(w) => w,
        Err(e) => {
            restore(&saved).await;
            return Err(e);
        }
    };
    // 2. pause writes on the old master until the target has every byte
    let pause_ms = (timeout + Duration::from_secs(30)).as_millis();
    if let Err(e) = pause(old, Some(pause_ms)).await {
        restore_writable(&writable).await;
        restore(&saved).await;
        return Err(Error::failed(format!(
            "cannot pause writes on {}: {}; nothing was changed",
            old.name, e.message
        )));
    }
    out!(
        "writes paused on {}; waiting until {} has every byte (at most {timeout:?})",
        old.name,
        target.name
    );
    if let Err(e) = group::wait_caught_up(old, target, timeout).await {
        let _ = pause(old, None).await;
        restore_writable(&writable).await;
        restore(&saved).await;
        return Err(Error::failed(format!(
            "{}; writes resumed on {}, which stays the master; nothing was changed",
            e.message, old.name
        )));
    }
    // 3. SENTINEL FAILOVER
    let started = Instant::now();
    let r = async {
        let mut con = ask::connect(&leader.node).await?;
        ask::failover(&leader.node, &mut con, &inv.cluster).await?;
        Ok::<_, Error>(())
    }
    .await;
    if let Err(e) = r {
        let _ = pause(old, None).await;
        restore_writable(&writable).await;
        restore(&saved).await;
        return Err(Error::failed(format!(
            "SENTINEL FAILOVER on {} was refused: {}; writes resumed on {}, nothing was changed",
            leader.node.name(),
            e.message,
            old.name
        )));
    }
    out!(
        "SENTINEL FAILOVER {} sent to the Sentinel on {}",
        inv.cluster,
        leader.node.name()
    );
    let limit = Duration::from_millis(
        inv.sentinel
            .as_ref()
            .map_or(60_000, |s| s.failover_timeout_ms)
            .max(10_000),
    );
    let switched = wait_switch(inv, target, limit).await;
    if let Err(e) = switched {
        // Writes stay paused on the old master until the pause expires: Sentinel may still
        // finish, and a write taken by the old master now could be lost. Writable replicas
        // stay read-only for the same reason (deploy makes them writable again).
        restore(&saved).await;
        return Err(Error::failed(format!(
            "{}; writes on {} stay paused until the pause ends ({} s){}; check `tripod status`",
            e.message,
            old.name,
            pause_ms / 1000,
            if writable.is_empty() {
                String::new()
            } else {
                format!(
                    ", and {} stay read-only until the next deploy",
                    writable
                        .iter()
                        .map(|h| h.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        )));
    }
    out!(
        "Sentinel switched the master to {} in {:.1}s",
        target.name,
        started.elapsed().as_secs_f64()
    );
    // 4. the old master follows the new one before it takes writes again
    let r = async {
        let mut c = probe::connect(old, STEP).await?;
        replicaof(old, &mut c, Some(target)).await
    }
    .await;
    if let Err(e) = &r {
        out!(
            "warning: could not make {} a replica of {} ({}); Sentinel will",
            old.name,
            target.name,
            e.message
        );
    }
    let _ = pause(old, None).await;
    if !writable.is_empty() {
        // Paused writes are released right after the unpause; give them time to be refused.
        tokio::time::sleep(Duration::from_millis(500)).await;
        restore_writable(&writable).await;
    }
    restore(&saved).await;
    Ok(())
}

/// Waits until every reachable Sentinel names `target` and `target` reports role:master.
async fn wait_switch(inv: &Inventory, target: &Host, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    let want = target.endpoint();
    loop {
        let views = ask::view_all(inv).await;
        let named = views.iter().filter(|v| v.reachable).all(|v| {
            v.master_endpoint().as_deref() == Some(want.as_str()) && !v.failover_in_progress()
        });
        let is_master = async {
            let mut c = probe::connect(target, STEP).await?;
            probe::info_replication(target, &mut c, STEP).await
        }
        .await
        .is_ok_and(|i| i.role == LiveRole::Master);
        if named && is_master {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::failed(format!(
                "the Sentinels did not switch the master to {} within {limit:?}",
                target.name
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `promote --force` with the master down while Sentinels run: Sentinel is (or will be) failing
/// over; wait for it rather than racing it. Returns the master the Sentinels settle on (a host
/// of the group that reports role:master), within down-after plus the failover timeout.
pub async fn wait_for_sentinel_failover(inv: &Inventory, dead: &Host) -> Result<Host> {
    let s = inv.sentinel.as_ref().expect("a sentinel section");
    let limit = Duration::from_millis(s.down_after_ms + s.failover_timeout_ms.min(60_000))
        + Duration::from_secs(10);
    out!(
        "the master {} is down and Sentinels run: waiting for their failover (at most {:.0}s) instead of racing it",
        dead.name,
        limit.as_secs_f64()
    );
    let deadline = Instant::now() + limit;
    loop {
        let views = ask::view_all(inv).await;
        if let ask::Agreement::Host(name) = ask::agreed_master(inv, &views) {
            // (agreed_master counts a failover in progress as no agreement)
            if name != dead.name {
                let h = inv.host(&name).cloned().expect("a host of the group");
                let live = async {
                    let mut c = probe::connect(&h, STEP).await?;
                    probe::info_replication(&h, &mut c, STEP).await
                }
                .await
                .is_ok_and(|i| i.role == LiveRole::Master);
                if live {
                    out!("Sentinel made {name} the master");
                    return Ok(h);
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::failed(format!(
                "the Sentinels did not fail over from {} within {limit:?}; check `tripod status`",
                dead.name
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
