//! Deploy's plan: per host, what differs from the inventory and what deploy will do about it,
//! computed once from what the hosts report. `deploy --dry-run` prints it; `deploy` prints the
//! same plan lines and then carries out exactly this plan (`commands::deploy`), so what an
//! operator reviewed is what happens.
//!
//! Deciding is separate from doing: nothing here changes a host. The plan also holds the
//! refusals: a host that cannot run the binary, or a start or restart that would make a node
//! master while another node holds writes it lacks (see [`safety`](super::safety)).
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::error::{Error, Result};
use super::group::Snapshot;
use super::inventory::{Host, Inventory, Role};
use super::ops::{self, RemoteState, ServerBinary};
use super::probe::LiveRole;
use super::render::{mask, render_acl, Renderer};
use super::report;
use super::safety::{self, DataMark};
use super::transport;

/// What happens to a host's server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Running, and started from the files the inventory renders: leave it alone.
    Keep,
    /// Not running: start it.
    Start,
    /// Stop it (SHUTDOWN SAVE: its data is on disk first) and start it again, in place.
    Restart { why: String },
    /// A master with an online replica: hand the master role to `via`, restart this node as a
    /// replica of `via`, and hand the role back, so writes only pause.
    Handover { via: String, why: String },
}

/// One host's part of the plan.
#[derive(Debug, Clone)]
pub struct HostPlan {
    pub host: Host,
    /// The rendered config deploy puts in place.
    pub config: String,
    pub binary: Arc<ServerBinary>,
    pub state: RemoteState,
    pub upload_binary: bool,
    pub upload_config: bool,
    /// The aclfile deploy puts in place, when the inventory has an `acl:` section.
    pub acl: Option<String>,
    /// The aclfile on the host differs from `acl` (or is missing).
    pub upload_acl: bool,
    /// The config on the host now, when it differs (for the diff).
    pub old_config: Option<String>,
    pub step: Step,
    /// The config on the host differs from the render only in the role lines (replicaof,
    /// masterauth) and in how CONFIG REWRITE spells things, and the running server already has
    /// the render's role: Sentinel (or an operator's REPLICAOF + CONFIG REWRITE) changed it.
    /// Deploy uploads the render and records it as what runs; no restart.
    pub adopt_config: bool,
    /// The host could not be inspected (SSH refused, a changed host key, ...): deploy reports
    /// it as failed and goes on with the others; the next deploy picks it up.
    pub error: Option<String>,
}

impl HostPlan {
    /// The actions, in order, as one line: what dry-run shows and deploy announces.
    pub fn actions(&self) -> Vec<String> {
        if let Some(e) = &self.error {
            return vec![format!("nothing: cannot inspect the host ({e})")];
        }
        let mut a = Vec::new();
        if self.upload_binary {
            a.push("upload tripod-server".to_string());
        }
        if self.upload_config && self.adopt_config {
            a.push(
                "upload config (the running server already has its role: the file was rewritten at run time)"
                    .to_string(),
            );
        } else if self.upload_config {
            a.push("upload config".to_string());
        }
        if self.upload_acl {
            a.push("upload users.acl".to_string());
        }
        if self.acl.is_some() && self.state.running_pid.is_some() {
            a.push("apply the ACL users to the running server".to_string());
        }
        a.push(match &self.step {
            Step::Keep => "leave the running server alone".to_string(),
            Step::Start => "start the server".to_string(),
            Step::Restart { why } => format!("restart the server ({why})"),
            Step::Handover { via, why } => format!(
                "restart the server through a handover: master role to {via}, restart as its replica, role back ({why})"
            ),
        });
        a
    }
}

/// The whole plan.
#[derive(Debug)]
pub struct Plan {
    pub hosts: Vec<HostPlan>,
    /// Things the operator should know that do not stop the deploy.
    pub warnings: Vec<String>,
    /// Why deploy must not go on; empty when it may. `--force` overrides the data checks, not
    /// a host that cannot run the binary.
    pub refusals: Vec<Refusal>,
}

#[derive(Debug)]
pub struct Refusal {
    pub message: String,
    /// `--force` may override it (a data check); a wrong architecture cannot be forced.
    pub forcible: bool,
}

impl Plan {
    /// One line per host: `plan NAME: action, action, ...`.
    pub fn lines(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| format!("plan {}: {}", h.host.name, h.actions().join(", ")))
            .collect()
    }

    /// The dry-run report: per host the config diff (secrets masked) and the actions.
    pub fn details(&self) -> String {
        let mut out = String::new();
        for h in &self.hosts {
            let pw = h.host.redis.password.as_deref();
            out.push_str(&format!(
                "== {} ({}, {}) ==\n",
                h.host.name,
                h.host.endpoint(),
                h.host.role.as_str()
            ));
            if let Some(e) = &h.error {
                out.push_str(&format!("cannot plan: {e}\n\n"));
                continue;
            }
            if h.upload_config {
                out.push_str(&format!("config diff ({}):\n", h.host.redis.config_file()));
                out.push_str(&report::diff(
                    &mask(h.old_config.as_deref().unwrap_or(""), pw),
                    &mask(&h.config, pw),
                ));
            } else {
                out.push_str("config: unchanged\n");
            }
            out.push_str("actions:\n");
            out.push_str(&format!("  - ensure {} exists\n", h.host.redis.install_dir));
            if h.upload_binary {
                out.push_str(&format!(
                    "  - upload tripod-server from {} (sha256 {}…)\n",
                    h.binary.path.display(),
                    &h.binary.sha256[..12]
                ));
            }
            if h.upload_config {
                out.push_str(&format!(
                    "  - upload {} (mode 0600)\n",
                    h.host.redis.config_file()
                ));
            }
            if let (true, Some(acl)) = (h.upload_acl, &h.acl) {
                // The users' names only: the file's lines hold password hashes.
                let names: Vec<&str> = acl
                    .lines()
                    .filter_map(|l| l.split_whitespace().nth(1))
                    .collect();
                out.push_str(&format!(
                    "  - upload {} (mode 0600; users {})\n",
                    h.host.redis.acl_file(),
                    names.join(", ")
                ));
            }
            if h.acl.is_some() && h.state.running_pid.is_some() {
                out.push_str(
                    "  - apply the ACL users to the running server (ACL SETUSER each, ACL DELUSER users no longer declared)\n",
                );
            }
            let pid = h
                .state
                .running_pid
                .map(|p| format!(" (pid {p})"))
                .unwrap_or_default();
            out.push_str(&match &h.step {
                Step::Keep => "  - nothing: the server is running and unchanged\n".to_string(),
                Step::Start => "  - start the server\n".to_string(),
                Step::Restart { why } => format!("  - restart the server{pid}: {why}\n"),
                Step::Handover { via, why } => format!(
                    "  - restart the server{pid} through a handover: {why}\n    \
                     FAILOVER to {via}, restart as a replica of {via}, FAILOVER back\n"
                ),
            });
            out.push('\n');
        }
        out
    }
}

/// Computes the plan: renders every config, loads the binaries, inspects every host (nothing
/// is created or changed), and decides per host; then checks architectures and data.
pub async fn compute(inv: &Inventory, snap: &Snapshot) -> Result<Plan> {
    let renderer = Renderer::new(inv)?;
    let mut configs = Vec::new();
    for h in &inv.hosts {
        configs.push(renderer.render(inv, h)?);
    }
    let binaries = load_binaries(inv).await?;

    let mut tasks = Vec::new();
    for (h, cfg) in inv.hosts.iter().zip(&configs) {
        let (h, cfg) = (h.clone(), cfg.clone());
        tasks.push(tokio::task::spawn_blocking(
            move || -> Result<(RemoteState, Option<String>)> {
                let mut t = transport::connect(&h)?;
                let st = ops::inspect(t.as_mut(), &h, false)?;
                let old = if st.config_sha256.is_some()
                    && st.config_sha256.as_deref() != Some(ops::sha256_hex(cfg.as_bytes()).as_str())
                {
                    t.read_file(&h.redis.config_file())?
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                } else {
                    None
                };
                Ok((st, old))
            },
        ));
    }
    let mut hosts = Vec::new();
    for (((t, h), cfg), bin) in tasks
        .into_iter()
        .zip(&inv.hosts)
        .zip(configs)
        .zip(&binaries)
    {
        let r = t
            .await
            .unwrap_or_else(|e| Err(Error::failed(format!("host {}: {e}", h.name))));
        let cfg_sha = ops::sha256_hex(cfg.as_bytes());
        let (state, old_config, error) = match r {
            Ok((state, old)) => (state, old, None),
            Err(e) => (RemoteState::default(), None, Some(e.message)),
        };
        let acl = render_acl(inv, h);
        let upload_acl = acl.as_ref().is_some_and(|a| {
            state.acl_sha256.as_deref() != Some(ops::sha256_hex(a.as_bytes()).as_str())
        });
        hosts.push(HostPlan {
            host: h.clone(),
            upload_binary: state.binary_sha256.as_deref() != Some(bin.sha256.as_str()),
            upload_config: state.config_sha256.as_deref() != Some(cfg_sha.as_str()),
            acl,
            upload_acl,
            config: cfg,
            binary: bin.clone(),
            state,
            old_config,
            step: Step::Keep,
            adopt_config: false,
            error,
        })
    }
    let mut plan = Plan {
        hosts,
        warnings: Vec::new(),
        refusals: Vec::new(),
    };
    decide_steps(inv, snap, &mut plan);
    check_platforms(&mut plan);
    check_data(inv, snap, &mut plan);
    warn_persistence(inv, &mut plan);
    for h in inv
        .hosts
        .iter()
        .filter(|h| h.redis.password.is_none() && h.redis.binds_beyond_loopback())
    {
        plan.warnings.push(format!(
            "WARNING: {} listens on {} without a password (allow_no_password: true): anyone who reaches the port can change or delete the data",
            h.name, h.redis.bind
        ));
    }
    Ok(plan)
}

/// The server binary for each host: the inventory's `redis.binary`, else the bundled one.
async fn load_binaries(inv: &Inventory) -> Result<Vec<Arc<ServerBinary>>> {
    let paths: Vec<Option<PathBuf>> = inv
        .hosts
        .iter()
        .map(|h| h.redis.server_binary.clone())
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cache: HashMap<Option<PathBuf>, Arc<ServerBinary>> = HashMap::new();
        let mut out = Vec::new();
        for p in paths {
            if let Some(b) = cache.get(&p) {
                out.push(b.clone());
                continue;
            }
            let b = Arc::new(ops::load_server_binary(p.as_deref())?);
            cache.insert(p, b.clone());
            out.push(b);
        }
        Ok(out)
    })
    .await
    .map_err(|e| Error::failed(format!("reading the server binary: {e}")))?
}

/// Why the host's running server differs from what the inventory wants, if it does.
fn restart_reasons(inv: &Inventory, snap: &Snapshot, h: &HostPlan) -> Vec<String> {
    let mut why = Vec::new();
    if h.upload_binary {
        why.push("the binary changed".to_string());
    }
    if h.upload_config {
        why.push("the config changed".to_string());
    }
    if why.is_empty() && h.state.runs_stale_files() {
        why.push(
            "it was started from other files than those on disk (an interrupted deploy?)"
                .to_string(),
        );
    }
    let master = inv.master();
    if let Some(info) = snap.probe_of(&h.host.name).and_then(|p| p.info.as_ref()) {
        match (h.host.role, info.role) {
            (Role::Master, LiveRole::Replica) => {
                why.push("it runs as a replica, the inventory says master".to_string())
            }
            (Role::Replica, LiveRole::Master) => {
                why.push("it runs as a master, the inventory says replica".to_string())
            }
            (Role::Replica, LiveRole::Replica) if !info.follows(master) => why.push(format!(
                "it replicates from {}:{}, the inventory says {}",
                info.master_host.as_deref().unwrap_or("?"),
                info.master_port.unwrap_or(0),
                master.name
            )),
            _ => {}
        }
    }
    why
}

fn decide_steps(inv: &Inventory, snap: &Snapshot, plan: &mut Plan) {
    let master = inv.master().clone();
    // A replica that can take the master role for a handover: the first inventory replica that
    // is an online replica of the live inventory master. (Not "the furthest along": offsets move
    // between two runs, and the plan a dry run shows must be the plan deploy carries out; the
    // handover waits until it has caught up anyway.)
    let via = snap
        .probe_of(&master.name)
        .and_then(|p| p.info.as_ref())
        .filter(|m| m.role == LiveRole::Master)
        .and_then(|m| {
            inv.replicas().find_map(|r| {
                let line = m.slave_line(r)?;
                let ri = snap.probe_of(&r.name)?.info.as_ref()?;
                (line.state == "online" && ri.link_up() && ri.follows(&master))
                    .then(|| r.name.clone())
            })
        });
    for i in 0..plan.hosts.len() {
        let h = &plan.hosts[i];
        if h.error.is_some() {
            continue;
        }
        let adopt = h.state.running_pid.is_some()
            && h.upload_config
            && !h.upload_binary
            && live_has_role(inv, snap, h)
            && h.old_config
                .as_deref()
                .is_some_and(|old| same_but_role(old, &h.config));
        plan.hosts[i].adopt_config = adopt;
        let h = &plan.hosts[i];
        let step = if h.state.running_pid.is_none() {
            Step::Start
        } else if adopt {
            Step::Keep
        } else {
            let why = restart_reasons(inv, snap, h);
            if why.is_empty() {
                Step::Keep
            } else {
                let why = why.join("; ");
                match (&via, h.host.role) {
                    (Some(v), Role::Master) => Step::Handover {
                        via: v.clone(),
                        why,
                    },
                    _ => Step::Restart { why },
                }
            }
        };
        plan.hosts[i].step = step;
    }
}

/// The node answers with the role the inventory gives it (a replica: linked to the inventory's
/// master).
fn live_has_role(inv: &Inventory, snap: &Snapshot, h: &HostPlan) -> bool {
    let Some(info) = snap.probe_of(&h.host.name).and_then(|p| p.info.as_ref()) else {
        return false;
    };
    match h.host.role {
        Role::Master => info.role == LiveRole::Master,
        Role::Replica => info.role == LiveRole::Replica && info.follows(inv.master()),
    }
}

/// Directives that say which role a node has; Sentinel and promote change them at run time.
const ROLE_DIRECTIVES: &[&str] = &["replicaof", "slaveof", "masterauth", "masteruser"];

/// Words of a config line as redis.conf reads them: split on spaces, double quotes removed
/// (with `\"` and `\\` unescaped).
fn config_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let (mut in_q, mut any) = (false, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_q = !in_q;
                any = true;
            }
            '\\' if in_q => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !in_q => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The settings a config file gives, role directives left out, in a form that does not depend
/// on how CONFIG REWRITE spells them: names lowercased, quotes removed, `save` lines joined into
/// one list of points, sorted.
fn settings_but_role(config: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut save: Vec<String> = Vec::new();
    for line in config.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let w = config_words(l);
        let Some((k, rest)) = w.split_first() else {
            continue;
        };
        let k = k.to_ascii_lowercase();
        if ROLE_DIRECTIVES.contains(&k.as_str()) {
            continue;
        }
        if k == "save" {
            save.extend(rest.iter().cloned());
            continue;
        }
        out.push((k, rest.join(" ")));
    }
    out.push(("save".to_string(), save.join(" ")));
    out.sort();
    out
}

/// `old` (the file on the host) and `new` (the render) give the same settings but for the
/// role directives.
fn same_but_role(old: &str, new: &str) -> bool {
    settings_but_role(old) == settings_but_role(new)
}

/// The Linux machine names a binary built for `elf` runs on.
fn runs_on(elf: &str, machine: &str) -> bool {
    match elf {
        "x86_64" => matches!(machine, "x86_64" | "amd64"),
        "aarch64" => matches!(machine, "aarch64" | "arm64" | "armv8l"),
        other => other == machine,
    }
}

fn check_platforms(plan: &mut Plan) {
    for h in plan.hosts.iter().filter(|h| h.error.is_none()) {
        let Some(want) = h.binary.machine.as_deref() else {
            plan.refusals.push(Refusal {
                message: format!(
                    "{} is not a Linux executable (no ELF header); deploy uploads only a server built for Linux",
                    h.binary.path.display()
                ),
                forcible: false,
            });
            continue;
        };
        let os = h.state.os.as_deref().unwrap_or("?");
        let machine = h.state.machine.as_deref().unwrap_or("?");
        if os != "Linux" || !runs_on(want, machine) {
            plan.refusals.push(Refusal {
                message: format!(
                    "host {} reports `{os} {machine}` (uname -sm), but the server binary {} is built for Linux {want}: \
                     it cannot run there. Build tripod-server for that machine and name it in the inventory \
                     (redis: {{ binary: PATH }} on this host)",
                    h.host.name,
                    h.binary.path.display()
                ),
                forcible: false,
            });
        }
    }
}

/// The data check: after this deploy the inventory's master is the master, and its replicas
/// take its data. Refuse when another node holds writes the master would lack: the master's
/// data is what it runs with now (a restart saves first), or, when it is not running, what its
/// dump.rdb holds.
fn check_data(inv: &Inventory, snap: &Snapshot, plan: &mut Plan) {
    let master = inv.master();
    let mark_of = |h: &HostPlan| -> Option<DataMark> {
        if h.error.is_some() {
            return None;
        }
        if h.state.running_pid.is_some() {
            snap.probe_of(&h.host.name).and_then(DataMark::live)
        } else {
            Some(DataMark::on_disk(&h.state))
        }
    };
    let Some(mp) = plan.hosts.iter().find(|h| h.host.name == master.name) else {
        return;
    };
    let Some(mut cand) = mark_of(mp) else {
        return;
    };
    cand.source = format!("{} ({})", master.name, cand.source);
    let master_runs = mp.state.running_pid.is_some();
    for h in &plan.hosts {
        if h.host.name == master.name {
            continue;
        }
        // A replica linked to the running master holds a prefix of the master's stream by
        // construction; comparing their offsets would only measure the moments of the two
        // probes while writes flow.
        let linked = snap
            .probe_of(&h.host.name)
            .and_then(|p| p.info.as_ref())
            .is_some_and(|i| i.role == LiveRole::Replica && i.link_up() && i.follows(master));
        if master_runs && h.state.running_pid.is_some() && linked {
            continue;
        }
        let Some(mut other) = mark_of(h) else {
            if h.error.is_some() {
                plan.warnings.push(format!(
                    "warning: {}'s data could not be checked (the host cannot be inspected); \
                     deploy goes on with the other hosts",
                    h.host.name
                ));
            }
            continue;
        };
        other.source = format!("{} ({})", h.host.name, other.source);
        if let Some(why) = safety::missing_from(&cand, &other) {
            let what = if mp.step == Step::Start {
                "starting it as the master"
            } else {
                "keeping it the master"
            };
            plan.refusals.push(Refusal {
                message: format!(
                    "{} is the inventory's master, but {why}: {what} would make its replicas discard those writes. \
                     If {} holds the data to keep, make it the master (set `role: master` on it and `role: replica` on {} in {}) \
                     and deploy again; to discard its writes, deploy --force",
                    master.name,
                    h.host.name,
                    master.name,
                    inv.path.display()
                ),
                forcible: true,
            });
        }
    }
}

/// The last value of `directive` in a rendered config (unquoted), if any.
fn directive(config: &str, name: &str) -> Option<String> {
    config
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let (k, v) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .next_back()
}

/// A master with replicas and no persistence is the setup Redis's documentation warns about:
/// if it restarts (a crash, a reboot, a supervisor), it comes back empty and its replicas
/// empty themselves to match. tripod's own stops and restarts save first; others do not.
fn warn_persistence(inv: &Inventory, plan: &mut Plan) {
    let master = inv.master();
    let Some(mp) = plan.hosts.iter().find(|h| h.host.name == master.name) else {
        return;
    };
    let save_off =
        directive(&mp.config, "save").is_some_and(|v| v.is_empty() || v == "\"\"" || v == "''");
    let aof_on = directive(&mp.config, "appendonly").is_some_and(|v| v.eq_ignore_ascii_case("yes"));
    if save_off && !aof_on && inv.replicas().count() > 0 {
        plan.warnings.push(format!(
            "WARNING: the master {} has no persistence (save \"\" and appendonly no). If its process is restarted by anything \
             but tripod, it comes back empty and its replicas then delete their copies too. Keep save points or appendonly \
             on the master (Redis's replication documentation warns about this setup).",
            master.name
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What tripod renders, and what tripod-server's CONFIG REWRITE made of it after Sentinel's
    /// `REPLICAOF NO ONE` (quotes added, save points split, replicaof gone).
    const RENDERED: &str = "# c: m (replica)\nbind 127.0.0.1\nport 7001\nreplica-announce-ip 127.0.0.1\ndir \"/srv/a b\"\ndbfilename dump.rdb\nsave 3600 1 300 100 60 10000\nrequirepass \"pw\"\n\n# replica of n\nreplicaof 127.0.0.1 7002\nmasterauth \"pw\"\nreplica-read-only yes\n";
    const REWRITTEN: &str = "# c: m (replica)\nbind 127.0.0.1\nport 7001\nreplica-announce-ip \"127.0.0.1\"\ndir \"/srv/a b\"\ndbfilename \"dump.rdb\"\nsave 3600 1\nrequirepass \"pw\"\n\n# replica of n\nmasterauth \"pw\"\nreplica-read-only yes\n\n# Generated by CONFIG REWRITE\nsave 300 100\nsave 60 10000\n";

    #[test]
    fn config_rewrite_is_the_same_but_role() {
        assert!(same_but_role(REWRITTEN, RENDERED));
        let master = RENDERED
            .replace("replicaof 127.0.0.1 7002\n", "")
            .replace("masterauth \"pw\"\n", "");
        assert!(same_but_role(REWRITTEN, &master));
        assert!(!same_but_role(
            REWRITTEN,
            &RENDERED.replace("port 7001", "port 7009")
        ));
        assert!(!same_but_role(
            REWRITTEN,
            &RENDERED.replace("60 10000", "60 10001")
        ));
        assert!(!same_but_role(
            &REWRITTEN.replace("\"/srv/a b\"", "/srv/a"),
            RENDERED
        ));
    }

    #[test]
    fn config_words_unquote() {
        assert_eq!(
            config_words("dir \"/a b\" x\\y \"q\\\"\""),
            ["dir", "/a b", "x\\y", "q\""]
        );
        assert_eq!(config_words("save \"\""), ["save", ""]);
    }
}
