//! `tripod stop INVENTORY [--kill]`: stop every server cleanly, keeping its data.
//!
//! A server stops only through SHUTDOWN (or SIGTERM when it cannot be asked), both of which save
//! first when save points are set and refuse to exit when the save fails. A server that refuses
//! or does not exit is left running and reported: only `--kill` sends SIGKILL, and a kill is
//! reported as a failure because the writes since the last save are gone.
use std::sync::Arc;

use crate::cli::error::{Error, Result};
use crate::cli::inventory::Inventory;
use crate::cli::ops::{self, StopMode};
use crate::cli::report::Progress;
use crate::cli::transport;

/// Stops every host's server in parallel; exit 1 when any did not stop cleanly.
pub async fn run(inv: Inventory, mode: StopMode) -> Result<i32> {
    let names: Vec<String> = inv.hosts.iter().map(|h| h.name.clone()).collect();
    let progress = Arc::new(Progress::new(&names));
    let mut tasks = Vec::new();
    for h in inv.hosts.iter().cloned() {
        let pr = progress.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            pr.step(&h.name, "connecting");
            let r = transport::connect(&h).and_then(|mut t| {
                pr.step(&h.name, "stopping");
                ops::stop(t.as_mut(), &h, mode)
            });
            match &r {
                Ok(s) => {
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
                    pr.finish(&h.name, true, &msg)
                }
                Err(e) => pr.finish(&h.name, false, &e.message),
            }
            r
        }));
    }
    let mut code = 0;
    for (t, h) in tasks.into_iter().zip(&inv.hosts) {
        let r = t
            .await
            .unwrap_or_else(|e| Err(Error::failed(format!("host {}: {e}", h.name))));
        if r.is_err() {
            code = 1;
        }
    }
    Ok(code)
}
