//! Replica side: the link to our master.
//!
//! A link task connects, performs the handshake a Redis 7 replica performs (PING,
//! AUTH, REPLCONF listening-port / ip-address / capa, PSYNC), receives a snapshot
//! (`$<len>` or diskless `$EOF:<mark>` framing) into a temporary file and loads it,
//! or continues from our offset (+CONTINUE). The connection then becomes the
//! master client: its commands are applied without replies, and every byte of it
//! advances our offset and is proxied verbatim to our own replicas and backlog.
//! When the link drops, the task reconnects once a second (as Redis); the data we hold stays
//! served, and is only replaced by a snapshot that was read completely.
use crate::server::client::{Client, ClientKind, OutChunk};
use crate::server::log;
use crate::server::replication::{new_replid, stream::encode_command, LinkState};
use crate::server::state::Server;
use crate::server::state::Shared;
use crate::server::util::now_ms;
use std::io::Write;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts a link task for the current `replicaof` (a new generation: any older
/// task stops at its next step).
pub fn spawn_link(srv: &Shared) {
    let mut s = srv.borrow_mut();
    start_link(&mut s);
}

/// Like `spawn_link`, from inside a command (the server is already borrowed:
/// the task only touches it once it runs).
pub fn start_link(s: &mut Server) {
    s.repl.link_generation += 1;
    s.repl.link = LinkState::Connecting;
    if s.repl.link_down_since_ms == 0 {
        s.repl.link_down_since_ms = now_ms();
    }
    let generation = s.repl.link_generation;
    if let Some(shared) = s.handle.as_ref().and_then(|w| w.upgrade()) {
        tokio::task::spawn_local(link_task(shared, generation));
    }
}

fn current(srv: &Shared, generation: u64) -> bool {
    let s = srv.borrow();
    s.repl.link_generation == generation && s.config.replicaof.is_some()
}

async fn link_task(srv: Shared, generation: u64) {
    while current(&srv, generation) {
        let (host, port, timeout, source) = {
            let s = srv.borrow();
            let (h, p) = s.config.replicaof.clone().expect("checked by current()");
            let source = s.config.value("bind-source-addr").to_string();
            (
                h,
                p,
                Duration::from_secs(s.config.repl_timeout.max(1)),
                source,
            )
        };
        srv.borrow_mut().repl.link = LinkState::Connecting;
        log::notice(&format!("Connecting to MASTER {}:{}", host, port));
        let stream = match tokio::time::timeout(timeout, connect(&host, port, &source)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                log::warning(&format!("Error condition on socket for SYNC: {}", e));
                retry_pause(&srv, generation).await;
                continue;
            }
            Err(_) => {
                log::warning("Timeout connecting to the MASTER...");
                retry_pause(&srv, generation).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        log::notice("MASTER <-> REPLICA sync started");
        let mut link = Link {
            stream,
            buf: Vec::new(),
            timeout,
        };
        match sync_with_master(&srv, &mut link, generation).await {
            Ok(()) => {
                let id = attach_master_client(&srv, &link, generation);
                let Some(id) = id else { continue };
                let Link { stream, buf, .. } = link;
                // The connection layer serves the link from here on, like any
                // client (it registered how at start-up: see `ServeLink`).
                let serve = srv.borrow().repl.serve_link;
                if let Some(serve) = serve {
                    serve(srv.clone(), stream, id, buf).await;
                }
                let mut s = srv.borrow_mut();
                if s.repl.link_generation == generation {
                    s.repl.link = LinkState::Connecting;
                    s.repl.link_down_since_ms = now_ms();
                    log::notice("Connection with master lost.");
                }
            }
            Err(e) => {
                log::warning(&e);
                // Close the failed link now, not after the pause.
                drop(link);
                {
                    let mut s = srv.borrow_mut();
                    if s.repl.link_generation == generation {
                        s.repl.link = LinkState::Connecting;
                    }
                }
                retry_pause(&srv, generation).await;
            }
        }
    }
}

/// Connects to the master, from `bind-source-addr` when it is set.
async fn connect(host: &str, port: u16, source: &str) -> std::io::Result<TcpStream> {
    if source.is_empty() {
        return TcpStream::connect((host, port)).await;
    }
    let src: std::net::IpAddr = source.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("bind-source-addr {} is not an IP address", source),
        )
    })?;
    let mut last = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        if addr.is_ipv4() != src.is_ipv4() {
            continue;
        }
        let sock = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        sock.bind(std::net::SocketAddr::new(src, 0))?;
        match sock.connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "no master address of the bind-source-addr family",
        )
    }))
}

/// Waits one second before the next attempt to reach the master, as Redis's
/// replication cron retries once a second: no growing back-off, so a replica is back
/// within about a second of its master's restart. Returns early when the link is
/// reconfigured (REPLICAOF to another master, or NO ONE).
async fn retry_pause(srv: &Shared, generation: u64) {
    let until = std::time::Instant::now() + Duration::from_millis(1000);
    while std::time::Instant::now() < until && current(srv, generation) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The socket to our master during the handshake, with bytes read ahead.
struct Link {
    stream: TcpStream,
    buf: Vec<u8>,
    timeout: Duration,
}

impl Link {
    async fn send(&mut self, args: &[&[u8]]) -> Result<(), String> {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        let mut out = Vec::new();
        encode_command(&v, &mut out);
        self.stream
            .write_all(&out)
            .await
            .map_err(|e| format!("Error writing to MASTER: {}", e))
    }
    async fn fill(&mut self) -> Result<usize, String> {
        let mut tmp = vec![0u8; 64 * 1024];
        let n = tokio::time::timeout(self.timeout, self.stream.read(&mut tmp))
            .await
            .map_err(|_| "Timeout reading from MASTER".to_string())?
            .map_err(|e| format!("Error reading from MASTER: {}", e))?;
        if n == 0 {
            return Err("MASTER closed the connection".into());
        }
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }
    /// One reply line without its CRLF, skipping the bare newlines a master sends
    /// as keep-alives while it prepares a snapshot.
    async fn line(&mut self) -> Result<String, String> {
        loop {
            while self.buf.first() == Some(&b'\n') {
                self.buf.remove(0);
            }
            if let Some(p) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=p).collect();
                let text = String::from_utf8_lossy(&line)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                if text.is_empty() {
                    continue;
                }
                return Ok(text);
            }
            if self.buf.len() > 64 * 1024 {
                return Err("MASTER sent an over-long protocol line".into());
            }
            self.fill().await?;
        }
    }
}

/// The handshake and the synchronisation (full or partial).
async fn sync_with_master(srv: &Shared, link: &mut Link, generation: u64) -> Result<(), String> {
    srv.borrow_mut().repl.link = LinkState::Handshake;
    link.send(&[b"PING"]).await?;
    let pong = link.line().await?;
    // NOAUTH here is fine: AUTH comes next. Anything else negative is not.
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(format!("Error reply to PING from master: '{}'", pong));
    }
    let (auth, user, port, announce_ip, replid, offset, can_continue) = {
        let s = srv.borrow();
        let port = if s.config.replica_announce_port != 0 {
            s.config.replica_announce_port
        } else {
            s.tcp_port
        };
        (
            s.config.masterauth.clone(),
            s.config.masteruser.clone(),
            port,
            s.config.replica_announce_ip.clone(),
            s.repl.replid.clone(),
            s.repl.offset,
            s.repl.can_continue,
        )
    };
    if let Some(pass) = &auth {
        match &user {
            Some(u) => link.send(&[b"AUTH", &u[..], &pass[..]]).await?,
            None => link.send(&[b"AUTH", &pass[..]]).await?,
        }
        let r = link.line().await?;
        if r.starts_with('-') {
            return Err(format!(
                "Unable to AUTH to MASTER: {} (check masterauth / masteruser)",
                r.trim_start_matches('-')
            ));
        }
    }
    link.send(&[b"REPLCONF", b"listening-port", port.to_string().as_bytes()])
        .await?;
    let r = link.line().await?;
    if r.starts_with('-') {
        log::notice(&format!(
            "(Non critical) Master does not understand REPLCONF listening-port: {}",
            r
        ));
    }
    if let Some(ip) = &announce_ip {
        link.send(&[b"REPLCONF", b"ip-address", ip.as_bytes()])
            .await?;
        let r = link.line().await?;
        if r.starts_with('-') {
            log::notice(&format!(
                "(Non critical) Master does not understand REPLCONF ip-address: {}",
                r
            ));
        }
    }
    link.send(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        .await?;
    let r = link.line().await?;
    if r.starts_with('-') {
        log::notice(&format!(
            "(Non critical) Master does not understand REPLCONF capa: {}",
            r
        ));
    }
    if !current(srv, generation) {
        return Err("replication target changed during the handshake".into());
    }
    let failover = srv.borrow().repl.failover.psync_failover;
    if can_continue {
        let off = (offset + 1).to_string();
        log::notice(&format!(
            "Trying a partial resynchronization (request {}:{}).",
            replid, off
        ));
        if failover {
            link.send(&[b"PSYNC", replid.as_bytes(), off.as_bytes(), b"FAILOVER"])
                .await?;
        } else {
            link.send(&[b"PSYNC", replid.as_bytes(), off.as_bytes()])
                .await?;
        }
    } else {
        log::notice("Partial resynchronization not possible (no cached master)");
        link.send(&[b"PSYNC", b"?", b"-1"]).await?;
    }
    let reply = link.line().await?;
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut it = rest.split_whitespace();
        let (Some(id), Some(off)) = (it.next(), it.next().and_then(|o| o.parse::<i64>().ok()))
        else {
            return Err(format!("Bad +FULLRESYNC reply from master: '{}'", reply));
        };
        log::notice(&format!("Full resync from master: {}:{}", id, off));
        full_sync(srv, link, id.to_string(), off, generation).await
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let new_id = rest.trim();
        let mut s = srv.borrow_mut();
        if !new_id.is_empty() && new_id != s.repl.replid {
            // The master's history continues ours under a new id (PSYNC2).
            s.repl.replid2 = std::mem::replace(&mut s.repl.replid, new_id.to_string());
            s.repl.second_offset = s.repl.offset + 1;
            log::notice(&format!("Master replication ID changed to {}", new_id));
            disconnect_replicas(&mut s);
        }
        let size = s.config.repl_backlog_size as usize;
        s.repl.ensure_backlog(size);
        s.stats.sync_partial_ok += 0;
        log::notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        Ok(())
    } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
        Err(format!(
            "Master is currently unable to PSYNC but should be in the future: {}",
            reply
        ))
    } else {
        Err(format!("Unexpected reply to PSYNC from master: {}", reply))
    }
}

/// Receives the snapshot into a temporary file, then loads it. The old dataset
/// is only replaced once the whole file was read and verified.
async fn full_sync(
    srv: &Shared,
    link: &mut Link,
    replid: String,
    offset: i64,
    generation: u64,
) -> Result<(), String> {
    {
        let mut s = srv.borrow_mut();
        s.repl.link = LinkState::Transfer;
        s.repl.sync_read = 0;
        s.repl.sync_total = -1;
        s.repl.master_last_io_ms = now_ms();
    }
    let header = link.line().await?;
    if header.starts_with('-') {
        return Err(format!(
            "MASTER aborted replication with an error: {}",
            header
        ));
    }
    let Some(h) = header.strip_prefix('$') else {
        return Err(format!("Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?", header));
    };
    let tmp = format!("temp-{}.{}.rdb", now_ms() / 1000, std::process::id());
    let result = receive(srv, link, h, &tmp).await;
    let result = match result {
        Ok(()) if current(srv, generation) => {
            use std::os::fd::AsRawFd;
            load(srv, &tmp, replid, offset, link.stream.as_raw_fd())
        }
        Ok(()) => Err("replication target changed during the transfer".into()),
        Err(e) => Err(e),
    };
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Copies the snapshot payload to `tmp`: `$<len>` framing, or `$EOF:<40-byte
/// mark>` where the payload ends with the mark.
async fn receive(srv: &Shared, link: &mut Link, header: &str, tmp: &str) -> Result<(), String> {
    let mut file = std::fs::File::create(tmp).map_err(|e| {
        format!(
            "Opening the temp file needed for MASTER <-> REPLICA synchronization: {}",
            e
        )
    })?;
    let werr =
        |e: std::io::Error| format!("Write error writing to the DB file {} on disk: {}", tmp, e);
    if let Some(mark) = header.strip_prefix("EOF:") {
        let mark = mark.as_bytes().to_vec();
        if mark.len() != 40 {
            return Err(format!("Bad EOF mark from MASTER: '{}'", header));
        }
        log::notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
        // The payload ends at the mark. Look for it anywhere in what was read, not only at
        // the end: a master may send stream bytes right behind it (they stay in the buffer
        // for the master client). Keep the last 39 bytes back until we know they do not
        // start the mark.
        loop {
            if let Some(p) = link.buf.windows(40).position(|w| w == &mark[..]) {
                file.write_all(&link.buf[..p]).map_err(werr)?;
                link.buf.drain(..p + 40);
                srv.borrow_mut().repl.sync_read += p as i64;
                break;
            }
            if link.buf.len() > 40 {
                let n = link.buf.len() - 40;
                file.write_all(&link.buf[..n]).map_err(werr)?;
                link.buf.drain(..n);
                srv.borrow_mut().repl.sync_read += n as i64;
            }
            link.fill().await?;
            srv.borrow_mut().repl.master_last_io_ms = now_ms();
        }
    } else {
        let total: u64 = header
            .parse()
            .map_err(|_| format!("Bad snapshot length from MASTER: '${}'", header))?;
        log::notice(&format!(
            "MASTER <-> REPLICA sync: receiving {} bytes from master to disk",
            total
        ));
        srv.borrow_mut().repl.sync_total = total as i64;
        let mut left = total;
        loop {
            let n = (link.buf.len() as u64).min(left) as usize;
            if n > 0 {
                file.write_all(&link.buf[..n]).map_err(werr)?;
                link.buf.drain(..n);
                left -= n as u64;
                srv.borrow_mut().repl.sync_read += n as i64;
            }
            if left == 0 {
                break;
            }
            link.fill().await?;
            srv.borrow_mut().repl.master_last_io_ms = now_ms();
        }
    }
    file.sync_all().map_err(werr)?;
    Ok(())
}

/// Loads a received snapshot and makes it our dataset and our replication
/// position; on error nothing changes.
///
/// Loading blocks the server; meanwhile a newline goes to the master once a
/// second (`master_fd`), which keeps it from timing us out during a long load.
fn load(
    srv: &Shared,
    tmp: &str,
    replid: String,
    offset: i64,
    master_fd: i32,
) -> Result<(), String> {
    let mut s = srv.borrow_mut();
    log::notice("MASTER <-> REPLICA sync: Loading DB in memory");
    let file =
        std::fs::File::open(tmp).map_err(|e| format!("Can't open the received snapshot: {}", e))?;
    let mut r = std::io::BufReader::with_capacity(
        1 << 16,
        KeepAlive {
            inner: file,
            fd: master_fd,
            last_ms: now_ms(),
        },
    );
    s.loading = true;
    let ndbs = s.config.databases;
    let loaded = crate::server::rdb::reader::read(&mut r, ndbs, None);
    s.loading = false;
    let loaded = loaded.map_err(|e| format!("Failed trying to load the MASTER synchronization DB from disk, check server logs: {}. Keeping the old dataset.", e))?;
    let ids: Vec<u64> = s.clients.keys().copied().collect();
    crate::server::rdb::install(&mut s, loaded);
    s.signal_db_modified(None);
    s.signal_flushed_db(None);
    let _ = ids;
    s.repl.replid = replid;
    s.repl.offset = offset;
    s.repl.replid2 = "0".repeat(40);
    s.repl.second_offset = -1;
    s.repl.can_continue = true;
    s.repl.stream_db = -1;
    let size = s.config.repl_backlog_size as usize;
    s.repl.reset_backlog(size);
    // Our own replicas hold the old history: they must resync with us.
    disconnect_replicas(&mut s);
    let path = crate::server::rdb::rdb_path(&s);
    if let Err(e) = std::fs::rename(tmp, &path) {
        log::warning(&format!(
            "Failed trying to rename the temp DB into {} in MASTER <-> REPLICA synchronization: {}",
            path.display(),
            e
        ));
        let _ = std::fs::remove_file(tmp);
    }
    s.stats.sync_full += 0;
    // The AOF restarts from the new dataset (a rewrite), as Redis.
    crate::server::aof::restart_after_sync(&mut s);
    log::notice("MASTER <-> REPLICA sync: Finished with success");
    Ok(())
}

/// A reader that, while the snapshot loads, writes a newline to the master at
/// most once a second (Redis's replicationSendNewlineToMaster).
struct KeepAlive<R> {
    inner: R,
    fd: i32,
    last_ms: i64,
}

impl<R: std::io::Read> std::io::Read for KeepAlive<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let now = now_ms();
        if now - self.last_ms >= 1000 {
            self.last_ms = now;
            // SAFETY: a one-byte write on the master link's socket, which stays open
            // for the whole load; a full socket buffer (EAGAIN) just skips this one.
            unsafe { libc::write(self.fd, b"\n".as_ptr() as *const libc::c_void, 1) };
        }
        self.inner.read(buf)
    }
}

/// Makes the synced connection our master client (commands applied, no replies).
fn attach_master_client(srv: &Shared, link: &Link, generation: u64) -> Option<u64> {
    let mut s = srv.borrow_mut();
    if s.repl.link_generation != generation {
        return None;
    }
    let id = s.next_client_id;
    s.next_client_id += 1;
    let peer = link
        .stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let local = link
        .stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let fd = {
        use std::os::fd::AsRawFd;
        link.stream.as_raw_fd()
    };
    let mut c = Client::new(id, peer, local, fd, true);
    c.kind = ClientKind::Master;
    s.clients.insert(id, Box::new(c));
    s.repl.master_client = Some(id);
    s.repl.link = LinkState::Connected;
    s.repl.link_down_since_ms = 0;
    s.repl.master_last_io_ms = now_ms();
    s.repl.last_ack_ms = 0;
    Some(id)
}

/// Closes the connections of our own replicas (they reconnect and resync).
fn disconnect_replicas(s: &mut Server) {
    for id in s.repl.replicas.clone() {
        if let Some(c) = s.clients.get_mut(&id) {
            c.close_asap = true;
            c.wake();
        }
    }
}

impl Server {
    /// Called for every command our master sent, with its exact bytes, after it
    /// was applied: the offset moves and the bytes go verbatim to our backlog and
    /// replicas, so that the whole chain shares one stream and one offset. (One
    /// of the three raw writers of the stream besides the execution units; see
    /// `stream`.)
    pub fn master_stream_applied(&mut self, raw: &[u8]) {
        self.repl.master_last_io_ms = now_ms();
        self.feed_stream(raw);
    }
}

/// REPLICAOF host port: follow a (new) master. Our replicas are disconnected so
/// they learn of the change; our own position is kept so a partial resync with
/// the new master is possible (a demoted master continues its own history).
pub fn set_master(s: &mut Server, host: String, port: u16) {
    let was_master = !s.is_replica();
    close_master_client(s);
    s.config.set_replicaof(Some((host.clone(), port)));
    crate::server::log::set_role('S');
    disconnect_replicas(s);
    if was_master {
        s.repl.can_continue = true;
    }
    s.repl.link_down_since_ms = now_ms();
    log::notice(&format!("REPLICAOF {}:{} enabled", host, port));
    let _ = crate::server::oom::apply(s, crate::server::oom::ProcessClass::Replica);
    start_link(s);
}

/// REPLICAOF NO ONE: become a master. The history we had continues under a new
/// replid (the old one becomes replid2 up to our offset), so the other replicas
/// of our old master can partially resync with us.
pub fn unset_master(s: &mut Server) {
    if !s.is_replica() {
        return;
    }
    close_master_client(s);
    s.config.set_replicaof(None);
    crate::server::log::set_role('M');
    s.repl.link_generation += 1;
    s.repl.link = LinkState::None;
    s.repl.replid2 = std::mem::replace(&mut s.repl.replid, new_replid(&mut s.rng));
    s.repl.second_offset = s.repl.offset + 1;
    s.repl.stream_db = -1;
    let size = s.config.repl_backlog_size as usize;
    s.repl.ensure_backlog(size);
    disconnect_replicas(s);
    log::notice("MASTER MODE enabled (user request from 'id=0')");
    let _ = crate::server::oom::apply(s, crate::server::oom::ProcessClass::Master);
}

fn close_master_client(s: &mut Server) {
    if let Some(id) = s.repl.master_client.take() {
        if let Some(c) = s.clients.get_mut(&id) {
            c.close_asap = true;
            c.wake();
        }
    }
}

/// Replica-side cron: REPLCONF ACK every second, and drop a master that has been
/// silent for repl-timeout.
pub fn cron(s: &mut Server) {
    let Some(id) = s.repl.master_client else {
        return;
    };
    let now = now_ms();
    let timeout = s.config.repl_timeout as i64 * 1000;
    let offset = s.repl.offset;
    let send_ack = now - s.repl.last_ack_ms >= 1000;
    let silent = now - s.repl.master_last_io_ms > timeout;
    let Some(c) = s.clients.get_mut(&id) else {
        s.repl.master_client = None;
        return;
    };
    if silent {
        log::warning("MASTER timeout: no data nor PING received...");
        c.close_asap = true;
        c.wake();
        return;
    }
    if send_ack {
        let mut out = Vec::new();
        encode_command(
            &[
                b"REPLCONF".to_vec(),
                b"ACK".to_vec(),
                offset.to_string().into_bytes(),
            ],
            &mut out,
        );
        c.out_queue.push_back(OutChunk::Bytes(out));
        c.wake();
        s.repl.last_ack_ms = now;
    }
}
