//! End-to-end tests of the CLI against three real OpenSSH servers on 127.0.0.11-13:2222
//! (started by the harness, serialized by a lock since the port is fixed).
mod cli_common;
use cli_common::*;

fn setup(h: &SshHosts, checking: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let base = h.path().join("hosts");
    let inv = h.path().join("inventory.yaml");
    let ports = [free_port(), free_port(), free_port()];
    write_inventory(
        &inv,
        "ssh",
        &ssh_block(h, &h.client_key, checking),
        SSH_ADDRS,
        ports,
        &base,
        "s3cret-pw",
    );
    (inv, base)
}

#[test]
fn ssh_group_full_flow() {
    let _lock = ssh_lock();
    let h = SshHosts::start();
    let (inv, base) = setup(&h, "accept-new");
    // --dry-run accepts the new host keys for this run only, and creates nothing.
    let o = tripod(&["deploy", inv.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stderr(&o).matches("accepted for this dry run").count(), 3);
    assert!(stdout(&o).contains("start the server"));
    assert!(!h.known_hosts.exists());
    assert!(!base.exists(), "--dry-run created nothing");
    // The first deploy records the three new host keys and says so (full_flow's first step).
    full_flow(&inv, &base);
    let kh = std::fs::read_to_string(&h.known_hosts).unwrap();
    assert_eq!(kh.lines().count(), 3);
    assert!(kh.contains("[127.0.0.12]:2222 ssh-ed25519 "));
}

#[test]
fn ssh_unknown_host_key_is_refused_when_strict() {
    let _lock = ssh_lock();
    let h = SshHosts::start();
    let (inv, base) = setup(&h, "strict");
    let o = tripod(&["deploy", inv.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("host key verification failed"), "{out}");
    assert!(out.contains("strict"));
    assert!(!h.known_hosts.exists());
    assert!(!base.exists());
}

#[test]
fn ssh_changed_host_key_is_always_refused() {
    let _lock = ssh_lock();
    let h = SshHosts::start();
    let (inv, base) = setup(&h, "off");
    // Record host 2's key for host 0: host 0 now presents a "changed" key.
    let mut kh = h.known_hosts_line(0, 2);
    kh.push_str(&h.known_hosts_line(1, 1));
    kh.push_str(&h.known_hosts_line(2, 2));
    std::fs::write(&h.known_hosts, &kh).unwrap();
    let o = tripod(&["deploy", inv.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(
        out.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{out}"
    );
    assert!(out.contains("ssh-keygen -f"));
    assert!(out.contains("[m ]") || out.contains("m "));
    assert!(
        !base.join("m").exists(),
        "nothing done on the host with the changed key"
    );
    assert!(
        base.join("r1/redis.conf").exists(),
        "the other hosts were deployed"
    );
    assert_eq!(std::fs::read_to_string(&h.known_hosts).unwrap(), kh);
    let _ = tripod(&["stop", inv.to_str().unwrap()]);
}

#[test]
fn ssh_wrong_key_is_refused() {
    let _lock = ssh_lock();
    let h = SshHosts::start();
    let (inv, _) = setup(&h, "accept-new");
    let text = std::fs::read_to_string(&inv).unwrap().replace(
        h.client_key.to_str().unwrap(),
        h.other_key.to_str().unwrap(),
    );
    std::fs::write(&inv, text).unwrap();
    let o = tripod(&["status", inv.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let o = tripod(&["deploy", inv.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("refused the key"), "{}", stdout(&o));
}

#[test]
fn ssh_host_down_then_deploy_again_finishes() {
    let _lock = ssh_lock();
    let mut h = SshHosts::start();
    let (inv, base) = setup(&h, "accept-new");
    let invs = inv.to_str().unwrap();
    h.stop_host(2);
    let o = tripod(&["deploy", invs]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("host r2 (127.0.0.13:2222): cannot connect over SSH"));
    assert!(stderr(&o).contains("deploy failed on r2"));
    let st = json(&tripod(&["status", invs, "--json"]));
    assert_eq!(st["healthy"], false);
    assert_eq!(st["nodes"][0]["role"], "master");
    assert_eq!(st["nodes"][1]["link"], "up");
    assert_eq!(st["nodes"][2]["reachable"], false);
    h.start_host(2);
    let o = tripod(&["deploy", invs]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("m   unchanged"));
    assert_eq!(json(&tripod(&["status", invs, "--json"]))["healthy"], true);
    let o = tripod(&["stop", invs]);
    assert_eq!(code(&o), 0);
    assert!(pid_of(&base.join("m")).is_none());
}

#[test]
fn ssh_agent_authentication() {
    let _lock = ssh_lock();
    let h = SshHosts::start();
    let (inv, _) = setup(&h, "accept-new");
    // no identity_file: the agent's key
    let text = std::fs::read_to_string(&inv).unwrap().replace(
        &format!("  identity_file: {}\n", h.client_key.display()),
        "",
    );
    std::fs::write(&inv, text).unwrap();
    let sock = h.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent");
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _agent = Kill(&mut agent);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !sock.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let add = std::process::Command::new("ssh-add")
        .arg(&h.client_key)
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let run = |sock: Option<&std::path::Path>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tripod"));
        c.args(["deploy", inv.to_str().unwrap(), "--dry-run"])
            .env("TRIPOD_SERVER_BIN", server_binary())
            .env_remove("SSH_AUTH_SOCK");
        if let Some(s) = sock {
            c.env("SSH_AUTH_SOCK", s);
        }
        c.output().unwrap()
    };
    let o = run(Some(&sock));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("start the server"));
    let o = run(None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("ssh-agent"));
}

#[test]
fn ssh_host_with_several_keys_is_checked_against_the_recorded_one() {
    let _lock = ssh_lock();
    let mut h = SshHosts::start();
    let (inv, _) = setup(&h, "strict");
    h.add_rsa_host_key(0);
    // Only host 0's RSA key is on record: tripod must ask for it, not the ed25519 one.
    let mut kh = h.known_hosts_line_of(0, "host_key_0_rsa.pub");
    kh.push_str(&h.known_hosts_line(1, 1));
    kh.push_str(&h.known_hosts_line(2, 2));
    std::fs::write(&h.known_hosts, &kh).unwrap();
    let o = tripod(&["deploy", inv.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(std::fs::read_to_string(&h.known_hosts).unwrap(), kh);
    // The same with hashed entries (HashKnownHosts yes, Debian's default).
    let hashed = std::process::Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&h.known_hosts)
        .output()
        .unwrap();
    assert!(hashed.status.success());
    let kh = std::fs::read_to_string(&h.known_hosts).unwrap();
    assert!(kh.starts_with("|1|"), "{kh}");
    let o = tripod(&["deploy", inv.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(std::fs::read_to_string(&h.known_hosts).unwrap(), kh);
}

/// Sentinel over SSH: tripod uploads Debian's Sentinel to the three hosts, starts and verifies
/// it; `kill -9` of the master, Sentinel fails over, deploy keeps Sentinel's master (and says so
/// in the inventory) and brings the old one back as a replica; promote back through Sentinel;
/// stop stops the Sentinels first.
#[test]
fn ssh_sentinel_failover_flow() {
    let _lock = ssh_lock();
    let h = SshHosts::start();
    let (inv, base) = setup(&h, "accept-new");
    let invs = inv.to_str().unwrap();
    let bin = ["/usr/bin/redis-sentinel", "/usr/bin/redis-server"]
        .iter()
        .map(std::path::Path::new)
        .find(|p| p.exists())
        .map(|p| std::fs::canonicalize(p).unwrap())
        .expect("redis-sentinel or redis-server installed");
    let sport = free_port();
    let text = std::fs::read_to_string(&inv).unwrap().replacen(
        "hosts:\n",
        &format!(
            "sentinel:\n  port: {sport}\n  quorum: 2\n  down_after_ms: 1000\n  failover_timeout_ms: 4000\n  binary: {}\nhosts:\n",
            bin.display()
        ),
        1,
    );
    std::fs::write(&inv, text).unwrap();
    let o = tripod(&["deploy", invs]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("Sentinels verified: 3 Sentinel(s) see m as the master"));
    let st = json(&tripod(&["status", invs, "--json"]));
    assert_eq!(st["healthy"], true, "{st}");
    let sentinels = st["sentinels"].as_array().unwrap();
    assert_eq!(sentinels.len(), 3);
    for (i, s) in sentinels.iter().enumerate() {
        assert_eq!(s["address"], SSH_ADDRS[i]);
        assert_eq!(s["port"], sport);
        assert_eq!(s["quorum_ok"], true);
        assert_eq!(
            s["master"].as_str().unwrap(),
            format!("{}:{}", SSH_ADDRS[0], st["nodes"][0]["port"])
        );
    }

    // kill -9 the master under a writer with WAIT 1; Sentinel promotes a replica, and every
    // write a replica acknowledged is on the new master.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = sentinel_writer(sport, stop.clone());
    std::thread::sleep(std::time::Duration::from_millis(500));
    let pid = pid_of(&base.join("m")).unwrap();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let new_master = loop {
        let st = json(&tripod(&["status", invs, "--json"]));
        let settled = !st["problems"]
            .to_string()
            .contains("failover is in progress");
        if let Some(m) = st["master"].as_str().filter(|m| *m != "m" && settled) {
            break m.to_string();
        }
        assert!(std::time::Instant::now() < deadline, "no failover: {st}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    // Let the writer find the new master before it stops.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (acked, after) = writer.join().unwrap();
    assert!(
        acked.len() > 10,
        "the writer wrote too little: {}",
        acked.len()
    );
    assert!(after > 0, "no write acknowledged by the new master");
    let st = json(&tripod(&["status", invs, "--json"]));
    let idx = ["m", "r1", "r2"]
        .iter()
        .position(|n| *n == new_master)
        .unwrap();
    let port = st["nodes"][idx]["port"].as_u64().unwrap();
    let mut c = redis_conn(SSH_ADDRS[idx], port as u16);
    for k in &acked {
        let v: Option<String> = redis::cmd("GET").arg(k).query(&mut c).unwrap();
        assert_eq!(v.as_deref(), Some("v"), "acknowledged {k} lost");
    }

    let o = tripod(&["deploy", invs]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains(&format!("Sentinel made {new_master} the master")));
    assert!(
        stdout(&o).contains("m   uploaded config, started"),
        "{}",
        stdout(&o)
    );
    let o = tripod(&["deploy", invs]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(!stdout(&o).contains("restart"), "{}", stdout(&o));

    let o = tripod(&["promote", invs, "m"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("Sentinel switched the master to m"));
    let st = json(&tripod(&["status", invs, "--json"]));
    assert_eq!(st["master"], "m", "{st}");
    assert_eq!(st["healthy"], true, "{st}");

    let o = tripod(&["stop", invs]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.find("sentinel m  stopped").unwrap() < out.find("stopped (data kept)").unwrap());
    for n in ["m", "r1", "r2"] {
        assert!(!base.join(n).join("sentinel.pid").exists());
        assert!(!base.join(n).join("redis.pid").exists());
    }
}

/// A connection to a group node of the SSH tests (password `s3cret-pw`).
fn redis_conn(host: &str, port: u16) -> redis::Connection {
    let c = redis::Client::open(format!("redis://:s3cret-pw@{host}:{port}/")).unwrap();
    let c = c
        .get_connection_with_timeout(std::time::Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("connect {host}:{port}: {e}"));
    c.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    c
}

/// A writer with `WAIT 1 1000` that asks the first host's Sentinel (on `sentinel_port`, with
/// the group's password, which deploy gives the Sentinels too) where the master is before
/// every write and retries after any error. Returns the keys a replica acknowledged and how
/// many of them were written after the first switch.
fn sentinel_writer(
    sentinel_port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<(Vec<String>, usize)> {
    std::thread::spawn(move || {
        let (mut acked, mut after, mut first) = (Vec::new(), 0, None::<String>);
        let mut i = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let k = format!("w{i}");
            i += 1;
            let r = (|| -> Result<(bool, String), String> {
                let s = redis::Client::open(format!(
                    "redis://:s3cret-pw@{}:{sentinel_port}/",
                    SSH_ADDRS[0]
                ))
                .map_err(|e| e.to_string())?;
                let mut s = s
                    .get_connection_with_timeout(std::time::Duration::from_secs(1))
                    .map_err(|e| e.to_string())?;
                let (host, port): (String, u16) = redis::cmd("SENTINEL")
                    .arg("GET-MASTER-ADDR-BY-NAME")
                    .arg("test")
                    .query(&mut s)
                    .map_err(|e| e.to_string())?;
                let mut c = redis_conn_quiet(&host, port)?;
                redis::cmd("SET")
                    .arg(&k)
                    .arg("v")
                    .query::<()>(&mut c)
                    .map_err(|e| e.to_string())?;
                let n: i64 = redis::cmd("WAIT")
                    .arg(1)
                    .arg(1000)
                    .query(&mut c)
                    .map_err(|e| e.to_string())?;
                Ok((n >= 1, format!("{host}:{port}")))
            })();
            match r {
                Ok((true, master)) => {
                    acked.push(k);
                    match &first {
                        None => first = Some(master),
                        Some(f) if *f != master => after += 1,
                        _ => {}
                    }
                }
                _ => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
        (acked, after)
    })
}

/// As `redis_conn`, with errors returned rather than panicking (the master may be down).
fn redis_conn_quiet(host: &str, port: u16) -> Result<redis::Connection, String> {
    let c = redis::Client::open(format!("redis://:s3cret-pw@{host}:{port}/"))
        .map_err(|e| e.to_string())?;
    let c = c
        .get_connection_with_timeout(std::time::Duration::from_secs(1))
        .map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(std::time::Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    Ok(c)
}

/// A group with two application users, a monitoring user, a write-test user and a replication
/// user, deployed over SSH: each user can do exactly what its rules allow on the master and a
/// replica, the replicas log in as the replication user, `status` works as the monitoring user,
/// and a change of users is applied without a restart (cli_common::acl::acl_flow).
#[test]
fn ssh_group_with_acl_users() {
    let _lock = ssh_lock();
    let h = SshHosts::start();
    let base = h.path().join("hosts");
    let inv = h.path().join("inventory.yaml");
    let ports = [free_port(), free_port(), free_port()];
    write_inventory(
        &inv,
        "ssh",
        &ssh_block(&h, &h.client_key, "accept-new"),
        SSH_ADDRS,
        ports,
        &base,
        "default-pw-1",
    );
    let text = std::fs::read_to_string(&inv).unwrap();
    std::fs::write(&inv, cli_common::acl::acl_inventory(&text)).unwrap();
    let invs = inv.to_str().unwrap();
    cli_common::acl::acl_flow(invs, &base, SSH_ADDRS, ports);
    let o = tripod(&["stop", invs]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}
