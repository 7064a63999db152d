//! Blocking list pops: wake-up on push, several waiters served in arrival order,
//! timeouts, and no element lost to a client that went away while blocked.
mod common;
use common::*;
use std::time::{Duration, Instant};

fn blocked_clients(c: &mut Conn) -> usize {
    let info = String::from_utf8(c.cmd(&[b"INFO", b"clients"])).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn waiters_are_served_in_order_when_data_arrives() {
    let s = start_tripod(&[]);
    let mut admin = s.conn();
    let mut waiters = Vec::new();
    for i in 0..3 {
        let mut w = s.conn();
        w.send(&encode(&[b"BLPOP", b"q", b"0"]));
        waiters.push(w);
        wait_until("client to block", Duration::from_secs(5), || {
            blocked_clients(&mut admin) == i + 1
        });
    }
    assert_eq!(admin.cmd(&[b"RPUSH", b"q", b"a", b"b", b"c"]), b":3\r\n");
    for (w, v) in waiters.iter_mut().zip(["a", "b", "c"]) {
        assert_eq!(
            w.read_reply(),
            format!("*2\r\n$1\r\nq\r\n$1\r\n{}\r\n", v).into_bytes()
        );
    }
    assert_eq!(admin.cmd(&[b"EXISTS", b"q"]), b":0\r\n");
    assert_eq!(blocked_clients(&mut admin), 0);
}

#[test]
fn blmove_and_bzpop_style_wakeups_and_timeouts() {
    let s = start_tripod(&[]);
    let mut admin = s.conn();
    let mut w = s.conn();
    w.send(&encode(&[
        b"BLMOVE", b"src", b"dst", b"LEFT", b"RIGHT", b"0",
    ]));
    wait_until("client to block", Duration::from_secs(5), || {
        blocked_clients(&mut admin) == 1
    });
    admin.cmd(&[b"LPUSH", b"src", b"x"]);
    assert_eq!(w.read_reply(), b"$1\r\nx\r\n");
    assert_eq!(
        admin.cmd(&[b"LRANGE", b"dst", b"0", b"-1"]),
        b"*1\r\n$1\r\nx\r\n"
    );
    // Timeout: a null array after about the requested time.
    let t0 = Instant::now();
    assert_eq!(w.cmd(&[b"BRPOP", b"nothing", b"0.2"]), b"*-1\r\n");
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(190) && waited < Duration::from_secs(3),
        "{:?}",
        waited
    );
    // In RESP3 the timeout reply is a null.
    w.cmd(&[b"HELLO", b"3"]);
    assert_eq!(w.cmd(&[b"BLPOP", b"nothing", b"0.05"]), b"_\r\n");
}

#[test]
fn a_disconnected_waiter_never_swallows_an_element() {
    let s = start_tripod(&[]);
    let mut admin = s.conn();
    {
        let mut gone = s.conn();
        gone.send(&encode(&[b"BLPOP", b"q", b"0"]));
        wait_until("client to block", Duration::from_secs(5), || {
            blocked_clients(&mut admin) == 1
        });
    }
    wait_until("client to go away", Duration::from_secs(5), || {
        blocked_clients(&mut admin) == 0
    });
    admin.cmd(&[b"RPUSH", b"q", b"kept"]);
    assert_eq!(
        admin.cmd(&[b"LRANGE", b"q", b"0", b"-1"]),
        b"*1\r\n$4\r\nkept\r\n"
    );
}

#[test]
fn pushes_inside_multi_serve_waiters_after_exec() {
    let s = start_tripod(&[]);
    let mut admin = s.conn();
    let mut w = s.conn();
    w.send(&encode(&[b"BRPOP", b"q", b"5"]));
    wait_until("client to block", Duration::from_secs(5), || {
        blocked_clients(&mut admin) == 1
    });
    admin.cmd(&[b"MULTI"]);
    admin.cmd(&[b"RPUSH", b"q", b"1"]);
    admin.cmd(&[b"RPUSH", b"q", b"2"]);
    assert_eq!(admin.cmd(&[b"EXEC"]), b"*2\r\n:1\r\n:2\r\n");
    assert_eq!(w.read_reply(), b"*2\r\n$1\r\nq\r\n$1\r\n2\r\n");
    assert_eq!(
        admin.cmd(&[b"LRANGE", b"q", b"0", b"-1"]),
        b"*1\r\n$1\r\n1\r\n"
    );
}

#[test]
fn pubsub_in_resp2_and_resp3() {
    let s = start_tripod(&[]);
    let mut sub = s.conn();
    assert_eq!(
        sub.cmd(&[b"SUBSCRIBE", b"news"]),
        b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    );
    assert_eq!(
        sub.cmd(&[b"PSUBSCRIBE", b"n*"]),
        b"*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:2\r\n"
    );
    assert!(sub
        .cmd(&[b"GET", b"x"])
        .starts_with(b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE"));
    let mut sub3 = s.conn();
    sub3.cmd(&[b"HELLO", b"3"]);
    assert_eq!(
        sub3.cmd(&[b"SUBSCRIBE", b"news"]),
        b">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    );
    let mut p = s.conn();
    assert_eq!(p.cmd(&[b"PUBLISH", b"news", b"hi"]), b":3\r\n");
    assert_eq!(
        sub.read_reply(),
        b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    );
    assert_eq!(
        sub.read_reply(),
        b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    );
    assert_eq!(
        sub3.read_reply(),
        b">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    );
    // RESP3 clients may run normal commands while subscribed.
    assert_eq!(sub3.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(
        p.cmd(&[b"PUBSUB", b"NUMSUB", b"news", b"none"]),
        b"*4\r\n$4\r\nnews\r\n:2\r\n$4\r\nnone\r\n:0\r\n"
    );
    assert_eq!(p.cmd(&[b"PUBSUB", b"NUMPAT"]), b":1\r\n");
    assert_eq!(p.cmd(&[b"PUBSUB", b"CHANNELS"]), b"*1\r\n$4\r\nnews\r\n");
    assert_eq!(
        sub.cmd(&[b"UNSUBSCRIBE"]),
        b"*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    );
    assert_eq!(
        sub.cmd(&[b"PUNSUBSCRIBE"]),
        b"*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:0\r\n"
    );
    assert_eq!(sub.cmd(&[b"PING"]), b"+PONG\r\n");
}

#[test]
fn sorted_set_pops_wake_in_order_and_match_redis() {
    for bin in ["tripod", "redis"] {
        let s = start_server(bin, &[]);
        let mut admin = s.conn();
        let mut w1 = s.conn();
        let mut w2 = s.conn();
        let mut w3 = s.conn();
        w1.send(&encode(&[b"BZPOPMIN", b"z", b"0"]));
        wait_until("w1 to block", Duration::from_secs(5), || {
            blocked_clients(&mut admin) == 1
        });
        w2.send(&encode(&[b"BZPOPMAX", b"z", b"other", b"0"]));
        wait_until("w2 to block", Duration::from_secs(5), || {
            blocked_clients(&mut admin) == 2
        });
        w3.send(&encode(&[
            b"BZMPOP", b"0", b"1", b"z", b"MIN", b"COUNT", b"5",
        ]));
        wait_until("w3 to block", Duration::from_secs(5), || {
            blocked_clients(&mut admin) == 3
        });
        assert_eq!(
            admin.cmd(&[b"ZADD", b"z", b"1", b"a", b"2", b"b", b"3", b"c", b"4", b"d"]),
            b":4\r\n"
        );
        assert_eq!(
            w1.read_reply(),
            b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n",
            "{}",
            bin
        );
        assert_eq!(
            w2.read_reply(),
            b"*3\r\n$1\r\nz\r\n$1\r\nd\r\n$1\r\n4\r\n",
            "{}",
            bin
        );
        assert_eq!(
            w3.read_reply(),
            b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
            "{}",
            bin
        );
        assert_eq!(admin.cmd(&[b"EXISTS", b"z"]), b":0\r\n");
        // A timeout answers a null array.
        let start = Instant::now();
        assert_eq!(admin.cmd(&[b"BZPOPMIN", b"z", b"0.1"]), b"*-1\r\n");
        assert!(start.elapsed() >= Duration::from_millis(90));
    }
}

/// CLIENT UNBLOCK on both servers: a blocked BLPOP, XREAD BLOCK and WAIT get their
/// timeout reply (TIMEOUT, the default) or the UNBLOCKED error (ERROR); a client that is
/// not blocked gives 0; bad arguments get Redis's errors; commandstats and errorstats
/// count the unblocked commands as Redis does.
#[test]
fn client_unblock_matches_redis() {
    let mut seen = Vec::new();
    for s in [start_tripod(&[]), start_redis(&[])] {
        let mut admin = s.conn();
        let mut out = Vec::new();
        let blocked: [&[&[u8]]; 3] = [
            &[b"BLPOP", b"l", b"0"],
            &[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"st", b"$"],
            &[b"BRPOPLPUSH", b"a", b"b", b"0"],
        ];
        for (i, cmd) in blocked.iter().enumerate() {
            for how in [&b"TIMEOUT"[..], b"ERROR"] {
                let mut w = s.conn();
                let id = String::from_utf8(w.cmd(&[b"CLIENT", b"ID"])).unwrap();
                let id = id.trim_start_matches(':').trim().to_string();
                w.send(&encode(cmd));
                wait_until("client to block", Duration::from_secs(5), || {
                    blocked_clients(&mut admin) == 1
                });
                out.push(admin.cmd(&[b"CLIENT", b"UNBLOCK", id.as_bytes(), how]));
                out.push(w.read_reply());
                out.push(admin.cmd(&[b"CLIENT", b"UNBLOCK", id.as_bytes()]));
                assert_eq!(blocked_clients(&mut admin), 0, "command {i}");
            }
        }
        for bad in [
            &[&b"CLIENT"[..], b"UNBLOCK", b"1", b"SOON"][..],
            &[b"CLIENT", b"UNBLOCK", b"x"],
            &[b"CLIENT", b"UNBLOCK", b"1", b"2", b"3"],
            &[b"CLIENT", b"UNBLOCK"],
            &[b"CLIENT", b"UNBLOCK", b"999999"],
        ] {
            out.push(admin.cmd(bad));
        }
        let stats = String::from_utf8(admin.cmd(&[b"INFO", b"commandstats"])).unwrap();
        // Redis lists commands in its table's hash order.
        let mut stats: Vec<&str> = stats.lines().collect();
        stats.sort();
        for l in stats {
            if ["blpop", "xread", "brpoplpush"]
                .iter()
                .any(|c| l.starts_with(&format!("cmdstat_{c}:")))
            {
                // usec differs; calls and failed_calls must not.
                let keep: Vec<&str> = l
                    .split([',', ':'])
                    .filter(|f| f.starts_with("cmdstat") || f.contains("calls"))
                    .collect();
                out.push(keep.join(",").into_bytes());
            }
        }
        let errs = String::from_utf8(admin.cmd(&[b"INFO", b"errorstats"])).unwrap();
        out.push(
            errs.lines()
                .filter(|l| l.contains("UNBLOCKED"))
                .collect::<Vec<_>>()
                .join("")
                .into_bytes(),
        );
        seen.push(
            out.into_iter()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(seen[0], seen[1]);
    assert!(seen[0]
        .iter()
        .any(|l| l.contains("UNBLOCKED client unblocked")));
}

/// On both servers: a key a blocked client waits on that is overwritten with
/// another type (inside MULTI) serves nobody: BZPOPMIN and BLPOP stay blocked
/// (no WRONGTYPE) and are served, each by its own type, when the right data
/// arrives; a list stored whole by SORT ... STORE wakes a BLPOP; a sorted set
/// kept as a skiplist by `zset-max-listpack-entries 0` is still one after
/// DEBUG RELOAD.
#[test]
fn wrong_type_keeps_waiters_blocked_and_whole_values_wake_them_as_redis() {
    for bin in ["tripod", "redis"] {
        let s = start_server(bin, &["--enable-debug-command", "yes"]);
        let mut admin = s.conn();
        let mut z = s.conn();
        let mut l = s.conn();
        z.send(&encode(&[b"BZPOPMIN", b"k", b"0"]));
        l.send(&encode(&[b"BLPOP", b"k", b"0"]));
        wait_until("two waiters", Duration::from_secs(5), || {
            blocked_clients(&mut admin) == 2
        });
        admin.cmd(&[b"MULTI"]);
        admin.cmd(&[b"ZADD", b"k", b"0", b"foo"]);
        admin.cmd(&[b"DEL", b"k"]);
        admin.cmd(&[b"SET", b"k", b"foo"]);
        assert_eq!(
            admin.cmd(&[b"EXEC"]),
            b"*3\r\n:1\r\n:1\r\n+OK\r\n",
            "{}",
            bin
        );
        assert_eq!(blocked_clients(&mut admin), 2, "{}", bin);
        admin.cmd(&[b"DEL", b"k"]);
        assert_eq!(admin.cmd(&[b"RPUSH", b"k", b"x"]), b":1\r\n");
        assert_eq!(l.read_reply(), b"*2\r\n$1\r\nk\r\n$1\r\nx\r\n", "{}", bin);
        assert_eq!(admin.cmd(&[b"ZADD", b"k", b"1", b"bar"]), b":1\r\n");
        assert_eq!(
            z.read_reply(),
            b"*3\r\n$1\r\nk\r\n$3\r\nbar\r\n$1\r\n1\r\n",
            "{}",
            bin
        );

        l.send(&encode(&[b"BLPOP", b"dst", b"0"]));
        wait_until("BLPOP to block", Duration::from_secs(5), || {
            blocked_clients(&mut admin) == 1
        });
        admin.cmd(&[b"RPUSH", b"src", b"b", b"a", b"c"]);
        assert_eq!(
            admin.cmd(&[b"SORT", b"src", b"ALPHA", b"STORE", b"dst"]),
            b":3\r\n"
        );
        assert_eq!(l.read_reply(), b"*2\r\n$3\r\ndst\r\n$1\r\na\r\n", "{}", bin);

        admin.cmd(&[b"CONFIG", b"SET", b"zset-max-listpack-entries", b"0"]);
        admin.cmd(&[b"ZADD", b"big", b"1.5", b"m"]);
        assert_eq!(admin.cmd(&[b"DEBUG", b"RELOAD"]), b"+OK\r\n");
        assert_eq!(
            admin.cmd(&[b"OBJECT", b"ENCODING", b"big"]),
            b"$8\r\nskiplist\r\n",
            "{}",
            bin
        );
        assert_eq!(admin.cmd(&[b"ZSCORE", b"big", b"m"]), b"$3\r\n1.5\r\n");
    }
}
