//! redis-cli works against tripod-server: commands from standard input (as a
//! person types them), --scan, --bigkeys, -r repeats, and --pipe.
mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn cli_session(port: u16, input: &[u8]) -> String {
    let mut child = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned()
}

#[test]
fn redis_cli_reads_commands_like_a_person_types_them() {
    let s = start_tripod(&[]);
    let r = start_redis(&[]);
    let input = b"set k1 1\nmset k2 2 k3 3 k4 4\nget k3\nincr k1\nping\nnosuchcommand\nexists k1 k2 k9\nttl k1\n";
    let got = cli_session(s.port, input);
    assert!(got.starts_with("OK\nOK\n3\n2\nPONG\n"), "{}", got);
    assert_eq!(got, cli_session(r.port, input));
}

#[test]
fn scan_bigkeys_and_repeat() {
    let s = start_tripod(&[]);
    let mut c = s.conn();
    for i in 0..300 {
        c.cmd(&[
            b"SET",
            format!("key:{}", i).as_bytes(),
            "x".repeat(i).as_bytes(),
        ]);
    }
    let scanned = redis_cli(s.port, &["--scan", "--pattern", "key:*"]);
    let mut keys: Vec<&str> = scanned.lines().collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 300);
    let big = redis_cli(s.port, &["--bigkeys"]);
    assert!(
        big.contains("Biggest string found '\"key:299\"' has 299 bytes"),
        "{}",
        big
    );
    assert!(big.contains("300 strings with"), "{}", big);
    let rep = redis_cli(s.port, &["-r", "3", "incr", "counter"]);
    assert_eq!(
        rep,
        "(integer) 1\n(integer) 2\n(integer) 3\n".replace("(integer) ", "")
    );
}

#[test]
fn pipe_mode_mass_insert() {
    let s = start_tripod(&[]);
    let mut data = Vec::new();
    for i in 0..5000 {
        data.extend(encode(&[b"SET", format!("m:{}", i).as_bytes(), b"v"]));
    }
    let mut child = Command::new("redis-cli")
        .args(["-p", &s.port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("errors: 0, replies: 5000"), "{}", text);
    assert_eq!(s.conn().cmd(&[b"DBSIZE"]), b":5000\r\n");
}
