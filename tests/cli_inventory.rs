//! Bad inventories: each is refused with file:line:column and exit status 2, before anything
//! connects anywhere.
mod cli_common;
use cli_common::*;

const BASE: &str = "\
cluster: t
connection: ssh
ssh:
  user: root
  port: 22
redis:
  port: 6379
  password: \"123456\"
  install_dir: /srv/redis
hosts:
  - name: a
    address: 10.0.0.1
    role: master
  - name: b
    address: 10.0.0.2
    role: replica
  - name: c
    address: 10.0.0.3
    role: replica
";

/// Runs `tripod render` on `text`; expects status 2 and `path:LOC: ...WANT...` on stderr.
fn refused(text: &str, loc: &str, want: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.yaml");
    std::fs::write(&path, text).unwrap();
    let o = tripod(&["render", path.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    let prefix = format!("tripod: {}:{loc}: ", path.display());
    assert!(err.starts_with(&prefix), "expected {prefix:?} in {err:?}");
    assert!(err.contains(want), "expected {want:?} in {err:?}");
    assert!(
        !err.contains("123456") || want.contains("123456"),
        "password leaked: {err}"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn base_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.yaml");
    std::fs::write(&path, BASE).unwrap();
    let o = tripod(&["render", path.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("replicaof 10.0.0.1 6379"));
    assert!(stdout(&o).contains("masterauth ********"));
    assert!(!stdout(&o).contains("123456"));
    // --out writes the real files, 0600
    let out = dir.path().join("out");
    let o = tripod(&[
        "render",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let b = std::fs::read_to_string(out.join("b.conf")).unwrap();
    assert!(b.contains("requirepass \"123456\""));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(out.join("b.conf")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn unknown_keys() {
    refused(
        &BASE.replace("cluster: t", "clustr: t"),
        "1:1",
        "unknown field `clustr`",
    );
    refused(
        &BASE.replace("    address: 10.0.0.2", "    adress: 10.0.0.2"),
        "15:5",
        "unknown field `adress`",
    );
    refused(
        &BASE.replace("  port: 22", "  port: 22\n  paswd: x"),
        "6:3",
        "unknown field `paswd`",
    );
}

#[test]
fn masters_and_replicas() {
    refused(
        &BASE.replace("role: replica\n  - name: c", "role: master\n  - name: c"),
        "16:5",
        "2 hosts have `role: master`",
    );
    refused(
        &BASE.replace("role: master", "role: replica"),
        "10:1",
        "no host has `role: master`",
    );
    refused(
        &BASE
            .replace("role: replica", "role: master")
            .replacen("role: master", "role: replica", 0),
        "16:5",
        "exactly one",
    );
    let one = "cluster: t\nhosts:\n  - name: a\n    address: 10.0.0.1\n    role: master\n";
    refused(one, "2:1", "no host has `role: replica`");
    refused(
        &BASE.replace("role: master", "role: boss"),
        "13:11",
        "unknown variant `boss`",
    );
}

#[test]
fn duplicates() {
    refused(
        &BASE.replace("name: c", "name: b"),
        "17:5",
        "two hosts are named b",
    );
    refused(
        &BASE.replace("10.0.0.3", "10.0.0.2"),
        "18:5",
        "hosts b and c both use 10.0.0.2:6379",
    );
    // the same address with different ports is fine
    let ok = BASE.replace(
        "    address: 10.0.0.3\n    role: replica\n",
        "    address: 10.0.0.2\n    role: replica\n    redis: { port: 6380 }\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("i.yaml");
    std::fs::write(&p, ok).unwrap();
    assert_eq!(code(&tripod(&["render", p.to_str().unwrap()])), 0);
}

#[test]
fn bad_ports_and_addresses() {
    refused(
        &BASE.replace("  port: 6379", "  port: 70000"),
        "7:3",
        "bad redis port 70000",
    );
    refused(
        &BASE.replace("  port: 22", "  port: 0"),
        "5:3",
        "bad ssh port 0",
    );
    refused(
        &BASE.replace("  port: 6379", "  port: six"),
        "7:9",
        "invalid type",
    );
    refused(
        &BASE.replace(
            "    address: 10.0.0.3\n    role: replica\n",
            "    address: 10.0.0.3\n    role: replica\n    redis: { port: -1 }\n",
        ),
        "20:14",
        "host c: bad redis port -1",
    );
    refused(
        &BASE.replace("10.0.0.2", "300.0.0.2"),
        "15:5",
        "bad address \"300.0.0.2\"",
    );
    refused(
        &BASE.replace("10.0.0.2", "bad host!"),
        "15:5",
        "bad address",
    );
}

#[test]
fn missing_identity_file() {
    let text = BASE.replace(
        "  port: 22",
        "  port: 22\n  identity_file: /nonexistent/id_ed25519",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.yaml");
    std::fs::write(&path, &text).unwrap();
    // Commands that connect over SSH refuse it, with the location.
    for args in [
        &["deploy", "--dry-run"][..],
        &["stop"][..],
        &["promote", "b"][..],
    ] {
        let mut a = vec![args[0], path.to_str().unwrap()];
        a.extend_from_slice(&args[1..]);
        let o = tripod(&a);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{:?}: {err}", args);
        assert!(err.contains(&format!("{}:6:3: ", path.display())), "{err}");
        assert!(
            err.contains("identity file /nonexistent/id_ed25519 does not exist"),
            "{err}"
        );
    }
    // Rendering needs no SSH key: it works on a machine without one.
    let o = tripod(&["render", path.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn password_env_unset() {
    let text = BASE.replace(
        "  password: \"123456\"",
        "  password_env: TRIPOD_TEST_SURELY_UNSET_VAR",
    );
    refused(
        &text,
        "8:3",
        "TRIPOD_TEST_SURELY_UNSET_VAR, which is not set",
    );
}

#[test]
fn local_needs_loopback() {
    let text = BASE.replace("connection: ssh", "connection: local");
    refused(&text, "12:5", "must be a loopback address");
    let per_host = BASE.replace(
        "    address: 10.0.0.2\n",
        "    address: 10.0.0.2\n    connection: local\n",
    );
    refused(&per_host, "15:5", "host b: `connection: local`");
}

#[test]
fn not_yaml_and_missing_file() {
    refused("hosts: [\n", "2:1", "");
    let o = tripod(&["status", "/nonexistent/inv.yaml"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("/nonexistent/inv.yaml: cannot read the inventory"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&tripod(&["deploy"])), 2);
    assert_eq!(code(&tripod(&["frobnicate"])), 2);
    assert_eq!(code(&tripod(&["--help"])), 0);
}

#[test]
fn seed_inventory_renders_the_source_documents_directives() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".ssh")).unwrap();
    std::fs::write(home.path().join(".ssh/id_ed25519"), "key").unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tripod"))
        .args(["render", "inventories/seed.yaml"])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    for d in [
        "bind 0.0.0.0",
        "daemonize yes",
        "logfile \"/usr/local/bin/redis/redis.log\"",
        "protected-mode no",
        "port 6379",
        "pidfile \"/usr/local/bin/redis/redis.pid\"",
        "requirepass ********",
        "masterauth ********",
        "replicaof 192.168.81.100 6379",
        "dir \"/usr/local/bin/redis\"",
        "replica-read-only yes",
    ] {
        assert!(out.contains(d), "missing {d:?} in\n{out}");
    }
    assert!(!out.contains("123456"));
}

#[test]
fn own_templates_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tpl")).unwrap();
    std::fs::write(
        dir.path().join("tpl/redis.conf.j2"),
        "# mine\nport {{ port }}\n{% if role == \"replica\" %}replicaof {{ master_address }} {{ master_port }}\nmasterauth {{ password | quote }}\n{% endif %}requirepass {{ password | quote }}\n",
    )
    .unwrap();
    let path = dir.path().join("inv.yaml");
    std::fs::write(
        &path,
        BASE.replace("cluster: t\n", "cluster: t\ntemplates: tpl\n"),
    )
    .unwrap();
    let o = tripod(&["render", path.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains(
        "# mine\nport 6379\nreplicaof 10.0.0.1 6379\nmasterauth ********\nrequirepass ********\n"
    ));
    assert!(!stdout(&o).contains("123456"));
    // a folder without redis.conf.j2 is an inventory error
    refused(
        &BASE.replace("cluster: t\n", "cluster: t\ntemplates: nowhere\n"),
        "2:1",
        "has no redis.conf.j2",
    );
}

/// A value that would start a config line of its own (issue: `cluster` rendered unvalidated
/// into the first line of every config made the master a replica of another server).
#[test]
fn config_injection_refused() {
    refused(
        &BASE.replace(
            "cluster: t\n",
            "cluster: \"x\\nreplicaof 10.9.9.9 6379\\n#\"\n",
        ),
        "1:1",
        "bad cluster name",
    );
    refused(
        &BASE.replace("cluster: t\n", "cluster: \"two words\"\n"),
        "1:1",
        "letters, digits",
    );
    refused(
        &BASE.replace(
            "  port: 6379\n",
            "  port: 6379\n  bind: \"127.0.0.1\\nreplicaof 10.9.9.9 6379\"\n",
        ),
        "8:3",
        "bind must be one line",
    );
    refused(
        &BASE.replace(
            "  port: 6379\n",
            "  port: 6379\n  bind: \"127.0.0.1\\n::1\"\n",
        ),
        "8:3",
        "bind must be one line",
    );
    // a dotted, dashed name is fine
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("inv.yaml");
    std::fs::write(
        &p,
        BASE.replace("cluster: t\n", "cluster: shop-eu_1.prod\n"),
    )
    .unwrap();
    let o = tripod(&["render", p.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("\n# shop-eu_1.prod: a (master)"));
}

/// `tripod render inv.yaml | head` must not panic when the reader goes away: stdout here is a
/// pipe whose read end is closed before tripod starts, so every write fails with EPIPE.
#[test]
fn closed_stdout_is_not_a_panic() {
    use std::os::fd::FromRawFd;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("inv.yaml");
    std::fs::write(&p, BASE).unwrap();
    let mut fds = [0i32; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { libc::close(fds[0]) };
    let write_end = unsafe { std::process::Stdio::from_raw_fd(fds[1]) };
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tripod"))
        .args(["render", p.to_str().unwrap()])
        .stdout(write_end)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(0), "{err}");
}

/// A group reachable beyond loopback without a password is refused at load time, pointing at
/// where the password or the opt-in goes; loopback-only binds and the explicit opt-in pass.
#[test]
fn passwordless_public_bind_is_refused() {
    let no_pw = BASE.replace("  password: \"123456\"\n", "");
    // `redis:` is line 6 of BASE; with no bind key the error points at the section.
    refused(&no_pw, "6:1", "without a password");
    refused(&no_pw, "6:1", "allow_no_password: true");
    refused(
        &no_pw.replace("  port: 6379\n", "  port: 6379\n  bind: 10.0.0.9\n"),
        "8:3",
        "host a: the server would listen on 10.0.0.9 without a password",
    );
    let ok = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inv.yaml");
        std::fs::write(&path, text).unwrap();
        let o = tripod(&["render", path.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    };
    ok(&no_pw.replace("  port: 6379\n", "  port: 6379\n  bind: 127.0.0.1 ::1\n"));
    ok(&format!("allow_no_password: true\n{no_pw}"));

    // Accepted on purpose: deploy says so loudly (a dry run: nothing listens).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.yaml");
    std::fs::write(
        &path,
        format!(
            "allow_no_password: true\ncluster: t\nconnection: local\nredis: {{ port: {}, bind: 0.0.0.0, install_dir: {} }}\n\
             hosts:\n  - {{ name: a, address: 127.0.0.1, role: master }}\n  - {{ name: b, address: 127.0.0.1, role: replica, redis: {{ port: {}, install_dir: {} }} }}\n",
            free_port(),
            dir.path().join("a").display(),
            free_port(),
            dir.path().join("b").display()
        ),
    )
    .unwrap();
    let o = tripod(&["deploy", path.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("WARNING: a listens on 0.0.0.0 without a password"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn sentinel_section() {
    let with = |s: &str| format!("{BASE}sentinel:\n{s}");
    // valid: defaults (every host, quorum 2 of 3)
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.yaml");
    std::fs::write(&path, with("  command: redis-sentinel\n")).unwrap();
    let o = tripod(&["render", path.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("sentinel monitor t 10.0.0.1 6379 2\n"));
    assert!(stdout(&o).contains("sentinel announce-ip 10.0.0.3\n"));
    assert!(stdout(&o).contains("sentinel auth-pass t ********\n"));
    assert!(stdout(&o).contains("port 26379\n"));

    refused(
        &with("  port: 26379\n  quorum: 4\n  command: redis-sentinel\n"),
        "22:3",
        "sentinel quorum 4: it must be between 1 and the number of Sentinels (3)",
    );
    refused(
        &with("  quorum: 0\n  command: redis-sentinel\n"),
        "21:3",
        "between 1 and the number",
    );
    refused(
        &with("  binary: /x\n  command: redis-sentinel\n"),
        "22:3",
        "set either binary",
    );
    refused(&with("  port: 1\n"), "20:1", "sentinel: set binary");
    refused(
        &with("  command: redis-sentinel\n  hosts: [a, zz]\n"),
        "22:3",
        "no host is named \"zz\"",
    );
    refused(
        &with("  command: redis-sentinel\n  hosts: [a, a]\n"),
        "22:3",
        "a is listed twice",
    );
    refused(
        &with("  command: redis-sentinel\n  down_after_ms: -5\n"),
        "22:3",
        "sentinel down_after_ms -5",
    );
    refused(
        &with("  command: redis-sentinel\n  parallel_syncs: 0\n"),
        "22:3",
        "parallel_syncs 0",
    );
    refused(
        &with("  command: redis-sentinel\n  prot: 1\n"),
        "22:3",
        "unknown field `prot`",
    );
    // A Sentinel on a data node's endpoint.
    refused(
        &with("  command: redis-sentinel\n  port: 6379\n"),
        "22:3",
        "which a uses",
    );
    // A host's own port, and a host that runs no Sentinel may not set one.
    let own = BASE.replace(
        "    address: 10.0.0.3\n",
        "    address: 10.0.0.3\n    sentinel: { port: 99999 }\n",
    );
    refused(
        &format!("{own}sentinel:\n  command: redis-sentinel\n"),
        "19:17",
        "bad sentinel port 99999",
    );
    refused(
        &format!("{own}sentinel:\n  command: redis-sentinel\n  hosts: [a, b]\n"),
        "19:5",
        "host c sets sentinel keys but runs no Sentinel",
    );
    // One password for the group, without spaces (Sentinel rewrites it unquoted).
    let other_pw = BASE.replace(
        "    address: 10.0.0.2\n",
        "    address: 10.0.0.2\n    redis: { password: other }\n",
    );
    refused(
        &format!("{other_pw}sentinel:\n  command: redis-sentinel\n"),
        "16:14",
        "every host needs the same password",
    );
    refused(
        &with("  command: redis-sentinel\n").replace("\"123456\"", "\"12 3456\""),
        "8:3",
        "must not hold spaces",
    );
}
