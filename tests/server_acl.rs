//! ACL users side by side with a real redis-server 7.0: the ACL command's
//! replies, NOPERM texts (plain, MULTI/EXEC, scripts, pub/sub), ACL LOG
//! fields, COMMAND INFO's categories, aclfiles written by one server and
//! loaded by the other, and replication as a restricted user both ways.

mod common;
use common::*;
use std::time::Duration;

/// One RESP value, enough to pick fields out of COMMAND INFO and ACL LOG.
#[derive(Debug, Clone, PartialEq)]
enum V {
    S(Vec<u8>),
    A(Vec<V>),
    Nil,
}

fn parse(b: &[u8]) -> (V, usize) {
    let e = b.windows(2).position(|w| w == b"\r\n").unwrap();
    let head = std::str::from_utf8(&b[1..e]).unwrap();
    match b[0] {
        b'+' | b'-' | b':' | b',' => (V::S(head.as_bytes().to_vec()), e + 2),
        b'$' => {
            let n: i64 = head.parse().unwrap();
            if n < 0 {
                return (V::Nil, e + 2);
            }
            let n = n as usize;
            (V::S(b[e + 2..e + 2 + n].to_vec()), e + 4 + n)
        }
        b'*' | b'%' => {
            let mut n: i64 = head.parse().unwrap();
            if n < 0 {
                return (V::Nil, e + 2);
            }
            if b[0] == b'%' {
                n *= 2;
            }
            let mut p = e + 2;
            let mut v = Vec::new();
            for _ in 0..n {
                let (x, l) = parse(&b[p..]);
                v.push(x);
                p += l;
            }
            (V::A(v), p)
        }
        _ => panic!("unexpected reply {:?}", String::from_utf8_lossy(b)),
    }
}

fn both() -> (Proc, Proc) {
    (start_tripod(&[]), start_redis(&[]))
}

/// A reply with the words of every string sorted: Redis lists single
/// commands in GETUSER/LIST in its hash table's order, tripod by name.
fn canon(v: V) -> V {
    match v {
        V::S(s) => {
            let mut w: Vec<&[u8]> = s.split(|&b| b == b' ').collect();
            w.sort();
            V::S(w.join(&b' '))
        }
        V::A(a) => V::A(a.into_iter().map(canon).collect()),
        V::Nil => V::Nil,
    }
}

/// Runs the same commands on both servers (one connection each) and
/// asserts the raw replies are equal (for GETUSER and LIST: equal up to
/// the order of the rules).
fn same(t: &mut Conn, r: &mut Conn, cmds: &[&[&str]]) {
    for args in cmds {
        let (a, b) = (t.c(args), r.c(args));
        if a != b && (args[1] == "GETUSER" || args[1] == "LIST") {
            let (x, y) = (parse(a.as_bytes()).0, parse(b.as_bytes()).0);
            assert_eq!(canon(x), canon(y), "reply to {:?}: tripod vs redis", args);
            continue;
        }
        assert_eq!(a, b, "reply to {:?}: tripod vs redis", args);
    }
}

#[test]
fn acl_command_replies_match_redis() {
    let (tp, rp) = both();
    let (mut t, mut r) = (tp.conn(), rp.conn());
    same(
        &mut t,
        &mut r,
        &[
            &[
                "ACL",
                "SETUSER",
                "alice",
                "on",
                ">p1",
                ">p2",
                "~cache:*",
                "%R~ro:*",
                "%W~wo:*",
                "&news.*",
                "+@read",
                "-@dangerous",
                "+set",
                "-get",
            ],
            &[
                "ACL",
                "SETUSER",
                "bob",
                "on",
                "nopass",
                "allkeys",
                "allchannels",
                "+@all",
                "-@admin",
                "-client|kill",
                "+select|0",
            ],
            &["ACL", "SETUSER", "carol", "reset", "+@all", "-@read"],
            &[
                "ACL",
                "SETUSER",
                "dave",
                "-@all",
                "+client",
                "-client|kill",
                "+config|get",
                "(+get ~sel:*)",
                "(+@write",
                "%W~w:*)",
            ],
            &[
                "ACL",
                "SETUSER",
                "erin",
                "+@all",
                "-memory",
                "+memory|doctor",
                "<p1",
            ],
            &[
                "ACL",
                "SETUSER",
                "erin",
                "#2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                "!2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            ],
            &[
                "ACL",
                "SETUSER",
                "frank",
                "skip-sanitize-payload",
                "+@hash",
                "+@set",
                "-hdel",
                "resetpass",
                "clearselectors",
            ],
            &["ACL", "SETUSER", "x", "(+get"],
            &["ACL", "SETUSER", "x", "%~a"],
            &["ACL", "SETUSER", "x", "%X~a"],
            &["ACL", "SETUSER", "x", "allkeys", "~a"],
            &["ACL", "SETUSER", "x", "allchannels", "&a"],
            &["ACL", "SETUSER", "x", "+get|x|y"],
            &["ACL", "SETUSER", "x", "+nosuch"],
            &["ACL", "SETUSER", "x", "+@nosuch"],
            &["ACL", "SETUSER", "x", "+config|get|x"],
            &["ACL", "SETUSER", "x", "#abc"],
            &["ACL", "SETUSER", "x", "<nope"],
            &["ACL", "SETUSER", "x", "blah"],
            &["ACL", "SETUSER", "a b"],
            &["ACL", "GETUSER", "alice"],
            &["ACL", "GETUSER", "bob"],
            &["ACL", "GETUSER", "carol"],
            &["ACL", "GETUSER", "dave"],
            &["ACL", "GETUSER", "erin"],
            &["ACL", "GETUSER", "frank"],
            &["ACL", "GETUSER", "default"],
            &["ACL", "GETUSER", "nobody"],
            &["ACL", "LIST"],
            &["ACL", "USERS"],
            &["ACL", "WHOAMI"],
            &["ACL", "CAT"],
            &["ACL", "CAT", "nosuch"],
            &["ACL", "CAT", "a", "b"],
            &["ACL", "GENPASS", "0"],
            &["ACL", "GENPASS", "x"],
            &["ACL", "LOG", "x"],
            &["ACL", "LOG", "1", "2"],
            &["ACL", "DRYRUN", "alice", "get", "cache:1"],
            &["ACL", "DRYRUN", "alice", "set", "cache:1", "v"],
            &["ACL", "DRYRUN", "alice", "set", "other", "v"],
            &["ACL", "DRYRUN", "alice", "get", "ro:1"],
            &["ACL", "DRYRUN", "alice", "set", "ro:1", "v"],
            &["ACL", "DRYRUN", "alice", "set", "wo:1", "v"],
            &["ACL", "DRYRUN", "alice", "set", "wo:1", "v", "get"],
            &["ACL", "DRYRUN", "alice", "publish", "news.a", "m"],
            &["ACL", "DRYRUN", "alice", "publish", "sport", "m"],
            &["ACL", "DRYRUN", "alice", "flushall"],
            &["ACL", "DRYRUN", "bob", "select", "0"],
            &["ACL", "DRYRUN", "bob", "select", "1"],
            &["ACL", "DRYRUN", "bob", "client", "kill", "id", "1"],
            &["ACL", "DRYRUN", "dave", "get", "sel:1"],
            &["ACL", "DRYRUN", "dave", "set", "w:1", "v"],
            &["ACL", "DRYRUN", "dave", "set", "x", "v"],
            &["ACL", "DRYRUN", "dave", "eval", "", "1", "sel:1"],
            &["ACL", "DRYRUN", "nobody", "get", "x"],
            &["ACL", "DRYRUN", "alice", "nosuch"],
            &["ACL", "DRYRUN", "alice", "get"],
            &["ACL", "DELUSER", "frank", "nobody"],
            &["ACL", "DELUSER", "default"],
            &["ACL", "LOAD"],
            &["ACL", "SAVE"],
            &["ACL", "USERS"],
        ],
    );
    // ACL CAT <category>: the same commands (Redis lists them in hash order).
    let cats = flat(&t.cmd(&[b"ACL", b"CAT"]));
    assert_eq!(cats.len(), 21);
    for cat in cats {
        let mut a = flat(&t.cmd(&[b"ACL", b"CAT", &cat]));
        let mut b = flat(&r.cmd(&[b"ACL", b"CAT", &cat]));
        a.sort();
        b.sort();
        assert_eq!(a, b, "ACL CAT {}", String::from_utf8_lossy(&cat));
    }
    // GENPASS: hex of the asked size.
    for (bits, len) in [("", 64), ("5", 2), ("128", 32)] {
        let mut args: Vec<&[u8]> = vec![b"ACL", b"GENPASS"];
        if !bits.is_empty() {
            args.push(bits.as_bytes());
        }
        let p = flat(&[b"*1\r\n".as_slice(), &t.cmd(&args)].concat());
        assert_eq!(p[0].len(), len);
        assert!(p[0].iter().all(|b| b.is_ascii_hexdigit()));
    }
}

/// COMMAND INFO's ACL categories, key specs (notes included) and movablekeys
/// flag of every command both servers have (categories and key specs of their
/// subcommands too) are Redis's.
#[test]
fn command_info_categories_and_key_specs_match_redis() {
    let (tp, rp) = both();
    let (mut t, mut r) = (tp.conn(), rp.conn());
    let tl = flat(&t.cmd(&[b"COMMAND", b"LIST"]));
    let rl = flat(&r.cmd(&[b"COMMAND", b"LIST"]));
    let mut checked = 0;
    for name in tl.iter().filter(|n| rl.contains(n)) {
        let (V::A(a), _) = parse(&t.cmd(&[b"COMMAND", b"INFO", name])) else {
            panic!()
        };
        let (V::A(b), _) = parse(&r.cmd(&[b"COMMAND", b"INFO", name])) else {
            panic!()
        };
        // A subcommand's info is nested in its container's; compare the top level.
        let (V::A(a), V::A(b)) = (&a[0], &b[0]) else {
            continue;
        };
        assert_eq!(
            a[6],
            b[6],
            "ACL categories of {}",
            String::from_utf8_lossy(name)
        );
        assert_eq!(a[8], b[8], "key specs of {}", String::from_utf8_lossy(name));
        let movable = |f: &V| matches!(f, V::A(v) if v.iter().any(|x| matches!(x, V::S(s) if s == b"movablekeys")));
        assert_eq!(
            movable(&a[2]),
            movable(&b[2]),
            "movablekeys of {}",
            String::from_utf8_lossy(name)
        );
        if let (V::A(sa), V::A(sb)) = (&a[9], &b[9]) {
            for (x, y) in sa.iter().zip(sb.iter()) {
                if let (V::A(x), V::A(y)) = (x, y) {
                    if x[0] == y[0] {
                        assert_eq!(x[6], y[6], "ACL categories of {:?}", x[0]);
                        assert_eq!(x[8], y[8], "key specs of {:?}", x[0]);
                    }
                }
            }
        }
        checked += 1;
    }
    assert!(checked > 200, "only {} commands compared", checked);
}

/// The restricted user's view: NOPERM texts on every path, and what ACL LOG
/// then shows (all fields but the age and the client's line).
#[test]
fn noperm_texts_and_acl_log_match_redis() {
    let (tp, rp) = both();
    let mut replies: Vec<Vec<String>> = Vec::new();
    let mut logs = Vec::new();
    for p in [&tp, &rp] {
        let mut admin = p.conn();
        admin.c(&[
            "ACL",
            "SETUSER",
            "app",
            "on",
            ">secret",
            "~app:*",
            "&app.*",
            "+@read",
            "+@write",
            "+@scripting",
            "+@pubsub",
            "+multi",
            "+exec",
            "-flushall",
        ]);
        let mut u = p.conn();
        let cmds: &[&[&str]] = &[
            &["AUTH", "app", "wrong"],
            &["AUTH", "nobody", "x"],
            &["AUTH", "app", "secret"],
            &["ACL", "WHOAMI"],
            &["SET", "app:1", "v"],
            &["SET", "other", "v"],
            &["GET", "other"],
            &["MGET", "app:1", "other"],
            &["FLUSHALL"],
            &["CONFIG", "GET", "port"],
            &["PUBLISH", "app.x", "m"],
            &["PUBLISH", "sys", "m"],
            &["SUBSCRIBE", "sys"],
            &["PSUBSCRIBE", "app.*x"],
            &["MULTI"],
            &["GET", "other"],
            &["EXEC"],
            &["MULTI"],
            &["GET", "app:1"],
            &["CONFIG", "GET", "port"],
            &["EXEC"],
            &["EVAL", "return redis.call('get', KEYS[1])", "1", "other"],
            &["EVAL", "return redis.call('config', 'get', 'port')", "0"],
            &["EVAL", "return redis.call('publish', 'sys', 'x')", "0"],
            &["EVAL", "return redis.acl_check_cmd('get', 'app:1')", "0"],
            &["EVAL", "return redis.acl_check_cmd('get', 'x')", "0"],
            &[
                "EVAL",
                "return redis.acl_check_cmd('config', 'get', 'port')",
                "0",
            ],
            &["HELLO", "2", "AUTH", "app", "bad"],
        ];
        replies.push(cmds.iter().map(|a| u.c(a)).collect());
        let (V::A(entries), _) = parse(&admin.cmd(&[b"ACL", b"LOG", b"100"])) else {
            panic!()
        };
        let mut shown = Vec::new();
        for e in entries {
            let V::A(f) = e else { panic!() };
            let mut kept = Vec::new();
            for pair in f.chunks(2) {
                let V::S(k) = &pair[0] else { panic!() };
                if k != b"age-seconds" && k != b"client-info" {
                    kept.push((k.clone(), pair[1].clone()));
                }
            }
            shown.push(kept);
        }
        logs.push(shown);
        // The whole log entry has the seven fields.
        let (V::A(one), _) = parse(&admin.cmd(&[b"ACL", b"LOG", b"1"])) else {
            panic!()
        };
        let V::A(f) = &one[0] else { panic!() };
        assert_eq!(f.len(), 14);
        assert_eq!(admin.c(&["ACL", "LOG", "RESET"]), "+OK\r\n");
        assert_eq!(admin.c(&["ACL", "LOG"]), "*0\r\n");
    }
    assert_eq!(replies[0], replies[1]);
    assert_eq!(logs[0], logs[1]);
}

/// Deleting or changing a user disconnects its clients as Redis does.
#[test]
fn deleted_user_and_revoked_channels_disconnect_clients() {
    let p = start_tripod(&[]);
    let mut admin = p.conn();
    admin.c(&[
        "ACL", "SETUSER", "u", "on", "nopass", "+@all", "allkeys", "&chan",
    ]);
    let mut sub = p.conn();
    assert_eq!(sub.c(&["AUTH", "u", "x"]), "+OK\r\n");
    sub.c(&["SUBSCRIBE", "chan"]);
    let mut plain = p.conn();
    assert_eq!(plain.c(&["AUTH", "u", "x"]), "+OK\r\n");
    // Revoking the channel closes the subscriber only.
    assert_eq!(
        admin.c(&["ACL", "SETUSER", "u", "resetchannels"]),
        "+OK\r\n"
    );
    assert!(sub.read_to_close().is_empty());
    assert_eq!(plain.c(&["PING"]), "+PONG\r\n");
    // Deleting the user closes its connections.
    assert_eq!(admin.c(&["ACL", "DELUSER", "u"]), ":1\r\n");
    assert!(plain.read_to_close().is_empty());
    assert_eq!(admin.c(&["PING"]), "+PONG\r\n");
}

/// ACL LIST up to the order of each user's rules.
fn acl_list(c: &mut Conn) -> V {
    canon(parse(&c.cmd(&[b"ACL", b"LIST"])).0)
}

/// An aclfile saved by Redis loads in tripod-server with the same users, and
/// the file tripod-server saves loads back in Redis.
#[test]
fn aclfile_written_by_redis_loads_in_tripod_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let rfile = dir.path().join("redis.acl");
    let tfile = dir.path().join("tripod.acl");
    std::fs::write(&rfile, "").unwrap();
    let rp = start_redis(&["--aclfile", rfile.to_str().unwrap()]);
    let mut r = rp.conn();
    for rules in [
        &[
            "ACL",
            "SETUSER",
            "app",
            "on",
            ">secret",
            "~app:*",
            "%R~shared:*",
            "&app.*",
            "+@read",
            "+@write",
            "-del",
        ][..],
        &[
            "ACL",
            "SETUSER",
            "ops",
            "on",
            ">ops1",
            ">ops2",
            "allkeys",
            "+@all",
            "-@dangerous",
            "+info",
            "(+get ~x:*)",
        ],
        &[
            "ACL",
            "SETUSER",
            "repl",
            "on",
            ">rp",
            "+psync",
            "+replconf",
            "+ping",
        ],
        &[
            "ACL", "SETUSER", "default", "on", "nopass", "~*", "&*", "+@all", "-debug",
        ],
    ] {
        assert_eq!(r.c(rules), "+OK\r\n");
    }
    assert_eq!(r.c(&["ACL", "SAVE"]), "+OK\r\n");
    std::fs::copy(&rfile, &tfile).unwrap();
    let tp = start_tripod(&["--aclfile", tfile.to_str().unwrap()]);
    let mut t = tp.conn();
    assert_eq!(acl_list(&mut t), acl_list(&mut r));
    // Change in tripod, save, load in Redis.
    assert_eq!(
        t.c(&["ACL", "SETUSER", "extra", "on", ">e", "+get", "~e:*"]),
        "+OK\r\n"
    );
    assert_eq!(t.c(&["ACL", "SAVE"]), "+OK\r\n");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&tfile).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o077, 0, "saved aclfile mode {:o}", mode);
    std::fs::copy(&tfile, &rfile).unwrap();
    assert_eq!(r.c(&["ACL", "LOAD"]), "+OK\r\n");
    assert_eq!(acl_list(&mut t), acl_list(&mut r));
    // A broken file: the same error, and nothing changes.
    std::fs::write(&rfile, "user a on +nosuch\nbogus line\nuser a on\n").unwrap();
    std::fs::copy(&rfile, &tfile).unwrap();
    let before = acl_list(&mut t);
    let a = t.c(&["ACL", "LOAD"]);
    let b = r.c(&["ACL", "LOAD"]);
    assert_eq!(
        a.replace(tfile.to_str().unwrap(), "F"),
        b.replace(rfile.to_str().unwrap(), "F")
    );
    assert_eq!(acl_list(&mut t), before);
}

/// `user` lines and `aclfile` together are refused at startup, as in Redis.
#[test]
fn user_lines_and_aclfile_together_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let acl = dir.path().join("u.acl");
    std::fs::write(&acl, "user a on nopass +@all ~*\n").unwrap();
    let conf = dir.path().join("t.conf");
    std::fs::write(
        &conf,
        format!("user b on nopass +get ~*\naclfile {}\n", acl.display()),
    )
    .unwrap();
    let out = std::process::Command::new(tripod_server_bin())
        .arg(&conf)
        .arg("--port")
        .arg(free_port().to_string())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid"),
        "{}",
        text
    );
    // `user` lines alone work, and the default user keeps requirepass.
    std::fs::write(&conf, "user b on >pw +get ~k*\nrequirepass dp\n").unwrap();
    let port = free_port();
    let mut child = std::process::Command::new(tripod_server_bin())
        .arg(&conf)
        .args(["--port", &port.to_string(), "--save", ""])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    wait_ready(port, &mut child);
    let p = Proc {
        child: Some(child),
        port,
        dir,
        pid,
    };
    let mut c = p.conn();
    assert_eq!(c.c(&["AUTH", "b", "pw"]), "+OK\r\n");
    assert_eq!(c.c(&["GET", "k1"]), "$-1\r\n");
    assert!(c.c(&["SET", "k1", "v"]).starts_with("-NOPERM"));
    assert_eq!(c.c(&["AUTH", "dp"]), "+OK\r\n");
    assert_eq!(c.c(&["SET", "k1", "v"]), "+OK\r\n");
}

const REPL_RULES: &[&str] = &["on", ">replpw", "+psync", "+replconf", "+ping"];

fn restrict_master(m: &Proc) {
    let mut c = m.conn();
    let mut args = vec!["ACL", "SETUSER", "repl"];
    args.extend_from_slice(REPL_RULES);
    assert_eq!(c.c(&args), "+OK\r\n");
    assert_eq!(
        c.c(&["ACL", "SETUSER", "default", "resetpass", ">adminpw"]),
        "+OK\r\n"
    );
}

/// masteruser/masterauth on a tripod replica, the master a real Redis whose
/// replication user may only PSYNC, REPLCONF and PING.
#[test]
fn tripod_replica_authenticates_as_restricted_user_on_redis_master() {
    let master = start_redis(&[]);
    restrict_master(&master);
    let replica = start_tripod(&["--masteruser", "repl", "--masterauth", "replpw"]);
    replicates_authed(&master, &replica, "adminpw");
}

/// The other way round: a real Redis replica with masteruser on tripod.
#[test]
fn redis_replica_authenticates_as_restricted_user_on_tripod_master() {
    let master = start_tripod(&[]);
    restrict_master(&master);
    let replica = start_redis(&["--masteruser", "repl", "--masterauth", "replpw"]);
    replicates_authed(&master, &replica, "adminpw");
    // The replication user can do nothing else.
    let mut c = master.conn();
    assert_eq!(c.c(&["AUTH", "repl", "replpw"]), "+OK\r\n");
    assert!(c
        .c(&["GET", "k"])
        .starts_with("-NOPERM this user has no permissions to run the 'get' command"));
}

fn replicates_authed(master: &Proc, replica: &Proc, pw: &str) {
    let mut m = master.conn();
    assert_eq!(m.c(&["AUTH", pw]), "+OK\r\n");
    let mut rc = replica.conn();
    assert_eq!(
        rc.c(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        "+OK\r\n"
    );
    assert_eq!(m.c(&["SET", "k", "v1"]), "+OK\r\n");
    wait_until("the replica has k", Duration::from_secs(20), || {
        rc.c(&["GET", "k"]) == "$2\r\nv1\r\n"
    });
    assert_eq!(m.c(&["SET", "k", "v2"]), "+OK\r\n");
    wait_until("the replica follows", Duration::from_secs(20), || {
        rc.c(&["GET", "k"]) == "$2\r\nv2\r\n"
    });
}

/// An aclfile without a `default` line gives a fresh default user (nopass,
/// all commands) at startup and on ACL LOAD, as Redis 7.0 does: requirepass
/// does not survive it.
#[test]
fn aclfile_without_default_keeps_the_default_user() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for (i, bin) in [tripod_server_bin(), redis_server_bin().unwrap()]
        .iter()
        .enumerate()
    {
        let f = dir.path().join(format!("{}.acl", i));
        std::fs::write(&f, "user z on >zp +get ~*\n").unwrap();
        let p = start_bin(
            bin,
            &["--requirepass", "pw", "--aclfile", f.to_str().unwrap()],
        );
        let mut c = p.conn();
        let mut replies = vec![c.c(&["PING"]), c.c(&["AUTH", "pw"]), c.c(&["ACL", "LOAD"])];
        let mut fresh = p.conn();
        replies.push(fresh.c(&["PING"]));
        replies.push(fresh.c(&["AUTH", "z", "zp"]));
        replies.push(fresh.c(&["GET", "k"]));
        replies.push(fresh.c(&["SET", "k", "v"]));
        seen.push(replies);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0][0], "+PONG\r\n");
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS find the keys (and their key spec
/// flags) Redis 7.0 finds, with its errors, byte for byte: key specs with key
/// counts, keywords and ranges, argument-dependent flags (SET ... GET,
/// BITFIELD), commands whose own finder knows the keys (SORT, MIGRATE,
/// GEORADIUS ... STORE), optional keys (EVAL), bad key counts.
#[test]
fn getkeys_and_flags_match_redis() {
    let (tp, rp) = both();
    let (mut t, mut r) = (tp.conn(), rp.conn());
    let cases = [
        "eval x 5",
        "eval x 0",
        "eval x 2 a b",
        "fcall f 1 a",
        "zunionstore d 5 a",
        "zinterstore d 2 a b",
        "set k v",
        "set k v get",
        "mset a 1 b 2",
        "lmove a b left right",
        "sort k by x get y store d",
        "sort_ro k by x",
        "georadius k 0 0 1 km store d storedist e",
        "migrate h 1 \"\" 0 10 keys a b",
        "bitfield k get u8 0",
        "bitfield k set u8 0 1",
        "xread count 1 streams a b 0 0",
        "xreadgroup group g c streams a 0",
        "blmpop 0 2 a b left",
        "sintercard 2 a b",
        "pfcount a b",
        "getex k",
        "memory usage k",
        "spublish c m",
        "ping",
        "nosuch k",
        "get",
    ];
    for sub in ["GETKEYS", "GETKEYSANDFLAGS"] {
        for case in cases {
            let mut args: Vec<Vec<u8>> = vec![b"COMMAND".to_vec(), sub.as_bytes().to_vec()];
            args.extend(case.split(' ').map(|w| w.replace('"', "").into_bytes()));
            let a: Vec<&[u8]> = args.iter().map(|v| v.as_slice()).collect();
            assert_eq!(
                String::from_utf8_lossy(&t.cmd(&a)),
                String::from_utf8_lossy(&r.cmd(&a)),
                "COMMAND {sub} {case}"
            );
        }
    }
    let help: &[&[u8]] = &[b"COMMAND", b"HELP"];
    assert_eq!(t.cmd(help), r.cmd(help));
}
