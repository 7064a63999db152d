//! Stateful server behaviour that a reply-by-reply script can't show: expiry over
//! time, MONITOR, CLIENT PAUSE/KILL/REPLY, INFO's structure next to real Redis.
mod common;
use common::*;
use std::time::{Duration, Instant};

fn field_names(info: &str) -> Vec<String> {
    info.lines()
        .filter(|l| {
            !l.starts_with("cmdstat_")
                && !l.starts_with("errorstat_")
                && !l.starts_with("latency_percentiles")
        })
        .filter(|l| !l.starts_with("tripod_version") && !l.starts_with("$"))
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect()
}

#[test]
fn info_has_redis_sections_fields_and_order() {
    let r = start_redis(&[]);
    let t = start_tripod(&[]);
    for section in [
        "",
        "everything",
        "server",
        "replication",
        "persistence",
        "stats",
        "memory",
        "clients",
        "keyspace",
    ] {
        let args: Vec<&[u8]> = if section.is_empty() {
            vec![b"INFO"]
        } else {
            vec![b"INFO", section.as_bytes()]
        };
        let want = String::from_utf8(r.conn().cmd(&args)).unwrap();
        let got = String::from_utf8(t.conn().cmd(&args)).unwrap();
        assert_eq!(field_names(&got), field_names(&want), "INFO {}", section);
    }
    let info = String::from_utf8(t.conn().cmd(&[b"INFO", b"server"])).unwrap();
    assert!(info.contains("redis_version:7.0.15\r\n"));
    assert!(info.contains("tripod_version:"));
}

/// SMOVE of a member the destination already has leaves the destination
/// unchanged, so a transaction watching it still runs (Redis's suite:
/// "SMOVE only notify dstset when the addition is successful").
#[test]
fn smove_to_a_set_that_has_the_member_does_not_touch_watchers() {
    let s = start_tripod(&[]);
    let (mut a, mut b) = (s.conn(), s.conn());
    a.c(&["SADD", "src", "a", "b"]);
    a.c(&["SADD", "dst", "a"]);
    a.c(&["WATCH", "dst"]);
    a.c(&["MULTI"]);
    a.c(&["SADD", "dst", "c"]);
    assert_eq!(b.c(&["SMOVE", "src", "dst", "a"]), ":1\r\n");
    assert_eq!(a.c(&["EXEC"]), "*1\r\n:1\r\n");
    assert_eq!(a.c(&["SCARD", "dst"]), ":2\r\n");
    // A member that is new there does touch it.
    a.c(&["WATCH", "dst"]);
    a.c(&["MULTI"]);
    a.c(&["SADD", "dst", "d"]);
    assert_eq!(b.c(&["SMOVE", "src", "dst", "b"]), ":1\r\n");
    assert_eq!(a.c(&["EXEC"]), "*-1\r\n");
}

#[test]
fn keys_expire_lazily_and_actively() {
    let s = start_tripod(&[]);
    let mut c = s.conn();
    for i in 0..200 {
        c.cmd(&[
            b"SET",
            format!("short:{}", i).as_bytes(),
            b"v",
            b"PX",
            b"100",
        ]);
    }
    c.cmd(&[b"SET", b"lazy", b"v", b"PX", b"50"]);
    c.cmd(&[b"SET", b"keep", b"v"]);
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(c.cmd(&[b"GET", b"lazy"]), b"$-1\r\n");
    assert_eq!(c.cmd(&[b"EXISTS", b"short:1"]), b":0\r\n");
    // The active cycle removes the rest without anyone touching them.
    wait_until("active expiry", Duration::from_secs(5), || {
        c.cmd(&[b"DBSIZE"]) == b":1\r\n"
    });
    let info = String::from_utf8(c.cmd(&[b"INFO", b"stats"])).unwrap();
    assert!(info.contains("expired_keys:201\r\n"), "{}", info);
}

#[test]
fn monitor_shows_commands_of_other_clients() {
    let s = start_tripod(&[]);
    let mut m = s.conn();
    assert_eq!(m.cmd(&[b"MONITOR"]), b"+OK\r\n");
    let mut c = s.conn();
    c.cmd(&[b"SET", b"key with space", b"va\"l"]);
    let line = String::from_utf8(m.read_reply()).unwrap();
    // +1700000000.123456 [0 127.0.0.1:5555] "SET" "key with space" "va\"l"
    assert!(line.starts_with('+'), "{}", line);
    assert!(line.contains(" [0 127.0.0.1:"), "{}", line);
    assert!(
        line.ends_with("] \"SET\" \"key with space\" \"va\\\"l\"\r\n"),
        "{}",
        line
    );
}

#[test]
fn client_pause_write_delays_writes_only() {
    let s = start_tripod(&[]);
    let mut admin = s.conn();
    assert_eq!(
        admin.cmd(&[b"CLIENT", b"PAUSE", b"300", b"WRITE"]),
        b"+OK\r\n"
    );
    let mut c = s.conn();
    let t0 = Instant::now();
    assert_eq!(c.cmd(&[b"GET", b"k"]), b"$-1\r\n");
    assert!(
        t0.elapsed() < Duration::from_millis(250),
        "reads are not paused"
    );
    assert_eq!(c.cmd(&[b"SET", b"k", b"v"]), b"+OK\r\n");
    assert!(
        t0.elapsed() >= Duration::from_millis(250),
        "writes wait for the pause to end"
    );
    // UNPAUSE releases waiting writers at once.
    admin.cmd(&[b"CLIENT", b"PAUSE", b"10000", b"WRITE"]);
    let port = s.port;
    let h = std::thread::spawn(move || {
        let mut w = Conn::connect(port);
        let t = Instant::now();
        assert_eq!(w.cmd(&[b"INCR", b"n"]), b":1\r\n");
        t.elapsed()
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(admin.cmd(&[b"CLIENT", b"UNPAUSE"]), b"+OK\r\n");
    let waited = h.join().unwrap();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(5),
        "{:?}",
        waited
    );
}

/// During CLIENT PAUSE WRITE a script that declares no-writes runs, a plain
/// EVAL (which may write) and a transaction holding one wait; keys that expire
/// meanwhile read as missing but are not deleted (no DEL is propagated) until
/// the pause ends. Same replies and counters from redis-server.
#[test]
fn client_pause_write_holds_scripts_and_expiry_as_redis() {
    for name in ["tripod", "redis"] {
        let s = start_server(name, &[]);
        let mut admin = s.conn();
        admin.c(&["SET", "k", "v", "PX", "50"]);
        // A transaction queued before the pause (queueing a write during it
        // is postponed too).
        let mut t = s.conn();
        t.c(&["MULTI"]);
        t.c(&["EVAL", "#!lua\nreturn 2", "0"]);
        admin.c(&["CLIENT", "PAUSE", "100000", "WRITE"]);
        let mut c = s.conn();
        assert_eq!(
            c.c(&[
                "EVAL",
                "#!lua flags=no-writes\nreturn redis.call('get','k')",
                "0"
            ]),
            "$1\r\nv\r\n",
            "{name}"
        );
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(c.c(&["GET", "k"]), "$-1\r\n", "{name}");
        let expired = |c: &mut Conn| {
            c.c(&["INFO", "stats"])
                .lines()
                .find_map(|l| l.strip_prefix("expired_keys:").map(str::to_string))
                .unwrap()
        };
        assert_eq!(expired(&mut c), "0", "{name}: nothing deleted while paused");
        let mut w = s.conn();
        w.send(&encode(&[b"EVAL", b"return 1", b"0"]));
        t.send(&encode(&[b"EXEC"]));
        wait_until("both to be postponed", Duration::from_secs(5), || {
            admin.c(&["INFO", "clients"]).contains("blocked_clients:2")
        });
        admin.c(&["CLIENT", "UNPAUSE"]);
        assert_eq!(w.read_reply(), b":1\r\n");
        assert_eq!(t.read_reply(), b"*1\r\n:2\r\n");
        assert_eq!(c.c(&["GET", "k"]), "$-1\r\n");
        assert_eq!(expired(&mut c), "1", "{name}");
    }
}

#[test]
fn client_kill_list_and_reply_modes() {
    let s = start_tripod(&[]);
    let mut a = s.conn();
    let mut b = s.conn();
    b.cmd(&[b"CLIENT", b"SETNAME", b"victim"]);
    let id = String::from_utf8(b.cmd(&[b"CLIENT", b"ID"])).unwrap();
    let id = id.trim_start_matches(':').trim().to_string();
    let list = String::from_utf8(a.cmd(&[b"CLIENT", b"LIST"])).unwrap();
    assert!(
        list.contains(&format!("id={} ", id)) && list.contains("name=victim"),
        "{}",
        list
    );
    assert!(list.contains("cmd=client|list"), "{}", list);
    assert_eq!(
        a.cmd(&[b"CLIENT", b"KILL", b"ID", id.as_bytes()]),
        b":1\r\n"
    );
    assert!(b.read_to_close().is_empty());
    // CLIENT REPLY OFF / SKIP / ON.
    a.send(&encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    a.send(&encode(&[b"SET", b"x", b"1"]));
    a.send(&encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    a.send(&encode(&[b"CLIENT", b"REPLY", b"ON"]));
    assert_eq!(a.read_reply(), b"+OK\r\n");
    a.send(&encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    a.send(&encode(&[b"GET", b"x"]));
    assert_eq!(a.cmd(&[b"GET", b"x"]), b"$1\r\n1\r\n");
    // CLIENT KILL TYPE normal SKIPME yes leaves the caller alive.
    let mut c = s.conn();
    // Make sure the server has registered it (connect returns before accept).
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(a.cmd(&[b"CLIENT", b"KILL", b"TYPE", b"normal"]), b":1\r\n");
    assert!(c.read_to_close().is_empty());
    assert_eq!(a.cmd(&[b"PING"]), b"+PONG\r\n");
}

#[test]
fn debug_sleep_blocks_the_server_like_redis() {
    let s = start_tripod(&["--enable-debug-command", "yes"]);
    let port = s.port;
    let h = std::thread::spawn(move || Conn::connect(port).cmd(&[b"DEBUG", b"SLEEP", b"0.3"]));
    std::thread::sleep(Duration::from_millis(50));
    let t0 = Instant::now();
    assert_eq!(s.conn().cmd(&[b"PING"]), b"+PONG\r\n");
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert_eq!(h.join().unwrap(), b"+OK\r\n");
}

#[test]
fn swapdb_move_and_select_keep_keys_apart() {
    let s = start_tripod(&["--databases", "4"]);
    let mut c = s.conn();
    c.cmd(&[b"SET", b"a", b"0"]);
    assert_eq!(c.cmd(&[b"SELECT", b"3"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&[b"SELECT", b"4"]),
        b"-ERR DB index is out of range\r\n"
    );
    c.cmd(&[b"SET", b"a", b"3"]);
    assert_eq!(c.cmd(&[b"SWAPDB", b"0", b"3"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"GET", b"a"]), b"$1\r\n0\r\n");
    c.cmd(&[b"SELECT", b"0"]);
    assert_eq!(c.cmd(&[b"GET", b"a"]), b"$1\r\n3\r\n");
    let info = String::from_utf8(c.cmd(&[b"INFO", b"keyspace"])).unwrap();
    assert!(
        info.contains("db0:keys=1,expires=0,avg_ttl=0") && info.contains("db3:keys=1"),
        "{}",
        info
    );
}

#[test]
fn debug_populate_and_digest_match_redis() {
    let args = ["--enable-debug-command", "yes"];
    let (r, t) = (start_redis(&args), start_tripod(&args));
    for p in [&r, &t] {
        let mut c = p.conn();
        assert_eq!(c.c(&["DEBUG", "POPULATE", "1000"]), "+OK\r\n");
        assert_eq!(c.c(&["DEBUG", "POPULATE", "10", "pfx", "20"]), "+OK\r\n");
        assert_eq!(c.c(&["DEBUG", "POPULATE", "5", "short", "3"]), "+OK\r\n");
        assert_eq!(c.c(&["DBSIZE"]), ":1015\r\n");
    }
    let (mut rc, mut tc) = (r.conn(), t.conn());
    assert_eq!(rc.c(&["GET", "pfx:3"]), tc.c(&["GET", "pfx:3"]));
    assert_eq!(rc.c(&["DEBUG", "DIGEST"]), tc.c(&["DEBUG", "DIGEST"]));
    assert_eq!(
        rc.c(&["DEBUG", "DIGEST-VALUE", "key:1", "nosuch"]),
        tc.c(&["DEBUG", "DIGEST-VALUE", "key:1", "nosuch"])
    );
}

#[test]
fn random_members_with_a_count_are_distinct_and_exist() {
    let s = start_tripod(&[]);
    let mut c = s.conn();
    let mut batch = Vec::new();
    for i in 0..5000 {
        let m = format!("m{}", i);
        batch.extend_from_slice(&encode(&[b"SADD", b"s", m.as_bytes()]));
        batch.extend_from_slice(&encode(&[
            b"ZADD",
            b"z",
            i.to_string().as_bytes(),
            m.as_bytes(),
        ]));
        batch.extend_from_slice(&encode(&[b"HSET", b"h", m.as_bytes(), b"v"]));
    }
    c.send(&batch);
    for _ in 0..15000 {
        c.read_reply();
    }
    for (cmd, per) in [("SRANDMEMBER", 1), ("ZRANDMEMBER", 1), ("HRANDFIELD", 1)] {
        for count in ["10", "1000", "4000"] {
            let key = match cmd {
                "SRANDMEMBER" => "s",
                "ZRANDMEMBER" => "z",
                _ => "h",
            };
            let items = flat(&c.cmd(&[cmd.as_bytes(), key.as_bytes(), count.as_bytes()]));
            let n: usize = count.parse().unwrap();
            assert_eq!(items.len(), n * per, "{} {}", cmd, count);
            let distinct: std::collections::HashSet<_> = items.iter().collect();
            assert_eq!(distinct.len(), n, "{} {} must be distinct", cmd, count);
            assert!(items.iter().all(|m| m.starts_with(b"m")));
        }
    }
}

/// INFO errorstats and commandstats count each error once, where Redis counts
/// it: a command inside EXEC or a script counts its own failure (or rejection),
/// EXEC and EVAL count as failed only for errors they reply themselves or pass
/// on, a known command with the wrong arity counts a rejected call. The
/// sections (without timings) equal redis-server's after the same requests.
#[test]
fn error_statistics_count_as_redis() {
    let mut outputs = Vec::new();
    for name in ["tripod", "redis"] {
        let s = start_server(name, &[]);
        let mut c = s.conn();
        c.c(&["CONFIG", "RESETSTAT"]);
        c.c(&["CONFIG", "SET", "maxmemory", "1"]);
        c.c(&["EVAL", "return redis.call('set','x','y')", "1", "x"]);
        c.c(&["EVAL", "return redis.pcall('set','x','y')", "1", "x"]);
        c.c(&[
            "EVAL",
            "local t = redis.pcall('set','x','y') return 1",
            "1",
            "x",
        ]);
        c.c(&["CONFIG", "SET", "maxmemory", "0"]);
        c.c(&["EVAL", "return redis.call('select',99)", "0"]);
        c.c(&["EVAL", "redis.pcall('select',99) return 1", "0"]);
        c.c(&["EVAL", "return redis.error_reply('MY_ERR custom')", "0"]);
        c.c(&["EVAL", "return foo", "0"]);
        c.c(&["EVAL", "return redis.call('nosuch')", "0"]);
        c.c(&["EVAL", "return redis.call('get')", "0"]);
        c.c(&["EVAL_RO", "return redis.pcall('set','a','b')", "0"]);
        c.c(&["SET", "k"]);
        c.c(&["CONFIG"]);
        c.c(&["NOSUCHCOMMAND"]);
        c.c(&["MULTI"]);
        c.c(&["SET", "a", "b"]);
        c.c(&["AUTH", "nopass"]);
        c.c(&["EXEC"]);
        c.c(&["EXEC"]);
        c.c(&["MULTI"]);
        c.c(&["SET"]);
        c.c(&["EXEC"]);
        let mut lines: Vec<String> = c
            .c(&["INFO", "errorstats"])
            .lines()
            .chain(c.c(&["INFO", "commandstats"]).lines())
            .filter(|l| l.contains(':') && !l.contains("cmdstat_info") && !l.starts_with('$'))
            .map(|l| match (l.find("usec="), l.find("rejected_calls")) {
                (Some(a), Some(b)) => format!("{}{}", &l[..a], &l[b..]),
                _ => l.to_string(),
            })
            .collect();
        lines.push(
            c.c(&["INFO", "stats"])
                .lines()
                .find(|l| l.starts_with("total_error_replies"))
                .unwrap()
                .to_string(),
        );
        lines.sort();
        outputs.push(lines);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert!(
        outputs[0].iter().any(|l| l == "errorstat_OOM:count=3"),
        "{:?}",
        outputs[0]
    );
}

/// WATCH and expiry as Redis 7.0: a key watched while already expired may be
/// deleted without failing EXEC; a key that expires after WATCH fails it even
/// before anything deletes it; FLUSHDB only touches watched keys that exist.
/// Same replies from redis-server.
#[test]
fn watch_of_expired_keys_as_redis() {
    for name in ["tripod", "redis"] {
        let s = start_server(name, &["--enable-debug-command", "yes"]);
        let mut c = s.conn();
        c.c(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        let exec_ping = |c: &mut Conn| {
            c.c(&["MULTI"]);
            c.c(&["PING"]);
            c.c(&["EXEC"])
        };
        // Watched while stale, then lazily deleted: no change.
        c.c(&["SET", "x", "foo", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(5));
        c.c(&["WATCH", "x"]);
        assert_eq!(c.c(&["EXISTS", "x"]), ":0\r\n", "{name}");
        assert_eq!(exec_ping(&mut c), "*1\r\n+PONG\r\n", "{name}");
        // Alive when watched, expired by EXEC time: the transaction fails.
        c.c(&["SET", "y", "v", "PX", "50"]);
        c.c(&["WATCH", "y"]);
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(exec_ping(&mut c), "*-1\r\n", "{name}");
        // FLUSHDB touches only the watched keys it removes.
        c.c(&["WATCH", "missing"]);
        c.c(&["FLUSHDB"]);
        assert_eq!(exec_ping(&mut c), "*1\r\n+PONG\r\n", "{name}");
        c.c(&["SET", "z", "1"]);
        c.c(&["WATCH", "z"]);
        c.c(&["FLUSHDB"]);
        assert_eq!(exec_ping(&mut c), "*-1\r\n", "{name}");
    }
}
