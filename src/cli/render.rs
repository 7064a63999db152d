//! Per-host redis.conf, rendered with minijinja from `templates/redis.conf.j2` (built in) or
//! from the `redis.conf.j2` in the inventory's `templates:` folder; and, with a `sentinel:`
//! section, each Sentinel's sentinel.conf from `templates/sentinel.conf.j2` (or the folder's
//! own `sentinel.conf.j2`).
use minijinja::{context, Environment};

use super::error::{Error, Result};
use super::inventory::{Host, Inventory, Role, SentinelNode};

/// The built-in template (templates/redis.conf.j2 in the repository).
pub const DEFAULT_TEMPLATE: &str = include_str!("../../templates/redis.conf.j2");

/// The built-in Sentinel template (templates/sentinel.conf.j2 in the repository).
pub const SENTINEL_TEMPLATE: &str = include_str!("../../templates/sentinel.conf.j2");

/// A config value as redis.conf reads it: quoted, with `\` and `"` escaped.
fn quote(value: String) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// Loads the inventory's own template (`templates:`) or the bundled one; strict about
    /// undefined variables, so a typo in a template is an error, not an empty value.
    pub fn new(inv: &Inventory) -> Result<Self> {
        let source = match &inv.templates_dir {
            Some(dir) => {
                let path = dir.join("redis.conf.j2");
                std::fs::read_to_string(&path).map_err(|e| {
                    Error::usage(format!("cannot read the template {}: {e}", path.display()))
                })?
            }
            None => DEFAULT_TEMPLATE.to_string(),
        };
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.add_filter("quote", quote);
        env.add_template_owned("redis.conf.j2", source)
            .map_err(|e| Error::usage(format!("template redis.conf.j2: {e:#}")))?;
        if inv.sentinel.is_some() {
            let own = inv
                .templates_dir
                .as_ref()
                .map(|d| d.join("sentinel.conf.j2"))
                .filter(|p| p.is_file());
            let source = match own {
                Some(path) => std::fs::read_to_string(&path).map_err(|e| {
                    Error::usage(format!("cannot read the template {}: {e}", path.display()))
                })?,
                None => SENTINEL_TEMPLATE.to_string(),
            };
            env.add_template_owned("sentinel.conf.j2", source)
                .map_err(|e| Error::usage(format!("template sentinel.conf.j2: {e:#}")))?;
        }
        Ok(Renderer { env })
    }

    /// The config for `host` with the role it has in `inv`.
    pub fn render(&self, inv: &Inventory, host: &Host) -> Result<String> {
        let master = inv.master();
        let tmpl = self.env.get_template("redis.conf.j2").expect("added above");
        let config: Vec<(String, String)> = host
            .redis
            .config
            .iter()
            .filter(|(k, _)| k != "replica-read-only")
            .cloned()
            .collect();
        let role = host.role;
        // The inventory's validation already refuses multi-line values; this second check
        // keeps a value from ever adding a directive of its own (a newline in a value would
        // start a new config line), whatever a future inventory key lets through.
        let password = host.redis.password.as_deref().unwrap_or("");
        let master_port = master.redis.port.to_string();
        let (repl_user, repl_password) = match &host.redis.replication {
            Some((u, p)) => (u.as_str(), p.as_str()),
            None => ("", ""),
        };
        let acl_file = if inv.acl.is_some() {
            host.redis.acl_file()
        } else {
            String::new()
        };
        let values: [(&str, &str); 11] = [
            ("replication_user", repl_user),
            ("replication_password", repl_password),
            ("cluster", &inv.cluster),
            ("name", &host.name),
            ("address", &host.address),
            ("bind", &host.redis.bind),
            ("password", password),
            ("install_dir", &host.redis.install_dir),
            ("master_name", &master.name),
            ("master_address", &master.address),
            ("master_port", &master_port),
        ];
        for (what, value) in values
            .iter()
            .copied()
            .chain(config.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        {
            if value.chars().any(|c| c.is_control()) {
                return Err(Error::usage(format!(
                    "rendering the config of {}: the value of {what} holds a line break or another control character; it must be one line",
                    host.name
                )));
            }
        }
        tmpl.render(context! {
            cluster => inv.cluster,
            name => host.name,
            address => host.address,
            role => role.as_str(),
            is_master => role == Role::Master,
            bind => host.redis.bind,
            port => host.redis.port,
            password => host.redis.password,
            install_dir => host.redis.install_dir,
            pid_file => host.redis.pid_file(),
            log_file => host.redis.log_file(),
            master_name => master.name,
            master_address => master.address,
            master_port => master.redis.port,
            replica_read_only => if host.redis.replica_read_only() { "yes" } else { "no" },
            config => config,
            acl_file => acl_file,
            replication_user => repl_user,
            replication_password => repl_password,
        })
        .map_err(|e| Error::usage(format!("rendering the config of {}: {e:#}", host.name)))
    }
}

/// The aclfile for `host` when the inventory has an `acl:` section (else None): the default
/// user first (`redis.password`, or nopass without one; every command, key and channel), then
/// each of `acl.users` with its rules after `reset` (so the user is the same as the one
/// `ACL SETUSER name reset ...` gives a running server: see acl_live). Passwords are written as
/// SHA-256 hashes (`#...`), as ACL SAVE writes them, so the file holds no password in clear.
pub fn render_acl(inv: &Inventory, host: &Host) -> Option<String> {
    let acl = inv.acl.as_ref()?;
    let pass = |p: &str| format!("#{}", super::ops::sha256_hex(p.as_bytes()));
    let mut out = format!(
        "user default on {} ~* &* +@all\n",
        host.redis
            .password
            .as_deref()
            .map_or_else(|| "nopass".to_string(), pass)
    );
    for u in &acl.users {
        out.push_str(&format!("user {} reset on {}", u.name, pass(&u.password)));
        for r in &u.rules {
            out.push(' ');
            out.push_str(r);
        }
        out.push('\n');
    }
    Some(out)
}

impl Renderer {
    /// The sentinel.conf for Sentinel `node` of `inv` (which has a `sentinel:` section),
    /// monitoring `inv`'s master under the name `cluster`: auth-pass (and requirepass with
    /// sentinel-pass, so Sentinels log in to each other) from the group's password, announce-ip
    /// and announce-port from the host's address and the Sentinel's port (a host name turns
    /// on Sentinel's hostname support), the timings.
    pub fn render_sentinel(&self, inv: &Inventory, node: &SentinelNode) -> Result<String> {
        let Some(s) = &inv.sentinel else {
            return Err(Error::usage("the inventory has no sentinel section"));
        };
        let master = inv.master();
        let h = &node.host;
        for (what, value) in [
            ("name", h.name.as_str()),
            ("address", &h.address),
            ("bind", &h.redis.bind),
            ("password", h.redis.password.as_deref().unwrap_or("")),
            ("install_dir", &h.redis.install_dir),
        ] {
            if value.chars().any(|c| c.is_control()) {
                return Err(Error::usage(format!(
                    "rendering the Sentinel config of {}: the value of {what} holds a control character",
                    h.name
                )));
            }
        }
        let tmpl = self
            .env
            .get_template("sentinel.conf.j2")
            .map_err(|e| Error::usage(format!("template sentinel.conf.j2: {e:#}")))?;
        tmpl.render(context! {
            cluster => inv.cluster,
            name => h.name,
            address => h.address,
            hostnames => h.address.parse::<std::net::IpAddr>().is_err(),
            port => node.port,
            bind => h.redis.bind,
            password => h.redis.password,
            install_dir => h.redis.install_dir,
            pid_file => node.pid_file(),
            log_file => node.log_file(),
            master_name => master.name,
            master_address => master.address,
            master_port => master.redis.port,
            quorum => s.quorum,
            down_after_ms => s.down_after_ms,
            failover_timeout_ms => s.failover_timeout_ms,
            parallel_syncs => s.parallel_syncs,
        })
        .map_err(|e| {
            Error::usage(format!(
                "rendering the Sentinel config of {}: {e:#}",
                h.name
            ))
        })
    }
}

/// Hides secrets for the screen: the values of requirepass/masterauth lines and any literal
/// occurrence of the password.
pub fn mask(text: &str, password: Option<&str>) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let directive = trimmed.split_whitespace().next().unwrap_or("");
        let words: Vec<String> = trimmed
            .split_whitespace()
            .take(2)
            .map(|w| w.to_ascii_lowercase())
            .collect();
        let sentinel_secret = words.first().is_some_and(|w| w == "sentinel")
            && words
                .get(1)
                .is_some_and(|w| w == "auth-pass" || w == "sentinel-pass");
        if sentinel_secret {
            let indent = &line[..line.len() - trimmed.len()];
            // Keep `sentinel auth-pass NAME` / `sentinel sentinel-pass`, hide the rest.
            let n = if words[1] == "auth-pass" { 3 } else { 2 };
            let keep = trimmed
                .split_whitespace()
                .take(n)
                .collect::<Vec<_>>()
                .join(" ");
            out.push_str(indent);
            out.push_str(&keep);
            out.push_str(" ********");
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else if directive == "user" {
            // An aclfile line: hide every password or hash (`>p`, `<p`, `#h`, `!h`).
            let indent = &line[..line.len() - trimmed.len()];
            out.push_str(indent);
            let hidden: Vec<String> = trimmed
                .split_whitespace()
                .map(|w| match w.chars().next() {
                    Some(c @ ('>' | '<' | '#' | '!')) => format!("{c}********"),
                    _ => w.to_string(),
                })
                .collect();
            out.push_str(&hidden.join(" "));
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else if ["requirepass", "masterauth"].contains(&directive.to_ascii_lowercase().as_str()) {
            let indent = &line[..line.len() - trimmed.len()];
            out.push_str(indent);
            out.push_str(directive);
            out.push_str(" ********");
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    match password {
        Some(pw) if !pw.is_empty() => out.replace(pw, "********"),
        _ => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const INV: &str = "cluster: t\nredis:\n  password: \"se\\\"cret\"\n  install_dir: /srv/r\n  config: { maxmemory: 100mb, replica-read-only: false }\nhosts:\n  - {name: m, address: 10.0.0.1, role: master}\n  - {name: r, address: 10.0.0.2, role: replica}\n";

    #[test]
    fn replica_gets_replicaof_and_masterauth() {
        let inv = crate::cli::inventory::parse(Path::new("i.yaml"), INV).unwrap();
        let r = Renderer::new(&inv).unwrap();
        let m = r.render(&inv, &inv.hosts[0]).unwrap();
        let s = r.render(&inv, &inv.hosts[1]).unwrap();
        assert!(!m.contains("replicaof") && !m.contains("masterauth"));
        assert!(s.contains("\nreplicaof 10.0.0.1 6379\n"));
        assert!(s.contains("\nmasterauth \"se\\\"cret\"\n"));
        assert!(s.contains("\nrequirepass \"se\\\"cret\"\n"));
        assert!(s.contains("\nreplica-read-only no\n"));
        assert!(s.contains("\nmaxmemory 100mb\n"));
        assert!(s.contains("\ndir \"/srv/r\"\n"));
        let masked = mask(&s, Some("se\"cret"));
        assert!(!masked.contains("cret"));
        assert!(masked.contains("requirepass ********\n"));
    }
}
