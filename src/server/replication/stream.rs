//! The one write path to the replication stream (Redis's `call()` →
//! `alsoPropagate()` → `propagatePendingCommands()`).
//!
//! Every effect a command has on the dataset is queued here as a command to
//! replay, in the order the effects happened: the command itself (verbatim, or
//! what it asked to be propagated instead, see [`Server::propagate_instead`]),
//! and the DELs of keys that expired or were evicted on the way
//! ([`Server::propagate_deletion`]). When the outermost command (the *execution
//! unit*: a command, a whole EXEC, one served blocked client) ends, what it
//! queued goes out as one block: bare when it is a single command, wrapped in
//! MULTI ... EXEC when there are more (as Redis 7.0). Deletions made outside
//! any command (active expiry from the cron, evictions before a command runs)
//! are units of their own and go out at once.
//!
//! The stream has two kinds of consumers: the built-in one (the backlog and
//! the replicas, with SELECTs inserted when the database changes) and the
//! [`StreamConsumer`]s attached with [`Server::attach_stream_consumer`] (the
//! place for an append-only file), which see the same commands in the same
//! order with their database.
//!
//! Besides the execution units, only three things write raw bytes to the
//! stream, through [`Server::feed_stream`], private to the replication module:
//! the master's keep-alive PING, REPLCONF GETACK (WAIT, FAILOVER), and a
//! replica proxying its master's stream verbatim.

use crate::server::state::Server;

/// A command to replay, with the database it applies to and where it goes
/// (Redis's PROPAGATE_AOF / PROPAGATE_REPL targets).
type Op = (usize, Vec<Vec<u8>>, Targets);

/// Where a queued command goes: the consumers (the AOF), the replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Targets {
    pub consumers: bool,
    pub replicas: bool,
}

impl Targets {
    pub const ALL: Targets = Targets {
        consumers: true,
        replicas: true,
    };
}

/// Something that consumes the stream of commands every execution unit
/// produces, in order (an append-only file, for example). The backlog and the
/// replicas are fed separately, as bytes; consumers get the commands.
pub trait StreamConsumer {
    /// One command of the stream, applied to database `db`.
    fn feed(&mut self, db: usize, argv: &[Vec<u8>]);
}

/// The execution unit in progress and the attached consumers.
#[derive(Default)]
pub struct Propagation {
    /// Effects queued by the running execution unit, in order.
    pending: Vec<Op>,
    /// How many `call`s are running (EXEC nests its commands' calls).
    depth: u32,
    /// The running command replaces its own propagation (SET EX -> SET PXAT...).
    prevent: bool,
    consumers: Vec<Box<dyn StreamConsumer>>,
}

impl std::fmt::Debug for Propagation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Propagation")
            .field("pending", &self.pending.len())
            .field("depth", &self.depth)
            .field("prevent", &self.prevent)
            .field("consumers", &self.consumers.len())
            .finish()
    }
}

/// Where a `call` started, handed back to [`Server::end_call`].
pub struct CallMark {
    outer_prevent: bool,
}

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
    /// A command starts running (called by `call` before the handler).
    pub(crate) fn begin_call(&mut self) -> CallMark {
        let p = &mut self.repl.propagation;
        p.depth += 1;
        CallMark {
            outer_prevent: std::mem::replace(&mut p.prevent, false),
        }
    }

    /// The command `argv`, run in database `db`, ended. `own` says whether it
    /// changed the dataset and is a write (so it is propagated verbatim unless
    /// it asked for something else instead); `from_master` says the unit comes
    /// from our own master (or replays an AOF): it goes to the consumers (the
    /// AOF) only, since replicas get the master's stream verbatim. When it was
    /// the outermost command, its execution unit goes out.
    pub(crate) fn end_call(
        &mut self,
        mark: CallMark,
        db: usize,
        argv: &[Vec<u8>],
        own: bool,
        from_master: bool,
    ) {
        let p = &mut self.repl.propagation;
        p.depth -= 1;
        let own = own && !p.prevent;
        p.prevent = mark.outer_prevent;
        if p.depth > 0 {
            if own {
                p.pending.push((db, argv.to_vec(), Targets::ALL));
            }
            return;
        }
        if p.pending.is_empty() {
            // The common case: one command and nothing else, sent from the
            // borrowed arguments.
            if own {
                self.emit(db, argv, true, !from_master);
            }
            return;
        }
        if own {
            p.pending.push((db, argv.to_vec(), Targets::ALL));
        }
        self.propagate_pending(!from_master);
    }

    /// Where the running execution unit's queue ends now (for
    /// [`Server::propagation_truncate`]).
    pub fn propagation_mark(&self) -> usize {
        self.repl.propagation.pending.len()
    }

    /// Drops what was queued after `mark`: the effects of a script command run
    /// under `redis.set_repl(redis.REPL_NONE)` are not propagated at all.
    pub fn propagation_truncate(&mut self, mark: usize) {
        self.repl.propagation.pending.truncate(mark);
    }

    /// Limits where what was queued after `mark` goes (a script command run
    /// under `redis.set_repl(redis.REPL_AOF)` or `REPL_REPLICA`); commands
    /// left with nowhere to go are dropped.
    pub fn propagation_limit(&mut self, mark: usize, to: Targets) {
        let p = &mut self.repl.propagation.pending;
        for op in p.iter_mut().skip(mark) {
            op.2.consumers &= to.consumers;
            op.2.replicas &= to.replicas;
        }
        let mut i = 0;
        p.retain(|op| {
            i += 1;
            i <= mark || op.2.consumers || op.2.replicas
        });
    }

    /// Whether anything reads the stream now (the AOF, the backlog, a
    /// replica). A command that would build a rewritten form of itself for
    /// propagation (XADD's generated id) may skip the copy when nothing does.
    pub fn propagation_wanted(&self) -> bool {
        !self.repl.propagation.consumers.is_empty()
            || self.repl.backlog.is_some()
            || !self.repl.replicas.is_empty()
    }

    /// Queues `argv`, applied to `db`, as an effect of the running execution
    /// unit (Redis's alsoPropagate).
    pub fn also_propagate(&mut self, db: usize, argv: Vec<Vec<u8>>) {
        self.repl.propagation.pending.push((db, argv, Targets::ALL));
    }

    /// Replaces the running command's own propagation with `cmds` (SET EX goes
    /// out as SET PXAT, SPOP as SREM...), each applied to database `db`.
    pub fn propagate_instead(&mut self, db: usize, cmds: Vec<Vec<Vec<u8>>>) {
        self.repl.propagation.prevent = true;
        for c in cmds {
            self.also_propagate(db, c);
        }
    }

    /// A key expired or was evicted: its deletion is an effect of the running
    /// command (inside it, and inside its MULTI/EXEC block), or a unit of its
    /// own when no command runs (active expiry, eviction before a command).
    pub fn propagate_deletion(&mut self, db: usize, key: &[u8], lazy: bool) {
        let cmd: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
        self.also_propagate(db, vec![cmd.to_vec(), key.to_vec()]);
        if self.repl.propagation.depth == 0 {
            self.propagate_pending(true);
        }
    }

    /// Attaches a consumer that gets every command of the stream from now on
    /// (the append-only file's feeder).
    pub fn attach_stream_consumer(&mut self, consumer: Box<dyn StreamConsumer>) {
        self.repl.propagation.consumers.push(consumer);
    }

    /// Sends out what the execution unit queued (Redis's
    /// propagatePendingCommands): more than one command is wrapped in MULTI/EXEC,
    /// the MULTI in the first command's database, the EXEC in the last's.
    /// `replicate`: the backlog and replicas get it too, not only consumers.
    fn propagate_pending(&mut self, replicate: bool) {
        let ops = std::mem::take(&mut self.repl.propagation.pending);
        let (Some(first), Some(last)) = (ops.first(), ops.last()) else {
            return;
        };
        let wrap = ops.len() > 1;
        let (first_db, last_db) = (first.0, last.0);
        if wrap {
            self.emit(first_db, &[b"MULTI".to_vec()], true, replicate);
        }
        for (db, argv, to) in &ops {
            self.emit(*db, argv, to.consumers, to.replicas && replicate);
        }
        if wrap {
            self.emit(last_db, &[b"EXEC".to_vec()], true, replicate);
        }
        // Keep the queue's allocation for the next unit.
        let mut ops = ops;
        ops.clear();
        if self.repl.propagation.pending.is_empty() {
            self.repl.propagation.pending = ops;
        }
    }

    /// One command to every consumer of the stream (with `consume`) and to
    /// the backlog and the replicas (with `replicate`).
    fn emit(&mut self, db: usize, argv: &[Vec<u8>], consume: bool, replicate: bool) {
        if consume && !self.repl.propagation.consumers.is_empty() {
            for c in self.repl.propagation.consumers.iter_mut() {
                c.feed(db, argv);
            }
        }
        if replicate {
            self.feed_replication(db, argv);
        }
    }

    /// The built-in consumer: the backlog and the replicas, with a SELECT first
    /// when the stream's database differs. Does nothing while there is neither
    /// a backlog nor a replica (as Redis: the offset only moves when someone
    /// could use the bytes). A replica never feeds its own stream from here:
    /// it proxies its master's stream verbatim instead.
    fn feed_replication(&mut self, db: usize, argv: &[Vec<u8>]) {
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

    /// Appends raw stream bytes to the backlog and every replica, advancing the
    /// offset. Private to replication: besides the execution units (through
    /// `feed_replication`), only the master's PING, REPLCONF GETACK and a
    /// replica proxying its master's stream write here.
    pub(super) fn feed_stream(&mut self, bytes: &[u8]) {
        self.repl
            .ensure_backlog(self.config.repl_backlog_size as usize);
        if let Some(b) = self.repl.backlog.as_mut() {
            b.feed(bytes);
        }
        self.repl.offset += bytes.len() as i64;
        let ids = self.repl.replicas.clone();
        for id in ids {
            if let Some(c) = self.clients.get_mut(&id) {
                match c.repl.as_mut() {
                    // Waiting for its snapshot: keep the bytes to send after it.
                    // (SendBulk: a diskless transfer is being relayed.)
                    // Diskless transfer done, first ACK not yet in: keep them too.
                    Some(r)
                        if r.stream_on_ack
                            || matches!(
                                r.state,
                                super::ReplicaState::WaitBgsaveStart
                                    | super::ReplicaState::WaitBgsaveEnd
                                    | super::ReplicaState::SendBulk
                            ) =>
                    {
                        if r.state == super::ReplicaState::WaitBgsaveStart {
                            continue;
                        }
                        r.held.extend_from_slice(bytes);
                    }
                    _ => {
                        c.reply.raw(bytes);
                        c.wake();
                    }
                }
            }
            self.enforce_output_limits(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    struct Recorder(Rc<RefCell<Vec<String>>>);

    impl StreamConsumer for Recorder {
        fn feed(&mut self, db: usize, argv: &[Vec<u8>]) {
            let words: Vec<String> = argv
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            self.0
                .borrow_mut()
                .push(format!("{} {}", db, words.join(" ")));
        }
    }

    fn argv(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn units_are_wrapped_only_when_they_hold_more_than_one_command() {
        let mut srv = Server::new(crate::server::config::Config::default());
        let seen = Rc::new(RefCell::new(Vec::new()));
        srv.attach_stream_consumer(Box::new(Recorder(seen.clone())));
        // A plain write.
        let set = argv(&["SET", "a", "1"]);
        let m = srv.begin_call();
        srv.end_call(m, 0, &set, true, false);
        // A write that found an expired key first.
        let m = srv.begin_call();
        srv.propagate_deletion(0, b"old", false);
        srv.end_call(m, 0, &set, true, false);
        // A deletion outside any command.
        srv.propagate_deletion(2, b"gone", true);
        // An EXEC around one write in db 1.
        let exec = argv(&["EXEC"]);
        let outer = srv.begin_call();
        let inner = srv.begin_call();
        srv.end_call(inner, 1, &set, true, false);
        srv.end_call(outer, 1, &exec, false, false);
        assert_eq!(
            *seen.borrow(),
            [
                "0 SET a 1",
                "0 MULTI",
                "0 DEL old",
                "0 SET a 1",
                "0 EXEC",
                "2 UNLINK gone",
                "1 SET a 1",
            ]
        );
    }
}
