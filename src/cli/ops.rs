//! Actions on one host, shared by the commands: inspect, upload, start, stop, wait.
//! Everything here blocks; callers run it with `tokio::task::spawn_blocking`.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::error::{Error, Result};
use super::inventory::Host;
use super::probe;
use super::rdb_head::{self, RdbHead};
use super::transport::{sh_quote, Transport};

/// The server binary deploy uploads, with its checksum and the machine it is built for.
#[derive(Debug)]
pub struct ServerBinary {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
    /// The machine from its ELF header, as `uname -m` names it ("x86_64", "aarch64", ...);
    /// None when the file is not ELF.
    pub machine: Option<String>,
}

/// The machine an ELF file is built for, named as `uname -m` does.
fn elf_machine(b: &[u8]) -> Option<String> {
    if b.len() < 20 || &b[..4] != b"\x7fELF" {
        return None;
    }
    let m = if b[5] == 2 {
        u16::from_be_bytes([b[18], b[19]])
    } else {
        u16::from_le_bytes([b[18], b[19]])
    };
    Some(
        match m {
            0x3E => "x86_64",
            0xB7 => "aarch64",
            0x03 => "i686",
            0x28 => "armv7l",
            0xF3 => "riscv64",
            0x15 => "ppc64le",
            0x16 => "s390x",
            _ => return Some(format!("ELF machine {m:#x}")),
        }
        .to_string(),
    )
}

/// Lowercase hex SHA-256, as `sha256sum` prints it (deploy compares the two).
pub fn sha256_hex(data: &[u8]) -> String {
    let d = Sha256::digest(data);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// `$TRIPOD_SERVER_BIN`, else `tripod-server` next to this executable.
pub fn server_binary_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("TRIPOD_SERVER_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::failed(format!("cannot locate the tripod executable: {e}")))?;
    Ok(exe
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("tripod-server"))
}

/// Reads the server binary to upload: `path` (an inventory's `redis.binary`), else the
/// default from [`server_binary_path`].
pub fn load_server_binary(path: Option<&std::path::Path>) -> Result<ServerBinary> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => server_binary_path()?,
    };
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::failed(format!(
            "cannot read the server binary {}: {e} (build it with `cargo build --release`, or point TRIPOD_SERVER_BIN at a redis-server compatible binary)",
            path.display()
        ))
    })?;
    let sha256 = sha256_hex(&bytes);
    let machine = elf_machine(&bytes);
    Ok(ServerBinary {
        path,
        bytes,
        sha256,
        machine,
    })
}

/// A shell function `alive PID`: the process exists and is not a zombie (a zombie whose parent
/// does not reap it still answers `kill -0`).
pub const ALIVE_FN: &str = "alive() { kill -0 \"$1\" 2>/dev/null || return 1; \
     if [ -r /proc/$1/stat ]; then [ \"$(sed 's/.*) //' /proc/$1/stat | cut -d' ' -f1)\" != Z ] || return 1; fi; return 0; }; ";

/// A shell function `ours PID`, run inside install_dir: the process is alive and runs this
/// node's `tripod-server` (its `/proc/PID/exe` is `install_dir/tripod-server`, or that path
/// marked deleted after deploy replaced the file under a running server). Without /proc, the
/// process name is compared instead. A pid file left by a crash names whatever process now
/// has that pid — as root that can be sshd — so nothing is signalled unless this holds.
const OURS_FN: &str = "ours() { alive \"$1\" || return 1; w=\"$(pwd -P)/tripod-server\"; \
     if [ -d /proc/$1 ]; then e=$(readlink /proc/$1/exe 2>/dev/null) || return 1; \
       [ \"$e\" = \"$w\" ] || [ \"$e\" = \"$w (deleted)\" ]; \
     else ps -p \"$1\" -o comm= 2>/dev/null | grep -q tripod-serv; fi; }; ";

/// Shell, run inside install_dir: reads redis.pid into `$p` and prints `RUNNING PID` when it
/// names this node's server, else `STALE PID what-it-is` (a dead pid, another program, or
/// garbage). Prints nothing without a pid file.
const PID_CHECK: &str = "if [ -s redis.pid ]; then p=$(head -c 32 redis.pid | tr -d ' \\n'); \
     case \"$p\" in ''|*[!0-9]*) echo \"STALE ? not a pid\";; \
     *) if ours \"$p\"; then echo \"RUNNING $p\"; \
        elif alive \"$p\"; then echo \"STALE $p another program ($(cat /proc/$p/comm 2>/dev/null || ps -p $p -o comm= 2>/dev/null))\"; \
        else echo \"STALE $p no such process\"; fi;; esac; fi; ";

/// What is on the host now.
#[derive(Debug, Default, Clone)]
pub struct RemoteState {
    pub binary_sha256: Option<String>,
    pub config_sha256: Option<String>,
    /// The aclfile (`users.acl`), when there is one.
    pub acl_sha256: Option<String>,
    /// The pid from the pid file, when that process is alive and is this node's server.
    pub running_pid: Option<u32>,
    /// A pid file that does not name this node's running server: what it names, for the report.
    pub stale_pid: Option<String>,
    /// Checksums of the binary and config the running server was started from (recorded by
    /// [`start`]); None when unknown (started by something else, or by an older tripod).
    pub started_binary_sha256: Option<String>,
    pub started_config_sha256: Option<String>,
    /// `uname -sm`: the host's kernel and machine, e.g. ("Linux", "x86_64").
    pub os: Option<String>,
    pub machine: Option<String>,
    /// The head of `install_dir/dump.rdb` (what a start would load), when there is one.
    pub rdb: Option<RdbHead>,
}

impl RemoteState {
    /// The running server was started from other files than the ones on disk now: a deploy
    /// uploaded them and was interrupted before the restart (or someone edited them). An
    /// unknown start record counts as different, so the next deploy restarts to be sure.
    pub fn runs_stale_files(&self) -> bool {
        self.running_pid.is_some()
            && (self.started_binary_sha256 != self.binary_sha256
                || self.started_config_sha256 != self.config_sha256)
    }
}

/// Bytes from the lowercase hex `od` printed; stops at the first bad pair.
fn unhex(hex: &str) -> Vec<u8> {
    hex.as_bytes()
        .chunks(2)
        .map_while(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

/// Shell, run inside install_dir: records the checksums of the binary and config on disk now
/// (atomically) in [`STARTED_RECORD`].
const RECORD_FILES: &str = "sha256sum tripod-server redis.conf > started.sha256.tmp && mv -f started.sha256.tmp started.sha256";

/// The file, inside install_dir, where [`start`] records what the server was started from.
const STARTED_RECORD: &str = "started.sha256";

/// How much of `dump.rdb` [`inspect`] reads: the aux fields and the first RESIZEDB are near
/// the start, the rest is values.
const RDB_HEAD_BYTES: usize = 16384;

/// One command: (optionally) create install_dir, checksum binary, config and aclfile, check the pid
/// file and the start record, `uname -sm`, and the head of `dump.rdb`.
pub fn inspect(t: &mut dyn Transport, host: &Host, create_dir: bool) -> Result<RemoteState> {
    let r = &host.redis;
    let dir = sh_quote(&r.install_dir);
    let mkdir = if create_dir {
        format!("mkdir -p {dir} || exit 1; ")
    } else {
        String::new()
    };
    let cmd = format!(
        "{ALIVE_FN}{OURS_FN}{mkdir}if [ -d {dir} ]; then cd {dir} && sha256sum tripod-server redis.conf users.acl 2>/dev/null; \
         {PID_CHECK}if [ -s {STARTED_RECORD} ]; then sed 's/^/STARTED /' {STARTED_RECORD}; fi; \
         if [ -s dump.rdb ]; then printf 'RDBHEAD '; head -c {RDB_HEAD_BYTES} dump.rdb | od -An -v -tx1 | tr -d ' \\n'; echo; fi; fi; \
         echo \"UNAME $(uname -sm 2>/dev/null)\"; exit 0"
    );
    let out = t.run(&cmd)?;
    if !out.ok() {
        return Err(Error::failed(format!(
            "host {}: cannot create {}: {}",
            host.name,
            r.install_dir,
            out.diagnostic()
        )));
    }
    let mut st = RemoteState::default();
    for line in out.stdout.lines() {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some("RUNNING"), Some(pid), _) => st.running_pid = pid.parse().ok(),
            (Some("STALE"), Some(pid), _) => {
                let what = line.splitn(3, ' ').nth(2).unwrap_or("").trim();
                st.stale_pid = Some(format!("pid {pid}: {what}"));
            }
            (Some("STARTED"), Some(sum), Some("tripod-server")) => {
                st.started_binary_sha256 = Some(sum.to_string())
            }
            (Some("STARTED"), Some(sum), Some("redis.conf")) => {
                st.started_config_sha256 = Some(sum.to_string())
            }
            (Some("UNAME"), os, machine) => {
                st.os = os.map(str::to_string);
                st.machine = machine.map(str::to_string);
            }
            (Some("RDBHEAD"), Some(hex), _) => st.rdb = Some(rdb_head::parse(&unhex(hex))),
            (Some(sum), Some("tripod-server"), None) => st.binary_sha256 = Some(sum.to_string()),
            (Some(sum), Some("redis.conf"), None) => st.config_sha256 = Some(sum.to_string()),
            (Some(sum), Some("users.acl"), None) => st.acl_sha256 = Some(sum.to_string()),
            _ => {}
        }
    }
    if st.running_pid.is_none() {
        st.started_binary_sha256 = None;
        st.started_config_sha256 = None;
    }
    Ok(st)
}

/// The last lines of the server's start output and log, for error messages.
pub fn log_tail(t: &mut dyn Transport, host: &Host) -> String {
    let dir = sh_quote(&host.redis.install_dir);
    match t.run(&format!(
        "cd {dir} 2>/dev/null && {{ cat start.out 2>/dev/null; tail -n 8 redis.log 2>/dev/null; }}"
    )) {
        Ok(o) => {
            let s = o.stdout.trim();
            if s.is_empty() {
                String::new()
            } else {
                format!("\n  server output:\n    {}", s.replace('\n', "\n    "))
            }
        }
        Err(_) => String::new(),
    }
}

/// Starts the server in the background (it daemonizes itself with `daemonize yes`).
pub fn start(t: &mut dyn Transport, host: &Host) -> Result<()> {
    let r = &host.redis;
    let dir = sh_quote(&r.install_dir);
    let conf = sh_quote(&r.config_file());
    let cmd = format!(
        "cd {dir} || exit 1; rm -f start.out redis.pid; \
         {{ {RECORD_FILES}; }} || exit 1; \
         setsid ./tripod-server {conf} </dev/null >start.out 2>&1 & p=$!; i=0; \
         while [ $i -lt 60 ]; do \
           if ! kill -0 $p 2>/dev/null; then wait $p; rc=$?; \
             if [ $rc -ne 0 ]; then echo \"the server exited with status $rc\" >&2; cat start.out >&2; tail -n 8 redis.log >&2 2>/dev/null; exit 1; fi; exit 0; fi; \
           if [ -s redis.pid ]; then exit 0; fi; \
           sleep 0.05; i=$((i+1)); \
         done; exit 0"
    );
    let out = t.run(&cmd)?;
    if !out.ok() {
        return Err(Error::failed(format!(
            "host {}: the server did not start: {}",
            host.name,
            out.diagnostic()
        )));
    }
    Ok(())
}

/// Records the files on disk now as what the running server runs: after tripod changed a live
/// server to match them (promote's and a handover's REPLICAOF), so the next deploy does not
/// restart it for nothing.
pub fn record_running(t: &mut dyn Transport, host: &Host) -> Result<()> {
    let dir = sh_quote(&host.redis.install_dir);
    let out = t.run(&format!("cd {dir} || exit 1; {RECORD_FILES}"))?;
    if !out.ok() {
        return Err(Error::failed(format!(
            "host {}: cannot record the running server's files: {}",
            host.name,
            out.diagnostic()
        )));
    }
    Ok(())
}

/// `mkdir -p install_dir` (mode 0700: it holds the password and the data).
pub fn ensure_dir(t: &mut dyn Transport, host: &Host) -> Result<()> {
    let dir = sh_quote(&host.redis.install_dir);
    let out = t.run(&format!(
        "[ -d {dir} ] || {{ mkdir -p {dir} && chmod 700 {dir}; }}"
    ))?;
    if !out.ok() {
        return Err(Error::failed(format!(
            "host {}: cannot create {}: {}",
            host.name,
            host.redis.install_dir,
            out.diagnostic()
        )));
    }
    Ok(())
}

/// Polls PING (with the password) until the server answers.
pub fn wait_until_answers(t: &mut dyn Transport, host: &Host, limit: Duration) -> Result<()> {
    let started = Instant::now();
    let deadline = started + limit;
    let mut checked_process = false;
    loop {
        match probe::ping_blocking(host, Duration::from_millis(500)) {
            Ok(()) => return Ok(()),
            Err(e) => {
                let auth = e.kind.is_auth();
                // A server that died at startup (say its port is taken) will not answer:
                // after a while, look for its process instead of waiting out the limit.
                let mut gone = false;
                if !checked_process && started.elapsed() > Duration::from_secs(2) {
                    checked_process = true;
                    gone = inspect(t, host, false)?.running_pid.is_none();
                }
                if auth || gone || Instant::now() >= deadline {
                    let why = if gone {
                        "the server is not running".to_string()
                    } else {
                        format!("it did not answer within {limit:?}")
                    };
                    let tail = log_tail(t, host);
                    return Err(Error::failed(format!("{} — {why}{tail}", e.message)));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How [`stop`] may end a server that does not stop cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// SHUTDOWN, then SIGTERM if the server cannot be asked; never SIGKILL. A server that does
    /// not exit is left running and reported.
    Clean,
    /// As `Clean`, then SIGKILL when the server is still there: the operator asked
    /// (`stop --kill`). Writes since the last successful save are lost; reported as a failure.
    Kill,
}

/// What [`stop`] did.
#[derive(Debug, Default, Clone)]
pub struct Stopped {
    /// The node's server was running (and is not anymore).
    pub was_running: bool,
    /// A stale pid file was found and removed: what it named.
    pub removed_stale_pid: Option<String>,
}

/// How long SHUTDOWN may take to answer: it waits up to `shutdown-timeout` (10 s) for lagging
/// replicas and then saves, which takes as long as the dataset needs.
const SHUTDOWN_REPLY_LIMIT: Duration = Duration::from_secs(60);

/// Stops the node's server without losing data.
///
/// Contract: SHUTDOWN SAVE (which saves even without save points) through the redis crate. An error
/// reply (a failed save: a full disk, a read-only `dir`) is an error naming the host and the
/// server's log, and the server is left running with its data. When the server cannot be asked
/// (no connection, a wrong password, no answer), SIGTERM, which also saves first and keeps a
/// server whose save fails running. Only [`StopMode::Kill`] sends SIGKILL, and then the result
/// is an error saying so. Only this node's own server is ever signalled (see `OURS_FN`); a stale
/// pid file is removed and reported.
pub fn stop(t: &mut dyn Transport, host: &Host, mode: StopMode) -> Result<Stopped> {
    let st = inspect(t, host, false)?;
    let pf = sh_quote(&host.redis.pid_file());
    let dir = sh_quote(&host.redis.install_dir);
    let Some(pid) = st.running_pid else {
        let mut out = Stopped::default();
        if let Some(stale) = st.stale_pid {
            // Remove it only if it still says the same (the server may have just started).
            t.run(&format!(
                "{ALIVE_FN}{OURS_FN}cd {dir} 2>/dev/null || exit 0; {{ {PID_CHECK}}} | grep -q '^STALE' && rm -f {pf}; exit 0"
            ))?;
            out.removed_stale_pid = Some(stale);
        }
        return Ok(out);
    };
    let asked = probe::shutdown_blocking(host, SHUTDOWN_REPLY_LIMIT);
    if let probe::Shutdown::Refused(why) = &asked {
        return Err(Error::failed(format!(
            "host {}: the server (pid {pid}) refused to shut down: {why}. It keeps running with its data; \
             fix the cause (often a full disk or a `dir` it cannot write) and try again.{}",
            host.name,
            log_tail(t, host)
        )));
    }
    // After a clean SHUTDOWN the process exits at once; SIGTERM (when SHUTDOWN could not be
    // sent) saves first, so give it time.
    let term = match &asked {
        probe::Shutdown::Closed => String::new(),
        _ => "kill -TERM $p 2>/dev/null; ".to_string(),
    };
    let cmd = format!(
        "{ALIVE_FN}{OURS_FN}cd {dir} || exit 1; p={pid}; {term}i=0; \
         while ours $p; do i=$((i+1)); if [ $i -gt 1200 ]; then echo RUNNING; exit 0; fi; sleep 0.05; done; \
         rm -f {pf}; echo STOPPED; exit 0"
    );
    let out = t.run(&cmd)?;
    if !out.ok() {
        return Err(Error::failed(format!(
            "host {}: cannot watch the server (pid {pid}) stop: {}",
            host.name,
            out.diagnostic()
        )));
    }
    if out.stdout.contains("STOPPED") {
        return Ok(Stopped {
            was_running: true,
            removed_stale_pid: None,
        });
    }
    let asked_how = match &asked {
        probe::Shutdown::Closed => "SHUTDOWN was accepted".to_string(),
        probe::Shutdown::Unknown(why) => format!("SHUTDOWN could not be sent ({why}), SIGTERM was"),
        probe::Shutdown::Refused(why) => format!("SHUTDOWN was refused ({why})"),
    };
    if mode == StopMode::Clean {
        return Err(Error::failed(format!(
            "host {}: the server (pid {pid}) is still running 60 s after {asked_how}; it is left running. \
             Look at its log; `tripod stop --kill` ends it with SIGKILL and loses the writes since its last save.{}",
            host.name,
            log_tail(t, host)
        )));
    }
    let out = t.run(&format!(
        "{ALIVE_FN}{OURS_FN}cd {dir} || exit 1; p={pid}; if ours $p; then kill -KILL $p; fi; i=0; \
         while alive $p; do i=$((i+1)); if [ $i -gt 100 ]; then exit 1; fi; sleep 0.05; done; rm -f {pf}; exit 0"
    ))?;
    Err(Error::failed(format!(
        "host {}: the server (pid {pid}) {} with SIGKILL after {asked_how}: writes since its last successful save are lost on this node",
        host.name,
        if out.ok() { "was killed" } else { "did not die even" }
    )))
}
