//! `tripod render INVENTORY [--out DIR]`: the configs deploy would push.
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::cli::error::{Error, Result};
use crate::cli::inventory::Inventory;
use crate::cli::render::{mask, Renderer};

/// Prints every host's rendered config with secrets masked, or writes them unmasked
/// (mode 0600) into `out`.
pub fn run(inv: &Inventory, out: Option<&Path>) -> Result<i32> {
    let renderer = Renderer::new(inv)?;
    for h in &inv.hosts {
        let text = renderer.render(inv, h)?;
        match out {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::failed(format!("cannot create {}: {e}", dir.display())))?;
                let path = dir.join(format!("{}.conf", h.name));
                let tmp = dir.join(format!(".{}.conf.tmp", h.name));
                let write = || -> std::io::Result<()> {
                    let _ = std::fs::remove_file(&tmp);
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .open(&tmp)?;
                    f.write_all(text.as_bytes())?;
                    std::fs::rename(&tmp, &path)
                };
                write()
                    .map_err(|e| Error::failed(format!("cannot write {}: {e}", path.display())))?;
                out!("wrote {} ({}, {})", path.display(), h.name, h.role.as_str());
            }
            None => {
                out!(
                    "# ---- {} ({}, {}) -> {}",
                    h.name,
                    h.endpoint(),
                    h.role.as_str(),
                    h.redis.config_file()
                );
                out_nonl!("{}", mask(&text, h.redis.password.as_deref()));
                out!();
            }
        }
    }
    Ok(0)
}
