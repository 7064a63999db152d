//! The inventory: YAML loaded with serde_yaml into typed structs, per-host `ssh:`/`redis:`
//! overrides merged over the group's, then validated. Every error names file:line:column and
//! maps to exit status 2.
//!
//! Layout:
//! - this file: the resolved inventory ([`Inventory`], [`Host`] and their settings) and the
//!   entry points [`load`], [`load_offline`], [`parse`] and [`parse_with`], which run the
//!   steps below in order; [`is_loopback`] and [`home_dir`];
//! - [`raw`]: the file as written (serde structs, unknown keys refused) and its deserialisation;
//! - [`validate`]: from the raw file to the resolved inventory, one function per section (name
//!   and address, `ssh:`, `redis:` with bind, password, install_dir and config directives), then
//!   the checks across hosts (one master, a replica, unique names and endpoints), the cluster
//!   name and the templates folder;
//! - [`sentinel`]: the optional `sentinel:` section ([`Sentinel`], [`SentinelNode`]);
//! - [`acl`]: the optional `acl:` section ([`Acl`], [`AclUser`]);
//! - [`locate`]: a key path to file:line:column for error messages ([`Seg`], [`locate`]);
//! - [`rewrite`]: the in-place rewrite of hosts' roles that promote uses ([`rewrite_roles`]).
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{Error, Result};

mod acl;
mod locate;
mod raw;
mod rewrite;
mod sentinel;
mod validate;

pub use locate::{locate, Seg};
pub use rewrite::rewrite_roles;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Master,
    Replica,
}

impl Role {
    /// The word the inventory uses: "master" or "replica".
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Replica => "replica",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Connection {
    #[default]
    Ssh,
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyChecking {
    Strict,
    #[default]
    AcceptNew,
    Off,
}

// ---- the resolved inventory ----

#[derive(Debug, Clone)]
pub struct SshSettings {
    pub user: String,
    pub port: u16,
    /// None: authenticate with the ssh-agent.
    pub identity_file: Option<PathBuf>,
    pub known_hosts: PathBuf,
    pub host_key_checking: HostKeyChecking,
    pub connect_timeout: std::time::Duration,
}

#[derive(Clone)]
pub struct RedisSettings {
    pub port: u16,
    pub bind: String,
    pub password: Option<String>,
    pub install_dir: String,
    /// The server binary deploy uploads to this host (a file on the control machine), when the
    /// inventory names one; else the bundled `tripod-server` (or `$TRIPOD_SERVER_BIN`).
    pub server_binary: Option<PathBuf>,
    /// Further directives, in order; a directive may repeat.
    pub config: Vec<(String, String)>,
    /// The ACL user tripod logs in as (`AUTH user password`, `password` being that user's);
    /// None: the default user. Set by [`Inventory::as_user`].
    pub user: Option<String>,
    /// The user and password a replica authenticates to its master with (`masteruser` and
    /// `masterauth`), from `acl.replication_user`; None: `masterauth` is `password`.
    pub replication: Option<(String, String)>,
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("port", &self.port)
            .field("bind", &self.bind)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("install_dir", &self.install_dir)
            .field("server_binary", &self.server_binary)
            .field("config", &self.config)
            .field("user", &self.user)
            .field(
                "replication",
                &self.replication.as_ref().map(|(u, _)| (u, "********")),
            )
            .finish()
    }
}

impl RedisSettings {
    /// Whether the server listens beyond loopback (`bind` holds an address that is not
    /// 127.0.0.0/8 or ::1, or a wildcard).
    pub fn binds_beyond_loopback(&self) -> bool {
        self.bind.split_whitespace().any(|b| {
            let b = b.trim_start_matches('-');
            !b.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
        })
    }
    /// `install_dir/redis.pid`: the server writes it, stop and inspect read it.
    pub fn pid_file(&self) -> String {
        format!("{}/redis.pid", self.install_dir)
    }
    /// `install_dir/redis.conf`: the rendered config (mode 0600).
    pub fn config_file(&self) -> String {
        format!("{}/redis.conf", self.install_dir)
    }
    /// `install_dir/tripod-server`: where the uploaded server binary lives on the host.
    pub fn binary(&self) -> String {
        format!("{}/tripod-server", self.install_dir)
    }
    /// `install_dir/users.acl`: the aclfile rendered from `acl.users` (mode 0600).
    pub fn acl_file(&self) -> String {
        format!("{}/users.acl", self.install_dir)
    }
    /// `install_dir/redis.log`: the server's log, whose tail errors quote.
    pub fn log_file(&self) -> String {
        format!("{}/redis.log", self.install_dir)
    }
    /// The effective `replica-read-only` value (yes unless the inventory's config says no).
    pub fn replica_read_only(&self) -> bool {
        !self
            .config
            .iter()
            .any(|(k, v)| k == "replica-read-only" && v.eq_ignore_ascii_case("no"))
    }
}

#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub address: String,
    pub role: Role,
    pub connection: Connection,
    pub ssh: SshSettings,
    pub redis: RedisSettings,
}

impl Host {
    /// `address:port`, for messages.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.address, self.redis.port)
    }
}

#[derive(Debug, Clone)]
pub struct Inventory {
    pub path: PathBuf,
    pub cluster: String,
    pub templates_dir: Option<PathBuf>,
    pub hosts: Vec<Host>,
    /// Redis Sentinel over the group, when the inventory has a `sentinel:` section.
    pub sentinel: Option<Sentinel>,
    /// ACL users, when the inventory has an `acl:` section.
    pub acl: Option<Acl>,
    /// Things the file allows but the operator should know (file:line:column: ...); deploy
    /// prints them.
    pub warnings: Vec<String>,
}

/// The resolved `acl:` section: users rendered into every node's aclfile (after the default
/// user, whose password is `redis.password`), and the users replication, `status` and
/// `write-test` log in as.
#[derive(Debug, Clone)]
pub struct Acl {
    pub users: Vec<AclUser>,
    pub replication_user: Option<String>,
    pub status_user: Option<String>,
    pub write_test_user: Option<String>,
}

impl Acl {
    /// The user named `name`.
    pub fn user(&self, name: &str) -> Option<&AclUser> {
        self.users.iter().find(|u| u.name == name)
    }
}

/// One ACL user: its name, password (never printed: Debug masks it) and rules as words.
#[derive(Clone)]
pub struct AclUser {
    pub name: String,
    pub password: String,
    pub rules: Vec<String>,
}

impl std::fmt::Debug for AclUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AclUser")
            .field("name", &self.name)
            .field("password", &"********")
            .field("rules", &self.rules)
            .finish()
    }
}

/// How Sentinel runs on its hosts: `binary` or `command` (exactly one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SentinelProgram {
    /// A file on this machine, uploaded to `install_dir/redis-sentinel` on every Sentinel host.
    Upload(PathBuf),
    /// A command already installed on the hosts, as words (run without a shell's expansion).
    Command(Vec<String>),
}

/// The resolved `sentinel:` section. The master name Sentinel monitors is the inventory's
/// `cluster`.
#[derive(Debug, Clone)]
pub struct Sentinel {
    pub quorum: u32,
    pub down_after_ms: u64,
    pub failover_timeout_ms: u64,
    pub parallel_syncs: u32,
    pub program: SentinelProgram,
    /// One per Sentinel, in the order of `hosts:`.
    pub nodes: Vec<SentinelNode>,
}

/// One Sentinel: it runs on `host` (same transport, address, install_dir and password) and
/// listens on `port`.
#[derive(Debug, Clone)]
pub struct SentinelNode {
    pub host: Host,
    pub port: u16,
}

impl SentinelNode {
    /// The host's name (a Sentinel is named after the host it runs on).
    pub fn name(&self) -> &str {
        &self.host.name
    }
    /// `address:port` of the Sentinel, for messages.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host.address, self.port)
    }
    /// `install_dir/sentinel.conf`: the config Sentinel runs from and rewrites itself.
    pub fn config_file(&self) -> String {
        format!("{}/sentinel.conf", self.host.redis.install_dir)
    }
    /// `install_dir/sentinel.pid`.
    pub fn pid_file(&self) -> String {
        format!("{}/sentinel.pid", self.host.redis.install_dir)
    }
    /// `install_dir/sentinel.log`.
    pub fn log_file(&self) -> String {
        format!("{}/sentinel.log", self.host.redis.install_dir)
    }
    /// `install_dir/redis-sentinel`: where an uploaded Sentinel binary lives (the name makes
    /// a redis-server binary start in Sentinel mode too).
    pub fn binary(&self) -> String {
        format!("{}/redis-sentinel", self.host.redis.install_dir)
    }
    /// `install_dir/sentinel.rendered.conf`: the config tripod last rendered and uploaded,
    /// kept beside what Sentinel rewrote, so a redeploy compares renders, not Sentinel's state.
    pub fn rendered_file(&self) -> String {
        format!("{}/sentinel.rendered.conf", self.host.redis.install_dir)
    }
    /// The host as a redis client target on the Sentinel's port (same address and password).
    pub fn as_target(&self) -> Host {
        let mut h = self.host.clone();
        h.redis.port = self.port;
        h
    }
}

impl Inventory {
    /// The host the inventory makes master (validation guarantees exactly one).
    pub fn master(&self) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.role == Role::Master)
            .expect("validated: exactly one master")
    }
    /// The inventory's replicas, in the file's order.
    pub fn replicas(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| h.role == Role::Replica)
    }
    /// The host named `name`.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }
    /// The same group with every data node logged in to as the ACL user `name` (its password
    /// instead of the default user's); Sentinels keep the group's password. An error (exit 2)
    /// when `acl.users` has no such user.
    pub fn as_user(&self, name: &str) -> Result<Inventory> {
        let user = self
            .acl
            .as_ref()
            .and_then(|a| a.user(name))
            .ok_or_else(|| {
                Error::usage(format!(
                    "{}: no ACL user {name:?}: declare it under acl.users",
                    self.path.display()
                ))
            })?;
        let mut inv = self.clone();
        for h in &mut inv.hosts {
            h.redis.user = Some(user.name.clone());
            h.redis.password = Some(user.password.clone());
        }
        Ok(inv)
    }
    /// The same group with `name` as its master and every other host a replica (what the
    /// group looks like during a handover to `name`).
    pub fn with_master(&self, name: &str) -> Inventory {
        let mut inv = self.clone();
        for h in &mut inv.hosts {
            h.role = if h.name == name {
                Role::Master
            } else {
                Role::Replica
            };
        }
        inv
    }
}

// ---- helpers ----

/// A loopback IP address, or `localhost`.
pub fn is_loopback(a: &str) -> bool {
    match a.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => a.eq_ignore_ascii_case("localhost"),
    }
}

/// `$HOME`, else `/root`.
pub fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

// ---- loading ----

/// Loads and validates an inventory file for a command that connects over SSH.
pub fn load(path: &Path) -> Result<Inventory> {
    load_with(path, true)
}

/// Loads and validates an inventory file for a command that never opens an SSH
/// session (render, status, write-test): the SSH key files need not exist on
/// this machine.
pub fn load_offline(path: &Path) -> Result<Inventory> {
    load_with(path, false)
}

fn load_with(path: &Path, ssh_files: bool) -> Result<Inventory> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::usage(format!(
            "{}: cannot read the inventory: {e}",
            path.display()
        ))
    })?;
    parse_with(path, &text, ssh_files)
}

/// Parses and validates inventory text; `path` names the file in errors and anchors relative paths.
pub fn parse(path: &Path, text: &str) -> Result<Inventory> {
    parse_with(path, text, true)
}

/// Like `parse`; `ssh_files` says whether SSH key files must exist here.
///
/// The steps, each stopping at the first problem: deserialise ([`raw`]), resolve and check
/// every host, then the roles, unique names and endpoints, the cluster name and the templates
/// folder ([`validate`]).
pub fn parse_with(path: &Path, text: &str, ssh_files: bool) -> Result<Inventory> {
    let file = path.display().to_string();
    let raw = raw::from_yaml(&file, text)?;
    let base = base_dir(path);
    let v = locate::Validator { file, text };
    let hosts = validate::hosts(&v, &raw, &base, ssh_files)?;
    validate::roles(&v, &hosts)?;
    validate::unique_hosts(&v, &hosts)?;
    let cluster = validate::cluster(&v, raw.cluster.as_deref())?;
    let templates_dir = validate::templates_dir(&v, raw.templates.as_deref(), &base)?;
    validate::no_open_passwordless(&v, &hosts, raw.allow_no_password.unwrap_or(false))?;
    let mut hosts = hosts;
    let acl = match &raw.acl {
        Some(a) => Some(acl::resolve(&v, a, &hosts)?),
        None => None,
    };
    if let Some(repl) = acl
        .as_ref()
        .and_then(|a| a.replication_user.as_deref().and_then(|n| a.user(n)))
    {
        for h in &mut hosts {
            h.redis.replication = Some((repl.name.clone(), repl.password.clone()));
        }
    }
    let mut warnings = Vec::new();
    let sentinel = match &raw.sentinel {
        Some(s) => Some(sentinel::resolve(
            &v,
            s,
            &raw,
            &hosts,
            &base,
            &mut warnings,
        )?),
        None => None,
    };
    Ok(Inventory {
        path: path.to_path_buf(),
        cluster,
        templates_dir,
        hosts,
        sentinel,
        acl,
        warnings,
    })
}

/// The folder of the inventory file, which relative paths in it are relative to (`.` for a
/// bare file name).
fn base_dir(path: &Path) -> PathBuf {
    path.parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small group: group-level `ssh:`/`redis:`, a comment, block and flow-style hosts.
    pub(super) const GOOD: &str = "cluster: t\nssh:\n  user: root\nredis:\n  port: 7000\n  password: \"pw\"\n  install_dir: /tmp/x\nhosts:\n  - name: a # the master\n    address: 127.0.0.1\n    role: master\n  - name: b\n    address: 127.0.0.1\n    role: replica\n    redis: { port: 7001, install_dir: /tmp/y }\n  - {name: c, address: 127.0.0.1, role: replica, redis: {port: 7002}}\n";

    #[test]
    fn merges_host_overrides() {
        let inv = parse(Path::new("inv.yaml"), GOOD).unwrap();
        assert_eq!(inv.hosts[0].redis.port, 7000);
        assert_eq!(inv.hosts[1].redis.port, 7001);
        assert_eq!(inv.hosts[1].redis.install_dir, "/tmp/y");
        assert_eq!(inv.hosts[2].redis.install_dir, "/tmp/x");
        assert_eq!(inv.master().name, "a");
    }

    #[test]
    fn errors_have_locations() {
        let bad = GOOD.replace("  port: 7000", "  port: 7000\n  prot: 1");
        let e = parse(Path::new("inv.yaml"), &bad).unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.message.starts_with("inv.yaml:6:3: "), "{}", e.message);
        let bad = GOOD.replace("role: replica\n    redis", "role: master\n    redis");
        let e = parse(Path::new("inv.yaml"), &bad).unwrap_err();
        assert!(e.message.starts_with("inv.yaml:14:5: "), "{}", e.message);
    }
}
