//! The wire protocol, byte for byte: RESP2 multibulk and inline requests,
//! pipelining, RESP3 after HELLO 3, Redis's protocol errors (reply, then close),
//! and robustness against hostile input.
mod common;
use common::*;
use std::io::Write;
use std::time::Duration;

#[test]
fn multibulk_and_inline_requests() {
    let s = start_tripod(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&[b"SET", b"k", b"v"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"GET", b"k"]), b"$1\r\nv\r\n");
    assert_eq!(c.cmd(&[b"GET", b"missing"]), b"$-1\r\n");
    c.send(b"SET inl \"a b\\n\"\r\n");
    assert_eq!(c.read_reply(), b"+OK\r\n");
    c.send(b"GET inl\n");
    assert_eq!(c.read_reply(), b"$4\r\na b\n\r\n");
    // Blank inline lines are ignored, like telnet keep-alives.
    c.send(b"\r\n\r\nPING\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
    assert_eq!(c.cmd(&[b"INCR", b"n"]), b":1\r\n");
    assert_eq!(
        c.cmd(&[b"MGET", b"k", b"nope"]),
        b"*2\r\n$1\r\nv\r\n$-1\r\n"
    );
    // Binary-safe keys and values.
    assert_eq!(c.cmd(&[b"SET", b"\x00\xff\r\n", b"\r\n\x00"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"GET", b"\x00\xff\r\n"]), b"$3\r\n\r\n\x00\r\n");
}

#[test]
fn pipelined_requests_are_all_answered_in_order() {
    let s = start_tripod(&[]);
    let mut c = s.conn();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(encode(&[
            b"SET",
            format!("key:{}", i).as_bytes(),
            i.to_string().as_bytes(),
        ]));
        batch.extend(encode(&[b"INCR", format!("key:{}", i).as_bytes()]));
    }
    c.send(&batch);
    for i in 0..1000 {
        assert_eq!(c.read_reply(), b"+OK\r\n");
        assert_eq!(c.read_reply(), format!(":{}\r\n", i + 1).into_bytes());
    }
    // A request split across many tiny writes.
    let req = encode(&[b"SET", b"split", b"value-written-one-byte-at-a-time"]);
    for b in &req {
        c.s.write_all(std::slice::from_ref(b)).unwrap();
    }
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(
        c.cmd(&[b"GET", b"split"]),
        b"$32\r\nvalue-written-one-byte-at-a-time\r\n"
    );
}

#[test]
fn resp3_after_hello_3() {
    let s = start_tripod(&[]);
    let mut c = s.conn();
    let hello = String::from_utf8(c.cmd(&[b"HELLO", b"3"])).unwrap();
    assert!(hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n"), "{}", hello);
    assert_eq!(c.cmd(&[b"GET", b"nope"]), b"_\r\n");
    assert_eq!(c.cmd(&[b"SET", b"f", b"1.5"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"port"])[..4], *b"%1\r\n");
    assert_eq!(c.cmd(&[b"HELLO", b"2"])[..4], *b"*14\r");
    assert_eq!(c.cmd(&[b"GET", b"nope"]), b"$-1\r\n");
    assert_eq!(
        c.cmd(&[b"HELLO", b"4"]),
        b"-NOPROTO unsupported protocol version\r\n"
    );
}

#[test]
fn protocol_errors_reply_then_close() {
    let s = start_tripod(&[]);
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"*1048577\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$536870913\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\nfoo\r\n",
            b"-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
        (
            b"SET k \"unbalanced\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"*x\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
    ];
    for (req, want) in cases {
        let mut c = s.conn();
        c.send(req);
        assert_eq!(
            c.read_to_close(),
            *want,
            "request {:?}",
            String::from_utf8_lossy(req)
        );
    }
    // A too-long inline request.
    let mut c = s.conn();
    c.send(&vec![b'a'; 70 * 1024]);
    assert_eq!(
        c.read_to_close(),
        b"-ERR Protocol error: too big inline request\r\n"
    );
    // The server is fine afterwards.
    assert_eq!(s.conn().cmd(&[b"PING"]), b"+PONG\r\n");
}

#[test]
fn proto_max_bulk_len_is_honoured() {
    let s = start_tripod(&["--proto-max-bulk-len", "1mb"]);
    let mut c = s.conn();
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n");
    assert_eq!(
        c.read_to_close(),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
}

#[test]
fn garbage_never_crashes_or_blocks_others() {
    let s = start_tripod(&[]);
    let mut bystander = s.conn();
    // Deterministic pseudo-random garbage, in many shapes.
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for round in 0..200 {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        let len = 1 + (round * 37) % 3000;
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bytes.push(match round % 4 {
                0 => (x & 0xff) as u8,
                1 => pick(b"*$\r\n0123456789-", x),
                2 => pick(b"*1\r\n$3\r\nGET\"' \\x", x),
                _ => pick(b"SET \"\\x00\" '\"\r\n", x),
            });
        }
        let _ = c.write_all(&bytes);
        drop(c);
    }
    // A client that announces a huge multibulk and sends nothing more does not block others.
    let mut hog = s.conn();
    hog.send(b"*1048576\r\n$536870912\r\nabc");
    assert_eq!(bystander.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(s.conn().cmd(&[b"SET", b"after", b"1"]), b"+OK\r\n");
}

fn pick(alphabet: &[u8], x: u64) -> u8 {
    alphabet[(x % alphabet.len() as u64) as usize]
}

#[test]
fn quit_closes_after_reply() {
    let s = start_tripod(&[]);
    let mut c = s.conn();
    c.send(b"QUIT\r\nPING\r\n");
    assert_eq!(c.read_to_close(), b"+OK\r\n");
}

#[test]
fn big_values_round_trip() {
    let s = start_tripod(&[]);
    let mut c = s.conn();
    let big = vec![b'x'; 20 * 1024 * 1024];
    assert_eq!(c.cmd(&[b"SET", b"big", &big]), b"+OK\r\n");
    let reply = c.cmd(&[b"GET", b"big"]);
    assert_eq!(reply.len(), big.len() + 13);
    assert_eq!(c.cmd(&[b"STRLEN", b"big"]), b":20971520\r\n");
}

/// Big arguments (32 KB and up) are read into a buffer of their own: sent in
/// odd-sized pieces, in the middle of a request, pipelined with what follows,
/// and with the earlier arguments of the request split too, they arrive whole.
#[test]
fn big_arguments_in_pieces_and_pipelined() {
    let s = start_tripod(&[]);
    let mut c = s.conn();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let big2: Vec<u8> = (0..40_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let mut batch = encode(&[b"SET", b"k1", &big, b"EX", b"100"]);
    batch.extend(encode(&[b"SET", b"k2", &big2]));
    batch.extend(encode(&[b"MSET", b"a", &big2, b"b", &big]));
    batch.extend(encode(&[b"GET", b"k1"]));
    batch.extend(encode(&[b"GET", b"k2"]));
    batch.extend(encode(&[b"TTL", b"k1"]));
    for piece in batch.chunks(4093) {
        c.s.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(c.read_reply(), b"+OK\r\n");
    let bulk = |v: &[u8]| {
        let mut r = format!("${}\r\n", v.len()).into_bytes();
        r.extend_from_slice(v);
        r.extend_from_slice(b"\r\n");
        r
    };
    assert_eq!(c.read_reply(), bulk(&big));
    assert_eq!(c.read_reply(), bulk(&big2));
    assert_eq!(c.read_reply(), b":100\r\n");
    assert_eq!(c.cmd(&[b"GET", b"a"]), bulk(&big2));
    assert_eq!(c.cmd(&[b"GET", b"b"]), bulk(&big));
    // A client that goes away in the middle of a big argument leaves the
    // server serving the others.
    let mut half = s.conn();
    half.send(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$100000\r\n");
    half.send(&big[..50_000]);
    drop(half);
    assert_eq!(c.cmd(&[b"EXISTS", b"x"]), b":0\r\n");
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
}

#[test]
fn clients_are_served_concurrently() {
    let s = start_tripod(&[]);
    let port = s.port;
    let handles: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = Conn::connect(port);
                for i in 0..500 {
                    let k = format!("t{}:{}", t, i);
                    assert_eq!(c.cmd(&[b"SET", k.as_bytes(), b"v"]), b"+OK\r\n");
                }
                assert_eq!(c.cmd(&[b"INCRBY", b"total", b"500"])[0], b':');
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut c = s.conn();
    assert_eq!(c.cmd(&[b"GET", b"total"]), b"$4\r\n4000\r\n");
    assert_eq!(c.cmd(&[b"DBSIZE"]), b":4001\r\n");
    let _ = Duration::from_secs(0);
}

#[test]
fn maxmemory_noeviction_refuses_writes_and_policies_evict() {
    let s = start_tripod(&["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]);
    let mut c = s.conn();
    let value = vec![b'v'; 10_000];
    let mut refused = false;
    for i in 0..2000 {
        let r = c.cmd(&[b"SET", format!("k{}", i).as_bytes(), &value]);
        if r != b"+OK\r\n" {
            assert_eq!(
                r,
                b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
            );
            refused = true;
            break;
        }
    }
    assert!(
        refused,
        "writes past maxmemory must be refused under noeviction"
    );
    // Reads and deletes still work.
    assert_eq!(c.cmd(&[b"GET", b"k0"]).len(), 10_000 + 10);
    assert_eq!(c.cmd(&[b"DEL", b"k0"]), b":1\r\n");

    let s = start_tripod(&["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-random"]);
    let mut c = s.conn();
    for i in 0..2000 {
        assert_eq!(
            c.cmd(&[b"SET", format!("k{}", i).as_bytes(), &value]),
            b"+OK\r\n"
        );
    }
    let info = String::from_utf8(c.cmd(&[b"INFO", b"stats"])).unwrap();
    let evicted: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("evicted_keys:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(evicted > 1000, "{}", evicted);
}

#[test]
fn slow_subscriber_is_dropped_at_the_output_limit() {
    // The pub/sub hard limit keeps a subscriber that never reads from growing memory.
    let s = start_tripod(&["--client-output-buffer-limit", "pubsub 1mb 512kb 60"]);
    let mut sub = s.conn();
    sub.cmd(&[b"SUBSCRIBE", b"ch"]);
    let mut publisher = s.conn();
    let msg = vec![b'x'; 64 * 1024];
    let mut receivers = b":1\r\n".to_vec();
    // Enough that the kernel's socket buffers (several MB on loopback) cannot hide
    // the backlog: the rest piles up in the server's output buffer.
    for _ in 0..2000 {
        receivers = publisher.cmd(&[b"PUBLISH", b"ch", &msg]);
        if receivers == b":0\r\n" {
            break;
        }
    }
    assert_eq!(receivers, b":0\r\n", "the subscriber must be disconnected");
}

/// Clients of the `unixsocket` listener are served like TCP clients, and
/// CLIENT LIST shows them as Redis does: the socket's path as both addresses
/// and the `U` flag. Same line shape from redis-server.
#[test]
fn unix_socket_clients_are_listed_with_their_path_and_u_flag() {
    use std::io::{Read, Write as _};
    for name in ["tripod", "redis"] {
        let sockdir = tempfile::tempdir().unwrap();
        let path = sockdir.path().join("s.sock");
        let path_s = path.to_str().unwrap().to_string();
        let _s = start_server(name, &["--unixsocket", &path_s]);
        let mut u = std::os::unix::net::UnixStream::connect(&path).unwrap();
        u.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        u.write_all(&encode(&[b"CLIENT", b"LIST"])).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while reply_len(&got).is_none() {
            let n = u.read(&mut buf).unwrap();
            assert!(n > 0, "{name}: closed");
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got).to_string();
        assert!(
            text.contains(&format!("addr={path_s}:0 laddr={path_s}:0 ")),
            "{name}: {text}"
        );
        assert!(text.contains(" flags=U "), "{name}: {text}");
    }
}
