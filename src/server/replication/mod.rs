//! Replication (PSYNC2): the shared state, the backlog, the master side (feeding
//! replicas) and the replica side (the link to our master) in separate modules.
pub mod backlog;
pub mod master;

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

/// What a master knows about one connected replica (kept on its client).
#[derive(Debug, Clone, Default)]
pub struct ReplicaLink {
    /// The port the replica listens on (REPLCONF listening-port).
    pub listening_port: u16,
    /// The address it announced (REPLCONF ip-address), if any.
    pub announced_ip: Option<String>,
    /// Offset the replica acknowledged last (REPLCONF ACK).
    pub ack_offset: i64,
    /// When (ms) the last ACK arrived.
    pub ack_time_ms: i64,
    /// wait_bgsave_start, wait_bgsave_end, send_bulk, online.
    pub state: ReplicaState,
    /// REPLCONF capa eof / psync2.
    pub capa_eof: bool,
    pub capa_psync2: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplicaState {
    #[default]
    WaitBgsaveStart,
    WaitBgsaveEnd,
    SendBulk,
    Online,
}

impl ReplicaState {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReplicaState::WaitBgsaveStart => "wait_bgsave",
            ReplicaState::WaitBgsaveEnd => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

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
}

impl Replication {
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
        }
    }
}

/// Starts the replica side if the configuration says `replicaof`.
pub fn start(_srv: &crate::server::connection::Shared) {}

/// Replication work the server cron does: pings, timeouts, backlog expiry, ACKs.
pub fn cron(_srv: &mut crate::server::state::Server) {}

/// INFO replication, with Redis 7.0's fields in its order.
pub fn info_section(srv: &crate::server::state::Server, o: &mut String) {
    use std::fmt::Write;
    o.push_str("# Replication\r\n");
    if let Some((host, port)) = &srv.config.replicaof {
        let _ = write!(
            o,
            "role:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:-1\r\nmaster_sync_in_progress:0\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\nslave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:1\r\n",
            host,
            port,
            if srv.master_link_up() { "up" } else { "down" },
            srv.repl.offset,
            srv.repl.offset,
            srv.config.replica_priority,
            srv.config.replica_read_only as u8,
        );
    } else {
        o.push_str("role:master\r\n");
    }
    let now = crate::server::util::now_ms();
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
        "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
        srv.repl.replid, srv.repl.replid2, srv.repl.offset, srv.repl.second_offset, active, size, first, hist
    );
}
