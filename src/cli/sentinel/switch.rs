//! deploy's master handover (the rolling restart of the master: the role goes to a replica and
//! comes back) when Sentinels run. A FAILOVER behind the Sentinels' back would not be followed
//! by them: they keep the old master as theirs, count it down while it restarts and fail over
//! on their own, possibly to a third node. So the role moves through Sentinel
//! ([`failover::promote`]), which the Sentinels then agree with; without Sentinels (or before
//! any runs) it is Redis's FAILOVER ([`handover::handover`]).
use std::time::Duration;

use crate::cli::error::{Error, Result};
use crate::cli::handover;
use crate::cli::inventory::{Host, Inventory};
use crate::cli::probe;

use super::ask::{self, Agreement};
use super::failover;

/// How the role moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Redis's FAILOVER (no Sentinel answers).
    Failover,
    /// SENTINEL FAILOVER steered to the target.
    Sentinel,
}

/// Hands the master role from `from` (the live master) to `to` (one of its online replicas),
/// `others` being the group's other replicas; `timeout` bounds how long writes stay paused.
///
/// Contract: as [`handover::handover`] (on success `to` is the master with every write `from`
/// acknowledged, `from` its replica; on error nothing changed), and with Sentinels running
/// every Sentinel names `to` afterwards. When Sentinels answer but do not agree that `from` is
/// the master (a failover under way, say), nothing is done and the error says so.
pub async fn hand_over(
    inv: &Inventory,
    from: &Host,
    to: &Host,
    others: &[&Host],
    timeout: Duration,
) -> Result<Via> {
    if inv.sentinel.is_none() {
        handover::handover(from, to, others, timeout).await?;
        return Ok(Via::Failover);
    }
    let views = ask::view_all(inv).await;
    match ask::agreed_master(inv, &views) {
        Agreement::NoAnswer => {
            out!("no Sentinel answers: handing the master role over with FAILOVER");
            handover::handover(from, to, others, timeout).await?;
            Ok(Via::Failover)
        }
        Agreement::Host(m) if m == from.name => {
            // Replicas that do not answer are left out: Sentinel cannot choose them either.
            let mut reachable = Vec::new();
            for h in others {
                if probe::connect(h, probe::PROBE_TIMEOUT).await.is_ok() {
                    reachable.push((*h).clone());
                }
            }
            out!(
                "Sentinels run: the master role goes from {} to {} through Sentinel",
                from.name,
                to.name
            );
            failover::promote(inv, &views, from, to, &reachable, timeout).await?;
            Ok(Via::Sentinel)
        }
        other => Err(Error::failed(format!(
            "the Sentinels do not agree that {} is the master ({}); not handing the role over behind their back",
            from.name,
            match other {
                Agreement::Host(m) => format!("they name {m}"),
                Agreement::Stranger(ep) => format!("they name {ep}, no host of the inventory"),
                Agreement::Split(sides) => sides.join("; "),
                Agreement::NoAnswer => "none answers".to_string(),
            }
        ))),
    }
}
