//! The inventory: YAML loaded with serde_yaml into typed structs, per-host `ssh:`/`redis:`
//! overrides merged over the group's, then validated. Every error names file:line:column and
//! maps to exit status 2.
//!
//! Layout: this file holds the resolved inventory, the entry points and the validation;
//! [`raw`] the file as written (serde structs) and its deserialisation; [`locate`] a key path
//! to file:line:column for error messages; [`rewrite`] the in-place rewrite of hosts' roles
//! that promote uses.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{Error, Result};

mod locate;
mod raw;
mod rewrite;

pub use locate::{locate, Seg};
pub use rewrite::rewrite_roles;
use Seg::{Index as I, Key as K, KeyOwned as Kown};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Master,
    Replica,
}

impl Role {
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
            .finish()
    }
}

impl RedisSettings {
    pub fn pid_file(&self) -> String {
        format!("{}/redis.pid", self.install_dir)
    }
    pub fn config_file(&self) -> String {
        format!("{}/redis.conf", self.install_dir)
    }
    pub fn binary(&self) -> String {
        format!("{}/tripod-server", self.install_dir)
    }
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
}

impl Inventory {
    pub fn master(&self) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.role == Role::Master)
            .expect("validated: exactly one master")
    }
    pub fn replicas(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| h.role == Role::Replica)
    }
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
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

/// Directives the template writes itself; `config:` may not set them.
const MANAGED: &[&str] = &[
    "bind",
    "port",
    "daemonize",
    "logfile",
    "pidfile",
    "dir",
    "dbfilename",
    "requirepass",
    "masterauth",
    "replicaof",
    "slaveof",
    "include",
];

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
pub fn parse_with(path: &Path, text: &str, ssh_files: bool) -> Result<Inventory> {
    let file = path.display().to_string();
    let raw = raw::from_yaml(&file, text)?;
    let base = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let v = locate::Validator {
        file: file.clone(),
        text,
    };

    let group_conn = raw.connection.unwrap_or_default();
    let group_ssh = raw.ssh.clone().unwrap_or_default();
    let group_redis = raw.redis.clone().unwrap_or_default();

    if raw.hosts.is_empty() {
        return Err(v.err(&[&[K("hosts")]], "the inventory lists no hosts"));
    }

    let mut hosts = Vec::new();
    for (i, h) in raw.hosts.iter().enumerate() {
        let hs = h.ssh.clone().unwrap_or_default();
        let hr = h.redis.clone().unwrap_or_default();
        let at = |section: &'static str, key: &'static str| -> Vec<Vec<Seg>> {
            vec![
                vec![K("hosts"), I(i), K(section), K(key)],
                vec![K(section), K(key)],
                vec![K("hosts"), I(i)],
            ]
        };
        let connection = h.connection.unwrap_or(group_conn);

        // name and address
        if h.name.trim().is_empty() || h.name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(v.err_at(
                &[vec![K("hosts"), I(i), K("name")]],
                format!(
                    "bad host name {:?}: use letters, digits, '-', '_' or '.'",
                    h.name
                ),
            ));
        }
        if !valid_address(&h.address) {
            return Err(v.err_at(
                &[vec![K("hosts"), I(i), K("address")]],
                format!(
                    "host {}: bad address {:?}: expected an IPv4/IPv6 address or a host name",
                    h.name, h.address
                ),
            ));
        }
        if connection == Connection::Local && !is_loopback(&h.address) {
            return Err(v.err_at(
                &[
                    vec![K("hosts"), I(i), K("address")],
                    vec![K("hosts"), I(i)],
                ],
                format!(
                    "host {}: `connection: local` runs on this machine, so its address must be a loopback address (127.x.x.x, ::1 or localhost), not {}",
                    h.name, h.address
                ),
            ));
        }

        // ssh
        let ssh_port = hs.port.or(group_ssh.port).unwrap_or(22);
        let ssh_port = check_port(ssh_port).ok_or_else(|| {
            v.err_at(
                &at("ssh", "port"),
                format!("host {}: bad ssh port {ssh_port}: expected 1-65535", h.name),
            )
        })?;
        let identity_file = hs
            .identity_file
            .clone()
            .or(group_ssh.identity_file.clone())
            .map(|p| resolve_local_path(&base, &p));
        if connection == Connection::Ssh && ssh_files {
            if let Some(id) = &identity_file {
                if !id.is_file() {
                    return Err(v.err_at(
                        &at("ssh", "identity_file"),
                        format!(
                            "host {}: identity file {} does not exist (fix the path, or remove identity_file to use the ssh-agent)",
                            h.name,
                            id.display()
                        ),
                    ));
                }
            }
        }
        let known_hosts = hs
            .known_hosts
            .clone()
            .or(group_ssh.known_hosts.clone())
            .map(|p| resolve_local_path(&base, &p))
            .unwrap_or_else(|| home_dir().join(".ssh/known_hosts"));
        let timeout = hs
            .connect_timeout
            .or(group_ssh.connect_timeout)
            .unwrap_or(5.0);
        if !(timeout > 0.0 && timeout <= 600.0) {
            return Err(v.err_at(
                &at("ssh", "connect_timeout"),
                format!(
                    "host {}: connect_timeout must be between 0 and 600 seconds",
                    h.name
                ),
            ));
        }
        let user = hs
            .user
            .clone()
            .or(group_ssh.user.clone())
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "root".to_string());
        let ssh = SshSettings {
            user,
            port: ssh_port,
            identity_file,
            known_hosts,
            host_key_checking: hs
                .host_key_checking
                .or(group_ssh.host_key_checking)
                .unwrap_or_default(),
            connect_timeout: std::time::Duration::from_secs_f64(timeout),
        };

        // redis
        let port = hr.port.or(group_redis.port).unwrap_or(6379);
        let port = check_port(port).ok_or_else(|| {
            v.err_at(
                &at("redis", "port"),
                format!("host {}: bad redis port {port}: expected 1-65535", h.name),
            )
        })?;
        let bind = hr
            .bind
            .clone()
            .or(group_redis.bind.clone())
            .unwrap_or_else(|| "0.0.0.0".to_string());
        if bind.trim().is_empty() || bind.chars().any(|c| c.is_control()) {
            return Err(v.err_at(
                &at("redis", "bind"),
                format!(
                    "host {}: bind must be one line of IP addresses separated by spaces, not {bind:?}",
                    h.name
                ),
            ));
        }
        for b in bind.split_whitespace() {
            let b = b.trim_start_matches('-');
            if b != "*" && b.parse::<IpAddr>().is_err() {
                return Err(v.err_at(
                    &at("redis", "bind"),
                    format!(
                        "host {}: bad bind address {b:?}: expected IP addresses",
                        h.name
                    ),
                ));
            }
        }
        let (pw, pw_env, pw_from_host) = if hr.password.is_some() || hr.password_env.is_some() {
            (hr.password.clone(), hr.password_env.clone(), true)
        } else {
            (
                group_redis.password.clone(),
                group_redis.password_env.clone(),
                false,
            )
        };
        let pw_paths = |key: &'static str| -> Vec<Vec<Seg>> {
            if pw_from_host {
                vec![vec![K("hosts"), I(i), K("redis"), K(key)]]
            } else {
                vec![vec![K("redis"), K(key)]]
            }
        };
        let password = match (pw, pw_env) {
            (Some(_), Some(_)) => {
                return Err(v.err_at(
                    &pw_paths("password_env"),
                    format!(
                        "host {}: set either password or password_env, not both",
                        h.name
                    ),
                ))
            }
            (Some(p), None) => Some(p),
            (None, Some(var)) => match std::env::var(&var) {
                Ok(p) if !p.is_empty() => Some(p),
                _ => {
                    return Err(v.err_at(
                        &pw_paths("password_env"),
                        format!(
                            "host {}: password_env names the environment variable {var}, which is not set (export {var}=... and run again)",
                            h.name
                        ),
                    ))
                }
            },
            (None, None) => None,
        };
        if let Some(p) = &password {
            if p.is_empty() || p.chars().any(|c| c.is_control()) {
                return Err(v.err_at(
                    &pw_paths("password"),
                    format!(
                        "host {}: the password must be non-empty and on one line",
                        h.name
                    ),
                ));
            }
        }
        let install_dir = hr
            .install_dir
            .clone()
            .or(group_redis.install_dir.clone())
            .unwrap_or_else(|| "/usr/local/bin/redis".to_string());
        let install_dir = if connection == Connection::Local && !install_dir.starts_with('/') {
            let p = resolve_local_path(&base, &install_dir);
            absolutize(&p).display().to_string()
        } else {
            install_dir
        };
        if !install_dir.starts_with('/')
            || install_dir.len() < 2
            || install_dir
                .chars()
                .any(|c| c.is_whitespace() || "'\"$`\\;&|<>".contains(c))
        {
            return Err(v.err_at(
                &at("redis", "install_dir"),
                format!(
                    "host {}: install_dir must be an absolute path without spaces or shell characters, not {install_dir:?}",
                    h.name
                ),
            ));
        }
        let install_dir = install_dir.trim_end_matches('/').to_string();
        let server_binary = hr
            .binary
            .clone()
            .or(group_redis.binary.clone())
            .map(|b| absolutize(&resolve_local_path(&base, &b)));

        let mut merged: BTreeMap<String, serde_yaml::Value> =
            group_redis.config.clone().unwrap_or_default();
        for (k, val) in hr.config.clone().unwrap_or_default() {
            merged.insert(k, val);
        }
        let mut config = Vec::new();
        for (k, val) in merged {
            let cpath = || {
                vec![
                    vec![K("hosts"), I(i), K("redis"), K("config"), Kown(k.clone())],
                    vec![K("redis"), K("config"), Kown(k.clone())],
                ]
            };
            if k.is_empty()
                || !k
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(v.err_at(
                    &cpath(),
                    format!("host {}: bad config directive name {k:?}", h.name),
                ));
            }
            if MANAGED.contains(&k.as_str()) {
                return Err(v.err_at(
                    &cpath(),
                    format!(
                        "host {}: config directive `{k}` is written by tripod itself; set it through redis.port, redis.bind, redis.password or redis.install_dir instead",
                        h.name
                    ),
                ));
            }
            let values = match &val {
                serde_yaml::Value::Sequence(items) => items.iter().map(scalar).collect(),
                other => vec![scalar(other)],
            };
            for value in values {
                match value {
                    Some(s) if !s.contains('\n') && !s.contains('\r') => {
                        config.push((k.clone(), s))
                    }
                    _ => {
                        return Err(v.err_at(
                            &cpath(),
                            format!(
                                "host {}: config directive `{k}` needs a one-line value (a string, number or boolean)",
                                h.name
                            ),
                        ))
                    }
                }
            }
        }

        hosts.push(Host {
            name: h.name.clone(),
            address: h.address.clone(),
            role: h.role,
            connection,
            ssh,
            redis: RedisSettings {
                port,
                bind,
                password,
                install_dir,
                server_binary,
                config,
            },
        });
    }

    // the group as a whole
    let masters: Vec<usize> = (0..hosts.len())
        .filter(|&i| hosts[i].role == Role::Master)
        .collect();
    if masters.len() != 1 {
        let paths: Vec<Vec<Seg>> = if masters.len() > 1 {
            vec![vec![K("hosts"), I(masters[1]), K("role")]]
        } else {
            vec![vec![K("hosts")]]
        };
        let names: Vec<&str> = masters.iter().map(|&i| hosts[i].name.as_str()).collect();
        return Err(v.err_at(
            &paths,
            if masters.is_empty() {
                "no host has `role: master`; exactly one must".to_string()
            } else {
                format!(
                    "{} hosts have `role: master` ({}); exactly one must",
                    masters.len(),
                    names.join(", ")
                )
            },
        ));
    }
    if !hosts.iter().any(|h| h.role == Role::Replica) {
        return Err(v.err_at(
            &[vec![K("hosts")]],
            "no host has `role: replica`; a group needs at least one replica",
        ));
    }
    let mut names = HashSet::new();
    let mut endpoints: HashMap<(String, u16), String> = HashMap::new();
    for (i, h) in hosts.iter().enumerate() {
        if !names.insert(h.name.clone()) {
            return Err(v.err_at(
                &[vec![K("hosts"), I(i), K("name")]],
                format!("two hosts are named {}; names must be unique", h.name),
            ));
        }
        let key = (canonical_address(&h.address), h.redis.port);
        if let Some(other) = endpoints.insert(key, h.name.clone()) {
            return Err(v.err_at(
                &[
                    vec![K("hosts"), I(i), K("redis"), K("port")],
                    vec![K("hosts"), I(i), K("address")],
                ],
                format!(
                    "hosts {other} and {} both use {}; give one a different address or redis port",
                    h.name,
                    h.endpoint()
                ),
            ));
        }
    }

    let cluster = raw.cluster.clone().unwrap_or_else(|| "tripod".to_string());
    if !valid_cluster_name(&cluster) {
        return Err(v.err_at(
            &[vec![K("cluster")]],
            format!(
                "bad cluster name {cluster:?}: use 1-64 letters, digits, '-', '_' or '.' (it is written into every config and is Sentinel's master name)"
            ),
        ));
    }

    let templates_dir = raw.templates.as_ref().map(|t| resolve_local_path(&base, t));
    if let Some(dir) = &templates_dir {
        if !dir.join("redis.conf.j2").is_file() {
            return Err(v.err_at(
                &[vec![K("templates")]],
                format!("templates folder {} has no redis.conf.j2", dir.display()),
            ));
        }
    }

    Ok(Inventory {
        path: path.to_path_buf(),
        cluster,
        templates_dir,
        hosts,
    })
}

/// A cluster name is rendered into the first line of every config and used as Sentinel's
/// master name, so it is a plain word: letters, digits, `-`, `_` and `.`, at most 64.
fn valid_cluster_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn scalar(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_string()),
        _ => None,
    }
}

fn check_port(p: i64) -> Option<u16> {
    if (1..=65535).contains(&p) {
        Some(p as u16)
    } else {
        None
    }
}

fn valid_address(a: &str) -> bool {
    if a.parse::<IpAddr>().is_ok() {
        return true;
    }
    // A DNS name: labels of letters, digits and '-', not all-numeric (that would be a bad IPv4).
    if a.is_empty() || a.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = a.split('.').collect();
    let ok_labels = labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    let all_numeric = labels.iter().all(|l| l.chars().all(|c| c.is_ascii_digit()));
    ok_labels && !all_numeric
}

pub fn is_loopback(a: &str) -> bool {
    match a.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => a.eq_ignore_ascii_case("localhost"),
    }
}

fn canonical_address(a: &str) -> String {
    match a.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => a.to_ascii_lowercase(),
    }
}

pub fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

/// `~/x` is under $HOME; a relative path is relative to the inventory file's folder.
fn resolve_local_path(base: &Path, p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/") {
        home_dir().join(rest)
    } else if p == "~" {
        home_dir()
    } else {
        let pb = PathBuf::from(p);
        if pb.is_absolute() {
            pb
        } else {
            base.join(pb)
        }
    }
}

fn absolutize(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(p)
    };
    // Lexically drop `.` and `..` (the directory need not exist yet).
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
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
