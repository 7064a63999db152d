//! `tripod render INVENTORY [--out DIR]`: the configs deploy would push.
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::cli::error::{Error, Result};
use crate::cli::inventory::Inventory;
use crate::cli::render::{mask, render_acl, Renderer};

/// Prints every host's rendered config (and, with a `sentinel:` section, every Sentinel's
/// sentinel.conf, and with an `acl:` section every host's aclfile) with secrets masked, or
/// writes them unmasked (mode 0600) into `out` as `<host>.conf`, `<host>.sentinel.conf` and
/// `<host>.users.acl`.
pub fn run(inv: &Inventory, out: Option<&Path>) -> Result<i32> {
    let renderer = Renderer::new(inv)?;
    // (file name for --out, what it is, where deploy puts it, text, password to mask)
    type Rendered = (String, String, String, String, Option<String>);
    let mut files: Vec<Rendered> = Vec::new();
    for h in &inv.hosts {
        files.push((
            format!("{}.conf", h.name),
            format!("{} ({}, {})", h.name, h.endpoint(), h.role.as_str()),
            h.redis.config_file(),
            renderer.render(inv, h)?,
            h.redis.password.clone(),
        ));
        if let Some(acl) = render_acl(inv, h) {
            files.push((
                format!("{}.users.acl", h.name),
                format!("{} ACL users", h.name),
                h.redis.acl_file(),
                acl,
                h.redis.password.clone(),
            ));
        }
    }
    if let Some(s) = &inv.sentinel {
        for n in &s.nodes {
            files.push((
                format!("{}.sentinel.conf", n.name()),
                format!("sentinel {} ({})", n.name(), n.endpoint()),
                n.config_file(),
                renderer.render_sentinel(inv, n)?,
                n.host.redis.password.clone(),
            ));
        }
    }
    for (file, what, remote, text, pw) in files {
        match out {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::failed(format!("cannot create {}: {e}", dir.display())))?;
                let path = dir.join(&file);
                let tmp = dir.join(format!(".{file}.tmp"));
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
                out!("wrote {} ({what})", path.display());
            }
            None => {
                out!("# ---- {what} -> {remote}");
                out_nonl!("{}", mask(&text, pw.as_deref()));
                out!();
            }
        }
    }
    Ok(0)
}
