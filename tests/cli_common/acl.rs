//! The group's life with ACL users, shared by the local test (tests/cli_acl.rs) and the SSH
//! one (tests/cli_ssh.rs): the inventory's `acl:` section, what each user may do, the flow.
use super::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

/// A RESP connection logged in as `user`.
struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn new((addr, port): (&str, u16)) -> Conn {
        let s = TcpStream::connect((addr, port)).unwrap();
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
    fn login(at: (&str, u16), user: &str, pw: &str) -> Conn {
        let mut c = Conn::new(at);
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

/// What each user may and may not do, checked on `port` at `addr` (a master when `master`).
pub fn check_users(addr: &str, port: u16, master: bool) {
    let port = (addr, port);
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

/// Waits until `port` at `addr` (a replica) has key `k` = `v`.
pub fn wait_replicated(addr: &str, port: u16, k: &str, v: &str) {
    let port = (addr, port);
    let mut c = Conn::login(port, "app", "app-pw-2");
    for _ in 0..200 {
        if c.c(&["GET", k]) == v {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{k} did not reach the replica on {port:?}");
}

/// The group's life with ACL users, the same over SSH and locally: deploy, each user's
/// rights on the master and on a replica, status as the monitoring user, write-test as the
/// tester, promote to a replica and back (the demoted node logs in as the replication user),
/// an unchanged redeploy, a changed user applied without a restart, the replication user's
/// password changed (replicas restart and log in with it).
pub fn acl_flow(inv: &str, base: &Path, addrs: [&str; 3], ports: [u16; 3]) {
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
    check_users(addrs[0], ports[0], true);
    wait_replicated(addrs[1], ports[1], "app:1", "v");
    check_users(addrs[1], ports[1], false);
    // the replicas log in as repl
    let mut m = Conn::new((addrs[0], ports[0]));
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

    // promote a replica and back: the node that becomes a replica logs in as repl too
    for (to, i) in [("r1", 1), ("m", 0)] {
        let o = tripod(&["promote", inv, to]);
        let out = shown(&o);
        assert_eq!(code(&o), 0, "{out}");
        let mut c = Conn::new((addrs[i], ports[i]));
        c.c(&["AUTH", "default-pw-1"]);
        let mut n = 0;
        for _ in 0..200 {
            n = c
                .c(&["CLIENT", "LIST", "TYPE", "REPLICA"])
                .matches("user=repl ")
                .count();
            if n == 2 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(n, 2, "the replicas of {to} log in as repl");
        let o = tripod(&["status", inv, "--json"]);
        assert_eq!(json(&o)["master"], to, "{}", stdout(&o));
    }

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
    for at in addrs.into_iter().zip(ports) {
        let mut app = Conn::login(at, "app", "app-pw-2");
        assert!(app.c(&["SET", "app:2", "v"]).starts_with("-NOPERM"));
        let mut c = Conn::new(at);
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

pub fn pid_list(base: &Path) -> Vec<Option<u32>> {
    ["m", "r1", "r2"]
        .iter()
        .map(|n| pid_of(&base.join(n)))
        .collect()
}
