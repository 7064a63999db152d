//! Streams against real Redis 7.0: replies byte for byte (RESP2 and RESP3),
//! blocking reads, replication of consumer-group state both ways (PELs equal
//! on master and replica), and RDB files with groups exchanged both ways and
//! checked by redis-check-rdb.
mod common;
use common::*;
use std::time::Duration;

fn args(line: &str) -> Vec<Vec<u8>> {
    line.split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| s.as_bytes().to_vec())
        .collect()
}

fn run(c: &mut Conn, line: &str) -> Vec<u8> {
    let a = args(line);
    let refs: Vec<&[u8]> = a.iter().map(|x| &x[..]).collect();
    c.cmd(&refs)
}

/// Every line of scripts/streams.txt goes to both servers; replies must be
/// identical (`! ` lines are sent without comparing).
#[test]
fn replies_match_redis_byte_for_byte() {
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    let (mut r, mut t) = (redis.conn(), tripod.conn());
    let mut failures = Vec::new();
    let mut n = 0;
    for (i, raw) in include_str!("scripts/streams.txt").lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (ignored, line) = match line.strip_prefix("! ") {
            Some(l) => (true, l),
            None => (false, line),
        };
        let (w, g) = (run(&mut r, line), run(&mut t, line));
        if ignored {
            continue;
        }
        n += 1;
        if w != g {
            failures.push(format!(
                "line {}: {}\n   redis: {:?}\n  tripod: {:?}",
                i + 1,
                line,
                String::from_utf8_lossy(&w),
                String::from_utf8_lossy(&g)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// XINFO STREAM FULL without consumers' seen-times (not replicated by Redis
/// either): entries, counters, groups, PELs with delivery times and counts.
fn full_state(c: &mut Conn, key: &str) -> String {
    let s = c.c(&["XINFO", "STREAM", key, "FULL", "COUNT", "0"]);
    let lines: Vec<&str> = s.split("\r\n").collect();
    let mut out = Vec::new();
    let mut skip = false;
    for l in lines {
        if skip {
            skip = false;
            continue;
        }
        if l == "seen-time" {
            skip = true;
        }
        out.push(l);
    }
    out.join("\n")
}

/// A consumer-group workload: reads, NOACK reads, acks, claims, autoclaims,
/// deletions, trims, group and consumer management.
fn workload(c: &mut Conn) {
    for i in 0..50 {
        c.c(&["XADD", "jobs", "*", "n", &i.to_string(), "payload", "abc"]);
    }
    c.c(&["XADD", "jobs", "MAXLEN", "~", "40", "*", "n", "last"]);
    c.c(&["XGROUP", "CREATE", "jobs", "workers", "0"]);
    c.c(&["XGROUP", "CREATE", "jobs", "audit", "$"]);
    c.c(&[
        "XREADGROUP",
        "GROUP",
        "workers",
        "alice",
        "COUNT",
        "10",
        "STREAMS",
        "jobs",
        ">",
    ]);
    c.c(&[
        "XREADGROUP",
        "GROUP",
        "workers",
        "bob",
        "COUNT",
        "5",
        "STREAMS",
        "jobs",
        ">",
    ]);
    c.c(&[
        "XREADGROUP",
        "GROUP",
        "workers",
        "carol",
        "NOACK",
        "COUNT",
        "3",
        "STREAMS",
        "jobs",
        ">",
    ]);
    let pending = c.c(&["XPENDING", "jobs", "workers", "-", "+", "3", "alice"]);
    let ids: Vec<String> = pending
        .split("\r\n")
        .filter(|l| l.contains('-') && !l.starts_with('$') && !l.starts_with('*'))
        .map(|s| s.to_string())
        .collect();
    for id in &ids {
        c.c(&["XACK", "jobs", "workers", id]);
    }
    c.c(&["XCLAIM", "jobs", "workers", "bob", "0", "0-1", "+", "FORCE"]);
    let bobs = c.c(&["XPENDING", "jobs", "workers", "-", "+", "2", "bob"]);
    for id in bobs
        .split("\r\n")
        .filter(|l| l.contains('-') && !l.starts_with('$') && !l.starts_with('*'))
    {
        c.c(&[
            "XCLAIM",
            "jobs",
            "workers",
            "dave",
            "0",
            id,
            "RETRYCOUNT",
            "5",
        ]);
    }
    c.c(&[
        "XAUTOCLAIM",
        "jobs",
        "workers",
        "erin",
        "0",
        "0",
        "COUNT",
        "4",
    ]);
    c.c(&["XDEL", "jobs", &ids.first().cloned().unwrap_or_default()]);
    c.c(&["XGROUP", "CREATECONSUMER", "jobs", "workers", "frank"]);
    c.c(&["XGROUP", "DELCONSUMER", "jobs", "workers", "carol"]);
    c.c(&["XGROUP", "CREATE", "other", "g", "$", "MKSTREAM"]);
    c.c(&["XADD", "other", "1-1", "f", "v"]);
    c.c(&[
        "XSETID",
        "other",
        "5-0",
        "ENTRIESADDED",
        "9",
        "MAXDELETEDID",
        "2-0",
    ]);
    c.c(&["XTRIM", "jobs", "MINID", "~", "0-0"]);
}

fn wait_synced(master: &mut Conn, replica: &mut Conn) {
    wait_until("replica caught up", Duration::from_secs(20), || {
        let d1 = master.c(&["DEBUG", "DIGEST"]);
        let d2 = replica.c(&["DEBUG", "DIGEST"]);
        d1 == d2 && !d1.contains("0000000000000000000000000000000000000000")
    });
}

fn replicate(master: &Proc, replica: &Proc) {
    let mut m = master.conn();
    let mut r = replica.conn();
    m.c(&["XADD", "before-sync", "1-1", "a", "b"]);
    assert_eq!(
        r.c(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        "+OK\r\n"
    );
    wait_synced(&mut m, &mut r);
    workload(&mut m);
    wait_synced(&mut m, &mut r);
    for key in ["jobs", "other", "before-sync"] {
        assert_eq!(full_state(&mut m, key), full_state(&mut r, key), "{key}");
    }
    // A full resync carries the groups in the RDB payload too.
    let mut r2 = replica.conn();
    r2.c(&["REPLICAOF", "NO", "ONE"]);
    r2.c(&["FLUSHALL"]);
    r2.c(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    wait_synced(&mut m, &mut r2);
    for key in ["jobs", "other"] {
        assert_eq!(full_state(&mut m, key), full_state(&mut r2, key), "{key}");
    }
}

#[test]
fn groups_replicate_to_a_real_redis_replica() {
    let master = start_tripod(&["--enable-debug-command", "yes"]);
    let replica = start_redis(&["--enable-debug-command", "yes"]);
    replicate(&master, &replica);
}

#[test]
fn groups_replicate_from_a_real_redis_master() {
    let master = start_redis(&["--enable-debug-command", "yes"]);
    let replica = start_tripod(&["--enable-debug-command", "yes"]);
    replicate(&master, &replica);
}

fn rdb_exchange(writer: &std::path::Path, reader: &std::path::Path) {
    let dir = tempfile::tempdir().unwrap();
    let a = start_in(writer, dir.path(), &["--enable-debug-command", "yes"]);
    let mut c = a.conn();
    workload(&mut c);
    c.c(&["XADD", "empty", "1-1", "a", "b"]);
    c.c(&["XDEL", "empty", "1-1"]);
    let keys = ["jobs", "other", "empty"];
    let want: Vec<String> = keys.iter().map(|k| full_state(&mut c, k)).collect();
    let digest = c.c(&["DEBUG", "DIGEST"]);
    assert_eq!(c.c(&["SAVE"]), "+OK\r\n");
    drop(c);
    drop(a);
    let check = std::process::Command::new("redis-check-rdb")
        .arg(dir.path().join("dump.rdb"))
        .output();
    if let Ok(out) = check {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let b = start_in(reader, dir.path(), &["--enable-debug-command", "yes"]);
    let mut c = b.conn();
    let got: Vec<String> = keys.iter().map(|k| full_state(&mut c, k)).collect();
    assert_eq!(want, got);
    assert_eq!(digest, c.c(&["DEBUG", "DIGEST"]));
}

#[test]
fn rdb_with_groups_from_tripod_to_redis() {
    rdb_exchange(&tripod_server_bin(), &redis_server_bin().unwrap());
}

#[test]
fn rdb_with_groups_from_redis_to_tripod() {
    rdb_exchange(&redis_server_bin().unwrap(), &tripod_server_bin());
}

/// Blocking reads on both servers: woken by XADD, by XGROUP DESTROY (NOGROUP),
/// by the key's deletion (UNBLOCKED), or timing out; replies compared.
#[test]
fn blocking_reads_match_redis() {
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    let scenario = |p: &Proc| -> Vec<Vec<u8>> {
        let mut c = p.conn();
        let mut out = Vec::new();
        c.c(&["XADD", "s", "1-0", "f", "v"]);
        c.c(&["XGROUP", "CREATE", "s", "g", "$"]);
        let mut waiters: Vec<(Conn, &str)> = vec![
            (p.conn(), "XREAD BLOCK 0 STREAMS s $"),
            (p.conn(), "XREADGROUP GROUP g alice BLOCK 0 STREAMS s >"),
            (p.conn(), "XREAD BLOCK 0 COUNT 1 STREAMS s 1-0"),
        ];
        for (w, line) in waiters.iter_mut() {
            let a = args(line);
            let refs: Vec<&[u8]> = a.iter().map(|x| &x[..]).collect();
            w.send(&encode(&refs));
        }
        wait_until("3 blocked", Duration::from_secs(5), || {
            c.c(&["INFO", "clients"]).contains("blocked_clients:3")
        });
        c.c(&["XADD", "s", "2-0", "f", "w"]);
        for (w, _) in waiters.iter_mut() {
            out.push(w.read_reply());
        }
        out.push(c.c(&["XPENDING", "s", "g"]).into_bytes());
        // Group destroyed and key deleted while blocked.
        let mut w1 = p.conn();
        w1.send(&encode(&[
            b"XREADGROUP",
            b"GROUP",
            b"g",
            b"bob",
            b"BLOCK",
            b"0",
            b"STREAMS",
            b"s",
            b">",
        ]));
        wait_until("blocked", Duration::from_secs(5), || {
            c.c(&["INFO", "clients"]).contains("blocked_clients:1")
        });
        c.c(&["XGROUP", "DESTROY", "s", "g"]);
        out.push(w1.read_reply());
        c.c(&["XGROUP", "CREATE", "s", "g", "$"]);
        w1.send(&encode(&[
            b"XREADGROUP",
            b"GROUP",
            b"g",
            b"bob",
            b"BLOCK",
            b"0",
            b"STREAMS",
            b"s",
            b">",
        ]));
        wait_until("blocked", Duration::from_secs(5), || {
            c.c(&["INFO", "clients"]).contains("blocked_clients:1")
        });
        c.c(&["DEL", "s"]);
        out.push(w1.read_reply());
        out.push(run(&mut w1, "XREAD BLOCK 50 STREAMS s $"));
        c.c(&["MULTI"]);
        c.c(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        out.push(c.c(&["EXEC"]).into_bytes());
        out
    };
    let want = scenario(&redis);
    let got = scenario(&tripod);
    for (w, g) in want.iter().zip(got.iter()) {
        assert_eq!(String::from_utf8_lossy(w), String::from_utf8_lossy(g));
    }
}
