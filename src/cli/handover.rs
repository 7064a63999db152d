//! Moving the master role from one live node to another without losing a write.
//!
//! The handover is Redis's own FAILOVER: the master pauses writes, waits until the target has
//! acknowledged every byte of the stream, and only then turns itself into the target's replica
//! and tells the target (PSYNC ... FAILOVER) to take over. When the target does not catch up
//! before the timeout, the server aborts and resumes writes by itself. So the deadline lives
//! inside the server: there is never a window where two nodes are masters, nor one where the old
//! master takes writes the new one will not have, however slow this control machine or its link
//! is. tripod only prepares (masterauth for the demoted node, replicas read-only while paused
//! writes drain) and checks the outcome.
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

use super::error::{Error, Result};
use super::inventory::Host;
use super::probe::{self, Failure, LiveRole, ReplInfo};

/// How long one command of the handover may take.
const STEP: Duration = Duration::from_secs(5);

/// Points `host` at `master` (after giving it the password it needs), or makes it a master
/// (`None`).
pub async fn replicaof(
    host: &Host,
    con: &mut MultiplexedConnection,
    master: Option<&Host>,
) -> Result<()> {
    match master {
        None => {
            let _: String = probe::cmd(
                host,
                con,
                redis::cmd("REPLICAOF").arg("NO").arg("ONE"),
                STEP,
            )
            .await?;
        }
        Some(m) => {
            set_masterauth(host, con).await?;
            let _: String = probe::cmd(
                host,
                con,
                redis::cmd("REPLICAOF")
                    .arg(&m.address)
                    .arg(m.redis.port.to_string()),
                STEP,
            )
            .await?;
        }
    }
    Ok(())
}

/// `CONFIG SET masterauth` to the group's password (with `acl.replication_user`: `masteruser`
/// and `masterauth` to that user's), so the node can follow another one.
async fn set_masterauth(host: &Host, con: &mut MultiplexedConnection) -> Result<()> {
    if let Some((user, pw)) = &host.redis.replication {
        let _: String = probe::cmd(
            host,
            con,
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("masteruser")
                .arg(user)
                .arg("masterauth")
                .arg(pw),
            STEP,
        )
        .await?;
    } else if let Some(pw) = &host.redis.password {
        let _: String = probe::cmd(
            host,
            con,
            redis::cmd("CONFIG").arg("SET").arg("masterauth").arg(pw),
            STEP,
        )
        .await?;
    }
    Ok(())
}

async fn set_read_only(host: &Host, yes: bool) -> probe::ProbeResult<()> {
    let mut c = probe::connect(host, STEP).await?;
    let _: String = probe::cmd(
        host,
        &mut c,
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("replica-read-only")
            .arg(if yes { "yes" } else { "no" }),
        STEP,
    )
    .await?;
    Ok(())
}

/// Hands the master role from `from` (a live master) to `to` (one of its online replicas) with
/// FAILOVER ... TIMEOUT, then points `others` at `to`.
///
/// Contract: on success `to` is the master and `from` its replica, with every write `from`
/// acknowledged present on `to`. On error nothing changed: `from` is still the only master
/// (the server aborted the failover and resumed writes), and the message says why. While writes
/// are paused, every node is read-only, so a paused write released on the demoted node is refused
/// there instead of landing on a replica; nodes the inventory makes writable replicas
/// (`replica-read-only no`) get that back afterwards.
pub async fn handover(from: &Host, to: &Host, others: &[&Host], timeout: Duration) -> Result<()> {
    let mut fcon = probe::connect(from, STEP).await?;
    let info = probe::info_replication(from, &mut fcon, STEP).await?;
    if info.role != LiveRole::Master {
        return Err(Error::failed(format!(
            "cannot hand over from {}: it is not a master (role:{})",
            from.name,
            info.role.as_str()
        )));
    }
    let Some(line) = info.slave_line(to).cloned() else {
        return Err(Error::failed(format!(
            "cannot hand over to {}: {} does not list it as a replica",
            to.name, from.name
        )));
    };
    if line.state != "online" {
        return Err(Error::failed(format!(
            "cannot hand over to {}: it is not an online replica of {} (state={})",
            to.name, from.name, line.state
        )));
    }
    set_masterauth(from, &mut fcon).await?;
    // Writable replicas become read-only for the handover (see the contract).
    let writable = read_only_for_switch(
        std::iter::once(from)
            .chain(std::iter::once(to))
            .chain(others.iter().copied()),
    )
    .await?;
    let result = failover(from, to, &mut fcon, &line.ip, line.port, timeout).await;
    if result.is_ok() {
        for h in others {
            let r = async {
                let mut c = probe::connect(h, STEP).await?;
                replicaof(h, &mut c, Some(to)).await
            }
            .await;
            match r {
                Ok(()) => out!("{} now replicates from {}", h.name, to.name),
                Err(e) => out!(
                    "warning: could not repoint {} at {}: {}; deploy will",
                    h.name,
                    to.name,
                    e.message
                ),
            }
        }
    }
    if !writable.is_empty() {
        // Paused writes are released right after the switch; give them time to be refused.
        tokio::time::sleep(Duration::from_millis(500)).await;
        restore_writable(&writable).await;
    }
    result
}

/// Makes every host of `hosts` that the inventory makes a writable replica
/// (`replica-read-only no`) read-only, for the time of a switch of the master role, so a write
/// paused on the old master and released after it became a replica is refused there
/// (READONLY) instead of landing on a replica. A node that does not answer takes no writes
/// either, and is left out. Returns the hosts changed, for [`restore_writable`]; on error
/// those already changed are restored and nothing is changed.
pub async fn read_only_for_switch<'a>(
    hosts: impl Iterator<Item = &'a Host>,
) -> Result<Vec<&'a Host>> {
    let mut writable: Vec<&Host> = Vec::new();
    for h in hosts.filter(|h| !h.redis.replica_read_only()) {
        match set_read_only(h, true).await {
            Ok(()) => writable.push(h),
            Err(e) if matches!(e.kind, Failure::ConnectionRefused | Failure::Timeout) => {}
            Err(e) => {
                restore_writable(&writable).await;
                return Err(Error::failed(format!(
                    "cannot hand over: making {} read-only for the handover failed: {}; nothing was changed",
                    h.name, e.message
                )));
            }
        }
    }
    Ok(writable)
}

/// Gives the hosts [`read_only_for_switch`] changed their `replica-read-only no` back,
/// warning about any it cannot (the next deploy restores it).
pub async fn restore_writable(hosts: &[&Host]) {
    for h in hosts {
        if let Err(e) = set_read_only(h, false).await {
            out!(
                "warning: {} stays read-only (replica-read-only no could not be restored: {}); deploy restores it",
                h.name,
                e.message
            );
        }
    }
}

async fn failover(
    from: &Host,
    to: &Host,
    fcon: &mut MultiplexedConnection,
    ip: &str,
    port: u16,
    timeout: Duration,
) -> Result<()> {
    let ms = timeout.as_millis().max(1).to_string();
    let _: String = probe::cmd(
        from,
        fcon,
        redis::cmd("FAILOVER")
            .arg("TO")
            .arg(ip)
            .arg(port.to_string())
            .arg("TIMEOUT")
            .arg(&ms),
        STEP,
    )
    .await?;
    out!(
        "FAILOVER from {} to {} started (writes paused until {} has every byte, at most {:?})",
        from.name,
        to.name,
        to.name,
        timeout
    );
    // The server ends the failover itself (done or aborted); wait for that, and a little past
    // the timeout for the switch itself.
    let deadline = Instant::now() + timeout + Duration::from_secs(10);
    let last: ReplInfo = loop {
        let i = probe::info_replication(from, fcon, STEP).await?;
        if i.failover_state.as_deref().unwrap_or("no-failover") == "no-failover" {
            break i;
        }
        if Instant::now() >= deadline {
            let _: std::result::Result<String, _> =
                probe::cmd(from, fcon, redis::cmd("FAILOVER").arg("ABORT"), STEP).await;
            return Err(Error::failed(format!(
                "the handover from {} to {} did not finish in {:?}; it was aborted and {} stays the master",
                from.name,
                to.name,
                timeout + Duration::from_secs(10),
                from.name
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    if last.role == LiveRole::Master {
        return Err(Error::failed(format!(
            "the handover to {} was aborted: it did not acknowledge every write within {:?} (a slow or stopped node?). \
             {} is still the master and resumed writes; nothing was lost or changed",
            to.name, timeout, from.name
        )));
    }
    // `from` is a replica now; `to` must be the master it follows.
    let mut tcon = probe::connect(to, STEP).await?;
    let t = probe::info_replication(to, &mut tcon, STEP).await?;
    if t.role != LiveRole::Master {
        return Err(Error::failed(format!(
            "after FAILOVER, {} reports role:{} and {} role:{}; check `tripod status`",
            to.name,
            t.role.as_str(),
            from.name,
            last.role.as_str()
        )));
    }
    out!(
        "{} is now the master (from offset {}); {} replicates from it",
        to.name,
        t.master_repl_offset,
        from.name
    );
    Ok(())
}
