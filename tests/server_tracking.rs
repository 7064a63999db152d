//! Client-side caching (CLIENT TRACKING and friends) and sharded pub/sub,
//! side by side: every scenario runs against tripod-server and Debian's
//! redis-server over raw sockets, and the raw RESP2/RESP3 bytes each
//! connection receives must be the same. Client ids (which differ between
//! the two servers) are replaced by placeholders before comparing.

mod common;

use common::{encode, start_redis, start_tripod, Conn, Proc};

/// What a scenario saw: every reply, in order, with the connection's name.
struct Transcript {
    lines: Vec<String>,
    ids: Vec<(String, String)>,
}

impl Transcript {
    fn new() -> Self {
        Transcript {
            lines: Vec::new(),
            ids: Vec::new(),
        }
    }

    /// Records a client id under a placeholder name.
    fn id(&mut self, name: &str, id: &str) {
        self.ids
            .push((format!(":{}\r\n", id), format!(":<{}>\r\n", name)));
    }

    /// Records one reply read from connection `who`.
    fn note(&mut self, who: &str, reply: &[u8]) {
        let s = String::from_utf8_lossy(reply).into_owned();
        self.lines.push(format!("{}: {}", who, s));
    }

    /// Replaces the recorded client ids in the last line by their names
    /// (for replies that show an id: GETREDIR, TRACKINGINFO...).
    fn hide_ids(&mut self) {
        if let Some(l) = self.lines.last_mut() {
            for (from, to) in &self.ids {
                *l = l.replace(from, to);
            }
        }
    }
}

/// Sends a command on `c` and records its reply.
fn run(t: &mut Transcript, who: &str, c: &mut Conn, args: &[&str]) -> String {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    let r = c.cmd(&a);
    t.note(who, &r);
    String::from_utf8_lossy(&r).into_owned()
}

/// Reads `n` more replies (pushes, messages) from `c` and records them.
fn read(t: &mut Transcript, who: &str, c: &mut Conn, n: usize) {
    for _ in 0..n {
        let r = c.read_reply();
        t.note(who, &r);
    }
}

/// The integer of a `:n` reply.
fn int_of(reply: &str) -> String {
    reply.trim_start_matches(':').trim_end().to_string()
}

/// Runs `scenario` on both servers and compares what each saw.
fn side_by_side(scenario: fn(&Proc, &mut Transcript)) {
    let tripod = start_tripod(&[]);
    let redis = start_redis(&[]);
    let mut a = Transcript::new();
    scenario(&tripod, &mut a);
    let mut b = Transcript::new();
    scenario(&redis, &mut b);
    assert_eq!(a.lines, b.lines, "tripod (left) and redis-server (right)");
}

#[test]
fn resp3_push_invalidation_after_the_reply() {
    side_by_side(|p, t| {
        let mut c = p.conn();
        let mut w = p.conn();
        run(t, "c", &mut c, &["HELLO", "3"]);
        // HELLO's map holds the id: only its shape matters here.
        t.lines.pop();
        run(t, "c", &mut c, &["CLIENT", "TRACKING", "on"]);
        run(t, "w", &mut w, &["SET", "k", "1"]);
        run(t, "c", &mut c, &["GET", "k"]);
        run(t, "w", &mut w, &["SET", "k", "2"]);
        read(t, "c", &mut c, 1);
        // Read again: tracked again; the client's own write invalidates it
        // after the write's reply.
        run(t, "c", &mut c, &["GET", "k"]);
        run(t, "c", &mut c, &["INCR", "k"]);
        read(t, "c", &mut c, 1);
        // Not interleaved with a transaction's reply either.
        run(t, "c", &mut c, &["MGET", "k", "other"]);
        run(t, "c", &mut c, &["MULTI"]);
        run(t, "c", &mut c, &["INCR", "k"]);
        run(t, "c", &mut c, &["SET", "other", "x"]);
        run(t, "c", &mut c, &["EXEC"]);
        read(t, "c", &mut c, 2);
        // A flush is a null invalidation.
        run(t, "c", &mut c, &["GET", "k"]);
        run(t, "w", &mut w, &["FLUSHALL"]);
        read(t, "c", &mut c, 1);
        run(t, "c", &mut c, &["FLUSHDB"]);
        read(t, "c", &mut c, 1);
        // A key never read is not invalidated.
        run(t, "w", &mut w, &["SET", "unread", "1"]);
        run(t, "c", &mut c, &["PING"]);
        // HDEL removing the last field.
        run(t, "c", &mut c, &["HSET", "h", "f", "1"]);
        run(t, "c", &mut c, &["HGET", "h", "f"]);
        run(t, "c", &mut c, &["HDEL", "h", "f"]);
        read(t, "c", &mut c, 1);
        run(t, "c", &mut c, &["CLIENT", "TRACKINGINFO"]);
        run(t, "c", &mut c, &["CLIENT", "GETREDIR"]);
    });
}

#[test]
fn resp2_redirect_to_a_subscriber() {
    side_by_side(|p, t| {
        let mut r = p.conn();
        let mut c = p.conn();
        let mut w = p.conn();
        let id = int_of(&run(t, "r", &mut r, &["CLIENT", "ID"]));
        t.lines.pop();
        t.id("redir", &id);
        run(t, "r", &mut r, &["SUBSCRIBE", "__redis__:invalidate"]);
        run(
            t,
            "c",
            &mut c,
            &["CLIENT", "TRACKING", "on", "REDIRECT", &id],
        );
        run(t, "c", &mut c, &["CLIENT", "GETREDIR"]);
        t.hide_ids();
        run(t, "c", &mut c, &["CLIENT", "TRACKINGINFO"]);
        t.hide_ids();
        run(t, "w", &mut w, &["MSET", "a", "1", "b", "1"]);
        run(t, "c", &mut c, &["MGET", "a", "b"]);
        run(t, "w", &mut w, &["INCR", "a"]);
        read(t, "r", &mut r, 1);
        run(t, "c", &mut c, &["DEL", "b"]);
        read(t, "r", &mut r, 1);
        run(t, "c", &mut c, &["GET", "a"]);
        run(t, "w", &mut w, &["FLUSHALL"]);
        read(t, "r", &mut r, 1);
        // The INFO counters.
        run(t, "c", &mut c, &["GET", "x"]);
        run(t, "c", &mut c, &["GET", "y"]);
        let info = String::from_utf8_lossy(&w.cmd(&[b"INFO"])).into_owned();
        for l in info.lines().filter(|l| l.starts_with("tracking_")) {
            t.lines.push(l.to_string());
        }
        run(t, "c", &mut c, &["CLIENT", "TRACKING", "off"]);
        run(t, "c", &mut c, &["CLIENT", "GETREDIR"]);
        run(t, "c", &mut c, &["CLIENT", "TRACKINGINFO"]);
    });
}

#[test]
fn broken_redirection() {
    side_by_side(|p, t| {
        let mut r = p.conn();
        let mut c = p.conn();
        let mut w = p.conn();
        let id = int_of(&run(t, "r", &mut r, &["CLIENT", "ID"]));
        t.lines.pop();
        t.id("redir", &id);
        run(t, "c", &mut c, &["HELLO", "3"]);
        t.lines.pop();
        run(
            t,
            "c",
            &mut c,
            &["CLIENT", "TRACKING", "on", "REDIRECT", &id],
        );
        run(t, "c", &mut c, &["GET", "k"]);
        run(t, "r", &mut r, &["QUIT"]);
        common::wait_until(
            "the redirect client is gone",
            std::time::Duration::from_secs(5),
            || {
                let list = String::from_utf8_lossy(&w.cmd(&[b"CLIENT", b"LIST"])).into_owned();
                !list.contains(&format!("id={} ", id))
            },
        );
        run(t, "w", &mut w, &["SET", "k", "1"]);
        read(t, "c", &mut c, 1);
        t.hide_ids();
        run(t, "c", &mut c, &["CLIENT", "TRACKINGINFO"]);
        t.hide_ids();
        let list = String::from_utf8_lossy(&c.cmd(&[b"CLIENT", b"INFO"])).into_owned();
        let fields: Vec<&str> = list
            .split(' ')
            .filter(|f| f.starts_with("flags=") || f.starts_with("redir="))
            .collect();
        t.lines.push(fields.join(" ").replace(&id, "<redir>"));
    });
}

#[test]
fn bcast_prefixes_noloop_and_errors() {
    side_by_side(|p, t| {
        let mut c = p.conn();
        let mut w = p.conn();
        let mut e = p.conn();
        run(t, "c", &mut c, &["HELLO", "3"]);
        t.lines.pop();
        run(
            t,
            "c",
            &mut c,
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:", "NOLOOP",
            ],
        );
        run(t, "c", &mut c, &["CLIENT", "TRACKINGINFO"]);
        let info = String::from_utf8_lossy(&c.cmd(&[b"CLIENT", b"INFO"])).into_owned();
        let flags: Vec<&str> = info
            .split(' ')
            .filter(|f| f.starts_with("flags="))
            .collect();
        t.lines.push(flags.join(" "));
        // One message per prefix, keys sorted, after the whole MULTI.
        run(t, "w", &mut w, &["MULTI"]);
        for k in ["a:2", "a:1", "b:1", "c:1"] {
            run(t, "w", &mut w, &["INCR", k]);
        }
        run(t, "w", &mut w, &["EXEC"]);
        read(t, "c", &mut c, 2);
        // NOLOOP: its own changes are left out.
        run(t, "c", &mut c, &["SET", "a:own", "1"]);
        run(t, "c", &mut c, &["PING"]);
        // Adding a prefix; overlapping ones are refused.
        run(
            t,
            "c",
            &mut c,
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c:"],
        );
        run(t, "w", &mut w, &["SET", "c:9", "1"]);
        read(t, "c", &mut c, 1);
        run(
            t,
            "c",
            &mut c,
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"],
        );
        run(t, "c", &mut c, &["CLIENT", "TRACKING", "on"]);
        run(
            t,
            "e",
            &mut e,
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO",
            ],
        );
        run(t, "e", &mut e, &["CLIENT", "TRACKING", "on", "PREFIX", "x"]);
        run(
            t,
            "e",
            &mut e,
            &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
        );
        run(
            t,
            "e",
            &mut e,
            &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
        );
        run(
            t,
            "e",
            &mut e,
            &["CLIENT", "TRACKING", "on", "REDIRECT", "999999"],
        );
        run(
            t,
            "e",
            &mut e,
            &["CLIENT", "TRACKING", "on", "REDIRECT", "x"],
        );
        run(t, "e", &mut e, &["CLIENT", "TRACKING", "on", "BOGUS"]);
        run(t, "e", &mut e, &["CLIENT", "TRACKING", "maybe"]);
        run(t, "e", &mut e, &["CLIENT", "CACHING", "yes"]);
        run(t, "e", &mut e, &["CLIENT", "TRACKING", "on", "OPTIN"]);
        run(t, "e", &mut e, &["CLIENT", "TRACKING", "on", "OPTOUT"]);
        run(t, "e", &mut e, &["CLIENT", "CACHING", "no"]);
        run(t, "e", &mut e, &["CLIENT", "CACHING", "maybe"]);
        run(t, "e", &mut e, &["CLIENT", "CACHING", "yes"]);
        run(t, "e", &mut e, &["CLIENT", "TRACKINGINFO"]);
        run(t, "e", &mut e, &["CLIENT", "TRACKING", "off"]);
        run(t, "e", &mut e, &["CLIENT", "TRACKING", "on", "BCAST"]);
        run(t, "e", &mut e, &["CLIENT", "TRACKINGINFO"]);
        // RESET turns tracking off.
        run(t, "e", &mut e, &["RESET"]);
        run(t, "e", &mut e, &["CLIENT", "TRACKINGINFO"]);
    });
}

#[test]
fn optin_and_optout_caching() {
    side_by_side(|p, t| {
        let mut c = p.conn();
        let mut w = p.conn();
        run(t, "c", &mut c, &["HELLO", "3"]);
        t.lines.pop();
        run(t, "c", &mut c, &["CLIENT", "TRACKING", "on", "OPTIN"]);
        run(t, "c", &mut c, &["GET", "not-cached"]);
        run(t, "c", &mut c, &["CLIENT", "CACHING", "yes"]);
        run(t, "c", &mut c, &["CLIENT", "TRACKINGINFO"]);
        run(t, "c", &mut c, &["GET", "cached"]);
        run(t, "c", &mut c, &["CLIENT", "TRACKINGINFO"]);
        run(t, "w", &mut w, &["SET", "not-cached", "1"]);
        run(t, "w", &mut w, &["SET", "cached", "1"]);
        read(t, "c", &mut c, 1);
        // CACHING lasts for a whole transaction.
        run(t, "c", &mut c, &["CLIENT", "CACHING", "yes"]);
        run(t, "c", &mut c, &["MULTI"]);
        run(t, "c", &mut c, &["GET", "t1"]);
        run(t, "c", &mut c, &["GET", "t2"]);
        run(t, "c", &mut c, &["EXEC"]);
        run(t, "w", &mut w, &["MSET", "t1", "1", "t2", "2"]);
        read(t, "c", &mut c, 2);
        run(t, "c", &mut c, &["CLIENT", "TRACKING", "off"]);
        run(t, "c", &mut c, &["CLIENT", "TRACKING", "on", "OPTOUT"]);
        run(t, "c", &mut c, &["CLIENT", "CACHING", "no"]);
        run(t, "c", &mut c, &["GET", "skipped"]);
        run(t, "c", &mut c, &["GET", "kept"]);
        run(t, "w", &mut w, &["SET", "skipped", "1"]);
        run(t, "w", &mut w, &["SET", "kept", "1"]);
        read(t, "c", &mut c, 1);
    });
}

#[test]
fn tracking_table_max_keys_evicts_with_invalidations() {
    side_by_side(|p, t| {
        let mut c = p.conn();
        run(t, "c", &mut c, &["HELLO", "3"]);
        t.lines.pop();
        run(t, "c", &mut c, &["CLIENT", "TRACKING", "on"]);
        run(t, "c", &mut c, &["MGET", "k1", "k2", "k3"]);
        run(
            t,
            "c",
            &mut c,
            &["CONFIG", "SET", "tracking-table-max-keys", "1"],
        );
        // Which keys go is random: count them instead.
        let mut n = 0;
        for _ in 0..50 {
            c.send(&encode(&[b"PING"]));
            let mut got = 0;
            while c.read_reply().starts_with(b">2") {
                got += 1;
            }
            n += got;
            if n >= 2 && got == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        t.lines.push(format!("evicted {}", n));
    });
}

#[test]
fn sharded_pubsub() {
    side_by_side(|p, t| {
        let mut s2 = p.conn();
        let mut s3 = p.conn();
        let mut pb = p.conn();
        run(t, "s2", &mut s2, &["SSUBSCRIBE", "ch1", "ch2", "ch1"]);
        run(t, "s2", &mut s2, &["PING"]);
        run(t, "s2", &mut s2, &["GET", "x"]);
        run(t, "s3", &mut s3, &["HELLO", "3"]);
        t.lines.pop();
        run(t, "s3", &mut s3, &["SUBSCRIBE", "ch1"]);
        run(t, "s3", &mut s3, &["SSUBSCRIBE", "ch1"]);
        run(t, "pb", &mut pb, &["SPUBLISH", "ch1", "hello"]);
        read(t, "s2", &mut s2, 1);
        read(t, "s3", &mut s3, 1);
        run(t, "pb", &mut pb, &["PUBLISH", "ch1", "plain"]);
        read(t, "s3", &mut s3, 1);
        // (The order of several channels is the hash table's: one at a time.)
        run(t, "pb", &mut pb, &["PUBSUB", "SHARDCHANNELS", "*1"]);
        run(t, "pb", &mut pb, &["PUBSUB", "SHARDCHANNELS", "*2"]);
        run(
            t,
            "pb",
            &mut pb,
            &["PUBSUB", "SHARDNUMSUB", "ch1", "ch2", "none"],
        );
        run(t, "pb", &mut pb, &["PUBSUB", "NUMSUB", "ch1"]);
        let info = String::from_utf8_lossy(&pb.cmd(&[b"INFO", b"stats"])).into_owned();
        for l in info.lines().filter(|l| l.starts_with("pubsub")) {
            t.lines.push(l.to_string());
        }
        let list = String::from_utf8_lossy(&pb.cmd(&[b"CLIENT", b"LIST"])).into_owned();
        for l in list.lines() {
            let f: Vec<&str> = l
                .split(' ')
                .filter(|f| {
                    ["flags=", "sub=", "psub=", "ssub="]
                        .iter()
                        .any(|p| f.starts_with(p))
                })
                .collect();
            t.lines.push(f.join(" "));
        }
        run(t, "s2", &mut s2, &["SUNSUBSCRIBE", "ch1"]);
        run(t, "s2", &mut s2, &["SUNSUBSCRIBE"]);
        run(t, "s2", &mut s2, &["SUNSUBSCRIBE"]);
        run(t, "s2", &mut s2, &["GET", "x"]);
        // Confirmations are pushes: sent under CLIENT REPLY OFF.
        s3.send(&encode(&[b"CLIENT", b"REPLY", b"OFF"]));
        s3.send(&encode(&[b"PING"]));
        s3.send(&encode(&[b"SSUBSCRIBE", b"ch9"]));
        read(t, "s3", &mut s3, 1);
        run(t, "pb", &mut pb, &["SPUBLISH", "ch9", "m"]);
        read(t, "s3", &mut s3, 1);
        // SSUBSCRIBE is refused in a transaction, SUBSCRIBE is not.
        run(t, "pb", &mut pb, &["MULTI"]);
        run(t, "pb", &mut pb, &["SSUBSCRIBE", "x"]);
        run(t, "pb", &mut pb, &["SUBSCRIBE", "y"]);
        run(t, "pb", &mut pb, &["EXEC"]);
    });
}

#[test]
fn one_pipeline_switching_to_resp3_gets_its_own_invalidation() {
    side_by_side(|p, t| {
        let mut c = p.conn();
        let mut batch = Vec::new();
        for cmd in [
            &[&b"HELLO"[..], b"3"][..],
            &[b"CLIENT", b"TRACKING", b"on"],
            &[b"GET", b"p"],
            &[b"SET", b"p", b"1"],
            &[b"PING"],
        ] {
            batch.extend(encode(cmd));
        }
        c.send(&batch);
        let _hello = c.read_reply();
        read(t, "c", &mut c, 5);
    });
}
