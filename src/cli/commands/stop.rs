//! `tripod stop INVENTORY`: stop every server cleanly (SHUTDOWN, then the pid file), keep data.
use std::sync::Arc;

use crate::cli::error::{Error, Result};
use crate::cli::inventory::Inventory;
use crate::cli::ops;
use crate::cli::report::Progress;
use crate::cli::transport;

pub async fn run(inv: Inventory) -> Result<i32> {
    let names: Vec<String> = inv.hosts.iter().map(|h| h.name.clone()).collect();
    let progress = Arc::new(Progress::new(&names));
    let mut tasks = Vec::new();
    for h in inv.hosts.iter().cloned() {
        let pr = progress.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            pr.step(&h.name, "connecting");
            let r = transport::connect(&h).and_then(|mut t| {
                pr.step(&h.name, "stopping");
                ops::stop(t.as_mut(), &h)
            });
            match &r {
                Ok(true) => pr.finish(&h.name, true, "stopped (data kept)"),
                Ok(false) => pr.finish(&h.name, true, "was not running"),
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
