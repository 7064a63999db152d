//! Doing things on a host: run a shell command, upload a file atomically, read a file.
//! Over SSH ([`ssh`]) or, for `connection: local`, on this machine ([`local`]).
//! All calls block; async callers run them with `tokio::task::spawn_blocking`.
use super::error::Result;
use super::inventory::{Connection, Host};

pub mod local;
pub mod ssh;

#[derive(Debug, Clone)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The command exited 0.
    pub fn ok(&self) -> bool {
        self.status == 0
    }
    /// stderr (or stdout when stderr is empty), trimmed, for error messages.
    pub fn diagnostic(&self) -> String {
        let s = if self.stderr.trim().is_empty() {
            self.stdout.trim()
        } else {
            self.stderr.trim()
        };
        if s.is_empty() {
            format!("exit status {}", self.status)
        } else {
            s.to_string()
        }
    }
}

pub trait Transport: Send {
    /// Runs `cmd` with `sh -c` semantics; a non-zero exit status is not an error here.
    fn run(&mut self, cmd: &str) -> Result<Output>;
    /// Writes `data` to `path` atomically: a temporary name in the same folder, then a rename.
    fn upload(&mut self, data: &[u8], path: &str, mode: u32) -> Result<()>;
    /// The file's content, or None when it does not exist.
    fn read_file(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        let out = self.run(&format!(
            "if [ -e {p} ]; then cat {p}; else echo TRIPOD-NO-SUCH-FILE >&2; exit 3; fi",
            p = sh_quote(path)
        ))?;
        match out.status {
            0 => Ok(Some(out.stdout.into_bytes())),
            3 if out.stderr.contains("TRIPOD-NO-SUCH-FILE") => Ok(None),
            _ => Err(super::error::Error::failed(format!(
                "reading {path}: {}",
                out.diagnostic()
            ))),
        }
    }
}

/// Opens the transport the inventory asks for (SSH: connect, check the host key, authenticate).
pub fn connect(host: &Host) -> Result<Box<dyn Transport>> {
    match host.connection {
        Connection::Local => Ok(Box::new(local::Local)),
        Connection::Ssh => Ok(Box::new(ssh::Ssh::connect(host)?)),
    }
}

/// Single-quotes a string for sh.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The temporary name an upload is written to before the rename: same folder, hidden.
pub(crate) fn temp_name(path: &str) -> String {
    let (dir, file) = match path.rfind('/') {
        Some(p) => (&path[..p + 1], &path[p + 1..]),
        None => ("", path),
    };
    format!("{dir}.{file}.tripod-{}.tmp", std::process::id())
}
