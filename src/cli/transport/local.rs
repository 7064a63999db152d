//! `connection: local`: the same steps on this machine, without SSH.
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::process::Command;

use super::{temp_name, Output, Transport};
use crate::cli::error::{Context, Result};

pub struct Local;

impl Transport for Local {
    fn run(&mut self, cmd: &str) -> Result<Output> {
        let out = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(std::process::Stdio::null())
            .output()
            .context(|| "running sh on this machine".to_string())?;
        Ok(Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    fn upload(&mut self, data: &[u8], path: &str, mode: u32) -> Result<()> {
        let tmp = temp_name(path);
        let write = || -> std::io::Result<()> {
            let _ = std::fs::remove_file(&tmp);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
            std::fs::rename(&tmp, path)
        };
        write()
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
            .context(|| format!("writing {path}"))
    }

    fn read_file(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        match std::fs::read(path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(crate::cli::error::Error::failed(format!(
                "reading {path}: {e}"
            ))),
        }
    }
}
