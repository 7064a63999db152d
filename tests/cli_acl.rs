//! The inventory's `acl:` section: ACL users rendered into an aclfile (mode 0600) next to
//! redis.conf, a replication user for `masteruser`/`masterauth`, and `status`/`write-test`
//! logging in as named users. Bad sections are refused with file:line:column (exit 2) and no
//! password ever shows on screen. Then a local group deployed with two application users, a
//! monitoring user and a replication user: each user can do exactly what its rules allow.
mod cli_common;
use cli_common::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

const BASE: &str = "\
cluster: t
redis:
  port: 6379
  password: \"default-pw-1\"
  install_dir: /srv/redis
hosts:
  - name: a
    address: 10.0.0.1
    role: master
  - name: b
    address: 10.0.0.2
    role: replica
acl:
  users:
    - name: app
      password: \"app-pw-2\"
      rules: \"~app:* +@read +@write -@dangerous\"
    - name: monitor
      password_env: TRIPOD_TEST_MONITOR_PW
      rules: [+ping, +info, +role]
    - name: repl
      password: \"repl-pw-3\"
      rules: \"+psync +replconf +ping\"
  replication_user: repl
  status_user: monitor
";

/// Every password of BASE (none may show on screen).
const SECRETS: &[&str] = &["default-pw-1", "app-pw-2", "monitor-pw-4", "repl-pw-3"];

/// Runs tripod with TRIPOD_TEST_MONITOR_PW set.
fn tripod_env(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tripod"))
        .args(args)
        .env("TRIPOD_TEST_MONITOR_PW", "monitor-pw-4")
        .env("TRIPOD_SERVER_BIN", server_binary())
        .output()
        .unwrap()
}

fn no_secret(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "a password is shown: {text}");
    }
}

/// `tripod render` on `text` is refused with status 2 and `path:LOC: ...WANT...`, no secret.
fn refused(text: &str, loc: &str, want: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.yaml");
    std::fs::write(&path, text).unwrap();
    let o = tripod_env(&["render", path.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    let prefix = format!("tripod: {}:{loc}: ", path.display());
    assert!(err.starts_with(&prefix), "expected {prefix:?} in {err:?}");
    assert!(err.contains(want), "expected {want:?} in {err:?}");
    no_secret(&err);
    assert!(stdout(&o).is_empty());
}

#[test]
fn acl_renders_an_aclfile_and_a_replication_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.yaml");
    std::fs::write(&path, BASE).unwrap();
    let o = tripod_env(&["render", path.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = stdout(&o);
    no_secret(&s);
    assert!(s.contains("aclfile \"/srv/redis/users.acl\"\n"), "{s}");
    assert!(
        s.contains("masteruser \"repl\"\nmasterauth ********\n"),
        "{s}"
    );
    assert!(s.contains("-> /srv/redis/users.acl"), "{s}");
    assert!(s.contains("user default on #******** ~* &* +@all\n"), "{s}");
    assert!(
        s.contains("user app reset on #******** ~app:* +@read +@write -@dangerous\n"),
        "{s}"
    );
    assert!(s.contains("user monitor reset on #******** +ping +info +role\n"));
    // --out writes the real files, mode 0600, hashes instead of passwords
    let out = dir.path().join("out");
    let o = tripod_env(&[
        "render",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let acl_path = out.join("b.users.acl");
    let acl = std::fs::read_to_string(&acl_path).unwrap();
    let mode = std::fs::metadata(&acl_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    no_secret(&acl);
    let h = sha256_hex("app-pw-2");
    assert!(
        acl.contains(&format!("user app reset on #{h} ~app:*")),
        "{acl}"
    );
    let conf = std::fs::read_to_string(out.join("b.conf")).unwrap();
    assert!(conf.contains("masteruser \"repl\"\nmasterauth \"repl-pw-3\"\n"));
    let master = std::fs::read_to_string(out.join("a.conf")).unwrap();
    assert!(!master.contains("masteruser") && master.contains("aclfile"));
}

/// SHA-256 in hex, with the `sha256sum` tool (what the aclfile's `#` hashes are).
fn sha256_hex(s: &str) -> String {
    let mut c = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    String::from_utf8(o.stdout).unwrap()[..64].to_string()
}

#[test]
fn acl_section_errors_have_locations() {
    // line numbers: `acl:` is line 13, `users:` 14, the first user's name 15, its password
    // 16, its rules 17; the second user 18-20, the third 21-23; replication_user 24.
    refused(
        &BASE.replace("  status_user: monitor", "  status_user: nobody"),
        "25:3",
        "acl.status_user names \"nobody\", which is not one of acl.users",
    );
    refused(
        &BASE.replace("  replication_user: repl", "  replication_user: rep"),
        "24:3",
        "acl.replication_user names \"rep\"",
    );
    refused(
        &BASE.replace("- name: monitor", "- name: app"),
        "18:7",
        "two ACL users are named app",
    );
    refused(
        &BASE.replace("- name: app", "- name: default"),
        "15:7",
        "the default user is the one redis.password",
    );
    refused(
        &BASE.replace("- name: app", "- name: \"a b\""),
        "15:7",
        "bad ACL user name",
    );
    refused(
        &BASE.replace("~app:* +@read", "~app:* >app-pw-2 +@read"),
        "17:7",
        "passwords go in password or password_env",
    );
    refused(
        &BASE.replace("[+ping, +info, +role]", "[+ping, nopass]"),
        "20:7",
        "passwords go in password or password_env",
    );
    refused(
        &BASE.replace("+psync +replconf", "+psync replconf"),
        "23:7",
        "unknown ACL rule \"replconf\"",
    );
    refused(
        &BASE.replace("+psync +replconf", "(+psync ~x +replconf"),
        "23:7",
        "a selector `(` is not closed",
    );
    refused(
        &BASE.replace("rules: [+ping, +info, +role]", "rules: {a: 1}"),
        "20:7",
        "rules must be a string of rules separated by spaces, or a list",
    );
    refused(
        &BASE.replace(
            "      password_env: TRIPOD_TEST_MONITOR_PW\n",
            "      password_env: TRIPOD_TEST_MONITOR_PW\n      password: x\n",
        ),
        "19:7",
        "set either password or password_env, not both",
    );
    refused(
        &BASE.replace("TRIPOD_TEST_MONITOR_PW", "TRIPOD_TEST_UNSET_VAR"),
        "19:7",
        "TRIPOD_TEST_UNSET_VAR, which is not set",
    );
    refused(
        &BASE.replace("      password: \"repl-pw-3\"\n", ""),
        "21:7",
        "ACL user repl: set password or password_env",
    );
    refused(
        &BASE.replace(
            "  status_user: monitor",
            "  status_user: monitor\n  extra: 1",
        ),
        "26:3",
        "unknown field `extra`",
    );
    refused(
        &BASE.replace(
            "  install_dir: /srv/redis\n",
            "  install_dir: /srv/redis\n  config:\n    user: \"x on nopass\"\n",
        ),
        "7:5",
        "`user` directives in config: cannot go with acl:",
    );
    refused(
        &BASE.replace(
            "  install_dir: /srv/redis\n",
            "  install_dir: /srv/redis\n  config: {masteruser: x}\n",
        ),
        "6:12",
        "config directive `masteruser` is written by tripod itself",
    );
}

#[test]
fn a_named_user_that_is_not_declared_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.yaml");
    std::fs::write(&path, BASE).unwrap();
    let o = tripod_env(&["status", path.to_str().unwrap(), "--user", "ghost"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("no ACL user \"ghost\""),
        "{}",
        stderr(&o)
    );
}

// ---- a local group with ACL users ----

/// A RESP connection logged in as `user`.
struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn new(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }
    /// Sends one command, returns its reply's first line (and a bulk's body).
    fn c(&mut self, args: &[&str]) -> String {
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.w.write_all(out.as_bytes()).unwrap();
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        let line = line.trim_end().to_string();
        if let Some(n) = line.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
            let mut body = vec![0; n + 2];
            self.r.read_exact(&mut body).unwrap();
            return String::from_utf8_lossy(&body[..n]).into_owned();
        }
        if let Some(n) = line.strip_prefix('*').and_then(|n| n.parse::<usize>().ok()) {
            let mut items = Vec::new();
            for _ in 0..n {
                let mut l = String::new();
                self.r.read_line(&mut l).unwrap();
                items.push(l.trim_end().to_string());
            }
            return items.join(" ");
        }
        line
    }
    fn login(port: u16, user: &str, pw: &str) -> Conn {
        let mut c = Conn::new(port);
        assert_eq!(c.c(&["AUTH", user, pw]), "+OK", "AUTH {user}");
        c
    }
}

/// The inventory of a local group with ACL users: `app` (read/write on app:*), `reporting`
/// (read-only on app:* and report:*), `monitor` (status only), `tester` (write-test keys),
/// `repl` (replication only).
pub fn acl_inventory(base_block: &str) -> String {
    format!(
        "{base_block}acl:
  users:
    - name: app
      password: app-pw-2
      rules: \"~app:* +@read +@write -@dangerous\"
    - name: reporting
      password_env: TRIPOD_TEST_REPORTING_PW
      rules: [\"%R~app:*\", \"~report:*\", \"+@read\", \"+set\"]
    - name: monitor
      password: monitor-pw-4
      rules: \"+ping +info +role\"
    - name: tester
      password: tester-pw-5
      rules: \"~tripod:write-test:* +@read +@write +info +ping +wait +role\"
    - name: repl
      password: repl-pw-3
      rules: \"+psync +replconf +ping\"
  replication_user: repl
  status_user: monitor
  write_test_user: tester
"
    )
}

/// What each user may and may not do, checked on `port` (a master when `master`).
pub fn check_users(port: u16, master: bool) {
    let noperm = |r: &str| r.starts_with("-NOPERM");
    let mut app = Conn::login(port, "app", "app-pw-2");
    let mut rep = Conn::login(port, "reporting", "reporting-pw-6");
    let mut mon = Conn::login(port, "monitor", "monitor-pw-4");
    let mut repl = Conn::login(port, "repl", "repl-pw-3");
    if master {
        assert_eq!(app.c(&["SET", "app:1", "v"]), "+OK");
        assert_eq!(rep.c(&["SET", "report:1", "r"]), "+OK");
    }
    assert!(noperm(&app.c(&["SET", "other", "v"])));
    assert!(noperm(&app.c(&["GET", "report:1"])));
    assert!(noperm(&app.c(&["FLUSHALL"])));
    assert!(noperm(&app.c(&["CONFIG", "GET", "port"])));
    assert_eq!(rep.c(&["GET", "app:1"]), "v");
    assert!(noperm(&rep.c(&["SET", "app:1", "x"])), "read-only on app:*");
    assert!(noperm(&rep.c(&["DEL", "report:1"])));
    assert!(mon.c(&["INFO", "replication"]).contains("role:"));
    assert!(noperm(&mon.c(&["GET", "app:1"])));
    assert!(noperm(&mon.c(&["KEYS", "*"])));
    assert_eq!(repl.c(&["PING"]), "+PONG");
    assert!(noperm(&repl.c(&["GET", "app:1"])));
    assert!(noperm(&repl.c(&["INFO"])));
    // a wrong password and the default user's
    let mut c = Conn::new(port);
    assert!(c.c(&["AUTH", "app", "nope"]).starts_with("-WRONGPASS"));
    assert_eq!(c.c(&["AUTH", "default-pw-1"]), "+OK");
}

/// Waits until `port` (a replica) has key `k` = `v`.
pub fn wait_replicated(port: u16, k: &str, v: &str) {
    let mut c = Conn::login(port, "app", "app-pw-2");
    for _ in 0..200 {
        if c.c(&["GET", k]) == v {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{k} did not reach the replica on {port}");
}

#[test]
fn local_group_with_acl_users() {
    let g = LocalGroup::new("default-pw-1");
    let mut text = std::fs::read_to_string(&g.inv).unwrap();
    text = acl_inventory(&text);
    std::fs::write(&g.inv, &text).unwrap();
    acl_flow(g.inv(), g.dir.path(), g.ports);
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

/// The group's life with ACL users, the same over SSH and locally: deploy, each user's
/// rights on the master and on a replica, status as the monitoring user, write-test as the
/// tester, an unchanged redeploy, a changed user applied without a restart, the replication
/// user's password changed (replicas restart and log in with it).
pub fn acl_flow(inv: &str, base: &Path, ports: [u16; 3]) {
    std::env::set_var("TRIPOD_TEST_REPORTING_PW", "reporting-pw-6");
    let secrets = [
        "default-pw-1",
        "app-pw-2",
        "repl-pw-3",
        "monitor-pw-4",
        "tester-pw-5",
        "reporting-pw-6",
    ];
    let shown = |o: &std::process::Output| {
        let all = format!("{}{}", stdout(o), stderr(o));
        for s in secrets {
            assert!(!all.contains(s), "a password is shown: {all}");
        }
        all
    };
    let o = tripod(&["deploy", inv, "--dry-run"]);
    let dry = shown(&o);
    assert!(
        dry.contains("users.acl (mode 0600; users default, app, reporting, monitor, tester, repl)"),
        "{dry}"
    );
    let o = tripod(&["deploy", inv]);
    let out = shown(&o);
    assert_eq!(code(&o), 0, "{out}");
    for n in ["m", "r1", "r2"] {
        let f = base.join(n).join("users.acl");
        let mode = std::fs::metadata(&f).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", f.display());
    }
    check_users(ports[0], true);
    wait_replicated(ports[1], "app:1", "v");
    check_users(ports[1], false);
    // the replicas log in as repl
    let mut m = Conn::new(ports[0]);
    m.c(&["AUTH", "default-pw-1"]);
    let clients = m.c(&["CLIENT", "LIST", "TYPE", "REPLICA"]);
    assert_eq!(clients.matches("user=repl ").count(), 2, "{clients}");

    // status as the monitoring user (acl.status_user)
    let o = tripod(&["status", inv, "--json"]);
    shown(&o);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let st = json(&o);
    assert_eq!(st["healthy"], true);
    // status as a user without INFO fails, naming the problem
    let o = tripod(&["status", inv, "--json", "--user", "repl"]);
    shown(&o);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("NOPERM"), "{}", stdout(&o));
    // write-test as the tester (acl.write_test_user)
    let o = tripod(&["write-test", inv, "--keys", "50", "--json"]);
    shown(&o);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(json(&o)["ok"], true);
    // as app (its keys are app:* only), write-test is refused by the server
    let o = tripod(&["write-test", inv, "--keys", "5", "--user", "app"]);
    shown(&o);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("NOPERM") || stderr(&o).contains("NOPERM"));

    // redeploy: nothing changes
    let pids = pid_list(base);
    let o = tripod(&["deploy", inv]);
    let out = shown(&o);
    assert_eq!(code(&o), 0, "{out}");
    assert!(
        !out.contains("updated the ACL users") && !out.contains("restarted"),
        "{out}"
    );
    assert_eq!(pid_list(base), pids);

    // a user's rules change and a user goes: applied without a restart
    let text = std::fs::read_to_string(inv).unwrap();
    let changed = text
        .replace("~app:* +@read +@write -@dangerous", "~app:* +@read -@dangerous")
        .replace(
            "    - name: reporting\n      password_env: TRIPOD_TEST_REPORTING_PW\n      rules: [\"%R~app:*\", \"~report:*\", \"+@read\", \"+set\"]\n",
            "",
        );
    std::fs::write(inv, &changed).unwrap();
    let o = tripod(&["deploy", inv]);
    let out = shown(&o);
    assert_eq!(code(&o), 0, "{out}");
    assert_eq!(
        out.matches("ok   uploaded users.acl, updated the ACL users")
            .count(),
        3,
        "{out}"
    );
    assert_eq!(pid_list(base), pids, "no restart");
    for p in ports {
        let mut app = Conn::login(p, "app", "app-pw-2");
        assert!(app.c(&["SET", "app:2", "v"]).starts_with("-NOPERM"));
        let mut c = Conn::new(p);
        assert!(c
            .c(&["AUTH", "reporting", "reporting-pw-6"])
            .starts_with("-WRONGPASS"));
    }

    // the replication user's password changes: the replicas restart and log in with it
    std::fs::write(inv, changed.replace("repl-pw-3", "repl-pw-7")).unwrap();
    let o = tripod(&["deploy", inv]);
    let out = shown(&o);
    assert!(!out.contains("repl-pw-7"));
    assert_eq!(code(&o), 0, "{out}");
    let o = tripod(&["status", inv, "--json"]);
    assert_eq!(json(&o)["healthy"], true, "{}", stdout(&o));
    let clients = m.c(&["CLIENT", "LIST", "TYPE", "REPLICA"]);
    assert_eq!(clients.matches("user=repl ").count(), 2, "{clients}");
    std::fs::write(inv, &text).unwrap();
}

fn pid_list(base: &Path) -> Vec<Option<u32>> {
    ["m", "r1", "r2"]
        .iter()
        .map(|n| pid_of(&base.join(n)))
        .collect()
}
