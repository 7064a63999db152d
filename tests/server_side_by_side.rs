//! Side by side with real Redis: the same command scripts go to a redis-server
//! and to tripod-server, and every reply must be identical, byte for byte.
//!
//! Script lines use redis-cli quoting. A line starting with `~ ` is a command
//! whose reply is an unordered collection: its elements are compared sorted; a
//! line starting with `! ` is sent to both servers without comparing replies.
mod common;
use common::*;

/// Splits a script line into arguments (double quotes with \" and \\ escapes).
fn split(line: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut inq = false;
    let mut has = false;
    let mut chars = line.bytes().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            b'"' => {
                inq = !inq;
                has = true;
            }
            b'\\' if inq => {
                if let Some(n) = chars.next() {
                    cur.push(match n {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b'0' => 0,
                        o => o,
                    });
                }
            }
            b' ' if !inq => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            o => cur.push(o),
        }
    }
    if has || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Splits an array reply into its element replies (one level), for sorted comparison.
fn elements(reply: &[u8]) -> Vec<Vec<u8>> {
    let head_end = reply.windows(2).position(|w| w == b"\r\n").unwrap();
    let mut rest = &reply[head_end + 2..];
    let mut v = Vec::new();
    while !rest.is_empty() {
        let n = reply_len(rest).unwrap();
        v.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    v.sort();
    v
}

fn run_script(script: &str) {
    let redis = start_redis(&["--enable-debug-command", "yes"]);
    let tripod = start_tripod(&["--enable-debug-command", "yes"]);
    let mut r = redis.conn();
    let mut t = tripod.conn();
    let mut n = 0;
    let mut failures = Vec::new();
    for (lineno, raw) in script.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // "! cmd": sent to both, reply not compared (HELLO's reply names the server).
        let (ignored, line) = match line.strip_prefix("! ") {
            Some(l) => (true, l),
            None => (false, line),
        };
        let (unordered, line) = match line.strip_prefix("~ ") {
            Some(l) => (true, l),
            None => (false, line),
        };
        let args = split(line);
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        let want = r.cmd(&refs);
        let got = t.cmd(&refs);
        if ignored {
            continue;
        }
        n += 1;
        let (g, w) = if unordered {
            let head =
                |b: &[u8]| b[..b.iter().position(|&x| x == b'\n').unwrap_or(b.len())].to_vec();
            let (mut g, mut w) = (head(&got), head(&want));
            if g == w && (got.starts_with(b"*") || got.starts_with(b"~")) {
                g = elements(&got).concat();
                w = elements(&want).concat();
            }
            (g, w)
        } else {
            (got, want)
        };
        if g != w {
            failures.push(format!(
                "line {}: {}\n   redis: {:?}\n  tripod: {:?}",
                lineno + 1,
                line,
                String::from_utf8_lossy(&w),
                String::from_utf8_lossy(&g)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} replies differ:\n{}",
        failures.len(),
        n,
        failures.join("\n")
    );
    assert!(n > 0);
}

#[test]
fn strings() {
    run_script(include_str!("scripts/strings.txt"));
}

#[test]
fn keys_and_expiry() {
    run_script(include_str!("scripts/keys.txt"));
}

#[test]
fn connection_and_server() {
    run_script(include_str!("scripts/connection.txt"));
}

#[test]
fn lists() {
    run_script(include_str!("scripts/lists.txt"));
}

#[test]
fn transactions() {
    run_script(include_str!("scripts/transactions.txt"));
}

#[test]
fn debug_subcommands() {
    run_script(include_str!("scripts/debug.txt"));
}

#[test]
fn script_line_splitting() {
    assert_eq!(
        split(r#"SET "a b" c"#),
        vec![b"SET".to_vec(), b"a b".to_vec(), b"c".to_vec()]
    );
    assert_eq!(
        split(r#"SET k """#),
        vec![b"SET".to_vec(), b"k".to_vec(), b"".to_vec()]
    );
}

#[test]
fn hashes() {
    run_script(include_str!("scripts/hashes.txt"));
}

#[test]
fn sets() {
    run_script(include_str!("scripts/sets.txt"));
}

#[test]
fn sorted_sets() {
    run_script(include_str!("scripts/zsets.txt"));
}

#[test]
fn resp3_replies_of_collections() {
    run_script(include_str!("scripts/resp3.txt"));
}
