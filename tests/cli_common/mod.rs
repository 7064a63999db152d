//! Test harness for the tripod CLI: real OpenSSH servers on 127.0.0.11-13:2222 with keys
//! generated in a tempdir, the server binary to deploy, free ports, and cleanup by pid.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The server binary the tests deploy: $TRIPOD_TEST_SERVER_BIN, else the bundled tripod-server
/// this build produced. (Set the variable to /usr/bin/redis-server to run the same flows with a
/// real Redis; the CLI suite passes with either.)
pub fn server_binary() -> PathBuf {
    std::env::var_os("TRIPOD_TEST_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tripod-server")))
}

/// `tripod` with TRIPOD_SERVER_BIN pointing at [`server_binary`].
pub fn tripod(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tripod"))
        .args(args)
        .env("TRIPOD_SERVER_BIN", server_binary())
        .stdin(Stdio::null())
        .output()
        .expect("run tripod");
    eprintln!(
        "$ tripod {}\n--- status {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Held by a test that uses the fixed SSH addresses (127.0.0.11-13:2222).
pub struct SshLock {
    _thread: MutexGuard<'static, ()>,
    // Closing the file releases the flock.
    _file: std::fs::File,
}

/// Tests that use the fixed SSH port 2222 take this lock: a mutex between the
/// threads of one test binary, and an flock on a file in the temp directory
/// between processes (two test runs from different checkouts on one machine
/// would otherwise start sshd on the same address). Poisoning is ignored.
pub fn ssh_lock() -> SshLock {
    use std::os::unix::io::AsRawFd;
    static LOCK: Mutex<()> = Mutex::new(());
    let thread = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let path = std::env::temp_dir().join("tripod-tests-ssh-2222.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .expect("open the SSH test lock file");
    // SAFETY: flock on a file descriptor this function owns.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock {}", path.display());
    SshLock {
        _thread: thread,
        _file: file,
    }
}

/// A free TCP port on loopback (distinct across calls in one process).
pub fn free_port() -> u16 {
    static USED: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let p = l.local_addr().unwrap().port();
        let mut used = USED.lock().unwrap_or_else(|p| p.into_inner());
        if !used.contains(&p) {
            used.push(p);
            return p;
        }
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn keygen(path: &Path, kind: &str) {
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", "", "-C", "tripod-test", "-f"])
        .arg(path));
}

pub const SSH_ADDRS: [&str; 3] = ["127.0.0.11", "127.0.0.12", "127.0.0.13"];
pub const SSH_PORT: u16 = 2222;

/// Three sshd processes, one per address, killed by pid on drop. Also kills, on drop, every
/// server whose pid file lies under the tempdir.
pub struct SshHosts {
    pub dir: tempfile::TempDir,
    pub client_key: PathBuf,
    pub other_key: PathBuf,
    pub known_hosts: PathBuf,
    children: Vec<Option<Child>>,
}

impl SshHosts {
    pub fn start() -> SshHosts {
        let dir = tempfile::Builder::new()
            .prefix("tripod-ssh-")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let d = dir.path();
        let client_key = d.join("client_key");
        let other_key = d.join("other_key");
        keygen(&client_key, "ed25519");
        keygen(&other_key, "ed25519");
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        for i in 0..3 {
            keygen(&d.join(format!("host_key_{i}")), "ed25519");
        }
        let mut hosts = SshHosts {
            known_hosts: d.join("known_hosts"),
            client_key,
            other_key,
            children: vec![None, None, None],
            dir,
        };
        for i in 0..3 {
            hosts.start_host(i);
        }
        hosts
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Starts (or restarts) the sshd of host `i`.
    pub fn start_host(&mut self, i: usize) {
        self.stop_host(i);
        let d = self.dir.path();
        let cfg = d.join(format!("sshd_config_{i}"));
        let rsa = d.join(format!("host_key_{i}_rsa"));
        let extra = if rsa.exists() {
            format!("HostKey {}\n", rsa.display())
        } else {
            String::new()
        };
        std::fs::write(
            &cfg,
            format!(
                "ListenAddress {addr}:{SSH_PORT}\nHostKey {d}/host_key_{i}\nAuthorizedKeysFile {d}/authorized_keys\n\
                 PermitRootLogin yes\nStrictModes no\nUsePAM no\nPidFile {d}/sshd_{i}.pid\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                 MaxStartups 50\nLogLevel ERROR\n{extra}",
                addr = SSH_ADDRS[i],
                d = d.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(d.join(format!("sshd_{i}.log"))).unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        self.children[i] = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((SSH_ADDRS[i], SSH_PORT)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd on {} did not come up: {}",
                SSH_ADDRS[i],
                std::fs::read_to_string(d.join(format!("sshd_{i}.log"))).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the sshd of host `i` (by its pid).
    pub fn stop_host(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Gives host `i` a second (RSA) host key and restarts its sshd.
    pub fn add_rsa_host_key(&mut self, i: usize) {
        keygen(&self.path().join(format!("host_key_{i}_rsa")), "rsa");
        self.start_host(i);
    }

    /// The public half of host `i`'s key as a known_hosts line.
    pub fn known_hosts_line(&self, i: usize, key_of: usize) -> String {
        self.known_hosts_line_of(i, &format!("host_key_{key_of}.pub"))
    }

    /// A known_hosts line for host `i` with the public key in `file` (under the tempdir).
    pub fn known_hosts_line_of(&self, i: usize, file: &str) -> String {
        let pubkey = std::fs::read_to_string(self.path().join(file)).unwrap();
        let mut parts = pubkey.split_whitespace();
        format!(
            "[{}]:{SSH_PORT} {} {}\n",
            SSH_ADDRS[i],
            parts.next().unwrap(),
            parts.next().unwrap()
        )
    }
}

impl Drop for SshHosts {
    fn drop(&mut self) {
        kill_servers_under(self.dir.path());
        for i in 0..3 {
            self.stop_host(i);
        }
    }
}

/// Kills (by pid file) every server whose `redis.pid` (and every Sentinel whose
/// `sentinel.pid`) lies under `dir`.
pub fn kill_servers_under(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .is_some_and(|n| n == "redis.pid" || n == "sentinel.pid")
            {
                if let Some(pid) = std::fs::read_to_string(&p)
                    .ok()
                    .and_then(|s| s.trim().parse::<i32>().ok())
                {
                    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                }
            }
        }
    }
}

/// The pid in `<install_dir>/redis.pid`.
pub fn pid_of(install_dir: &Path) -> Option<u32> {
    std::fs::read_to_string(install_dir.join("redis.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// Parses stdout as JSON.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

/// Writes a three-node inventory: `m` (master), `r1`, `r2` on `addrs` with `ports`, each with
/// its own install_dir under `base`. `connection` is "ssh" or "local"; `ssh_block` is the
/// group's `ssh:` section (empty for local).
pub fn write_inventory(
    path: &Path,
    connection: &str,
    ssh_block: &str,
    addrs: [&str; 3],
    ports: [u16; 3],
    base: &Path,
    password: &str,
) {
    let names = ["m", "r1", "r2"];
    let roles = ["master", "replica", "replica"];
    let mut hosts = String::new();
    for i in 0..3 {
        hosts.push_str(&format!(
            "  # node {i}: {}\n  - name: {}\n    address: {}\n    role: {}   # set by tests\n    redis: {{ port: {}, bind: {}, install_dir: {} }}\n",
            names[i],
            names[i],
            addrs[i],
            roles[i],
            ports[i],
            addrs[i],
            base.join(names[i]).display()
        ));
    }
    std::fs::write(
        path,
        format!(
            "# a test group; this comment must survive promote\ncluster: test\nconnection: {connection}\n{ssh_block}redis:\n  password: \"{password}\"\n  config:\n    repl-diskless-sync-delay: 0\nhosts:\n{hosts}"
        ),
    )
    .unwrap();
}

pub fn ssh_block(h: &SshHosts, key: &Path, checking: &str) -> String {
    format!(
        "ssh:\n  user: root\n  port: {SSH_PORT}\n  identity_file: {}\n  known_hosts: {}\n  host_key_checking: {checking}\n  connect_timeout: 3\n",
        key.display(),
        h.known_hosts.display()
    )
}

fn status_json(inv: &str) -> serde_json::Value {
    let o = tripod(&["status", inv, "--json"]);
    json(&o)
}

fn role_of(st: &serde_json::Value, name: &str) -> String {
    st["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .map(|n| n["role"].as_str().unwrap().to_string())
        .unwrap()
}

fn pids(base: &Path) -> Vec<Option<u32>> {
    ["m", "r1", "r2"]
        .iter()
        .map(|n| pid_of(&base.join(n)))
        .collect()
}

fn inv_role(inv: &Path, name: &str) -> String {
    // The role line follows `- name: NAME` and `address:` in the files write_inventory makes.
    let text = std::fs::read_to_string(inv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.trim() == format!("- name: {name}"))
        .unwrap();
    lines[i + 2]
        .trim()
        .trim_start_matches("role:")
        .split('#')
        .next()
        .unwrap()
        .trim()
        .to_string()
}

/// The whole life of a group, the same over SSH and locally: deploy from nothing, status,
/// write-test, unchanged re-deploy, dry-run, promote each way and back, deploy after promote,
/// a wrong password, promote --force after killing the master, deploy to rejoin it, stop.
pub fn full_flow(inv: &Path, base: &Path) {
    let invs = inv.to_str().unwrap();
    let pw = "s3cret-pw";

    // deploy from nothing
    let o = tripod(&["deploy", invs]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("replication verified: m is master with 2 replica(s) online"));
    assert!(!stdout(&o).contains(pw) && !stderr(&o).contains(pw));
    let conf = base.join("r1/redis.conf");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&conf).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("\nreplicaof ") && text.contains("\nmasterauth "));
    assert!(!std::fs::read_to_string(base.join("m/redis.conf"))
        .unwrap()
        .contains("replicaof"));

    // status healthy, table and JSON
    let o = tripod(&["status", invs]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("healthy"));
    let st = status_json(invs);
    assert_eq!(st["healthy"], true);
    assert_eq!(role_of(&st, "m"), "master");
    assert_eq!(role_of(&st, "r1"), "replica");
    for n in st["nodes"].as_array().unwrap() {
        assert_eq!(n["reachable"], true);
        assert!(n["offset"].is_i64());
        assert!(n["lag_bytes"].is_i64());
        if n["role"] == "replica" {
            assert_eq!(n["link"], "up");
        } else {
            assert!(n["link"].is_null());
        }
    }

    // write-test
    let o = tripod(&["write-test", invs]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("write-test: passed"));
    let o = tripod(&["write-test", invs, "--keys", "300", "--json"]);
    assert_eq!(code(&o), 0);
    let wt = json(&o);
    assert_eq!(wt["ok"], true);
    assert_eq!(wt["replicas"][0]["missing"], 0);
    assert_eq!(wt["replicas"][0]["write_on_replica"], "refused");

    // a second deploy changes nothing
    let before = pids(base);
    let o = tripod(&["deploy", invs]);
    assert_eq!(code(&o), 0);
    assert_eq!(
        stdout(&o).matches("unchanged").count(),
        6,
        "3 progress + 3 summary lines"
    );
    assert_eq!(pids(base), before);

    // --dry-run shows the config diff (password masked) and changes nothing
    let orig = std::fs::read_to_string(inv).unwrap();
    std::fs::write(
        inv,
        orig.replace(
            "    repl-diskless-sync-delay: 0\n",
            "    repl-diskless-sync-delay: 0\n    maxmemory: 100mb\n",
        ),
    )
    .unwrap();
    let o = tripod(&["deploy", invs, "--dry-run"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("+ maxmemory 100mb"));
    assert!(stdout(&o).contains("restart the server"));
    assert!(stdout(&o).contains("requirepass ********") || !stdout(&o).contains("requirepass"));
    assert!(!stdout(&o).contains(pw));
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), text);
    assert_eq!(pids(base), before);
    std::fs::write(inv, &orig).unwrap();

    // a wrong Redis password: status names the problem, never the password
    let wrong = inv.with_extension("wrongpw.yaml");
    std::fs::write(&wrong, orig.replace(pw, "not-the-password")).unwrap();
    let o = tripod(&["status", wrong.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("refused the password"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("not-the-password"));

    // promote r1, check the inventory, status, deploy after promote keeps it
    let o = tripod(&["promote", invs, "r1"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    assert!(out.contains("offsets before:") && out.contains("offsets after:"));
    assert!(out.contains("m: master -> replica") && out.contains("r1: replica -> master"));
    assert_eq!(inv_role(inv, "r1"), "master");
    assert_eq!(inv_role(inv, "m"), "replica");
    assert!(std::fs::read_to_string(inv)
        .unwrap()
        .contains("# a test group; this comment must survive promote"));
    assert!(std::fs::read_to_string(inv)
        .unwrap()
        .contains("role: replica   # set by tests"));
    let st = status_json(invs);
    assert_eq!(st["healthy"], true);
    assert_eq!(role_of(&st, "r1"), "master");
    assert_eq!(role_of(&st, "m"), "replica");
    assert!(std::fs::read_to_string(base.join("m/redis.conf"))
        .unwrap()
        .contains("replicaof"));
    let before = pids(base);
    let o = tripod(&["deploy", invs]);
    assert_eq!(code(&o), 0);
    assert_eq!(pids(base), before, "deploy after promote restarted nothing");
    assert_eq!(role_of(&status_json(invs), "r1"), "master");
    // a password deploy cannot check with is refused without --force
    let o = tripod(&["deploy", wrong.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("refused the password"));
    assert!(!stderr(&o).contains("not-the-password"));
    assert_eq!(pids(base), before);
    // the old inventory (m as master) is refused: deploy would demote the live master
    std::fs::write(&wrong, &orig).unwrap();
    let o = tripod(&["deploy", wrong.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("the live master is r1"),
        "{}",
        stderr(&o)
    );
    assert_eq!(role_of(&status_json(invs), "r1"), "master");

    // refuse a target that is not a linked replica; then the other way and back
    let o = tripod(&["promote", invs, "nosuch"]);
    assert_eq!(code(&o), 2);
    let o = tripod(&["promote", invs, "r2"]);
    assert_eq!(code(&o), 0);
    assert_eq!(role_of(&status_json(invs), "r2"), "master");
    let o = tripod(&["write-test", invs, "--keys", "200"]);
    assert_eq!(code(&o), 0);
    let o = tripod(&["promote", invs, "m"]);
    assert_eq!(code(&o), 0);
    let st = status_json(invs);
    assert_eq!(st["healthy"], true);
    assert_eq!(role_of(&st, "m"), "master");
    assert_eq!(inv_role(inv, "m"), "master");

    // promote --force after killing the master
    let mpid = pid_of(&base.join("m")).unwrap();
    let _ = Command::new("kill")
        .arg("-9")
        .arg(mpid.to_string())
        .status();
    while alive(mpid) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = tripod(&["promote", invs, "r1"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("--force"));
    let o = tripod(&["promote", invs, "r1", "--force"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("m was unreachable: it must rejoin as a replica of r1"));
    let o = tripod(&["status", invs]);
    assert_eq!(code(&o), 1, "the old master is down");
    // deploy brings the old master back as a replica
    let o = tripod(&["deploy", invs]);
    assert_eq!(code(&o), 0);
    let st = status_json(invs);
    assert_eq!(st["healthy"], true);
    assert_eq!(role_of(&st, "r1"), "master");
    assert_eq!(role_of(&st, "m"), "replica");
    let o = tripod(&["write-test", invs, "--keys", "100"]);
    assert_eq!(code(&o), 0);

    // stop keeps data
    let before = pids(base);
    let o = tripod(&["stop", invs]);
    assert_eq!(code(&o), 0);
    for p in before.into_iter().flatten() {
        assert!(!alive(p), "pid {p} still running after stop");
    }
    assert!(base.join("r1/dump.rdb").exists());
    let o = tripod(&["stop", invs]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("was not running"));
}

/// A three-node group with `connection: local` on free ports in a temporary folder; every
/// server under it is killed when it is dropped (also when the test fails).
pub struct LocalGroup {
    pub dir: tempfile::TempDir,
    pub inv: PathBuf,
    pub ports: [u16; 3],
}

impl LocalGroup {
    pub fn new(password: &str) -> LocalGroup {
        let dir = tempfile::Builder::new()
            .prefix("tripod-local-")
            .tempdir()
            .unwrap();
        let inv = dir.path().join("local.yaml");
        let ports = [free_port(), free_port(), free_port()];
        write_inventory(
            &inv,
            "local",
            "",
            ["127.0.0.1", "127.0.0.1", "127.0.0.1"],
            ports,
            dir.path(),
            password,
        );
        LocalGroup { dir, inv, ports }
    }
    pub fn inv(&self) -> &str {
        self.inv.to_str().unwrap()
    }
    /// The install_dir of node `name` ("m", "r1", "r2").
    pub fn node(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for LocalGroup {
    fn drop(&mut self) {
        kill_servers_under(self.dir.path());
    }
}
