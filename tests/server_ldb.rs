//! The Lua debugger (SCRIPT DEBUG YES|SYNC and its sessions) over raw sockets,
//! side by side with a real redis-server: every session's transcript (what the
//! server sends after each debugger command, up to the EVAL's reply and the
//! closed connection) must be identical, byte for byte, but the addresses of
//! functions. Further tests: what a session leaves in the dataset, whether the
//! server serves others meanwhile, a client that disconnects mid-session,
//! malformed debugger input, and `redis-cli --ldb`.
mod common;
use common::*;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// One debugging session: SCRIPT DEBUG `mode`, EVAL `script` with `args`
/// (numkeys, keys, args), then the debugger commands (raw bytes when a
/// command starts with a NUL-free `@raw:` marker: see `raw`).
struct Session {
    mode: &'static str,
    script: &'static str,
    args: &'static [&'static str],
    cmds: Vec<Vec<Vec<u8>>>,
}

fn cmds(list: &[&[&str]]) -> Vec<Vec<Vec<u8>>> {
    list.iter()
        .map(|c| c.iter().map(|a| a.as_bytes().to_vec()).collect())
        .collect()
}

/// A debugger "command" that is sent as these bytes, not encoded.
fn raw(bytes: &[u8]) -> Vec<Vec<u8>> {
    vec![b"@raw:".to_vec(), bytes.to_vec()]
}

/// Replaces hexadecimal addresses (`function@0x...`) with `ADDR`.
fn normalize(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"@0x") {
            out.extend_from_slice(b"@ADDR");
            i += 3;
            while i < b.len() && b[i].is_ascii_hexdigit() {
                i += 1;
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Runs a session on a fresh connection and returns its transcript: the reply
/// to each step, then (once the session ended) the EVAL's reply and whatever
/// came before the server closed the connection.
fn run_session(port: u16, s: &Session) -> Vec<Vec<u8>> {
    let mut c = Conn::connect(port);
    c.s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut out = vec![c.cmd(&[b"SCRIPT", b"DEBUG", s.mode.as_bytes()])];
    let mut eval: Vec<&[u8]> = vec![b"EVAL", s.script.as_bytes()];
    eval.extend(s.args.iter().map(|a| a.as_bytes()));
    out.push(c.cmd(&eval));
    let mut ended = out[1].windows(12).any(|w| w == b"<endsession>");
    for cmd in &s.cmds {
        if ended {
            break;
        }
        if cmd[0] == b"@raw:" {
            c.send(&cmd[1]);
        } else {
            let a: Vec<&[u8]> = cmd.iter().map(|x| x.as_slice()).collect();
            c.send(&encode(&a));
        }
        let r = c.read_reply();
        ended = r.windows(12).any(|w| w == b"<endsession>");
        out.push(normalize(&r));
    }
    if ended {
        out.push(c.read_reply());
        out.push(c.read_to_close());
    }
    out
}

fn sessions() -> Vec<Session> {
    let program = "local function f(x, y)\n  local z = x + y\n  redis.debug('in f', z, {x, y})\n  return z * 2\nend\nlocal t = {}\nfor i = 1, 3 do\n  t[i] = f(i, 10)\nend\nredis.breakpoint()\nlocal s = redis.call('set', KEYS[1], ARGV[1])\nreturn t";
    vec![
        // Stepping, with the commands the script runs and their replies.
        Session {
            mode: "sync",
            script: "local a = redis.call('lpush','l','x')\nlocal b = redis.pcall('get','l')\nredis.pcall('nosuch')\nlocal t = redis.error_reply('My err')\nredis.call('nosuch')\nreturn 1",
            args: &["0"],
            cmds: cmds(&[&["s"], &["s"], &["next"], &["n"], &["step"], &["s"]]),
        },
        // Breakpoints, print, trace, whole, redis.debug and redis.breakpoint.
        Session {
            mode: "sync",
            script: program,
            args: &["1", "kk", "vv"],
            cmds: cmds(&[
                &["b", "3"],
                &["break"],
                &["c"],
                &["p"],
                &["p", "x"],
                &["print", "t"],
                &["p", "nosuch"],
                &["t"],
                &["s"],
                &["s"],
                &["p"],
                &["b", "-3"],
                &["c"],
                &["s"],
                &["p"],
                &["p", "ARGV"],
                &["p", "KEYS"],
                &["w"],
                &["continue"],
            ]),
        },
        // eval, redis, maxlen, list, help and the errors of each.
        Session {
            mode: "yes",
            script: "return {1,2,{3}}",
            args: &["2", "k1", "k2", "a1"],
            cmds: cmds(&[
                &["e", "{1,2}"],
                &["e", "foo"],
                &["e", "x", "=", "1"],
                &["eval", "local", "x", "=", "1"],
                &["e", "error('boom')"],
                &["e", "1.5"],
                &["e", "'a\\0\\1\\n\\\"b\\t\\\\'"],
                &["e", "nil"],
                &["e", "{a=1, [2]=false}"],
                &["e", "1e100"],
                &["e", "1/0"],
                &["e", "function() end"],
                &["e", "{{{{{{{{{{{{1}}}}}}}}}}}}"],
                &["e", "KEYS"],
                &["e", "'unfinished"],
                &["r", "set", "x", "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"],
                &["r", "get", "x"],
                &["r", "get", "x"],
                &["redis", "hgetall", "nokey"],
                &["r", "nosuch", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"],
                &["r", "incr", "x"],
                &["r"],
                &["m"],
                &["m", "10"],
                &["maxlen", "0"],
                &["r", "get", "x"],
                &["m", "abc"],
                &["b", "1", "2", "x", "-1", "-3", "0", "01"],
                &["l", "0", "1"],
                &["l", "-5"],
                &["l", "100", "2"],
                &["list", "1", "0"],
                &["h"],
                &["HELP"],
                &["nosuch"],
                &["c"],
            ]),
        },
        // Abort keeps what a SYNC session wrote.
        Session {
            mode: "sync",
            script: "redis.call('set','written','1')\nreturn 2",
            args: &["0"],
            cmds: cmds(&[&["s"], &["a"]]),
        },
        // A script that ends on its own and one that fails.
        Session {
            mode: "sync",
            script: "local a = 1\nif a then\n  a = 2\nend\nlocal b = 2\n\n",
            args: &["0"],
            cmds: cmds(&[&["s"], &["s"], &["s"], &["s"], &["s"]]),
        },
        Session {
            mode: "yes",
            script: "#!lua flags=no-writes\nlocal v = redis.call('get','x')\nreturn redis.call('set','x','1')",
            args: &["0"],
            cmds: cmds(&[&["w"], &["s"], &["s"]]),
        },
        Session {
            mode: "sync",
            script: "return redis.status_reply()",
            args: &["0"],
            cmds: cmds(&[&["s"]]),
        },
        // RESP3 replies as the debugger shows them.
        Session {
            mode: "yes",
            script: "redis.setresp(3)\nlocal m = redis.call('hgetall', 'hh')\nlocal n = redis.call('smembers', 'ss')\nreturn 1",
            args: &["0"],
            cmds: cmds(&[
                &["r", "hset", "hh", "a", "1"],
                &["r", "sadd", "ss", "m"],
                &["s"],
                &["s"],
                &["s"],
                &["s"],
            ]),
        },
        // EVAL's own errors end the session at once.
        Session {
            mode: "sync",
            script: "return 1",
            args: &["5"],
            cmds: Vec::new(),
        },
        Session {
            mode: "yes",
            script: "return +",
            args: &["0"],
            cmds: Vec::new(),
        },
        // Malformed debugger input.
        Session {
            mode: "sync",
            script: "return 1",
            args: &["0"],
            cmds: vec![raw(b"s\r\n")],
        },
        Session {
            mode: "sync",
            script: "return 1",
            args: &["0"],
            cmds: vec![raw(b"*0\r\n")],
        },
        Session {
            mode: "sync",
            script: "return 1",
            args: &["0"],
            cmds: vec![raw(b"*1\r\n$0\r\n\r\n")],
        },
        Session {
            mode: "sync",
            script: "return 1",
            args: &["0"],
            cmds: vec![raw(b"*1\r\n$1\r\nsX\r\n")],
        },
        Session {
            mode: "sync",
            script: "return 1",
            args: &["0"],
            cmds: vec![
                raw(b"xx*1\r\n$1\r\nb\r\n"),
                raw(b"*1\r\n$1\r\nb\r\n*1\r\n$1\r\nh\r\n"),
                raw(b"*1\r\n$11\r\nhello\0world\r\n"),
                raw(b"*1\r\n$1\r\nc\r\n"),
            ],
        },
        // A stack of 100 arguments to a command that does not exist.
        Session {
            mode: "sync",
            script: "return 'hello'",
            args: &["0"],
            cmds: vec![
                raw(&{
                    let mut v = b"*101\r\n$5\r\nredis\r\n".to_vec();
                    for _ in 0..100 {
                        v.extend_from_slice(b"$4\r\ntest\r\n");
                    }
                    v
                }),
                raw(b"*1025\r\n"),
            ],
        },
        // The most arguments a debugger command takes, and errors as tables.
        Session {
            mode: "sync",
            script: "return 1",
            args: &["0"],
            cmds: {
                let mut big = vec![b"redis".to_vec(), b"rpush".to_vec(), b"biglist".to_vec()];
                big.extend((0..1021).map(|i| format!("v{}", i).into_bytes()));
                let mut v = vec![big];
                v.extend(cmds(&[
                    &["r", "llen", "biglist"],
                    &["r", "del", "biglist"],
                    &["e", "redis.pcall('nosuch')"],
                    &["e", "redis.call('ping')"],
                    &["c"],
                ]));
                v
            },
        },
        // More than 1 MB without a complete command.
        Session {
            mode: "sync",
            script: "return 1",
            args: &["0"],
            cmds: vec![raw(&{
                let mut v = b"*1\r\n$5".to_vec();
                v.extend(std::iter::repeat_n(b'1', 1100 * 1024));
                v
            })],
        },
    ]
}

#[test]
fn sessions_match_redis_byte_for_byte() {
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    for (i, s) in sessions().iter().enumerate() {
        let want = run_session(redis.port, s);
        let got = run_session(tripod.port, s);
        for (j, (w, g)) in want.iter().zip(got.iter()).enumerate() {
            assert_eq!(
                String::from_utf8_lossy(g),
                String::from_utf8_lossy(w),
                "session {} ({:?}), reply {}",
                i,
                s.script,
                j
            );
        }
        assert_eq!(got.len(), want.len(), "session {} length", i);
        // Both servers are still fine.
        assert_eq!(redis.conn().c(&["PING"]), "+PONG\r\n");
        assert_eq!(tripod.conn().c(&["PING"]), "+PONG\r\n");
    }
    // SYNC sessions wrote, forked ones did not.
    for p in [&redis, &tripod] {
        let mut c = p.conn();
        assert_eq!(c.c(&["GET", "written"]), "$1\r\n1\r\n");
        assert_eq!(c.c(&["EXISTS", "x", "hh", "ss"]), ":0\r\n");
        assert_eq!(c.c(&["LLEN", "l"]), ":1\r\n");
    }
}

#[test]
fn script_debug_errors_match_redis() {
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    let script: &[&[&str]] = &[
        &["SCRIPT", "DEBUG", "maybe"],
        &["SCRIPT", "DEBUG"],
        &["EVAL", "return redis.call('script','debug','yes')", "0"],
        &["MULTI"],
        &["SCRIPT", "DEBUG", "yes"],
        &["EXEC"],
        &["SCRIPT", "DEBUG", "sync"],
        &["EVALSHA", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "0"],
        &["EVALSHA", "short", "0"],
        &["SCRIPT", "DEBUG", "no"],
        &["EVAL", "return redis.breakpoint()", "0"],
        &["EVAL", "redis.debug('x') return 1", "0"],
    ];
    let mut r = redis.conn();
    let mut t = tripod.conn();
    for cmd in script {
        assert_eq!(t.c(cmd), r.c(cmd), "{:?}", cmd);
    }
    // Pipelined after another command: refused.
    let pipeline = [encode(&[b"PING"]), encode(&[b"SCRIPT", b"DEBUG", b"yes"])].concat();
    r.send(&pipeline);
    t.send(&pipeline);
    for _ in 0..2 {
        assert_eq!(t.read_reply(), r.read_reply());
    }
    // An EVAL queued in MULTI debugs inside EXEC: EXEC's reply follows the session.
    for mode in ["sync", "yes"] {
        let transcript = |p: &Proc| {
            let mut c = p.conn();
            let mut out = vec![c.cmd(&[b"SCRIPT", b"DEBUG", mode.as_bytes()])];
            out.push(c.cmd(&[b"MULTI"]));
            out.push(c.cmd(&[b"EVAL", b"return 1", b"0"]));
            out.push(c.cmd(&[b"EXEC"]));
            out.push(c.cmd(&[b"c"]));
            out.push(c.read_to_close());
            out
        };
        assert_eq!(transcript(&tripod), transcript(&redis), "{}", mode);
    }
}

/// The pids of the children of process `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", pid)) {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(s.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
            }
        }
    }
    out
}

#[test]
fn forked_session_leaves_the_server_serving_and_ends_with_its_client() {
    let tripod = start_tripod(&[]);
    let mut d = tripod.conn();
    assert_eq!(d.c(&["SCRIPT", "DEBUG", "yes"]), "+OK\r\n");
    let stop = d.c(&["EVAL", "redis.call('set','k','child')\nreturn 1", "0"]);
    assert!(stop.contains("* Stopped at 1"), "{}", stop);
    wait_until("the session's child", Duration::from_secs(5), || {
        children(tripod.pid).len() == 1
    });
    // The parent goes on serving, with its own dataset.
    let mut other = tripod.conn();
    assert_eq!(other.c(&["SET", "k", "parent"]), "+OK\r\n");
    let step = d.c(&["s"]);
    assert!(step.contains("<redis> set k child"), "{}", step);
    assert_eq!(other.c(&["GET", "k"]), "$6\r\nparent\r\n");
    // The client leaves: the child runs the script to its end and exits.
    drop(d);
    wait_until(
        "the child to exit and be reaped",
        Duration::from_secs(10),
        || children(tripod.pid).is_empty(),
    );
    assert_eq!(other.c(&["GET", "k"]), "$6\r\nparent\r\n");
    // A session can start again.
    let mut d = tripod.conn();
    d.c(&["SCRIPT", "DEBUG", "yes"]);
    assert!(d.c(&["EVAL", "return 5", "0"]).contains("Stopped at 1"));
    assert_eq!(d.c(&["c"]), "*1\r\n+<endsession>\r\n");
    assert_eq!(d.read_reply(), b":5\r\n");
    assert!(d.read_to_close().is_empty());
    let log = std::fs::read_to_string(tripod.dir.path().join("server.log")).unwrap();
    assert!(log.contains("Redis forked for debugging eval"), "{}", log);
    assert!(
        log.contains("Lua debugging session child exiting"),
        "{}",
        log
    );
}

#[test]
fn sync_session_blocks_the_server_until_its_client_leaves() {
    let tripod = start_tripod(&[]);
    let mut d = tripod.conn();
    d.c(&["SCRIPT", "DEBUG", "sync"]);
    let stop = d.c(&[
        "EVAL",
        "redis.call('set','k','1')\nredis.call('incr','k')\nreturn redis.call('get','k')",
        "0",
    ]);
    assert!(stop.contains("* Stopped at 1"), "{}", stop);
    d.c(&["s"]);
    // Another client waits while the session runs.
    let mut other = tripod.conn();
    other
        .s
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    other.send(&encode(&[b"GET", b"k"]));
    let mut buf = [0u8; 64];
    assert!(
        other.s.read(&mut buf).is_err(),
        "served during a SYNC session"
    );
    // The debugging client leaves: the script runs to its end, changes stay.
    drop(d);
    other
        .s
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(other.read_reply(), b"$1\r\n2\r\n");
    assert_eq!(other.c(&["PING"]), "+PONG\r\n");
    let log = std::fs::read_to_string(tripod.dir.path().join("server.log")).unwrap();
    assert!(log.contains("Redis synchronous debugging eval session started"));
    assert!(log.contains("Redis synchronous debugging eval session ended"));
}

#[test]
fn timeout_stops_a_looping_script_like_redis() {
    let redis = start_redis(&["--busy-reply-threshold", "100"]);
    let tripod = start_tripod(&["--busy-reply-threshold", "100"]);
    let s = Session {
        mode: "sync",
        script: "local i = 0\nwhile true do\n  i = i + 1\nend",
        args: &["0"],
        cmds: cmds(&[&["c"], &["b", "3"], &["c"], &["b", "0"], &["c"], &["a"]]),
    };
    let want = run_session(redis.port, &s);
    let got = run_session(tripod.port, &s);
    assert_eq!(
        String::from_utf8_lossy(&got.concat()),
        String::from_utf8_lossy(&want.concat())
    );
    // A client that leaves a stopped, looping script: the script is killed.
    let mut d = tripod.conn();
    d.c(&["SCRIPT", "DEBUG", "sync"]);
    d.c(&["EVAL", "while true do end", "0"]);
    assert!(d.c(&["c"]).contains("timeout reached, infinite loop?"));
    drop(d);
    assert_eq!(tripod.conn().c(&["PING"]), "+PONG\r\n");
}

/// Runs `redis-cli --ldb` (or another mode) with `input` typed in; returns its output.
fn redis_cli_ldb(port: u16, mode: &str, file: &std::path::Path, input: &str) -> String {
    let mut child = Command::new("redis-cli")
        .args(["-p", &port.to_string(), mode, "--eval"])
        .arg(file)
        .args(["key1", ",", "arg1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-cli must be installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn redis_cli_ldb_sessions_match_redis() {
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script.lua");
    std::fs::write(
        &file,
        "local a = {1,2,\"x\",{k=1}}\nlocal b = redis.call('set',KEYS[1],ARGV[1])\nredis.debug(a, \"hi\", 3.5)\nredis.breakpoint()\nlocal c = redis.call('get', KEYS[1])\nredis.call('incr', KEYS[1])\nreturn c\n",
    )
    .unwrap();
    let inputs = [
        (
            "--ldb",
            "s\ns\np\np a\nr get key1\ne 1+1\nt\nl\nw\nb 6\nb\nc\nc\nc\n",
        ),
        ("--ldb", "c\nc\nrestart\nc\nabort\n"),
        ("--ldb-sync-mode", "s\nc\nc\nc\n"),
        ("--ldb", "help\nquit\n"),
    ];
    for (mode, input) in inputs {
        let want = redis_cli_ldb(redis.port, mode, &file, input);
        let got = redis_cli_ldb(tripod.port, mode, &file, input);
        assert_eq!(got, want, "redis-cli {} with {:?}", mode, input);
    }
    for p in [&redis, &tripod] {
        assert_eq!(p.conn().c(&["GET", "key1"]), "$4\r\narg1\r\n");
    }
}
