//! `tripod stop INVENTORY [--kill]`: stop every server cleanly, keeping its data.
//!
//! A server stops only through SHUTDOWN SAVE (or SIGTERM when it cannot be asked), which saves
//! first and refuses to exit when the save fails. A server that refuses or does not exit is
//! left running and reported: only `--kill` sends SIGKILL, and a kill is reported as a failure
//! because the writes since the last save are gone.
//!
//! With a `sentinel:` section the Sentinels are stopped first, all of them, so none fails the
//! master over while the data nodes go down; a Sentinel that cannot be stopped stops the
//! command before any data node is touched.
use crate::cli::error::{Error, Result};
use crate::cli::group;
use crate::cli::inventory::Inventory;
use crate::cli::ops::{self, StopMode, Stopped};
use crate::cli::sentinel::host;
use crate::cli::transport;

/// Stops every host's server in parallel; exit 1 when any did not stop cleanly.
pub async fn run(inv: Inventory, mode: StopMode) -> Result<i32> {
    if let Some(s) = &inv.sentinel {
        let mut tasks = Vec::new();
        for n in s.nodes.iter().cloned() {
            tasks.push(tokio::task::spawn_blocking(move || {
                let r = transport::connect(&n.host).and_then(|mut t| host::stop(t.as_mut(), &n));
                (n, r)
            }));
        }
        let mut failed = Vec::new();
        for t in tasks {
            let Ok((n, r)) = t.await else {
                failed.push("?".to_string());
                continue;
            };
            match r {
                Ok(true) => out!("sentinel {}  stopped", n.name()),
                Ok(false) => out!("sentinel {}  was not running", n.name()),
                Err(e) => {
                    out!("sentinel {}  FAILED: {}", n.name(), e.message);
                    failed.push(n.name().to_string());
                }
            }
        }
        if !failed.is_empty() {
            return Err(Error::failed(format!(
                "the Sentinel on {} could not be stopped; no data node was stopped (a running Sentinel would fail the master over). \
                 Fix the cause and run stop again.",
                failed.join(", ")
            )));
        }
    }
    let results = group::fan_out(
        &inv.hosts,
        move |h, pr| {
            pr.step(&h.name, "connecting");
            let mut t = transport::connect(h)?;
            pr.step(&h.name, "stopping (saving its data)");
            ops::stop(t.as_mut(), h, mode)
        },
        |s: &Stopped| {
            let mut msg = if s.was_running {
                "stopped (data kept)".to_string()
            } else {
                "was not running".to_string()
            };
            if let Some(stale) = &s.removed_stale_pid {
                msg.push_str(&format!(
                    "; removed a stale pid file ({stale}), that process was left alone"
                ));
            }
            msg
        },
    )
    .await;
    Ok(if results.iter().all(|r| r.is_ok()) {
        0
    } else {
        1
    })
}
