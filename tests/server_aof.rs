//! AOF persistence against real processes: acknowledged writes survive
//! kill -9 (appendfsync always / everysec), truncated and corrupt files,
//! AOF folders exchanged with a real Redis 7 both ways (and accepted by
//! redis-check-aof), BGREWRITEAOF under a write load, the upgrade of an old
//! single-file AOF, CONFIG SET appendonly yes, and a replica's AOF.
mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn tripod() -> PathBuf {
    tripod_server_bin()
}

fn redis() -> PathBuf {
    redis_server_bin().expect("redis-server must be installed")
}

/// Starts `bin` on `data` with the AOF on (and DEBUG allowed).
fn start_aof(bin: &Path, data: &Path, extra: &[&str]) -> Proc {
    let mut args = vec!["--appendonly", "yes", "--enable-debug-command", "yes"];
    args.extend_from_slice(extra);
    start_in(bin, data, &args)
}

fn digest(c: &mut Conn) -> String {
    c.c(&["DEBUG", "DIGEST"])
}

/// Every key of every database with its DEBUG DIGEST-VALUE and expiry (to
/// name the keys two datasets differ in).
fn key_digests(c: &mut Conn) -> std::collections::BTreeMap<(usize, Vec<u8>), String> {
    let mut out = std::collections::BTreeMap::new();
    for db in 0..16 {
        c.c(&["SELECT", &db.to_string()]);
        for key in flat(&c.cmd(&[b"KEYS", b"*"])) {
            let d =
                String::from_utf8_lossy(&c.cmd(&[b"DEBUG", b"DIGEST-VALUE", &key])).into_owned();
            let t = String::from_utf8_lossy(&c.cmd(&[b"PEXPIRETIME", &key])).into_owned();
            out.insert((db, key), format!("{} {}", d.trim(), t.trim()));
        }
    }
    c.c(&["SELECT", "0"]);
    out
}

fn info_field(c: &mut Conn, name: &str) -> String {
    let info = c.c(&["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{}:", name)))
        .unwrap_or_else(|| panic!("no {} in {}", name, info))
        .trim()
        .to_string()
}

fn wait_rewrite_done(c: &mut Conn) {
    wait_until("the AOF rewrite", Duration::from_secs(30), || {
        info_field(c, "aof_rewrite_in_progress") == "0"
            && info_field(c, "aof_rewrite_scheduled") == "0"
    });
}

fn log_of(p: &Proc) -> String {
    std::fs::read_to_string(p.dir.path().join("server.log")).unwrap_or_default()
}

/// Runs `bin` on `data`, expecting it to exit by itself; returns its exit
/// code and everything it logged.
fn start_expect_exit(bin: &Path, data: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let port = free_port();
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("out.log");
    let mut cmd = Command::new(bin);
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
    ])
    .args(["--dir", &data.display().to_string(), "--appendonly", "yes"])
    .args(extra)
    .stdin(Stdio::null())
    .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
    .stderr(Stdio::from(
        std::fs::File::create(logdir.path().join("err")).unwrap(),
    ));
    let mut r = Running(cmd.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Ok(Some(st)) = r.0.try_wait() {
            break st.code();
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(r);
    (code, std::fs::read_to_string(&log).unwrap())
}

/// Every file of a folder with its bytes.
fn snapshot_dir(d: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A write load: RPUSH of 0, 1, 2... to `list`, recording the length each
/// acknowledged push returned (and when), until told to stop or the server
/// goes away.
struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicU64>,
    samples: Arc<std::sync::Mutex<Vec<(Instant, u64)>>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(port: u16) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s, a, sm) = (stop.clone(), acked.clone(), samples.clone());
        let handle = std::thread::spawn(move || {
            use std::io::{BufRead, BufReader, Write};
            let Ok(mut sock) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
                return;
            };
            let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
            let mut r = BufReader::new(sock.try_clone().unwrap());
            let mut i = 0u64;
            let mut line = String::new();
            while !s.load(Ordering::Relaxed) {
                let v = i.to_string();
                let cmd = format!(
                    "*3\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n${}\r\n{}\r\n",
                    v.len(),
                    v
                );
                if sock.write_all(cmd.as_bytes()).is_err() {
                    return;
                }
                line.clear();
                match r.read_line(&mut line) {
                    Ok(n) if n > 0 && line.starts_with(':') => {
                        let len: u64 = line[1..].trim().parse().unwrap();
                        a.store(len, Ordering::SeqCst);
                        sm.lock().unwrap().push((Instant::now(), len));
                    }
                    _ => return,
                }
                i += 1;
            }
        });
        Load {
            stop,
            acked,
            samples,
            handle: Some(handle),
        }
    }

    fn acked(&self) -> u64 {
        self.acked.load(Ordering::SeqCst)
    }

    fn finish(&mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.acked()
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The list holds exactly 0..len in order.
fn check_list(c: &mut Conn, at_least: u64) -> u64 {
    let items = flat(&c.cmd(&[b"LRANGE", b"list", b"0", b"-1"]));
    assert!(
        items.len() as u64 >= at_least,
        "{} items after restart, {} acknowledged",
        items.len(),
        at_least
    );
    for (i, v) in items.iter().enumerate() {
        assert_eq!(v, i.to_string().as_bytes());
    }
    items.len() as u64
}

/// kill -9 under a write load, then a restart on the same folder.
fn kill_under_load(fsync: &str) -> (u64, Vec<(Instant, u64)>, Instant, u64) {
    let data = tempfile::tempdir().unwrap();
    let mut p = start_aof(&tripod(), data.path(), &["--appendfsync", fsync]);
    let mut load = Load::start(p.port);
    wait_until("writes", Duration::from_secs(20), || load.acked() > 3000);
    unsafe_kill(p.pid, 9);
    let killed = Instant::now();
    let acked = load.finish();
    if let Some(mut ch) = p.child.take() {
        let _ = ch.wait();
    }
    let samples = load.samples.lock().unwrap().clone();
    let q = start_aof(&tripod(), data.path(), &["--appendfsync", fsync]);
    let have = check_list(&mut q.conn(), 0);
    (acked, samples, killed, have)
}

#[test]
fn appendfsync_always_keeps_every_acknowledged_write_across_kill_9() {
    let (acked, _, _, have) = kill_under_load("always");
    assert!(acked > 0);
    assert!(
        have >= acked,
        "{} acknowledged, {} after restart",
        acked,
        have
    );
}

#[test]
fn appendfsync_everysec_loses_at_most_about_a_second_across_kill_9() {
    let (acked, samples, killed, have) = kill_under_load("everysec");
    // Every write acknowledged up to 2 s before the kill is there.
    let old_enough = samples
        .iter()
        .filter(|(t, _)| *t + Duration::from_secs(2) <= killed)
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0);
    assert!(have >= old_enough, "{} of {} there", have, old_enough);
    assert!(have <= acked + 1);
}

/// Writes a few keys with the AOF on and stops cleanly; returns the
/// incremental file's path.
fn make_aof(data: &Path) -> PathBuf {
    let mut p = start_aof(&tripod(), data, &[]);
    let mut c = p.conn();
    for i in 0..50 {
        c.c(&["SET", &format!("k{}", i), &i.to_string()]);
    }
    p.terminate();
    data.join("appendonlydir").join("appendonly.aof.1.incr.aof")
}

#[test]
fn truncated_aof_is_cut_with_aof_load_truncated_yes_and_refused_with_no() {
    let data = tempfile::tempdir().unwrap();
    let incr = make_aof(data.path());
    let good = std::fs::read(&incr).unwrap();
    let mut bad = good.clone();
    bad.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$5\r\nab");
    std::fs::write(&incr, &bad).unwrap();

    let (code, log) = start_expect_exit(&tripod(), data.path(), &["--aof-load-truncated", "no"]);
    assert_eq!(code, Some(1), "{}", log);
    assert!(
        log.contains("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>."),
        "{}",
        log
    );
    assert_eq!(std::fs::read(&incr).unwrap(), bad, "the file was changed");

    let p = start_aof(&tripod(), data.path(), &["--aof-load-truncated", "yes"]);
    let log = log_of(&p);
    assert!(
        log.contains(
            "!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!"
        ),
        "{}",
        log
    );
    assert!(
        log.contains(&format!(
            "!!! Truncating the AOF appendonly.aof.1.incr.aof at offset {} !!!",
            good.len()
        )),
        "{}",
        log
    );
    assert!(log.contains(
        "AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled"
    ));
    let mut c = p.conn();
    assert_eq!(c.c(&["GET", "k49"]), "$2\r\n49\r\n");
    assert_eq!(c.c(&["EXISTS", "z"]), ":0\r\n");
    // New writes follow the cut, and the file loads again.
    c.c(&["SET", "after", "1"]);
    let mut p = p;
    p.terminate();
    let q = start_aof(&tripod(), data.path(), &["--aof-load-truncated", "no"]);
    assert_eq!(q.conn().c(&["GET", "after"]), "$1\r\n1\r\n");
}

#[test]
fn corrupt_middle_stops_the_start_naming_file_and_offset_and_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let incr = make_aof(data.path());
    let good = std::fs::read(&incr).unwrap();
    // Garbage between two commands, about half way.
    let text = String::from_utf8(good.clone()).unwrap();
    let at = text[good.len() / 2..].find("*3\r\n").unwrap() + good.len() / 2;
    let mut bad = good[..at].to_vec();
    bad.extend_from_slice(b"garbage\r\n");
    bad.extend_from_slice(&good[at..]);
    std::fs::write(&incr, &bad).unwrap();
    let folder = data.path().join("appendonlydir");
    let before = snapshot_dir(&folder);
    for truncated in ["yes", "no"] {
        let (code, log) =
            start_expect_exit(&tripod(), data.path(), &["--aof-load-truncated", truncated]);
        assert_eq!(code, Some(1), "{}", log);
        assert!(log.contains("Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"), "{}", log);
        assert!(log.contains(&format!("offset {}", at)), "{}", log);
        assert_eq!(snapshot_dir(&folder), before, "files changed");
    }
    // Redis refuses the same folder.
    let (code, _) = start_expect_exit(&redis(), data.path(), &[]);
    assert_eq!(code, Some(1));
}

/// Adds streams (with a consumer group and pending entries) and a function
/// library to `fill_mixed`'s data.
fn fill_more(c: &mut Conn) {
    fill_mixed(c);
    for i in 0..20 {
        c.c(&[
            "XADD",
            "stream",
            &format!("{}-1", i + 1),
            "f",
            &i.to_string(),
        ]);
    }
    c.c(&["XDEL", "stream", "3-1"]);
    c.c(&["XGROUP", "CREATE", "stream", "g", "0"]);
    c.c(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "3",
        "STREAMS",
        "stream",
        ">",
    ]);
    c.c(&["XGROUP", "CREATECONSUMER", "stream", "g", "bob"]);
    c.c(&["XADD", "empty", "MAXLEN", "0", "*", "a", "b"]);
    c.c(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
    ]);
    c.c(&["INCRBYFLOAT", "float", "1.5"]);
    c.c(&["SET", "ex", "v", "EX", "1000"]);
}

fn check_aof(folder: &Path) {
    let out = Command::new("redis-check-aof")
        .arg(folder.join("appendonly.aof.manifest"))
        .output()
        .expect("redis-check-aof must be installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text);
    assert!(text.contains("is valid"), "{}", text);
}

fn exchange_with_redis(preamble: &str) {
    let data = tempfile::tempdir().unwrap();
    let mut t = start_aof(
        &tripod(),
        data.path(),
        &["--aof-use-rdb-preamble", preamble],
    );
    let mut c = t.conn();
    fill_more(&mut c);
    assert!(c.c(&["BGREWRITEAOF"]).contains("started"));
    wait_rewrite_done(&mut c);
    // More after the rewrite: the incremental file holds commands too.
    c.c(&["SELECT", "2"]);
    c.c(&["SET", "later", "x", "PX", "100000000"]);
    c.c(&["MULTI"]);
    c.c(&["INCR", "n"]);
    c.c(&["LPUSH", "l2", "a", "b"]);
    c.c(&["EXEC"]);
    c.c(&["SELECT", "0"]);
    let d_tripod = digest(&mut c);
    t.terminate();
    let folder = data.path().join("appendonlydir");
    let base = if preamble == "yes" { "rdb" } else { "aof" };
    assert!(folder
        .join(format!("appendonly.aof.2.base.{}", base))
        .exists());
    check_aof(&folder);

    // Redis loads tripod's folder.
    let mut r = start_aof(&redis(), data.path(), &[]);
    let mut rc = r.conn();
    assert_eq!(digest(&mut rc), d_tripod);
    // Redis writes (incr and a rewrite of its own), tripod loads that.
    rc.c(&["SET", "from-redis", "1"]);
    rc.c(&["HSET", "hash:small", "f9", "v9"]);
    assert!(rc.c(&["BGREWRITEAOF"]).contains("started"));
    wait_rewrite_done(&mut rc);
    rc.c(&["DEL", "str:big"]);
    let d_redis = digest(&mut rc);
    let keys_redis = key_digests(&mut rc);
    r.terminate();
    check_aof(&folder);
    let t2 = start_aof(&tripod(), data.path(), &[]);
    let mut c2 = t2.conn();
    assert_eq!(key_digests(&mut c2), keys_redis);
    assert_eq!(digest(&mut c2), d_redis);
}

#[test]
fn aof_folders_exchanged_with_redis_rdb_preamble() {
    exchange_with_redis("yes");
}

#[test]
fn aof_folders_exchanged_with_redis_commands_base() {
    exchange_with_redis("no");
}

#[test]
fn bgrewriteaof_under_load_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let mut p = start_aof(&tripod(), data.path(), &[]);
    let mut c = p.conn();
    let mut load = Load::start(p.port);
    for round in 0..3 {
        let from = load.acked();
        wait_until("writes", Duration::from_secs(20), || {
            load.acked() > from + 500
        });
        if round == 1 {
            c.c(&["CONFIG", "SET", "aof-use-rdb-preamble", "no"]);
        }
        assert!(c.c(&["BGREWRITEAOF"]).contains("started"));
        wait_rewrite_done(&mut c);
    }
    let acked = load.finish();
    assert_eq!(check_list(&mut c, acked), acked);
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    assert_eq!(info_field(&mut c, "aof_rewrites"), "3");
    let d = digest(&mut c);
    // Only the last base and incremental file remain.
    let mut names: Vec<String> = snapshot_dir(&data.path().join("appendonlydir"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "appendonly.aof.4.base.aof",
            "appendonly.aof.4.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    assert_eq!(c.c(&["DEBUG", "LOADAOF"]), "+OK\r\n");
    assert_eq!(digest(&mut c), d);
    unsafe_kill(p.pid, 9);
    if let Some(mut ch) = p.child.take() {
        let _ = ch.wait();
    }
    let q = start_aof(&tripod(), data.path(), &[]);
    assert_eq!(digest(&mut q.conn()), d);
}

#[test]
fn bgrewriteaof_waits_for_a_running_bgsave() {
    let data = tempfile::tempdir().unwrap();
    let p = start_aof(&tripod(), data.path(), &[]);
    let mut c = p.conn();
    c.c(&["SET", "k", "v"]);
    c.c(&["CONFIG", "SET", "rdb-key-save-delay", "1000000"]);
    assert_eq!(c.c(&["BGSAVE"]), "+Background saving started\r\n");
    assert_eq!(
        c.c(&["BGREWRITEAOF"]),
        "+Background append only file rewriting scheduled\r\n"
    );
    assert_eq!(info_field(&mut c, "aof_rewrite_scheduled"), "1");
    c.c(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    // Kill the save: the rewrite starts then.
    let children = Command::new("pgrep")
        .args(["-P", &p.pid.to_string()])
        .output()
        .unwrap();
    for pid in String::from_utf8_lossy(&children.stdout).split_whitespace() {
        unsafe_kill(pid.parse().unwrap(), 9);
    }
    wait_rewrite_done(&mut c);
    assert_eq!(info_field(&mut c, "aof_rewrites"), "1");
    // And the other way round: BGSAVE while a rewrite runs.
    c.c(&["CONFIG", "SET", "rdb-key-save-delay", "1000000"]);
    assert!(c.c(&["BGREWRITEAOF"]).contains("started"));
    assert_eq!(
        c.c(&["BGREWRITEAOF"]),
        "-ERR Background append only file rewriting already in progress\r\n"
    );
    assert_eq!(
        c.c(&["BGSAVE"]),
        "-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n"
    );
    assert_eq!(
        c.c(&["BGSAVE", "SCHEDULE"]),
        "+Background saving scheduled\r\n"
    );
    c.c(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    // Turning the AOF off kills the rewrite child.
    assert_eq!(c.c(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
    assert!(log_of(&p).contains("Killing running AOF rewrite child"));
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
}

#[test]
fn old_single_file_aof_is_upgraded_as_redis_does() {
    let body = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\nx\r\n";
    let mut manifests = Vec::new();
    for bin in [tripod(), redis()] {
        let data = tempfile::tempdir().unwrap();
        std::fs::write(data.path().join("appendonly.aof"), body).unwrap();
        let mut p = start_aof(&bin, data.path(), &[]);
        let mut c = p.conn();
        assert_eq!(c.c(&["GET", "a"]), "$1\r\n1\r\n");
        assert_eq!(c.c(&["LRANGE", "l", "0", "-1"]), "*1\r\n$1\r\nx\r\n");
        c.c(&["SET", "b", "2"]);
        p.terminate();
        assert!(!data.path().join("appendonly.aof").exists());
        let folder = data.path().join("appendonlydir");
        assert_eq!(std::fs::read(folder.join("appendonly.aof")).unwrap(), body);
        manifests.push(std::fs::read_to_string(folder.join("appendonly.aof.manifest")).unwrap());
        let q = start_aof(&tripod(), data.path(), &[]);
        assert_eq!(q.conn().c(&["GET", "b"]), "$1\r\n2\r\n");
    }
    assert_eq!(manifests[0], manifests[1]);
    assert_eq!(
        manifests[0],
        "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
}

#[test]
fn config_set_appendonly_yes_rewrites_first_then_appends() {
    let data = tempfile::tempdir().unwrap();
    let mut p = start_in(&tripod(), data.path(), &["--enable-debug-command", "yes"]);
    let mut c = p.conn();
    fill_mixed(&mut c);
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
    assert_eq!(c.c(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    wait_rewrite_done(&mut c);
    c.c(&["SET", "after", "yes"]);
    let d = digest(&mut c);
    let folder = data.path().join("appendonlydir");
    assert_eq!(
        std::fs::read_to_string(folder.join("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    unsafe_kill(p.pid, 9);
    if let Some(mut ch) = p.child.take() {
        let _ = ch.wait();
    }
    let q = start_aof(&tripod(), data.path(), &[]);
    assert_eq!(digest(&mut q.conn()), d);
}

#[test]
fn info_persistence_has_redis_aof_fields_in_order() {
    let names = |p: &Proc| -> Vec<String> {
        p.conn()
            .c(&["INFO", "persistence"])
            .lines()
            .filter(|l| l.starts_with("aof_"))
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect()
    };
    for aof in ["no", "yes"] {
        let t = start_tripod(&["--appendonly", aof]);
        let r = start_redis(&["--appendonly", aof]);
        assert_eq!(names(&t), names(&r), "appendonly {}", aof);
    }
}

#[test]
fn replica_with_aof_rewrites_after_full_sync() {
    let master = start_tripod(&[
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut m = master.conn();
    for i in 0..100 {
        m.c(&["SET", &format!("k{}", i), &i.to_string()]);
    }
    let data = tempfile::tempdir().unwrap();
    let port = master.port.to_string();
    let mut r = start_aof(&tripod(), data.path(), &["--replicaof", "127.0.0.1", &port]);
    let mut rc = r.conn();
    wait_until("the sync", Duration::from_secs(20), || {
        rc.c(&["INFO", "replication"])
            .contains("master_link_status:up")
    });
    wait_until("the rewrite", Duration::from_secs(20), || {
        info_field(&mut rc, "aof_rewrites") == "1"
            && info_field(&mut rc, "aof_rewrite_in_progress") == "0"
    });
    // The master's stream goes to the replica's AOF.
    m.c(&["SET", "streamed", "1"]);
    m.c(&["SET", "ex", "v", "EX", "1000"]);
    wait_until("the stream", Duration::from_secs(20), || {
        rc.c(&["EXISTS", "ex"]) == ":1\r\n"
    });
    let d = digest(&mut rc);
    assert_eq!(digest(&mut m), d);
    unsafe_kill(r.pid, 9);
    if let Some(mut ch) = r.child.take() {
        let _ = ch.wait();
    }
    let q = start_aof(&tripod(), data.path(), &[]);
    assert_eq!(digest(&mut q.conn()), d);
}

#[test]
fn a_replica_arriving_during_a_rewrite_syncs_after_it() {
    let data = tempfile::tempdir().unwrap();
    let master = start_aof(&tripod(), data.path(), &["--repl-diskless-sync", "no"]);
    let mut m = master.conn();
    for i in 0..20 {
        m.c(&["SET", &format!("k{}", i), "v"]);
    }
    // A rewrite of about 2 s.
    m.c(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
    assert!(m.c(&["BGREWRITEAOF"]).contains("started"));
    m.c(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    let port = master.port.to_string();
    let r = start_tripod(&["--replicaof", "127.0.0.1", &port]);
    let mut rc = r.conn();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(info_field(&mut m, "aof_rewrite_in_progress"), "1");
    wait_until("the sync", Duration::from_secs(30), || {
        rc.c(&["INFO", "replication"])
            .contains("master_link_status:up")
    });
    assert_eq!(rc.c(&["DBSIZE"]), ":20\r\n");
    let log = log_of(&master);
    assert!(!log.contains("BGSAVE for replication failed"), "{}", log);
    assert!(log.contains("Waiting for next BGSAVE for SYNC"), "{}", log);
    wait_rewrite_done(&mut m);
    assert_eq!(info_field(&mut m, "aof_last_bgrewrite_status"), "ok");
}

#[test]
fn timestamp_annotations_are_written_and_loaded_by_both() {
    let data = tempfile::tempdir().unwrap();
    let mut t = start_aof(
        &tripod(),
        data.path(),
        &[
            "--aof-timestamp-enabled",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
        ],
    );
    let mut c = t.conn();
    c.c(&["SET", "a", "1"]);
    assert!(c.c(&["BGREWRITEAOF"]).contains("started"));
    wait_rewrite_done(&mut c);
    // The first write of a new second is annotated.
    std::thread::sleep(Duration::from_millis(1100));
    c.c(&["SET", "b", "2"]);
    let d = digest(&mut c);
    t.terminate();
    let folder = data.path().join("appendonlydir");
    let base = std::fs::read_to_string(folder.join("appendonly.aof.2.base.aof")).unwrap();
    let incr = std::fs::read_to_string(folder.join("appendonly.aof.2.incr.aof")).unwrap();
    assert!(base.starts_with("#TS:"), "{}", base);
    assert!(incr.starts_with("#TS:"), "{}", incr);
    check_aof(&folder);
    let r = start_aof(&redis(), data.path(), &[]);
    assert_eq!(digest(&mut r.conn()), d);
}

#[test]
fn turning_appendonly_on_in_the_config_keeps_the_rdb_data() {
    let data = tempfile::tempdir().unwrap();
    let mut p = start_in(&tripod(), data.path(), &["--enable-debug-command", "yes"]);
    let mut c = p.conn();
    fill_mixed(&mut c);
    let d = digest(&mut c);
    assert_eq!(c.c(&["SAVE"]), "+OK\r\n");
    p.terminate();
    let mut q = start_aof(&tripod(), data.path(), &[]);
    let mut qc = q.conn();
    assert_eq!(digest(&mut qc), d);
    assert!(log_of(&q).contains("No AOF yet: loading dump.rdb and writing it as the AOF base"));
    qc.c(&["SET", "after", "1"]);
    let d2 = digest(&mut qc);
    q.terminate();
    // The AOF now decides, not the (older) RDB.
    let r = start_aof(&tripod(), data.path(), &[]);
    assert_eq!(digest(&mut r.conn()), d2);
}

#[test]
fn shutdown_refused_while_the_first_aof_is_written_as_redis() {
    for bin in [tripod(), redis()] {
        let data = tempfile::tempdir().unwrap();
        let p = start_in(&bin, data.path(), &[]);
        let mut c = p.conn();
        c.c(&["SET", "k", "v"]);
        c.c(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]);
        assert_eq!(c.c(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
        assert_eq!(
            c.c(&["SHUTDOWN"]),
            "-ERR Errors trying to SHUTDOWN. Check logs.\r\n",
            "{}",
            bin.display()
        );
        assert!(log_of(&p).contains("Writing initial AOF, can't exit."));
        // Turning the AOF off again kills the child; then it stops.
        assert_eq!(c.c(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
        assert_eq!(info_field(&mut c, "aof_rewrite_in_progress"), "0");
    }
}

#[test]
fn script_effects_follow_set_repl_to_the_aof_and_the_replicas() {
    let data = tempfile::tempdir().unwrap();
    let master = start_aof(&tripod(), data.path(), &["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    let port = master.port.to_string();
    let r = start_tripod(&["--replicaof", "127.0.0.1", &port]);
    let mut rc = r.conn();
    wait_until("the sync", Duration::from_secs(20), || {
        rc.c(&["INFO", "replication"])
            .contains("master_link_status:up")
    });
    let script = "redis.call('set','a','1'); redis.set_repl(redis.REPL_NONE); redis.call('set','b','2'); redis.set_repl(redis.REPL_AOF); redis.call('set','c','3'); redis.set_repl(redis.REPL_REPLICA); redis.call('set','e','5'); redis.set_repl(redis.REPL_ALL); redis.call('set','d','4')";
    m.c(&["EVAL", script, "0"]);
    wait_until("the replica", Duration::from_secs(20), || {
        rc.c(&["EXISTS", "d"]) == ":1\r\n"
    });
    let keys = |c: &mut Conn| c.c(&["MGET", "a", "b", "c", "d", "e"]);
    assert_eq!(
        keys(&mut rc),
        "*5\r\n$1\r\n1\r\n$-1\r\n$-1\r\n$1\r\n4\r\n$1\r\n5\r\n"
    );
    assert_eq!(m.c(&["DEBUG", "LOADAOF"]), "+OK\r\n");
    assert_eq!(
        keys(&mut m),
        "*5\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n$1\r\n4\r\n$-1\r\n"
    );
}
