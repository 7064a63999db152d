//! The CLI's flows with `connection: local` (no SSH), on free ports.
mod cli_common;
use cli_common::*;

#[test]
fn local_group_full_flow() {
    let g = LocalGroup::new("s3cret-pw");
    full_flow(&g.inv, g.dir.path());
}

#[test]
fn shipped_local_inventory_is_valid() {
    let o = tripod(&["render", "inventories/local.yaml"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("requirepass ********"));
    assert!(!stdout(&o).contains("123456"));
}

#[test]
fn local_server_that_does_not_come_up_then_deploy_again() {
    let g = LocalGroup::new("pw-local");
    // Something else holds the master's port: its server exits at startup.
    let blocker = std::net::TcpListener::bind(("127.0.0.1", g.ports[0])).unwrap();
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("m   FAILED: host m"), "{}", stdout(&o));
    // Redis binds after daemonizing (deploy then finds no process); tripod-server binds before
    // (the start command itself fails with its message). Either way the host is named.
    assert!(
        stdout(&o).contains("the server is not running")
            || stdout(&o).contains("the server did not start"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("Address already in use") || stdout(&o).contains("in use"));
    assert!(stderr(&o).contains("deploy failed on m"));
    assert!(
        pid_of(&g.dir.path().join("r1")).is_some(),
        "the other hosts were deployed"
    );
    drop(blocker);
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("r1  unchanged"));
    assert!(stdout(&o).contains("m   started"));
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

#[test]
fn local_failed_upload_is_named_and_a_changed_binary_restarts() {
    let g = LocalGroup::new("pw-local");
    // r2's config path is a directory: the upload fails there, and only there.
    std::fs::create_dir_all(g.dir.path().join("r2/redis.conf")).unwrap();
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("r2  FAILED: "), "{}", stdout(&o));
    assert!(stdout(&o).contains("redis.conf"));
    std::fs::remove_dir(g.dir.path().join("r2/redis.conf")).unwrap();
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 0);

    // A different server binary (same program, one more byte) is uploaded and restarts all.
    let bin = g.dir.path().join("server-copy");
    let mut bytes = std::fs::read(server_binary()).unwrap();
    bytes.push(0);
    std::fs::write(&bin, bytes).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let before = pid_of(&g.dir.path().join("r1"));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tripod"))
        .args(["deploy", g.inv()])
        .env("TRIPOD_SERVER_BIN", &bin)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_eq!(
        out.matches("uploaded tripod-server, restarted").count(),
        6,
        "{out}"
    );
    assert_ne!(pid_of(&g.dir.path().join("r1")), before);
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

#[test]
fn local_promote_refusals_and_writable_replicas() {
    let g = LocalGroup::new("pw-local");
    // replicas that accept writes: write-test expects "accepted"
    let text = std::fs::read_to_string(&g.inv).unwrap().replace(
        "    repl-diskless-sync-delay: 0\n",
        "    repl-diskless-sync-delay: 0\n    replica-read-only: \"no\"\n",
    );
    std::fs::write(&g.inv, text).unwrap();
    assert_eq!(code(&tripod(&["deploy", g.inv()])), 0);
    let o = tripod(&["write-test", g.inv(), "--keys", "150", "--json"]);
    assert_eq!(code(&o), 0);
    let wt = json(&o);
    assert_eq!(wt["replicas"][0]["write_on_replica"], "accepted");
    assert_eq!(wt["replicas"][1]["write_on_replica"], "accepted");

    // the master itself: nothing to do
    let o = tripod(&["promote", g.inv(), "m"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("m is already the master"));

    // a replica that does not answer is refused, and nothing changes
    let r2 = pid_of(&g.dir.path().join("r2")).unwrap();
    let _ = std::process::Command::new("kill")
        .arg(r2.to_string())
        .status();
    while alive(r2) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before = std::fs::read_to_string(&g.inv).unwrap();
    let o = tripod(&["promote", g.inv(), "r2"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("cannot promote r2: it does not answer"));
    assert_eq!(std::fs::read_to_string(&g.inv).unwrap(), before);
    let st = json(&tripod(&["status", g.inv(), "--json"]));
    assert_eq!(st["healthy"], false);
    assert_eq!(st["nodes"][2]["reachable"], false);
    assert_eq!(st["nodes"][2]["role"], "unknown");
    assert_eq!(st["nodes"][0]["role"], "master");
    // write-test fails (exit 1) and names the replica it cannot read from
    let o = tripod(&["write-test", g.inv(), "--keys", "50", "--json"]);
    assert_eq!(code(&o), 1);
    let wt = json(&o);
    assert_eq!(wt["ok"], false);
    assert_eq!(wt["replicas"][1]["name"], "r2");
    assert_eq!(wt["replicas"][1]["reachable"], false);
    assert_eq!(wt["replicas"][0]["ok"], true);
    assert_eq!(wt["deleted"], true);
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

#[test]
fn local_promote_loses_no_acknowledged_write() {
    let g = LocalGroup::new("pw-local");
    assert_eq!(code(&tripod(&["deploy", g.inv()])), 0);
    let url = |port: u16| format!("redis://:pw-local@127.0.0.1:{port}/");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let old_master = g.ports[0];
    let writer = {
        let stop = stop.clone();
        let url = url(old_master);
        std::thread::spawn(move || {
            // INCR on the old master until it stops taking writes; remember the last
            // acknowledged value.
            let client = redis::Client::open(url).unwrap();
            let mut con = client.get_connection().unwrap();
            let mut acked = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match redis::cmd("INCR").arg("counter").query::<i64>(&mut con) {
                    Ok(v) => acked = v,
                    Err(_) => break,
                }
            }
            acked
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let o = tripod(&["promote", g.inv(), "r1"]);
    assert_eq!(code(&o), 0);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked = writer.join().unwrap();
    assert!(acked > 0);
    let client = redis::Client::open(url(g.ports[1])).unwrap();
    let mut con = client.get_connection().unwrap();
    let on_new: i64 = redis::cmd("GET").arg("counter").query(&mut con).unwrap();
    assert!(
        on_new >= acked,
        "the new master has {on_new}, but {acked} writes were acknowledged"
    );
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

#[test]
fn local_deploy_force_and_runtime_drift() {
    let g = LocalGroup::new("pw-local");
    assert_eq!(code(&tripod(&["deploy", g.inv()])), 0);
    let orig = std::fs::read_to_string(&g.inv).unwrap();
    assert_eq!(code(&tripod(&["promote", g.inv(), "r1"])), 0);
    // An inventory that still says m is the master: refused, then forced.
    let old = g.dir.path().join("old.yaml");
    std::fs::write(&old, &orig).unwrap();
    let olds = old.to_str().unwrap();
    let o = tripod(&["deploy", olds]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("the live master is r1"));
    let o = tripod(&["deploy", olds, "--force"]);
    assert_eq!(code(&o), 0);
    let st = json(&tripod(&["status", olds, "--json"]));
    assert_eq!(st["healthy"], true);
    assert_eq!(st["master"], "m");

    // Someone turns r2 into a master by hand: status says so, deploy restarts it as a replica.
    let client =
        redis::Client::open(format!("redis://:pw-local@127.0.0.1:{}/", g.ports[2])).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut con)
        .unwrap();
    let o = tripod(&["status", olds]);
    assert_eq!(code(&o), 1);
    let o = tripod(&["deploy", olds, "--dry-run"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("it runs as a master, the inventory says replica"));
    let o = tripod(&["deploy", olds]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("r2  restarted (it runs as a master, the inventory says replica)"));
    assert!(stdout(&o).contains("m   unchanged"));
    assert_eq!(json(&tripod(&["status", olds, "--json"]))["healthy"], true);
    assert_eq!(code(&tripod(&["stop", olds])), 0);
}

#[test]
fn local_group_with_aof_deploys_and_status_shows_it() {
    let g = LocalGroup::new("pw-aof");
    let text = std::fs::read_to_string(&g.inv).unwrap().replace(
        "    repl-diskless-sync-delay: 0\n",
        "    repl-diskless-sync-delay: 0\n    appendonly: \"yes\"\n    appendfsync: always\n",
    );
    std::fs::write(&g.inv, text).unwrap();
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(code(&tripod(&["write-test", g.inv(), "--keys", "50"])), 0);
    let st = json(&tripod(&["status", g.inv(), "--json"]));
    assert_eq!(st["healthy"], true);
    for n in 0..3 {
        let p = &st["nodes"][n]["persistence"];
        assert_eq!(p["aof_enabled"], true, "{st}");
        assert_eq!(p["aof_last_write_status"], "ok");
        assert_eq!(p["aof_last_rewrite_status"], "ok");
        assert_eq!(p["rdb_last_bgsave_status"], "ok");
    }
    // The master's AOF folder is Redis 7.0's.
    let master_dir = g.dir.path().join("m");
    let manifest = walk(&master_dir)
        .into_iter()
        .find(|p| p.ends_with("appendonlydir/appendonly.aof.manifest"))
        .expect("the master has an AOF manifest");
    assert!(std::fs::read_to_string(manifest)
        .unwrap()
        .contains("type i\n"));
    let text = stdout(&tripod(&["status", g.inv()]));
    assert!(text.contains("AOF"), "{text}");
    assert_eq!(text.matches(" on ").count(), 3, "{text}");
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
