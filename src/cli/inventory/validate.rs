//! From the file as written to the resolved inventory: per host, the host's own `ssh:` and
//! `redis:` keys over the group's over the defaults, resolved and checked one section at a
//! time; then the checks across hosts, the cluster name and the templates folder.
//!
//! Each function returns the first problem it finds as a usage error at the most specific key
//! path found in the text (see [`super::locate`]). The order in which [`super::parse_with`]
//! calls them is the order problems are reported in, so a file with several problems always
//! reports the same one first.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::locate::Validator;
use super::raw::{RawHost, RawInventory, RawRedis, RawSsh};
use super::{home_dir, is_loopback, Connection, Host, RedisSettings, Role, Seg, SshSettings};
use crate::cli::error::Result;
use Seg::{Index as I, Key as K, KeyOwned as Kown};

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
    "aclfile",
    "masteruser",
];

/// The hosts of `raw`, in file order, each resolved over the group's settings and checked on
/// its own by [`host`]. An inventory without hosts is an error at `hosts:`. `base` is the
/// inventory's folder (relative paths are relative to it); `ssh_files` says whether SSH key
/// files must exist on this machine.
pub(super) fn hosts(
    v: &Validator,
    raw: &RawInventory,
    base: &Path,
    ssh_files: bool,
) -> Result<Vec<Host>> {
    let group_conn = raw.connection.unwrap_or_default();
    let group_ssh = raw.ssh.clone().unwrap_or_default();
    let group_redis = raw.redis.clone().unwrap_or_default();

    if raw.hosts.is_empty() {
        return Err(v.err(&[&[K("hosts")]], "the inventory lists no hosts"));
    }

    let mut hosts = Vec::new();
    for (i, h) in raw.hosts.iter().enumerate() {
        let cx = HostCx {
            v,
            i,
            name: &h.name,
            base,
        };
        let connection = h.connection.unwrap_or(group_conn);
        hosts.push(host(
            &cx,
            h,
            connection,
            &group_ssh,
            &group_redis,
            ssh_files,
        )?);
    }
    Ok(hosts)
}

/// The host being resolved: where errors about it point and what its paths are relative to.
struct HostCx<'a> {
    v: &'a Validator<'a>,
    /// Its index in `hosts:`.
    i: usize,
    name: &'a str,
    /// The inventory file's folder.
    base: &'a Path,
}

impl HostCx<'_> {
    /// Where an error about `section.key` points: the host's own key if written, else the
    /// group's, else the host's entry.
    fn at(&self, section: &'static str, key: &'static str) -> Vec<Vec<Seg>> {
        vec![
            vec![K("hosts"), I(self.i), K(section), K(key)],
            vec![K(section), K(key)],
            vec![K("hosts"), I(self.i)],
        ]
    }
}

/// One host: name and address, then `ssh:`, then `redis:`, the host's own keys over the
/// group's. `connection` is already resolved (the host's, else the group's, else ssh).
fn host(
    cx: &HostCx,
    h: &RawHost,
    connection: Connection,
    group_ssh: &RawSsh,
    group_redis: &RawRedis,
    ssh_files: bool,
) -> Result<Host> {
    let hs = h.ssh.clone().unwrap_or_default();
    let hr = h.redis.clone().unwrap_or_default();
    name_and_address(cx, h, connection)?;
    let ssh = ssh_settings(cx, &hs, group_ssh, connection, ssh_files)?;
    let redis = redis_settings(cx, &hr, group_redis, connection)?;
    Ok(Host {
        name: h.name.clone(),
        address: h.address.clone(),
        role: h.role,
        connection,
        ssh,
        redis,
    })
}

/// The host's name is non-empty without whitespace or control characters; its address is an
/// IP address or a DNS name, and a loopback address when the host has `connection: local`.
fn name_and_address(cx: &HostCx, h: &RawHost, connection: Connection) -> Result<()> {
    let (v, i) = (cx.v, cx.i);
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
    Ok(())
}

/// The `ssh:` settings, `hs` (the host's) over `group` over the defaults: port 22 (1-65535),
/// no identity file (the ssh-agent), `~/.ssh/known_hosts`, accept-new, a connect timeout of 5
/// seconds (more than 0, at most 600), user `$USER` else root. Paths resolve with
/// [`resolve_local_path`]. When `ssh_files` and the host connects over SSH, a named identity
/// file must exist.
fn ssh_settings(
    cx: &HostCx,
    hs: &RawSsh,
    group_ssh: &RawSsh,
    connection: Connection,
    ssh_files: bool,
) -> Result<SshSettings> {
    let v = cx.v;
    let ssh_port = hs.port.or(group_ssh.port).unwrap_or(22);
    let ssh_port = check_port(ssh_port).ok_or_else(|| {
        v.err_at(
            &cx.at("ssh", "port"),
            format!(
                "host {}: bad ssh port {ssh_port}: expected 1-65535",
                cx.name
            ),
        )
    })?;
    let identity_file = hs
        .identity_file
        .clone()
        .or(group_ssh.identity_file.clone())
        .map(|p| resolve_local_path(cx.base, &p));
    if connection == Connection::Ssh && ssh_files {
        if let Some(id) = &identity_file {
            if !id.is_file() {
                return Err(v.err_at(
                    &cx.at("ssh", "identity_file"),
                    format!(
                        "host {}: identity file {} does not exist (fix the path, or remove identity_file to use the ssh-agent)",
                        cx.name,
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
        .map(|p| resolve_local_path(cx.base, &p))
        .unwrap_or_else(|| home_dir().join(".ssh/known_hosts"));
    let timeout = hs
        .connect_timeout
        .or(group_ssh.connect_timeout)
        .unwrap_or(5.0);
    if !(timeout > 0.0 && timeout <= 600.0) {
        return Err(v.err_at(
            &cx.at("ssh", "connect_timeout"),
            format!(
                "host {}: connect_timeout must be between 0 and 600 seconds",
                cx.name
            ),
        ));
    }
    let user = hs
        .user
        .clone()
        .or(group_ssh.user.clone())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "root".to_string());
    Ok(SshSettings {
        user,
        port: ssh_port,
        identity_file,
        known_hosts,
        host_key_checking: hs
            .host_key_checking
            .or(group_ssh.host_key_checking)
            .unwrap_or_default(),
        connect_timeout: std::time::Duration::from_secs_f64(timeout),
    })
}

/// The `redis:` settings, `hr` (the host's) over `group` over the defaults, checked in this
/// order: port (6379; 1-65535), [`bind`], [`password`], [`install_dir`], then the binary to
/// upload (made absolute; whether it exists is deploy's business) and [`config_directives`].
fn redis_settings(
    cx: &HostCx,
    hr: &RawRedis,
    group_redis: &RawRedis,
    connection: Connection,
) -> Result<RedisSettings> {
    let port = hr.port.or(group_redis.port).unwrap_or(6379);
    let port = check_port(port).ok_or_else(|| {
        cx.v.err_at(
            &cx.at("redis", "port"),
            format!("host {}: bad redis port {port}: expected 1-65535", cx.name),
        )
    })?;
    let bind = bind(cx, hr, group_redis)?;
    let password = password(cx, hr, group_redis)?;
    let install_dir = install_dir(cx, hr, group_redis, connection)?;
    let server_binary = hr
        .binary
        .clone()
        .or(group_redis.binary.clone())
        .map(|b| absolutize(&resolve_local_path(cx.base, &b)));
    let config = config_directives(cx, hr, group_redis)?;
    Ok(RedisSettings {
        port,
        bind,
        password,
        install_dir,
        server_binary,
        config,
        user: None,
        replication: None,
    })
}

/// `bind` (default `0.0.0.0`): one line of IP addresses separated by spaces, each optionally
/// prefixed with `-` (as redis.conf allows), or `*`.
fn bind(cx: &HostCx, hr: &RawRedis, group_redis: &RawRedis) -> Result<String> {
    let v = cx.v;
    let bind = hr
        .bind
        .clone()
        .or(group_redis.bind.clone())
        .unwrap_or_else(|| "0.0.0.0".to_string());
    if bind.trim().is_empty() || bind.chars().any(|c| c.is_control()) {
        return Err(v.err_at(
            &cx.at("redis", "bind"),
            format!(
                "host {}: bind must be one line of IP addresses separated by spaces, not {bind:?}",
                cx.name
            ),
        ));
    }
    for b in bind.split_whitespace() {
        let b = b.trim_start_matches('-');
        if b != "*" && b.parse::<IpAddr>().is_err() {
            return Err(v.err_at(
                &cx.at("redis", "bind"),
                format!(
                    "host {}: bad bind address {b:?}: expected IP addresses",
                    cx.name
                ),
            ));
        }
    }
    Ok(bind)
}

/// The password, from `password` or from the environment variable `password_env` names (set
/// and non-empty), or none. The two keys go together: when the host's `redis:` has either, the
/// group's are not looked at, and having both is an error. The password must be non-empty and
/// free of control characters (it is written into the config on one line).
fn password(cx: &HostCx, hr: &RawRedis, group_redis: &RawRedis) -> Result<Option<String>> {
    let (v, i) = (cx.v, cx.i);
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
                    cx.name
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
                        cx.name
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
                    cx.name
                ),
            ));
        }
    }
    Ok(password)
}

/// `install_dir` (default `/usr/local/bin/redis`): an absolute path without whitespace or
/// shell characters, returned without a trailing `/`. For `connection: local` a relative path
/// is allowed and made absolute against the inventory's folder.
fn install_dir(
    cx: &HostCx,
    hr: &RawRedis,
    group_redis: &RawRedis,
    connection: Connection,
) -> Result<String> {
    let install_dir = hr
        .install_dir
        .clone()
        .or(group_redis.install_dir.clone())
        .unwrap_or_else(|| "/usr/local/bin/redis".to_string());
    let install_dir = if connection == Connection::Local && !install_dir.starts_with('/') {
        let p = resolve_local_path(cx.base, &install_dir);
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
        return Err(cx.v.err_at(
            &cx.at("redis", "install_dir"),
            format!(
                "host {}: install_dir must be an absolute path without spaces or shell characters, not {install_dir:?}",
                cx.name
            ),
        ));
    }
    Ok(install_dir.trim_end_matches('/').to_string())
}

/// The `config:` directives, the host's entries merged over the group's, in name order; a
/// list value gives the directive once per item. A name is lowercase letters, digits and `-`,
/// not one of the [`MANAGED`] directives; a value is a one-line string, number or boolean
/// (booleans as yes/no).
fn config_directives(
    cx: &HostCx,
    hr: &RawRedis,
    group_redis: &RawRedis,
) -> Result<Vec<(String, String)>> {
    let (v, i) = (cx.v, cx.i);
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
                format!("host {}: bad config directive name {k:?}", cx.name),
            ));
        }
        if MANAGED.contains(&k.as_str()) {
            return Err(v.err_at(
                &cpath(),
                format!(
                    "host {}: config directive `{k}` is written by tripod itself; set it through redis.port, redis.bind, redis.password or redis.install_dir instead",
                    cx.name
                ),
            ));
        }
        let values = match &val {
            serde_yaml::Value::Sequence(items) => items.iter().map(scalar).collect(),
            other => vec![scalar(other)],
        };
        for value in values {
            match value {
                Some(s) if !s.contains('\n') && !s.contains('\r') => config.push((k.clone(), s)),
                _ => {
                    return Err(v.err_at(
                        &cpath(),
                        format!(
                            "host {}: config directive `{k}` needs a one-line value (a string, number or boolean)",
                            cx.name
                        ),
                    ))
                }
            }
        }
    }
    Ok(config)
}

// ---- across hosts ----

/// Exactly one host has `role: master` (with two or more, the error points at the second
/// one's role) and at least one has `role: replica`.
pub(super) fn roles(v: &Validator, hosts: &[Host]) -> Result<()> {
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
    Ok(())
}

/// No two hosts share a name, and no two share an endpoint: the same address (IP addresses
/// compared as addresses, names case-insensitively) and redis port. Host by host in file
/// order, the error at the later of the two.
pub(super) fn unique_hosts(v: &Validator, hosts: &[Host]) -> Result<()> {
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
    Ok(())
}

// ---- group-level keys ----

/// The cluster name (default `tripod`), a plain word: see [`valid_cluster_name`].
pub(super) fn cluster(v: &Validator, cluster: Option<&str>) -> Result<String> {
    let cluster = cluster.map_or_else(|| "tripod".to_string(), str::to_string);
    if !valid_cluster_name(&cluster) {
        return Err(v.err_at(
            &[vec![K("cluster")]],
            format!(
                "bad cluster name {cluster:?}: use 1-64 letters, digits, '-', '_' or '.' (it is written into every config and is Sentinel's master name)"
            ),
        ));
    }
    Ok(cluster)
}

/// The `templates:` folder, resolved with [`resolve_local_path`]; when given it must hold a
/// `redis.conf.j2`.
pub(super) fn templates_dir(
    v: &Validator,
    templates: Option<&str>,
    base: &Path,
) -> Result<Option<PathBuf>> {
    let templates_dir = templates.map(|t| resolve_local_path(base, t));
    if let Some(dir) = &templates_dir {
        if !dir.join("redis.conf.j2").is_file() {
            return Err(v.err_at(
                &[vec![K("templates")]],
                format!("templates folder {} has no redis.conf.j2", dir.display()),
            ));
        }
    }
    Ok(templates_dir)
}

// ---- helpers ----

/// A cluster name is rendered into the first line of every config and used as Sentinel's
/// master name, so it is a plain word: letters, digits, `-`, `_` and `.`, at most 64.
fn valid_cluster_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A YAML scalar as a config value: strings as written, numbers in decimal, booleans as
/// yes/no; None for anything else (null, a mapping, a nested list).
fn scalar(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_string()),
        _ => None,
    }
}

/// `p` as a TCP port, when it is one (1-65535).
pub(super) fn check_port(p: i64) -> Option<u16> {
    if (1..=65535).contains(&p) {
        Some(p as u16)
    } else {
        None
    }
}

/// An IPv4 or IPv6 address, or a DNS name.
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

/// The address in one spelling, to compare endpoints: an IP address as Rust prints it, a
/// name in lowercase.
pub(super) fn canonical_address(a: &str) -> String {
    match a.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => a.to_ascii_lowercase(),
    }
}

/// `~/x` is under $HOME; a relative path is relative to the inventory file's folder.
pub(super) fn resolve_local_path(base: &Path, p: &str) -> PathBuf {
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

/// `p` as an absolute path (relative to the working directory), `.` and `..` dropped
/// lexically.
pub(super) fn absolutize(p: &Path) -> PathBuf {
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

/// A server that listens beyond loopback without a password lets anyone who reaches the port
/// run REPLICAOF, FLUSHALL or SHUTDOWN (the template turns protected mode off, as the source
/// document does). Refused unless the inventory says `allow_no_password: true`; the error points
/// at the host's bind (or its entry) and says what to add.
pub(super) fn no_open_passwordless(v: &Validator, hosts: &[Host], allowed: bool) -> Result<()> {
    if allowed {
        return Ok(());
    }
    for (i, h) in hosts.iter().enumerate() {
        if h.redis.password.is_none() && h.redis.binds_beyond_loopback() {
            return Err(v.err_at(
                &[
                    vec![K("hosts"), I(i), K("redis"), K("bind")],
                    vec![K("redis"), K("bind")],
                    vec![K("redis")],
                    vec![K("hosts"), I(i)],
                ],
                format!(
                    "host {}: the server would listen on {} without a password, so anyone who reaches the port \
                     can read, change or delete the data; set redis.password (or password_env), bind it to 127.0.0.1, \
                     or add `allow_no_password: true` at the top of the inventory to accept that",
                    h.name, h.redis.bind
                ),
            ));
        }
    }
    Ok(())
}
