//! The raw replication stream, byte for byte where it matters, against a real
//! Redis 7.0 fed the same commands in the same test.
//!
//! Both servers get a raw replica (a socket that does the PSYNC handshake, reads
//! the snapshot and acknowledges it), then the same commands; the commands each
//! stream carries are compared after normalising what must differ (PING and
//! REPLCONF keep-alives, absolute expiry times, long values shown by length).
//!
//! What Redis 7.0.15 does, and these tests pin down:
//! - a key found expired by a command (lazy expiry) is deleted as an effect of
//!   that command: its DEL goes out right before the command's own write, and
//!   inside MULTI/EXEC it lands inside the block;
//! - the effects of one execution unit are wrapped in MULTI/EXEC only when there
//!   are more than one (a transaction with a single write goes out bare, a write
//!   over an expired key goes out as MULTI, DEL, write, EXEC);
//! - keys evicted to make room for a command go out as their own DELs before the
//!   command, never inside a transaction's block.
mod common;
use common::*;
use std::time::Duration;

/// Starts tripod-server or redis-server with what both tests need: no delay
/// before a diskless sync, DEBUG allowed.
fn start(redis: bool) -> Proc {
    let extra = [
        "--repl-diskless-sync-delay",
        "0",
        "--enable-debug-command",
        "yes",
    ];
    if redis {
        start_redis(&extra)
    } else {
        start_tripod(&extra)
    }
}

/// Reads the stream up to and including `SET <marker> ...`, normalised: no PING
/// or REPLCONF, command names upper-case, absolute times (PXAT, PEXPIREAT) and
/// long values replaced.
fn stream_until(c: &mut Conn, marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let args: Vec<String> = flat(&c.read_reply())
            .iter()
            .map(|a| {
                if a.len() > 64 {
                    format!("<{} bytes>", a.len())
                } else {
                    String::from_utf8_lossy(a).into_owned()
                }
            })
            .collect();
        let name = args[0].to_ascii_uppercase();
        if name == "PING" || name == "REPLCONF" {
            continue;
        }
        let mut line = vec![name.clone()];
        let mut after_pxat = false;
        for (i, a) in args[1..].iter().enumerate() {
            let is_time = after_pxat || (name == "PEXPIREAT" && i == 1);
            line.push(if is_time { "<time>".into() } else { a.clone() });
            after_pxat = a.eq_ignore_ascii_case("PXAT");
        }
        out.push(line.join(" "));
        if name == "SET" && args.get(1).map(|s| s.as_str()) == Some(marker) {
            return out;
        }
    }
}

/// Sets `key` to expire in 1 ms and waits until it has.
fn set_expired(m: &mut Conn, key: &str) {
    assert_eq!(m.c(&["SET", key, "v", "PX", "1"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(20));
}

/// Lazy expiry only (active expiry off), inside and outside transactions.
fn lazy_expiry_stream(redis: bool) -> Vec<String> {
    let p = start(redis);
    let mut stream = raw_replica(&p);
    let mut m = p.conn();
    assert_eq!(m.c(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    // A transaction that reads an expired key and writes another.
    set_expired(&mut m, "k1");
    assert_eq!(m.c(&["MULTI"]), "+OK\r\n");
    assert_eq!(m.c(&["GET", "k1"]), "+QUEUED\r\n");
    assert_eq!(m.c(&["SET", "other", "1"]), "+QUEUED\r\n");
    assert_eq!(m.c(&["EXEC"]), "*2\r\n$-1\r\n+OK\r\n");
    // A transaction whose only effect is the lazy DEL.
    set_expired(&mut m, "k2");
    assert_eq!(m.c(&["MULTI"]), "+OK\r\n");
    assert_eq!(m.c(&["GET", "k2"]), "+QUEUED\r\n");
    assert_eq!(m.c(&["EXEC"]), "*1\r\n$-1\r\n");
    // A transaction with a single write.
    assert_eq!(m.c(&["MULTI"]), "+OK\r\n");
    assert_eq!(m.c(&["SET", "single", "1"]), "+QUEUED\r\n");
    assert_eq!(m.c(&["EXEC"]), "*1\r\n+OK\r\n");
    // A read, then a write, of an expired key outside a transaction.
    set_expired(&mut m, "k3");
    assert_eq!(m.c(&["GET", "k3"]), "$-1\r\n");
    set_expired(&mut m, "k4");
    assert_eq!(m.c(&["SET", "k4", "new"]), "+OK\r\n");
    assert_eq!(m.c(&["SET", "end", "1"]), "+OK\r\n");
    stream_until(&mut stream, "end")
}

#[test]
fn lazy_expiry_dels_land_where_redis_puts_them() {
    let ours = lazy_expiry_stream(false);
    let theirs = lazy_expiry_stream(true);
    assert_eq!(ours, theirs, "tripod (left) and Redis 7.0 (right) differ");
    let expected = [
        "SELECT 0",
        "SET k1 v PXAT <time>",
        "MULTI",
        "DEL k1",
        "SET other 1",
        "EXEC",
        "SET k2 v PXAT <time>",
        "DEL k2",
        "SET single 1",
        "SET k3 v PXAT <time>",
        "DEL k3",
        "SET k4 v PXAT <time>",
        "MULTI",
        "DEL k4",
        "SET k4 new",
        "EXEC",
        "SET end 1",
    ];
    assert_eq!(ours, expected);
}

fn used_memory(m: &mut Conn) -> u64 {
    let info = m.c(&["INFO", "memory"]);
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Lowers maxmemory to 1.5 MB under what is used now, so that evicting one of
/// the 3 MB victims is enough. (The margin covers the replication backlog,
/// which Redis counts up to its size and tripod, which allocates it at once,
/// does not count.)
fn squeeze(m: &mut Conn) {
    let used = used_memory(m);
    let max = (used - 1_500_000).to_string();
    assert_eq!(m.c(&["CONFIG", "SET", "maxmemory", &max]), "+OK\r\n");
}

/// Evictions (volatile-ttl, so the victim is known) before a plain write and
/// before a transaction.
fn eviction_stream(redis: bool) -> Vec<String> {
    let p = start(redis);
    let mut stream = raw_replica(&p);
    let mut m = p.conn();
    let big = "x".repeat(3_000_000);
    assert_eq!(
        m.c(&["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"]),
        "+OK\r\n"
    );
    for i in 0..10 {
        assert_eq!(m.c(&["SET", &format!("keep{}", i), "v"]), "+OK\r\n");
    }
    // One key with a TTL at a time, so that the victim does not depend on how
    // keys are sampled.
    assert_eq!(m.c(&["SET", "victim1", &big, "EX", "1000"]), "+OK\r\n");
    assert_eq!(m.c(&["SET", "victim2", &big]), "+OK\r\n");
    assert_eq!(m.c(&["SET", "mark1", "1"]), "+OK\r\n");
    // Drain what is in flight so that replica buffers do not count.
    let mut seen = stream_until(&mut stream, "mark1");
    squeeze(&mut m);
    assert_eq!(m.c(&["SET", "trigger", "y"]), "+OK\r\n");
    assert_eq!(m.c(&["SET", "mark2", "1"]), "+OK\r\n");
    seen.extend(stream_until(&mut stream, "mark2"));
    // A transaction queued before the squeeze, executed after it.
    assert_eq!(m.c(&["EXPIRE", "victim2", "2000"]), ":1\r\n");
    assert_eq!(m.c(&["MULTI"]), "+OK\r\n");
    assert_eq!(m.c(&["SET", "q1", "1"]), "+QUEUED\r\n");
    assert_eq!(m.c(&["SET", "q2", "2"]), "+QUEUED\r\n");
    let mut other = p.conn();
    squeeze(&mut other);
    assert_eq!(m.c(&["EXEC"]), "*2\r\n+OK\r\n+OK\r\n");
    assert_eq!(m.c(&["SET", "end", "1"]), "+OK\r\n");
    seen.extend(stream_until(&mut stream, "end"));
    assert_eq!(m.c(&["EXISTS", "victim1", "victim2"]), ":0\r\n");
    assert_eq!(m.c(&["DBSIZE"]), ":16\r\n");
    seen
}

#[test]
fn eviction_dels_precede_the_command_that_made_room() {
    let ours = eviction_stream(false);
    let theirs = eviction_stream(true);
    assert_eq!(ours, theirs, "tripod (left) and Redis 7.0 (right) differ");
    let tail: Vec<&str> = ours
        .iter()
        .map(|s| s.as_str())
        .skip_while(|s| *s != "SET mark1 1")
        .collect();
    assert_eq!(
        tail,
        [
            "SET mark1 1",
            "DEL victim1",
            "SET trigger y",
            "SET mark2 1",
            "PEXPIREAT victim2 <time>",
            "DEL victim2",
            "MULTI",
            "SET q1 1",
            "SET q2 2",
            "EXEC",
            "SET end 1",
        ]
    );
}
