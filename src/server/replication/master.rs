//! Master side: every write the server applies is fed here, in order, to the
//! backlog and to each replica.
use crate::server::replication::Backlog;
use crate::server::state::Server;

/// Encodes a command as a RESP multibulk.
pub fn encode_command(argv: &[Vec<u8>], out: &mut Vec<u8>) {
    let mut b = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(b.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(b.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl Server {
    /// Feeds one command, applied to database `db`, to the replication stream.
    ///
    /// Contract: called exactly once per effect, in the order effects were applied;
    /// emits a SELECT first when the stream's database differs. Does nothing while
    /// there is neither a backlog nor a replica (as Redis: the offset only moves when
    /// someone could use the bytes). A replica never feeds its own stream from here:
    /// it proxies its master's stream verbatim instead.
    pub fn propagate(&mut self, db: usize, argv: &[Vec<u8>]) {
        if self.repl.backlog.is_none() && self.repl.replicas.is_empty() {
            return;
        }
        if self.is_replica() {
            return;
        }
        let mut bytes = Vec::with_capacity(64);
        if self.repl.stream_db != db as i64 {
            let dbs = db.to_string().into_bytes();
            encode_command(&[b"SELECT".to_vec(), dbs], &mut bytes);
            self.repl.stream_db = db as i64;
        }
        encode_command(argv, &mut bytes);
        self.feed_stream(&bytes);
    }

    /// Appends raw stream bytes to the backlog and every replica, advancing the offset.
    pub fn feed_stream(&mut self, bytes: &[u8]) {
        if self.repl.backlog.is_none() {
            let size = self.config.repl_backlog_size as usize;
            self.repl.backlog = Some(Backlog::new(size, self.repl.offset + 1));
        }
        if let Some(b) = self.repl.backlog.as_mut() {
            b.feed(bytes);
        }
        self.repl.offset += bytes.len() as i64;
        let ids = self.repl.replicas.clone();
        for id in ids {
            if let Some(c) = self.clients.get_mut(&id) {
                c.reply.raw(bytes);
                c.wake();
            }
            self.enforce_output_limits(id);
        }
    }
}

impl Server {
    /// Replicas whose last ACK is within min-replicas-max-lag seconds (for
    /// min-replicas-to-write).
    pub fn good_replicas(&self) -> usize {
        let now = crate::server::util::now_ms();
        let max_lag = self.config.min_replicas_max_lag as i64 * 1000;
        self.repl
            .replicas
            .iter()
            .filter_map(|id| self.clients.get(id))
            .filter_map(|c| c.repl.as_ref())
            .filter(|r| {
                r.state == crate::server::replication::ReplicaState::Online
                    && now - r.ack_time_ms <= max_lag
            })
            .count()
    }

    /// Replicas that acknowledged at least `offset` (WAIT).
    pub fn replicas_acked(&self, offset: i64) -> usize {
        self.repl
            .replicas
            .iter()
            .filter_map(|id| self.clients.get(id))
            .filter_map(|c| c.repl.as_ref())
            .filter(|r| r.ack_offset >= offset)
            .count()
    }

    /// On a replica: is the link to the master up?
    pub fn master_link_up(&self) -> bool {
        self.clients
            .values()
            .any(|c| c.kind == crate::server::client::ClientKind::Master)
    }
}

/// A background save finished (`ok` tells whether it succeeded): replicas
/// waiting for a full sync get the snapshot. (Filled in with the master side.)
pub fn snapshot_done(_srv: &mut Server, _ok: bool) {}
