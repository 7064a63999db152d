//! `tripod deploy INVENTORY [--dry-run] [--force]`: per host connect, create install_dir,
//! upload what changed, (re)start what changed, wait until it answers; then verify replication.
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::error::{Error, Result};
use crate::cli::inventory::{Host, Inventory, Role};
use crate::cli::ops::{self, ServerBinary};
use crate::cli::probe::{self, LiveRole, Probe};
use crate::cli::render::{mask, Renderer};
use crate::cli::report::{self, Progress};
use crate::cli::transport;

/// How long deploy waits for the replication links to come up after the hosts are done.
const VERIFY_LIMIT: Duration = Duration::from_secs(30);

pub async fn run(inv: Inventory, dry_run: bool, force: bool) -> Result<i32> {
    let renderer = Renderer::new(&inv)?;
    let mut configs = Vec::new();
    for h in &inv.hosts {
        configs.push(renderer.render(&inv, h)?);
    }
    let binary = tokio::task::spawn_blocking(ops::load_server_binary)
        .await
        .map_err(|e| Error::failed(format!("reading the server binary: {e}")))??;
    let binary = Arc::new(binary);

    // Who is master right now? Refuse to demote a live master the inventory calls a replica.
    let probes = probe::probe_all(&inv.hosts, probe::PROBE_TIMEOUT).await;
    if let Some(msg) = live_master_conflict(&inv, &probes) {
        if force {
            out!("warning: {msg}\n--force: deploying the inventory's roles anyway.");
        } else {
            return Err(Error::failed(format!(
                "{msg}\nRefusing to go on. If a replica was promoted on purpose, make the inventory say so \
                 (`tripod promote` does that); to deploy the inventory's roles anyway, run deploy --force \
                 (a live master it demotes loses the writes it took since)."
            )));
        }
    }

    if dry_run {
        transport::ssh::set_record_new_host_keys(false);
        return dry_run_all(&inv, &configs, &binary, role_mismatches(&inv, &probes)).await;
    }

    let started = Instant::now();
    let names: Vec<String> = inv.hosts.iter().map(|h| h.name.clone()).collect();
    let progress = Arc::new(Progress::new(&names));
    let mut tasks = Vec::new();
    let mismatches = role_mismatches(&inv, &probes);
    for ((h, cfg), mismatch) in inv.hosts.iter().zip(configs).zip(mismatches) {
        let (h, bin, pr) = (h.clone(), binary.clone(), progress.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            let r = deploy_host(&h, &cfg, &bin, &pr, mismatch);
            match &r {
                Ok(o) => pr.finish(&h.name, true, &o.summary()),
                Err(e) => pr.finish(&h.name, false, &e.message),
            }
            r
        }));
    }
    let mut outcomes = Vec::new();
    for (t, h) in tasks.into_iter().zip(&inv.hosts) {
        let r = t
            .await
            .unwrap_or_else(|e| Err(Error::failed(format!("host {}: task failed: {e}", h.name))));
        outcomes.push(r);
    }
    let failed: Vec<(&Host, &Error)> = inv
        .hosts
        .iter()
        .zip(&outcomes)
        .filter_map(|(h, r)| r.as_ref().err().map(|e| (h, e)))
        .collect();

    // Verify replication on the hosts that are up.
    progress.println("verifying replication…");
    let limit = if failed.is_empty() {
        VERIFY_LIMIT
    } else {
        Duration::from_secs(3)
    };
    let problems = verify(&inv, limit).await;
    drop(progress);

    out!();
    for (h, r) in inv.hosts.iter().zip(&outcomes) {
        match r {
            Ok(o) => out!("{:<w$}  {}", h.name, o.summary(), w = width(&inv)),
            Err(e) => out!("{:<w$}  FAILED: {}", h.name, e.message, w = width(&inv)),
        }
    }
    if problems.is_empty() {
        out!(
            "replication verified: {} is master with {} replica(s) online ({:.1}s)",
            inv.master().name,
            inv.replicas().count(),
            started.elapsed().as_secs_f64()
        );
    } else {
        out!("replication NOT verified:");
        for p in &problems {
            out!("  - {p}");
        }
    }
    if failed.is_empty() && problems.is_empty() {
        Ok(0)
    } else {
        if !failed.is_empty() {
            eprintln!(
                "tripod: deploy failed on {}; the other hosts are consistent. Fix the cause and run deploy again to finish.",
                failed
                    .iter()
                    .map(|(h, _)| h.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(1)
    }
}

fn width(inv: &Inventory) -> usize {
    inv.hosts.iter().map(|h| h.name.len()).max().unwrap_or(4)
}

/// Some(explanation) when a node other than the inventory's master is the live master, or the
/// inventory's master is a live replica.
pub fn live_master_conflict(inv: &Inventory, probes: &[Probe]) -> Option<String> {
    let master = inv.master();
    for p in probes {
        if let Some(e) = p
            .error
            .as_deref()
            .filter(|e| e.contains("refused the password"))
        {
            return Some(format!(
                "cannot check which node is the live master: {e}; if you are changing the password on purpose"
            ));
        }
    }
    for (h, p) in inv.hosts.iter().zip(probes) {
        let Some(info) = &p.info else { continue };
        if h.name != master.name && info.role == LiveRole::Master && info.connected_slaves > 0 {
            return Some(format!(
                "the live master is {} ({}, role:master with {} connected replica(s)), but the inventory {} says {} is the master",
                h.name,
                h.endpoint(),
                info.connected_slaves,
                inv.path.display(),
                master.name
            ));
        }
    }
    for (h, p) in inv.hosts.iter().zip(probes) {
        let Some(info) = &p.info else { continue };
        if h.name == master.name && info.role == LiveRole::Replica {
            return Some(format!(
                "the inventory {} says {} is the master, but it is a live replica of {}:{}",
                inv.path.display(),
                master.name,
                info.master_host.as_deref().unwrap_or("?"),
                info.master_port.unwrap_or(0)
            ));
        }
    }
    None
}

/// Per host: why its running server does not have the role the inventory gives it (then deploy
/// restarts it with the rendered config), or None.
fn role_mismatches(inv: &Inventory, probes: &[Probe]) -> Vec<Option<String>> {
    let master = inv.master();
    inv.hosts
        .iter()
        .zip(probes)
        .map(|(h, p)| {
            let info = p.info.as_ref()?;
            match (h.role, info.role) {
                (Role::Master, LiveRole::Replica) => {
                    Some("it runs as a replica, the inventory says master".to_string())
                }
                (Role::Replica, LiveRole::Master) => {
                    Some("it runs as a master, the inventory says replica".to_string())
                }
                (Role::Replica, LiveRole::Replica) if !info.follows(master) => Some(format!(
                    "it replicates from {}:{}, the inventory says {}",
                    info.master_host.as_deref().unwrap_or("?"),
                    info.master_port.unwrap_or(0),
                    master.name
                )),
                _ => None,
            }
        })
        .collect()
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub binary_uploaded: bool,
    pub config_uploaded: bool,
    pub started: bool,
    pub restarted: bool,
    /// Why a server whose files did not change was restarted.
    pub role_fix: Option<String>,
}

impl Outcome {
    fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.binary_uploaded {
            parts.push("uploaded tripod-server");
        }
        if self.config_uploaded {
            parts.push("uploaded config");
        }
        if self.restarted {
            parts.push("restarted");
        } else if self.started {
            parts.push("started");
        }
        let mut s = if parts.is_empty() {
            "unchanged".to_string()
        } else {
            parts.join(", ")
        };
        if let Some(why) = &self.role_fix {
            s.push_str(&format!(" ({why})"));
        }
        s
    }
}

fn deploy_host(
    host: &Host,
    config: &str,
    bin: &ServerBinary,
    pr: &Progress,
    role_mismatch: Option<String>,
) -> Result<Outcome> {
    let mut o = Outcome::default();
    pr.step(&host.name, "connecting");
    let mut t = transport::connect(host)?;
    let t = t.as_mut();
    pr.step(&host.name, "inspecting");
    let st = ops::inspect(t, host, true)?;
    let config_sha = ops::sha256_hex(config.as_bytes());
    if st.binary_sha256.as_deref() != Some(bin.sha256.as_str()) {
        pr.step(&host.name, "uploading tripod-server");
        t.upload(&bin.bytes, &host.redis.binary(), 0o755)?;
        o.binary_uploaded = true;
    }
    if st.config_sha256.as_deref() != Some(config_sha.as_str()) {
        pr.step(&host.name, "uploading config");
        t.upload(config.as_bytes(), &host.redis.config_file(), 0o600)?;
        o.config_uploaded = true;
    }
    let files_changed = o.binary_uploaded || o.config_uploaded;
    if st.running_pid.is_some() && !files_changed {
        o.role_fix = role_mismatch;
    }
    let changed = files_changed || o.role_fix.is_some();
    if st.running_pid.is_some() && changed {
        pr.step(&host.name, "stopping (to restart)");
        ops::stop(t, host, ops::StopMode::Clean)?;
        o.restarted = true;
    }
    if st.running_pid.is_none() || changed {
        pr.step(&host.name, "starting");
        ops::start(t, host)?;
        o.started = true;
    }
    pr.step(&host.name, "waiting until it answers");
    ops::wait_until_answers(t, host, Duration::from_secs(15))?;
    Ok(o)
}

/// Polls until the inventory's master and replicas check out, or `limit` passes.
pub async fn verify(inv: &Inventory, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let master = inv.master().clone();
    let replicas: Vec<&Host> = inv.replicas().collect();
    loop {
        let probes = probe::probe_all(&inv.hosts, probe::PROBE_TIMEOUT).await;
        let pairs: Vec<(Host, Probe)> = inv.hosts.iter().cloned().zip(probes).collect();
        let problems = probe::check_group(&master, &replicas, &pairs);
        if problems.is_empty() || Instant::now() >= deadline {
            return problems;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn dry_run_all(
    inv: &Inventory,
    configs: &[String],
    bin: &Arc<ServerBinary>,
    mismatches: Vec<Option<String>>,
) -> Result<i32> {
    let mut tasks = Vec::new();
    for ((h, cfg), mismatch) in inv.hosts.iter().zip(configs).zip(mismatches) {
        let (h, cfg, bin) = (h.clone(), cfg.clone(), bin.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            dry_run_host(&h, &cfg, &bin, mismatch)
        }));
    }
    let mut code = 0;
    for (t, h) in tasks.into_iter().zip(&inv.hosts) {
        let role = h.role.as_str();
        out!("== {} ({}, {role}) ==", h.name, h.endpoint());
        match t.await {
            Ok(Ok(text)) => out_nonl!("{text}"),
            Ok(Err(e)) => {
                out!("cannot plan: {}", e.message);
                code = 1;
            }
            Err(e) => {
                out!("cannot plan: {e}");
                code = 1;
            }
        }
        out!();
    }
    out!("dry run: nothing was changed");
    Ok(code)
}

fn dry_run_host(
    host: &Host,
    config: &str,
    bin: &ServerBinary,
    mismatch: Option<String>,
) -> Result<String> {
    let mut t = transport::connect(host)?;
    let t = t.as_mut();
    let st = ops::inspect(t, host, false)?;
    let mut out = String::new();
    let pw = host.redis.password.as_deref();
    let mut actions = Vec::new();
    actions.push(format!("ensure {} exists", host.redis.install_dir));
    let bin_changed = st.binary_sha256.as_deref() != Some(bin.sha256.as_str());
    if bin_changed {
        actions.push(format!(
            "upload tripod-server from {} (sha256 {}…)",
            bin.path.display(),
            &bin.sha256[..12]
        ));
    }
    let cfg_changed =
        st.config_sha256.as_deref() != Some(ops::sha256_hex(config.as_bytes()).as_str());
    if cfg_changed {
        let old = match st.config_sha256 {
            Some(_) => t
                .read_file(&host.redis.config_file())?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default(),
            None => String::new(),
        };
        out.push_str(&format!("config diff ({}):\n", host.redis.config_file()));
        out.push_str(&report::diff(&mask(&old, pw), &mask(config, pw)));
        actions.push(format!("upload {} (mode 0600)", host.redis.config_file()));
    } else {
        out.push_str("config: unchanged\n");
    }
    match (st.running_pid, bin_changed || cfg_changed) {
        (Some(pid), true) => actions.push(format!("restart the server (pid {pid})")),
        (Some(pid), false) if mismatch.is_some() => actions.push(format!(
            "restart the server (pid {pid}): {}",
            mismatch.unwrap_or_default()
        )),
        (Some(_), false) => actions.push("nothing: the server is running and unchanged".into()),
        (None, _) => actions.push("start the server".into()),
    }
    out.push_str("actions:\n");
    for a in actions {
        out.push_str(&format!("  - {a}\n"));
    }
    Ok(out)
}
