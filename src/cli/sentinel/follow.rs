//! The live master is Sentinel's master. Before deploy plans, the Sentinels are asked which
//! node is the master; when they agree on another node than the inventory's, and that node is
//! a live master, the inventory is brought in line (rewritten in place, as promote does) so the
//! deploy does not demote Sentinel's choice.
use crate::cli::error::{Error, Result};
use crate::cli::group::Snapshot;
use crate::cli::inventory::Inventory;
use crate::cli::probe::LiveRole;
use crate::cli::roles;

use super::ask::{self, Agreement};

/// Returns the inventory deploy goes on with, and the snapshot over its hosts. Without
/// Sentinels, or when none answers, or when they name the inventory's master, `inv` unchanged.
/// When they name another live master: with `dry_run` the same group with that master (the file
/// untouched, the output says it would be updated), else the rewritten inventory. When they
/// disagree, name a node that is not a live master, or an address outside the group: an error
/// (a failover is under way or the group is in trouble), unless `force`, which goes on with the
/// inventory as written.
pub async fn follow(
    inv: Inventory,
    snap: Snapshot,
    dry_run: bool,
    force: bool,
) -> Result<(Inventory, Snapshot)> {
    if inv.sentinel.is_none() {
        return Ok((inv, snap));
    }
    let views = ask::settled_views(&inv, ask::failover_wait(&inv)).await;
    let problem = match ask::agreed_master(&inv, &views) {
        Agreement::NoAnswer => return Ok((inv, snap)),
        Agreement::Host(name) if name == inv.master().name => {
            // The Sentinels' master is down while a replica is up: they are about to fail
            // over (after down_after_ms); restarting it now would race them. With no node up
            // Sentinel cannot fail over, and deploy starting the master is what it waits for.
            let live = |n: &str| {
                snap.probe_of(n)
                    .and_then(|p| p.info.as_ref())
                    .is_some_and(|i| i.role == LiveRole::Master)
            };
            let replica_up = inv
                .replicas()
                .any(|h| snap.probe_of(&h.name).is_some_and(|p| p.info.is_some()));
            if live(&name) || !replica_up {
                return Ok((inv, snap));
            }
            format!(
                "the master {name} is down and the Sentinels have not failed it over yet (they do after down_after_ms); \
                 restarting it now would race them"
            )
        }
        Agreement::Host(name) => {
            let live = snap
                .probe_of(&name)
                .and_then(|p| p.info.as_ref())
                .is_some_and(|i| i.role == LiveRole::Master);
            if live {
                out!(
                    "Sentinel made {name} the master (the inventory {} says {}): {}",
                    inv.path.display(),
                    inv.master().name,
                    if dry_run {
                        "deploy would update the inventory and keep it master"
                    } else {
                        "updating the inventory; deploy keeps it master"
                    }
                );
                let target = inv.host(&name).cloned().expect("a host of the group");
                let new_inv = if dry_run {
                    inv.with_master(&name)
                } else {
                    roles::persist_inventory(&inv, &target)?
                };
                let snap = Snapshot {
                    hosts: new_inv.hosts.clone(),
                    probes: snap.probes,
                };
                return Ok((new_inv, snap));
            }
            format!(
                "the Sentinels name {name} as the master, but it is not a live master ({}); a failover may be under way",
                snap.probe_of(&name)
                    .and_then(|p| p.info.as_ref().map(|i| format!("role:{}", i.role.as_str())).or(p.error.clone()))
                    .unwrap_or_default()
            )
        }
        Agreement::Stranger(ep) => format!(
            "the Sentinels name {ep} as the master of {}, which is no host of the inventory",
            inv.cluster
        ),
        Agreement::Split(sides) => format!(
            "the Sentinels disagree about the master ({}); a failover may be under way",
            sides.join("; ")
        ),
    };
    if force {
        out!("warning: {problem}\n--force: deploying the inventory's roles anyway.");
        return Ok((inv, snap));
    }
    Err(Error::failed(format!(
        "{problem}.\nNothing was changed. Wait until `tripod status` shows one master the Sentinels agree on and deploy again; \
         deploy --force deploys the inventory's roles anyway (a live master it demotes loses the writes it took since)."
    )))
}
