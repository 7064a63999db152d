//! A Sentinel's files and process on its host, over the host's transport: inspect, upload,
//! start, stop. Everything here blocks; callers run it on `spawn_blocking` threads.
//!
//! Files live in the host's install_dir beside the data node's: `sentinel.conf` (what Sentinel
//! runs from and rewrites), `sentinel.rendered.conf` (what tripod rendered last; compared with
//! the next render, so what Sentinel learnt is never mistaken for drift), `sentinel.pid`,
//! `sentinel.log` and, with `binary:`, `redis-sentinel`.
use std::time::Duration;

use crate::cli::error::{Error, Result};
use crate::cli::inventory::{SentinelNode, SentinelProgram};
use crate::cli::ops::{sha256_hex, ALIVE_FN};
use crate::cli::transport::{sh_quote, Transport};

/// A shell function `sours PID`, run inside install_dir: the process is alive, works in this
/// install_dir and is a Sentinel (its command line says so). A stale pid file may name any
/// process; only this one is ever signalled.
const SOURS_FN: &str = "sours() { alive \"$1\" || return 1; \
     if [ -d /proc/$1 ]; then c=$(readlink /proc/$1/cwd 2>/dev/null) || return 1; [ \"$c\" = \"$(pwd -P)\" ] || return 1; \
       tr '\\000' ' ' < /proc/$1/cmdline 2>/dev/null | grep -q sentinel; \
     else ps -p \"$1\" -o args= 2>/dev/null | grep -q sentinel; fi; }; ";

/// Shell, inside install_dir: `RUNNING PID` when sentinel.pid names this Sentinel, `STALE` for
/// any other pid file; nothing without one.
const PID_CHECK: &str = "if [ -s sentinel.pid ]; then p=$(head -c 32 sentinel.pid | tr -d ' \\n'); \
     case \"$p\" in ''|*[!0-9]*) echo STALE;; *) if sours \"$p\"; then echo \"RUNNING $p\"; else echo STALE; fi;; esac; fi; ";

/// What is on the host for its Sentinel.
#[derive(Debug, Default, Clone)]
pub struct SentinelState {
    /// The pid of the running Sentinel of this install_dir.
    pub running_pid: Option<u32>,
    /// sha256 of the uploaded `redis-sentinel`, when there is one.
    pub binary_sha256: Option<String>,
    /// sha256 of `sentinel.rendered.conf` (tripod's last render).
    pub rendered_sha256: Option<String>,
    /// `sentinel.conf` exists.
    pub has_config: bool,
}

/// Inspects the Sentinel's files and process (creates nothing).
pub fn inspect(t: &mut dyn Transport, node: &SentinelNode) -> Result<SentinelState> {
    let dir = sh_quote(&node.host.redis.install_dir);
    let cmd = format!(
        "{ALIVE_FN}{SOURS_FN}cd {dir} 2>/dev/null || exit 0; sha256sum redis-sentinel sentinel.rendered.conf 2>/dev/null; \
         [ -f sentinel.conf ] && echo CONF; {PID_CHECK}exit 0"
    );
    let out = t.run(&cmd)?;
    if !out.ok() {
        return Err(Error::failed(format!(
            "host {}: cannot inspect its Sentinel: {}",
            node.name(),
            out.diagnostic()
        )));
    }
    let mut st = SentinelState::default();
    for line in out.stdout.lines() {
        let mut w = line.split_whitespace();
        match (w.next(), w.next()) {
            (Some("RUNNING"), Some(pid)) => st.running_pid = pid.parse().ok(),
            (Some("CONF"), None) => st.has_config = true,
            (Some(sum), Some("redis-sentinel")) => st.binary_sha256 = Some(sum.to_string()),
            (Some(sum), Some("sentinel.rendered.conf")) => {
                st.rendered_sha256 = Some(sum.to_string())
            }
            _ => {}
        }
    }
    Ok(st)
}

/// Uploads the Sentinel binary (mode 0755), for `binary:`.
pub fn upload_binary(t: &mut dyn Transport, node: &SentinelNode, bytes: &[u8]) -> Result<()> {
    t.upload(bytes, &node.binary(), 0o755)
}

/// Records `config` as tripod's last render without touching what Sentinel runs from (after
/// applying a change at run time with SENTINEL SET).
pub fn record_render(t: &mut dyn Transport, node: &SentinelNode, config: &str) -> Result<()> {
    t.upload(config.as_bytes(), &node.rendered_file(), 0o600)
}

/// The checksum [`inspect`] reports for a render.
pub fn render_sha(config: &str) -> String {
    sha256_hex(config.as_bytes())
}

/// tripod's last render on the host, if any.
pub fn read_render(t: &mut dyn Transport, node: &SentinelNode) -> Result<Option<String>> {
    Ok(t.read_file(&node.rendered_file())?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// The command line that starts the Sentinel, run inside install_dir. `--sentinel` makes any
/// redis-server binary start as a Sentinel, whatever its name.
fn command_line(node: &SentinelNode, program: &SentinelProgram) -> String {
    let exe = match program {
        SentinelProgram::Upload(_) => "./redis-sentinel".to_string(),
        SentinelProgram::Command(words) => words
            .iter()
            .map(|w| sh_quote(w))
            .collect::<Vec<_>>()
            .join(" "),
    };
    format!("{exe} {} --sentinel", sh_quote(&node.config_file()))
}

/// Starts the Sentinel (it daemonizes itself) and waits until its pid file appears; an exit at
/// startup is an error with its output and log.
pub fn start(t: &mut dyn Transport, node: &SentinelNode, program: &SentinelProgram) -> Result<()> {
    let dir = sh_quote(&node.host.redis.install_dir);
    let cmd = format!(
        "cd {dir} || exit 1; rm -f sentinel.out sentinel.pid; \
         setsid {} </dev/null >sentinel.out 2>&1 & p=$!; i=0; \
         while [ $i -lt 100 ]; do \
           if ! kill -0 $p 2>/dev/null; then wait $p; rc=$?; \
             if [ $rc -ne 0 ]; then echo \"the Sentinel exited with status $rc\" >&2; cat sentinel.out >&2; tail -n 8 sentinel.log >&2 2>/dev/null; exit 1; fi; \
             j=0; while [ ! -s sentinel.pid ] && [ $j -lt 100 ]; do sleep 0.05; j=$((j+1)); done; \
             if [ -s sentinel.pid ]; then exit 0; fi; echo 'the Sentinel wrote no pid file' >&2; cat sentinel.out >&2; tail -n 8 sentinel.log >&2 2>/dev/null; exit 1; fi; \
           sleep 0.05; i=$((i+1)); \
         done; exit 0",
        command_line(node, program)
    );
    let out = t.run(&cmd)?;
    if !out.ok() {
        return Err(Error::failed(format!(
            "host {}: the Sentinel did not start: {}",
            node.name(),
            out.diagnostic()
        )));
    }
    Ok(())
}

/// Stops the Sentinel: SIGTERM, then, if it is still there after 10 s, SIGKILL (a Sentinel
/// holds no data; its config is on disk). Returns whether one was running. Only this
/// install_dir's Sentinel is ever signalled; a stale pid file is removed.
pub fn stop(t: &mut dyn Transport, node: &SentinelNode) -> Result<bool> {
    let dir = sh_quote(&node.host.redis.install_dir);
    let cmd = format!(
        "{ALIVE_FN}{SOURS_FN}cd {dir} 2>/dev/null || exit 0; r=$({PID_CHECK}); \
         case \"$r\" in RUNNING*) p=${{r#RUNNING }}; kill -TERM $p 2>/dev/null; i=0; \
           while alive $p; do i=$((i+1)); if [ $i -eq 200 ]; then kill -KILL $p 2>/dev/null; fi; \
             if [ $i -gt 300 ]; then echo 'the Sentinel does not exit' >&2; exit 1; fi; sleep 0.05; done; \
           rm -f sentinel.pid; echo STOPPED;; \
         STALE*) rm -f sentinel.pid;; esac; exit 0"
    );
    let out = t.run(&cmd)?;
    if !out.ok() {
        return Err(Error::failed(format!(
            "host {}: cannot stop its Sentinel: {}",
            node.name(),
            out.diagnostic()
        )));
    }
    Ok(out.stdout.contains("STOPPED"))
}

/// How long a Sentinel may take to answer after its start.
pub const START_LIMIT: Duration = Duration::from_secs(15);
