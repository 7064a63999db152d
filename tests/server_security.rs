//! requirepass, AUTH and HELLO AUTH replies, and passwords kept out of logs and argv.
mod common;
use common::*;
use std::process::Command;

#[test]
fn requirepass_gates_every_command() {
    let s = start_tripod(&["--requirepass", "s3cret"]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&[b"GET", b"k"]),
        b"-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(c.cmd(&[b"PING"]), b"-NOAUTH Authentication required.\r\n");
    assert_eq!(
        c.cmd(&[b"AUTH", b"wrong"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        c.cmd(&[b"AUTH", b"nobody", b"s3cret"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&[b"AUTH", b"s3cret"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    let mut d = s.conn();
    assert_eq!(d.cmd(&[b"AUTH", b"default", b"s3cret"]), b"+OK\r\n");
    let mut e = s.conn();
    assert!(e
        .cmd(&[b"HELLO", b"3"])
        .starts_with(b"-NOAUTH HELLO must be called with the client already authenticated"));
    assert!(e
        .cmd(&[b"HELLO", b"3", b"AUTH", b"default", b"s3cret"])
        .starts_with(b"%7\r\n"));
    let mut f = s.conn();
    assert_eq!(f.cmd(&[b"QUIT"]), b"+OK\r\n");
    let mut g = s.conn();
    assert_eq!(g.cmd(&[b"RESET"]), b"+RESET\r\n");
}

#[test]
fn auth_without_a_password_configured() {
    let s = start_tripod(&[]);
    assert_eq!(
        s.conn().cmd(&[b"AUTH", b"x"]),
        &b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"[..]
    );
}

#[test]
fn password_never_appears_in_logs_or_argv() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("server.log");
    std::fs::write(
        dir.path().join("redis.conf"),
        format!(
            "bind 127.0.0.1\nport {}\nrequirepass \"Pa55-in-file\"\nmasterauth \"Pa55-in-file\"\nlogfile \"{}\"\nloglevel debug\nsave \"\"\ndir \"{}\"\n",
            port,
            log.display(),
            dir.path().display()
        ),
    )
    .unwrap();
    let server = Running::start(
        Command::new(tripod_server_bin()).arg(dir.path().join("redis.conf")),
        port,
    );
    let pid = server.pid();
    let mut c = Conn::connect(port);
    assert_eq!(
        c.cmd(&[b"AUTH", b"wrong-guess"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&[b"AUTH", b"Pa55-in-file"]), b"+OK\r\n");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid)).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains("Pa55"));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("Pa55") && !text.contains("wrong-guess"),
        "{}",
        text
    );
}

#[test]
fn protected_mode_only_refuses_non_loopback_without_password() {
    // Loopback clients are always accepted, even in protected mode with no password.
    let s = start_tripod(&["--protected-mode", "yes"]);
    assert_eq!(s.conn().cmd(&[b"PING"]), b"+PONG\r\n");
}
