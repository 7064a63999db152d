//! HyperLogLog and GEO side by side with Debian's redis-server: the same
//! commands go to both servers and every reply (GET of the HLL strings
//! included, so the sparse and dense bytes are Redis's) must be identical byte
//! for byte; then the commands replicate from a tripod master to a real Redis
//! replica and a tripod replica, and travel the stream as Redis sends them.
mod common;
use common::*;
use std::time::Duration;

/// A small deterministic generator (xorshift64*), so both servers get the
/// same "random" input and a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A float in [lo, hi) printed with 6 decimals.
    fn coord(&mut self, lo: f64, hi: f64) -> String {
        let f = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        format!("{:.6}", lo + f * (hi - lo))
    }
}

/// Sends every command to both servers and collects the ones whose replies differ.
fn compare(cmds: &[Vec<String>]) {
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    let mut r = redis.conn();
    let mut t = tripod.conn();
    let mut failures = Vec::new();
    for cmd in cmds {
        let args: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        let a = r.cmd(&args);
        let b = t.cmd(&args);
        // HELLO's reply names the server: sent to both, not compared.
        if a != b && cmd[0] != "HELLO" {
            failures.push(format!(
                "{:?}\n  redis:  {:?}\n  tripod: {:?}",
                cmd,
                String::from_utf8_lossy(&a[..a.len().min(300)]),
                String::from_utf8_lossy(&b[..b.len().min(300)])
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} replies differ:\n{}",
        failures.len(),
        cmds.len(),
        failures.join("\n")
    );
}

fn cmd(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_string).collect()
}

#[test]
fn hyperloglog_replies_and_bytes_match_redis() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cmds: Vec<Vec<String>> = Vec::new();
    // Sizes that stay sparse, cross hll-sparse-max-bytes, and go far into dense.
    for (k, n) in [1u64, 10, 150, 600, 3000, 30000].iter().enumerate() {
        let key = format!("h{}", k);
        let mut added = 0;
        while added < *n {
            let batch = 1 + rng.below(40);
            let mut c = vec!["PFADD".to_string(), key.clone()];
            for _ in 0..batch {
                c.push(rng.below(1 << 40).to_string());
            }
            cmds.push(c);
            added += batch;
            if rng.below(20) == 0 {
                cmds.push(cmd(&format!("PFCOUNT {}", key)));
                cmds.push(cmd(&format!("GET {}", key)));
            }
        }
        for c in [
            "GET",
            "PFCOUNT",
            "GET",
            "PFDEBUG ENCODING",
            "STRLEN",
            "OBJECT ENCODING",
        ] {
            cmds.push(cmd(&format!("{} {}", c, key)));
        }
    }
    for c in [
        "PFCOUNT h0 h1 h2 h3 h4 h5 nokey",
        "PFCOUNT h1 h2",
        "PFMERGE m1 h1 h2",
        "GET m1",
        "PFCOUNT m1",
        "PFMERGE m2 h3 h5 nokey",
        "GET m2",
        "PFCOUNT m2",
        "PFMERGE m3",
        "GET m3",
        "PFADD empty",
        "GET empty",
        "PFADD empty",
        "PFCOUNT nokey",
        "PFDEBUG DECODE h2",
        "PFDEBUG DECODE h5",
        "PFDEBUG GETREG h1",
        "GET h1",
        "PFDEBUG TODENSE h2",
        "PFDEBUG TODENSE h2",
        "GET h2",
        "PFDEBUG NOPE h2",
        "PFDEBUG ENCODING nokey",
        "PFADD h2 ",
        "PFSELFTEST",
        // Not HLLs, or damaged ones.
        "SET str hello",
        "PFADD str a",
        "PFCOUNT str",
        "PFCOUNT h1 str",
        "PFMERGE str h1",
        "PFDEBUG ENCODING str",
        "LPUSH list a",
        "PFADD list a",
        "PFCOUNT list",
        "SET short HYLL",
        "PFADD short a",
        "PFADD bad a b c",
        "SETRANGE bad 4 \u{2}",
        "PFADD bad x",
        "SETRANGE bad 4 \u{0}",
        "PFCOUNT bad",
        "PFADD sp a b c",
        "APPEND sp zzzzzz",
        "PFCOUNT sp",
        "PFADD sp q",
        "PFCOUNT sp h0",
        "PFMERGE sp2 sp",
        "PFDEBUG GETREG sp",
        "CONFIG SET hll-sparse-max-bytes 60",
    ] {
        cmds.push(cmd(c));
    }
    for j in 0..80 {
        cmds.push(cmd(&format!("PFADD small e{}", j)));
        cmds.push(cmd("PFDEBUG ENCODING small"));
    }
    cmds.push(cmd("GET small"));
    cmds.push(cmd("PFCOUNT small"));
    compare(&cmds);
}

#[test]
fn geo_replies_match_redis() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut cmds: Vec<Vec<String>> = Vec::new();
    let n = 1500;
    for j in 0..n {
        // Half the points in a small region so searches find many of them.
        let (lon, lat) = if j % 2 == 0 {
            (rng.coord(-180.0, 180.0), rng.coord(-85.05, 85.05))
        } else {
            (rng.coord(12.0, 13.0), rng.coord(41.0, 42.0))
        };
        cmds.push(vec![
            "GEOADD".into(),
            "g".into(),
            lon,
            lat,
            format!("m{}", j),
        ]);
    }
    let units = ["m", "km", "mi", "ft"];
    let flags = ["WITHDIST", "WITHCOORD", "WITHHASH", "ASC", "DESC"];
    for _ in 0..120 {
        let (lon, lat) = if rng.below(3) == 0 {
            (rng.coord(-180.0, 180.0), rng.coord(-85.0, 85.0))
        } else {
            (rng.coord(12.0, 13.0), rng.coord(41.0, 42.0))
        };
        let r = ["0", "1", "20", "50", "300", "5000"][rng.below(6) as usize];
        let u = units[rng.below(4) as usize];
        let mut opts: Vec<String> = Vec::new();
        for f in flags {
            if rng.below(3) == 0 {
                opts.push(f.into());
            }
        }
        if rng.below(3) == 0 {
            opts.push("COUNT".into());
            opts.push((1 + rng.below(15)).to_string());
        }
        let mut c: Vec<String> = vec![
            "GEORADIUS".into(),
            "g".into(),
            lon.clone(),
            lat.clone(),
            r.into(),
            u.into(),
        ];
        c.extend(opts.iter().cloned());
        cmds.push(c);
        let member = format!("m{}", rng.below(n));
        let mut c: Vec<String> = vec![
            "GEORADIUSBYMEMBER_RO".into(),
            "g".into(),
            member.clone(),
            r.into(),
            u.into(),
        ];
        c.extend(opts.iter().cloned());
        cmds.push(c);
        let h = ["1", "40", "200"][rng.below(3) as usize];
        let mut c: Vec<String> = vec![
            "GEOSEARCH".into(),
            "g".into(),
            "FROMLONLAT".into(),
            lon,
            lat,
            "BYBOX".into(),
            r.into(),
            h.into(),
            u.into(),
        ];
        c.extend(opts.iter().cloned());
        cmds.push(c);
        cmds.push(cmd(&format!(
            "GEOSEARCHSTORE dst g FROMMEMBER {} BYRADIUS {} {} ASC STOREDIST",
            member, r, u
        )));
        cmds.push(cmd("ZRANGE dst 0 -1 WITHSCORES"));
        let other = format!("m{}", rng.below(n));
        cmds.push(cmd(&format!("GEODIST g {} {} {}", member, other, u)));
        cmds.push(cmd(&format!("GEOPOS g {} {} nosuch", member, other)));
        cmds.push(cmd(&format!("GEOHASH g {} {} nosuch", member, other)));
    }
    // Many points at equal distances: with COUNT Redis sorts with its
    // partial quicksort, whose order of ties must be reproduced.
    let grid = ["0", "0.001", "0.002", "-0.001"];
    let mut add = vec!["GEOADD".to_string(), "ties".to_string()];
    for j in 0..300u64 {
        add.push(grid[rng.below(4) as usize].into());
        add.push(grid[rng.below(3) as usize].into());
        add.push(format!("p{:03}", j));
    }
    cmds.push(add);
    for count in [1, 3, 7, 8, 41, 60, 150, 299, 300, 301] {
        for extra in ["", " DESC", " WITHDIST", " ANY", " ANY DESC"] {
            cmds.push(cmd(&format!(
                "GEORADIUS ties 0 0 1 km COUNT {}{}",
                count, extra
            )));
            cmds.push(cmd(&format!(
                "GEOSEARCH ties FROMLONLAT 0.0004 0 BYBOX 0.6 0.6 km COUNT {}{}",
                count, extra
            )));
        }
    }
    for c in [
        "GEOADD p 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "GEOADD p CH XX 13.361389 38.115557 Palermo 1 1 new",
        "GEOADD p NX 1 1 new",
        "GEOADD p NX XX 1 1 new",
        "GEOADD p 1 1",
        "GEOADD p 181 1 x",
        "GEOADD p 1 86 x",
        "GEOADD p x 1 x",
        "GEOADD p GT 1 1 x",
        "GEODIST p Palermo Catania",
        "GEODIST p Palermo Catania km extra",
        "GEODIST p Palermo Catania parsec",
        "GEODIST p Palermo Palermo",
        "GEODIST nokey a b",
        "GEOPOS nokey a",
        "GEOHASH nokey a",
        "GEORADIUS p 15 37 200 km STORE d1",
        "ZRANGE d1 0 -1 WITHSCORES",
        "GEORADIUS p 15 37 200 km STOREDIST d2 DESC",
        "ZRANGE d2 0 -1 WITHSCORES",
        "GEORADIUS p 15 37 200 km STORE d1 WITHDIST",
        "GEORADIUS_RO p 15 37 200 km STORE d1",
        "GEORADIUS p 15 37 1 m STORE d1",
        "EXISTS d1",
        "GEORADIUS nokey 15 37 1 m STORE d2",
        "EXISTS d2",
        "GEORADIUS p 15 37 -1 km",
        "GEORADIUS p 15 37 x km",
        "GEORADIUS p 15 37 1 parsec",
        "GEORADIUS p 190 37 1 km",
        "GEORADIUS p 15 37 200 km COUNT 0",
        "GEORADIUS p 15 37 200 km COUNT x",
        "GEORADIUS p 15 37 200 km COUNT 1 ANY",
        "GEORADIUS p 15 37 200 km ANY",
        "GEORADIUS p 15 37 200 km BOGUS",
        "GEORADIUSBYMEMBER p nosuch 100 km",
        "GEORADIUSBYMEMBER nokey nosuch x km",
        "GEOSEARCH p FROMMEMBER Palermo BYRADIUS 200 km WITHDIST",
        "GEOSEARCH p FROMMEMBER nosuch BYRADIUS 200 km",
        "GEOSEARCH p FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 200 km",
        "GEOSEARCH p BYRADIUS 200 km BYBOX 1 1 km FROMLONLAT 1 1",
        "GEOSEARCH p FROMLONLAT 15 37 BYBOX -1 1 km",
        "GEOSEARCH p FROMLONLAT 15 37 BYBOX x 1 km",
        "GEOSEARCH p FROMLONLAT 15 37 BYBOX 1 x km",
        "GEOSEARCH p FROMLONLAT 15 37 COUNT 1",
        "GEOSEARCH p BYRADIUS 1 km ASC",
        "GEOSEARCH p FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
        "GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km",
        "GEOSEARCHSTORE d3 p FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST",
        "GEOSEARCHSTORE d3 p FROMLONLAT 15 37 BYRADIUS 200 km",
        "ZRANGE d3 0 -1 WITHSCORES",
        "GEOSEARCHSTORE d3 nokey FROMLONLAT 15 37 BYRADIUS 200 km",
        "EXISTS d3",
        "SET s x",
        "GEOADD s 1 1 a",
        "GEOPOS s a",
        "GEODIST s a b",
        "GEORADIUS s 1 1 1 km",
        "GEOSEARCH s FROMLONLAT 1 1 BYRADIUS 1 km",
        "HELLO 3",
        "GEOPOS p Palermo nosuch",
        "GEORADIUS p 15 37 200 km WITHCOORD WITHDIST",
        "GEODIST p Palermo nosuch",
    ] {
        cmds.push(cmd(c));
    }
    compare(&cmds);
}

/// Waits until `replica` applied all the master wrote.
fn caught_up(master: &Proc, replica: &Proc) {
    let field = |p: &Proc, name: &str| {
        p.conn()
            .c(&["INFO", "replication"])
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{}:", name)).map(str::to_string))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    wait_until("the replica to catch up", Duration::from_secs(20), || {
        let m = field(master, "master_repl_offset");
        !m.is_empty()
            && field(replica, "master_link_status") == "up"
            && field(replica, "slave_repl_offset") == m
    });
}

#[test]
fn hll_and_geo_replicate_to_redis_and_tripod_replicas() {
    let master = start_tripod(&[]);
    let port = master.port.to_string();
    let redis_replica = start_redis(&["--replicaof", "127.0.0.1", &port]);
    let tripod_replica = start_tripod(&["--replicaof", "127.0.0.1", &port]);
    let mut m = master.conn();
    for j in 0..400 {
        m.c(&["PFADD", "hll", &format!("e{}", j)]);
    }
    m.c(&["PFADD", "sparse", "a", "b"]);
    m.c(&["PFCOUNT", "hll"]);
    m.c(&["PFMERGE", "merged", "hll", "sparse"]);
    m.c(&["PFDEBUG", "TODENSE", "sparse"]);
    m.c(&["GEOADD", "g", "13.361389", "38.115556", "Palermo"]);
    m.c(&["GEOADD", "g", "15.087269", "37.502669", "Catania"]);
    m.c(&[
        "GEOSEARCHSTORE",
        "near",
        "g",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
        "STOREDIST",
    ]);
    m.c(&["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "near2"]);
    for replica in [&redis_replica, &tripod_replica] {
        caught_up(&master, replica);
        let mut r = replica.conn();
        for key in ["hll", "sparse", "merged"] {
            assert_eq!(r.c(&["GET", key]), m.c(&["GET", key]), "{}", key);
        }
        for key in ["g", "near", "near2"] {
            let q = ["ZRANGE", key, "0", "-1", "WITHSCORES"];
            assert_eq!(r.c(&q), m.c(&q), "{}", key);
        }
    }
}

#[test]
fn stream_carries_geoadd_as_zadd_and_pfcount_cache_updates() {
    // No diskless-sync delay: the handshake reply comes before keep-alive newlines.
    let master = start_tripod(&["--repl-diskless-sync-delay", "0"]);
    let mut stream = raw_replica(&master);
    let mut m = master.conn();
    m.c(&["GEOADD", "g", "CH", "1", "1", "a"]);
    m.c(&["PFADD", "h", "x"]);
    m.c(&["PFCOUNT", "h"]);
    // A second PFCOUNT answers from the cache: nothing to send.
    m.c(&["PFCOUNT", "h"]);
    m.c(&["SET", "end", "1"]);
    let mut got: Vec<Vec<Vec<u8>>> = Vec::new();
    while got.last().map(|c| c[0].as_slice()) != Some(b"SET") {
        let r = stream.read_reply();
        let args = flat(&r);
        if args[0].eq_ignore_ascii_case(b"PING") || args[0].eq_ignore_ascii_case(b"SELECT") {
            continue;
        }
        got.push(args);
    }
    let shown: Vec<String> = got
        .iter()
        .map(|c| {
            c.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        shown,
        [
            "zadd g CH 3377822707026402 a",
            "PFADD h x",
            "PFCOUNT h",
            "SET end 1"
        ]
    );
}

/// The first `n` elements of COMMAND INFO's one entry (name, arity, flags,
/// key range, ACL categories, tips), raw.
fn info_head(reply: &[u8], n: usize) -> Vec<u8> {
    // "*1\r\n*10\r\n" then the elements.
    let mut p = 0;
    for _ in 0..2 {
        p += reply[p..].windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    }
    let start = p;
    for _ in 0..n {
        p += reply_len(&reply[p..]).unwrap();
    }
    reply[start..p].to_vec()
}

#[test]
fn command_info_and_getkeys_match_redis() {
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    let mut r = redis.conn();
    let mut t = tripod.conn();
    for name in [
        "pfadd",
        "pfcount",
        "pfmerge",
        "pfdebug",
        "pfselftest",
        "geoadd",
        "geodist",
        "geohash",
        "geopos",
        "georadius",
        "georadius_ro",
        "georadiusbymember",
        "georadiusbymember_ro",
        "geosearch",
        "geosearchstore",
    ] {
        let q = ["COMMAND", "INFO", name];
        assert_eq!(
            String::from_utf8_lossy(&info_head(r.c(&q).as_bytes(), 8)),
            String::from_utf8_lossy(&info_head(t.c(&q).as_bytes(), 8)),
            "{}",
            name
        );
    }
    for line in [
        "COMMAND GETKEYS georadius k 0 0 1 km STORE dst",
        "COMMAND GETKEYS georadius k 0 0 1 km STORE dst STOREDIST d2",
        "COMMAND GETKEYS georadius k 0 0 1 km STOREDIST d2 STORE dst",
        "COMMAND GETKEYS georadius k 0 0 1 km STORE",
        "COMMAND GETKEYS georadius k 0 0 1 km",
        "COMMAND GETKEYS georadiusbymember k store 1 km STORE a",
        "COMMAND GETKEYS georadius_ro k 0 0 1 km",
        "COMMAND GETKEYS geosearchstore d s FROMLONLAT 0 0 BYRADIUS 1 km",
        "COMMAND GETKEYS pfmerge a b c",
        "COMMAND GETKEYS pfcount a b",
        "COMMAND GETKEYS pfdebug getreg k",
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        assert_eq!(r.c(&args), t.c(&args), "{}", line);
    }
}
