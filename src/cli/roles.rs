//! Persisting a new master: the inventory's roles rewritten in place (promote, and deploy after
//! Sentinel failed over) and every host's config re-rendered for its new role, recorded as what
//! the running server runs (its live role already is that), so no restart follows.
use std::sync::Arc;

use super::error::{Error, Result};
use super::group;
use super::inventory::{self, Host, Inventory, Role};
use super::ops;
use super::render::Renderer;
use super::transport;

/// Rewrites the inventory's roles in place (comments kept), re-reads it, says what changed.
pub fn persist_inventory(inv: &Inventory, target: &Host) -> Result<Inventory> {
    let changes: Vec<(String, Role)> = inv
        .hosts
        .iter()
        .filter_map(|h| {
            let want = if h.name == target.name {
                Role::Master
            } else {
                Role::Replica
            };
            (h.role != want).then(|| (h.name.clone(), want))
        })
        .collect();
    if changes.is_empty() {
        return Ok(inv.clone());
    }
    let path = &inv.path;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::failed(format!("cannot read {}: {e}", path.display())))?;
    let manual = || {
        format!(
            "the servers have the new roles, but {} could not be updated: set `role: master` on {} and `role: replica` on the others by hand",
            path.display(),
            target.name
        )
    };
    let new_text =
        inventory::rewrite_roles(&text, &changes).ok_or_else(|| Error::failed(manual()))?;
    let new_inv = inventory::parse(path, &new_text)
        .map_err(|e| Error::failed(format!("{} ({})", manual(), e.message)))?;
    if new_inv.master().name != target.name {
        return Err(Error::failed(manual()));
    }
    let tmp = path.with_file_name(format!(
        ".{}.tripod.tmp",
        path.file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("inventory")
    ));
    let write = || -> std::io::Result<()> {
        std::fs::write(&tmp, &new_text)?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| Error::failed(format!("{} ({e})", manual())))?;
    let old_roles: std::collections::HashMap<&str, Role> = inv
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.role))
        .collect();
    let desc: Vec<String> = changes
        .iter()
        .map(|(n, r)| format!("{n}: {} -> {}", old_roles[n.as_str()].as_str(), r.as_str()))
        .collect();
    out!("updated {}: {}", path.display(), desc.join(", "));
    Ok(new_inv)
}

/// Uploads every host's re-rendered config (no restart: the running servers already have the
/// roles) and records it as what the server runs, so a restart keeps the roles and the next
/// deploy finds nothing to change.
pub async fn upload_configs(inv: &Inventory) -> Vec<String> {
    let renderer = match Renderer::new(inv) {
        Ok(r) => Arc::new(r),
        Err(e) => return vec![e.message],
    };
    let inv2 = Arc::new(inv.clone());
    let results = group::fan_out(
        &inv.hosts,
        move |h, pr| {
            let cfg = renderer.render(&inv2, h)?;
            pr.step(&h.name, "saving the new role in its config");
            let mut t = transport::connect(h)?;
            t.upload(cfg.as_bytes(), &h.redis.config_file(), 0o600)?;
            if ops::inspect(t.as_mut(), h, false)?.running_pid.is_some() {
                ops::record_running(t.as_mut(), h)?;
            }
            Ok(h.role)
        },
        |role: &Role| format!("config saved ({})", role.as_str()),
    )
    .await;
    inv.hosts
        .iter()
        .zip(results)
        .filter_map(|(h, r)| {
            r.err().map(|e| {
                format!(
                    "{}: config not saved ({}); run deploy when it is reachable",
                    h.name, e.message
                )
            })
        })
        .collect()
}
