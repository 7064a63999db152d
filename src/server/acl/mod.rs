//! ACL users (Redis 7.0): the users and their permissions, authentication,
//! the permission check every command passes, the ACL LOG, and the users
//! file (`aclfile`) and `user` config lines.

pub mod categories;
pub mod command_data;
pub mod file;
pub mod keyspec;
pub mod keyspec_info;
pub mod log;
pub mod registry;
pub mod selector;
pub mod user;

use crate::server::client::{Client, ClientKind};
use crate::server::commands::Command;
use crate::server::state::Server;
use selector::Denied;
use std::collections::BTreeMap;
use user::User;

/// The ACL state of a server.
#[derive(Debug)]
pub struct Acl {
    /// Users by name; `default` always exists.
    pub users: BTreeMap<Vec<u8>, User>,
    pub log: log::AclLog,
}

impl Default for Acl {
    fn default() -> Self {
        Acl::new()
    }
}

impl Acl {
    /// Only the `default` user (on nopass ~* &* +@all).
    pub fn new() -> Self {
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), User::default_user());
        Acl {
            users,
            log: log::AclLog::default(),
        }
    }

    /// The default user.
    pub fn default_user(&self) -> &User {
        self.users.get(&b"default"[..]).expect("default user")
    }

    /// requirepass: the default user gets exactly this password, or nopass
    /// when None (Redis's ACLUpdateDefaultUserPassword).
    pub fn set_requirepass(&mut self, pass: Option<&[u8]>) {
        let u = self.users.get_mut(&b"default"[..]).expect("default user");
        u.nopass = false;
        u.passwords.clear();
        match pass {
            Some(p) => u.passwords.push(user::hash_password(p)),
            None => u.nopass = true,
        }
    }

    /// Whether a client must authenticate before running commands: the
    /// default user has passwords or is off.
    pub fn auth_required(&self) -> bool {
        let d = self.default_user();
        !d.nopass || !d.enabled
    }

    /// Whether `name`/`pass` authenticate: the user exists, is on, and the
    /// password is one of its own (or it is nopass).
    pub fn check_credentials(&self, name: &[u8], pass: &[u8]) -> bool {
        self.users
            .get(name)
            .is_some_and(|u| u.enabled && u.password_ok(pass))
    }
}

/// The reason word of a denial in ACL LOG.
fn reason_of(d: Denied) -> &'static str {
    match d {
        Denied::Cmd => "command",
        Denied::Key => "key",
        Denied::Channel => "channel",
    }
}

/// The NOPERM error reply of a denial (Redis's getAclErrorMessage).
pub fn noperm_text(d: Denied, cmd: &Command) -> String {
    match d {
        Denied::Cmd => format!(
            "NOPERM this user has no permissions to run the '{}' command",
            cmd.name
        ),
        Denied::Key => {
            "NOPERM this user has no permissions to access one of the keys used as arguments".into()
        }
        Denied::Channel => {
            "NOPERM this user has no permissions to access one of the channels used as arguments"
                .into()
        }
    }
}

/// The error redis.call raises for a command the script's caller may not run
/// (Redis's scriptVerifyACL texts).
pub fn script_noperm_text(d: Denied) -> &'static str {
    match d {
        Denied::Cmd => "The user executing the script can't run this command or subcommand",
        Denied::Key => {
            "The user executing the script can't access at least one of the keys mentioned in the command"
        }
        Denied::Channel => {
            "The user executing the script can't publish to the channel mentioned in the command"
        }
    }
}

/// The error EXEC gives for a queued command the user may no longer run.
pub fn exec_noperm_text(d: Denied) -> String {
    let reason = match d {
        Denied::Cmd => "no permission to execute the command or subcommand",
        Denied::Key => "no permission to touch the specified keys",
        Denied::Channel => "no permission to access one of the channels used as arguments",
    };
    format!("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {}", reason)
}

/// Checks whether client `c` may run `cmd` with `argv` (Redis's
/// ACLCheckAllPerm). The master link and clients of a user that no longer
/// exists are handled as Redis: the master may do anything, a deleted
/// user nothing.
pub fn check(
    srv: &Server,
    c: &Client,
    cmd: &Command,
    argv: &[Vec<u8>],
) -> Result<(), (Denied, usize)> {
    if c.kind == ClientKind::Master {
        return Ok(());
    }
    let Some(u) = srv.acl.users.get(&c.user) else {
        return Err((Denied::Cmd, 0));
    };
    // The common case (the default user, `+@all ~* &*`) costs no lookups.
    if u.root.allows_everything() {
        return Ok(());
    }
    let id = registry::registry().id_of(cmd);
    u.check(id, argv)
}

/// Whether `c`'s user may read any key with this command (Redis's
/// ACLUserCheckCmdWithUnrestrictedKeyAccess with ACCESS): some selector
/// allows the command and has all keys or a readable `*` pattern. SORT's
/// BY and GET patterns need it. The master link and scripts' inner client
/// (kind other than Normal) always may.
pub fn unrestricted_key_read(srv: &Server, c: &Client, argv: &[Vec<u8>]) -> bool {
    if c.kind != ClientKind::Normal {
        return true;
    }
    let Some(u) = srv.acl.users.get(&c.user) else {
        return false;
    };
    let Ok(cmd) = crate::server::commands::resolve(argv) else {
        return false;
    };
    let id = registry::registry().id_of(cmd);
    std::iter::once(&u.root)
        .chain(u.selectors.iter())
        .any(|s| s.check(id, argv).is_ok() && s.reads_all_keys())
}

/// Adds an ACL LOG entry for a denial (`pos` is the argument at fault for a
/// key or channel) in `context` ("toplevel", "multi", "lua").
pub fn log_denied(
    srv: &mut Server,
    c: &Client,
    cmd: &Command,
    argv: &[Vec<u8>],
    denied: (Denied, usize),
    context: &'static str,
) {
    let object = match denied.0 {
        Denied::Cmd => cmd.name.as_bytes().to_vec(),
        _ => argv.get(denied.1).cloned().unwrap_or_default(),
    };
    let username = c.user.clone();
    add_entry(srv, c, reason_of(denied.0), context, object, username);
}

/// Adds an ACL LOG entry for a failed AUTH (or HELLO AUTH) as `username`;
/// the object is the command name as the client typed it.
pub fn log_auth_failure(srv: &mut Server, c: &Client, typed: &[u8], username: &[u8]) {
    let context = if c.multi.is_some() {
        "multi"
    } else {
        "toplevel"
    };
    add_entry(srv, c, "auth", context, typed.to_vec(), username.to_vec());
}

fn add_entry(
    srv: &mut Server,
    c: &Client,
    reason: &'static str,
    context: &'static str,
    object: Vec<u8>,
    username: Vec<u8>,
) {
    let now = crate::server::util::now_ms();
    let info = c.info_line(now, srv.tracking.clients.get(&c.id));
    let e = log::Entry {
        count: 1,
        reason,
        context,
        object,
        username,
        ctime_ms: crate::server::util::now_ms(),
        client_info: info.trim_end().to_string(),
    };
    let max = srv
        .config
        .get("acllog-max-len")
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    srv.acl.log.add(e, max);
}

/// Whether new users get all channels (acl-pubsub-default allchannels).
pub fn pubsub_default_all(srv: &Server) -> bool {
    srv.config.get("acl-pubsub-default").as_deref() == Some("allchannels")
}

/// Marks for closing every client authenticated as one of `names` (after a
/// user was deleted or replaced). The current client `current`, if among
/// them, is closed once its reply is written. Returns nothing; victims are woken.
pub fn disconnect_users(srv: &mut Server, current: &mut Client, names: &[Vec<u8>]) {
    if names.is_empty() {
        return;
    }
    if current.kind == ClientKind::Normal && names.contains(&current.user) {
        current.close_after_reply = true;
    }
    for c in srv.clients.values_mut() {
        if c.id != current.id && c.kind == ClientKind::Normal && names.contains(&c.user) {
            c.close_asap = true;
            c.wake();
        }
    }
}

/// Disconnects the subscribers of `name` whose subscriptions the user's
/// new permissions no longer allow (Redis's ACLKillPubsubClientsIfNeeded).
pub fn kill_revoked_subscribers(srv: &mut Server, current: &mut Client, name: &[u8]) {
    let Some(u) = srv.acl.users.get(name).cloned() else {
        return;
    };
    let revoked = |c: &Client| {
        c.user == name
            && (c.channels.iter().any(|ch| !u.channel_allowed(ch, false))
                || c.shard_channels
                    .iter()
                    .any(|ch| !u.channel_allowed(ch, false))
                || c.patterns.iter().any(|p| !u.channel_allowed(p, true)))
    };
    if revoked(current) {
        current.close_after_reply = true;
    }
    for c in srv.clients.values_mut() {
        if c.id != current.id && revoked(c) {
            c.close_asap = true;
            c.wake();
        }
    }
}

/// Sets up the users at startup: requirepass for the default user, then
/// the `user` lines of the config or the `aclfile` (both is an error, as in
/// Redis). Err is the message Redis logs before exiting.
pub fn load_at_startup(srv: &mut Server) -> Result<(), String> {
    srv.acl
        .set_requirepass(srv.config.requirepass.clone().as_deref());
    let all = pubsub_default_all(srv);
    let aclfile = srv.config.get("aclfile").unwrap_or_default();
    if !srv.config.acl_users.is_empty() && !aclfile.is_empty() {
        return Err(file::BOTH_ERROR.into());
    }
    if !srv.config.acl_users.is_empty() {
        let users = file::users_from_config(&srv.config.acl_users, all)?;
        let explicit_default = srv.config.acl_users.iter().any(|u| u[0] == b"default");
        let default = srv.acl.default_user().clone();
        srv.acl.users = users;
        if !explicit_default {
            srv.acl.users.insert(b"default".to_vec(), default);
        }
    } else if !aclfile.is_empty() {
        let mut users = file::load_acl_file(&aclfile, all)
            .map_err(|e| format!("Aborting Redis startup because of ACL errors: {}", e))?;
        default_if_missing(&mut users);
        srv.acl.users = users;
    }
    Ok(())
}

/// Adds the `default` user as Redis creates it (on nopass ~* &* +@all) when
/// `users` (an ACL file's) do not define it: Redis then replaces the default
/// user, requirepass included, at startup and on ACL LOAD.
pub fn default_if_missing(users: &mut BTreeMap<Vec<u8>, User>) {
    users
        .entry(b"default".to_vec())
        .or_insert_with(User::default_user);
}
