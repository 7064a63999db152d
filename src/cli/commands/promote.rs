//! `tripod promote INVENTORY NAME [--force]`: hand the master role to the replica NAME without
//! losing a write, repoint everyone else, persist the new roles (configs and inventory), verify.
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

use crate::cli::error::{Error, Result};
use crate::cli::inventory::{self, Host, Inventory, Role};
use crate::cli::probe::{self, LiveRole, Probe};
use crate::cli::render::Renderer;
use crate::cli::report::Progress;
use crate::cli::transport;

const T: Duration = Duration::from_secs(5);
/// How long writes stay paused on the old master at most while the target catches up.
const PAUSE_MS: u64 = 10_000;

fn offsets_line(hosts: &[Host], probes: &[Probe]) -> String {
    hosts
        .iter()
        .zip(probes)
        .map(|(h, p)| match &p.info {
            Some(i) => format!("{} ({}) {}", h.name, i.role.as_str(), i.offset()),
            None => format!("{} unreachable", h.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn replicaof(
    host: &Host,
    con: &mut MultiplexedConnection,
    master: Option<&Host>,
) -> Result<()> {
    match master {
        None => {
            let _: String =
                probe::cmd(host, con, redis::cmd("REPLICAOF").arg("NO").arg("ONE"), T).await?;
        }
        Some(m) => {
            if let Some(pw) = &host.redis.password {
                let _: String = probe::cmd(
                    host,
                    con,
                    redis::cmd("CONFIG").arg("SET").arg("masterauth").arg(pw),
                    T,
                )
                .await?;
            }
            let _: String = probe::cmd(
                host,
                con,
                redis::cmd("REPLICAOF")
                    .arg(&m.address)
                    .arg(m.redis.port.to_string()),
                T,
            )
            .await?;
        }
    }
    Ok(())
}

pub async fn run(inv: Inventory, name: &str, force: bool) -> Result<i32> {
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
    let probes = probe::probe_all(&inv.hosts, probe::PROBE_TIMEOUT).await;
    out!("offsets before: {}", offsets_line(&inv.hosts, &probes));

    // The live master: a reachable node with role:master, preferring one with replicas, then
    // the inventory's master.
    let live: Vec<usize> = (0..inv.hosts.len())
        .filter(|&i| {
            probes[i]
                .info
                .as_ref()
                .is_some_and(|x| x.role == LiveRole::Master)
        })
        .collect();
    let live_master = live.iter().copied().max_by_key(|&i| {
        let info = probes[i].info.as_ref().expect("filtered");
        (info.connected_slaves, inv.hosts[i].role == Role::Master)
    });
    let ti = inv
        .hosts
        .iter()
        .position(|h| h.name == target.name)
        .expect("found");
    let tinfo = probes[ti].info.clone();

    if live_master == Some(ti) && live.len() == 1 {
        out!("{} is already the master", target.name);
        if inv.master().name == target.name {
            return Ok(0);
        }
    } else {
        let Some(tinfo) = tinfo else {
            return Err(Error::failed(format!(
                "cannot promote {}: it does not answer: {}",
                target.name,
                probes[ti].error.clone().unwrap_or_default()
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
                handover(&inv, &old, &target, &probes).await?;
            }
            None => {
                if !force {
                    return Err(Error::failed(format!(
                        "the master {} is unreachable ({}); nothing was changed. To promote {} anyway, run promote --force \
                         (writes the master had not yet sent to {} are lost)",
                        inv.master().name,
                        probes[inv.hosts.iter().position(|h| h.name == inv.master().name).expect("master")]
                            .error
                            .clone()
                            .unwrap_or_else(|| "it is not a master".into()),
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
                let mut con = probe::connect(&target, T).await?;
                replicaof(&target, &mut con, None).await?;
                for (h, p) in inv.hosts.iter().zip(&probes) {
                    if h.name == target.name || p.info.is_none() {
                        continue;
                    }
                    let r = async {
                        let mut c = probe::connect(h, T).await?;
                        replicaof(h, &mut c, Some(&target)).await
                    }
                    .await;
                    match r {
                        Ok(()) => out!("{} now replicates from {}", h.name, target.name),
                        Err(e) => out!("warning: could not repoint {}: {}", h.name, e.message),
                    }
                }
            }
        }
    }

    // Persist: the inventory first (it is what later deploys read), then every host's config.
    let new_inv = persist_inventory(&inv, &target)?;
    let unreachable: Vec<String> = upload_configs(&new_inv).await;

    // Verify as deploy does, leaving out nodes that are down.
    let down: Vec<&str> = inv
        .hosts
        .iter()
        .zip(&probes)
        .filter(|(_, p)| p.info.is_none())
        .map(|(h, _)| h.name.as_str())
        .collect();
    let master = new_inv.master().clone();
    let replicas: Vec<&Host> = new_inv
        .replicas()
        .filter(|h| !down.contains(&h.name.as_str()))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let problems = loop {
        let probes = probe::probe_all(&new_inv.hosts, probe::PROBE_TIMEOUT).await;
        let pairs: Vec<(Host, Probe)> = new_inv.hosts.iter().cloned().zip(probes).collect();
        let problems = probe::check_group(&master, &replicas, &pairs);
        if problems.is_empty() || Instant::now() >= deadline {
            break problems;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let after = probe::probe_all(&new_inv.hosts, probe::PROBE_TIMEOUT).await;
    out!("offsets after:  {}", offsets_line(&new_inv.hosts, &after));
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

/// The no-loss handover: pause writes on the old master, wait until the target has every byte,
/// promote the target, repoint the old master and the other replicas, resume.
async fn handover(inv: &Inventory, old: &Host, target: &Host, probes: &[Probe]) -> Result<()> {
    let mut mcon = probe::connect(old, T).await?;
    let mut tcon = probe::connect(target, T).await?;
    let _: String = probe::cmd(
        old,
        &mut mcon,
        redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(PAUSE_MS.to_string())
            .arg("WRITE"),
        T,
    )
    .await?;
    let result = async {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let m = probe::info_replication(old, &mut mcon, T).await?;
            let t = probe::info_replication(target, &mut tcon, T).await?;
            if t.offset() >= m.master_repl_offset {
                out!(
                    "writes paused on {}; {} caught up at offset {}",
                    old.name,
                    target.name,
                    m.master_repl_offset
                );
                break;
            }
            if Instant::now() >= deadline {
                return Err(Error::failed(format!(
                    "{} did not catch up with {} within 5s (offset {} of {}); nothing was changed",
                    target.name,
                    old.name,
                    t.offset(),
                    m.master_repl_offset
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        replicaof(target, &mut tcon, None).await?;
        out!("{} is now a master", target.name);
        replicaof(old, &mut mcon, Some(target)).await?;
        out!("{} now replicates from {}", old.name, target.name);
        Ok(())
    }
    .await;
    let _: std::result::Result<String, _> = probe::cmd(
        old,
        &mut mcon,
        &redis::cmd("CLIENT").arg("UNPAUSE").to_owned(),
        T,
    )
    .await;
    result?;
    for (h, p) in inv.hosts.iter().zip(probes) {
        if h.name == target.name || h.name == old.name {
            continue;
        }
        if p.info.is_none() {
            out!(
                "warning: {} is unreachable; deploy will repoint it when it is back",
                h.name
            );
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

/// Rewrites the inventory's roles in place (comments kept), re-reads it, says what changed.
fn persist_inventory(inv: &Inventory, target: &Host) -> Result<Inventory> {
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
/// roles), so a restart keeps them and the next deploy finds nothing to change.
async fn upload_configs(inv: &Inventory) -> Vec<String> {
    let renderer = match Renderer::new(inv) {
        Ok(r) => r,
        Err(e) => return vec![e.message],
    };
    let names: Vec<String> = inv.hosts.iter().map(|h| h.name.clone()).collect();
    let progress = Arc::new(Progress::new(&names));
    let mut tasks = Vec::new();
    for h in inv.hosts.iter().cloned() {
        let cfg = renderer.render(inv, &h);
        let pr = progress.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            let cfg = cfg?;
            pr.step(&h.name, "saving the new role in its config");
            let r = transport::connect(&h)
                .and_then(|mut t| t.upload(cfg.as_bytes(), &h.redis.config_file(), 0o600));
            match &r {
                Ok(()) => pr.finish(
                    &h.name,
                    true,
                    &format!("config saved ({})", h.role.as_str()),
                ),
                Err(e) => pr.finish(&h.name, false, &e.message),
            }
            r
        }));
    }
    let mut failures = Vec::new();
    for (t, h) in tasks.into_iter().zip(&inv.hosts) {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!(
                "{}: config not saved ({}); run deploy when it is reachable",
                h.name, e.message
            )),
            Err(e) => failures.push(format!("{}: {e}", h.name)),
        }
    }
    failures
}
