//! `tripod deploy INVENTORY [--dry-run] [--force]`: compute the plan ([`plan`]), print it, and
//! (without `--dry-run`) carry it out in an order that keeps the group serving and its data
//! whole; then verify replication.
//!
//! The order:
//! 1. on every host at once: create install_dir, upload the binary, aclfile and config that
//!    changed; then, with an `acl:` section, apply the users to every running server
//!    ([`acl_live`]), so a master knows a new replication user before its replicas restart;
//! 2. start what is not running: the master first, then the replicas;
//! 3. a master restarted in place (no online replica to hand over to) is restarted before the
//!    replicas, so they follow the restarted master;
//! 4. replicas that need a restart, one at a time, each back online and caught up with the
//!    master before the next one goes;
//! 5. the master, when it needs a restart and has an online replica: the master role goes to
//!    that replica (FAILOVER), the old master restarts as its replica and catches up, and the
//!    role comes back to it (FAILOVER again). The inventory stays as it is: it names the master
//!    before and after. A writer sees writes refused (READONLY) for the time of the switches,
//!    and no acknowledged write is lost. With Sentinels running, both switches go through
//!    Sentinel ([`sentinel::switch`]), so the Sentinels name the same master as the group
//!    throughout and do not fail over while the old master restarts.
//!
//! 6. with a `sentinel:` section, the Sentinels ([`sentinel::plan`]): started after the data
//!    nodes, reconfigured at run time or restarted one at a time, then verified.
//!
//! Before planning, with Sentinels running, the master they agree on becomes the inventory's
//! master ([`sentinel::follow`]): deploy never demotes Sentinel's choice.
//!
//! A step that fails stops the rolling part (no further restarts); the other hosts' uploads and
//! starts still happen, and the next deploy finishes the job (a server started from other files
//! than those on disk is restarted then).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::acl_live;
use crate::cli::error::{Error, Result};
use crate::cli::group::{self, Snapshot};
use crate::cli::inventory::{Host, Inventory, Role};
use crate::cli::ops::{self, StopMode};
use crate::cli::plan::{self, HostPlan, Plan, Step};
use crate::cli::probe::{self, Failure, LiveRole};
use crate::cli::render::{mask, Renderer};
use crate::cli::report::Progress;
use crate::cli::sentinel::{
    self,
    plan::{SStep, SentinelPlan},
};
use crate::cli::transport;

/// How long deploy waits for the replication links to come up after the hosts are done.
const VERIFY_LIMIT: Duration = Duration::from_secs(30);
/// How long a restarted replica may take to be online and caught up.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(120);
/// How long a handover may keep writes paused at most.
const HANDOVER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long deploy waits for the Sentinels to find each other and every replica (they announce
/// themselves every 2 s and ask the master for its replicas every 10 s).
const SENTINEL_VERIFY_LIMIT: Duration = Duration::from_secs(40);

/// Runs deploy; the exit status is 0 when every host is deployed and replication verified.
pub async fn run(inv: Inventory, dry_run: bool, force: bool) -> Result<i32> {
    if dry_run {
        transport::ssh::set_record_new_host_keys(false);
    }
    for w in &inv.warnings {
        out!("{w}");
    }
    // Who is master right now? With Sentinels, the one they name (the inventory follows it).
    // Refuse to demote a live master the inventory calls a replica.
    let snap = Snapshot::take(&inv.hosts).await;
    let (inv, snap) = sentinel::follow::follow(inv, snap, dry_run, force).await?;
    if let Some(msg) = live_master_conflict(&inv, &snap) {
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
    let plan = plan::compute(&inv, &snap).await?;
    let splan = sentinel::plan::compute(&inv).await?;
    for w in &plan.warnings {
        out!("{w}");
    }
    let blocking: Vec<&plan::Refusal> = plan
        .refusals
        .iter()
        .filter(|r| !(force && r.forcible))
        .collect();
    for r in plan.refusals.iter().filter(|r| force && r.forcible) {
        out!("warning (--force): {}", r.message);
    }
    if dry_run {
        out_nonl!("{}", plan.details());
        out_nonl!("{}", sentinel_details(&inv, &splan));
        for l in plan.lines() {
            out!("{l}");
        }
        for l in sentinel_lines(&splan) {
            out!("{l}");
        }
        for r in &blocking {
            out!("deploy would refuse: {}", r.message);
        }
        out!("dry run: nothing was changed");
        let ok = blocking.is_empty()
            && plan.hosts.iter().all(|h| h.error.is_none())
            && splan.iter().all(|s| s.error.is_none());
        return Ok(if ok { 0 } else { 1 });
    }
    if !blocking.is_empty() {
        return Err(Error::failed(format!(
            "refusing to deploy, nothing was changed:\n{}",
            blocking
                .iter()
                .map(|r| format!("  - {}", r.message))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    for l in plan.lines() {
        out!("{l}");
    }
    for l in sentinel_lines(&splan) {
        out!("{l}");
    }
    apply(&inv, plan, &splan).await
}

/// One line per Sentinel: `plan sentinel NAME: actions`.
fn sentinel_lines(splan: &[SentinelPlan]) -> Vec<String> {
    splan
        .iter()
        .map(|s| format!("plan sentinel {}: {}", s.node.name(), s.actions()))
        .collect()
}

/// The dry-run report for the Sentinels: per Sentinel its endpoint, whether tripod's render
/// changed (the diff against tripod's last render, secrets masked) and the actions.
fn sentinel_details(inv: &Inventory, splan: &[SentinelPlan]) -> String {
    let mut out = String::new();
    for s in splan {
        out.push_str(&format!(
            "== sentinel {} ({}) ==\n",
            s.node.name(),
            s.node.endpoint()
        ));
        if let Some(e) = &s.error {
            out.push_str(&format!("cannot plan: {e}\n\n"));
            continue;
        }
        let pw = s.node.host.redis.password.as_deref();
        match (&s.step, s.state.rendered_sha256.is_some()) {
            (SStep::Keep, _) | (SStep::Start { fresh: false }, _) => out
                .push_str("render: unchanged (what Sentinel rewrote into sentinel.conf is kept)\n"),
            (_, false) => {
                out.push_str(&format!("sentinel.conf ({}):\n", s.node.config_file()));
                out.push_str(&crate::cli::report::diff("", &mask(&s.config, pw)));
            }
            _ => out.push_str("render: changed since the last deploy\n"),
        }
        out.push_str(&format!("actions: {}\n\n", s.actions()));
    }
    let _ = inv;
    out
}

/// Some(explanation) when a node other than the inventory's master is the live master, or the
/// inventory's master is a live replica, or the roles cannot be checked (a refused password).
pub fn live_master_conflict(inv: &Inventory, snap: &Snapshot) -> Option<String> {
    let master = inv.master();
    for p in &snap.probes {
        if p.failure.is_some_and(Failure::is_auth) {
            return Some(format!(
                "cannot check which node is the live master: {}; if you are changing the password on purpose",
                p.error.as_deref().unwrap_or("")
            ));
        }
    }
    for (h, p) in snap.hosts.iter().zip(&snap.probes) {
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
    if let Some(info) = snap.probe_of(&master.name).and_then(|p| p.info.as_ref()) {
        if info.role == LiveRole::Replica {
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

/// What deploy did on one host.
#[derive(Debug, Default, Clone)]
struct Outcome {
    binary_uploaded: bool,
    config_uploaded: bool,
    acl_uploaded: bool,
    /// The running server's ACL users changed (acl_live::apply).
    acl_applied: bool,
    started: bool,
    restarted: bool,
    /// Why a server whose files did not change was restarted.
    role_fix: Option<String>,
    /// The replica the master role went to and came back from.
    handover_via: Option<String>,
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
        if self.acl_uploaded {
            parts.push("uploaded users.acl");
        }
        if self.acl_applied {
            parts.push("updated the ACL users");
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
        if let Some(via) = &self.handover_via {
            s.push_str(&format!(" (through a handover to {via} and back)"));
        }
        if let Some(why) = &self.role_fix {
            s.push_str(&format!(" ({why})"));
        }
        s
    }
}

/// Per host: its outcome so far, or the error that stopped it.
type Results = HashMap<String, Result<Outcome>>;

/// Runs `f` with a transport to `host` on a blocking thread.
async fn on_host<T: Send + 'static>(
    host: &Host,
    f: impl FnOnce(&mut dyn transport::Transport, &Host) -> Result<T> + Send + 'static,
) -> Result<T> {
    let h = host.clone();
    tokio::task::spawn_blocking(move || {
        let mut t = transport::connect(&h)?;
        f(t.as_mut(), &h)
    })
    .await
    .unwrap_or_else(|e| {
        Err(Error::failed(format!(
            "host {}: task failed: {e}",
            host.name
        )))
    })
}

/// Carries out `plan` in the order the module doc gives, then the Sentinels' plan.
async fn apply(inv: &Inventory, plan: Plan, splan: &[SentinelPlan]) -> Result<i32> {
    let started_at = Instant::now();
    let names: Vec<String> = inv.hosts.iter().map(|h| h.name.clone()).collect();
    let progress = Arc::new(Progress::new(&names));
    let mut results = upload_all(&plan, &progress).await;
    apply_acl_all(inv, &plan, &progress, &mut results).await;
    start_all(inv, &plan, &progress, &mut results).await;
    roll(inv, &plan, &progress, &mut results).await;
    check_kept(&plan, &progress, &mut results).await;
    for hp in &plan.hosts {
        match results.get(&hp.host.name) {
            Some(Ok(o)) => progress.finish(&hp.host.name, true, &o.summary()),
            Some(Err(e)) => progress.finish(&hp.host.name, false, &e.message),
            None => {}
        }
    }
    let failed: Vec<&str> = plan
        .hosts
        .iter()
        .filter(|h| results.get(&h.host.name).is_none_or(|r| r.is_err()))
        .map(|h| h.host.name.as_str())
        .collect();
    progress.println("verifying replication…");
    let limit = if failed.is_empty() {
        VERIFY_LIMIT
    } else {
        Duration::from_secs(3)
    };
    let master = inv.master();
    let replicas: Vec<&Host> = inv.replicas().collect();
    let problems = group::wait_healthy(&inv.hosts, master, &replicas, limit).await;
    drop(progress);
    let (sentinel_results, sentinel_problems) = if splan.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        out!("deploying the Sentinels…");
        let r = sentinel::plan::apply(inv, splan).await;
        out!("verifying the Sentinels…");
        let limit = if r.iter().all(|(_, x)| x.is_ok()) && problems.is_empty() {
            SENTINEL_VERIFY_LIMIT
        } else {
            Duration::from_secs(3)
        };
        (r, sentinel::plan::wait_verified(inv, limit).await)
    };
    report(inv, &results, &problems, started_at);
    let mut sentinel_failed = Vec::new();
    for (name, r) in &sentinel_results {
        match r {
            Ok(o) => out!("sentinel {name}  {o}"),
            Err(e) => {
                out!("sentinel {name}  FAILED: {}", e.message);
                sentinel_failed.push(name.clone());
            }
        }
    }
    if !splan.is_empty() {
        if sentinel_problems.is_empty() {
            let s = inv.sentinel.as_ref().expect("a sentinel plan");
            out!(
                "Sentinels verified: {} Sentinel(s) see {} as the master with {} replica(s), know each other, quorum {} OK",
                s.nodes.len(),
                inv.master().name,
                inv.replicas().count(),
                s.quorum
            );
        } else {
            out!("Sentinels NOT verified:");
            for p in &sentinel_problems {
                out!("  - {p}");
            }
        }
    }
    if failed.is_empty()
        && problems.is_empty()
        && sentinel_failed.is_empty()
        && sentinel_problems.is_empty()
    {
        Ok(0)
    } else {
        if !sentinel_failed.is_empty() {
            eprintln!(
                "tripod: deploying the Sentinel failed on {}; run deploy again when the cause is fixed.",
                sentinel_failed.join(", ")
            );
        }
        if !failed.is_empty() {
            eprintln!(
                "tripod: deploy failed on {}; nothing acknowledged was lost. Fix the cause and run deploy again to finish.",
                failed.join(", ")
            );
        }
        Ok(1)
    }
}

/// The closing report: one line per host, then the verification.
fn report(inv: &Inventory, results: &Results, problems: &[String], started_at: Instant) {
    out!();
    let w = inv.hosts.iter().map(|h| h.name.len()).max().unwrap_or(4);
    for h in &inv.hosts {
        match results.get(&h.name) {
            Some(Ok(o)) => out!("{:<w$}  {}", h.name, o.summary()),
            Some(Err(e)) => out!("{:<w$}  FAILED: {}", h.name, e.message),
            None => {}
        }
    }
    if problems.is_empty() {
        out!(
            "replication verified: {} is master with {} replica(s) online ({:.1}s)",
            inv.master().name,
            inv.replicas().count(),
            started_at.elapsed().as_secs_f64()
        );
    } else {
        out!("replication NOT verified:");
        for p in problems {
            out!("  - {p}");
        }
    }
}

/// Whether the host's uploads (and every step since) went through.
fn still_ok(results: &Results, name: &str) -> bool {
    results.get(name).is_some_and(|r| r.is_ok())
}

/// Phase 1: install_dir and uploads on every host at once.
async fn upload_all(plan: &Plan, progress: &Arc<Progress>) -> Results {
    let mut tasks = Vec::new();
    for hp in &plan.hosts {
        let (hp, pr) = (hp.clone(), progress.clone());
        tasks.push(tokio::task::spawn_blocking(move || upload(&hp, &pr)));
    }
    let mut results = HashMap::new();
    for (t, hp) in tasks.into_iter().zip(&plan.hosts) {
        let r = t.await.unwrap_or_else(|e| {
            Err(Error::failed(format!(
                "host {}: task failed: {e}",
                hp.host.name
            )))
        });
        results.insert(hp.host.name.clone(), r);
    }
    results
}

/// Phase 1b: with an `acl:` section, the users applied to every running server (before any
/// restart, so a master knows the replication user its restarted replicas log in with).
async fn apply_acl_all(
    inv: &Inventory,
    plan: &Plan,
    progress: &Arc<Progress>,
    results: &mut Results,
) {
    let Some(acl) = &inv.acl else { return };
    let mut tasks = Vec::new();
    for hp in plan
        .hosts
        .iter()
        .filter(|h| h.state.running_pid.is_some() && still_ok(results, &h.host.name))
    {
        let (host, acl, pr) = (hp.host.clone(), acl.clone(), progress.clone());
        tasks.push(tokio::spawn(async move {
            pr.step(&host.name, "applying the ACL users");
            let r = acl_live::apply(&host, &acl).await;
            (host.name.clone(), r)
        }));
    }
    for t in tasks {
        if let Ok((name, r)) = t.await {
            match r {
                Ok(changed) => merge(results, &name, Ok(()), |o| o.acl_applied = changed),
                Err(e) => merge(results, &name, Err(e), |_| {}),
            }
        }
    }
}

/// Phase 2: start what is not running, the master first, then the replicas at once.
async fn start_all(inv: &Inventory, plan: &Plan, progress: &Arc<Progress>, results: &mut Results) {
    let master = &inv.master().name;
    if let Some(mp) = plan
        .hosts
        .iter()
        .find(|h| &h.host.name == master && h.step == Step::Start)
    {
        if still_ok(results, master) {
            let r = start_host(mp, progress).await;
            merge(results, master, r, |o| o.started = true);
        }
    }
    let mut tasks = Vec::new();
    for hp in plan
        .hosts
        .iter()
        .filter(|h| h.host.role == Role::Replica && h.step == Step::Start)
    {
        if !still_ok(results, &hp.host.name) {
            continue;
        }
        let (hp, pr) = (hp.clone(), progress.clone());
        tasks.push(tokio::spawn(async move {
            let r = start_host(&hp, &pr).await;
            (hp.host.name.clone(), r)
        }));
    }
    for t in tasks {
        if let Ok((name, r)) = t.await {
            merge(results, &name, r, |o| o.started = true);
        }
    }
}

/// Phases 3-5, the rolling part: a master restarted in place, the replicas one at a time, the
/// master through a handover. Stops restarting at the first failure.
async fn roll(inv: &Inventory, plan: &Plan, progress: &Arc<Progress>, results: &mut Results) {
    let master = inv.master().clone();
    let mp = plan.hosts.iter().find(|h| h.host.name == master.name);
    let mut rolling_ok = true;
    if let Some(mp) = mp {
        if let Step::Restart { why } = &mp.step {
            rolling_ok = restart_in_place(mp, why, None, progress, results).await;
        }
    }
    for hp in plan.hosts.iter().filter(|h| h.host.role == Role::Replica) {
        let Step::Restart { why } = &hp.step else {
            continue;
        };
        if !rolling_ok || !still_ok(results, &hp.host.name) {
            rolling_ok = false;
            continue;
        }
        rolling_ok = restart_in_place(hp, why, Some(&master), progress, results).await;
    }
    let Some(mp) = mp else { return };
    let Step::Handover { via, why } = &mp.step else {
        return;
    };
    if !rolling_ok || !still_ok(results, &master.name) {
        let e = Error::failed(format!(
            "host {}: not restarted (an earlier step failed); the next deploy restarts it",
            master.name
        ));
        merge(results, &master.name, Err(e), |_| {});
        return;
    }
    let r = restart_through_handover(inv, mp, via, why, progress).await;
    merge(results, &master.name, r, |o| {
        o.restarted = true;
        o.handover_via = Some(via.clone());
    });
}

/// The hosts that were running and unchanged: check that they answer.
async fn check_kept(plan: &Plan, progress: &Arc<Progress>, results: &mut Results) {
    for hp in plan.hosts.iter().filter(|h| h.step == Step::Keep) {
        if !still_ok(results, &hp.host.name) {
            continue;
        }
        progress.step(&hp.host.name, "checking it answers");
        let r = match probe::connect(&hp.host, probe::PROBE_TIMEOUT).await {
            Ok(_) => Ok(()),
            // Not at once: wait for it, looking at its process and log over the transport.
            Err(_) => {
                on_host(&hp.host, |t, h| {
                    ops::wait_until_answers(t, h, Duration::from_secs(15))
                })
                .await
            }
        };
        merge(results, &hp.host.name, r, |_| {});
    }
}

/// Folds a step's result into the host's outcome: an error replaces it, a success updates it.
fn merge(results: &mut Results, name: &str, r: Result<()>, update: impl FnOnce(&mut Outcome)) {
    match r {
        Err(e) => {
            results.insert(name.to_string(), Err(e));
        }
        Ok(()) => {
            if let Some(Ok(o)) = results.get_mut(name) {
                update(o);
            }
        }
    }
}

/// Step 1 on one host: install_dir, then the binary and config when they changed.
fn upload(hp: &HostPlan, pr: &Progress) -> Result<Outcome> {
    if let Some(e) = &hp.error {
        return Err(Error::failed(e.clone()));
    }
    let host = &hp.host;
    let mut o = Outcome::default();
    if !hp.upload_binary && !hp.upload_config && !hp.upload_acl {
        // The files are in place, so install_dir exists: no session needed.
        return Ok(o);
    }
    pr.step(&host.name, "connecting");
    let mut t = transport::connect(host)?;
    let t = t.as_mut();
    ops::ensure_dir(t, host)?;
    if hp.upload_binary {
        pr.step(&host.name, "uploading tripod-server");
        t.upload(&hp.binary.bytes, &host.redis.binary(), 0o755)?;
        o.binary_uploaded = true;
    }
    if let (true, Some(acl)) = (hp.upload_acl, &hp.acl) {
        // Before the config that names it: a server started from that config needs it.
        pr.step(&host.name, "uploading users.acl");
        t.upload(acl.as_bytes(), &host.redis.acl_file(), 0o600)?;
        o.acl_uploaded = true;
    }
    if hp.upload_config {
        pr.step(&host.name, "uploading config");
        t.upload(hp.config.as_bytes(), &host.redis.config_file(), 0o600)?;
        o.config_uploaded = true;
        if hp.adopt_config {
            // The running server already is what this config says (see HostPlan::adopt_config).
            ops::record_running(t, host)?;
        }
    }
    Ok(o)
}

async fn start_host(hp: &HostPlan, pr: &Progress) -> Result<()> {
    pr.step(&hp.host.name, "starting");
    on_host(&hp.host, |t, h| {
        ops::start(t, h)?;
        ops::wait_until_answers(t, h, Duration::from_secs(15))
    })
    .await
}

/// Stops (saving) and starts one server; with `master`, waits until it is an online replica
/// of it, caught up. Returns whether the rollout may go on.
async fn restart_in_place(
    hp: &HostPlan,
    why: &str,
    master: Option<&Host>,
    pr: &Progress,
    results: &mut Results,
) -> bool {
    let name = hp.host.name.clone();
    pr.step(&name, "stopping (saving its data) to restart");
    let r = on_host(&hp.host, |t, h| {
        ops::stop(t, h, StopMode::Clean)?;
        ops::start(t, h)?;
        ops::wait_until_answers(t, h, Duration::from_secs(15))
    })
    .await;
    let r = match (r, master) {
        (Ok(()), Some(m)) => {
            pr.step(
                &name,
                &format!("waiting until it caught up with {}", m.name),
            );
            group::wait_caught_up(m, &hp.host, CATCH_UP_LIMIT).await
        }
        (r, _) => r,
    };
    let ok = r.is_ok();
    let files_changed = hp.upload_binary || hp.upload_config;
    let why = why.to_string();
    merge(results, &name, r, |o| {
        o.restarted = true;
        if !files_changed {
            o.role_fix = Some(why);
        }
    });
    ok
}

/// Step 5: the master restarts as a replica of `via` while `via` holds the master role.
async fn restart_through_handover(
    inv: &Inventory,
    mp: &HostPlan,
    via: &str,
    why: &str,
    pr: &Progress,
) -> Result<()> {
    let m = mp.host.clone();
    let Some(v) = inv.host(via).cloned() else {
        return Err(Error::failed(format!("host {via} is not in the inventory")));
    };
    let others: Vec<Host> = inv
        .replicas()
        .filter(|h| h.name != v.name)
        .cloned()
        .collect();
    pr.step(
        &m.name,
        &format!("handing the master role to {} ({why})", v.name),
    );
    // Let `via` catch up with everything first, so the pause is short.
    group::wait_caught_up(&m, &v, CATCH_UP_LIMIT).await?;
    let other_refs: Vec<&Host> = others.iter().collect();
    let via_sentinel = sentinel::switch::hand_over(inv, &m, &v, &other_refs, HANDOVER_TIMEOUT)
        .await?
        == sentinel::switch::Via::Sentinel;

    // m is now a replica of v: restart it so, from a config that says so.
    let during = inv.with_master(&v.name);
    let temp =
        Renderer::new(&during)?.render(&during, during.host(&m.name).expect("same hosts"))?;
    pr.step(&m.name, &format!("restarting as a replica of {}", v.name));
    let final_config = mp.config.clone();
    let restart = on_host(&m, move |t, h| {
        t.upload(temp.as_bytes(), &h.redis.config_file(), 0o600)?;
        let stopped = ops::stop(t, h, StopMode::Clean);
        match stopped {
            // Still running (its save failed, say): it is a caught-up replica of `via`.
            Err(e) => Ok(Err(e)),
            Ok(_) => {
                ops::start(t, h)?;
                ops::wait_until_answers(t, h, Duration::from_secs(15))?;
                Ok(Ok(()))
            }
        }
    })
    .await?;
    if let Err(e) = restart {
        // The old master did not stop and still runs, as a replica of `via`: give it the
        // master role back, and its config (not recorded as running, so the next deploy
        // restarts it once the cause is fixed).
        pr.step(&m.name, "did not stop; taking the master role back");
        let other_refs: Vec<&Host> = others.iter().collect();
        group::wait_caught_up(&v, &m, CATCH_UP_LIMIT).await?;
        sentinel::switch::hand_over(inv, &v, &m, &other_refs, HANDOVER_TIMEOUT).await?;
        let cfg = mp.config.clone();
        on_host(&m, move |t, h| {
            t.upload(cfg.as_bytes(), &h.redis.config_file(), 0o600)
        })
        .await?;
        return Err(Error::failed(format!(
            "{}; it was not restarted and is the master again, with its data",
            e.message
        )));
    }
    pr.step(&m.name, &format!("catching up with {}", v.name));
    group::wait_caught_up(&v, &m, CATCH_UP_LIMIT).await?;

    pr.step(&m.name, "taking the master role back");
    let other_refs: Vec<&Host> = others.iter().collect();
    sentinel::switch::hand_over(inv, &v, &m, &other_refs, HANDOVER_TIMEOUT)
        .await
        .map_err(|e| {
            Error::failed(format!(
                "{}; {} holds the master role now and {} replicates from it (nothing was lost): \
                 `tripod promote {} {}` hands the role back",
                e.message,
                v.name,
                m.name,
                inv.path.display(),
                m.name
            ))
        })?;
    // The live server now is what the final config describes: put that config in place and
    // record it as what runs.
    on_host(&m, move |t, h| {
        t.upload(final_config.as_bytes(), &h.redis.config_file(), 0o600)?;
        ops::record_running(t, h)
    })
    .await?;
    // `via` was a replica before and is one again; its config already says so, unless
    // Sentinel rewrote it (CONFIG REWRITE with each switch, as on the other replicas): then
    // the render goes back in place, so the next deploy finds nothing to change.
    if via_sentinel {
        put_back_renders(inv, &m).await;
    }
    Ok(())
}

/// Uploads the rendered config of every host but `except` (the servers already run as it
/// says), warning about a host where that fails.
async fn put_back_renders(inv: &Inventory, except: &Host) {
    let renderer = match Renderer::new(inv) {
        Ok(r) => r,
        Err(e) => {
            out!("warning: {}", e.message);
            return;
        }
    };
    for h in inv.hosts.iter().filter(|h| h.name != except.name) {
        let r = match renderer.render(inv, h) {
            Ok(cfg) => {
                on_host(h, move |t, h| {
                    t.upload(cfg.as_bytes(), &h.redis.config_file(), 0o600)
                })
                .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            out!(
                "warning: {}: the config Sentinel rewrote stays ({}); the next deploy replaces it",
                h.name,
                e.message
            );
        }
    }
}
