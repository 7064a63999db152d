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
    /// Postponed by CLIENT PAUSE; the command is run on unpause. `raw` is the
    /// command's bytes when it came from our master (the replication offset
    /// counts them once it has run).
    Paused { argv: Vec<Vec<u8>>, raw: Vec<u8> },
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
    /// The ACL user the connection runs as (`default` until AUTH names another).
    pub user: Vec<u8>,
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
    /// Shard channels (SSUBSCRIBE).
    pub shard_channels: HashSet<Vec<u8>>,
    pub blocked: Option<Blocked>,
    pub monitor: bool,
    pub no_evict: bool,
    /// CLIENT REPLY: Off, Skip (the next command only) or On.
    pub reply_mode: ReplyMode,
    /// Close once the pending output is written (QUIT, protocol errors).
    pub close_after_reply: bool,
    /// Close now, dropping pending output (CLIENT KILL, output limits).
    pub close_asap: bool,
    /// Connected through the `unixsocket` listener (CLIENT LIST's `U` flag).
    pub unix_socket: bool,
    /// Replica-side state on a master: the replica's listening port, announced ip, ack.
    pub repl: Option<ReplicaLink>,
    /// Total bytes read from this client (for INFO and CLIENT LIST).
    pub qbuf_len: usize,
    pub notify: Rc<Notify>,
    /// Time the soft output limit was first exceeded (ms), 0 if not exceeded.
    pub obuf_soft_since: i64,
    /// When the socket last took bytes, or the output last became pending (ms):
    /// a replica that stops reading during a transfer is timed out from this.
    pub last_write_ms: i64,
    /// The connection task is streaming a file (a disk-based snapshot) to it.
    pub sending_file: bool,
    /// Bytes read from the socket while a busy script held the server, not yet
    /// parsed (see `scripting::busy`); the connection task takes them first.
    pub busy_input: Vec<u8>,
    /// SCRIPT DEBUG: the next EVAL starts a debugging session (`scripting::ldb`).
    pub lua_debug: crate::server::scripting::ldb::Mode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    Skip,
    SkipNext,
}

impl Client {
    /// A freshly connected client: database 0, RESP2, replies on, no name, no
    /// subscriptions, created and last active now. Callers pass `authenticated`
    /// false when a password is required, so that the client must AUTH first.
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
            user: b"default".to_vec(),
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
            shard_channels: HashSet::new(),
            blocked: None,
            monitor: false,
            no_evict: false,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            close_asap: false,
            unix_socket: false,
            repl: None,
            qbuf_len: 0,
            notify: Rc::new(Notify::new()),
            obuf_soft_since: 0,
            last_write_ms: now,
            sending_file: false,
            busy_input: Vec::new(),
            lua_debug: crate::server::scripting::ldb::Mode::Off,
        }
    }

    /// Tells this client's connection task there is output to write or state to act on.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// In RESP2, a client with subscriptions (channels, patterns or shard
    /// channels) may only run (un)subscribe commands.
    pub fn in_pubsub_context(&self) -> bool {
        !self.reply.resp3 && self.total_subscriptions() > 0
    }

    /// Channels, patterns and shard channels subscribed to: a client with any
    /// is in pub/sub mode (Redis's CLIENT_PUBSUB).
    pub fn total_subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard_channels.len()
    }

    /// Number of channels plus patterns subscribed to (the count SUBSCRIBE and
    /// friends reply).
    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Output held in memory for this client and not yet written, in bytes: its
    /// reply buffer, what the connection task holds, queued chunks, and for a
    /// replica the stream kept for after its snapshot. (A snapshot file streamed
    /// from disk is not held in memory and does not count, as in Redis.) This is
    /// what `client-output-buffer-limit` is checked against.
    pub fn output_len(&self) -> usize {
        self.reply.len()
            + self.pending_out
            + self
                .out_queue
                .iter()
                .map(|c| match c {
                    OutChunk::Bytes(b) => b.len(),
                    OutChunk::File(..) => 0,
                })
                .sum::<usize>()
            + self.repl.as_ref().map_or(0, |r| r.held.len())
    }

    /// One CLIENT LIST / CLIENT INFO line, in Redis 7.0's field order;
    /// `tracking` is the client's tracking mode when tracking is on.
    pub fn info_line(
        &self,
        now: i64,
        tracking: Option<&crate::server::tracking::ClientTracking>,
    ) -> String {
        let c = self;
        let multi = c.multi.as_ref().map(|q| q.len() as i64).unwrap_or(-1);
        let obl = c.reply.len();
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=16384 obl={} oll={} omem={} tot-mem={} events=r cmd={} user={} redir={} resp={}\n",
            c.id,
            c.addr,
            c.laddr,
            c.fd,
            String::from_utf8_lossy(c.name.as_deref().unwrap_or(b"")),
            (now - c.created_ms) / 1000,
            (now - c.last_interaction_ms) / 1000,
            c.flags_string(tracking),
            c.db,
            c.channels.len(),
            c.patterns.len(),
            c.shard_channels.len(),
            multi,
            c.qbuf_len,
            16384usize.saturating_sub(c.qbuf_len),
            obl.min(16384),
            c.out_queue.len(),
            c.output_len(),
            c.output_len() + c.qbuf_len + 20000,
            c.last_cmd,
            String::from_utf8_lossy(&c.user),
            tracking.map_or(-1, |t| t.redirect as i64),
            if c.reply.resp3 { 3 } else { 2 }
        )
    }

    /// Whether anything waits to be written to this client's socket.
    pub fn output_pending(&self) -> bool {
        self.sending_file
            || self.pending_out > 0
            || !self.out_queue.is_empty()
            || !self.reply.is_empty()
    }

    /// The `flags=` letters of CLIENT LIST, in Redis 7.0's order.
    pub fn flags_string(
        &self,
        tracking: Option<&crate::server::tracking::ClientTracking>,
    ) -> String {
        let mut f = String::new();
        if self.monitor {
            f.push('O');
        }
        match self.kind {
            ClientKind::Replica => f.push('S'),
            ClientKind::Master => f.push('M'),
            ClientKind::Normal => {}
        }
        if self.total_subscriptions() > 0 {
            f.push('P');
        }
        if self.multi.is_some() {
            f.push('x');
        }
        if self.blocked.is_some() {
            f.push('b');
        }
        if let Some(t) = tracking {
            f.push('t');
            if t.broken_redir {
                f.push('R');
            }
            if t.bcast {
                f.push('B');
            }
        }
        if self.dirty_cas {
            f.push('d');
        }
        if self.close_after_reply {
            f.push('c');
        }
        if self.close_asap {
            f.push('A');
        }
        if self.unix_socket {
            f.push('U');
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
    /// It asked with the legacy SYNC: no +FULLRESYNC line, the payload comes
    /// straight away, and it sends no ACKs (so none are expected), as Redis.
    pub legacy_sync: bool,
    /// Stream bytes produced while this replica waits for its snapshot; sent
    /// right after it (after a diskless transfer: once it acknowledged, see
    /// `stream_on_ack`).
    pub held: Vec<u8>,
    /// A diskless transfer ended: the stream starts with the replica's first
    /// REPLCONF ACK, as Redis 7 does, because a replica finds the end of an
    /// `$EOF:` payload by the mark being the last bytes it read.
    pub stream_on_ack: bool,
    /// An ACK arrived before the transfer was marked done (the replica read the whole payload
    /// first): the stream may start at once.
    pub acked_during_transfer: bool,
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
    /// The replica state as INFO replication's `state=` shows it: every state before
    /// Online reads "wait_bgsave", as in Redis.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReplicaState::WaitBgsaveStart => "wait_bgsave",
            ReplicaState::WaitBgsaveEnd => "wait_bgsave",
            ReplicaState::SendBulk => "wait_bgsave",
            ReplicaState::Online => "online",
        }
    }
}

/// The id of the client scripts run their commands as (Redis's `lua` fake
/// client); real clients count up from 1.
pub const SCRIPT_CLIENT_ID: u64 = u64::MAX;

impl Client {
    /// Whether this is the client a script's redis.call runs as.
    pub fn is_script(&self) -> bool {
        self.id == SCRIPT_CLIENT_ID
    }

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

/// The client table (Redis's `server.clients`): every connected client by id,
/// the one whose command is running included. That one's `Client` value is
/// lent to its command ([`Clients::lend`], [`Clients::give_back`]) while its
/// entry stays: it is counted, its id is known to be live, and a WATCHed key
/// it touches itself flags it ([`Clients::flag_dirty_cas`]). Lookups
/// (`get`, `values`...) see the clients not lent; the running command has its
/// own `&mut Client`.
#[derive(Default)]
pub struct Clients {
    map: std::collections::BTreeMap<u64, Slot>,
    /// Lent entries with a flag raised (so that `take_flags` costs nothing in
    /// the common case).
    flagged: usize,
}

enum Slot {
    Here(Box<Client>),
    /// Lent to its running command: what the table still knows of it.
    Lent {
        kind: ClientKind,
        /// A key it WATCHes changed while it ran.
        dirty_cas: bool,
        /// Its protocol and whether it has subscriptions, when it was lent
        /// (to encode output for it meanwhile).
        resp3: bool,
        subscribed: bool,
        /// Output others produced for it while it ran (invalidations),
        /// written after its command's reply.
        deferred: Vec<u8>,
    },
}

impl Clients {
    /// Adds a newly connected client (or gives a lent one back).
    pub fn insert(&mut self, id: u64, c: Box<Client>) {
        self.map.insert(id, Slot::Here(c));
    }

    /// Takes a client out for good (it disconnected). A lent client stays.
    pub fn remove(&mut self, id: &u64) -> Option<Box<Client>> {
        match self.map.get(id) {
            Some(Slot::Here(_)) => match self.map.remove(id) {
                Some(Slot::Here(c)) => Some(c),
                _ => None,
            },
            _ => None,
        }
    }

    /// Lends a client to the command about to run for it; None if it is gone
    /// or already lent.
    pub fn lend(&mut self, id: u64) -> Option<Box<Client>> {
        let slot = self.map.get_mut(&id)?;
        let Slot::Here(c) = slot else {
            return None;
        };
        let lent = Slot::Lent {
            kind: c.kind,
            dirty_cas: false,
            resp3: c.reply.resp3,
            subscribed: c.total_subscriptions() > 0,
            deferred: Vec::new(),
        };
        match std::mem::replace(slot, lent) {
            Slot::Here(c) => Some(c),
            Slot::Lent { .. } => None,
        }
    }

    /// Puts a lent client back, with the flags raised on it meanwhile and
    /// the output kept for it.
    pub fn give_back(&mut self, mut c: Box<Client>) {
        self.take_flags(&mut c);
        self.take_deferred(&mut c);
        self.map.insert(c.id, Slot::Here(c));
    }

    /// Appends the output others produced for a lent client while it ran to
    /// its reply (after its command's reply, so it never lands inside one).
    pub fn take_deferred(&mut self, c: &mut Client) {
        if let Some(Slot::Lent { deferred, .. }) = self.map.get_mut(&c.id) {
            if !deferred.is_empty() {
                c.reply.raw(deferred);
                deferred.clear();
                c.wake();
            }
        }
    }

    /// Writes output for client `id` from outside its own command: `f` gets
    /// a reply buffer in the client's protocol and whether it has
    /// subscriptions. A lent client's output waits for the end of its
    /// command ([`Clients::take_deferred`]). False if the client is gone.
    pub fn send(&mut self, id: u64, f: impl FnOnce(&mut Reply, bool)) -> bool {
        match self.map.get_mut(&id) {
            Some(Slot::Here(c)) => {
                let subscribed = c.total_subscriptions() > 0;
                f(&mut c.reply, subscribed);
                c.wake();
                true
            }
            Some(Slot::Lent {
                resp3,
                subscribed,
                deferred,
                ..
            }) => {
                let mut r = Reply::new();
                r.resp3 = *resp3;
                f(&mut r, *subscribed);
                deferred.extend_from_slice(&r.buf);
                true
            }
            None => false,
        }
    }

    /// Refreshes what the table knows of a lent client's protocol and
    /// subscriptions (its previous command may have changed them), so that
    /// output produced for it meanwhile is encoded right.
    pub fn sync_lent(&mut self, c: &Client) {
        if let Some(Slot::Lent {
            resp3, subscribed, ..
        }) = self.map.get_mut(&c.id)
        {
            *resp3 = c.reply.resp3;
            *subscribed = c.total_subscriptions() > 0;
        }
    }

    /// Whether client `id` is connected (lent or not).
    pub fn contains(&self, id: u64) -> bool {
        self.map.contains_key(&id)
    }

    /// Whether client `id` speaks RESP3 (false when it is gone).
    pub fn resp3_of(&self, id: u64) -> bool {
        match self.map.get(&id) {
            Some(Slot::Here(c)) => c.reply.resp3,
            Some(Slot::Lent { resp3, .. }) => *resp3,
            None => false,
        }
    }

    /// Moves the flags raised on a lent client's entry onto `c` (after each of
    /// its commands, so that the next one in the same batch sees them).
    pub fn take_flags(&mut self, c: &mut Client) {
        if self.flagged == 0 {
            return;
        }
        if let Some(Slot::Lent { dirty_cas, .. }) = self.map.get_mut(&c.id) {
            if std::mem::take(dirty_cas) {
                c.dirty_cas = true;
                self.flagged -= 1;
            }
        }
    }

    /// Whether `id` is lent to its running command.
    pub fn is_lent(&self, id: u64) -> bool {
        matches!(self.map.get(&id), Some(Slot::Lent { .. }))
    }

    /// A key the client WATCHes changed (Redis's touchWatchedKey).
    pub fn flag_dirty_cas(&mut self, id: u64) {
        match self.map.get_mut(&id) {
            Some(Slot::Here(c)) => c.dirty_cas = true,
            Some(Slot::Lent { dirty_cas, .. }) if !*dirty_cas => {
                *dirty_cas = true;
                self.flagged += 1;
            }
            _ => {}
        }
    }

    /// Every connected client, lent or not.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Connected clients (lent or not) whose kind passes `f`.
    pub fn count_kind(&self, f: impl Fn(ClientKind) -> bool) -> usize {
        self.map
            .values()
            .filter(|s| match s {
                Slot::Here(c) => f(c.kind),
                Slot::Lent { kind, .. } => f(*kind),
            })
            .count()
    }

    /// Every connected client's id, lent or not.
    pub fn keys(&self) -> impl Iterator<Item = &u64> {
        self.map.keys()
    }

    /// The client with this id, or None when it is gone or currently lent to a
    /// running command.
    pub fn get(&self, id: &u64) -> Option<&Client> {
        match self.map.get(id) {
            Some(Slot::Here(c)) => Some(c),
            _ => None,
        }
    }

    /// The client with this id for mutation, or None when it is gone or lent.
    pub fn get_mut(&mut self, id: &u64) -> Option<&mut Client> {
        match self.map.get_mut(id) {
            Some(Slot::Here(c)) => Some(c),
            _ => None,
        }
    }

    /// The clients not lent, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&u64, &Client)> {
        self.map.iter().filter_map(|(id, s)| match s {
            Slot::Here(c) => Some((id, &**c)),
            Slot::Lent { .. } => None,
        })
    }

    /// The clients not lent, in id order.
    pub fn values(&self) -> impl Iterator<Item = &Client> {
        self.iter().map(|(_, c)| c)
    }

    /// The clients not lent, for mutation, in id order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Client> {
        self.map.values_mut().filter_map(|s| match s {
            Slot::Here(c) => Some(&mut **c),
            Slot::Lent { .. } => None,
        })
    }
}
