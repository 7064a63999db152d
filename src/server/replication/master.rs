//! Master side: every write the server applies is fed here, in order, to the
//! backlog and to each replica.
use crate::server::client::{Client, ClientKind, OutChunk};
use crate::server::log;
use crate::server::replication::stream::encode_command;
use crate::server::replication::{new_replid, ReplicaLink, ReplicaState};
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::util::now_ms;

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

/// Creates the backlog for the first replica. As Redis does, a master that had
/// no backlog starts a new replication history (new replid, no replid2), since
/// nobody can continue the old one from us.
pub fn ensure_backlog(srv: &mut Server) {
    if srv.repl.backlog.is_none() {
        if !srv.is_replica() {
            srv.repl.replid = new_replid(&mut srv.rng);
            srv.repl.replid2 = "0".repeat(40);
            srv.repl.second_offset = -1;
        }
        let size = srv.config.repl_backlog_size as usize;
        srv.repl.reset_backlog(size);
    }
}

/// Whether we can serve a replica that asks to continue `replid` from `offset`
/// (PSYNC2: our own id, or the previous one up to where it was valid, and the
/// bytes still in the backlog).
pub fn can_continue(srv: &Server, replid: &str, offset: i64) -> bool {
    let id_ok = replid == srv.repl.replid
        || (replid == srv.repl.replid2 && offset <= srv.repl.second_offset);
    let Some(b) = &srv.repl.backlog else {
        return false;
    };
    id_ok && offset >= b.first_offset && offset <= b.first_offset + b.histlen() as i64
}

/// SYNC / PSYNC replid offset from a replica (client `c`).
///
/// Contract: either answers +CONTINUE and sends the backlog from `offset` (the
/// replica is then online), or answers +FULLRESYNC replid offset once a snapshot
/// taken at that offset is being written, and sends the snapshot then every write
/// made since, in order. Several replicas share one snapshot. The legacy SYNC
/// gets no +FULLRESYNC line: the `$<len>` payload comes first, then the stream.
pub fn sync_command(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if c.kind == ClientKind::Replica {
        return;
    }
    let psync = argv[0].eq_ignore_ascii_case(b"psync");
    if psync && argv.len() > 3 && argv[3].eq_ignore_ascii_case(b"failover") {
        if argv[1] != srv.repl.replid.as_bytes() {
            c.reply
                .error("ERR PSYNC FAILOVER replid must match my replid.");
            return;
        }
        log::notice(&format!(
            "Failover request received for replid {}.",
            srv.repl.replid
        ));
        crate::server::replication::replica::unset_master(srv);
    }
    if srv.is_replica() && !srv.master_link_up() {
        c.reply
            .error("NOMASTERLINK Can't SYNC while not connected with my master");
        return;
    }
    if !c.reply.is_empty() || !c.out_queue.is_empty() {
        c.reply
            .error("ERR SYNC and PSYNC are invalid with pending output");
        return;
    }
    let now = now_ms();
    let mut link = c.repl.take().unwrap_or_default();
    link.ack_time_ms = now;
    link.held.clear();
    if psync {
        let replid = String::from_utf8_lossy(&argv[1]).to_string();
        let offset = crate::server::util::parse_i64(&argv[2]).unwrap_or(-1);
        if replid != "?" && can_continue(srv, &replid, offset) {
            let data = srv
                .repl
                .backlog
                .as_ref()
                .and_then(|b| b.since(offset))
                .unwrap_or_default();
            if link.capa_psync2 {
                c.reply
                    .raw(format!("+CONTINUE {}\r\n", srv.repl.replid).as_bytes());
            } else {
                c.reply.raw(b"+CONTINUE\r\n");
            }
            c.reply.raw(&data);
            link.state = ReplicaState::Online;
            link.ack_offset = offset - 1;
            c.repl = Some(link);
            c.kind = ClientKind::Replica;
            srv.repl.replicas.push(c.id);
            srv.stats.sync_partial_ok += 1;
            log::notice(&format!(
                "Partial resynchronization request from {} accepted. Sending {} bytes of backlog starting from offset {}.",
                c.addr,
                data.len(),
                offset
            ));
            return;
        }
        if replid != "?" {
            srv.stats.sync_partial_err += 1;
            log::notice(&format!(
                "Partial resynchronization not accepted: replid {} / offset {} not available (our replid {}, {})",
                replid, offset, srv.repl.replid, srv.repl.offset
            ));
        }
    }
    log::notice(&format!("Replica {} asks for synchronization", c.addr));
    srv.stats.sync_full += 1;
    link.legacy_sync = !psync;
    c.kind = ClientKind::Replica;
    link.state = ReplicaState::WaitBgsaveStart;
    link.wait_since_ms = now;
    c.repl = Some(link);
    srv.repl.replicas.push(c.id);
    ensure_backlog(srv);
    if crate::server::aof::has_active_child(srv) || !srv.repl.transfer_targets.is_empty() {
        if srv.persistence.child_pid.is_some()
            && srv.repl.rdb_for_replicas
            && !srv.persistence.child_to_socket
        {
            // Share the snapshot file being written: copy what another waiting
            // replica holds since the fork, and start from the same offset.
            let other = srv
                .repl
                .replicas
                .iter()
                .filter_map(|id| srv.clients.get(id))
                .filter_map(|o| o.repl.as_ref())
                .find(|r| r.state == ReplicaState::WaitBgsaveEnd)
                .map(|r| (r.held.clone(), r.rdb_offset));
            if let Some((held, off)) = other {
                let l = c.repl.as_mut().expect("set above");
                l.held = held;
                l.rdb_offset = off;
                l.state = ReplicaState::WaitBgsaveEnd;
                if !l.legacy_sync {
                    c.reply
                        .raw(format!("+FULLRESYNC {} {}\r\n", srv.repl.replid, off).as_bytes());
                }
                log::notice("Waiting for end of BGSAVE for SYNC");
                return;
            }
        }
        log::notice(
            "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC",
        );
        return;
    }
    // A diskless sync waits repl-diskless-sync-delay for more replicas (the cron
    // starts it); otherwise the snapshot starts now.
    if diskless(srv, Some(c)) && srv.config.repl_diskless_sync_delay > 0 {
        log::notice(&format!(
            "Delay next BGSAVE for diskless SYNC ({} s)",
            srv.config.repl_diskless_sync_delay
        ));
        return;
    }
    if let Err(e) = start_snapshot(srv, Some(c)) {
        log::warning(&format!("BGSAVE for replication failed: {}", e));
        c.reply.error("ERR BGSAVE for replication failed");
        c.close_after_reply = true;
    }
}

/// Whether the next full sync goes straight to the replicas' sockets: with
/// repl-diskless-sync, when every waiting replica understands the EOF framing.
fn diskless(srv: &Server, extra: Option<&Client>) -> bool {
    if !srv.config.repl_diskless_sync {
        return false;
    }
    let capa = |c: &Client| {
        c.repl
            .as_ref()
            .is_none_or(|l| l.state != ReplicaState::WaitBgsaveStart || l.capa_eof)
    };
    extra.is_none_or(capa)
        && srv
            .repl
            .replicas
            .iter()
            .filter_map(|id| srv.clients.get(id))
            .all(capa)
}

/// Starts a snapshot for the replicas waiting to start a full sync (those in
/// the client table, plus `extra`, the one executing PSYNC right now) and
/// answers them +FULLRESYNC at the fork's offset. Disk-based: the child writes
/// the RDB file and `snapshot_done` sends it. Diskless: the child writes into a
/// pipe that a relay task copies to every target's socket.
fn start_snapshot(srv: &mut Server, extra: Option<&mut Client>) -> Result<(), String> {
    let offset = srv.repl.offset;
    let to_socket = diskless(srv, extra.as_deref());
    let mut targets = Vec::new();
    if to_socket {
        let mut fds = [0i32; 2];
        // SAFETY: pipe() fills the two descriptors we pass.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(format!("pipe: {}", std::io::Error::last_os_error()));
        }
        // A bigger pipe (1 MB, Linux's default maximum) means fewer round trips
        // between the child and the relay.
        // SAFETY: fcntl on the pipe we just created; failure only keeps the default size.
        unsafe { libc::fcntl(fds[1], libc::F_SETPIPE_SZ, 1 << 20) };
        let mark = new_replid(&mut srv.rng);
        let forked = crate::server::rdb::fork_to_fd(srv, fds[0], fds[1], &mark);
        // SAFETY: the parent's copy of the write end is ours to close.
        unsafe { libc::close(fds[1]) };
        if let Err(e) = forked {
            // SAFETY: the read end is unused after a failed fork.
            unsafe { libc::close(fds[0]) };
            return Err(e);
        }
        use std::os::fd::FromRawFd;
        // SAFETY: fds[0] is the pipe's read end, owned by us from here on.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fds[0]) };
        let rx = tokio::net::unix::pipe::Receiver::from_owned_fd(owned)
            .map_err(|e| format!("pipe: {}", e))?;
        if let Some(shared) = srv.handle.as_ref().and_then(|w| w.upgrade()) {
            tokio::task::spawn_local(relay_snapshot(shared, rx));
        }
    } else {
        crate::server::rdb::bgsave(srv)?;
    }
    srv.repl.rdb_for_replicas = true;
    // The stream after a full sync must start with a SELECT.
    srv.repl.stream_db = -1;
    let replid = srv.repl.replid.clone();
    let state = if to_socket {
        ReplicaState::SendBulk
    } else {
        ReplicaState::WaitBgsaveEnd
    };
    let mut start = |c: &mut Client| {
        if let Some(l) = c.repl.as_mut() {
            if l.state == ReplicaState::WaitBgsaveStart {
                l.state = state;
                l.rdb_offset = offset;
                l.held.clear();
                if !l.legacy_sync {
                    c.reply
                        .raw(format!("+FULLRESYNC {} {}\r\n", replid, offset).as_bytes());
                }
                // With a socket target the payload follows in the output queue.
                if to_socket {
                    let before = std::mem::take(&mut c.reply.buf);
                    c.out_queue.push_back(OutChunk::Bytes(before));
                }
                c.wake();
                targets.push(c.id);
            }
        }
    };
    if let Some(c) = extra {
        start(c);
    }
    for id in srv.repl.replicas.clone() {
        if let Some(c) = srv.clients.get_mut(&id) {
            start(c);
        }
    }
    srv.repl.transfer_targets = if to_socket { targets } else { Vec::new() };
    Ok(())
}

/// Copies a diskless snapshot from the child's pipe to every target replica,
/// then, once the child reported success, what was written meanwhile; the
/// replicas are online from there. A failed child closes them (they retry).
async fn relay_snapshot(
    shared: crate::server::state::Shared,
    mut rx: tokio::net::unix::pipe::Receiver,
) {
    use tokio::io::AsyncReadExt;
    let targets = shared.borrow().repl.transfer_targets.clone();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        // Back-pressure: let slow replicas drain before reading more.
        loop {
            let queued = {
                let s = shared.borrow();
                targets
                    .iter()
                    .filter_map(|id| s.clients.get(id))
                    .map(|c| {
                        c.out_queue
                            .iter()
                            .map(|ch| match ch {
                                OutChunk::Bytes(b) => b.len(),
                                OutChunk::File(..) => 0,
                            })
                            .sum::<usize>()
                    })
                    .max()
                    .unwrap_or(0)
            };
            if queued < 16 * 1024 * 1024 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        match rx.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let mut s = shared.borrow_mut();
                for id in &targets {
                    if let Some(c) = s.clients.get_mut(id) {
                        c.out_queue.push_back(OutChunk::Bytes(buf[..n].to_vec()));
                        c.wake();
                    }
                }
            }
        }
    }
    // The pipe is closed: wait for the child's verdict.
    let ok = loop {
        if let Some(ok) = shared.borrow_mut().persistence.socket_result.take() {
            break ok;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let mut s = shared.borrow_mut();
    s.repl.transfer_targets.clear();
    for id in &targets {
        let Some(c) = s.clients.get_mut(id) else {
            continue;
        };
        let Some(l) = c.repl.as_mut() else { continue };
        if ok {
            // The held stream goes out with the replica's first ACK (see `stream_on_ack`).
            l.state = ReplicaState::Online;
            l.ack_time_ms = now_ms();
            if l.acked_during_transfer {
                let held = std::mem::take(&mut l.held);
                if !held.is_empty() {
                    c.out_queue.push_back(OutChunk::Bytes(held));
                }
            } else {
                l.stream_on_ack = true;
            }
            log::notice(&format!(
                "Synchronization with replica {} succeeded",
                c.addr
            ));
        } else {
            log::warning(&format!("Diskless SYNC failed; closing replica {}", c.addr));
            c.close_asap = true;
        }
        c.wake();
    }
}

/// A background save finished (`ok` tells whether it succeeded): replicas
/// waiting for it get the file, then what was written meanwhile; replicas that
/// arrived too late for it get a new one.
pub fn snapshot_done(srv: &mut Server, ok: bool) {
    srv.repl.rdb_for_replicas = false;
    let path = crate::server::rdb::rdb_path(srv);
    for id in srv.repl.replicas.clone() {
        let Some(c) = srv.clients.get_mut(&id) else {
            continue;
        };
        let Some(l) = c.repl.as_mut() else { continue };
        if l.state != ReplicaState::WaitBgsaveEnd {
            continue;
        }
        let file = if ok {
            std::fs::File::open(&path).ok()
        } else {
            None
        };
        let len = file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map(|m| m.len());
        match (file, len) {
            (Some(f), Some(len)) => {
                let held = std::mem::take(&mut l.held);
                l.state = ReplicaState::Online;
                l.ack_time_ms = now_ms();
                // Anything already replied (+FULLRESYNC) goes first.
                let before = std::mem::take(&mut c.reply.buf);
                if !before.is_empty() {
                    c.out_queue.push_back(OutChunk::Bytes(before));
                }
                c.out_queue
                    .push_back(OutChunk::Bytes(format!("${}\r\n", len).into_bytes()));
                c.out_queue.push_back(OutChunk::File(f, len));
                if !held.is_empty() {
                    c.out_queue.push_back(OutChunk::Bytes(held));
                }
                log::notice(&format!(
                    "Synchronization with replica {} succeeded",
                    c.addr
                ));
                c.wake();
            }
            _ => {
                log::warning(&format!(
                    "SYNC failed. BGSAVE child returned an error; closing replica {}",
                    c.addr
                ));
                c.close_asap = true;
                c.wake();
            }
        }
    }
}

/// REPLCONF option value ... (from a replica, or GETACK from our master).
pub fn replconf_command(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len().is_multiple_of(2) {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let mut j = 1;
    while j + 1 < argv.len() {
        let opt = argv[j].to_ascii_lowercase();
        let val = &argv[j + 1];
        match &opt[..] {
            b"listening-port" => match crate::server::util::parse_i64(val) {
                Some(p) if (0..=65535).contains(&p) => {
                    c.repl
                        .get_or_insert_with(ReplicaLink::default)
                        .listening_port = p as u16
                }
                _ => {
                    c.reply.error(errors::NOT_INTEGER);
                    return;
                }
            },
            b"ip-address" => {
                c.repl.get_or_insert_with(ReplicaLink::default).announced_ip =
                    Some(String::from_utf8_lossy(val).into_owned())
            }
            b"capa" => {
                let l = c.repl.get_or_insert_with(ReplicaLink::default);
                if val.eq_ignore_ascii_case(b"eof") {
                    l.capa_eof = true;
                } else if val.eq_ignore_ascii_case(b"psync2") {
                    l.capa_psync2 = true;
                }
            }
            b"ack" | b"fack" => {
                // From a replica: no reply, ever.
                if c.kind == ClientKind::Replica && opt == b"ack" {
                    if let (Some(off), Some(l)) =
                        (crate::server::util::parse_i64(val), c.repl.as_mut())
                    {
                        if off > l.ack_offset {
                            l.ack_offset = off;
                        }
                        l.ack_time_ms = now_ms();
                        srv.repl.ack_arrived = true;
                        if l.state != ReplicaState::Online {
                            l.acked_during_transfer = true;
                        }
                        if l.stream_on_ack {
                            l.stream_on_ack = false;
                            let held = std::mem::take(&mut l.held);
                            if !held.is_empty() {
                                c.out_queue.push_back(OutChunk::Bytes(held));
                                c.wake();
                            }
                        }
                    }
                }
                return;
            }
            b"getack" => {
                // From our master: the one command a replica answers on that link.
                if c.kind == ClientKind::Master {
                    let ack = format!("REPLCONF ACK {}", srv.repl.offset);
                    let mut out = Vec::new();
                    let parts: Vec<Vec<u8>> =
                        ack.split(' ').map(|x| x.as_bytes().to_vec()).collect();
                    encode_command(&parts, &mut out);
                    c.out_queue.push_back(OutChunk::Bytes(out));
                }
                return;
            }
            b"rdb-only" | b"rdb-filter-only" => {}
            _ => {
                c.reply.error(&format!(
                    "ERR Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(&argv[j])
                ));
                return;
            }
        }
        j += 2;
    }
    c.reply.ok();
}

/// Master-side cron: PING down the stream every repl-ping-replica-period, drop
/// replicas silent for repl-timeout, free the backlog after repl-backlog-ttl
/// without replicas, unblock WAITers whose replicas acknowledged.
pub fn cron(srv: &mut Server) {
    let now = now_ms();
    let period = srv.config.repl_ping_replica_period.max(1) as i64 * 1000;
    // No PING while writes are paused: the offset must stay still for FAILOVER
    // and CLIENT PAUSE WRITE handovers (as Redis).
    let paused = srv.pause != crate::server::state::PauseKind::None;
    if !srv.is_replica()
        && !paused
        && !srv.repl.replicas.is_empty()
        && now - srv.repl.last_ping_ms >= period
    {
        srv.repl.last_ping_ms = now;
        // A raw write to the stream (see `stream`): the keep-alive PING.
        let mut out = Vec::new();
        encode_command(&[b"PING".to_vec()], &mut out);
        srv.feed_stream(&out);
    }
    drop_timed_out_replicas(srv, now);
    let ttl = srv.config.repl_backlog_ttl as i64 * 1000;
    if !srv.is_replica()
        && srv.repl.replicas.is_empty()
        && ttl > 0
        && srv.repl.backlog.is_some()
        && now - srv.repl.no_replicas_since_ms > ttl
    {
        // Nobody can continue from us any more: start a new history next time.
        srv.repl.backlog = None;
        srv.repl.replid = new_replid(&mut srv.rng);
        srv.repl.replid2 = "0".repeat(40);
        srv.repl.second_offset = -1;
        log::notice(&format!(
            "Replication backlog freed after {} seconds without connected replicas.",
            ttl / 1000
        ));
    }
    // Replicas waiting for a snapshot: a newline every second keeps their
    // read timeouts from firing; a new snapshot starts when none runs (after
    // repl-diskless-sync-delay for a diskless one).
    let mut oldest_wait = None;
    let send_newline = now - srv.repl.last_newline_ms >= 1000;
    for id in srv.repl.replicas.clone() {
        let Some(c) = srv.clients.get_mut(&id) else {
            continue;
        };
        let Some(l) = &c.repl else { continue };
        if l.state == ReplicaState::WaitBgsaveStart {
            oldest_wait =
                Some(oldest_wait.map_or(l.wait_since_ms, |w: i64| w.min(l.wait_since_ms)));
        }
        let waiting =
            l.state == ReplicaState::WaitBgsaveStart || l.state == ReplicaState::WaitBgsaveEnd;
        if send_newline && waiting {
            c.reply.raw(b"\n");
            c.wake();
        }
    }
    if send_newline {
        srv.repl.last_newline_ms = now;
    }
    if let Some(since) = oldest_wait {
        let delay = if diskless(srv, None) {
            srv.config.repl_diskless_sync_delay as i64 * 1000
        } else {
            0
        };
        // Another child (an AOF rewrite) delays the snapshot too, as Redis.
        let idle =
            !crate::server::aof::has_active_child(srv) && srv.repl.transfer_targets.is_empty();
        if idle && now - since >= delay {
            if let Err(e) = start_snapshot(srv, None) {
                log::warning(&format!("BGSAVE for replication failed: {}", e));
            }
        }
    }
}

/// `repl-timeout` on the master's side. A replica that takes no bytes for
/// repl-timeout while output waits for it (it stopped reading during a full
/// sync, disk-based or diskless, or during streaming) is dropped, so a diskless
/// snapshot's child is not left blocked on it and its buffers are freed. An
/// online replica that sends no ACK (nor, while it loads, a newline) for
/// repl-timeout is dropped too. While a snapshot file is still being sent, the
/// ACK clock does not run: it starts when the transfer ends, as in Redis.
fn drop_timed_out_replicas(srv: &mut Server, now: i64) {
    let timeout = srv.config.repl_timeout as i64 * 1000;
    for id in srv.repl.replicas.clone() {
        let Some(c) = srv.clients.get_mut(&id) else {
            continue;
        };
        let sending_file = c.sending_file
            || c.out_queue
                .iter()
                .any(|ch| matches!(ch, OutChunk::File(..)));
        let stalled = c.output_pending() && now - c.last_write_ms > timeout;
        let Some(l) = c.repl.as_mut() else { continue };
        let streaming = l.state == ReplicaState::Online && !sending_file;
        // A legacy SYNC replica sends no ACKs: only a stall times it out.
        if sending_file || l.legacy_sync {
            l.ack_time_ms = now;
        }
        let why = if stalled && !streaming {
            "full sync"
        } else if stalled || (streaming && now - l.ack_time_ms > timeout) {
            "streaming sync"
        } else {
            continue;
        };
        log::warning(&format!(
            "Disconnecting timedout replica ({}): {}",
            why,
            replica_name(c)
        ));
        c.close_asap = true;
        c.wake();
    }
}

/// How Redis names a replica in its log lines: `ip:listening-port`.
fn replica_name(c: &Client) -> String {
    let ip = c
        .repl
        .as_ref()
        .and_then(|l| l.announced_ip.clone())
        .unwrap_or_else(|| {
            c.addr
                .rsplit_once(':')
                .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
                .unwrap_or_else(|| c.addr.clone())
        });
    let port = c.repl.as_ref().map_or(0, |l| l.listening_port);
    format!("{}:{}", ip, port)
}

/// Whether an online replica has not acknowledged the whole stream yet.
pub fn replicas_lagging(srv: &Server) -> bool {
    srv.repl
        .replicas
        .iter()
        .filter_map(|id| srv.clients.get(id))
        .filter_map(|c| c.repl.as_ref())
        .any(|l| l.state == ReplicaState::Online && l.ack_offset < srv.repl.offset)
}

/// Starts waiting for lagging replicas before a shutdown, if there is anything
/// to wait for: writes are paused and the replicas asked for an ACK. Returns
/// false when the shutdown can proceed at once.
pub fn begin_shutdown_wait(
    srv: &mut Server,
    mode: crate::server::state::ShutdownMode,
    client: Option<u64>,
) -> bool {
    let timeout: i64 = srv.config.value("shutdown-timeout").parse().unwrap_or(10);
    if timeout <= 0 || srv.is_replica() || !replicas_lagging(srv) {
        return false;
    }
    log::notice("Waiting for replicas before shutting down.");
    let deadline = now_ms() + timeout * 1000;
    srv.shutdown_wait = Some(crate::server::state::ShutdownWait {
        mode,
        deadline_ms: deadline,
        client,
    });
    srv.pause = crate::server::state::PauseKind::Write;
    srv.pause_until_ms = srv.pause_until_ms.max(deadline);
    request_acks(srv);
    true
}

/// Asks every replica for an ACK now (WAIT, FAILOVER): REPLCONF GETACK * goes
/// down the stream, as a raw write (see `stream`).
pub fn request_acks(srv: &mut Server) {
    if srv.repl.replicas.is_empty() {
        return;
    }
    let mut out = Vec::new();
    encode_command(
        &[b"REPLCONF".to_vec(), b"GETACK".to_vec(), b"*".to_vec()],
        &mut out,
    );
    srv.feed_stream(&out);
}
