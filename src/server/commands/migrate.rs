//! MIGRATE, as Redis 7.0's cluster.c: connects to the target (connections are
//! cached per host:port, closed after 10 seconds unused), sends AUTH, SELECT
//! and one RESTORE per key with its DUMP payload and remaining TTL, reads the
//! replies, and deletes the acknowledged keys here (propagated as one DEL)
//! unless COPY. Like Redis, the transfer blocks the server for its duration,
//! bounded by the timeout.
use super::dump::dump_payload;
use crate::server::client::Client;
use crate::server::keyspace::db::NO_EXPIRE;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::util::{now_ms, parse_i64};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long an unused cached connection stays open (MIGRATE_SOCKET_CACHE_TTL).
const CACHE_TTL_MS: i64 = 10_000;
/// At most this many cached connections (MIGRATE_SOCKET_CACHE_ITEMS).
const CACHE_ITEMS: usize = 64;

/// One cached connection to a MIGRATE target.
#[derive(Debug)]
struct Cached {
    conn: BufReader<TcpStream>,
    /// The database last selected on it, or -1.
    last_dbid: i64,
    last_use_ms: i64,
}

/// MIGRATE's connections, by "host:port" (INFO's migrate_cached_sockets).
#[derive(Debug, Default)]
pub struct SocketCache {
    conns: HashMap<String, Cached>,
}

impl SocketCache {
    /// Number of open cached connections.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// True when no connection is cached.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// Closes connections unused for more than 10 seconds (run from the cron,
    /// as Redis's migrateCloseTimedoutSockets).
    pub fn close_timed_out(&mut self, now_ms: i64) {
        self.conns
            .retain(|_, c| now_ms - c.last_use_ms <= CACHE_TTL_MS);
    }
}

/// COMMAND GETKEYS for MIGRATE: the key argument, or the keys after KEYS.
pub fn migrate_keys(argv: &[Vec<u8>]) -> Vec<usize> {
    let mut i = 6;
    while i < argv.len() {
        let a = argv[i].to_ascii_lowercase();
        match &a[..] {
            b"auth" => i += 1,
            b"auth2" => i += 2,
            b"keys" if argv[3].is_empty() => return (i + 1..argv.len()).collect(),
            _ => {}
        }
        i += 1;
    }
    vec![3]
}

fn resp_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Connects to host:port within `timeout_ms`, or takes the cached connection;
/// Err(true) for a timeout or a bad address, Err(false) for a refused connection.
fn get_socket<'a>(
    cache: &'a mut SocketCache,
    host: &[u8],
    port: &[u8],
    timeout_ms: i64,
) -> Result<&'a mut Cached, bool> {
    let name = format!(
        "{}:{}",
        String::from_utf8_lossy(host),
        String::from_utf8_lossy(port)
    );
    if !cache.conns.contains_key(&name) {
        if cache.conns.len() >= CACHE_ITEMS {
            // Too many: drop one at random, as Redis does.
            if let Some(k) = cache.conns.keys().next().cloned() {
                cache.conns.remove(&k);
            }
        }
        let timeout = Duration::from_millis(timeout_ms.max(1) as u64);
        let port: u16 = std::str::from_utf8(port)
            .ok()
            .and_then(|p| p.parse().ok())
            .ok_or(true)?;
        let host = String::from_utf8_lossy(host).into_owned();
        let addr = (host.as_str(), port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or(true)?;
        // As Redis's non-blocking connect: only a timeout is a connect error;
        // a refused connection shows up when writing.
        let s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| is_timeout(&e))?;
        let _ = s.set_nodelay(true);
        cache.conns.insert(
            name.clone(),
            Cached {
                conn: BufReader::new(s),
                last_dbid: -1,
                last_use_ms: now_ms(),
            },
        );
    }
    let c = cache.conns.get_mut(&name).ok_or(true)?;
    c.last_use_ms = now_ms();
    let timeout = Some(Duration::from_millis(timeout_ms.max(1) as u64));
    let _ = c.conn.get_ref().set_read_timeout(timeout);
    let _ = c.conn.get_ref().set_write_timeout(timeout);
    Ok(c)
}

fn close_socket(cache: &mut SocketCache, host: &[u8], port: &[u8]) {
    let name = format!(
        "{}:{}",
        String::from_utf8_lossy(host),
        String::from_utf8_lossy(port)
    );
    cache.conns.remove(&name);
}

/// Reads one reply line (without its CRLF); Err(true) when the read timed out,
/// Err(false) for another error or a closed connection.
fn read_line(conn: &mut BufReader<TcpStream>) -> Result<Vec<u8>, bool> {
    let mut line = Vec::new();
    match conn.read_until(b'\n', &mut line) {
        Ok(n) if n > 0 && line.ends_with(b"\n") => {
            while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                line.pop();
            }
            Ok(line)
        }
        Ok(_) => Err(false),
        Err(e) => Err(is_timeout(&e)),
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// How one attempt ended.
enum Attempt {
    Done,
    /// A socket error before anything was acknowledged: may retry once.
    Retry {
        writing: bool,
        timed_out: bool,
    },
    /// A socket error after replies were read, or a second failure.
    Failed {
        writing: bool,
    },
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH
/// password] [AUTH2 username password] [KEYS key ...]: moves keys to another
/// Redis (see the module doc). Replies OK, NOKEY when none of the keys exists,
/// "IOERR error or timeout connecting to the client" / "IOERR error or timeout
/// writing|reading to target instance", or "Target instance replied with
/// error: ..." for the first error the target sent.
pub fn migrate(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut copy = false;
    let mut replace = false;
    let mut auth: Option<(Option<&[u8]>, &[u8])> = None;
    let mut first_key = 3;
    let mut num_keys = 1;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let a = argv[j].to_ascii_lowercase();
        match &a[..] {
            b"copy" => copy = true,
            b"replace" => replace = true,
            b"auth" => {
                if more == 0 {
                    c.reply.error(errors::SYNTAX);
                    return;
                }
                j += 1;
                auth = Some((None, &argv[j]));
            }
            b"auth2" => {
                if more < 2 {
                    c.reply.error(errors::SYNTAX);
                    return;
                }
                auth = Some((Some(&argv[j + 1]), &argv[j + 2]));
                j += 2;
            }
            b"keys" => {
                if !argv[3].is_empty() {
                    c.reply.error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                    return;
                }
                first_key = j + 1;
                num_keys = argv.len() - j - 1;
                break;
            }
            _ => {
                c.reply.error(errors::SYNTAX);
                return;
            }
        }
        j += 1;
    }
    let (Some(mut timeout), Some(dbid)) = (parse_i64(&argv[5]), parse_i64(&argv[4])) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    if timeout <= 0 {
        timeout = 1000;
    }
    let keys: Vec<Vec<u8>> = argv[first_key..first_key + num_keys]
        .iter()
        .filter(|k| srv.lookup_read(c, k).is_some())
        .cloned()
        .collect();
    if keys.is_empty() {
        c.reply.simple("NOKEY");
        return;
    }
    let mut may_retry = true;
    loop {
        match attempt(srv, c, argv, &keys, dbid, timeout, auth, copy, replace) {
            Attempt::Done => return,
            Attempt::Retry { writing, timed_out } if may_retry && !timed_out => {
                let _ = writing;
                may_retry = false;
            }
            Attempt::Retry { writing, .. } | Attempt::Failed { writing } => {
                close_socket(&mut srv.migrate_sockets, &argv[1], &argv[2]);
                c.reply.error(&format!(
                    "IOERR error or timeout {} to target instance",
                    if writing { "writing" } else { "reading" }
                ));
                return;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn attempt(
    srv: &mut Server,
    c: &mut Client,
    argv: &[Vec<u8>],
    keys: &[Vec<u8>],
    dbid: i64,
    timeout: i64,
    auth: Option<(Option<&[u8]>, &[u8])>,
    copy: bool,
    replace: bool,
) -> Attempt {
    let db = c.db;
    let compress = srv.config.rdbcompression;
    // Build the whole request first: AUTH, SELECT, one RESTORE per live key.
    let mut cmd = Vec::new();
    if let Some((user, pw)) = auth {
        match user {
            Some(u) => resp_command(&mut cmd, &[b"AUTH", u, pw]),
            None => resp_command(&mut cmd, &[b"AUTH", pw]),
        }
    }
    let mut sent: Vec<Vec<u8>> = Vec::new();
    let mut restores = Vec::new();
    for k in keys {
        let Some(e) = srv.dbs[db].get(k) else {
            continue;
        };
        let mut ttl = 0;
        if e.expire != NO_EXPIRE {
            ttl = e.expire - now_ms();
            if ttl < 0 {
                continue;
            }
            ttl = ttl.max(1);
        }
        let payload = dump_payload(&e.value, compress);
        let ttl_s = ttl.to_string();
        let mut args: Vec<&[u8]> = vec![b"RESTORE", k, ttl_s.as_bytes(), &payload];
        if replace {
            args.push(b"REPLACE");
        }
        resp_command(&mut restores, &args);
        sent.push(k.clone());
    }
    let cs = match get_socket(&mut srv.migrate_sockets, &argv[1], &argv[2], timeout) {
        Ok(cs) => cs,
        Err(true) => {
            c.reply
                .error("IOERR error or timeout connecting to the client");
            return Attempt::Done;
        }
        Err(false) => {
            return Attempt::Retry {
                writing: true,
                timed_out: false,
            }
        }
    };
    let select = cs.last_dbid != dbid;
    if select {
        resp_command(&mut cmd, &[b"SELECT", dbid.to_string().as_bytes()]);
    }
    cmd.extend_from_slice(&restores);
    if let Err(e) = cs.conn.get_mut().write_all(&cmd) {
        return Attempt::Retry {
            writing: true,
            timed_out: is_timeout(&e),
        };
    }
    let auth_reply = if auth.is_some() {
        match read_line(&mut cs.conn) {
            Ok(l) => Some(l),
            Err(timed_out) => {
                return Attempt::Retry {
                    writing: false,
                    timed_out,
                }
            }
        }
    } else {
        None
    };
    let select_reply = if select {
        match read_line(&mut cs.conn) {
            Ok(l) => Some(l),
            Err(timed_out) => {
                return Attempt::Retry {
                    writing: false,
                    timed_out,
                }
            }
        }
    } else {
        None
    };
    let mut error_from_target: Option<Vec<u8>> = None;
    let mut socket_error = false;
    let mut timed_out = false;
    let mut deleted: Vec<Vec<u8>> = Vec::new();
    let mut read = 0;
    for k in &sent {
        let line = match read_line(&mut cs.conn) {
            Ok(l) => l,
            Err(t) => {
                socket_error = true;
                timed_out = t;
                break;
            }
        };
        read += 1;
        let err = [&auth_reply, &select_reply]
            .into_iter()
            .flatten()
            .find(|l| l.first() == Some(&b'-'))
            .cloned()
            .or_else(|| (line.first() == Some(&b'-')).then(|| line.clone()));
        match err {
            Some(e) if error_from_target.is_none() => {
                cs.last_dbid = -1;
                error_from_target = Some(e);
            }
            Some(_) => {}
            None if !copy => deleted.push(k.clone()),
            None => {}
        }
    }
    if error_from_target.is_none() && socket_error && read == 0 {
        return Attempt::Retry {
            writing: false,
            timed_out,
        };
    }
    if error_from_target.is_none() && !socket_error {
        cs.last_dbid = dbid;
    }
    if !deleted.is_empty() {
        let mut del = vec![b"DEL".to_vec()];
        for k in &deleted {
            if srv.delete_key(db, k) {
                crate::server::notify::notify(srv, crate::server::notify::GENERIC, "del", k, db);
                srv.add_dirty(1);
            }
            del.push(k.clone());
        }
        srv.propagate_instead(db, vec![del]);
    }
    if let Some(e) = error_from_target {
        c.reply.error(&format!(
            "ERR Target instance replied with error: {}",
            String::from_utf8_lossy(&e[1..])
        ));
        return Attempt::Done;
    }
    if socket_error {
        return Attempt::Failed { writing: false };
    }
    c.reply.ok();
    Attempt::Done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn getkeys_follows_the_keys_option() {
        assert_eq!(
            migrate_keys(&v(&["migrate", "h", "1", "k", "0", "5"])),
            vec![3]
        );
        assert_eq!(
            migrate_keys(&v(&[
                "migrate", "h", "1", "", "0", "5", "auth", "keys", "keys", "a", "b"
            ])),
            vec![9, 10]
        );
    }
}
