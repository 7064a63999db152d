//! Replication (PSYNC2): the shared state, the stream's one write path
//! (`stream`: every command's effects, as execution units, to the backlog, the
//! replicas and attached consumers), the backlog, the master side (feeding
//! replicas) and the replica side (the link to our master) in separate modules,
//! plus the dataset digest both sides compare.
pub mod backlog;
pub mod digest;
pub mod failover;
pub mod master;
pub mod replica;
pub mod stream;

pub use backlog::Backlog;

/// A 40-character hex replication id, as Redis generates them.
pub fn new_replid(rng: &mut crate::server::util::Rng) -> String {
    let mut s = String::with_capacity(40);
    while s.len() < 40 {
        s.push_str(&format!("{:016x}", rng.next_u64()));
    }
    s.truncate(40);
    s
}

pub use crate::server::client::{ReplicaLink, ReplicaState};

/// The replication state of this server.
#[derive(Debug)]
pub struct Replication {
    pub replid: String,
    pub replid2: String,
    /// Offset of the last byte in our replication stream.
    pub offset: i64,
    /// Offset up to which replid2 is valid, or -1.
    pub second_offset: i64,
    pub backlog: Option<Backlog>,
    /// Ids of the clients that are our replicas, in the order they attached.
    pub replicas: Vec<u64>,
    /// The database the stream last SELECTed (-1: the next command must SELECT).
    pub stream_db: i64,
    /// When the last replica went away (for repl-backlog-ttl), ms.
    pub no_replicas_since_ms: i64,
    /// The running background save was started for replicas waiting to sync.
    pub rdb_for_replicas: bool,
    /// Replica side: the state of the link to our master.
    pub link: LinkState,
    /// Replica side: the client id of our master's connection, once synced.
    pub master_client: Option<u64>,
    /// Bumped by every REPLICAOF, so an old link task knows to stop.
    pub link_generation: u64,
    /// Replica side: when the link went down (ms), for INFO.
    pub link_down_since_ms: i64,
    /// Replica side: last time bytes came from the master (ms).
    pub master_last_io_ms: i64,
    /// Replica side: our replid/offset describe data we hold (so PSYNC can ask
    /// to continue from them instead of `PSYNC ? -1`).
    pub can_continue: bool,
    /// Replica side: bytes of the snapshot transfer in progress (read, total; -1 unknown).
    pub sync_read: i64,
    pub sync_total: i64,
    /// FAILOVER in progress, if any.
    pub failover: failover::Failover,
    /// When the master last sent a PING down the stream (ms).
    pub last_ping_ms: i64,
    /// Replica side: when we last sent REPLCONF ACK (ms).
    pub last_ack_ms: i64,
    /// An ACK arrived: WAIT clients may be served.
    pub ack_arrived: bool,
    /// Replicas the running diskless transfer goes to.
    pub transfer_targets: Vec<u64>,
    /// When newline keep-alives last went to replicas waiting for a snapshot (ms).
    pub last_newline_ms: i64,
    /// The execution unit being propagated and the stream's consumers.
    pub propagation: stream::Propagation,
    /// How the link to our master is served once synced: the connection
    /// layer's client task, registered at start-up (so that replication does
    /// not depend on the connection module, which depends on it).
    pub serve_link: Option<ServeLink>,
}

/// Serves the connection to our master as a client: (server, socket, client
/// id, bytes already read after the snapshot).
pub type ServeLink = fn(
    crate::server::state::Shared,
    tokio::net::TcpStream,
    u64,
    Vec<u8>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// Replica side: where the link to our master is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkState {
    /// We are a master.
    #[default]
    None,
    Connecting,
    Handshake,
    Transfer,
    Connected,
}

impl Replication {
    /// The state of a fresh master: a random replication id, replid2 of 40 zeros,
    /// offset 0, no backlog, no replicas and no link to a master.
    pub fn new(rng: &mut crate::server::util::Rng) -> Self {
        Replication {
            replid: new_replid(rng),
            replid2: "0".repeat(40),
            offset: 0,
            second_offset: -1,
            backlog: None,
            replicas: Vec::new(),
            stream_db: -1,
            no_replicas_since_ms: crate::server::util::now_ms(),
            rdb_for_replicas: false,
            link: LinkState::None,
            master_client: None,
            link_generation: 0,
            link_down_since_ms: 0,
            master_last_io_ms: 0,
            can_continue: false,
            sync_read: 0,
            sync_total: -1,
            failover: failover::Failover::default(),
            // The ping clock starts with the server, as Redis's cron-loop count:
            // a replica attaching later waits for the next period boundary.
            last_ping_ms: crate::server::util::now_ms(),
            last_ack_ms: 0,
            ack_arrived: false,
            transfer_targets: Vec::new(),
            last_newline_ms: 0,
            propagation: stream::Propagation::default(),
            serve_link: None,
        }
    }

    /// Starts a new, empty backlog of `size` bytes whose first byte will be the
    /// stream's next one: the one way a backlog comes to be.
    pub fn reset_backlog(&mut self, size: usize) {
        self.backlog = Some(Backlog::new(size, self.offset + 1));
    }

    /// Starts a backlog (see [`Replication::reset_backlog`]) unless there is one.
    pub fn ensure_backlog(&mut self, size: usize) {
        if self.backlog.is_none() {
            self.reset_backlog(size);
        }
    }
}

/// Starts the replica side if the configuration says `replicaof`.
pub fn start(srv: &crate::server::state::Shared) {
    if srv.borrow().config.replicaof.is_some() {
        replica::spawn_link(srv);
    }
}

/// Goes on with the replicas waiting for a snapshot when persistence reports
/// that a background save ended.
pub fn take_snapshot_event(srv: &mut crate::server::state::Server) {
    if let Some(ok) = srv.persistence.snapshot_done.take() {
        master::snapshot_done(srv, ok);
    }
}

/// Replication work the server cron does (about every 100 ms): pings and
/// timeouts on both sides, ACKs to our master, backlog expiry, failover steps.
pub fn cron(srv: &mut crate::server::state::Server) {
    take_snapshot_event(srv);
    master::cron(srv);
    replica::cron(srv);
    failover::cron(srv);
}

/// INFO replication, with Redis 7.0's fields in its order.
/// `slave_read_repl_offset`: the applied offset plus what was read from our
/// master and not applied yet (its query buffer, and a command CLIENT PAUSE
/// postponed).
fn read_offset(srv: &crate::server::state::Server) -> i64 {
    use crate::server::client::{Blocked, ClientKind};
    let unapplied: usize = srv
        .clients
        .values()
        .filter(|c| c.kind == ClientKind::Master)
        .map(|c| {
            c.qbuf_len
                + match &c.blocked {
                    Some(Blocked::Paused { raw, .. }) => raw.len(),
                    _ => 0,
                }
        })
        .sum();
    srv.repl.offset + unapplied as i64
}

pub fn info_section(srv: &crate::server::state::Server, o: &mut String) {
    use std::fmt::Write;
    o.push_str("# Replication\r\n");
    let now = crate::server::util::now_ms();
    if let Some((host, port)) = &srv.config.replicaof {
        let up = srv.master_link_up();
        let syncing = srv.repl.link == LinkState::Transfer;
        let last_io = if up {
            (now - srv.repl.master_last_io_ms).max(0) / 1000
        } else {
            -1
        };
        let _ = write!(
            o,
            "role:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
            host,
            port,
            if up { "up" } else { "down" },
            last_io,
            syncing as u8,
            read_offset(srv),
            srv.repl.offset,
        );
        if syncing {
            let total = srv.repl.sync_total;
            let read = srv.repl.sync_read;
            let perc = if total > 0 {
                read as f64 * 100.0 / total as f64
            } else {
                0.0
            };
            let _ = write!(
                o,
                "master_sync_total_bytes:{}\r\nmaster_sync_read_bytes:{}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:{:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                total,
                read,
                if total > 0 { total - read } else { -1 },
                perc,
                (now - srv.repl.master_last_io_ms).max(0) / 1000
            );
        }
        if !up {
            let since = if srv.repl.link_down_since_ms > 0 {
                (now - srv.repl.link_down_since_ms).max(0) / 1000
            } else {
                -1
            };
            let _ = write!(o, "master_link_down_since_seconds:{}\r\n", since);
        }
        let _ = write!(
            o,
            "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:1\r\n",
            srv.config.replica_priority, srv.config.replica_read_only as u8,
        );
    } else {
        o.push_str("role:master\r\n");
    }
    let _ = write!(o, "connected_slaves:{}\r\n", srv.repl.replicas.len());
    for (i, id) in srv.repl.replicas.iter().enumerate() {
        let Some(c) = srv.clients.get(id) else {
            continue;
        };
        let Some(r) = &c.repl else { continue };
        let ip = r.announced_ip.clone().unwrap_or_else(|| {
            c.addr
                .rsplit_once(':')
                .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
                .unwrap_or_default()
        });
        let _ = write!(
            o,
            "slave{}:ip={},port={},state={},offset={},lag={}\r\n",
            i,
            ip,
            r.listening_port,
            r.state.as_str(),
            r.ack_offset,
            (now - r.ack_time_ms).max(0) / 1000
        );
    }
    let (active, size, first, hist) = match &srv.repl.backlog {
        Some(b) => (1, b.size(), b.first_offset, b.histlen()),
        None => (0, srv.config.repl_backlog_size as usize, 0, 0),
    };
    let _ = write!(
        o,
        "master_failover_state:{}\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
        srv.repl.failover.state_name(), srv.repl.replid, srv.repl.replid2, srv.repl.offset, srv.repl.second_offset, active, size, first, hist
    );
}
