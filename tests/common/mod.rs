//! Shared test harness: start real tripod-server and redis-server processes on
//! free ports in temporary directories, talk to them over raw sockets, and stop
//! them by pid when the test ends (also when it panics).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    // Bind port 0 and release it; retry if a later bind finds it taken.
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn tripod_server_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tripod-server"))
}

pub fn redis_server_bin() -> Option<PathBuf> {
    for p in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    None
}

/// A running server process, killed by pid on drop.
pub struct Proc {
    pub child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub pid: u32,
}

impl Proc {
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    pub fn conn(&self) -> Conn {
        Conn::connect(self.port)
    }
    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        unsafe_kill(self.pid, 15);
        let mut child = self.child.take()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn unsafe_kill(pid: u32, sig: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{}", sig))
        .arg(pid.to_string())
        .status();
}

/// A server started from a command line the test builds itself (a config
/// file, say): killed and reaped when dropped, also when the test fails.
pub struct Running(pub Child);

impl Running {
    /// Spawns `cmd` and waits until it answers PING on `port`.
    pub fn start(cmd: &mut Command, port: u16) -> Running {
        let mut r = Running(cmd.spawn().unwrap());
        wait_ready(port, &mut r.0);
        r
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something answers PING on the port.
pub fn wait_ready(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("server on port {} exited during start-up: {}", port, st);
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            if s.write_all(b"PING\r\n").is_ok() {
                let mut buf = [0u8; 64];
                if let Ok(n) = s.read(&mut buf) {
                    if n > 0 {
                        return;
                    }
                }
            }
        }
        if Instant::now() > deadline {
            panic!("server on port {} did not come up", port);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(bin: &Path, args: &[String], dir: tempfile::TempDir, port: u16) -> Proc {
    let log = dir.path().join("server.log");
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("server.err")).unwrap(),
        ))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {}", bin.display(), e));
    let pid = child.id();
    wait_ready(port, &mut child);
    Proc {
        child: Some(child),
        port,
        dir,
        pid,
    }
}

/// Starts tripod-server on a free port with extra `--directive value` arguments.
pub fn start_tripod(extra: &[&str]) -> Proc {
    start_bin(&tripod_server_bin(), extra)
}

/// Starts a real redis-server the same way (None when it is not installed).
pub fn start_redis(extra: &[&str]) -> Proc {
    let bin = redis_server_bin()
        .expect("redis-server must be installed (the README's test command installs it)");
    start_bin(&bin, extra)
}

/// Starts "tripod" (tripod-server) or "redis" (redis-server): side-by-side tests
/// loop over both names.
pub fn start_server(name: &str, extra: &[&str]) -> Proc {
    match name {
        "tripod" => start_tripod(extra),
        "redis" => start_redis(extra),
        other => panic!("unknown server {other:?}: \"tripod\" or \"redis\""),
    }
}

pub fn start_bin(bin: &Path, extra: &[&str]) -> Proc {
    for _ in 0..5 {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            "".into(),
            "--dir".into(),
            dir.path().display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            spawn(bin, &args, dir, port)
        }));
        if let Ok(p) = r {
            return p;
        }
    }
    panic!("could not start {}", bin.display());
}

/// A raw connection that sends bytes and reads whole RESP replies.
pub struct Conn {
    pub s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn connect(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // Generous: PFSELFTEST and big commands take seconds in a debug build
        // on a loaded 2-core machine.
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s.set_nodelay(true).unwrap();
        Conn { s, buf: Vec::new() }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    /// Sends a command as a multibulk and returns the raw reply bytes.
    pub fn cmd(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(&encode(args));
        self.read_reply()
    }

    /// Like `cmd`, with string arguments.
    pub fn c(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        String::from_utf8_lossy(&self.cmd(&a)).into_owned()
    }

    /// Reads one complete RESP2/RESP3 reply.
    pub fn read_reply(&mut self) -> Vec<u8> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return self.buf.drain(..n).collect();
            }
            let mut tmp = [0u8; 65536];
            let n = self.s.read(&mut tmp).unwrap_or_else(|e| {
                panic!(
                    "read failed: {} (have {:?})",
                    e,
                    String::from_utf8_lossy(&self.buf)
                )
            });
            if n == 0 {
                panic!(
                    "connection closed; unparsed: {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
            }
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    /// One raw byte, from what was already read first (for non-RESP payloads
    /// such as a replication snapshot).
    pub fn read_byte(&mut self) -> u8 {
        if !self.buf.is_empty() {
            return self.buf.remove(0);
        }
        let mut b = [0u8; 1];
        self.s.read_exact(&mut b).unwrap();
        b[0]
    }

    /// Reads until the server closes the connection; returns everything read.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        let _ = self.s.read_to_end(&mut out);
        out
    }
}

/// Encodes a command as a RESP multibulk.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Length of the first complete RESP reply in `b`, if complete.
pub fn reply_len(b: &[u8]) -> Option<usize> {
    let line_end = |from: usize| -> Option<usize> {
        b[from..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| from + p)
    };
    fn num(s: &[u8]) -> i64 {
        std::str::from_utf8(s).unwrap().parse().unwrap()
    }
    fn walk(b: &[u8], pos: usize, line_end: &dyn Fn(usize) -> Option<usize>) -> Option<usize> {
        if pos >= b.len() {
            return None;
        }
        let e = line_end(pos)?;
        let head = &b[pos + 1..e];
        match b[pos] {
            b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(e + 2),
            b'$' | b'=' | b'!' => {
                let n = num(head);
                if n < 0 {
                    return Some(e + 2);
                }
                let end = e + 2 + n as usize + 2;
                if b.len() >= end {
                    Some(end)
                } else {
                    None
                }
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let n = num(head);
                if n < 0 {
                    return Some(e + 2);
                }
                let items = if b[pos] == b'%' || b[pos] == b'|' {
                    n * 2
                } else {
                    n
                };
                let mut p = e + 2;
                for _ in 0..items {
                    p = walk(b, p, line_end)?;
                }
                Some(p)
            }
            _ => Some(e + 2),
        }
    }
    walk(b, 0, &line_end)
}

/// Runs redis-cli against a port with arguments; returns stdout.
pub fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli must be installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `f` until it returns true or the deadline passes.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        if Instant::now() > deadline {
            panic!("timed out waiting for {}", what);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts a server whose data directory is `data_dir` (kept by the caller, so a
/// second server can load what the first one saved). Logs go to the Proc's own
/// temporary directory.
pub fn start_in(bin: &Path, data_dir: &Path, extra: &[&str]) -> Proc {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec![
        "--port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--save".into(),
        "".into(),
        "--dir".into(),
        data_dir.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    spawn(bin, &args, dir, port)
}

/// The items of a flat array reply (bulk strings, integers, simple strings).
pub fn flat(reply: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let head_end = reply.windows(2).position(|w| w == b"\r\n").unwrap();
    let mut p = head_end + 2;
    if !(reply[0] == b'*' || reply[0] == b'~' || reply[0] == b'%') {
        return out;
    }
    while p < reply.len() {
        let n = reply_len(&reply[p..]).unwrap();
        let item = &reply[p..p + n];
        let e = item.windows(2).position(|w| w == b"\r\n").unwrap();
        if item[0] == b'$' {
            out.push(item[e + 2..item.len() - 2].to_vec());
        } else {
            out.push(item[1..e].to_vec());
        }
        p += n;
    }
    out
}

/// Every key of every database with its type, value (collections in a canonical
/// order) and absolute expiry: two servers hold the same data iff their dumps
/// are equal.
pub fn dump(
    c: &mut Conn,
    databases: usize,
) -> std::collections::BTreeMap<(usize, Vec<u8>), String> {
    let mut out = std::collections::BTreeMap::new();
    for db in 0..databases {
        c.c(&["SELECT", &db.to_string()]);
        for key in flat(&c.cmd(&[b"KEYS", b"*"])) {
            let t = String::from_utf8_lossy(&c.cmd(&[b"TYPE", &key]))
                .trim()
                .to_string();
            let value = match t.as_str() {
                "+string" => String::from_utf8_lossy(&c.cmd(&[b"GET", &key])).into_owned(),
                "+list" => format!("{:?}", flat(&c.cmd(&[b"LRANGE", &key, b"0", b"-1"]))),
                "+set" => {
                    let mut m = flat(&c.cmd(&[b"SMEMBERS", &key]));
                    m.sort();
                    format!("{:?}", m)
                }
                "+hash" => {
                    let items = flat(&c.cmd(&[b"HGETALL", &key]));
                    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = items
                        .chunks(2)
                        .map(|p| (p[0].clone(), p[1].clone()))
                        .collect();
                    pairs.sort();
                    format!("{:?}", pairs)
                }
                "+zset" => format!(
                    "{:?}",
                    flat(&c.cmd(&[b"ZRANGE", &key, b"0", b"-1", b"WITHSCORES"]))
                ),
                other => panic!("unexpected type {}", other),
            };
            let exp = String::from_utf8_lossy(&c.cmd(&[b"PEXPIRETIME", &key])).into_owned();
            out.insert((db, key), format!("{} {} exp={}", t, value, exp.trim()));
        }
    }
    c.c(&["SELECT", "0"]);
    out
}

/// Fills a server with every value type in both encodings, TTLs, several
/// databases, empty and large values and binary keys. Deterministic.
pub fn fill_mixed(c: &mut Conn) {
    let big = "x".repeat(100_000);
    let compressible = "abcdefgh".repeat(1000);
    c.c(&["SET", "str:empty", ""]);
    c.c(&["SET", "str:int", "12345"]);
    c.c(&["SET", "str:neg", "-70000"]);
    c.c(&["SET", "str:bigint", "123456789012345"]);
    c.c(&["SET", "str:big", &big]);
    c.c(&["SET", "str:lzf", &compressible]);
    c.c(&["SET", "str:ttl", "v", "PX", "100000000"]);
    c.cmd(&[b"SET", b"bin:\x00\xff\r\n", b"\x00\x01\x02"]);
    c.c(&["RPUSH", "list:small", "a", "1", "-5", "300", "b"]);
    for i in 0..2000 {
        c.c(&["RPUSH", "list:big", &format!("element-{}", i)]);
        c.c(&["RPUSH", "list:ints", &(i * 37).to_string()]);
    }
    c.c(&[
        "SADD",
        "set:ints",
        "1",
        "2",
        "3",
        "-100",
        "1000000",
        "5000000000",
    ]);
    c.c(&["SADD", "set:strs", "a", "b", "c"]);
    for i in 0..600 {
        c.c(&["SADD", "set:bigints", &i.to_string()]);
        c.c(&["SADD", "set:big", &format!("m{}", i)]);
    }
    c.c(&["HSET", "hash:small", "f1", "v1", "f2", "2", "f3", ""]);
    for i in 0..300 {
        c.c(&[
            "HSET",
            "hash:big",
            &format!("field{}", i),
            &format!("value{}", i),
        ]);
    }
    c.c(&["HSET", "hash:longval", "f", &"y".repeat(100)]);
    c.c(&[
        "ZADD",
        "zset:small",
        "1",
        "a",
        "2.5",
        "b",
        "-3",
        "c",
        "inf",
        "d",
        "-inf",
        "e",
    ]);
    for i in 0..300 {
        c.c(&[
            "ZADD",
            "zset:big",
            &format!("{}.25", i),
            &format!("member{}", i),
        ]);
    }
    c.c(&["ZADD", "zset:ttl", "1", "a"]);
    c.c(&["PEXPIRE", "zset:ttl", "50000000"]);
    c.c(&["SELECT", "3"]);
    c.c(&["SET", "db3:key", "in db 3"]);
    c.c(&["LPUSH", "db3:list", "x"]);
    c.c(&["SELECT", "15"]);
    c.c(&["HSET", "db15:hash", "a", "b"]);
    c.c(&["SELECT", "0"]);
}

/// A raw replica of `master`: handshake, snapshot read, then REPLCONF ACKs until
/// the master lists it online (Redis 7 starts the stream of a diskless sync
/// only on the first ACK). Returns the connection at the start of the stream.
pub fn raw_replica(master: &Proc) -> Conn {
    let mut c = master.conn();
    assert_eq!(c.c(&["REPLCONF", "listening-port", "1"]), "+OK\r\n");
    assert_eq!(
        c.c(&["REPLCONF", "capa", "eof", "capa", "psync2"]),
        "+OK\r\n"
    );
    c.send(&encode(&[b"PSYNC", b"?", b"-1"]));
    let full = c.read_reply();
    assert!(
        full.starts_with(b"+FULLRESYNC "),
        "{}",
        String::from_utf8_lossy(&full)
    );
    // The snapshot: $<len>\r\n then len bytes, or $EOF:<mark>\r\n ... <mark>;
    // newlines may come first as keep-alives.
    let mut head = Vec::new();
    loop {
        let b = c.read_byte();
        if b == b'\n' && head.is_empty() {
            continue;
        }
        head.push(b);
        if head.ends_with(b"\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&head[1..head.len() - 2]).to_string();
    match head.strip_prefix("EOF:") {
        Some(mark) => {
            let mut rdb = Vec::new();
            while !rdb.ends_with(mark.as_bytes()) {
                rdb.push(c.read_byte());
            }
            assert!(rdb.starts_with(b"REDIS"), "not an RDB payload");
        }
        None => {
            let len: usize = head.parse().unwrap();
            let rdb: Vec<u8> = (0..len).map(|_| c.read_byte()).collect();
            assert!(rdb.starts_with(b"REDIS"), "not an RDB payload");
        }
    }
    let mut m = master.conn();
    wait_until("the raw replica online", Duration::from_secs(20), || {
        c.send(&encode(&[b"REPLCONF", b"ACK", b"0"]));
        m.c(&["INFO", "replication"]).contains("state=online")
    });
    c
}
