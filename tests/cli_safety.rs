//! Fault injection against real processes (`connection: local`, the bundled server): deploy,
//! promote and stop never lose an acknowledged write, and refuse with a clear message when they
//! cannot act safely. Each test says which fault it injects.
mod cli_common;
use cli_common::*;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PW: &str = "pw-safety";

fn con(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://:{PW}@127.0.0.1:{port}/"))
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(5))
        .unwrap()
}

fn fill(port: u16, n: usize) {
    let mut c = con(port);
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut p = redis::pipe();
        for i in chunk {
            p.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
    }
    let _: i64 = redis::cmd("WAIT").arg(2).arg(5000).query(&mut c).unwrap();
}

fn dbsize(port: u16) -> i64 {
    redis::cmd("DBSIZE").query(&mut con(port)).unwrap()
}

fn role(port: u16) -> String {
    let v: Vec<redis::Value> = redis::cmd("ROLE").query(&mut con(port)).unwrap();
    match &v[0] {
        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

/// Adds `directive: value` to the group's `config:` section.
fn add_config(g: &LocalGroup, directive: &str, value: &str) {
    let text = std::fs::read_to_string(&g.inv).unwrap().replace(
        "    repl-diskless-sync-delay: 0\n",
        &format!("    repl-diskless-sync-delay: 0\n    {directive}: {value}\n"),
    );
    std::fs::write(&g.inv, text).unwrap();
}

fn plan_lines(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with("plan "))
        .map(str::to_string)
        .collect()
}

/// Fault: the master cannot save (its dump.rdb is a non-empty folder, so the rename of the new
/// snapshot fails, as on a broken disk). A config-changing deploy must fail naming the master and
/// leave it the master with every key; `stop` must refuse too.
#[test]
fn a_master_that_cannot_save_is_never_restarted() {
    let g = LocalGroup::new(PW);
    assert_eq!(code(&tripod(&["deploy", g.inv()])), 0);
    fill(g.ports[0], 3000);
    let blocker = g.node("m").join("dump.rdb");
    let _ = std::fs::remove_file(&blocker);
    std::fs::create_dir_all(blocker.join("x")).unwrap();

    add_config(&g, "maxmemory-policy", "noeviction");
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("m   FAILED: host m"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("refused to shut down"),
        "{}",
        stdout(&o)
    );
    assert_eq!(role(g.ports[0]), "master");
    assert_eq!(dbsize(g.ports[0]), 3000);
    for p in &g.ports[1..] {
        assert_eq!(role(*p), "slave");
        assert_eq!(dbsize(*p), 3000);
    }

    let mpid = pid_of(&g.node("m")).unwrap();
    let o = tripod(&["stop", g.inv()]);
    assert_eq!(code(&o), 1);
    assert!(alive(mpid), "a master whose save fails keeps running");
    assert_eq!(dbsize(g.ports[0]), 3000);

    // The disk is fixed: deploy finishes the job and nothing was lost.
    std::fs::remove_dir_all(&blocker).unwrap();
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(dbsize(g.ports[0]), 3000);
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

/// Fault: the master's install_dir changes to an empty folder (a rebuilt host) while the
/// replicas hold the data. Deploy must refuse and say which node holds it.
#[test]
fn an_empty_master_is_not_started_over_replicas_with_data() {
    let g = LocalGroup::new(PW);
    assert_eq!(code(&tripod(&["deploy", g.inv()])), 0);
    fill(g.ports[0], 2000);
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
    let text = std::fs::read_to_string(&g.inv).unwrap();
    let old_dir = g.node("m").display().to_string();
    let new_dir = g.dir.path().join("m-new").display().to_string();
    std::fs::write(&g.inv, text.replace(&old_dir, &new_dir)).unwrap();
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("refusing to deploy"), "{err}");
    assert!(err.contains("would hold no keys"), "{err}");
    assert!(err.contains("r1 (its dump.rdb)"), "{err}");
    assert!(pid_of(&g.node("r1")).is_none(), "nothing was started");
    assert!(!Path::new(&new_dir).join("redis.pid").exists());
    // dry-run says the same
    let o = tripod(&["deploy", g.inv(), "--dry-run"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("deploy would refuse"));
    // back to the old folder: everything comes back with its data
    std::fs::write(&g.inv, &text).unwrap();
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(dbsize(g.ports[0]), 2000);
    assert_eq!(dbsize(g.ports[2]), 2000);
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

/// Fault: a replica that was made master by hand took writes the master does not have (a
/// returning old master, or a manual REPLICAOF NO ONE). Deploy must not demote it silently.
#[test]
fn a_replica_holding_writes_of_its_own_is_not_demoted() {
    let g = LocalGroup::new(PW);
    assert_eq!(code(&tripod(&["deploy", g.inv()])), 0);
    fill(g.ports[0], 100);
    let mut r2 = con(g.ports[2]);
    let _: () = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut r2)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("only-on-r2")
        .arg(1)
        .query(&mut r2)
        .unwrap();
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("r2 (the running server) was promoted"),
        "{}",
        stderr(&o)
    );
    assert_eq!(role(g.ports[2]), "master");
    let o = tripod(&["deploy", g.inv(), "--force"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(role(g.ports[2]), "slave");
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

/// Fault: the pid file names another live process (a recycled pid after a crash). Neither
/// stop nor deploy may signal it.
#[test]
fn a_stale_pid_file_never_gets_another_process_killed() {
    let g = LocalGroup::new(PW);
    assert_eq!(code(&tripod(&["deploy", g.inv()])), 0);
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
    let mut sleeper = Command::new("sleep").arg("300").spawn().unwrap();
    struct Reap<'a>(&'a mut std::process::Child);
    impl Drop for Reap<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let spid = sleeper.id();
    let _reap = Reap(&mut sleeper);
    std::fs::write(g.node("m").join("redis.pid"), format!("{spid}\n")).unwrap();
    let o = tripod(&["stop", g.inv()]);
    assert_eq!(code(&o), 0);
    assert!(
        stdout(&o).contains("removed a stale pid file"),
        "{}",
        stdout(&o)
    );
    assert!(alive(spid));
    std::fs::write(g.node("m").join("redis.pid"), format!("{spid}\n")).unwrap();
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(alive(spid));
    assert_ne!(pid_of(&g.node("m")), Some(spid));
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
    assert!(alive(spid));
}

/// Fault: deploy died after uploading a new config and before restarting (simulated by putting
/// the rendered config in place by hand). The next deploy must restart with it.
#[test]
fn an_interrupted_deploy_is_finished_by_the_next() {
    let g = LocalGroup::new(PW);
    assert_eq!(code(&tripod(&["deploy", g.inv()])), 0);
    add_config(&g, "maxmemory", "123mb");
    let out = g.dir.path().join("rendered");
    assert_eq!(
        code(&tripod(&[
            "render",
            g.inv(),
            "--out",
            out.to_str().unwrap()
        ])),
        0
    );
    std::fs::copy(out.join("r1.conf"), g.node("r1").join("redis.conf")).unwrap();
    let o = tripod(&["deploy", g.inv(), "--dry-run"]);
    assert!(
        stdout(&o).contains("plan r1: restart the server (it was started from other files"),
        "{}",
        stdout(&o)
    );
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    for p in g.ports {
        let v: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("maxmemory")
            .query(&mut con(p))
            .unwrap();
        assert_eq!(v[1], (123u64 << 20).to_string());
    }
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

/// A writer (SET, then WAIT 1) on the master all along: a rolling deploy of a new binary and
/// promote both ways; every acknowledged key must be on the final master.
#[test]
fn acknowledged_writes_survive_rolling_deploys_and_promotes() {
    let g = LocalGroup::new(PW);
    assert_eq!(code(&tripod(&["deploy", g.inv()])), 0);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let ports = g.ports;
    let writer = {
        let (stop, acked) = (stop.clone(), acked.clone());
        std::thread::spawn(move || {
            // Writes go to whichever node is master (as a Sentinel-aware client would).
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let mut ok = false;
                for p in ports {
                    let Ok(client) = redis::Client::open(format!("redis://:{PW}@127.0.0.1:{p}/"))
                    else {
                        continue;
                    };
                    let Ok(mut c) = client.get_connection_with_timeout(Duration::from_millis(500))
                    else {
                        continue;
                    };
                    let _ = c.set_read_timeout(Some(Duration::from_secs(15)));
                    let set: redis::RedisResult<()> =
                        redis::cmd("SET").arg(format!("w:{i}")).arg(i).query(&mut c);
                    if set.is_err() {
                        continue;
                    }
                    let n: redis::RedisResult<i64> =
                        redis::cmd("WAIT").arg(1).arg(2000).query(&mut c);
                    if n.is_ok_and(|n| n >= 1) {
                        acked.lock().unwrap().push(i);
                    }
                    ok = true;
                    break;
                }
                if !ok {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    // a new binary (one more byte): every node restarts, the master through a handover
    let bin = g.dir.path().join("server-copy");
    let mut bytes = std::fs::read(server_binary()).unwrap();
    bytes.push(0);
    std::fs::write(&bin, bytes).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tripod"))
        .args(["deploy", g.inv()])
        .env("TRIPOD_SERVER_BIN", &bin)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("through a handover to r"), "{out}");
    assert_eq!(role(g.ports[0]), "master");
    let o = tripod(&["promote", g.inv(), "r1"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let o = tripod(&["promote", g.inv(), "m"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "the writer got {} writes through",
        acked.len()
    );
    let mut m = con(g.ports[0]);
    let mut missing = Vec::new();
    for i in &acked {
        let v: Option<u64> = redis::cmd("GET")
            .arg(format!("w:{i}"))
            .query(&mut m)
            .unwrap();
        if v != Some(*i) {
            missing.push(*i);
        }
    }
    assert!(missing.is_empty(), "acknowledged but missing: {missing:?}");
    let bin_deploy = Command::new(env!("CARGO_BIN_EXE_tripod"))
        .args(["stop", g.inv()])
        .env("TRIPOD_SERVER_BIN", &bin)
        .output()
        .unwrap();
    assert_eq!(bin_deploy.status.code(), Some(0));
}

/// Fault: the promote target stops (SIGSTOP) during the handover, for longer than the pause.
/// promote must abort, leave one master, and lose nothing.
#[test]
fn promote_to_a_stopped_target_aborts_cleanly() {
    let g = LocalGroup::new(PW);
    assert_eq!(code(&tripod(&["deploy", g.inv()])), 0);
    fill(g.ports[0], 500);
    let r1 = pid_of(&g.node("r1")).unwrap();
    struct Cont(u32);
    impl Drop for Cont {
        fn drop(&mut self) {
            let _ = Command::new("kill")
                .args(["-CONT", &self.0.to_string()])
                .status();
        }
    }
    let cont = Cont(r1);
    let before = std::fs::read_to_string(&g.inv).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tripod"))
        .args(["promote", g.inv(), "r1", "--timeout", "1"])
        .env("TRIPOD_SERVER_BIN", server_binary())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = String::new();
    for l in lines.by_ref() {
        let l = l.unwrap();
        seen.push_str(&l);
        seen.push('\n');
        if l.starts_with("offsets before:") {
            let _ = Command::new("kill")
                .args(["-STOP", &r1.to_string()])
                .status();
            break;
        }
    }
    for l in lines {
        seen.push_str(&l.unwrap());
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(1), "{seen}{err}");
    assert!(err.contains("aborted"), "{seen}{err}");
    // while r1 is still stopped: m is the master and takes writes
    assert_eq!(role(g.ports[0]), "master");
    let _: () = redis::cmd("SET")
        .arg("after")
        .arg(1)
        .query(&mut con(g.ports[0]))
        .unwrap();
    drop(cont);
    let deadline = Instant::now() + Duration::from_secs(10);
    while role(g.ports[1]) != "slave" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(role(g.ports[1]), "slave");
    assert_eq!(role(g.ports[2]), "slave");
    assert_eq!(dbsize(g.ports[0]), 501);
    assert_eq!(
        std::fs::read_to_string(&g.inv).unwrap(),
        before,
        "the inventory is unchanged"
    );
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

/// Fault: a host whose `uname` reports another architecture. Deploy refuses before uploading.
#[test]
fn a_host_of_another_architecture_is_refused() {
    let g = LocalGroup::new(PW);
    let fake = g.dir.path().join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(fake.join("uname"), "#!/bin/sh\necho Linux aarch64\n").unwrap();
    std::fs::set_permissions(
        fake.join("uname"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new(env!("CARGO_BIN_EXE_tripod"))
        .args(["deploy", g.inv()])
        .env("TRIPOD_SERVER_BIN", server_binary())
        .env("PATH", &path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("reports `Linux aarch64`"), "{err}");
    assert!(err.contains("built for Linux x86_64"), "{err}");
    assert!(
        !g.node("m").join("tripod-server").exists(),
        "nothing uploaded"
    );
}

/// Issue 9: `--dry-run` and the deploy that follows announce the same plan, for a fresh group,
/// a changed config, a changed binary and an unchanged group.
#[test]
fn dry_run_and_deploy_announce_the_same_plan() {
    let g = LocalGroup::new(PW);
    let bin = g.dir.path().join("server-copy");
    let run = |args: &[&str], server: &Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_tripod"))
            .args(args)
            .env("TRIPOD_SERVER_BIN", server)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let check = |server: &Path, expect: &[&str]| {
        let dry = plan_lines(&run(&["deploy", g.inv(), "--dry-run"], server));
        let real = plan_lines(&run(&["deploy", g.inv()], server));
        assert_eq!(dry, real);
        assert_eq!(dry.len(), 3);
        for (line, want) in dry.iter().zip(expect) {
            assert!(line.contains(want), "{line} lacks {want}");
        }
    };
    let std_bin = server_binary();
    check(
        &std_bin,
        &["upload tripod-server, upload config, start the server"; 3],
    );
    add_config(&g, "maxmemory", "64mb");
    check(
        &std_bin,
        &[
            "plan m: upload config, restart the server through a handover",
            "plan r1: upload config, restart the server (the config changed)",
            "plan r2: upload config, restart the server (the config changed)",
        ],
    );
    let mut bytes = std::fs::read(&std_bin).unwrap();
    bytes.push(0);
    std::fs::write(&bin, bytes).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    check(
        &bin,
        &[
            "plan m: upload tripod-server, restart the server through a handover",
            "plan r1: upload tripod-server, restart the server (the binary changed)",
            "plan r2: upload tripod-server, restart",
        ],
    );
    check(&bin, &["leave the running server alone"; 3]);
    let _ = run(&["stop", g.inv()], &bin);
}

/// A master without persistence while it has replicas: deploy warns loudly (Redis's docs warn
/// that such a master, restarted by anything, comes back empty and empties its replicas).
#[test]
fn a_master_without_persistence_is_warned_about() {
    let g = LocalGroup::new(PW);
    add_config(&g, "save", "'\"\"'");
    let o = tripod(&["deploy", g.inv(), "--dry-run"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("WARNING: the master m has no persistence"),
        "{}",
        stdout(&o)
    );
}
