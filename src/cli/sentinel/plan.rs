//! Deploy's Sentinel part: per Sentinel, what to do, decided from the inventory's render and
//! tripod's last render on the host (`sentinel.rendered.conf`), never from `sentinel.conf`,
//! which Sentinel rewrites with what it learnt (epochs, the current master, the replicas and
//! Sentinels it found). So a redeploy neither overwrites that with a stale render nor reports it
//! as drift. Carried out after the data nodes: uploads and starts at once, restarts one at a
//! time, run-time changes with SENTINEL SET; then verified.
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::error::{Error, Result};
use crate::cli::inventory::{Inventory, SentinelNode, SentinelProgram};
use crate::cli::ops::{self, sha256_hex};
use crate::cli::render::Renderer;
use crate::cli::transport;

use super::ask;
use super::host::{self, SentinelState};

/// What happens to one Sentinel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SStep {
    /// Running with tripod's current render: leave it alone.
    Keep,
    /// Not running: start it (from a fresh render when `fresh`, else from the config it
    /// rewrote, which keeps what it learnt).
    Start { fresh: bool },
    /// Running; the render changed only in what SENTINEL SET changes at run time.
    Set { changes: Vec<(String, String)> },
    /// Running; stop it, put a fresh render in place (keeping its id and epoch), start it.
    Restart { why: String },
}

/// One Sentinel's part of the plan.
#[derive(Debug, Clone)]
pub struct SentinelPlan {
    pub node: SentinelNode,
    pub config: String,
    pub state: SentinelState,
    pub upload_binary: bool,
    pub step: SStep,
    /// The host could not be inspected.
    pub error: Option<String>,
}

impl SentinelPlan {
    /// The actions as one line, as the plan prints them.
    pub fn actions(&self) -> String {
        if let Some(e) = &self.error {
            return format!("nothing: cannot inspect the host ({e})");
        }
        let mut a = Vec::new();
        if self.upload_binary {
            a.push("upload redis-sentinel".to_string());
        }
        a.push(match &self.step {
            SStep::Keep => "leave the running Sentinel alone".to_string(),
            SStep::Start { fresh: true } => {
                "upload sentinel.conf (mode 0600), start the Sentinel".to_string()
            }
            SStep::Start { fresh: false } => {
                "start the Sentinel from its own config (it keeps what it learnt)".to_string()
            }
            SStep::Set { changes } if changes.is_empty() => {
                "leave the running Sentinel alone (the render now names the master it already follows)"
                    .to_string()
            }
            SStep::Set { changes } => format!(
                "SENTINEL SET {} (at run time, no restart)",
                changes
                    .iter()
                    .map(|(k, v)| if k == "auth-pass" {
                        format!("{k} ********")
                    } else {
                        format!("{k} {v}")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SStep::Restart { why } => format!(
                "restart the Sentinel from a fresh sentinel.conf keeping its id and epoch ({why})"
            ),
        });
        a.join(", ")
    }
}

/// The Sentinel binary to upload, with its checksum.
pub struct SentinelBinary {
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Reads the `binary:` file (None with `command:`).
fn load_binary(inv: &Inventory) -> Result<Option<Arc<SentinelBinary>>> {
    let Some(s) = &inv.sentinel else {
        return Ok(None);
    };
    match &s.program {
        SentinelProgram::Command(_) => Ok(None),
        SentinelProgram::Upload(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                Error::failed(format!(
                    "cannot read the Sentinel binary {} (sentinel.binary in the inventory): {e}",
                    path.display()
                ))
            })?;
            let sha256 = sha256_hex(&bytes);
            Ok(Some(Arc::new(SentinelBinary { bytes, sha256 })))
        }
    }
}

/// Settings that SENTINEL SET changes at run time, by the option name the config and SET use.
const SETTABLE: &[&str] = &[
    "down-after-milliseconds",
    "failover-timeout",
    "parallel-syncs",
    "auth-pass",
];

/// The `sentinel ...` and other directives of a render, keyed for comparison: `sentinel
/// monitor` gives its quorum alone (its address only matters at a fresh start: a running
/// Sentinel follows the live master), `sentinel OPT NAME VALUE` gives OPT → VALUE, anything
/// else its whole line.
fn keyed(config: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in config.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let w: Vec<&str> = l.split_whitespace().collect();
        if w[0].eq_ignore_ascii_case("sentinel") && w.len() >= 2 {
            let opt = w[1].to_ascii_lowercase();
            if opt == "monitor" && w.len() == 6 {
                out.push(("quorum".to_string(), w[5].to_string()));
                continue;
            }
            if SETTABLE.contains(&opt.as_str()) && w.len() >= 4 {
                out.push((opt, unquote(&w[3..].join(" "))));
                continue;
            }
        }
        out.push((l.to_string(), String::new()));
    }
    out.sort();
    out
}

/// A value as the config wrote it, without the quotes the template's `quote` filter adds.
fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => v.to_string(),
    }
}

/// The SENTINEL SET changes that turn a Sentinel running `old` into one running `new`, or
/// None when something else changed (a port, the bind address, the password, ...).
fn run_time_changes(old: &str, new: &str) -> Option<Vec<(String, String)>> {
    let (o, n) = (keyed(old), keyed(new));
    let fixed = |v: &[(String, String)]| -> Vec<(String, String)> {
        v.iter()
            .filter(|(k, _)| k != "quorum" && !SETTABLE.contains(&k.as_str()))
            .cloned()
            .collect()
    };
    if fixed(&o) != fixed(&n) {
        return None;
    }
    let get =
        |v: &[(String, String)], k: &str| v.iter().find(|(x, _)| x == k).map(|(_, y)| y.clone());
    let mut changes = Vec::new();
    for k in std::iter::once("quorum").chain(SETTABLE.iter().copied()) {
        let (a, b) = (get(&o, k), get(&n, k));
        if a != b {
            changes.push((k.to_string(), b?));
        }
    }
    Some(changes)
}

/// Computes the Sentinel part of deploy's plan (empty without a `sentinel:` section). `inv`
/// is the inventory after [`super::follow::follow`], so every render monitors the live master.
pub async fn compute(inv: &Inventory) -> Result<Vec<SentinelPlan>> {
    let Some(s) = &inv.sentinel else {
        return Ok(Vec::new());
    };
    let renderer = Renderer::new(inv)?;
    let binary = load_binary(inv)?;
    let mut tasks = Vec::new();
    for node in &s.nodes {
        let config = renderer.render_sentinel(inv, node)?;
        let node = node.clone();
        tasks.push((
            node.clone(),
            config.clone(),
            tokio::task::spawn_blocking(move || -> Result<(SentinelState, Option<String>)> {
                let mut t = transport::connect(&node.host)?;
                let st = host::inspect(t.as_mut(), &node)?;
                let old = if st.rendered_sha256.is_some()
                    && st.rendered_sha256.as_deref() != Some(host::render_sha(&config).as_str())
                {
                    host::read_render(t.as_mut(), &node)?
                } else {
                    None
                };
                Ok((st, old))
            }),
        ));
    }
    let mut plans = Vec::new();
    for (node, config, task) in tasks {
        let r = task
            .await
            .unwrap_or_else(|e| Err(Error::failed(format!("host {}: {e}", node.name()))));
        let (state, old, error) = match r {
            Ok((st, old)) => (st, old, None),
            Err(e) => (SentinelState::default(), None, Some(e.message)),
        };
        let upload_binary = binary
            .as_ref()
            .is_some_and(|b| state.binary_sha256.as_deref() != Some(b.sha256.as_str()));
        let same_render =
            state.rendered_sha256.as_deref() == Some(host::render_sha(&config).as_str());
        let step = if state.running_pid.is_none() {
            SStep::Start {
                fresh: !(same_render && state.has_config),
            }
        } else if upload_binary {
            SStep::Restart {
                why: "the binary changed".into(),
            }
        } else if same_render {
            SStep::Keep
        } else {
            match old.as_deref().and_then(|o| run_time_changes(o, &config)) {
                Some(changes) if !changes.is_empty() => SStep::Set { changes },
                Some(_) => SStep::Set {
                    changes: Vec::new(),
                },
                None => SStep::Restart {
                    why: if old.is_none() {
                        "it was not started by tripod, or from another render".into()
                    } else {
                        "its config changed beyond what SENTINEL SET changes".into()
                    },
                },
            }
        };
        plans.push(SentinelPlan {
            node,
            config,
            state,
            upload_binary,
            step,
            error,
        });
    }
    Ok(plans)
}

/// A fresh render to start from, carrying over the Sentinel's id and current epoch from the
/// config it rewrote (so the other Sentinels know it as before and epochs never go back).
fn carry_over(fresh: &str, rewritten: Option<&str>) -> String {
    let mut out = fresh.to_string();
    if let Some(old) = rewritten {
        for l in old.lines() {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() == 3
                && w[0].eq_ignore_ascii_case("sentinel")
                && (w[1].eq_ignore_ascii_case("myid") || w[1].eq_ignore_ascii_case("current-epoch"))
            {
                out.push_str(l.trim());
                out.push('\n');
            }
        }
    }
    out
}

/// Carries out the Sentinel plans (see the module doc); returns per Sentinel the outcome
/// text or the error.
pub async fn apply(inv: &Inventory, plans: &[SentinelPlan]) -> Vec<(String, Result<String>)> {
    let Some(s) = &inv.sentinel else {
        return Vec::new();
    };
    let binary = match load_binary(inv) {
        Ok(b) => b,
        Err(e) => {
            return plans
                .iter()
                .map(|p| {
                    (
                        p.node.name().to_string(),
                        Err(Error::failed(e.message.clone())),
                    )
                })
                .collect()
        }
    };
    let program = s.program.clone();
    let mut results = Vec::new();
    // Uploads and starts, every Sentinel at once.
    let mut tasks = Vec::new();
    for p in plans
        .iter()
        .filter(|p| !matches!(p.step, SStep::Restart { .. } | SStep::Set { .. }))
    {
        let (p, bin, program) = (p.clone(), binary.clone(), program.clone());
        tasks.push(tokio::task::spawn_blocking(move || -> Result<String> {
            if let Some(e) = &p.error {
                return Err(Error::failed(e.clone()));
            }
            let mut done = Vec::new();
            if p.upload_binary || matches!(p.step, SStep::Start { .. }) {
                let mut t = transport::connect(&p.node.host)?;
                ops::ensure_dir(t.as_mut(), &p.node.host)?;
                if p.upload_binary {
                    if let Some(b) = &bin {
                        host::upload_binary(t.as_mut(), &p.node, &b.bytes)?;
                        done.push("uploaded redis-sentinel");
                    }
                }
                if let SStep::Start { fresh } = p.step {
                    if fresh {
                        let old = if p.state.has_config {
                            t.read_file(&p.node.config_file())?
                                .map(|b| String::from_utf8_lossy(&b).into_owned())
                        } else {
                            None
                        };
                        let cfg = carry_over(&p.config, old.as_deref());
                        t.upload(cfg.as_bytes(), &p.node.config_file(), 0o600)?;
                        host::record_render(t.as_mut(), &p.node, &p.config)?;
                        done.push("uploaded sentinel.conf");
                    }
                    host::start(t.as_mut(), &p.node, &program)?;
                    wait_answers(&p.node)?;
                    done.push("started");
                }
            }
            Ok(if done.is_empty() {
                "unchanged".to_string()
            } else {
                done.join(", ")
            })
        }));
    }
    let starters: Vec<&SentinelPlan> = plans
        .iter()
        .filter(|p| !matches!(p.step, SStep::Restart { .. } | SStep::Set { .. }))
        .collect();
    for (t, p) in tasks.into_iter().zip(starters) {
        let r = t
            .await
            .unwrap_or_else(|e| Err(Error::failed(format!("task failed: {e}"))));
        results.push((p.node.name().to_string(), r));
    }
    // Run-time changes.
    for p in plans.iter() {
        let SStep::Set { changes } = &p.step else {
            continue;
        };
        let r = set_at_run_time(inv, p, changes).await;
        results.push((p.node.name().to_string(), r));
    }
    // Restarts, one Sentinel at a time.
    for p in plans.iter() {
        let SStep::Restart { why } = &p.step else {
            continue;
        };
        let (p2, bin, program) = (p.clone(), binary.clone(), program.clone());
        let why = why.clone();
        let r = tokio::task::spawn_blocking(move || -> Result<String> {
            let p = p2;
            let mut t = transport::connect(&p.node.host)?;
            host::stop(t.as_mut(), &p.node)?;
            if p.upload_binary {
                if let Some(b) = &bin {
                    host::upload_binary(t.as_mut(), &p.node, &b.bytes)?;
                }
            }
            let old = t
                .read_file(&p.node.config_file())?
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            let same_render =
                p.state.rendered_sha256.as_deref() == Some(host::render_sha(&p.config).as_str());
            if !(same_render && old.is_some()) {
                let cfg = carry_over(&p.config, old.as_deref());
                t.upload(cfg.as_bytes(), &p.node.config_file(), 0o600)?;
                host::record_render(t.as_mut(), &p.node, &p.config)?;
            }
            host::start(t.as_mut(), &p.node, &program)?;
            wait_answers(&p.node)?;
            Ok(format!("restarted ({why})"))
        })
        .await
        .unwrap_or_else(|e| Err(Error::failed(format!("task failed: {e}"))));
        results.push((p.node.name().to_string(), r));
    }
    results
}

/// SENTINEL SET for each change, then tripod's render recorded as the last one.
async fn set_at_run_time(
    inv: &Inventory,
    p: &SentinelPlan,
    changes: &[(String, String)],
) -> Result<String> {
    if let Some(e) = &p.error {
        return Err(Error::failed(e.clone()));
    }
    let mut con = ask::connect(&p.node).await?;
    for (k, v) in changes {
        ask::set(&p.node, &mut con, &inv.cluster, k, v).await?;
    }
    let (node, config) = (p.node.clone(), p.config.clone());
    tokio::task::spawn_blocking(move || -> Result<()> {
        let mut t = transport::connect(&node.host)?;
        host::record_render(t.as_mut(), &node, &config)
    })
    .await
    .unwrap_or_else(|e| Err(Error::failed(format!("task failed: {e}"))))?;
    Ok(if changes.is_empty() {
        "unchanged".to_string()
    } else {
        format!(
            "reconfigured at run time: {}",
            changes
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Polls PING on the Sentinel until it answers (a blocking thread).
fn wait_answers(node: &SentinelNode) -> Result<()> {
    let deadline = Instant::now() + host::START_LIMIT;
    loop {
        match crate::cli::probe::ping_blocking(&node.as_target(), Duration::from_millis(500)) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind.is_auth() || Instant::now() >= deadline => {
                return Err(Error::failed(format!(
                    "Sentinel {}: {} — it did not answer",
                    node.name(),
                    e.message
                )))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// What is wrong with the Sentinels' view of the group, checked at once (empty: every
/// Sentinel answers, names `inv`'s master, knows the n-1 other Sentinels and every replica
/// as up, and SENTINEL CKQUORUM is OK).
pub async fn problems(inv: &Inventory) -> Vec<String> {
    let Some(s) = &inv.sentinel else {
        return Vec::new();
    };
    let master = inv.master();
    let n = s.nodes.len() as i64;
    let mut out = Vec::new();
    for v in ask::view_all(inv).await {
        let name = v.node.name().to_string();
        if !v.reachable {
            out.push(format!(
                "Sentinel {name} does not answer: {}",
                v.error.clone().unwrap_or_default()
            ));
            continue;
        }
        match &v.master {
            None => out.push(format!("Sentinel {name} does not monitor {}", inv.cluster)),
            Some((a, p)) => {
                if ask::host_at(inv, a, *p).map(|h| h.name.as_str()) != Some(master.name.as_str()) {
                    out.push(format!(
                        "Sentinel {name} sees {a}:{p} as the master, not {} ({})",
                        master.name,
                        master.endpoint()
                    ));
                }
            }
        }
        let others = v.field_num("num-other-sentinels").unwrap_or(-1);
        if others != n - 1 {
            out.push(format!(
                "Sentinel {name} knows {others} other Sentinel(s), not {}",
                n - 1
            ));
        }
        if let Some(flags) = v.fields.get("flags") {
            if flags.contains("down") {
                out.push(format!("Sentinel {name} flags the master {flags}"));
            }
        }
        if v.quorum_ok != Some(true) {
            out.push(format!(
                "Sentinel {name}: SENTINEL CKQUORUM: {}",
                v.quorum_text
                    .clone()
                    .or(v.error.clone())
                    .unwrap_or_default()
            ));
        }
        // Every replica known and up.
        if let Ok(mut con) = ask::connect(&v.node).await {
            match ask::replicas(&v.node, &mut con, &inv.cluster).await {
                Ok(list) => {
                    for r in inv.replicas() {
                        let seen = list.iter().find(|f| {
                            f.get("port").and_then(|p| p.parse::<u16>().ok()) == Some(r.redis.port)
                                && f.get("ip").is_some_and(|ip| {
                                    ask::host_at(inv, ip, r.redis.port).map(|h| h.name.as_str())
                                        == Some(r.name.as_str())
                                })
                        });
                        match seen {
                            None => out.push(format!(
                                "Sentinel {name} does not know the replica {} yet",
                                r.name
                            )),
                            Some(f) => {
                                let flags = f.get("flags").cloned().unwrap_or_default();
                                if flags.contains("down") || flags.contains("disconnected") {
                                    out.push(format!(
                                        "Sentinel {name} flags the replica {} {flags}",
                                        r.name
                                    ));
                                }
                            }
                        }
                    }
                }
                Err(e) => out.push(e.message),
            }
        }
    }
    out
}

/// Polls [`problems`] until there are none or `limit` passes; returns what is left.
pub async fn wait_verified(inv: &Inventory, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    loop {
        let p = problems(inv).await;
        if p.is_empty() || Instant::now() >= deadline {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "port 26379\nsentinel monitor c 10.0.0.1 6379 2\nsentinel auth-pass c \"pw\"\nsentinel down-after-milliseconds c 5000\nsentinel failover-timeout c 60000\nsentinel parallel-syncs c 1\n";

    #[test]
    fn run_time_changes_are_sentinel_set() {
        let new = OLD
            .replace("6379 2", "6379 3")
            .replace("c 5000", "c 800")
            .replace("\"pw\"", "\"pw2\"");
        assert_eq!(
            run_time_changes(OLD, &new),
            Some(vec![
                ("quorum".to_string(), "3".to_string()),
                ("down-after-milliseconds".to_string(), "800".to_string()),
                ("auth-pass".to_string(), "pw2".to_string()),
            ])
        );
        // The monitored address alone: nothing to set (Sentinel follows the live master).
        assert_eq!(
            run_time_changes(OLD, &OLD.replace("10.0.0.1", "10.0.0.2")),
            Some(vec![])
        );
        // A port needs a restart.
        assert_eq!(
            run_time_changes(OLD, &OLD.replace("port 26379", "port 26380")),
            None
        );
    }

    #[test]
    fn carry_over_keeps_id_and_epoch() {
        let rewritten = format!("{OLD}sentinel myid abc\nsentinel current-epoch 7\nsentinel known-replica c 10.0.0.2 6379\n");
        let out = carry_over(OLD, Some(&rewritten));
        assert!(
            out.ends_with("sentinel myid abc\nsentinel current-epoch 7\n"),
            "{out}"
        );
        assert!(!out.contains("known-replica"));
    }
}
