//! Lua scripting side by side with real Redis: the same EVAL/EVALSHA/SCRIPT
//! commands go to a redis-server and to tripod-server, and every reply must be
//! identical, byte for byte, in RESP2 and in RESP3 (conversions both ways,
//! errors with their script positions, cjson/bit outputs, the common lock,
//! rate-limit and queue patterns). Further tests: effects replicated to a real
//! Redis replica and to a tripod replica, and SCRIPT KILL of a busy script.
mod common;
use common::*;
use std::time::Duration;

/// (script, numkeys + keys + args) cases; each runs as EVAL with the arguments.
const CASES: &[(&str, &[&str])] = &[
    // Lua -> reply conversions.
    ("return 1", &["0"]),
    ("return 3.99", &["0"]),
    ("return -3.99", &["0"]),
    ("return 'hello'", &["0"]),
    ("return true", &["0"]),
    ("return false", &["0"]),
    ("return nil", &["0"]),
    ("return {1,2,3,'ciao',{1,2}}", &["0"]),
    ("return {1,2,nil,4}", &["0"]),
    ("return {}", &["0"]),
    ("return {ok='fine'}", &["0"]),
    ("return {ok='a\\r\\nb'}", &["0"]),
    ("return {err='My Error'}", &["0"]),
    ("return {err='a\\nb'}", &["0"]),
    ("return redis.error_reply('My Error')", &["0"]),
    ("return redis.error_reply('-CODE x y')", &["0"]),
    ("return redis.status_reply('FINE')", &["0"]),
    ("return redis.error_reply()", &["0"]),
    ("return {double=3.14}", &["0"]),
    ("return {big_number='12345678901234567890'}", &["0"]),
    ("return {verbatim_string={format='txt', string='hi'}}", &["0"]),
    ("return {map={a=1}}", &["0"]),
    ("return {set={a=true}}", &["0"]),
    ("return {1, {ok='x'}, {err='ERR y'}, false, true}", &["0"]),
    ("return KEYS", &["2", "k1", "k2", "a1", "a2"]),
    ("return ARGV", &["1", "k1", "a1", "a2"]),
    ("return #KEYS + #ARGV", &["0"]),
    ("return 1e20", &["0"]),
    ("local t = {} for i = 1, 20000 do t[i] = tostring(i) end; return t", &["0"]),
    ("local t = {} for i = 1, 20000 do t[i] = {tostring(i)} end; return t", &["0"]),
    ("local m = {} for i = 1, 20000 do m[tostring(i)] = 1 end; return #cjson.encode(m)", &["0"]),
    ("return 0/0", &["0"]),
    // Very many arguments (a C function's Lua stack holds at most 8000).
    ("local a = {} for i=1,7999 do a[i] = 1 end return redis.call('lpush', 'many', unpack(a))", &["0"]),
    ("local a = {} for i=1,7999 do a[i] = 2 end return redis.pcall('rpush', 'many', unpack(a))", &["0"]),
    ("local a = {} for i=1,7996 do a[i] = 1 end a[5000] = nil return redis.pcall('lpush', 'many', unpack(a, 1, 7996))", &["0"]),
    ("local a = {} for i=1,7996 do a[i] = 1 end a[5000] = nil return redis.call('lpush', 'many', unpack(a, 1, 7996))", &["0"]),
    ("local a = {} for i=1,7999 do a[i] = 'x' end return redis.call('lpush', unpack(a))", &["0"]),
    // Reply -> Lua conversions.
    ("redis.call('set','k','v'); return redis.call('get','k')", &["0"]),
    ("return redis.call('get','nokey')", &["0"]),
    ("return type(redis.call('get','nokey'))", &["0"]),
    ("return redis.call('incr','cnt')", &["0"]),
    ("return redis.call('ping')", &["0"]),
    ("return type(redis.call('ping'))", &["0"]),
    ("return redis.call('ping')['ok']", &["0"]),
    ("redis.call('rpush','l','a','b','c'); return redis.call('lrange','l',0,-1)", &["0"]),
    ("return redis.call('lrange','nol',0,-1)", &["0"]),
    ("return redis.pcall('incr','k')", &["0"]),
    ("local r = redis.pcall('incr','k'); return r['err']", &["0"]),
    ("return redis.call('incr','k')", &["0"]),
    ("return redis.call('nosuchcmd')", &["0"]),
    ("return redis.call('get')", &["0"]),
    ("return redis.call()", &["0"]),
    ("return redis.call('set','x',{})", &["0"]),
    ("return redis.call('set','x',1.5)", &["0"]),
    ("redis.call('set','n',123456789012); return redis.call('get','n')", &["0"]),
    ("return redis.call('eval','return 1','0')", &["0"]),
    ("return redis.call('multi')", &["0"]),
    ("return redis.call('blpop','emptylist',0)", &["0"]),
    ("redis.call('hset','h','f','v'); return redis.call('hgetall','h')", &["0"]),
    ("redis.setresp(3); redis.call('hset','h','f','v'); return redis.call('hgetall','h')", &["0"]),
    ("redis.setresp(3); return redis.call('get','nokey')", &["0"]),
    ("redis.setresp(3); return type(redis.call('get','nokey'))", &["0"]),
    ("redis.setresp(3); redis.call('sadd','s','m'); return redis.call('smembers','s')", &["0"]),
    ("redis.setresp(3); redis.call('zadd','z',1.5,'m'); return redis.call('zscore','z','m')", &["0"]),
    ("redis.setresp(3); return {true, false}", &["0"]),
    ("redis.setresp(3); redis.call('set','f','1.5'); return redis.call('incrbyfloat','f','1')", &["0"]),
    ("redis.setresp(4)", &["0"]),
    ("redis.setresp()", &["0"]),
    ("redis.set_repl(99)", &["0"]),
    ("redis.set_repl()", &["0"]),
    // Errors raised by scripts.
    ("error('boom')", &["0"]),
    ("error({err='CUSTOM from table'})", &["0"]),
    ("return nosuchvar", &["0"]),
    ("newglobal = 1", &["0"]),
    ("local x = \n\n redis.call('nosuch')", &["0"]),
    ("return redis.call('get', 'a', 'b', 'c')", &["0"]),
    ("return pcall(function() error('inner') end)", &["0"]),
    ("local ok, e = pcall(redis.call, 'incr', 'k'); return e", &["0"]),
    ("local ok, e = pcall(function() redis.call('nosuch') end); return e", &["0"]),
    ("return 1 +", &["0"]),
    ("return string.rep()", &["0"]),
    ("return tostring(loadfile)", &["0"]),
    ("print('x')", &["0"]),
    ("return dofile", &["0"]),
    ("os.exit()", &["0"]),
    ("setmetatable(_G, {})", &["0"]),
    ("redis.call = function() return 1 end", &["0"]),
    ("string.foo = 1", &["0"]),
    ("cjson.encode = 1", &["0"]),
    ("bit.band = 1", &["0"]),
    ("local g = getmetatable(_G); g.__index = {}", &["0"]),
    ("return loadstring(string.dump(function() return 1 end))()", &["0"]),
    ("return loadstring('return 7')()", &["0"]),
    ("return type(math.random())", &["0"]),
    ("return {math.random(10), math.random(5,6)}", &["0"]),
    // Library helpers.
    ("return redis.sha1hex('')", &["0"]),
    ("return redis.sha1hex('Pizza & Mandolino')", &["0"]),
    ("return redis.sha1hex()", &["0"]),
    ("return redis.REDIS_VERSION_NUM > 0", &["0"]),
    ("return redis.replicate_commands()", &["0"]),
    ("return redis.breakpoint()", &["0"]),
    ("return redis.debug('x')", &["0"]),
    ("redis.log(redis.LOG_WARNING, 'from a script')", &["0"]),
    ("redis.log()", &["0"]),
    ("redis.log('x', 'y')", &["0"]),
    ("redis.log(10, 'y')", &["0"]),
    ("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_REPLICA, redis.REPL_SLAVE, redis.REPL_ALL}", &["0"]),
    // cjson.
    ("return cjson.encode({1,2,3})", &["0"]),
    ("return cjson.encode({a=1})", &["0"]),
    ("return cjson.encode({})", &["0"]),
    ("return cjson.encode('a/b\"c\\\\d\\n\\1\\127')", &["0"]),
    ("return cjson.encode(3.14159265358979)", &["0"]),
    ("return cjson.encode(1e300)", &["0"]),
    ("return cjson.encode(0.1)", &["0"]),
    ("return cjson.encode(1/0)", &["0"]),
    ("return cjson.encode({[1]=1,[100]=2})", &["0"]),
    ("return cjson.encode({[1]=1,[3]=2})", &["0"]),
    ("return cjson.encode({[0]=1})", &["0"]),
    ("return cjson.encode(function() end)", &["0"]),
    ("return cjson.encode({[true]=1})", &["0"]),
    ("return cjson.encode(cjson.null)", &["0"]),
    ("return cjson.encode({true, false, cjson.null})", &["0"]),
    ("return cjson.encode()", &["0"]),
    ("local t = {} ; local c = t; for i=1,1100 do c[1] = {}; c = c[1] end; return cjson.encode(t)", &["0"]),
    ("return cjson.decode('[1,2,3,\"x\"]')", &["0"]),
    ("return cjson.decode('{\"a\":[1,{\"b\":2}]}').a[2].b", &["0"]),
    ("return cjson.decode('\"\\\\u00e8\\\\ud83d\\\\ude00\"')", &["0"]),
    ("return cjson.decode('[1,2')", &["0"]),
    ("return cjson.decode('{1:2}')", &["0"]),
    ("return cjson.decode('{\"a\" 2}')", &["0"]),
    ("return cjson.decode('nul')", &["0"]),
    ("return cjson.decode('')", &["0"]),
    ("return cjson.decode('[1] x')", &["0"]),
    ("return cjson.decode('\"abc')", &["0"]),
    ("return cjson.decode('\"\\\\q\"')", &["0"]),
    ("return cjson.decode('1.5e3')", &["0"]),
    ("return cjson.decode('-0.25')", &["0"]),
    ("return type(cjson.decode('null'))", &["0"]),
    ("return cjson.decode('null') == cjson.null", &["0"]),
    ("return cjson.decode()", &["0"]),
    ("return cjson.decode(string.rep('[', 1100))", &["0"]),
    ("return cjson.encode(cjson.decode('{\"a\":{\"b\":[1,2,3]}}'))", &["0"]),
    // bit.
    ("return bit.band(0xff, 0x0f)", &["0"]),
    ("return {bit.bor(1,2,4), bit.bxor(7,2), bit.bnot(0)}", &["0"]),
    ("return {bit.lshift(1,31), bit.rshift(-1, 28), bit.arshift(-256, 4)}", &["0"]),
    ("return {bit.rol(0x12345678, 12), bit.ror(0x12345678, 12), bit.bswap(0x12345678)}", &["0"]),
    ("return {bit.tohex(255), bit.tohex(-1, 4), bit.tohex(255, -2), bit.tobit(2^32 + 5)}", &["0"]),
    ("return bit.band()", &["0"]),
    ("return bit.band('x')", &["0"]),
    // cmsgpack.
    ("return cmsgpack.pack({1,2,3})", &["0"]),
    ("return cmsgpack.pack({a=1})", &["0"]),
    ("return cmsgpack.pack(1, -1, 200, -200, 70000, -70000, 5000000000, -5000000000, 1.5, 0.1, true, false, nil)", &["0"]),
    ("return cmsgpack.pack(string.rep('x', 40), string.rep('y', 300))", &["0"]),
    ("return cmsgpack.pack()", &["0"]),
    ("return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, {k='v'}))}", &["0"]),
    ("local t = cmsgpack.unpack(cmsgpack.pack({1.5, -7, 'x'})); return {tostring(t[1]), t[2], t[3]}", &["0"]),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}", &["0"]),
    ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", &["0"]),
    ("return cmsgpack.unpack('\\205')", &["0"]),
    ("return cmsgpack.unpack('\\193')", &["0"]),
    ("local t = {}; local c = t; for i=1,20 do c[1] = {}; c = c[1] end; return cmsgpack.pack(t)", &["0"]),
    ("local m = {} for i = 1, 20000 do m[tostring(i)] = tostring(i) end; local d = cmsgpack.unpack(cmsgpack.pack(m)); return #cmsgpack.pack(m) .. ' ' .. d['777']", &["0"]),
    // struct.
    ("return struct.pack('>I2', 258)", &["0"]),
    ("return struct.pack('<i4bBhH', -2, -1, 255, -300, 65535)", &["0"]),
    ("return struct.pack('!4 b i4', 1, 2)", &["0"]),
    ("return struct.pack('s c3', 'ab', 'xyz')", &["0"]),
    ("return {struct.unpack('>I2', struct.pack('>I2', 258))}", &["0"]),
    ("return {struct.unpack('<i4 s', struct.pack('<i4 s', -5, 'hi'))}", &["0"]),
    ("return {struct.unpack('b c0', struct.pack('b c0', 3, 'abc'))}", &["0"]),
    ("return tostring(struct.unpack('d', struct.pack('d', 1.25)))", &["0"]),
    ("return struct.size('i4 h !8 d')", &["0"]),
    ("return struct.pack('y', 1)", &["0"]),
    ("return struct.unpack('i4', 'ab')", &["0"]),
    ("return struct.size('s')", &["0"]),
    ("return struct.pack('i4')", &["0"]),
    // Number and argument conversions.
    ("return redis.call('set', 'num', 0.1) and redis.call('get', 'num')", &["0"]),
    ("return redis.call('set', 'num', 2^60) and redis.call('get', 'num')", &["0"]),
    ("return tostring(0.1)", &["0"]),
    ("return tostring(1e100)", &["0"]),
    // Common patterns: lock release, rate limiter, queue.
    ("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", &["1", "lock", "token"]),
    ("redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', 30000); if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", &["1", "lock", "token"]),
    ("local c = redis.call('incr', KEYS[1]); if c == 1 then redis.call('expire', KEYS[1], ARGV[1]) end; if c > tonumber(ARGV[2]) then return 0 end; return 1", &["1", "rate", "60", "2"]),
    ("local c = redis.call('incr', KEYS[1]); if c == 1 then redis.call('expire', KEYS[1], ARGV[1]) end; if c > tonumber(ARGV[2]) then return 0 end; return 1", &["1", "rate", "60", "2"]),
    ("local c = redis.call('incr', KEYS[1]); if c == 1 then redis.call('expire', KEYS[1], ARGV[1]) end; if c > tonumber(ARGV[2]) then return 0 end; return 1", &["1", "rate", "60", "2"]),
    ("redis.call('lpush', KEYS[1], ARGV[1], ARGV[2]); local job = redis.call('rpoplpush', KEYS[1], KEYS[2]); return {job, redis.call('llen', KEYS[1]), redis.call('llen', KEYS[2])}", &["2", "queue", "processing", "j1", "j2"]),
    ("redis.call('zadd', KEYS[1], 1, 'a', 2, 'b', 3, 'c'); local r = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1]); if #r > 0 then redis.call('zrem', KEYS[1], unpack(r)) end; return r", &["1", "delayed", "2"]),
    // Shebang flags.
    ("#!lua flags=no-writes\nreturn redis.call('get','k')", &["0"]),
    ("#!lua flags=no-writes\nreturn redis.call('set','k','v')", &["0"]),
    ("#!lua\nreturn 1", &["0"]),
    ("#!lua flags=bogus\nreturn 1", &["0"]),
    ("#!lua name=x\nreturn 1", &["0"]),
    ("#!notlua\nreturn 1", &["0"]),
    ("#!lua", &["0"]),
];

/// Commands other than EVAL cases: argument errors, EVALSHA, SCRIPT.
const COMMANDS: &[&[&str]] = &[
    &["eval", "return 1"],
    &["eval", "return 1", "x"],
    &["eval", "return 1", "2", "a"],
    &["eval", "return 1", "-1"],
    &["evalsha", "ffffffffffffffffffffffffffffffffffffffff", "0"],
    &["evalsha", "short", "0"],
    &["script", "load", "return 'loaded'"],
    &["evalsha", "a0b1e3e4ed4fa6e7bd4db8f3c6f4bd4d1fd2f4d9", "0"],
    &[
        "script",
        "exists",
        "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
        "ffffffffffffffffffffffffffffffffffffffff",
    ],
    &["script", "load", "return 1 +"],
    &["script", "load", "#!lua flags=no-writes\nreturn 1"],
    &["eval_ro", "return redis.call('set','k','v')", "0"],
    &["eval_ro", "return redis.call('get','k')", "0"],
    &["eval_ro", "#!lua\nreturn 1", "0"],
    &["eval_ro", "#!lua flags=no-writes\nreturn 1", "0"],
    &["script", "kill"],
    &["script", "flush", "bad"],
    &["script", "help"],
    &["script", "nosuch"],
    &["script", "flush"],
    &[
        "script",
        "exists",
        "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
    ],
    &["evalsha", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
];

fn run_all(c: &mut Conn) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (script, args) in CASES {
        let mut argv: Vec<&[u8]> = vec![b"eval", script.as_bytes()];
        argv.extend(args.iter().map(|a| a.as_bytes()));
        out.push((script.to_string(), c.cmd(&argv)));
    }
    for cmd in COMMANDS {
        let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        out.push((cmd.join(" "), c.cmd(&argv)));
    }
    out
}

fn compare(resp3: bool) {
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    let mut rc = redis.conn();
    let mut tc = tripod.conn();
    if resp3 {
        rc.c(&["hello", "3"]);
        tc.c(&["hello", "3"]);
    }
    let want = run_all(&mut rc);
    let got = run_all(&mut tc);
    let mut bad = Vec::new();
    for ((what, w), (_, g)) in want.iter().zip(got.iter()) {
        if w != g {
            bad.push(format!(
                "{}\n  redis:  {:?}\n  tripod: {:?}",
                what,
                String::from_utf8_lossy(w),
                String::from_utf8_lossy(g)
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} replies differ:\n{}",
        bad.len(),
        want.len(),
        bad.join("\n")
    );
}

#[test]
fn scripts_reply_as_redis_resp2() {
    compare(false);
}

#[test]
fn scripts_reply_as_redis_resp3() {
    compare(true);
}

/// Reads the replication stream a raw replica gets after its full sync, up to
/// `want` commands, as lists of arguments.
fn stream_commands(c: &mut Conn, want: usize) -> Vec<String> {
    let mut cmds = Vec::new();
    while cmds.len() < want {
        let r = c.read_reply();
        let words: Vec<String> = flat(&r)
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if words
            .first()
            .is_some_and(|w| w.eq_ignore_ascii_case("ping"))
        {
            continue;
        }
        cmds.push(words.join(" "));
    }
    cmds
}

/// Both servers send the same stream for these scripts: their effects, wrapped in
/// MULTI/EXEC when there is more than one.
#[test]
fn script_effects_replicate_as_multi_exec() {
    let extra = ["--repl-diskless-sync-delay", "0"];
    for server in ["redis", "tripod"] {
        let master = start_server(server, &extra);
        let mut rep = raw_replica(&master);
        let mut c = master.conn();
        c.c(&[
            "eval",
            "redis.call('set', KEYS[1], ARGV[1]); redis.call('incr', 'counter'); return 1",
            "1",
            "k",
            "v",
        ]);
        c.c(&["eval", "return redis.call('set', 'single', '1')", "0"]);
        c.c(&[
            "eval",
            "redis.set_repl(redis.REPL_NONE); redis.call('set', 'local', '1'); redis.set_repl(redis.REPL_ALL); redis.call('set', 'shared', '1')",
            "0",
        ]);
        c.c(&["eval", "return redis.call('get', 'k')", "0"]);
        c.c(&["set", "after", "1"]);
        let got = stream_commands(&mut rep, 8);
        assert_eq!(
            got,
            [
                "SELECT 0",
                "MULTI",
                "set k v",
                "incr counter",
                "EXEC",
                "set single 1",
                "set shared 1",
                "set after 1",
            ],
            "{}",
            server
        );
    }
}

#[test]
fn script_effects_reach_redis_and_tripod_replicas() {
    let master = start_tripod(&[]);
    let master_port = master.port.to_string();
    let redis_rep = start_redis(&["--replicaof", "127.0.0.1", &master_port]);
    let tripod_rep = start_tripod(&["--replicaof", "127.0.0.1", &master_port]);
    let mut m = master.conn();
    for i in 0..20 {
        m.c(&[
            "eval",
            "redis.call('rpush', KEYS[1], ARGV[1]); redis.call('hincrby', 'h', ARGV[1], 1); redis.call('zadd', 'z', ARGV[1], 'm' .. ARGV[1]); return 1",
            "1",
            "list",
            &i.to_string(),
        ]);
    }
    let digest = m.c(&["debug", "digest"]);
    for rep in [&redis_rep, &tripod_rep] {
        let mut r = rep.conn();
        wait_until("replica digest", Duration::from_secs(20), || {
            r.c(&["debug", "digest"]) == digest
        });
    }
}

#[test]
fn script_kill_stops_a_busy_script() {
    for server in ["redis", "tripod"] {
        let p = start_server(server, &["--busy-reply-threshold", "100"]);
        let mut runner = p.conn();
        let mut other = p.conn();
        runner.send(&encode(&[
            b"eval",
            b"local i = 0 while true do i = i + 1 end",
            b"0",
        ]));
        std::thread::sleep(Duration::from_millis(300));
        let busy = other.c(&["ping"]);
        assert_eq!(
            busy,
            "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
            "{}",
            server
        );
        assert_eq!(other.c(&["script", "kill"]), "+OK\r\n", "{}", server);
        let r = String::from_utf8_lossy(&runner.read_reply()).into_owned();
        assert!(
            r.starts_with("-ERR Script killed by user with SCRIPT KILL..."),
            "{}: {}",
            server,
            r
        );
        assert_eq!(other.c(&["ping"]), "+PONG\r\n", "{}", server);
        assert_eq!(runner.c(&["ping"]), "+PONG\r\n", "{}", server);
        // A script that wrote cannot be killed.
        runner.send(&encode(&[
            b"eval",
            b"redis.call('set','x','y') local i = 0 while true do i = i + 1 end",
            b"0",
        ]));
        std::thread::sleep(Duration::from_millis(300));
        let r = other.c(&["script", "kill"]);
        assert!(r.starts_with("-UNKILLABLE"), "{}: {}", server, r);
        other.send(&encode(&[b"shutdown", b"nosave"]));
        let _ = other.read_to_close();
        // The server stopped listening before SHUTDOWN's connection closed.
        let refused = std::net::TcpStream::connect(p.addr());
        assert!(refused.is_err(), "{}: still accepting", server);
    }
}

const LIB: &str = "#!lua name=mylib\nredis.register_function{function_name='incrx', callback=function(keys, args) return redis.call('incrby', keys[1], args[1]) end}\nredis.register_function{function_name='getx', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}";

/// FUNCTION replies side by side, including errors of library code and calls.
#[test]
fn functions_reply_as_redis() {
    let cmds: &[&[&str]] = &[
        &["function", "load", LIB],
        &["function", "load", LIB],
        &["fcall", "incrx", "1", "k", "5"],
        &["fcall", "INCRX", "1", "k", "5"],
        &["fcall_ro", "getx", "1", "k"],
        &["fcall_ro", "incrx", "1", "k", "5"],
        &["fcall", "nosuch", "0"],
        &["fcall", "incrx", "x"],
        &["fcall", "incrx", "3", "a"],
        &["function", "list", "libraryname", "nomatch*"],
        &["function", "list", "bogus"],
        &["function", "stats"],
        &["function", "kill"],
        &["function", "load", "return 1"],
        &["function", "load", "#!lua\nreturn 1"],
        &["function", "load", "#!lua name=bad-name\nreturn 1"],
        &["function", "load", "#!js name=x\nreturn 1"],
        &["function", "load", "#!lua name=empty\nlocal a = 1"],
        &["function", "load", "#!lua name=bad\nredis.register_function('f')"],
        &["function", "load", "#!lua name=bad\nredis.register_function('f', function() end, 3)"],
        &["function", "load", "#!lua name=bad\nredis.register_function{function_name='f', callback=function() end, flags={'bogus'}}"],
        &["function", "load", "#!lua name=bad\nreturn +"],
        &["function", "load", "#!lua name=other\nredis.register_function('incrx', function() return 1 end)"],
        &["function", "load", "#!lua name=err\nredis.register_function('boom', function() error('x') end)"],
        &["fcall", "boom", "0"],
        &["function", "delete", "nosuch"],
        &["function", "delete", "err"],
        &["function", "restore", "bad"],
        &["function", "flush", "bad"],
        &["function", "help"],
        // While a library loads, `redis` is the library API alone and no other global
        // is visible: reading anything else raises, writing is refused.
        &["function", "load", "replace", "#!lua name=lib2\nreturn redis.call('ping')"],
        &["function", "load", "replace", "#!lua name=lib2\nreturn redis.setresp(3)"],
        &["function", "load", "replace", "#!lua name=lib2\nreturn redis.set_repl(redis.REPL_NONE)"],
        &["function", "load", "#!lua name=lib2\nredis.math.random()"],
        &["function", "load", "#!lua name=lib2\nredis.redis.call('ping')"],
        &["function", "load", "#!lua name=lib2\na = 1"],
        &["function", "load", "#!lua name=lib2\nlocal a = 1\nwhile 1 do a = a + 1 end"],
        &["function", "load", "#!lua name=lib3\nlocal lib = redis\nlib.register_function('f1', function() lib.redis = redis return 1 end)\nlib.register_function('f2', function() lib.register_function('f3', function() return 1 end) end)"],
        &["fcall", "f1", "0"],
        &["fcall", "f2", "0"],
        &["function", "list", "withcode", "withcode"],
        &["function", "list", "withcode", "libraryname", "a", "libraryname", "b"],
    ];
    let redis = start_redis(&[]);
    let tripod = start_tripod(&[]);
    let (mut rc, mut tc) = (redis.conn(), tripod.conn());
    for cmd in cmds {
        let a: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        let (w, g) = (rc.cmd(&a), tc.cmd(&a));
        assert_eq!(
            String::from_utf8_lossy(&w),
            String::from_utf8_lossy(&g),
            "{:?}",
            cmd
        );
    }
    // A DUMP of tripod restores on Redis and the other way round.
    let dump_t = flat_bulk(&tc.cmd(&[b"function", b"dump"]));
    let dump_r = flat_bulk(&rc.cmd(&[b"function", b"dump"]));
    assert_eq!(
        rc.cmd(&[b"function", b"restore", &dump_t, b"replace"]),
        b"+OK\r\n"
    );
    assert_eq!(
        tc.cmd(&[b"function", b"restore", &dump_r, b"flush"]),
        b"+OK\r\n"
    );
    // (Redis lists a library's functions in hash order: compare what they hold.)
    for c in [&mut rc, &mut tc] {
        let list =
            String::from_utf8_lossy(&c.cmd(&[b"function", b"list", b"withcode"])).into_owned();
        for want in [
            "mylib",
            "incrx",
            "getx",
            "reads",
            "+no-writes",
            "library_code",
        ] {
            assert!(list.contains(want), "{}", list);
        }
    }
}

/// The payload of a bulk string reply.
fn flat_bulk(reply: &[u8]) -> Vec<u8> {
    let e = reply.windows(2).position(|w| w == b"\r\n").unwrap();
    reply[e + 2..reply.len() - 2].to_vec()
}

/// Libraries survive a restart (RDB FUNCTION2 records) and reach a tripod and a
/// Redis replica through a full sync and through the stream.
#[test]
fn functions_survive_restart_and_replicate() {
    let dir = tempfile::tempdir().unwrap();
    let mut master = start_in(&tripod_server_bin(), dir.path(), &[]);
    let mut m = master.conn();
    assert_eq!(m.c(&["function", "load", LIB]), "$5\r\nmylib\r\n");
    assert_eq!(m.c(&["save"]), "+OK\r\n");
    master.terminate();
    // Redis reads tripod's RDB file, functions included.
    let redis = start_in(&redis_server_bin().unwrap(), dir.path(), &[]);
    let mut r = redis.conn();
    assert_eq!(r.c(&["fcall", "incrx", "1", "k", "2"]), ":2\r\n");
    drop(redis);
    let master = start_in(&tripod_server_bin(), dir.path(), &[]);
    let mut m = master.conn();
    m.c(&["flushall"]);
    assert_eq!(m.c(&["fcall", "incrx", "1", "k", "2"]), ":2\r\n");
    let port = master.port.to_string();
    let redis_rep = start_redis(&["--replicaof", "127.0.0.1", &port]);
    let tripod_rep = start_tripod(&["--replicaof", "127.0.0.1", &port]);
    // A library loaded after the full sync goes out as FUNCTION LOAD.
    let lib2 = "#!lua name=lib2\nredis.register_function{function_name='hello', callback=function() return 'hi' end, flags={'no-writes'}}";
    m.c(&["function", "load", lib2]);
    for rep in [&redis_rep, &tripod_rep] {
        let mut c = rep.conn();
        wait_until(
            "replica has both libraries",
            Duration::from_secs(20),
            || {
                c.c(&["fcall_ro", "getx", "1", "k"]) == "$1\r\n2\r\n"
                    && c.c(&["fcall", "hello", "0"]).contains("hi")
            },
        );
    }
    m.c(&["function", "delete", "lib2"]);
    for rep in [&redis_rep, &tripod_rep] {
        let mut c = rep.conn();
        wait_until("replica dropped lib2", Duration::from_secs(20), || {
            c.c(&["fcall", "hello", "0"])
                .starts_with("-ERR Function not found")
        });
    }
}

/// DEBUG RELOAD's options, DEBUG SET-DISABLE-DENY-SCRIPTS, DEBUG OBJECT of an expired
/// key, a script's frozen time and SORT BY of a set in a script, side by side.
#[test]
fn debug_options_and_script_time_as_redis() {
    let cmds: &[&[&str]] = &[
        &["function", "load", "#!lua name=test\nredis.register_function('test', function() return 'hello' end)"],
        &["set", "x", "1"],
        // NOFLUSH alone: the library (and key) already exist, so the load fails.
        &["debug", "reload", "noflush"],
        &["debug", "reload", "noflush", "merge"],
        &["fcall", "test", "0"],
        &["get", "x"],
        &["function", "load", "#!lua name=test2\nredis.register_function('test2', function() return 'hi' end)"],
        &["set", "y", "2"],
        &["debug", "reload", "nosave", "noflush", "merge"],
        &["fcall", "test2", "0"],
        &["get", "y"],
        &["debug", "reload"],
        &["fcall", "test2", "0"],
        &["debug", "reload", "bogus"],
        // Commands flagged noscript are refused in scripts unless DEBUG allows them.
        &["eval", "return redis.call('debug', 'protocol', 'bignum')", "0"],
        &["debug", "set-disable-deny-scripts", "1"],
        &["eval", "return redis.call('debug', 'protocol', 'bignum')", "0"],
        &["debug", "set-disable-deny-scripts", "0"],
        &["eval", "return redis.call('debug', 'protocol', 'bignum')", "0"],
        // Time stands still for the keys a script sees.
        &["debug", "set-disable-deny-scripts", "1"],
        &["eval", "redis.call('set', 'k', 'v', 'px', '1') redis.call('debug', 'sleep', '0.01') return redis.call('exists', 'k')", "0"],
        &["exists", "k"],
        // DEBUG OBJECT sees an expired key that was not reclaimed, and keeps it.
        &["debug", "set-active-expire", "0"],
        &["set", "k", "v", "px", "1"],
        &["debug", "sleep", "0.01"],
        &["eval", "return redis.call('exists', 'k')", "0"],
        &["set", "k", "v", "px", "1"],
        &["debug", "sleep", "0.01"],
        &["eval", "return type(redis.pcall('debug', 'object', 'k'))", "0"],
        &["exists", "k"],
        &["debug", "set-active-expire", "1"],
        // A set sorted BY a constant is given to a script in alphabetical order.
        &["sadd", "myset", "a", "b", "c", "d", "e", "f", "g", "h", "i", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "z", "aa", "aaa", "azz"],
        &["eval", "return redis.call('sort', KEYS[1], 'by', '_')", "1", "myset"],
        &["eval", "return redis.call('sort', KEYS[1], 'by', '_', 'get', '#', 'get', '_:*')", "1", "myset"],
        &["debug", "set-disable-deny-scripts", "0"],
        &["eval", "return redis.call('quit')", "0"],
        &["eval", "return redis.call('echo', 'x')", "0"],
    ];
    let redis = start_redis(&["--enable-debug-command", "yes"]);
    let tripod = start_tripod(&["--enable-debug-command", "yes"]);
    let (mut rc, mut tc) = (redis.conn(), tripod.conn());
    for cmd in cmds {
        let a: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        let (w, g) = (rc.cmd(&a), tc.cmd(&a));
        assert_eq!(
            String::from_utf8_lossy(&w),
            String::from_utf8_lossy(&g),
            "{:?}",
            cmd
        );
    }
    // The flags COMMAND INFO shows (the third field) of commands whose flags differed.
    for name in [
        "ping",
        "echo",
        "quit",
        "replconf",
        "bgsave",
        "save",
        "psync",
        "replicaof",
    ] {
        let flags = |c: &mut Conn| {
            let r = c.cmd(&[b"command", b"info", name.as_bytes()]);
            let text = String::from_utf8_lossy(&r).into_owned();
            let start = text.find("\r\n*").unwrap();
            text[start..].split(":").next().unwrap().to_string()
        };
        assert_eq!(flags(&mut rc), flags(&mut tc), "{}", name);
    }
}

/// A command served while a busy script runs does not serve blocked clients: the
/// BLPOP gets what the whole script left, after it ends.
#[test]
fn busy_script_leaves_blocked_clients_until_it_ends() {
    for server in ["redis", "tripod"] {
        let p = start_server(
            server,
            &[
                "--busy-reply-threshold",
                "10",
                "--enable-debug-command",
                "yes",
            ],
        );
        let mut admin = p.conn();
        let mut runner = p.conn();
        let mut popper = p.conn();
        let mut other = p.conn();
        popper.send(&encode(&[b"blpop", b"x", b"0"]));
        wait_until("blocked", Duration::from_secs(5), || {
            admin.c(&["info", "clients"]).contains("blocked_clients:1")
        });
        admin.c(&["debug", "set-disable-deny-scripts", "1"]);
        runner.send(&encode(&[
            b"eval",
            b"redis.call('lpush', KEYS[1], 'y') while true do local l = redis.call('client', 'list') if string.find(l, 'abortscript') then break end end redis.call('lpush', KEYS[1], 'z') return 1",
            b"1",
            b"x",
        ]));
        std::thread::sleep(Duration::from_millis(200));
        assert!(admin.c(&["ping"]).starts_with("-BUSY"), "{}", server);
        // HELLO may run while a script is busy (CLIENT SETNAME may not).
        let r = other.c(&["hello", "2", "setname", "abortscript"]);
        assert!(r.starts_with("*14\r\n"), "{}: {}", server, r);
        assert_eq!(runner.read_reply(), b":1\r\n", "{}", server);
        assert_eq!(
            String::from_utf8_lossy(&popper.read_reply()),
            "*2\r\n$1\r\nx\r\n$1\r\nz\r\n",
            "{}",
            server
        );
    }
}
