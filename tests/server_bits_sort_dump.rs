//! BITOP, BITFIELD, SORT, DUMP/RESTORE, MIGRATE, MEMORY and LATENCY against
//! Debian's redis-server: the same commands to both, replies compared byte for
//! byte; DUMP payloads restored across the two servers in both directions;
//! MIGRATE from tripod-server into a real redis-server and back; what RESTORE
//! and MIGRATE send to replicas.
mod common;
use common::*;

/// The data of a bulk reply.
fn bulk(reply: &[u8]) -> Vec<u8> {
    assert!(
        reply.starts_with(b"$"),
        "{}",
        String::from_utf8_lossy(reply)
    );
    let nl = reply.iter().position(|&b| b == b'\n').unwrap();
    reply[nl + 1..reply.len() - 2].to_vec()
}

/// Sends every command to both servers and lists the replies that differ.
fn compare(r: &mut Conn, t: &mut Conn, cmds: &[Vec<&[u8]>]) -> Vec<String> {
    let mut diffs = Vec::new();
    for args in cmds {
        let want = r.cmd(args);
        let got = t.cmd(args);
        if want != got {
            let shown: Vec<String> = args
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            diffs.push(format!(
                "{:?}\n   redis: {:?}\n  tripod: {:?}",
                shown,
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    diffs
}

fn words(line: &str) -> Vec<&[u8]> {
    line.split(' ')
        .map(|w| if w == "\"\"" { &b""[..] } else { w.as_bytes() })
        .collect()
}

fn side_by_side(script: &str) {
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    let (mut r, mut t) = (redis.conn(), tripod.conn());
    let cmds: Vec<Vec<&[u8]>> = script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(words)
        .collect();
    let diffs = compare(&mut r, &mut t, &cmds);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn bitop_and_bitfield_reply_as_redis() {
    side_by_side(
        "
        SET a foobar
        SET b abcdef
        SET c x
        BITOP AND dest a b c
        GET dest
        BITOP OR dest a b c
        GET dest
        BITOP XOR dest a b
        GET dest
        BITOP NOT dest a
        GET dest
        BITOP NOT dest a b
        BITOP FOO dest a
        BITOP AND dest missing1 missing2
        EXISTS dest
        LPUSH l x
        BITOP OR dest a l
        BITFIELD bf SET i8 0 100 GET u4 0 INCRBY i5 100 1 GET u4 0
        BITFIELD bf GET i8 0 GET i64 0 GET u63 3
        BITFIELD bf OVERFLOW SAT INCRBY u2 102 5 OVERFLOW WRAP INCRBY u2 102 5 OVERFLOW FAIL INCRBY u2 102 5
        BITFIELD bf OVERFLOW SAT INCRBY i8 0 1000 INCRBY i8 0 -1000 OVERFLOW WRAP INCRBY i8 0 300
        BITFIELD bf SET i64 0 -9223372036854775808 INCRBY i64 0 -1 OVERFLOW SAT INCRBY i64 0 -1
        BITFIELD bf SET u8 #2 255 GET u8 #2 GET u8 16 SET u8 #1 -1
        GET bf
        BITFIELD bf SET u64 0 1
        BITFIELD bf GET i65 0
        BITFIELD bf GET x8 0
        BITFIELD bf GET u8 -1
        BITFIELD bf GET u8 #-1
        BITFIELD bf GET u8 4294967296
        BITFIELD bf SET u8 0 notanumber
        BITFIELD bf OVERFLOW FOO
        BITFIELD bf FOO
        BITFIELD bf GET u8
        BITFIELD bf
        BITFIELD l GET u8 0
        BITFIELD l SET u8 0 1
        BITFIELD_RO bf GET u8 0 GET i3 5
        BITFIELD_RO bf SET u8 0 1
        BITFIELD_RO bf
        BITFIELD_RO missing GET u8 0
        BITFIELD new OVERFLOW FAIL SET u2 0 7
        GET new
        SET str xxxx
        BITCOUNT str -6 -7
        BITCOUNT str -6 -15 BIT
        BITCOUNT str -7 -6
        ",
    );
}

#[test]
fn bit_changes_count_only_when_something_changed() {
    for server in [start_redis(&[]), start_tripod(&[])] {
        let mut c = server.conn();
        let dirty = |c: &mut Conn| -> i64 {
            let info = c.c(&["INFO", "persistence"]);
            info.lines()
                .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        let d0 = dirty(&mut c);
        c.c(&["SETBIT", "k", "0", "0"]);
        c.c(&["BITFIELD", "f", "SET", "i5", "0", "0"]);
        assert_eq!(dirty(&mut c), d0 + 2);
        c.c(&["SETBIT", "k", "0", "0"]);
        c.c(&["BITFIELD", "f", "SET", "i5", "0", "0"]);
        assert_eq!(dirty(&mut c), d0 + 2);
        c.c(&["SETBIT", "k", "90", "0"]);
        c.c(&["BITFIELD", "f", "SET", "i5", "90", "0"]);
        assert_eq!(dirty(&mut c), d0 + 4);
    }
}

#[test]
fn sort_replies_as_redis() {
    side_by_side(
        "
        RPUSH l 3 1 2 10 -5 1.5
        SORT l
        SORT l DESC
        SORT l LIMIT 1 2
        SORT l LIMIT -1 2
        SORT l LIMIT 4 100
        SORT l LIMIT 100 1
        SORT l ALPHA
        SORT l ALPHA DESC LIMIT 0 3
        SORT l BY nosort
        SORT l BY nosort DESC LIMIT 1 2
        SET w_3 30
        SET w_1 10
        SET w_2 -20
        HSET h_3 f c
        HSET h_1 f a
        HSET h_10 f b
        SORT l BY w_*
        SORT l BY w_* GET # GET w_* GET h_*->f GET nokey
        SORT l BY h_*->f ALPHA GET h_*->f GET #
        SORT l BY w_* STORE dst
        LRANGE dst 0 -1
        SORT l BY w_* GET w_* GET # STORE dst
        LRANGE dst 0 -1
        SORT missing STORE dst
        EXISTS dst
        SORT missing
        SADD s c a b
        SORT s ALPHA
        SORT s BY nosort STORE dst2
        LRANGE dst2 0 -1
        ZADD z 1 a 5 b 2 c 10 d 3 e
        SORT z BY nosort
        SORT z BY nosort DESC LIMIT 1 2
        SORT z BY nosort LIMIT -10 100
        SORT z ALPHA DESC
        RPUSH words hello 1 2
        SORT words
        SORT words BY w_* ALPHA
        SORT l LIMIT 0
        SORT l LIMIT a b
        SORT l FOO
        SORT l STORE
        SET str x
        SORT str
        SORT_RO l BY w_*
        SORT_RO l STORE dst
        SORT_RO l GET # LIMIT 0 2 DESC
        COMMAND GETKEYS SORT l BY x STORE d LIMIT 0 1
        COMMAND GETKEYS SORT l
        COMMAND GETKEYS SORT_RO l
        ",
    );
}

#[test]
fn memory_and_latency_reply_as_redis() {
    side_by_side(
        "
        MEMORY HELP
        MEMORY USAGE nokey
        MEMORY USAGE
        SET s hello
        MEMORY USAGE s
        MEMORY USAGE s SAMPLES -1
        MEMORY USAGE s SAMPLES x
        MEMORY USAGE s FOO
        MEMORY USAGE s SAMPLES 0
        RPUSH l a b c
        MEMORY USAGE l
        HSET h a 1 b 2
        MEMORY USAGE h
        SADD st 1 2 3
        MEMORY USAGE st
        ZADD z 1 a 2 b
        MEMORY USAGE z
        MEMORY PURGE
        MEMORY DOCTOR
        MEMORY FOO
        LATENCY HELP
        LATENCY HELP x
        LATENCY LATEST
        LATENCY HISTORY command
        LATENCY RESET
        LATENCY RESET foo bar
        LATENCY GRAPH command
        LATENCY DOCTOR
        LATENCY HISTOGRAM nosuchcommand
        LATENCY FOO
        COMMAND GETKEYS MEMORY USAGE key
        COMMAND GETKEYS MIGRATE h 1 k 0 10
        COMMAND GETKEYS MIGRATE h 1 \"\" 0 10 AUTH pw KEYS a b
        ",
    );
}

#[test]
fn latency_monitor_records_slow_commands() {
    let tripod = start_tripod(&[
        "--latency-monitor-threshold",
        "100",
        "--enable-debug-command",
        "yes",
    ]);
    let mut t = tripod.conn();
    assert_eq!(t.c(&["DEBUG", "SLEEP", "0.15"]), "+OK\r\n");
    let latest = t.c(&["LATENCY", "LATEST"]);
    assert!(
        latest.starts_with("*1\r\n*4\r\n$7\r\ncommand\r\n"),
        "{latest}"
    );
    let hist = t.c(&["LATENCY", "HISTORY", "command"]);
    assert!(hist.starts_with("*1\r\n*2\r\n:"), "{hist}");
    let graph = t.c(&["LATENCY", "GRAPH", "command"]);
    assert!(graph.contains("command - high 1"), "{graph}");
    assert!(graph.contains(&"-".repeat(80)), "{graph}");
    let doctor = t.c(&["LATENCY", "DOCTOR"]);
    assert!(doctor.contains("1. command: 1 latency spikes"), "{doctor}");
    t.c(&["SET", "a", "b"]);
    let h = t.c(&["LATENCY", "HISTOGRAM", "set", "client"]);
    assert!(
        h.starts_with("%1\r\n$3\r\nset\r\n%2\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n")
            || h.starts_with("*2\r\n$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:1\r\n"),
        "{h}"
    );
    assert_eq!(t.c(&["LATENCY", "RESET"]), ":1\r\n");
    assert_eq!(t.c(&["LATENCY", "LATEST"]), "*0\r\n");
}

/// Values of every type in their small and big encodings.
fn fill(c: &mut Conn) {
    c.c(&["SET", "str", "hello"]);
    c.c(&["SET", "int", "-12345"]);
    c.c(&["SET", "big", &"abc".repeat(300)]);
    c.c(&["RPUSH", "list", "a", "1", "b", "300000"]);
    let many: Vec<String> = (0..300).map(|i| format!("element:{i}")).collect();
    let mut args: Vec<&str> = vec!["RPUSH", "biglist"];
    args.extend(many.iter().map(|s| s.as_str()));
    c.c(&args);
    args[0] = "SADD";
    args[1] = "bigset";
    c.c(&args);
    c.c(&["SADD", "intset", "1", "2", "-70000"]);
    c.c(&["SADD", "set", "x", "y"]);
    c.c(&["HSET", "hash", "f", "v", "n", "1"]);
    let mut h: Vec<&str> = vec!["HSET", "bighash"];
    for s in &many {
        h.push(s);
        h.push(s);
    }
    c.c(&h);
    c.c(&["ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c"]);
    let mut z: Vec<String> = vec!["ZADD".into(), "bigzset".into()];
    for (i, s) in many.iter().enumerate() {
        z.push(format!("{}.5", i));
        z.push(s.clone());
    }
    let zr: Vec<&str> = z.iter().map(|s| s.as_str()).collect();
    c.c(&zr);
}

const KEYS: [&str; 12] = [
    "str", "int", "big", "list", "biglist", "bigset", "intset", "set", "hash", "bighash", "zset",
    "bigzset",
];

/// A key's content in a form that ignores encoding and order (for comparing
/// across servers).
fn content(c: &mut Conn, key: &str) -> String {
    let t = c.c(&["TYPE", key]);
    let mut items = match t.as_str() {
        "+string\r\n" => vec![c.c(&["GET", key])],
        "+list\r\n" => vec![c.c(&["LRANGE", key, "0", "-1"])],
        "+set\r\n" => flat(&c.cmd(&[b"SMEMBERS", key.as_bytes()]))
            .into_iter()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .collect(),
        "+hash\r\n" => flat(&c.cmd(&[b"HGETALL", key.as_bytes()]))
            .chunks(2)
            .map(|p| format!("{:?}", p))
            .collect(),
        "+zset\r\n" => vec![c.c(&["ZRANGE", key, "0", "-1", "WITHSCORES"])],
        other => panic!("{key}: {other}"),
    };
    items.sort();
    format!("{t}{items:?}")
}

#[test]
fn dump_payloads_restore_in_both_directions() {
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    let (mut r, mut t) = (redis.conn(), tripod.conn());
    fill(&mut r);
    fill(&mut t);
    for key in KEYS {
        let from_redis = bulk(&r.cmd(&[b"DUMP", key.as_bytes()]));
        let from_tripod = bulk(&t.cmd(&[b"DUMP", key.as_bytes()]));
        let copy = format!("{key}:copy");
        // Redis's payload restores here, tripod's in Redis, same content.
        assert_eq!(
            t.cmd(&[b"RESTORE", copy.as_bytes(), b"0", &from_redis]),
            b"+OK\r\n",
            "{key}"
        );
        assert_eq!(
            r.cmd(&[b"RESTORE", copy.as_bytes(), b"0", &from_tripod]),
            b"+OK\r\n",
            "{key}"
        );
        let want = content(&mut r, key);
        assert_eq!(content(&mut t, &copy), want, "{key} restored from redis");
        assert_eq!(content(&mut r, &copy), want, "{key} restored from tripod");
        // Where both encode the same way the payloads are the same bytes.
        if ["str", "int", "list", "intset", "hash", "zset"].contains(&key) {
            assert_eq!(from_tripod, from_redis, "{key}");
        }
    }
    // Errors, as Redis.
    let payload = bulk(&r.cmd(&[b"DUMP", b"str"]));
    let mut bad = payload.clone();
    bad[2] ^= 0x55;
    let mut newer = payload.clone();
    let n = newer.len();
    newer[n - 10] = 11;
    let cmds: Vec<Vec<&[u8]>> = vec![
        vec![b"RESTORE", b"str", b"0", &payload],
        vec![b"RESTORE", b"str", b"0", &payload, b"REPLACE"],
        vec![b"RESTORE", b"x", b"0", &bad],
        vec![b"RESTORE", b"x", b"0", &newer],
        vec![b"RESTORE", b"x", b"0", b"short"],
        vec![b"RESTORE", b"x", b"-1", &payload],
        vec![b"RESTORE", b"x", b"abc", &payload],
        vec![b"RESTORE", b"x", b"0", &payload, b"FOO"],
        vec![b"RESTORE", b"x", b"0", &payload, b"IDLETIME", b"-1"],
        vec![b"RESTORE", b"x", b"0", &payload, b"FREQ", b"256"],
        vec![
            b"RESTORE",
            b"x",
            b"0",
            &payload,
            b"IDLETIME",
            b"1",
            b"FREQ",
            b"1",
        ],
        vec![b"RESTORE", b"x", b"0", &payload, b"IDLETIME", b"1000"],
        vec![b"OBJECT", b"IDLETIME", b"x"],
        vec![b"RESTORE", b"past", b"1", &payload, b"ABSTTL"],
        vec![b"EXISTS", b"past"],
        vec![b"RESTORE", b"str", b"1", &payload, b"ABSTTL", b"REPLACE"],
        vec![b"EXISTS", b"str"],
        vec![b"RESTORE", b"ttl", b"99999999", &payload],
        vec![b"PTTL", b"nonexisting"],
        vec![b"DUMP", b"nonexisting"],
    ];
    let diffs = compare(&mut r, &mut t, &cmds);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let ttl: i64 = t.c(&["PTTL", "ttl"])[1..].trim().parse().unwrap();
    assert!(ttl > 99_000_000 && ttl <= 99_999_999, "{ttl}");
}

#[test]
fn restore_and_migrate_reach_replicas_as_redis_sends_them() {
    let tripod = start_tripod(&["--repl-diskless-sync-delay", "0"]);
    let target = start_redis(&[]);
    let mut stream = raw_replica(&tripod);
    let mut t = tripod.conn();
    t.c(&["SET", "k", "v"]);
    let payload = bulk(&t.cmd(&[b"DUMP", b"k"]));
    assert_eq!(t.cmd(&[b"RESTORE", b"r", b"100000", &payload]), b"+OK\r\n");
    assert_eq!(
        t.c(&[
            "MIGRATE",
            "127.0.0.1",
            &target.port.to_string(),
            "k",
            "0",
            "5000"
        ]),
        "+OK\r\n"
    );
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let cmd = flat(&stream.read_reply());
        if cmd[0].eq_ignore_ascii_case(b"PING") {
            continue;
        }
        seen.push(cmd);
    }
    assert_eq!(seen[0][0], b"SELECT");
    assert_eq!(seen[1][0], b"SET");
    // RESTORE with a relative TTL goes out with the absolute time and ABSTTL.
    assert_eq!(seen[2][0], b"RESTORE");
    let abs: i64 = String::from_utf8_lossy(&seen[2][2]).parse().unwrap();
    assert!(abs > 1_600_000_000_000, "{abs}");
    assert_eq!(seen[2][4], b"ABSTTL");
    // MIGRATE goes out as the DEL of what the target acknowledged.
    assert_eq!(seen[3], vec![b"DEL".to_vec(), b"k".to_vec()]);
}

#[test]
fn migrate_moves_keys_into_a_real_redis_and_back() {
    let tripod = start_tripod(&[]);
    let redis = start_redis(&["--requirepass", "secret"]);
    let (mut t, mut r) = (tripod.conn(), redis.conn());
    assert_eq!(r.c(&["AUTH", "secret"]), "+OK\r\n");
    fill(&mut t);
    t.c(&["PEXPIRE", "str", "100000"]);
    let rport = redis.port.to_string();
    let want: Vec<String> = KEYS.iter().map(|k| content(&mut t, k)).collect();
    // No AUTH: the target's error comes back, nothing is deleted.
    let e = t.c(&["MIGRATE", "127.0.0.1", &rport, "str", "0", "5000"]);
    assert_eq!(
        e,
        "-ERR Target instance replied with error: NOAUTH Authentication required.\r\n"
    );
    assert_eq!(t.c(&["EXISTS", "str"]), ":1\r\n");
    // One key, COPY: stays here too, with its TTL there.
    assert_eq!(
        t.c(&[
            "MIGRATE",
            "127.0.0.1",
            &rport,
            "str",
            "3",
            "5000",
            "COPY",
            "AUTH",
            "secret"
        ]),
        "+OK\r\n"
    );
    assert_eq!(t.c(&["EXISTS", "str"]), ":1\r\n");
    r.c(&["SELECT", "3"]);
    assert_eq!(r.c(&["GET", "str"]), "$5\r\nhello\r\n");
    let pttl: i64 = r.c(&["PTTL", "str"])[1..].trim().parse().unwrap();
    assert!(pttl > 90_000 && pttl <= 100_000, "{pttl}");
    // The key exists there now: BUSYKEY unless REPLACE.
    let e = t.c(&[
        "MIGRATE",
        "127.0.0.1",
        &rport,
        "str",
        "3",
        "5000",
        "AUTH2",
        "default",
        "secret",
    ]);
    assert_eq!(
        e,
        "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
    );
    // Every key at once with KEYS, REPLACE: moved.
    let mut args = vec![
        "MIGRATE",
        "127.0.0.1",
        &rport,
        "",
        "3",
        "5000",
        "REPLACE",
        "AUTH",
        "secret",
        "KEYS",
    ];
    args.extend(KEYS);
    args.push("nosuchkey");
    assert_eq!(t.c(&args), "+OK\r\n");
    assert_eq!(t.c(&["DBSIZE"]), ":0\r\n");
    for (k, w) in KEYS.iter().zip(&want) {
        assert_eq!(&content(&mut r, k), w, "{k}");
    }
    assert_eq!(
        t.c(&["MIGRATE", "127.0.0.1", &rport, "str", "3", "5000"]),
        "+NOKEY\r\n"
    );
    // And back: Redis migrating into tripod-server (RESTORE of Redis's payloads).
    let tport = tripod.port.to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", &tport, "", "0", "5000", "KEYS"];
    args.extend(KEYS);
    assert_eq!(r.c(&args), "+OK\r\n");
    for (k, w) in KEYS.iter().zip(&want) {
        assert_eq!(&content(&mut t, k), w, "{k}");
    }
    let info = t.c(&["INFO", "stats"]);
    assert!(info.contains("migrate_cached_sockets:1\r\n"), "{info}");
    // Errors, as Redis.
    let redis2 = start_redis(&[]);
    let mut r2 = redis2.conn();
    let closed = free_port().to_string();
    let cmds: Vec<Vec<&[u8]>> = vec![
        words("SET a 1"),
        words("MIGRATE 127.0.0.1 1 a 0 10 FOO"),
        words("MIGRATE 127.0.0.1 1 a 0 10 AUTH"),
        words("MIGRATE 127.0.0.1 1 a 0 10 AUTH2 u"),
        words("MIGRATE 127.0.0.1 1 a 0 10 KEYS a"),
        words("MIGRATE 127.0.0.1 1 a x 10"),
        words("MIGRATE 127.0.0.1 1 a 0 x"),
        words("MIGRATE 127.0.0.1 1 nokey 0 10"),
        vec![
            b"MIGRATE",
            b"127.0.0.1",
            closed.as_bytes(),
            b"a",
            b"0",
            b"100",
        ],
    ];
    let diffs = compare(&mut r2, &mut t, &cmds);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
