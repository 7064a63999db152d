//! Asking the servers with the redis crate: PING, INFO replication, and parsing its fields.
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, ConnectionAddr, ConnectionInfo, RedisConnectionInfo};

use super::error::{Error, Result};
use super::inventory::Host;

/// How long status and other probes wait for a node before calling it unreachable.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

/// A redis client for the host's address, port and password (never logged), logging in as
/// the host's ACL user when it has one (`AUTH user password`), else as the default user.
pub fn client(host: &Host) -> Result<Client> {
    Client::open(ConnectionInfo {
        addr: ConnectionAddr::Tcp(host.address.clone(), host.redis.port),
        redis: RedisConnectionInfo {
            db: 0,
            username: host.redis.user.clone(),
            password: host.redis.password.clone(),
            protocol: Default::default(),
        },
    })
    .map_err(|e| Error::failed(format!("host {}: {e}", host.name)))
}

/// Why a node could not be asked: decided from the redis crate's error kinds and the server's
/// error codes, so callers branch on this and never on the text of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Nothing listens on the port.
    ConnectionRefused,
    /// No answer in time (a stopped or overloaded server, a dead link).
    Timeout,
    /// The server refused the inventory's password.
    AuthRefused,
    /// The server wants a password and the inventory has none.
    NoAuth,
    /// The inventory sets a password and the server has none.
    NoPassword,
    /// Anything else (an error reply, a broken connection).
    Other,
}

impl Failure {
    /// The password is the problem: waiting or retrying will not help.
    pub fn is_auth(self) -> bool {
        matches!(
            self,
            Failure::AuthRefused | Failure::NoAuth | Failure::NoPassword
        )
    }
}

/// A failed probe: what kind of failure, and a message for the user that names the host and
/// never the password.
#[derive(Debug, Clone)]
pub struct ProbeError {
    pub kind: Failure,
    pub message: String,
}

impl From<ProbeError> for Error {
    fn from(e: ProbeError) -> Error {
        Error::failed(e.message)
    }
}

/// What a probe returns.
pub type ProbeResult<T> = std::result::Result<T, ProbeError>;

fn classify(e: &redis::RedisError) -> Failure {
    let text = e.to_string();
    if e.kind() == redis::ErrorKind::AuthenticationFailed
        || e.code() == Some("WRONGPASS")
        || text.contains("invalid password")
    {
        if text.contains("without any password configured") {
            Failure::NoPassword
        } else {
            Failure::AuthRefused
        }
    } else if e.code() == Some("NOAUTH") {
        Failure::NoAuth
    } else if e.is_connection_refusal() {
        Failure::ConnectionRefused
    } else if e.is_timeout() {
        Failure::Timeout
    } else {
        Failure::Other
    }
}

/// Explains a redis error for a host; never includes the password.
pub fn explain(host: &Host, e: &redis::RedisError) -> ProbeError {
    let kind = classify(e);
    let user_hint;
    let hint = match kind {
        Failure::AuthRefused if host.redis.user.is_some() => {
            user_hint = format!(
                " (the server refused ACL user {}'s password: check acl.users in the inventory, and deploy it)",
                host.redis.user.as_deref().unwrap_or("")
            );
            user_hint.as_str()
        }
        Failure::AuthRefused => {
            " (the server refused the password: check redis.password / password_env in the inventory)"
        }
        Failure::NoAuth => " (the server wants a password: set redis.password in the inventory)",
        Failure::NoPassword => " (the server has no password but the inventory sets one)",
        Failure::ConnectionRefused => {
            " (connection refused: is the server running? `tripod deploy` starts it)"
        }
        Failure::Timeout => " (timed out)",
        Failure::Other => "",
    };
    ProbeError {
        kind,
        message: format!("host {} ({}): {e}{hint}", host.name, host.endpoint()),
    }
}

fn no_answer(host: &Host, timeout: Duration) -> ProbeError {
    ProbeError {
        kind: Failure::Timeout,
        message: format!(
            "host {} ({}): no answer within {timeout:?}",
            host.name,
            host.endpoint()
        ),
    }
}

/// Opens a connection (authenticated with the inventory's password), bounded by `timeout`.
pub async fn connect(host: &Host, timeout: Duration) -> ProbeResult<MultiplexedConnection> {
    let c = client(host).map_err(|e| ProbeError {
        kind: Failure::Other,
        message: e.message,
    })?;
    let cfg = AsyncConnectionConfig::new()
        .set_connection_timeout(timeout)
        .set_response_timeout(timeout);
    match tokio::time::timeout(
        timeout + Duration::from_millis(200),
        c.get_multiplexed_async_connection_with_config(&cfg),
    )
    .await
    {
        Ok(Ok(con)) => Ok(con),
        Ok(Err(e)) => Err(explain(host, &e)),
        Err(_) => Err(no_answer(host, timeout)),
    }
}

/// Runs one command with a timeout.
pub async fn cmd<T: redis::FromRedisValue>(
    host: &Host,
    con: &mut MultiplexedConnection,
    c: &redis::Cmd,
    timeout: Duration,
) -> ProbeResult<T> {
    match tokio::time::timeout(timeout, c.query_async::<T>(con)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(explain(host, &e)),
        Err(_) => Err(no_answer(host, timeout)),
    }
}

/// PING with the password, for the blocking per-host steps (they run on
/// `spawn_blocking` threads, so they may block on the runtime). Times out as a whole, also when
/// something that is not a Redis server holds the port and never answers.
pub fn ping_blocking(host: &Host, timeout: Duration) -> ProbeResult<()> {
    block_on_probe(async {
        let mut con = connect(host, timeout).await?;
        let _: String = cmd(host, &mut con, &redis::cmd("PING"), timeout).await?;
        Ok(())
    })
}

/// What became of a SHUTDOWN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shutdown {
    /// The server closed the connection without a reply: it saved (when it has save points)
    /// and is exiting.
    Closed,
    /// The server answered an error and keeps running (a failed save, usually).
    Refused(String),
    /// It could not be asked, or did not answer within the limit: the caller watches the
    /// process.
    Unknown(String),
}

/// SHUTDOWN SAVE, waiting up to `limit` for its outcome: Redis answers only when it cannot shut
/// down (a failed save), and otherwise closes the connection. SAVE even without save points:
/// a server tripod stops or restarts keeps its data, whatever its `save` setting.
pub fn shutdown_blocking(host: &Host, limit: Duration) -> Shutdown {
    let r = block_on(async {
        let c = client(host)?;
        let cfg = AsyncConnectionConfig::new()
            .set_connection_timeout(PROBE_TIMEOUT)
            .set_response_timeout(limit);
        let mut con = match tokio::time::timeout(
            PROBE_TIMEOUT + Duration::from_millis(200),
            c.get_multiplexed_async_connection_with_config(&cfg),
        )
        .await
        {
            Ok(Ok(con)) => con,
            Ok(Err(e)) => return Ok(Shutdown::Unknown(explain(host, &e).message)),
            Err(_) => return Ok(Shutdown::Unknown("no connection".into())),
        };
        let reply = tokio::time::timeout(
            limit + Duration::from_millis(200),
            redis::cmd("SHUTDOWN")
                .arg("SAVE")
                .query_async::<redis::Value>(&mut con),
        )
        .await;
        Ok(match reply {
            Err(_) => Shutdown::Unknown(format!("no answer within {limit:?}")),
            Ok(Ok(v)) => Shutdown::Refused(format!("unexpected reply {v:?}")),
            Ok(Err(e)) if e.is_timeout() => {
                Shutdown::Unknown(format!("no answer within {limit:?}"))
            }
            Ok(Err(e))
                if e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_unrecoverable_error() && e.code().is_none() =>
            {
                Shutdown::Closed
            }
            Ok(Err(e)) => Shutdown::Refused(e.to_string()),
        })
    });
    r.unwrap_or_else(|e| Shutdown::Unknown(e.message))
}

/// Runs a probe future from a blocking thread.
pub fn block_on_probe<T>(f: impl std::future::Future<Output = ProbeResult<T>>) -> ProbeResult<T> {
    block_on(async { Ok(f.await) }).unwrap_or_else(|e| {
        Err(ProbeError {
            kind: Failure::Other,
            message: e.message,
        })
    })
}

/// Runs a future to completion from a blocking (`spawn_blocking`) thread or outside a runtime.
pub fn block_on<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    match tokio::runtime::Handle::try_current() {
        Ok(h) => h.block_on(f),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::failed(format!("async runtime: {e}")))?
            .block_on(f),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveRole {
    Master,
    Replica,
    Unknown,
}

impl LiveRole {
    /// The name status and JSON use: "master", "replica" or "unknown".
    pub fn as_str(self) -> &'static str {
        match self {
            LiveRole::Master => "master",
            LiveRole::Replica => "replica",
            LiveRole::Unknown => "unknown",
        }
    }
}

/// One `slaveN:ip=…,port=…,state=…,offset=…,lag=…` line of a master's INFO replication.
#[derive(Debug, Clone, Default)]
pub struct ReplicaLine {
    pub ip: String,
    pub port: u16,
    pub state: String,
    pub offset: i64,
    pub lag: i64,
}

#[derive(Debug, Clone)]
pub struct ReplInfo {
    pub role: LiveRole,
    pub connected_slaves: usize,
    pub slaves: Vec<ReplicaLine>,
    pub master_host: Option<String>,
    pub master_port: Option<u16>,
    pub master_link_status: Option<String>,
    pub master_repl_offset: i64,
    pub slave_repl_offset: Option<i64>,
    /// The replication history this node's data belongs to, and the one before it.
    pub master_replid: Option<String>,
    pub master_replid2: Option<String>,
    /// The offset at which `master_replid` took over from `master_replid2` (-1: none).
    pub second_repl_offset: i64,
    /// `no-failover`, `waiting-for-sync` or `failover-in-progress`.
    pub failover_state: Option<String>,
}

impl ReplInfo {
    /// The node's replication offset (a replica's processed offset, a master's own).
    pub fn offset(&self) -> i64 {
        match self.role {
            LiveRole::Replica => self.slave_repl_offset.unwrap_or(self.master_repl_offset),
            _ => self.master_repl_offset,
        }
    }
    /// A replica whose `master_link_status` is `up`.
    pub fn link_up(&self) -> bool {
        self.master_link_status.as_deref() == Some("up")
    }
    /// The `slaveN` line that is `host`: same port and address, or the only one with its port.
    pub fn slave_line(&self, host: &Host) -> Option<&ReplicaLine> {
        let same_port: Vec<&ReplicaLine> = self
            .slaves
            .iter()
            .filter(|s| s.port == host.redis.port)
            .collect();
        same_port
            .iter()
            .find(|s| s.ip == host.address)
            .copied()
            .or(if same_port.len() == 1 {
                Some(same_port[0])
            } else {
                None
            })
    }
    /// Whether this replica follows `master`: same port, and same address unless one side is
    /// a host name (then the port must do).
    pub fn follows(&self, master: &Host) -> bool {
        let is_ip = |a: &str| a.parse::<std::net::IpAddr>().is_ok();
        self.role == LiveRole::Replica
            && self.master_port == Some(master.redis.port)
            && self
                .master_host
                .as_deref()
                .is_some_and(|h| h == master.address || !is_ip(h) || !is_ip(&master.address))
    }
}

/// Parses `INFO replication` text; missing or malformed fields keep their defaults (a probe
/// never fails on what a server prints).
pub fn parse_info(text: &str) -> ReplInfo {
    let mut info = ReplInfo {
        role: LiveRole::Unknown,
        connected_slaves: 0,
        slaves: Vec::new(),
        master_host: None,
        master_port: None,
        master_link_status: None,
        master_repl_offset: 0,
        slave_repl_offset: None,
        master_replid: None,
        master_replid2: None,
        second_repl_offset: -1,
        failover_state: None,
    };
    for line in text.lines() {
        let Some((k, v)) = line.trim_end().split_once(':') else {
            continue;
        };
        match k {
            "role" => {
                info.role = match v {
                    "master" => LiveRole::Master,
                    "slave" | "replica" => LiveRole::Replica,
                    _ => LiveRole::Unknown,
                }
            }
            "connected_slaves" => info.connected_slaves = v.parse().unwrap_or(0),
            "master_host" => info.master_host = Some(v.to_string()),
            "master_port" => info.master_port = v.parse().ok(),
            "master_link_status" => info.master_link_status = Some(v.to_string()),
            "master_repl_offset" => info.master_repl_offset = v.parse().unwrap_or(0),
            "slave_repl_offset" => info.slave_repl_offset = v.parse().ok(),
            "master_replid" => info.master_replid = Some(v.to_string()),
            "master_replid2" => info.master_replid2 = Some(v.to_string()),
            "second_repl_offset" => info.second_repl_offset = v.parse().unwrap_or(-1),
            "master_failover_state" => info.failover_state = Some(v.to_string()),
            k if k.starts_with("slave") && k[5..].chars().all(|c| c.is_ascii_digit()) => {
                let mut r = ReplicaLine::default();
                for kv in v.split(',') {
                    if let Some((a, b)) = kv.split_once('=') {
                        match a {
                            "ip" => r.ip = b.to_string(),
                            "port" => r.port = b.parse().unwrap_or(0),
                            "state" => r.state = b.to_string(),
                            "offset" => r.offset = b.parse().unwrap_or(0),
                            "lag" => r.lag = b.parse().unwrap_or(0),
                            _ => {}
                        }
                    }
                }
                info.slaves.push(r);
            }
            _ => {}
        }
    }
    info
}

/// INFO replication, parsed.
pub async fn info_replication(
    host: &Host,
    con: &mut MultiplexedConnection,
    timeout: Duration,
) -> ProbeResult<ReplInfo> {
    let text: String = cmd(host, con, redis::cmd("INFO").arg("replication"), timeout).await?;
    Ok(parse_info(&text))
}

/// The persistence state of a node (`INFO persistence`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersistInfo {
    pub aof_enabled: bool,
    pub aof_rewrite_in_progress: bool,
    /// "ok" or "err", as INFO says.
    pub aof_last_bgrewrite_status: String,
    pub aof_last_write_status: String,
    pub rdb_bgsave_in_progress: bool,
    pub rdb_last_bgsave_status: String,
}

/// Parses `INFO persistence` text; missing fields keep their defaults.
pub fn parse_persistence(text: &str) -> PersistInfo {
    let mut p = PersistInfo::default();
    for line in text.lines() {
        let Some((k, v)) = line.trim_end().split_once(':') else {
            continue;
        };
        match k {
            "aof_enabled" => p.aof_enabled = v == "1",
            "aof_rewrite_in_progress" => p.aof_rewrite_in_progress = v == "1",
            "aof_last_bgrewrite_status" => p.aof_last_bgrewrite_status = v.to_string(),
            "aof_last_write_status" => p.aof_last_write_status = v.to_string(),
            "rdb_bgsave_in_progress" => p.rdb_bgsave_in_progress = v == "1",
            "rdb_last_bgsave_status" => p.rdb_last_bgsave_status = v.to_string(),
            _ => {}
        }
    }
    p
}

/// What one probe found about one node.
#[derive(Debug, Clone)]
pub struct Probe {
    pub info: Option<ReplInfo>,
    /// INFO persistence, when it answered.
    pub persistence: Option<PersistInfo>,
    /// The number of keys over every database (`INFO keyspace`), when it answered.
    pub keys: Option<u64>,
    pub error: Option<String>,
    pub failure: Option<Failure>,
}

impl Probe {
    /// The node answered INFO.
    pub fn reachable(&self) -> bool {
        self.info.is_some()
    }
}

/// INFO replication, INFO keyspace and INFO persistence of one node.
pub async fn probe(host: &Host, timeout: Duration) -> Probe {
    let r = async {
        let mut con = connect(host, timeout).await?;
        let info = info_replication(host, &mut con, timeout).await?;
        let ks: String = cmd(host, &mut con, redis::cmd("INFO").arg("keyspace"), timeout).await?;
        // Older servers may lack some fields: a failed INFO persistence
        // only leaves it unknown.
        let persist: Option<String> = cmd(
            host,
            &mut con,
            redis::cmd("INFO").arg("persistence"),
            timeout,
        )
        .await
        .ok();
        Ok::<_, ProbeError>((
            info,
            count_keys(&ks),
            persist.as_deref().map(parse_persistence),
        ))
    }
    .await;
    match r {
        Ok((info, keys, persistence)) => Probe {
            info: Some(info),
            persistence,
            keys: Some(keys),
            error: None,
            failure: None,
        },
        Err(e) => Probe {
            info: None,
            persistence: None,
            keys: None,
            error: Some(e.message),
            failure: Some(e.kind),
        },
    }
}

/// The sum of `keys=N` over the `dbN:` lines of INFO keyspace.
pub fn count_keys(text: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with("db"))
        .filter_map(|l| l.split_once(':'))
        .filter_map(|(_, v)| v.split(',').find_map(|kv| kv.strip_prefix("keys=")))
        .filter_map(|n| n.trim().parse::<u64>().ok())
        .sum()
}

/// Probes every host at once.
pub async fn probe_all(hosts: &[Host], timeout: Duration) -> Vec<Probe> {
    let tasks: Vec<_> = hosts
        .iter()
        .cloned()
        .map(|h| tokio::spawn(async move { probe(&h, timeout).await }))
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap_or_else(|e| Probe {
            info: None,
            persistence: None,
            keys: None,
            error: Some(format!("probe task failed: {e}")),
            failure: Some(Failure::Other),
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info_persistence() {
        let p = parse_persistence("# Persistence\r\nloading:0\r\nrdb_bgsave_in_progress:0\r\nrdb_last_bgsave_status:ok\r\naof_enabled:1\r\naof_rewrite_in_progress:1\r\naof_last_bgrewrite_status:err\r\naof_last_write_status:ok\r\n");
        assert!(p.aof_enabled && p.aof_rewrite_in_progress && !p.rdb_bgsave_in_progress);
        assert_eq!(p.aof_last_bgrewrite_status, "err");
        assert_eq!(p.aof_last_write_status, "ok");
        assert_eq!(p.rdb_last_bgsave_status, "ok");
    }

    #[test]
    fn parses_the_source_documents_info() {
        let t = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\nslave0:ip=192.168.81.101,port=6379,state=online,offset=1470,lag=1\r\nslave1:ip=192.168.81.102,port=6379,state=online,offset=1470,lag=0\r\nmaster_failover_state:no-failover\r\nmaster_repl_offset:1470\r\nsecond_repl_offset:-1\r\n";
        let i = parse_info(t);
        assert_eq!(i.role, LiveRole::Master);
        assert_eq!(i.connected_slaves, 2);
        assert_eq!(i.slaves.len(), 2);
        assert_eq!(i.slaves[1].ip, "192.168.81.102");
        assert_eq!(i.slaves[0].lag, 1);
        assert_eq!(i.master_repl_offset, 1470);
        let r = parse_info("role:slave\nmaster_host:10.0.0.1\nmaster_port:6379\nmaster_link_status:up\nslave_repl_offset:99\nmaster_repl_offset:99\n");
        assert_eq!(r.role, LiveRole::Replica);
        assert!(r.link_up());
        assert_eq!(r.offset(), 99);
    }
}
