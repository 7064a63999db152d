//! Replication: three tripod-server processes as in the source document, the
//! scenarios Redis's own replication suites cover, interoperation with a real
//! Redis 7 in both directions, and bad input on the links.
mod common;
use common::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const DEBUG: &[&str] = &["--enable-debug-command", "yes"];

fn tripod(extra: &[&str]) -> Proc {
    let mut args: Vec<&str> = DEBUG.to_vec();
    args.extend_from_slice(&["--repl-diskless-sync-delay", "0"]);
    args.extend_from_slice(extra);
    start_tripod(&args)
}

fn redis(extra: &[&str]) -> Proc {
    let mut args: Vec<&str> = DEBUG.to_vec();
    args.extend_from_slice(&["--repl-diskless-sync-delay", "0"]);
    args.extend_from_slice(extra);
    start_redis(&args)
}

fn replica_of(master: &Proc, extra: &[&str], bin_redis: bool) -> Proc {
    let port = master.port.to_string();
    let mut args: Vec<&str> = vec!["--replicaof", "127.0.0.1", &port];
    args.extend_from_slice(extra);
    let p = if bin_redis {
        redis(&args)
    } else {
        tripod(&args)
    };
    wait_linked(&p);
    p
}

fn info(p: &Proc, section: &str) -> String {
    let mut c = p.conn();
    let r = c.c(&["INFO", section]);
    if r.starts_with("-NOAUTH") {
        c.c(&["AUTH", "123456"]);
        return c.c(&["INFO", section]);
    }
    r
}

fn field(p: &Proc, section: &str, name: &str) -> String {
    let text = info(p, section);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{}:", name)))
        .unwrap_or("")
        .trim()
        .to_string()
}

fn wait_linked(replica: &Proc) {
    wait_until(
        "the replica's link to come up",
        Duration::from_secs(20),
        || field(replica, "replication", "master_link_status") == "up",
    );
}

/// Waits until the replica has applied everything the master wrote.
fn wait_caught_up(master: &Proc, replica: &Proc) {
    wait_until("the replica to catch up", Duration::from_secs(20), || {
        let m = field(master, "replication", "master_repl_offset");
        let r = field(replica, "replication", "slave_repl_offset");
        !m.is_empty() && m == r
    });
}

fn digest(p: &Proc) -> String {
    p.conn().c(&["DEBUG", "DIGEST"])
}

fn stat(p: &Proc, name: &str) -> u64 {
    field(p, "stats", name).parse().unwrap_or(0)
}

/// Some writes of every type, through one connection.
fn write_some(p: &Proc, prefix: &str, n: usize) {
    let mut c = p.conn();
    let mut batch = Vec::new();
    for i in 0..n {
        let k = format!("{}:{}", prefix, i);
        batch.extend_from_slice(&encode(&[b"SET", k.as_bytes(), i.to_string().as_bytes()]));
        batch.extend_from_slice(&encode(&[
            b"RPUSH",
            format!("{}:list", prefix).as_bytes(),
            k.as_bytes(),
        ]));
        batch.extend_from_slice(&encode(&[
            b"HSET",
            format!("{}:hash", prefix).as_bytes(),
            k.as_bytes(),
            b"v",
        ]));
        batch.extend_from_slice(&encode(&[
            b"SADD",
            format!("{}:set", prefix).as_bytes(),
            k.as_bytes(),
        ]));
        batch.extend_from_slice(&encode(&[
            b"ZADD",
            format!("{}:zset", prefix).as_bytes(),
            i.to_string().as_bytes(),
            k.as_bytes(),
        ]));
        batch.extend_from_slice(&encode(&[
            b"INCRBYFLOAT",
            format!("{}:float", prefix).as_bytes(),
            b"0.1",
        ]));
    }
    c.send(&batch);
    for _ in 0..n * 6 {
        let r = c.read_reply();
        assert!(!r.starts_with(b"-"), "{}", String::from_utf8_lossy(&r));
    }
}

#[test]
fn three_nodes_as_in_the_source_document() {
    let master = tripod(&["--requirepass", "123456"]);
    let r1 = replica_of(
        &master,
        &["--masterauth", "123456", "--requirepass", "123456"],
        false,
    );
    let r2 = replica_of(
        &master,
        &["--masterauth", "123456", "--requirepass", "123456"],
        false,
    );
    let auth = |p: &Proc| {
        let mut c = p.conn();
        assert_eq!(c.c(&["AUTH", "123456"]), "+OK\r\n");
        c
    };
    let mut m = auth(&master);
    wait_until("two online replicas", Duration::from_secs(10), || {
        let i = m.c(&["INFO", "replication"]);
        i.contains("connected_slaves:2") && i.matches("state=online").count() == 2
    });
    let i = m.c(&["INFO", "replication"]);
    assert!(i.contains("role:master"), "{}", i);
    assert!(i.contains("slave0:ip=127.0.0.1,port="), "{}", i);
    assert!(i.contains("slave1:ip=127.0.0.1,port="), "{}", i);
    assert_eq!(
        m.c(&["MSET", "k1", "1", "k2", "2", "k3", "3", "k4", "4"]),
        "+OK\r\n"
    );
    for r in [&r1, &r2] {
        let mut c = auth(r);
        wait_until("the keys on the replica", Duration::from_secs(10), || {
            c.c(&["MGET", "k1", "k2", "k3", "k4"])
                == "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
        });
        assert_eq!(
            c.c(&["SET", "k5", "5"]),
            "-READONLY You can't write against a read only replica.\r\n"
        );
        let ri = c.c(&["INFO", "replication"]);
        assert!(
            ri.contains("role:slave") && ri.contains("master_link_status:up"),
            "{}",
            ri
        );
        let role = c.c(&["ROLE"]);
        assert!(
            role.starts_with("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n"),
            "{}",
            role
        );
        assert!(role.contains("$9\r\nconnected\r\n"), "{}", role);
    }
    // replica-read-only no: the replica accepts (local) writes.
    let mut c = auth(&r1);
    assert_eq!(
        c.c(&["CONFIG", "SET", "replica-read-only", "no"]),
        "+OK\r\n"
    );
    assert_eq!(c.c(&["SET", "local", "x"]), "+OK\r\n");
    let role = m.c(&["ROLE"]);
    assert!(role.starts_with("*3\r\n$6\r\nmaster\r\n"), "{}", role);
}

#[test]
fn every_type_replicates_and_digests_match() {
    let master = tripod(&[]);
    let replica = replica_of(&master, &[], false);
    fill_mixed(&mut master.conn());
    write_some(&master, "w", 300);
    let mut m = master.conn();
    // Non-deterministic commands are replicated as their effects.
    m.c(&["SET", "ex", "v", "EX", "1000"]);
    m.c(&["SADD", "popme", "a", "b", "c", "d", "e"]);
    m.c(&["SPOP", "popme", "2"]);
    m.c(&["SPOP", "popme"]);
    m.c(&["HINCRBYFLOAT", "hf", "f", "1.1"]);
    m.c(&["EXPIRE", "str:int", "1000"]);
    wait_caught_up(&master, &replica);
    assert_eq!(dump(&mut master.conn(), 16), dump(&mut replica.conn(), 16));
    assert_eq!(digest(&master), digest(&replica));
    assert_ne!(
        digest(&master),
        "+0000000000000000000000000000000000000000\r\n"
    );
}

#[test]
fn partial_resync_after_the_link_is_killed_under_load() {
    let master = tripod(&[]);
    let replica = replica_of(&master, &[], false);
    write_some(&master, "a", 200);
    wait_caught_up(&master, &replica);
    let full = stat(&master, "sync_full");
    let partial = stat(&master, "sync_partial_ok");
    // Kill the link from the master's side while writes keep coming.
    let writer = {
        let port = master.port;
        std::thread::spawn(move || {
            let mut c = Conn::connect(port);
            for i in 0..2000 {
                c.c(&["SET", &format!("load:{}", i), "x"]);
            }
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        master.conn().c(&["CLIENT", "KILL", "TYPE", "replica"]),
        ":1\r\n"
    );
    writer.join().unwrap();
    wait_linked(&replica);
    wait_caught_up(&master, &replica);
    assert_eq!(stat(&master, "sync_full"), full, "no full resync");
    assert_eq!(stat(&master, "sync_partial_ok"), partial + 1);
    assert_eq!(digest(&master), digest(&replica));
    // And from the replica's side.
    assert_eq!(
        replica.conn().c(&["CLIENT", "KILL", "TYPE", "master"]),
        ":1\r\n"
    );
    write_some(&master, "b", 100);
    wait_linked(&replica);
    wait_caught_up(&master, &replica);
    assert_eq!(stat(&master, "sync_partial_ok"), partial + 2);
    assert_eq!(digest(&master), digest(&replica));
}

#[test]
fn a_backlog_too_small_means_a_full_resync() {
    let master = tripod(&["--repl-backlog-size", "16384"]);
    let replica = replica_of(&master, &[], false);
    wait_caught_up(&master, &replica);
    let full = stat(&master, "sync_full");
    // Stop the replica from reconnecting for a moment: point it elsewhere.
    let mut rc = replica.conn();
    rc.c(&["REPLICAOF", "127.0.0.1", "1"]);
    write_some(&master, "big", 400);
    rc.c(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    wait_linked(&replica);
    wait_caught_up(&master, &replica);
    assert_eq!(stat(&master, "sync_full"), full + 1);
    assert!(stat(&master, "sync_partial_err") >= 1);
    assert_eq!(digest(&master), digest(&replica));
}

#[test]
fn promoted_replica_takes_the_other_replica_with_a_partial_resync() {
    let master = tripod(&[]);
    let r1 = replica_of(&master, &[], false);
    let r2 = replica_of(&master, &[], false);
    write_some(&master, "x", 100);
    wait_caught_up(&master, &r1);
    wait_caught_up(&master, &r2);
    let old_id = field(&master, "replication", "master_replid");
    assert_eq!(r1.conn().c(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert_eq!(field(&r1, "replication", "role"), "master");
    assert_eq!(field(&r1, "replication", "master_replid2"), old_id);
    assert_eq!(
        r2.conn()
            .c(&["REPLICAOF", "127.0.0.1", &r1.port.to_string()]),
        "+OK\r\n"
    );
    wait_linked(&r2);
    assert_eq!(stat(&r1, "sync_partial_ok"), 1);
    assert_eq!(stat(&r1, "sync_full"), 0);
    // The new master's writes reach the other replica.
    r1.conn().c(&["SET", "after", "promotion"]);
    wait_caught_up(&r1, &r2);
    assert_eq!(r2.conn().c(&["GET", "after"]), "$9\r\npromotion\r\n");
    assert_eq!(digest(&r1), digest(&r2));
    // The old master can rejoin as a replica of the new one, also partially.
    master
        .conn()
        .c(&["REPLICAOF", "127.0.0.1", &r1.port.to_string()]);
    wait_linked(&master);
    wait_caught_up(&r1, &master);
    assert_eq!(stat(&r1, "sync_full"), 0);
    assert_eq!(digest(&r1), digest(&master));
}

#[test]
fn a_restarted_replica_resyncs_partially_from_its_rdb() {
    let master = tripod(&[]);
    let data = tempfile::tempdir().unwrap();
    let port = master.port.to_string();
    let mut replica = start_in(
        &tripod_server_bin(),
        data.path(),
        &[
            "--replicaof",
            "127.0.0.1",
            &port,
            "--enable-debug-command",
            "yes",
        ],
    );
    wait_linked(&replica);
    write_some(&master, "r", 100);
    wait_caught_up(&master, &replica);
    let mut rc = replica.conn();
    rc.send(&encode(&[b"SHUTDOWN", b"SAVE"]));
    let _ = rc.read_to_close();
    replica.terminate();
    write_some(&master, "s", 50);
    let full = stat(&master, "sync_full");
    let partial = stat(&master, "sync_partial_ok");
    let replica = start_in(
        &tripod_server_bin(),
        data.path(),
        &[
            "--replicaof",
            "127.0.0.1",
            &port,
            "--enable-debug-command",
            "yes",
        ],
    );
    wait_linked(&replica);
    wait_caught_up(&master, &replica);
    assert_eq!(stat(&master, "sync_full"), full);
    assert_eq!(stat(&master, "sync_partial_ok"), partial + 1);
    assert_eq!(digest(&master), digest(&replica));
}

#[test]
fn expired_keys_become_dels_on_replicas() {
    let master = tripod(&[]);
    let replica = replica_of(&master, &[], false);
    let mut m = master.conn();
    m.c(&["SET", "short", "v", "PX", "50"]);
    m.c(&["SET", "keep", "v"]);
    wait_caught_up(&master, &replica);
    // The replica never expires on its own, but hides the key from readers.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(replica.conn().c(&["GET", "short"]), "$-1\r\n");
    // Reading it on the master deletes it and sends DEL.
    assert_eq!(m.c(&["GET", "short"]), "$-1\r\n");
    wait_caught_up(&master, &replica);
    assert_eq!(replica.conn().c(&["DBSIZE"]), ":1\r\n");
}

#[test]
fn wait_counts_acknowledging_replicas() {
    let master = tripod(&[]);
    let _r1 = replica_of(&master, &[], false);
    let _r2 = replica_of(&master, &[], false);
    let mut m = master.conn();
    m.c(&["SET", "a", "1"]);
    assert_eq!(m.c(&["WAIT", "2", "5000"]), ":2\r\n");
    let start = std::time::Instant::now();
    assert_eq!(m.c(&["WAIT", "3", "300"]), ":2\r\n");
    assert!(start.elapsed() >= Duration::from_millis(250));
    assert_eq!(m.c(&["WAIT", "1", "-1"]), "-ERR timeout is negative\r\n");
    assert!(_r1
        .conn()
        .c(&["WAIT", "1", "0"])
        .starts_with("-ERR WAIT cannot be used with replica instances"));
}

#[test]
fn chained_replicas_share_one_stream() {
    let a = tripod(&[]);
    let b = replica_of(&a, &[], false);
    let c = replica_of(&b, &[], false);
    write_some(&a, "chain", 100);
    wait_caught_up(&a, &b);
    wait_caught_up(&a, &c);
    assert_eq!(
        field(&a, "replication", "master_replid"),
        field(&c, "replication", "master_replid")
    );
    assert_eq!(digest(&a), digest(&c));
}

#[test]
fn failover_to_a_chosen_replica_and_to_any() {
    let master = tripod(&[]);
    let r1 = replica_of(&master, &[], false);
    let r2 = replica_of(&master, &[], false);
    write_some(&master, "f", 50);
    wait_caught_up(&master, &r1);
    let mut m = master.conn();
    assert_eq!(
        m.c(&["FAILOVER", "TO", "127.0.0.1", "1"]),
        "-ERR FAILOVER target HOST and PORT is not a replica.\r\n"
    );
    assert_eq!(
        m.c(&["FAILOVER", "FORCE"]),
        "-ERR FAILOVER with force option requires both a timeout and target HOST and IP.\r\n"
    );
    assert_eq!(
        m.c(&["FAILOVER", "ABORT"]),
        "-ERR No failover in progress.\r\n"
    );
    assert_eq!(
        m.c(&["FAILOVER", "TIMEOUT", "0"]),
        "-ERR FAILOVER timeout must be greater than 0\r\n"
    );
    assert_eq!(
        m.c(&[
            "FAILOVER",
            "TO",
            "127.0.0.1",
            &r1.port.to_string(),
            "TIMEOUT",
            "5000"
        ]),
        "+OK\r\n"
    );
    wait_until("r1 to become master", Duration::from_secs(15), || {
        field(&r1, "replication", "role") == "master"
    });
    wait_until(
        "the old master to follow r1",
        Duration::from_secs(15),
        || {
            field(&master, "replication", "role") == "slave"
                && field(&master, "replication", "master_link_status") == "up"
        },
    );
    assert_eq!(
        field(&master, "replication", "master_port"),
        r1.port.to_string()
    );
    wait_until("the failover to complete", Duration::from_secs(5), || {
        field(&master, "replication", "master_failover_state") == "no-failover"
    });
    // No write lost, the old master resynced partially.
    assert_eq!(stat(&r1, "sync_full"), 0);
    r1.conn().c(&["SET", "new", "master"]);
    wait_caught_up(&r1, &master);
    assert_eq!(digest(&r1), digest(&master));
    // r2 still follows the old master: point it at r1, then fail over to any.
    r2.conn()
        .c(&["REPLICAOF", "127.0.0.1", &r1.port.to_string()]);
    wait_linked(&r2);
    assert_eq!(r1.conn().c(&["FAILOVER"]), "+OK\r\n");
    wait_until("r1 to hand over", Duration::from_secs(15), || {
        field(&r1, "replication", "role") == "slave"
            && field(&r1, "replication", "master_link_status") == "up"
    });
    let new_master_port = field(&r1, "replication", "master_port");
    assert!(new_master_port == master.port.to_string() || new_master_port == r2.port.to_string());
}

#[test]
fn failover_timeout_aborts_and_force_proceeds() {
    let master = tripod(&[]);
    let r1 = replica_of(&master, &[], false);
    wait_caught_up(&master, &r1);
    // Keep the replica from acknowledging: pause it (all commands, incl. its link).
    let mut m = master.conn();
    // A replica that is stopped (SIGSTOP) cannot ack: the failover times out.
    common::unsafe_kill(r1.pid, 19);
    m.c(&["SET", "x", "1"]);
    assert_eq!(
        m.c(&[
            "FAILOVER",
            "TO",
            "127.0.0.1",
            &r1.port.to_string(),
            "TIMEOUT",
            "300"
        ]),
        "+OK\r\n"
    );
    assert_eq!(
        field(&master, "replication", "master_failover_state"),
        "waiting-for-sync"
    );
    wait_until("the failover to abort", Duration::from_secs(10), || {
        field(&master, "replication", "master_failover_state") == "no-failover"
    });
    assert_eq!(field(&master, "replication", "role"), "master");
    // Writes work again after the abort.
    assert_eq!(m.c(&["SET", "y", "2"]), "+OK\r\n");
    // ABORT while waiting.
    assert_eq!(m.c(&["FAILOVER", "TIMEOUT", "60000"]), "+OK\r\n");
    assert_eq!(m.c(&["FAILOVER", "ABORT"]), "+OK\r\n");
    assert_eq!(
        field(&master, "replication", "master_failover_state"),
        "no-failover"
    );
    // FORCE: proceed after the timeout even though the replica did not ack.
    common::unsafe_kill(r1.pid, 18);
    wait_caught_up(&master, &r1);
    assert_eq!(
        m.c(&[
            "FAILOVER",
            "TO",
            "127.0.0.1",
            &r1.port.to_string(),
            "TIMEOUT",
            "200",
            "FORCE"
        ]),
        "+OK\r\n"
    );
    wait_until("the forced failover", Duration::from_secs(15), || {
        field(&r1, "replication", "role") == "master"
            && field(&master, "replication", "role") == "slave"
    });
}

fn interop(master_is_redis: bool, diskless: &str) {
    let opts = ["--repl-diskless-sync", diskless];
    let master = if master_is_redis {
        redis(&opts)
    } else {
        tripod(&opts)
    };
    fill_mixed(&mut master.conn());
    let replica = replica_of(&master, &[], !master_is_redis);
    // The live stream under write load.
    write_some(&master, "live", 500);
    wait_caught_up(&master, &replica);
    assert_eq!(digest(&master), digest(&replica));
    assert_eq!(dump(&mut master.conn(), 16), dump(&mut replica.conn(), 16));
    // Kill the link: partial resync.
    let partial = stat(&master, "sync_partial_ok");
    let full = stat(&master, "sync_full");
    master.conn().c(&["CLIENT", "KILL", "TYPE", "replica"]);
    write_some(&master, "after", 200);
    wait_linked(&replica);
    wait_caught_up(&master, &replica);
    assert_eq!(stat(&master, "sync_partial_ok"), partial + 1);
    assert_eq!(stat(&master, "sync_full"), full);
    assert_eq!(digest(&master), digest(&replica));
}

#[test]
fn redis_master_feeds_a_tripod_replica() {
    interop(true, "yes");
    interop(true, "no");
}

#[test]
fn tripod_master_feeds_a_redis_replica() {
    interop(false, "yes");
    interop(false, "no");
}

#[test]
fn disk_and_diskless_full_syncs_give_the_same_data() {
    for mode in ["yes", "no"] {
        let master = tripod(&["--repl-diskless-sync", mode]);
        fill_mixed(&mut master.conn());
        let r1 = replica_of(&master, &[], false);
        let r2 = replica_of(&master, &[], false);
        write_some(&master, "m", 100);
        wait_caught_up(&master, &r1);
        wait_caught_up(&master, &r2);
        assert_eq!(digest(&master), digest(&r1));
        assert_eq!(digest(&master), digest(&r2));
        let log = std::fs::read_to_string(master.dir.path().join("server.log")).unwrap();
        // Each replica synced on its first attempt (a damaged transfer would
        // show as a failed load and a second full sync).
        assert_eq!(stat(&master, "sync_full"), 2, "{}", log);
        for r in [&r1, &r2] {
            let rlog = std::fs::read_to_string(r.dir.path().join("server.log")).unwrap();
            assert!(!rlog.contains("Failed trying to load"), "{}", rlog);
        }
        let socket = log.contains("target: replicas sockets");
        assert_eq!(socket, mode == "yes", "{}", log);
    }
}

#[test]
fn diskless_sync_waits_for_more_replicas() {
    // With a delay, two replicas that arrive within it share one transfer.
    let master = start_tripod(&[
        "--repl-diskless-sync-delay",
        "1",
        "--enable-debug-command",
        "yes",
    ]);
    master.conn().c(&["SET", "a", "1"]);
    let port = master.port.to_string();
    let r1 = start_tripod(&[
        "--replicaof",
        "127.0.0.1",
        &port,
        "--enable-debug-command",
        "yes",
    ]);
    let r2 = start_tripod(&[
        "--replicaof",
        "127.0.0.1",
        &port,
        "--enable-debug-command",
        "yes",
    ]);
    wait_linked(&r1);
    wait_linked(&r2);
    let log = std::fs::read_to_string(master.dir.path().join("server.log")).unwrap();
    assert_eq!(
        log.matches("target: replicas sockets").count(),
        1,
        "{}",
        log
    );
    assert_eq!(r2.conn().c(&["GET", "a"]), "$1\r\n1\r\n");
}

#[test]
fn unreachable_master_and_wrong_password_leave_the_replica_serving() {
    let master = tripod(&["--requirepass", "secret"]);
    let port = master.port.to_string();
    let replica = tripod(&["--replicaof", "127.0.0.1", &port, "--masterauth", "wrong"]);
    let mut c = replica.conn();
    c.c(&["CONFIG", "SET", "replica-read-only", "no"]);
    c.c(&["SET", "old", "data"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(field(&replica, "replication", "master_link_status"), "down");
    assert_eq!(c.c(&["GET", "old"]), "$4\r\ndata\r\n");
    let log = std::fs::read_to_string(replica.dir.path().join("server.log")).unwrap();
    assert!(log.contains("Unable to AUTH to MASTER"), "{}", log);
    assert!(
        !log.contains("wrong"),
        "the password must not be logged:\n{}",
        log
    );
    // Unreachable master.
    let dead = free_port().to_string();
    let r2 = tripod(&["--replicaof", "127.0.0.1", &dead]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(field(&r2, "replication", "master_link_status"), "down");
    assert!(field(&r2, "replication", "master_link_down_since_seconds")
        .parse::<i64>()
        .is_ok());
}

/// A fake master's side of the handshake: accepts one replica, answers +OK to everything
/// before PSYNC, and returns the connection once PSYNC arrived (None if the replica left).
fn fake_master_handshake(listener: &std::net::TcpListener) -> Option<std::net::TcpStream> {
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 4096];
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("PSYNC") {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        for _ in 0..text.matches('*').count() {
            if !text.contains("PSYNC") {
                let _ = s.write_all(b"+OK\r\n");
            }
        }
        seen.extend_from_slice(&buf[..n]);
    }
    Some(s)
}

/// A fake master that answers the handshake and sends a corrupt snapshot.
#[test]
fn a_corrupt_snapshot_keeps_the_old_data() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let Some(mut s) = fake_master_handshake(&listener) else {
            return;
        };
        let junk = b"REDIS0010\xfa\x09redis-verXXXXXXXXXXXXXXXXXXXXXXXXX";
        let _ = s.write_all(
            format!("+FULLRESYNC {} 0\r\n${}\r\n", "a".repeat(40), junk.len()).as_bytes(),
        );
        let _ = s.write_all(junk);
        std::thread::sleep(Duration::from_millis(500));
    });
    let replica = tripod(&["--replica-read-only", "no"]);
    let mut c = replica.conn();
    c.c(&["SET", "old", "data"]);
    c.c(&["REPLICAOF", "127.0.0.1", &port.to_string()]);
    handle.join().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(c.c(&["GET", "old"]), "$4\r\ndata\r\n");
    assert_eq!(field(&replica, "replication", "master_link_status"), "down");
    let log = std::fs::read_to_string(replica.dir.path().join("server.log")).unwrap();
    assert!(
        log.contains("Failed trying to load the MASTER synchronization DB"),
        "{}",
        log
    );
}

/// A master whose stream follows the `$EOF:` mark in the same packet (nothing stops a master
/// from sending it right away): the replica finds the mark inside what it read, loads the
/// snapshot and applies the bytes after it.
#[test]
fn stream_bytes_right_behind_the_eof_mark_are_applied() {
    let src = tripod(&[]);
    let mut sc = src.conn();
    sc.c(&["SET", "from-rdb", "1"]);
    assert_eq!(sc.c(&["SAVE"]), "+OK\r\n");
    let rdb = std::fs::read(src.dir.path().join("dump.rdb")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let Some(mut s) = fake_master_handshake(&listener) else {
            return;
        };
        let mark = "b".repeat(40);
        let mut out = format!("+FULLRESYNC {} 0\r\n$EOF:{mark}\r\n", "a".repeat(40)).into_bytes();
        out.extend_from_slice(&rdb);
        out.extend_from_slice(mark.as_bytes());
        out.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n");
        s.write_all(&out).unwrap();
        // Keep the link up (reading the replica's ACKs) while the test looks.
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if matches!(s.read(&mut buf), Ok(0)) {
                break;
            }
        }
    });
    let replica = tripod(&[]);
    let mut c = replica.conn();
    c.c(&["REPLICAOF", "127.0.0.1", &port.to_string()]);
    let deadline = Instant::now() + Duration::from_secs(3);
    while c.c(&["GET", "after"]) != "$1\r\n1\r\n" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(c.c(&["GET", "after"]), "$1\r\n1\r\n");
    assert_eq!(c.c(&["GET", "from-rdb"]), "$1\r\n1\r\n");
    handle.join().unwrap();
}

#[test]
fn garbage_on_a_replica_link_does_not_hurt_the_master() {
    let master = tripod(&[]);
    let mut fake = master.conn();
    fake.send(b"REPLCONF listening-port 1\r\n");
    fake.read_reply();
    fake.send(b"PSYNC ? -1\r\n");
    // Flood it with garbage and half commands.
    let mut junk = Vec::new();
    for i in 0..20_000u32 {
        junk.extend_from_slice(&i.to_le_bytes());
        junk.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1");
    }
    let _ = fake.s.write_all(&junk);
    drop(fake);
    let mut c = master.conn();
    assert_eq!(c.c(&["PING"]), "+PONG\r\n");
    assert_eq!(c.c(&["SET", "still", "alive"]), "+OK\r\n");
}

/// The field names of INFO replication, in order (slaveN lines by name only).
fn field_names(p: &Proc) -> Vec<String> {
    info(p, "replication")
        .lines()
        .filter(|l| l.contains(':'))
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect()
}

#[test]
fn info_replication_has_redis_fields_in_redis_order() {
    // A Redis master with a Redis replica and a tripod replica: both replicas
    // report the same fields; then the same with a tripod master.
    let rm = redis(&[]);
    let rr = replica_of(&rm, &[], true);
    let tr = replica_of(&rm, &[], false);
    wait_until("two online replicas", Duration::from_secs(10), || {
        info(&rm, "replication").matches("state=online").count() == 2
    });
    assert_eq!(field_names(&tr), field_names(&rr));
    let tm = tripod(&[]);
    let rr2 = replica_of(&tm, &[], true);
    let tr2 = replica_of(&tm, &[], false);
    wait_until("two online replicas", Duration::from_secs(10), || {
        info(&tm, "replication").matches("state=online").count() == 2
    });
    assert_eq!(field_names(&tm), field_names(&rm));
    assert_eq!(field_names(&tr2), field_names(&rr2));
    // A replica whose link is down shows the down-since field, like Redis.
    let dead = free_port().to_string();
    let a = tripod(&["--replicaof", "127.0.0.1", &dead]);
    let b = redis(&["--replicaof", "127.0.0.1", &dead]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(field_names(&a), field_names(&b));
}

/// Reads commands from the stream until one named `last` arrives.
fn stream_until(c: &mut Conn, last: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    loop {
        let r = c.read_reply();
        let args: Vec<String> = flat(&r)
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let done = args.first().is_some_and(|a| a.eq_ignore_ascii_case(last));
        if !args[0].eq_ignore_ascii_case("PING") && !args[0].eq_ignore_ascii_case("REPLCONF") {
            out.push(args);
        }
        if done {
            return out;
        }
    }
}

#[test]
fn the_stream_carries_effects_transactions_and_selects() {
    let master = tripod(&[]);
    let mut stream = raw_replica(&master);
    let mut m = master.conn();
    m.c(&["SET", "ex", "v", "EX", "100"]);
    m.c(&["SADD", "s", "a", "b", "c"]);
    m.c(&["SPOP", "s"]);
    m.c(&["INCRBYFLOAT", "f", "1.5"]);
    m.c(&["RPUSH", "l", "x"]);
    m.c(&["BLPOP", "l", "0"]);
    m.c(&["MULTI"]);
    m.c(&["SET", "t1", "1"]);
    m.c(&["INCR", "t2"]);
    m.c(&["EXEC"]);
    m.c(&["SELECT", "3"]);
    m.c(&["SET", "in3", "x"]);
    m.c(&["SELECT", "0"]);
    m.c(&["ECHO", "not propagated"]);
    m.c(&["SET", "end", "1"]);
    let cmds = stream_until(&mut stream, "SET");
    assert_eq!(cmds[0], vec!["SELECT", "0"]);
    // SET EX becomes an absolute expiry.
    assert_eq!(cmds[1][0].to_ascii_uppercase(), "SET");
    assert!(
        cmds[1].iter().any(|a| a.eq_ignore_ascii_case("PXAT")),
        "{:?}",
        cmds[1]
    );
    let rest = stream_until(&mut stream, "SET");
    let rest2 = stream_until(&mut stream, "SET");
    let all: Vec<Vec<String>> = cmds.into_iter().chain(rest).chain(rest2).collect();
    let names: Vec<String> = all.iter().map(|a| a[0].to_ascii_uppercase()).collect();
    // SPOP without count becomes SREM of the popped member.
    assert!(names.contains(&"SREM".to_string()), "{:?}", all);
    assert!(!names.contains(&"SPOP".to_string()), "{:?}", all);
    // INCRBYFLOAT becomes SET ... KEEPTTL.
    let fl = all.iter().find(|a| a[1] == "f").unwrap();
    assert_eq!(fl[0].to_ascii_uppercase(), "SET");
    assert_eq!(fl[2], "1.5");
    assert!(
        fl.iter().any(|a| a.eq_ignore_ascii_case("KEEPTTL")),
        "{:?}",
        fl
    );
    // BLPOP becomes LPOP.
    assert!(
        all.iter()
            .any(|a| a[0].eq_ignore_ascii_case("LPOP") && a[1] == "l"),
        "{:?}",
        all
    );
    // The rest arrives in order: a MULTI/EXEC block, SELECT 3, the write in db 3.
    let mut more = stream_until(&mut stream, "SET");
    while !more.iter().any(|a| a.len() > 1 && a[1] == "end") {
        more.extend(stream_until(&mut stream, "SET"));
    }
    let tail: Vec<Vec<String>> = all
        .into_iter()
        .chain(more)
        .skip_while(|a| !a[0].eq_ignore_ascii_case("MULTI"))
        .collect();
    assert_eq!(tail[0][0].to_ascii_uppercase(), "MULTI", "{:?}", tail);
    assert_eq!(tail[1], vec!["SET", "t1", "1"]);
    assert_eq!(tail[2], vec!["INCR", "t2"]);
    assert_eq!(tail[3][0].to_ascii_uppercase(), "EXEC");
    assert_eq!(tail[4], vec!["SELECT", "3"]);
    assert_eq!(tail[5], vec!["SET", "in3", "x"]);
    assert_eq!(tail[6], vec!["SELECT", "0"]);
    assert_eq!(tail[7], vec!["SET", "end", "1"]);
}

#[test]
fn an_expired_backlog_means_a_full_resync() {
    let master = tripod(&["--repl-backlog-ttl", "1"]);
    let replica = replica_of(&master, &[], false);
    write_some(&master, "ttl", 10);
    wait_caught_up(&master, &replica);
    let full = stat(&master, "sync_full");
    // Break the link while the replica keeps its position.
    let mut rc = replica.conn();
    rc.c(&["REPLICAOF", "127.0.0.1", "1"]);
    wait_until("the backlog to be freed", Duration::from_secs(10), || {
        field(&master, "replication", "repl_backlog_active") == "0"
    });
    rc.c(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    wait_linked(&replica);
    wait_caught_up(&master, &replica);
    assert_eq!(stat(&master, "sync_full"), full + 1);
    assert_eq!(digest(&master), digest(&replica));
}

#[test]
fn shutdown_waits_for_lagging_replicas_and_can_be_aborted() {
    let mut master = tripod(&["--shutdown-timeout", "2"]);
    let replica = replica_of(&master, &[], false);
    wait_caught_up(&master, &replica);
    // A stopped replica cannot acknowledge: SHUTDOWN waits, ABORT cancels it.
    common::unsafe_kill(replica.pid, 19);
    let mut m = master.conn();
    m.c(&["SET", "last", "write"]);
    m.send(&encode(&[b"SHUTDOWN"]));
    std::thread::sleep(Duration::from_millis(300));
    let mut other = master.conn();
    assert_eq!(other.c(&["SHUTDOWN", "ABORT"]), "+OK\r\n");
    assert_eq!(
        m.read_reply(),
        b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    assert_eq!(other.c(&["SET", "writes", "work again"]), "+OK\r\n");
    assert_eq!(
        other.c(&["SHUTDOWN", "ABORT"]),
        "-ERR No shutdown in progress.\r\n"
    );
    // Once the replica is back, SHUTDOWN waits for it to catch up, then exits:
    // the replica holds the last write.
    common::unsafe_kill(replica.pid, 18);
    other.c(&["SET", "final", "1"]);
    other.send(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
    let _ = other.read_to_close();
    let st = master.terminate();
    assert!(st.is_some());
    wait_until(
        "the final write on the replica",
        Duration::from_secs(5),
        || replica.conn().c(&["GET", "final"]) == "$1\r\n1\r\n",
    );
}

/// CLIENT PAUSE WRITE on a replica holds its master's stream back, as Redis
/// 7.0 does: the bytes are read (slave_read_repl_offset) but not applied
/// (slave_repl_offset) until the pause ends. Same behaviour from redis-server.
#[test]
fn a_paused_replica_reads_its_master_stream_without_applying_it() {
    for bin_redis in [false, true] {
        let master = if bin_redis { redis(&[]) } else { tripod(&[]) };
        let replica = replica_of(&master, &[], bin_redis);
        let mut m = master.conn();
        m.c(&["SET", "before", "1"]);
        let offset = || field(&master, "replication", "master_repl_offset");
        let target = offset();
        wait_until("the replica to catch up", Duration::from_secs(10), || {
            field(&replica, "replication", "slave_repl_offset") == target
        });
        let mut r = replica.conn();
        assert_eq!(r.c(&["CLIENT", "PAUSE", "100000", "WRITE"]), "+OK\r\n");
        m.c(&["SET", "during", "2"]);
        let grown = offset();
        wait_until(
            "the replica to read the write",
            Duration::from_secs(10),
            || field(&replica, "replication", "slave_read_repl_offset") == grown,
        );
        assert_eq!(
            field(&replica, "replication", "slave_repl_offset"),
            target,
            "redis: {bin_redis}"
        );
        assert_eq!(r.c(&["GET", "during"]), "$-1\r\n", "redis: {bin_redis}");
        assert_eq!(r.c(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
        wait_until(
            "the replica to apply the write",
            Duration::from_secs(10),
            || field(&replica, "replication", "slave_repl_offset") == grown,
        );
        assert_eq!(r.c(&["GET", "during"]), "$1\r\n2\r\n");
    }
}
