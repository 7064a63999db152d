//! A connected client as the server sees it: identity, selected database,
//! authentication, transaction and pub/sub state, blocking state, and the output
//! that the connection task will write to its socket.
//!
//! Clients live in `Server::clients`; the connection task owns only the socket and
//! the unparsed input. Other parts of the server (PUBLISH, a push that unblocks a
//! BLPOP, the replication stream) write into a client's output and call
//! [`Client::wake`] so its task flushes it.

use crate::server::resp::Reply;
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;
use tokio::sync::Notify;

/// What kind of peer this is (CLIENT LIST `flags`, CLIENT KILL TYPE, INFO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Normal,
    /// A replica that finished its handshake (SYNC/PSYNC) on this master.
    Replica,
    /// Our link to our master, on a replica.
    Master,
}

/// Why a client is not processing its input right now.
#[derive(Debug, Clone)]
pub enum Blocked {
    /// Waiting for a key to get data (BLPOP and friends). The command is re-run when
    /// one of the keys is signalled ready; `deadline_ms` 0 means forever.
    Keys {
        db: usize,
        keys: Vec<Vec<u8>>,
        argv: Vec<Vec<u8>>,
        deadline_ms: i64,
    },
    /// WAIT numreplicas timeout.
    Wait {
        offset: i64,
        numreplicas: usize,
        deadline_ms: i64,
    },
    /// Postponed by CLIENT PAUSE; the command is run on unpause.
    Paused { argv: Vec<Vec<u8>> },
    /// SHUTDOWN waiting for lagging replicas (up to shutdown-timeout).
    Shutdown,
}

/// One piece of pending output in order: bytes, or a file to stream (the RDB a
/// master sends a replica).
#[derive(Debug)]
pub enum OutChunk {
    Bytes(Vec<u8>),
    File(std::fs::File, u64),
}

#[derive(Debug)]
pub struct Client {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub name: Option<Vec<u8>>,
    pub db: usize,
    pub authenticated: bool,
    pub kind: ClientKind,
    /// Replies written by commands (and pushes from others) not yet handed to the socket.
    pub reply: Reply,
    /// Chunks that must go out before `reply` (used when a file is streamed).
    pub out_queue: VecDeque<OutChunk>,
    /// Bytes the connection task holds but could not write yet (for output limits).
    pub pending_out: usize,
    pub created_ms: i64,
    pub last_interaction_ms: i64,
    pub last_cmd: &'static str,
    /// In MULTI: queued commands. None when not in a transaction.
    pub multi: Option<Vec<Vec<Vec<u8>>>>,
    /// A queued command failed to queue: EXEC must abort.
    pub multi_error: bool,
    /// A watched key changed: EXEC must fail.
    pub dirty_cas: bool,
    pub watched: Vec<(usize, Vec<u8>)>,
    pub channels: HashSet<Vec<u8>>,
    pub patterns: HashSet<Vec<u8>>,
    pub blocked: Option<Blocked>,
    pub monitor: bool,
    pub no_evict: bool,
    /// CLIENT REPLY: Off, Skip (the next command only) or On.
    pub reply_mode: ReplyMode,
    /// Close once the pending output is written (QUIT, protocol errors).
    pub close_after_reply: bool,
    /// Close now, dropping pending output (CLIENT KILL, output limits).
    pub close_asap: bool,
    /// Replica-side state on a master: the replica's listening port, announced ip, ack.
    pub repl: Option<ReplicaLink>,
    /// Total bytes read from this client (for INFO and CLIENT LIST).
    pub qbuf_len: usize,
    pub notify: Rc<Notify>,
    /// Time the soft output limit was first exceeded (ms), 0 if not exceeded.
    pub obuf_soft_since: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    Skip,
    SkipNext,
}

impl Client {
    pub fn new(id: u64, addr: String, laddr: String, fd: i32, authenticated: bool) -> Self {
        let now = crate::server::util::now_ms();
        Client {
            id,
            addr,
            laddr,
            fd,
            name: None,
            db: 0,
            authenticated,
            kind: ClientKind::Normal,
            reply: Reply::new(),
            out_queue: VecDeque::new(),
            pending_out: 0,
            created_ms: now,
            last_interaction_ms: now,
            last_cmd: "NULL",
            multi: None,
            multi_error: false,
            dirty_cas: false,
            watched: Vec::new(),
            channels: HashSet::new(),
            patterns: HashSet::new(),
            blocked: None,
            monitor: false,
            no_evict: false,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            close_asap: false,
            repl: None,
            qbuf_len: 0,
            notify: Rc::new(Notify::new()),
            obuf_soft_since: 0,
        }
    }

    /// Tells this client's connection task there is output to write or state to act on.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// In RESP2, a client with subscriptions may only run (un)subscribe commands.
    pub fn in_pubsub_context(&self) -> bool {
        !self.reply.resp3 && (!self.channels.is_empty() || !self.patterns.is_empty())
    }

    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Output not yet written to the socket, in bytes.
    pub fn output_len(&self) -> usize {
        self.reply.len()
            + self.pending_out
            + self
                .out_queue
                .iter()
                .map(|c| match c {
                    OutChunk::Bytes(b) => b.len(),
                    OutChunk::File(_, n) => *n as usize,
                })
                .sum::<usize>()
    }

    /// The `flags=` letters of CLIENT LIST.
    pub fn flags_string(&self) -> String {
        let mut f = String::new();
        match self.kind {
            ClientKind::Replica => f.push('S'),
            ClientKind::Master => f.push('M'),
            ClientKind::Normal => {}
        }
        if !self.channels.is_empty() || !self.patterns.is_empty() {
            f.push('P');
        }
        if self.multi.is_some() {
            f.push('x');
        }
        if self.blocked.is_some() {
            f.push('b');
        }
        if self.dirty_cas {
            f.push('d');
        }
        if self.close_after_reply {
            f.push('c');
        }
        if self.monitor {
            f.push('O');
        }
        if self.no_evict {
            f.push('e');
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }
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
    /// Stream bytes produced while this replica waits for its snapshot; sent
    /// right after it.
    pub held: Vec<u8>,
    /// The offset the snapshot this replica waits for was taken at.
    pub rdb_offset: i64,
    /// When it started waiting for a snapshot (ms), for repl-diskless-sync-delay.
    pub wait_since_ms: i64,
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
            ReplicaState::SendBulk => "wait_bgsave",
            ReplicaState::Online => "online",
        }
    }
}

impl Client {
    /// The deadline (ms) of a blocked client (BLPOP and friends, WAIT), if it
    /// has one.
    pub fn block_deadline(&self) -> Option<i64> {
        match &self.blocked {
            Some(Blocked::Keys { deadline_ms, .. }) | Some(Blocked::Wait { deadline_ms, .. })
                if *deadline_ms > 0 =>
            {
                Some(*deadline_ms)
            }
            _ => None,
        }
    }
}
