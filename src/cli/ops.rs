//! Actions on one host, shared by the commands: inspect, upload, start, stop, wait.
//! Everything here blocks; callers run it with `tokio::task::spawn_blocking`.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::error::{Error, Result};
use super::inventory::Host;
use super::probe;
use super::transport::{sh_quote, Transport};

/// The server binary deploy uploads, with its checksum.
pub struct ServerBinary {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

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

pub fn load_server_binary() -> Result<ServerBinary> {
    let path = server_binary_path()?;
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::failed(format!(
            "cannot read the server binary {}: {e} (build it with `cargo build --release`, or point TRIPOD_SERVER_BIN at a redis-server compatible binary)",
            path.display()
        ))
    })?;
    let sha256 = sha256_hex(&bytes);
    Ok(ServerBinary {
        path,
        bytes,
        sha256,
    })
}

/// A shell function `alive PID`: the process exists and is not a zombie (a zombie whose parent
/// does not reap it still answers `kill -0`).
const ALIVE_FN: &str = "alive() { kill -0 \"$1\" 2>/dev/null || return 1; \
     if [ -r /proc/$1/stat ]; then [ \"$(sed 's/.*) //' /proc/$1/stat | cut -d' ' -f1)\" != Z ] || return 1; fi; return 0; }; ";

/// What is on the host now.
#[derive(Debug, Default, Clone)]
pub struct RemoteState {
    pub binary_sha256: Option<String>,
    pub config_sha256: Option<String>,
    /// The pid from the pid file, when that process is alive.
    pub running_pid: Option<u32>,
}

/// One command: (optionally) create install_dir, checksum binary and config, check the pid file.
pub fn inspect(t: &mut dyn Transport, host: &Host, create_dir: bool) -> Result<RemoteState> {
    let r = &host.redis;
    let dir = sh_quote(&r.install_dir);
    let mkdir = if create_dir {
        format!("mkdir -p {dir} || exit 1; ")
    } else {
        String::new()
    };
    let cmd = format!(
        "{ALIVE_FN}{mkdir}if [ -d {dir} ]; then cd {dir} && sha256sum tripod-server redis.conf 2>/dev/null; \
         if [ -s redis.pid ] && alive \"$(cat redis.pid)\"; then echo \"RUNNING $(cat redis.pid)\"; fi; fi; exit 0"
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
        match (parts.next(), parts.next()) {
            (Some("RUNNING"), Some(pid)) => st.running_pid = pid.parse().ok(),
            (Some(sum), Some("tripod-server")) => st.binary_sha256 = Some(sum.to_string()),
            (Some(sum), Some("redis.conf")) => st.config_sha256 = Some(sum.to_string()),
            _ => {}
        }
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
        "cd {dir} || exit 1; rm -f start.out; \
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

/// Polls PING (with the password) until the server answers.
pub fn wait_until_answers(t: &mut dyn Transport, host: &Host, limit: Duration) -> Result<()> {
    let started = Instant::now();
    let deadline = started + limit;
    let mut checked_process = false;
    loop {
        match probe::ping_blocking(host, Duration::from_millis(500)) {
            Ok(()) => return Ok(()),
            Err(e) => {
                let auth = e.message.contains("refused the password")
                    || e.message.contains("wants a password")
                    || e.message.contains("has no password");
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

/// Stops the server: SHUTDOWN through the redis crate, then waits for the pid from the pid file
/// to exit, with SIGTERM and finally SIGKILL as fallbacks. Returns whether it was running.
pub fn stop(t: &mut dyn Transport, host: &Host) -> Result<bool> {
    let st = inspect(t, host, false)?;
    let Some(pid) = st.running_pid else {
        return Ok(false);
    };
    // SHUTDOWN saves when save rules are set.
    probe::shutdown_blocking(host, Duration::from_secs(1));
    let cmd = format!(
        "{ALIVE_FN}p={pid}; i=0; while alive $p; do i=$((i+1)); \
           if [ $i -eq 100 ]; then kill -TERM $p 2>/dev/null; fi; \
           if [ $i -eq 200 ]; then kill -KILL $p 2>/dev/null; echo KILLED; fi; \
           if [ $i -gt 220 ]; then echo STUCK; exit 1; fi; sleep 0.05; done; \
         rm -f {pf}; exit 0",
        pf = sh_quote(&host.redis.pid_file())
    );
    let out = t.run(&cmd)?;
    if !out.ok() {
        return Err(Error::failed(format!(
            "host {}: the server (pid {pid}) did not stop: {}",
            host.name,
            out.diagnostic()
        )));
    }
    Ok(true)
}
