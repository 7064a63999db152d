//! The inventory file as written: serde structs that mirror the YAML (every key optional that
//! has a default, unknown keys refused), and the deserialisation whose errors carry the
//! file:line:column serde_yaml reports.
use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Connection, HostKeyChecking, Role};
use crate::cli::error::{Error, Result};

/// An `ssh:` section, the group's or a host's (a host's keys override the group's).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSsh {
    pub(super) user: Option<String>,
    pub(super) port: Option<i64>,
    pub(super) identity_file: Option<String>,
    pub(super) known_hosts: Option<String>,
    pub(super) host_key_checking: Option<HostKeyChecking>,
    pub(super) connect_timeout: Option<f64>,
}

/// A `redis:` section, the group's or a host's (a host's keys override the group's; its
/// `config:` entries are merged over the group's).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRedis {
    pub(super) port: Option<i64>,
    pub(super) bind: Option<String>,
    pub(super) password: Option<String>,
    pub(super) password_env: Option<String>,
    pub(super) install_dir: Option<String>,
    /// The server binary to upload, a file on the control machine (for mixed architectures).
    pub(super) binary: Option<String>,
    pub(super) config: Option<BTreeMap<String, serde_yaml::Value>>,
}

/// One entry of `hosts:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHost {
    pub(super) name: String,
    pub(super) address: String,
    pub(super) role: Role,
    pub(super) connection: Option<Connection>,
    pub(super) ssh: Option<RawSsh>,
    pub(super) redis: Option<RawRedis>,
    /// This host's own Sentinel port, over the group's `sentinel.port`.
    pub(super) sentinel: Option<RawHostSentinel>,
}

/// The `sentinel:` section (see DESIGN.md): Redis Sentinel on some or all hosts.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSentinel {
    pub(super) port: Option<i64>,
    pub(super) quorum: Option<i64>,
    pub(super) down_after_ms: Option<i64>,
    pub(super) failover_timeout_ms: Option<i64>,
    pub(super) parallel_syncs: Option<i64>,
    /// A Sentinel executable on the control machine, uploaded to every Sentinel host.
    pub(super) binary: Option<String>,
    /// A command already installed on the hosts (`redis-sentinel`).
    pub(super) command: Option<String>,
    /// The hosts that run a Sentinel (names from `hosts:`); default every host.
    pub(super) hosts: Option<Vec<String>>,
}

/// A host's own `sentinel:` keys.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHostSentinel {
    pub(super) port: Option<i64>,
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInventory {
    pub(super) cluster: Option<String>,
    pub(super) connection: Option<Connection>,
    /// A folder holding the user's own `redis.conf.j2` (relative to the inventory file).
    pub(super) templates: Option<String>,
    pub(super) ssh: Option<RawSsh>,
    pub(super) redis: Option<RawRedis>,
    pub(super) hosts: Vec<RawHost>,
    /// Deploy a group whose servers listen beyond loopback without a password (with a warning).
    pub(super) allow_no_password: Option<bool>,
    /// Redis Sentinel over the group (optional).
    pub(super) sentinel: Option<RawSentinel>,
    /// ACL users rendered into every node's aclfile (optional).
    pub(super) acl: Option<RawAcl>,
}

/// The `acl:` section: the group's ACL users and which of them replication, `status` and
/// `write-test` use.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAcl {
    pub(super) users: Option<Vec<RawAclUser>>,
    /// The user replicas authenticate as (`masteruser`/`masterauth`).
    pub(super) replication_user: Option<String>,
    /// The user `tripod status` authenticates as.
    pub(super) status_user: Option<String>,
    /// The user `tripod write-test` authenticates as.
    pub(super) write_test_user: Option<String>,
}

/// One entry of `acl.users`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAclUser {
    pub(super) name: String,
    pub(super) password: Option<String>,
    pub(super) password_env: Option<String>,
    /// ACL rules: one string of rules separated by spaces, or a list of them.
    pub(super) rules: Option<serde_yaml::Value>,
}

/// Deserialises the inventory text; a syntax error or an unknown or mistyped key is an error
/// at the line and column serde_yaml reports (`file` names the file in it).
pub(super) fn from_yaml(file: &str, text: &str) -> Result<RawInventory> {
    serde_yaml::from_str(text).map_err(|e| {
        let msg = strip_location(&e.to_string());
        match e.location() {
            Some(loc) => Error::usage(format!("{file}:{}:{}: {msg}", loc.line(), loc.column())),
            None => Error::usage(format!("{file}: {msg}")),
        }
    })
}

/// serde_yaml appends " at line L column C"; we print the location as a prefix instead.
fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(pos) => msg[..pos].to_string(),
        None => msg.to_string(),
    }
}
