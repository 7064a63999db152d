//! Keyspace notifications side by side with a real redis-server 7.0: the same
//! command script runs on both while a PSUBSCRIBE '__key*__:*' client
//! records what it receives; the message sequences must be equal byte for
//! byte (RESP2 and RESP3 subscribers, every type family, expired, evicted,
//! MULTI/EXEC, key-miss and new-key events, the flag string of CONFIG GET).

mod common;
use common::*;
use std::time::Duration;

/// Every command of a script, as argument lists.
type Script = Vec<Vec<&'static str>>;

fn s(line: &'static str) -> Vec<&'static str> {
    line.split(' ').collect()
}

/// Runs `script` on `p` with a subscriber (RESP3 when `resp3`), after
/// `CONFIG SET notify-keyspace-events <flags>`, and returns the bytes the
/// subscriber received (its subscription confirmations excluded), up to the
/// end marker published last. The writer's replies are returned too.
fn record(p: &Proc, flags: &str, resp3: bool, script: &Script) -> (Vec<u8>, Vec<u8>) {
    let mut w = p.conn();
    assert!(w
        .c(&["config", "set", "notify-keyspace-events", flags])
        .starts_with("+OK"));
    let mut sub = p.conn();
    if resp3 {
        sub.c(&["hello", "3"]);
    }
    sub.c(&["psubscribe", "__key*__:*"]);
    let mut replies = Vec::new();
    for cmd in script {
        let a: Vec<&[u8]> = cmd.iter().map(|x| x.as_bytes()).collect();
        replies.extend(w.cmd(&a));
        if cmd[0] == "debug" && cmd[1] == "sleep" {
            continue;
        }
    }
    w.c(&["publish", "__keyend__:", "end"]);
    let mut got = Vec::new();
    loop {
        let m = sub.read_reply();
        if m.windows(11).any(|x| x == b"__keyend__:") {
            break;
        }
        got.extend(m);
    }
    (got, replies)
}

/// The script on both servers; panics with both sequences when they differ.
fn compare(flags: &str, resp3: bool, setup: &[&str], script: Script) {
    let t = start_tripod(setup);
    let r = start_redis(setup);
    let (tg, tr) = record(&t, flags, resp3, &script);
    let (rg, rr) = record(&r, flags, resp3, &script);
    // Replies are compared where they are deterministic (SPOP picks at random).
    if !script.iter().any(|c| c[0] == "spop") {
        assert_eq!(
            String::from_utf8_lossy(&tr),
            String::from_utf8_lossy(&rr),
            "replies differ"
        );
    }
    assert_eq!(
        String::from_utf8_lossy(&tg),
        String::from_utf8_lossy(&rg),
        "notifications differ (tripod left, redis right)"
    );
    assert!(!rg.is_empty(), "the script produced no events");
}

fn generic_and_strings() -> Script {
    vec![
        s("set foo bar"),
        s("set foo bar2 ex 100"),
        s("setnx foo x"),
        s("setnx nx1 x"),
        s("setex se 100 v"),
        s("psetex pse 100000 v"),
        s("getset foo baz"),
        s("mset a 1 b 2"),
        s("msetnx c 1 d 2"),
        s("append a xyz"),
        s("append newappend xyz"),
        s("setrange a 1 QQ"),
        s("setrange sr 3 abc"),
        s("incr n"),
        s("incrby n 5"),
        s("decr n"),
        s("decrby n 2"),
        s("incrbyfloat f 1.5"),
        s("setbit bits 7 1"),
        s("setbit bits 7 1"),
        s("bitfield bf set u8 0 255"),
        s("bitop or dst a b"),
        s("bitop or dst nokey1 nokey2"),
        s("getex foo ex 100"),
        s("getex foo persist"),
        s("getdel a"),
        s("expire b 100"),
        s("pexpire b 100000"),
        s("persist b"),
        s("expire c -1"),
        s("rename d d2"),
        s("renamenx d2 d3"),
        s("copy d3 d4"),
        s("copy d3 d4 db 3"),
        s("move d4 5"),
        s("pfadd hll a b c"),
        s("pfadd hll a"),
        s("pfmerge hll2 hll"),
        s("get nosuchkey"),
        s("exists nosuchkey foo"),
        s("type nosuchkey"),
        s("ttl nosuchkey"),
        s("object encoding nosuchkey"),
        s("del foo n f nosuch"),
        s("unlink bits"),
        s("sadd sortme 3 1 2"),
        s("sort sortme store sorted"),
        s("sort nosuch store sorted"),
    ]
}

fn lists() -> Script {
    vec![
        s("lpush l a b c"),
        s("rpush l d e"),
        s("lpushx l z"),
        s("rpushx nolist z"),
        s("linsert l before a x"),
        s("linsert l before nothere x"),
        s("lset l 0 y"),
        s("lrem l 1 x"),
        s("lrem l 0 nothere"),
        s("ltrim l 0 4"),
        s("lpop l"),
        s("rpop l 2"),
        s("lmove l l2 left right"),
        s("rpoplpush l2 l2"),
        s("lmpop 2 nolist l left count 10"),
        s("rpush one a"),
        s("lmove one one right left"),
        s("lmove one other left left"),
        s("blpop other 0"),
        s("rpush tr a b"),
        s("ltrim tr 5 10"),
    ]
}

fn sets_and_hashes() -> Script {
    vec![
        s("sadd s a b c d"),
        s("sadd s a"),
        s("srem s x"),
        s("srem s a"),
        s("smove s s2 b"),
        s("smove s s2 nothere"),
        s("sadd s3 q"),
        s("smove s3 s2 q"),
        s("spop s"),
        s("sadd p 1 2 3"),
        s("spop p 2"),
        s("spop p 5"),
        s("sadd u1 a b"),
        s("sadd u2 b c"),
        s("sinterstore si u1 u2"),
        s("sunionstore su u1 u2"),
        s("sdiffstore sd u1 u2"),
        s("sinterstore su nokey u1"),
        s("hset h f1 v1 f2 v2"),
        s("hmset h f3 v3"),
        s("hsetnx h f1 x"),
        s("hsetnx h f9 x"),
        s("hincrby h n 3"),
        s("hincrbyfloat h fl 1.5"),
        s("hdel h nothere"),
        s("hdel h f1 f2 f3 f9 n fl"),
    ]
}

fn zsets_and_streams() -> Script {
    vec![
        s("zadd z 1 a 2 b 3 c 4 d 5 e"),
        s("zadd z 1 a"),
        s("zadd z xx 9 a"),
        s("zincrby z 1 a"),
        s("zadd z incr 1 b"),
        s("zrem z nothere"),
        s("zrem z b"),
        s("zremrangebyscore z 3 3"),
        s("zremrangebyrank z 0 0"),
        s("zadd lex 0 a 0 b 0 c"),
        s("zremrangebylex lex [a [b"),
        s("zpopmin z"),
        s("zpopmax z 10"),
        s("zadd z1 1 a 2 b"),
        s("zadd z2 1 b"),
        s("zunionstore zu 2 z1 z2"),
        s("zinterstore zi 2 z1 z2"),
        s("zdiffstore zd 2 z1 z2"),
        s("zrangestore zr z1 0 -1"),
        s("zrangestore zu nokey 0 -1"),
        s("zmpop 1 z1 min count 5"),
        s("geoadd g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"),
        s("geosearchstore gs g fromlonlat 15 37 byradius 200 km"),
        s("georadius g 15 37 200 km store gr"),
        s("xgroup create st grp $ mkstream"),
        s("xgroup createconsumer st grp Bob"),
        s("xadd st 1-0 f v"),
        s("xadd st maxlen 1 2-0 f v"),
        s("xadd st 3-0 f v"),
        s("xreadgroup group grp Alice streams st >"),
        s("xclaim st grp Mike 0 3-0 force"),
        s("xautoclaim st grp Zed 0 0"),
        s("xgroup delconsumer st grp Lee"),
        s("xgroup delconsumer st grp Bob"),
        s("xgroup setid st grp 0"),
        s("xdel st 3-0"),
        s("xtrim st maxlen 0"),
        s("xsetid st 10-0"),
        s("xgroup destroy st grp"),
        s("xadd st nomkstream 20-0 f v"),
        s("xadd nost nomkstream * f v"),
    ]
}

#[test]
fn generic_and_string_events_match_redis() {
    compare("KEA", false, &[], generic_and_strings());
}

#[test]
fn list_events_match_redis() {
    compare("KEA", false, &[], lists());
}

#[test]
fn set_and_hash_events_match_redis() {
    compare("KEA", false, &[], sets_and_hashes());
}

#[test]
fn zset_geo_and_stream_events_match_redis() {
    compare("KEA", false, &[], zsets_and_streams());
}

#[test]
fn new_and_keymiss_events_and_class_masks_match_redis() {
    let mut all = generic_and_strings();
    all.extend(lists());
    all.extend(sets_and_hashes());
    all.extend(zsets_and_streams());
    compare("Enm", false, &[], all.clone());
    compare("Kl", false, &[], lists());
    compare("Ez$", true, &[], all);
}

#[test]
fn resp3_subscriber_gets_pushes_as_redis() {
    compare("KEA", true, &[], lists());
}

#[test]
fn events_inside_multi_exec_match_redis() {
    compare(
        "KEA",
        false,
        &[],
        vec![
            s("multi"),
            s("set a 1"),
            s("incr a"),
            s("lpush l x"),
            s("rpop l"),
            s("del a"),
            s("exec"),
        ],
    );
}

#[test]
fn lazy_expiry_raises_expired_as_redis() {
    compare(
        "KEA",
        false,
        &[],
        vec![
            s("debug set-active-expire 0"),
            s("set k v px 1"),
            s("hset h f v"),
            s("pexpire h 1"),
            s("debug sleep 0.05"),
            s("get k"),
            s("hget h f"),
            s("exists h"),
            s("debug set-active-expire 1"),
        ],
    );
}

#[test]
fn active_expiry_raises_expired() {
    for p in [start_tripod(&[]), start_redis(&[])] {
        let mut w = p.conn();
        w.c(&["config", "set", "notify-keyspace-events", "Ex"]);
        let mut sub = p.conn();
        sub.c(&["subscribe", "__keyevent@0__:expired"]);
        w.c(&["set", "gone", "v", "px", "20"]);
        let m = sub.read_reply();
        assert_eq!(
            String::from_utf8_lossy(&m),
            "*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n$4\r\ngone\r\n"
        );
    }
}

#[test]
fn eviction_raises_evicted_as_redis() {
    compare(
        "KEA",
        false,
        &[],
        vec![
            s("config set maxmemory-policy allkeys-lru"),
            s("set victim v"),
            s("config set maxmemory 1"),
            s("set other v"),
            s("config set maxmemory 0"),
        ],
    );
}

#[test]
fn config_flags_normalise_as_redis() {
    let t = start_tripod(&[]);
    let r = start_redis(&[]);
    for flags in [
        "KEA",
        "Eg$lshzxetd",
        "mnEK",
        "lgK",
        "",
        "AKEnm",
        "xe",
        "KE A",
    ] {
        let mut a = t.conn();
        let mut b = r.conn();
        let set_t = a.c(&["config", "set", "notify-keyspace-events", flags]);
        let set_r = b.c(&["config", "set", "notify-keyspace-events", flags]);
        assert_eq!(set_t, set_r, "CONFIG SET {flags:?}");
        let get_t = a.c(&["config", "get", "notify-keyspace-events"]);
        let get_r = b.c(&["config", "get", "notify-keyspace-events"]);
        assert_eq!(get_t, get_r, "CONFIG GET after {flags:?}");
    }
    let _ = Duration::from_millis(0);
}

/// Subscribes to every keyspace event of `p` (a replica), once its link to
/// the master is up.
fn replica_subscriber(p: &Proc) -> Conn {
    let mut c = p.conn();
    wait_until("replica link up", Duration::from_secs(20), || {
        c.c(&["info", "replication"])
            .contains("master_link_status:up")
    });
    c.c(&["config", "set", "notify-keyspace-events", "KEA"]);
    let mut sub = p.conn();
    sub.c(&["psubscribe", "__key*__:*"]);
    sub
}

#[test]
fn replica_applying_the_stream_notifies_as_redis() {
    let master = start_redis(&[]);
    let port = master.port.to_string();
    let t = start_tripod(&["--replicaof", "127.0.0.1", &port]);
    let r = start_redis(&["--replicaof", "127.0.0.1", &port]);
    let mut ts = replica_subscriber(&t);
    let mut rs = replica_subscriber(&r);
    let mut m = master.conn();
    for cmd in [
        "set a 1",
        "incr a",
        "rpush l x y",
        "lpop l",
        "hset h f v",
        "sadd s m",
        "zadd z 1 m",
        "expire a 100",
        "del a l h s z",
    ] {
        let a: Vec<&[u8]> = cmd.split(' ').map(|x| x.as_bytes()).collect();
        m.cmd(&a);
    }
    m.c(&["publish", "__keyend__:", "end"]);
    let mut seqs = Vec::new();
    for sub in [&mut ts, &mut rs] {
        let mut got = Vec::new();
        loop {
            let msg = sub.read_reply();
            if msg.windows(11).any(|x| x == b"__keyend__:") {
                break;
            }
            got.extend(msg);
        }
        seqs.push(String::from_utf8_lossy(&got).into_owned());
    }
    assert!(!seqs[1].is_empty());
    assert_eq!(
        seqs[0], seqs[1],
        "replica notifications (tripod left, redis right)"
    );
}

#[test]
fn events_from_scripts_match_redis() {
    compare(
        "KEA",
        false,
        &[],
        vec![
            vec![
                "eval",
                "redis.call('set',KEYS[1],'v') redis.call('lpush',KEYS[2],'x') redis.call('del',KEYS[1],KEYS[2]) return 1",
                "2",
                "sk",
                "sl",
            ],
            vec!["eval", "return redis.call('incr',KEYS[1])", "1", "cnt"],
        ],
    );
}
