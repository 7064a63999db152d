//! The inventory's `acl:` section: ACL users rendered into an aclfile (mode 0600) next to
//! redis.conf, a replication user for `masteruser`/`masterauth`, and `status`/`write-test`
//! logging in as named users. Bad sections are refused with file:line:column (exit 2) and no
//! password ever shows on screen. Then a local group deployed with two application users, a
//! monitoring user and a replication user: each user can do exactly what its rules allow.
mod cli_common;
use cli_common::acl::*;
use cli_common::*;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

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

#[test]
fn local_group_with_acl_users() {
    let g = LocalGroup::new("default-pw-1");
    let mut text = std::fs::read_to_string(&g.inv).unwrap();
    text = acl_inventory(&text);
    std::fs::write(&g.inv, &text).unwrap();
    acl_flow(g.inv(), g.dir.path(), ["127.0.0.1"; 3], g.ports);
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}

/// A rule the server refuses (an unknown command) fails the deploy of every host, naming the
/// user and the server's reason, without showing a password or its hash; fixing the rule and
/// deploying again brings the group up.
#[test]
fn local_group_with_a_rule_the_server_refuses() {
    let g = LocalGroup::new("default-pw-1");
    let text = std::fs::read_to_string(&g.inv).unwrap();
    let good = acl_inventory(&text);
    std::fs::write(
        &g.inv,
        good.replace("+ping +info +role", "+ping +nosuchcmd"),
    )
    .unwrap();
    std::env::set_var("TRIPOD_TEST_REPORTING_PW", "reporting-pw-6");
    let o = tripod(&["deploy", g.inv()]);
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(code(&o), 1, "{all}");
    assert!(all.contains("nosuchcmd"), "{all}");
    no_secret(&all);
    assert!(!all.contains(&sha256_hex("monitor-pw-4")), "{all}");
    std::fs::write(&g.inv, &good).unwrap();
    let o = tripod(&["deploy", g.inv()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(code(&tripod(&["stop", g.inv()])), 0);
}
