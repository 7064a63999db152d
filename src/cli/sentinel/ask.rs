//! Asking the Sentinels with the redis crate (SENTINEL GET-MASTER-ADDR-BY-NAME, MASTER,
//! REPLICAS, CKQUORUM, SET, FAILOVER), and what they say together: [`View`] per Sentinel and
//! [`agreed_master`].
use std::collections::HashMap;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::cli::inventory::{Host, Inventory, SentinelNode};
use crate::cli::probe::{self, ProbeResult};

/// How long one question to a Sentinel may take.
pub const ASK_TIMEOUT: Duration = Duration::from_millis(1500);

/// A connection to the Sentinel (with the group's password).
pub async fn connect(node: &SentinelNode) -> ProbeResult<MultiplexedConnection> {
    probe::connect(&node.as_target(), ASK_TIMEOUT).await
}

/// `SENTINEL GET-MASTER-ADDR-BY-NAME cluster`: the master's (address, port) as this Sentinel
/// sees it, None when it does not monitor `cluster`.
pub async fn master_addr(
    node: &SentinelNode,
    con: &mut MultiplexedConnection,
    cluster: &str,
) -> ProbeResult<Option<(String, u16)>> {
    let v: Option<(String, u16)> = probe::cmd(
        &node.as_target(),
        con,
        redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(cluster),
        ASK_TIMEOUT,
    )
    .await?;
    Ok(v)
}

/// Field/value pairs of a flat reply, as SENTINEL MASTER and REPLICAS give them.
fn pairs(flat: Vec<String>) -> HashMap<String, String> {
    flat.chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| (c[0].clone(), c[1].clone()))
        .collect()
}

/// `SENTINEL MASTER cluster`: the monitored master's fields (ip, port, flags,
/// num-slaves, num-other-sentinels, quorum, config-epoch, ...).
pub async fn master_fields(
    node: &SentinelNode,
    con: &mut MultiplexedConnection,
    cluster: &str,
) -> ProbeResult<HashMap<String, String>> {
    let flat: Vec<String> = probe::cmd(
        &node.as_target(),
        con,
        redis::cmd("SENTINEL").arg("MASTER").arg(cluster),
        ASK_TIMEOUT,
    )
    .await?;
    Ok(pairs(flat))
}

/// `SENTINEL REPLICAS cluster`: every replica's fields (ip, port, flags, slave-priority, ...).
pub async fn replicas(
    node: &SentinelNode,
    con: &mut MultiplexedConnection,
    cluster: &str,
) -> ProbeResult<Vec<HashMap<String, String>>> {
    let list: Vec<Vec<String>> = probe::cmd(
        &node.as_target(),
        con,
        redis::cmd("SENTINEL").arg("REPLICAS").arg(cluster),
        ASK_TIMEOUT,
    )
    .await?;
    Ok(list.into_iter().map(pairs).collect())
}

/// `SENTINEL CKQUORUM cluster`: Ok(Sentinel's text) when enough Sentinels are reachable to
/// reach the quorum and a majority; Err(its error text) otherwise.
pub async fn ckquorum(
    node: &SentinelNode,
    con: &mut MultiplexedConnection,
    cluster: &str,
) -> ProbeResult<std::result::Result<String, String>> {
    let r = tokio::time::timeout(
        ASK_TIMEOUT,
        redis::cmd("SENTINEL")
            .arg("CKQUORUM")
            .arg(cluster)
            .query_async::<String>(con),
    )
    .await;
    match r {
        Ok(Ok(s)) => Ok(Ok(s)),
        Ok(Err(e)) if e.code().is_some() => Ok(Err(e.to_string())),
        Ok(Err(e)) => Err(probe::explain(&node.as_target(), &e)),
        Err(_) => Err(probe::ProbeError {
            kind: probe::Failure::Timeout,
            message: format!("Sentinel {} ({}): no answer", node.name(), node.endpoint()),
        }),
    }
}

/// `SENTINEL SET cluster option value`.
pub async fn set(
    node: &SentinelNode,
    con: &mut MultiplexedConnection,
    cluster: &str,
    option: &str,
    value: &str,
) -> ProbeResult<()> {
    let _: String = probe::cmd(
        &node.as_target(),
        con,
        redis::cmd("SENTINEL")
            .arg("SET")
            .arg(cluster)
            .arg(option)
            .arg(value),
        ASK_TIMEOUT,
    )
    .await?;
    Ok(())
}

/// `SENTINEL FAILOVER cluster`: this Sentinel starts a failover without asking the others.
pub async fn failover(
    node: &SentinelNode,
    con: &mut MultiplexedConnection,
    cluster: &str,
) -> ProbeResult<()> {
    let _: String = probe::cmd(
        &node.as_target(),
        con,
        redis::cmd("SENTINEL").arg("FAILOVER").arg(cluster),
        ASK_TIMEOUT,
    )
    .await?;
    Ok(())
}

/// What one Sentinel says.
#[derive(Debug, Clone)]
pub struct View {
    pub node: SentinelNode,
    pub reachable: bool,
    /// The master as it sees it.
    pub master: Option<(String, u16)>,
    /// SENTINEL CKQUORUM's verdict; None when it could not be asked.
    pub quorum_ok: Option<bool>,
    /// CKQUORUM's text (its error when not OK).
    pub quorum_text: Option<String>,
    /// SENTINEL MASTER's fields (empty when unreachable).
    pub fields: HashMap<String, String>,
    pub error: Option<String>,
}

impl View {
    /// `address:port` of the master it sees.
    pub fn master_endpoint(&self) -> Option<String> {
        self.master.as_ref().map(|(a, p)| format!("{a}:{p}"))
    }
    /// The Sentinel is in the middle of a failover: its master's flags say so, or the master it
    /// names (the promoted replica, from the moment it is promoted) is not yet the one it
    /// monitors (that changes at `+switch-master`, when the other replicas were repointed).
    pub fn failover_in_progress(&self) -> bool {
        if !self.reachable {
            return false;
        }
        let flags = self.fields.get("flags").map_or("", String::as_str);
        let monitored = match (self.fields.get("ip"), self.fields.get("port")) {
            (Some(ip), Some(port)) => Some(format!("{ip}:{port}")),
            _ => None,
        };
        flags.contains("failover_in_progress")
            || (monitored.is_some() && monitored != self.master_endpoint())
    }
    /// A numeric field of SENTINEL MASTER.
    pub fn field_num(&self, name: &str) -> Option<i64> {
        self.fields.get(name).and_then(|v| v.parse().ok())
    }
}

/// Asks one Sentinel for its master, its quorum and SENTINEL MASTER's fields.
pub async fn view(node: &SentinelNode, cluster: &str) -> View {
    let mut v = View {
        node: node.clone(),
        reachable: false,
        master: None,
        quorum_ok: None,
        quorum_text: None,
        fields: HashMap::new(),
        error: None,
    };
    let mut con = match connect(node).await {
        Ok(c) => c,
        Err(e) => {
            v.error = Some(e.message);
            return v;
        }
    };
    v.reachable = true;
    match master_addr(node, &mut con, cluster).await {
        Ok(m) => v.master = m,
        Err(e) => {
            v.error = Some(e.message);
            return v;
        }
    }
    if let Ok(f) = master_fields(node, &mut con, cluster).await {
        v.fields = f;
    }
    match ckquorum(node, &mut con, cluster).await {
        Ok(Ok(t)) => {
            v.quorum_ok = Some(true);
            v.quorum_text = Some(t);
        }
        Ok(Err(t)) => {
            v.quorum_ok = Some(false);
            v.quorum_text = Some(t);
        }
        Err(e) => v.error = Some(e.message),
    }
    v
}

/// Every Sentinel of the inventory, asked at once; empty without a `sentinel:` section.
pub async fn view_all(inv: &Inventory) -> Vec<View> {
    let Some(s) = &inv.sentinel else {
        return Vec::new();
    };
    let mut tasks = Vec::new();
    for n in &s.nodes {
        let (n, cluster) = (n.clone(), inv.cluster.clone());
        tasks.push(tokio::spawn(async move { view(&n, &cluster).await }));
    }
    let mut out = Vec::new();
    for (t, n) in tasks.into_iter().zip(&s.nodes) {
        out.push(t.await.unwrap_or_else(|e| View {
            node: n.clone(),
            reachable: false,
            master: None,
            quorum_ok: None,
            quorum_text: None,
            fields: HashMap::new(),
            error: Some(format!("task failed: {e}")),
        }));
    }
    out
}

/// Asks every Sentinel until none is in the middle of a failover (see
/// [`View::failover_in_progress`]) or `limit` passes; returns the last answers.
pub async fn settled_views(inv: &Inventory, limit: Duration) -> Vec<View> {
    let deadline = std::time::Instant::now() + limit;
    let mut said = false;
    loop {
        let views = view_all(inv).await;
        let busy: Vec<&str> = views
            .iter()
            .filter(|v| v.failover_in_progress())
            .map(|v| v.node.name())
            .collect();
        if busy.is_empty() || std::time::Instant::now() >= deadline {
            return views;
        }
        if !said {
            out!(
                "a Sentinel failover is in progress (seen by {}): waiting for it to end (at most {:.0}s)",
                busy.join(", "),
                limit.as_secs_f64()
            );
            said = true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How long to wait for a failover in progress: the Sentinels' failover timeout (bounded)
/// plus a margin.
pub fn failover_wait(inv: &Inventory) -> Duration {
    let ms = inv
        .sentinel
        .as_ref()
        .map_or(60_000, |s| s.failover_timeout_ms.min(180_000));
    Duration::from_millis(ms) + Duration::from_secs(5)
}

/// The host of the group at `address:port` (addresses compared as IP addresses or
/// case-insensitively).
pub fn host_at<'a>(inv: &'a Inventory, address: &str, port: u16) -> Option<&'a Host> {
    let canon = |a: &str| match a.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => a.to_ascii_lowercase(),
    };
    inv.hosts
        .iter()
        .find(|h| h.redis.port == port && canon(&h.address) == canon(address))
}

/// The name of the host at `address:port` (an endpoint as [`View::master_endpoint`] gives it).
pub fn host_at_endpoint(inv: &Inventory, endpoint: &str) -> Option<String> {
    let (a, p) = endpoint.rsplit_once(':')?;
    host_at(inv, a, p.parse().ok()?).map(|h| h.name.clone())
}

/// What the Sentinels say together about the master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agreement {
    /// No Sentinel answered with a master (none runs yet, or none is reachable).
    NoAnswer,
    /// Every Sentinel that answered names this host of the group.
    Host(String),
    /// They name an address that is no host of the group.
    Stranger(String),
    /// They disagree (a failover in progress): each endpoint and who says it.
    Split(Vec<String>),
}

/// Combines the views: the master every answering Sentinel names. A Sentinel in the middle
/// of a failover counts as disagreeing.
pub fn agreed_master(inv: &Inventory, views: &[View]) -> Agreement {
    let mut seen: Vec<(String, Vec<String>)> = Vec::new();
    if views.iter().any(View::failover_in_progress) {
        return Agreement::Split(
            views
                .iter()
                .filter(|v| v.failover_in_progress())
                .map(|v| format!("{} is failing over", v.node.name()))
                .collect(),
        );
    }
    for v in views {
        let Some(ep) = v.master_endpoint() else {
            continue;
        };
        match seen.iter_mut().find(|(e, _)| *e == ep) {
            Some((_, who)) => who.push(v.node.name().to_string()),
            None => seen.push((ep, vec![v.node.name().to_string()])),
        }
    }
    match seen.len() {
        0 => Agreement::NoAnswer,
        1 => {
            let (a, p) = views
                .iter()
                .find_map(|v| v.master.clone())
                .expect("one endpoint seen");
            match host_at(inv, &a, p) {
                Some(h) => Agreement::Host(h.name.clone()),
                None => Agreement::Stranger(format!("{a}:{p}")),
            }
        }
        _ => Agreement::Split(
            seen.into_iter()
                .map(|(e, who)| format!("{e} (by {})", who.join(", ")))
                .collect(),
        ),
    }
}
