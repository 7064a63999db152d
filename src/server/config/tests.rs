use super::*;

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn run(v: &[&str]) -> Result<Config, String> {
    match Config::from_args(&args(v))? {
        StartupAction::Run(c) => Ok(*c),
        other => panic!("{:?}", other),
    }
}

#[test]
fn defaults_match_redis() {
    let c = Config::default();
    assert_eq!(c.get("save").unwrap(), "3600 1 300 100 60 10000");
    assert_eq!(c.save_params, vec![(3600, 1), (300, 100), (60, 10000)]);
    assert_eq!(c.get("bind").unwrap(), "* -::*");
    assert_eq!(c.get("maxmemory-policy").unwrap(), "noeviction");
    assert_eq!(c.get("slave-read-only").unwrap(), "yes");
    assert_eq!(c.port, 6379);
    assert!(!c.daemonize);
}

#[test]
fn command_line_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("r.conf");
    std::fs::write(
        &f,
        "port 7000\nsave 900 1\nsave 300 10\nmaxmemory 1mb\nreplicaof 10.0.0.1 6380\n",
    )
    .unwrap();
    let c = run(&[f.to_str().unwrap(), "--port", "7001", "--save", ""]).unwrap();
    assert_eq!(c.port, 7001);
    assert!(c.save_params.is_empty());
    assert_eq!(c.maxmemory, 1024 * 1024);
    assert_eq!(c.replicaof, Some(("10.0.0.1".into(), 6380)));
    assert_eq!(
        c.config_file.as_deref(),
        Some(std::fs::canonicalize(&f).unwrap().as_path())
    );
    let c = run(&[f.to_str().unwrap()]).unwrap();
    assert_eq!(c.save_params, vec![(900, 1), (300, 10)]);
}

#[test]
fn errors_are_fatal_with_redis_texts() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.conf");
    for (line, msg) in [
        ("port abc", "argument couldn't be parsed into an integer"),
        (
            "port 70000",
            "argument must be between 0 and 65535 inclusive",
        ),
        ("daemonize maybe", "argument must be 'yes' or 'no'"),
        ("maxmemory 1x", "argument must be a memory value"),
        (
            "nosuchdirective 1",
            "Bad directive or wrong number of arguments",
        ),
        ("port 1 2", "Bad directive or wrong number of arguments"),
        (
            "loglevel loud",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
        ("save 60", "Invalid save parameters"),
        (
            "appenddirname /tmp/x",
            "appenddirname can't be a path, just a dirname",
        ),
        (
            "appendfilename a/b",
            "appendfilename can't be a path, just a filename",
        ),
        (
            "cluster-enabled yes",
            "cluster-enabled yes is not supported",
        ),
        ("dir /nonexistent/dir", "No such file or directory"),
        (
            "requirepass \"unbalanced",
            "Unbalanced quotes in configuration line",
        ),
    ] {
        std::fs::write(&f, format!("# first\n{}\n", line)).unwrap();
        let e = run(&[f.to_str().unwrap()]).unwrap_err();
        assert!(
            e.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"),
            "{}",
            e
        );
        assert!(e.contains(&format!("{}, at line 2", f.display())), "{}", e);
        assert!(e.contains(&format!(">>> '{}'", line)), "{}", e);
        assert!(e.contains(msg), "{} -> {}", line, e);
    }
    let e = run(&["--port", "x"]).unwrap_err();
    assert!(e.contains("(command line)"), "{}", e);
}

#[test]
fn debian_stock_config_loads() {
    let text = include_str!("testdata/debian-redis.conf");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("redis.conf");
    // The stock file's dir (/var/lib/redis) may not exist here: point it at the temp dir.
    std::fs::write(
        &f,
        text.replace(
            "dir /var/lib/redis",
            &format!("dir {}", dir.path().display()),
        ),
    )
    .unwrap();
    let c = run(&[f.to_str().unwrap()]).unwrap();
    assert!(c.daemonize);
    assert_eq!(c.port, 6379);
    assert_eq!(c.bind, vec!["127.0.0.1".to_string(), "-::1".to_string()]);
    assert_eq!(
        c.pidfile.as_deref(),
        Some(std::path::Path::new("/run/redis/redis-server.pid"))
    );
    assert_eq!(c.logfile, "/var/log/redis/redis-server.log");
    assert_eq!(c.save_params, vec![(3600, 1), (300, 100), (60, 10000)]);
}

#[test]
fn config_get_patterns_and_aliases() {
    let c = Config::default();
    let got = c.get_matching(&[b"maxmemory*", b"maxmemory"]);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "maxmemory",
            "maxmemory-clients",
            "maxmemory-eviction-tenacity",
            "maxmemory-policy",
            "maxmemory-samples"
        ]
    );
    let got = c.get_matching(&[b"SLAVE-READ-ONLY"]);
    assert_eq!(
        got,
        vec![("slave-read-only".to_string(), "yes".to_string())]
    );
    // Hidden test-only directives show only when asked by their exact name.
    let hidden = directives::DIRECTIVES
        .iter()
        .filter(|d| d.mode == directives::Mode::Hidden)
        .count();
    assert_eq!(hidden, 3);
    assert_eq!(
        c.get_matching(&[b"*"]).len(),
        directives::DIRECTIVES.len() - hidden
    );
    assert_eq!(c.get_matching(&[b"key-load-delay"]).len(), 1);
    assert_eq!(c.get_matching(&[b"key-load-*"]).len(), 0);
}

#[test]
fn config_set_is_all_or_nothing_with_redis_errors() {
    let mut c = Config::default();
    let p = |a: &str, b: &str| (a.as_bytes().to_vec(), b.as_bytes().to_vec());
    assert_eq!(
        c.set(&[p("maxmemory", "10mb"), p("hz", "20")]).unwrap(),
        vec!["maxmemory", "hz"]
    );
    assert_eq!(c.maxmemory, 10 * 1024 * 1024);
    assert_eq!(c.get("maxmemory").unwrap(), "10485760");
    let e = c.set(&[p("hz", "30"), p("timeout", "abc")]).unwrap_err();
    assert_eq!(e, "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer");
    assert_eq!(c.hz, 20, "nothing changed");
    assert_eq!(
        c.set(&[p("foo", "1")]).unwrap_err(),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(
        c.set(&[p("daemonize", "yes")]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"
    );
    assert_eq!(
        c.set(&[p("dir", "/tmp")]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
    );
    assert_eq!(
        c.set(&[p("hz", "1"), p("hz", "2")]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter"
    );
    assert!(c
        .set(&[p("save", "60 a")])
        .unwrap_err()
        .ends_with("Invalid save parameters"));
    c.set(&[p("save", "100 1 200 2")]).unwrap();
    assert_eq!(c.save_params, vec![(100, 1), (200, 2)]);
    c.set(&[p("client-output-buffer-limit", "pubsub 1mb 512kb 30")])
        .unwrap();
    assert_eq!(
        c.get("client-output-buffer-limit").unwrap(),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 30"
    );
    c.set(&[p("requirepass", "secret")]).unwrap();
    assert_eq!(c.requirepass.as_deref(), Some(&b"secret"[..]));
    assert!(
        !format!("{:?}", c).contains("secret"),
        "passwords stay out of Debug output"
    );
}

#[test]
fn rewrite_keeps_comments_and_follows_roles() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("redis.conf");
    let original = "# My replica\nbind 127.0.0.1   # loopback only\nport 7000\n\n# who is my master\nreplicaof 10.0.0.1 6379\nmasterauth \"123456\"\nsave 900 1\nsave 300 10\nmaxmemory 0\n";
    std::fs::write(&f, original).unwrap();
    let mut c = run(&[f.to_str().unwrap()]).unwrap();
    c.set(&[
        (b"maxmemory".to_vec(), b"100mb".to_vec()),
        (b"hz".to_vec(), b"25".to_vec()),
        (b"save".to_vec(), b"60 5".to_vec()),
    ])
    .unwrap();
    c.set_replicaof(None);
    c.rewrite().unwrap();
    let text = std::fs::read_to_string(&f).unwrap();
    // Comments and layout stay; replicaof is gone (a master); changed values are
    // rewritten in place (a rewritten line drops its trailing comment); the rest
    // that differs from the defaults is appended.
    let expected = format!(
        "# My replica\nbind 127.0.0.1\nport 7000\n\n# who is my master\nmasterauth \"123456\"\nsave 60 5\nmaxmemory 104857600\n\
         # Generated by CONFIG REWRITE\ndir {}\nhz 25\n",
        crate::server::util::repr(c.dir.display().to_string().as_bytes())
    );
    assert_eq!(text, expected);
    // Demoted again: replicaof is written back, and the file still loads.
    c.set_replicaof(Some(("10.0.0.2".into(), 6379)));
    c.rewrite().unwrap();
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("replicaof 10.0.0.2 6379\n"), "{}", text);
    assert_eq!(text.matches("hz 25").count(), 1, "{}", text);
    let again = run(&[f.to_str().unwrap()]).unwrap();
    assert_eq!(again.replicaof, Some(("10.0.0.2".into(), 6379)));
    assert_eq!(again.maxmemory, 100 * 1024 * 1024);
    assert_eq!(again.hz, 25);
    assert_eq!(
        Config::default().rewrite().unwrap_err(),
        "ERR The server is running without a config file"
    );
}
