//! `tripod status INVENTORY [--json] [--watch]`: role, link, offset and lag of every node.
use std::time::Duration;

use serde::Serialize;

use crate::cli::error::Result;
use crate::cli::group::Snapshot;
use crate::cli::inventory::Inventory;
use crate::cli::probe::{LiveRole, Probe};
use crate::cli::report;

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
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct GroupStatus {
    pub cluster: String,
    pub healthy: bool,
    pub master: Option<String>,
    pub problems: Vec<String>,
    pub nodes: Vec<NodeStatus>,
}

/// Probes the group and judges it.
pub async fn collect(inv: &Inventory) -> GroupStatus {
    build(inv, &Snapshot::take(&inv.hosts).await)
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
            "REACHABLE",
        ],
        &rows,
    ));
    for n in &st.nodes {
        if let Some(e) = &n.error {
            out.push_str(&format!("  {}: {e}\n", n.name));
        }
    }
    if let Some(m) = &st.master {
        if *m != inv.master().name {
            out.push_str(&format!(
                "note: the live master is {m}, the inventory says {}\n",
                inv.master().name
            ));
        }
    }
    if st.healthy {
        out.push_str("healthy: one master, every replica online and linked\n");
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
