//! `tripod status INVENTORY [--json] [--watch]`: role, link, offset and lag of every node.
use std::time::Duration;

use serde::Serialize;

use crate::cli::error::Result;
use crate::cli::group::Snapshot;
use crate::cli::inventory::Inventory;
use crate::cli::probe::{LiveRole, Probe};
use crate::cli::report;
use crate::cli::sentinel::ask;

#[derive(Debug, Serialize)]
pub struct NodeStatus {
    pub name: String,
    pub address: String,
    pub port: u16,
    /// The role in the inventory.
    pub inventory_role: String,
    /// "master", "replica" or "unknown" (unreachable).
    pub role: String,
    pub reachable: bool,
    /// "up" or "down" on a replica; null on a master or an unreachable node.
    pub link: Option<String>,
    pub offset: Option<i64>,
    /// The master's offset minus this node's.
    pub lag_bytes: Option<i64>,
    /// The master's `lag` field for this replica (seconds since its last ack).
    pub lag_seconds: Option<i64>,
    /// The master this node replicates from (address:port).
    pub following: Option<String>,
    /// Persistence (INFO persistence); null when the node did not answer.
    pub persistence: Option<PersistStatus>,
    pub error: Option<String>,
}

/// A node's persistence as `status` shows it: whether the AOF is on and how
/// the last AOF rewrite, AOF write/fsync and background save went.
#[derive(Debug, Serialize)]
pub struct PersistStatus {
    pub aof_enabled: bool,
    pub aof_rewrite_in_progress: bool,
    /// "ok" or "err" (INFO's aof_last_bgrewrite_status).
    pub aof_last_rewrite_status: String,
    /// "ok" or "err" (INFO's aof_last_write_status: writes and fsyncs).
    pub aof_last_write_status: String,
    pub rdb_bgsave_in_progress: bool,
    pub rdb_last_bgsave_status: String,
}

impl PersistStatus {
    fn from_probe(p: &crate::cli::probe::PersistInfo) -> Self {
        PersistStatus {
            aof_enabled: p.aof_enabled,
            aof_rewrite_in_progress: p.aof_rewrite_in_progress,
            aof_last_rewrite_status: p.aof_last_bgrewrite_status.clone(),
            aof_last_write_status: p.aof_last_write_status.clone(),
            rdb_bgsave_in_progress: p.rdb_bgsave_in_progress,
            rdb_last_bgsave_status: p.rdb_last_bgsave_status.clone(),
        }
    }

    /// The AOF column: "off", or "on" with the rewrite and write statuses
    /// when one is not "ok" or a rewrite runs.
    fn aof_text(&self) -> String {
        if !self.aof_enabled {
            return "off".into();
        }
        let mut t = "on".to_string();
        if self.aof_rewrite_in_progress {
            t.push_str(" rewriting");
        }
        if self.aof_last_rewrite_status != "ok" {
            t.push_str(&format!(" rewrite:{}", self.aof_last_rewrite_status));
        }
        if self.aof_last_write_status != "ok" {
            t.push_str(&format!(" write:{}", self.aof_last_write_status));
        }
        t
    }

    /// The BGSAVE column: the last status, "saving" while one runs.
    fn bgsave_text(&self) -> String {
        if self.rdb_bgsave_in_progress {
            format!("{} saving", self.rdb_last_bgsave_status)
        } else {
            self.rdb_last_bgsave_status.clone()
        }
    }
}

#[derive(Debug, Serialize)]
pub struct GroupStatus {
    pub cluster: String,
    pub healthy: bool,
    pub master: Option<String>,
    pub problems: Vec<String>,
    pub nodes: Vec<NodeStatus>,
    /// With a `sentinel:` section: every Sentinel (absent from the JSON otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentinels: Option<Vec<SentinelStatus>>,
}

/// One Sentinel as `status` shows it (the `sentinels` list of DESIGN.md, plus extras).
#[derive(Debug, Serialize)]
pub struct SentinelStatus {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub reachable: bool,
    /// The master as this Sentinel sees it, "address:port".
    pub master: Option<String>,
    /// SENTINEL CKQUORUM said OK; null when it could not be asked.
    pub quorum_ok: Option<bool>,
    /// How many other Sentinels it knows.
    pub other_sentinels: Option<i64>,
    /// The master's config epoch: it goes up with every failover.
    pub config_epoch: Option<i64>,
    /// Sentinel's flags for the master ("master", "master,s_down", ...).
    pub master_flags: Option<String>,
    pub error: Option<String>,
}

/// Probes the group (and asks its Sentinels) and judges it.
pub async fn collect(inv: &Inventory) -> GroupStatus {
    let (snap, views) = tokio::join!(Snapshot::take(&inv.hosts), ask::view_all(inv));
    let mut st = build(inv, &snap);
    if inv.sentinel.is_some() {
        add_sentinels(inv, &mut st, views);
    }
    st
}

/// Adds the Sentinels' views to `st`; a Sentinel that does not answer, sees another master
/// than the live one, or fails CKQUORUM makes the group unhealthy.
pub fn add_sentinels(inv: &Inventory, st: &mut GroupStatus, views: Vec<ask::View>) {
    let live = st
        .master
        .as_deref()
        .and_then(|m| inv.host(m))
        .map(|h| h.endpoint());
    let mut list = Vec::new();
    for v in views {
        let name = v.node.name().to_string();
        let master = v.master_endpoint();
        if !v.reachable {
            st.problems.push(format!("Sentinel {name} is unreachable"));
        } else {
            match (&master, &live) {
                (None, _) => st
                    .problems
                    .push(format!("Sentinel {name} does not monitor {}", inv.cluster)),
                (Some(m), Some(l)) if m != l => {
                    let who = ask::host_at_endpoint(inv, m).unwrap_or_else(|| m.clone());
                    st.problems
                        .push(format!("Sentinel {name} sees {who} as the master"))
                }
                _ => {}
            }
            if v.failover_in_progress() {
                st.problems
                    .push(format!("Sentinel {name}: a failover is in progress"));
            }
            if v.quorum_ok != Some(true) {
                st.problems.push(format!(
                    "Sentinel {name}: quorum not OK ({})",
                    v.quorum_text
                        .clone()
                        .or(v.error.clone())
                        .unwrap_or_default()
                ));
            }
        }
        list.push(SentinelStatus {
            name,
            address: v.node.host.address.clone(),
            port: v.node.port,
            reachable: v.reachable,
            master,
            quorum_ok: v.quorum_ok,
            other_sentinels: v.field_num("num-other-sentinels"),
            config_epoch: v.field_num("config-epoch"),
            master_flags: v.fields.get("flags").cloned(),
            error: v.error.clone(),
        });
    }
    st.healthy = st.problems.is_empty();
    st.sentinels = Some(list);
}

/// The group's status from one snapshot: healthy means exactly one master, and every other
/// node an online, linked replica of it.
pub fn build(inv: &Inventory, snap: &Snapshot) -> GroupStatus {
    let probes: &[Probe] = &snap.probes;
    let masters = snap.masters();
    let mut problems = Vec::new();
    let live_master = if masters.len() == 1 {
        Some(masters[0])
    } else {
        if masters.is_empty() {
            problems.push("no reachable node is a master".to_string());
        } else {
            problems.push(format!(
                "{} nodes are masters: {}",
                masters.len(),
                masters
                    .iter()
                    .map(|&i| inv.hosts[i].name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        None
    };
    let minfo = live_master.and_then(|i| probes[i].info.as_ref());
    let mut nodes = Vec::new();
    for (i, (h, p)) in inv.hosts.iter().zip(probes).enumerate() {
        let mut n = NodeStatus {
            name: h.name.clone(),
            address: h.address.clone(),
            port: h.redis.port,
            inventory_role: h.role.as_str().to_string(),
            role: "unknown".into(),
            reachable: p.reachable(),
            link: None,
            offset: None,
            lag_bytes: None,
            lag_seconds: None,
            following: None,
            persistence: p.persistence.as_ref().map(PersistStatus::from_probe),
            error: p.error.clone(),
        };
        match &p.info {
            None => problems.push(format!("{} is unreachable", h.name)),
            Some(info) => {
                n.role = info.role.as_str().into();
                n.offset = Some(info.offset());
                if let Some(mi) = minfo {
                    n.lag_bytes = Some(mi.master_repl_offset - info.offset());
                }
                if info.role == LiveRole::Replica {
                    n.link = Some(if info.link_up() { "up" } else { "down" }.into());
                    n.following = Some(format!(
                        "{}:{}",
                        info.master_host.as_deref().unwrap_or("?"),
                        info.master_port.unwrap_or(0)
                    ));
                    if let Some(mi) = minfo {
                        n.lag_seconds = mi.slave_line(h).map(|s| s.lag);
                    }
                    let m = live_master.map(|m| &inv.hosts[m]);
                    if !info.link_up() {
                        problems.push(format!("{}: link to its master is down", h.name));
                    } else if let Some(m) = m {
                        if !info.follows(m) {
                            problems.push(format!(
                                "{} follows {} instead of the master {}",
                                h.name,
                                n.following.as_deref().unwrap_or("?"),
                                m.name
                            ));
                        }
                    }
                } else if Some(i) != live_master && info.role != LiveRole::Master {
                    problems.push(format!("{} reports role {}", h.name, info.role.as_str()));
                }
            }
        }
        nodes.push(n);
    }
    if let (Some(m), Some(mi)) = (live_master, minfo) {
        let expected = inv.hosts.len() - 1;
        if mi.connected_slaves != expected {
            problems.push(format!(
                "master {} has connected_slaves:{} (expected {expected})",
                inv.hosts[m].name, mi.connected_slaves
            ));
        }
        for s in &mi.slaves {
            if s.state != "online" {
                problems.push(format!(
                    "master {}: replica {}:{} is state={}",
                    inv.hosts[m].name, s.ip, s.port, s.state
                ));
            }
        }
    }
    GroupStatus {
        cluster: inv.cluster.clone(),
        healthy: problems.is_empty(),
        master: live_master.map(|m| inv.hosts[m].name.clone()),
        problems,
        nodes,
        sentinels: None,
    }
}

/// The status as an aligned table with a closing health line.
pub fn render_table(inv: &Inventory, st: &GroupStatus) -> String {
    let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = st
        .nodes
        .iter()
        .map(|n| {
            vec![
                n.name.clone(),
                format!("{}:{}", n.address, n.port),
                n.role.clone(),
                n.link.clone().unwrap_or_else(|| "-".into()),
                opt(n.offset),
                opt(n.lag_bytes),
                opt(n.lag_seconds),
                n.persistence
                    .as_ref()
                    .map_or_else(|| "-".into(), PersistStatus::aof_text),
                n.persistence
                    .as_ref()
                    .map_or_else(|| "-".into(), PersistStatus::bgsave_text),
                if n.reachable {
                    "yes".into()
                } else {
                    "NO".into()
                },
            ]
        })
        .collect();
    let mut out = format!("cluster {} ({})\n", st.cluster, inv.path.display());
    out.push_str(&report::table(
        &[
            "NAME",
            "ADDRESS",
            "ROLE",
            "LINK",
            "OFFSET",
            "LAG(bytes)",
            "LAG(s)",
            "AOF",
            "BGSAVE",
            "REACHABLE",
        ],
        &rows,
    ));
    for n in &st.nodes {
        if let Some(e) = &n.error {
            out.push_str(&format!("  {}: {e}\n", n.name));
        }
    }
    if let Some(sentinels) = &st.sentinels {
        let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
        let rows: Vec<Vec<String>> = sentinels
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    format!("{}:{}", s.address, s.port),
                    if s.reachable {
                        "yes".into()
                    } else {
                        "NO".into()
                    },
                    s.master.clone().unwrap_or_else(|| "-".into()),
                    match s.quorum_ok {
                        Some(true) => "OK".into(),
                        Some(false) => "NO".into(),
                        None => "-".into(),
                    },
                    opt(s.other_sentinels),
                    opt(s.config_epoch),
                ]
            })
            .collect();
        out.push_str(&format!("sentinels (master name {})\n", st.cluster));
        out.push_str(&report::table(
            &[
                "SENTINEL",
                "ADDRESS",
                "REACHABLE",
                "MASTER",
                "QUORUM",
                "OTHERS",
                "EPOCH",
            ],
            &rows,
        ));
        for s in sentinels {
            if let Some(e) = &s.error {
                out.push_str(&format!("  sentinel {}: {e}\n", s.name));
            }
        }
    }
    if let Some(m) = &st.master {
        if *m != inv.master().name {
            out.push_str(&format!(
                "note: the live master is {m}, the inventory says {}{}\n",
                inv.master().name,
                if st.sentinels.is_some() {
                    " (Sentinel failed over; `tripod deploy` updates the inventory and keeps it)"
                } else {
                    ""
                }
            ));
        }
    }
    if st.healthy {
        out.push_str("healthy: one master, every replica online and linked");
        if st.sentinels.is_some() {
            out.push_str(", every Sentinel sees it with its quorum");
        }
        out.push('\n');
    } else {
        out.push_str("UNHEALTHY:\n");
        for p in &st.problems {
            out.push_str(&format!("  - {p}\n"));
        }
    }
    out
}

fn print(inv: &Inventory, st: &GroupStatus, json: bool) {
    if json {
        out!(
            "{}",
            serde_json::to_string(st).unwrap_or_else(|_| "{}".into())
        );
    } else {
        out_nonl!("{}", render_table(inv, st));
    }
}

/// Prints the status once (table or JSON) or, with `watch`, redraws it every `interval`
/// seconds until interrupted; exit 0 only when healthy.
pub async fn run(inv: Inventory, json: bool, watch: bool, interval: f64) -> Result<i32> {
    if !watch {
        let st = collect(&inv).await;
        print(&inv, &st, json);
        return Ok(if st.healthy { 0 } else { 1 });
    }
    let interval = Duration::from_secs_f64(interval.clamp(0.2, 3600.0));
    let tty = report::stdout_is_terminal();
    loop {
        let st = collect(&inv).await;
        if tty && !json {
            // Home the cursor and clear the screen: refresh in place.
            out_nonl!("\x1b[H\x1b[2J");
        }
        print(&inv, &st, json);
        if !json {
            out!(
                "(refreshing every {:.1}s; Ctrl-C to stop)",
                interval.as_secs_f64()
            );
        }
        let code = if st.healthy { 0 } else { 1 };
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = tokio::signal::ctrl_c() => return Ok(code),
        }
    }
}
