//! The optional `acl:` section: the group's ACL users (Redis 6+), rendered into every node's
//! aclfile, and which of them replicas, `tripod status` and `tripod write-test` log in as.
//!
//! Checked after the hosts, in this order: each user (name, password or password_env,
//! rules), unique names, the users named by `replication_user`, `status_user` and
//! `write_test_user`, and no `user` directive in any host's `config:` (Redis refuses `user`
//! lines together with an aclfile). The `default` user stays the one `redis.password` sets; it
//! is not declared here. Passwords never appear in an error: a rule that looks like one is
//! refused without quoting it.
use std::collections::HashSet;

use super::locate::Validator;
use super::raw::{RawAcl, RawAclUser};
use super::{Acl, AclUser, Host, Seg};
use crate::cli::error::Result;
use Seg::{Index as I, Key as K};

/// Rule words that take no argument (Redis 7.0's ACL SETUSER), other than the password ones.
const WORDS: &[&str] = &[
    "on",
    "off",
    "allkeys",
    "resetkeys",
    "allchannels",
    "resetchannels",
    "allcommands",
    "nocommands",
    "clearselectors",
];

/// Rules that set or clear passwords, or reset the user (which clears them): passwords belong
/// in `password`/`password_env`, where tripod hashes them and never prints them.
const PASSWORD_WORDS: &[&str] = &["nopass", "resetpass", "reset"];

/// Resolves `raw_acl` against the validated `hosts`; the first problem is a usage error at its
/// key's file:line:column.
pub(super) fn resolve(v: &Validator, raw_acl: &RawAcl, hosts: &[Host]) -> Result<Acl> {
    let raw_users = raw_acl.users.clone().unwrap_or_default();
    let mut users = Vec::new();
    let mut names = HashSet::new();
    for (i, u) in raw_users.iter().enumerate() {
        let user = user(v, i, u)?;
        if !names.insert(user.name.clone()) {
            return Err(v.err(
                &[&[K("acl"), K("users"), I(i), K("name")]],
                format!(
                    "two ACL users are named {}; names must be unique",
                    user.name
                ),
            ));
        }
        users.push(user);
    }
    let named = |key: &'static str, value: &Option<String>| -> Result<Option<String>> {
        match value {
            Some(n) if !names.contains(n) => Err(v.err(
                &[&[K("acl"), K(key)], &[K("acl")]],
                format!("acl.{key} names {n:?}, which is not one of acl.users"),
            )),
            other => Ok(other.clone()),
        }
    };
    let replication_user = named("replication_user", &raw_acl.replication_user)?;
    let status_user = named("status_user", &raw_acl.status_user)?;
    let write_test_user = named("write_test_user", &raw_acl.write_test_user)?;
    for (i, h) in hosts.iter().enumerate() {
        if h.redis.config.iter().any(|(k, _)| k == "user") {
            return Err(v.err(
                &[
                    &[K("hosts"), I(i), K("redis"), K("config"), K("user")],
                    &[K("redis"), K("config"), K("user")],
                    &[K("acl")],
                ],
                format!(
                    "host {}: `user` directives in config: cannot go with acl: (Redis refuses users in redis.conf together with an aclfile); declare the users under acl.users",
                    h.name
                ),
            ));
        }
    }
    Ok(Acl {
        users,
        replication_user,
        status_user,
        write_test_user,
    })
}

/// One `acl.users` entry: a name Redis accepts (not `default`), exactly one of `password` and
/// `password_env` (set, non-empty, one line), and [`rules`].
fn user(v: &Validator, i: usize, u: &RawAclUser) -> Result<AclUser> {
    let at = |key: &'static str| -> Vec<Vec<Seg>> {
        vec![
            vec![K("acl"), K("users"), I(i), K(key)],
            vec![K("acl"), K("users"), I(i)],
        ]
    };
    if u.name.is_empty() || u.name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(v.err_at(
            &at("name"),
            format!(
                "bad ACL user name {:?}: no spaces or control characters",
                u.name
            ),
        ));
    }
    if u.name == "default" {
        return Err(v.err_at(
            &at("name"),
            "the default user is the one redis.password (or password_env) sets; do not declare it under acl.users",
        ));
    }
    let password = match (&u.password, &u.password_env) {
        (Some(_), Some(_)) => {
            return Err(v.err_at(
                &at("password_env"),
                format!(
                    "ACL user {}: set either password or password_env, not both",
                    u.name
                ),
            ))
        }
        (Some(p), None) => p.clone(),
        (None, Some(var)) => match std::env::var(var) {
            Ok(p) if !p.is_empty() => p,
            _ => {
                return Err(v.err_at(
                    &at("password_env"),
                    format!(
                        "ACL user {}: password_env names the environment variable {var}, which is not set (export {var}=... and run again)",
                        u.name
                    ),
                ))
            }
        },
        (None, None) => {
            return Err(v.err_at(
                &at("name"),
                format!(
                    "ACL user {}: set password or password_env (a user without one cannot log in)",
                    u.name
                ),
            ))
        }
    };
    if password.is_empty() || password.chars().any(|c| c.is_control()) {
        return Err(v.err_at(
            &at("password"),
            format!(
                "ACL user {}: the password must be non-empty and on one line",
                u.name
            ),
        ));
    }
    let rules = rules(v, i, u)?;
    Ok(AclUser {
        name: u.name.clone(),
        password,
        rules,
    })
}

/// The user's rules as words: a string is split on spaces, a list gives its items (each split
/// the same way). Every word must be a Redis 7.0 rule (`+cmd`, `-@cat`, `~pattern`, `%R~pattern`,
/// `&channel`, a keyword such as `allkeys`, selector parentheses balanced); password rules
/// (`>`, `<`, `#`, `!`, nopass, resetpass, reset) are refused, without quoting them.
fn rules(v: &Validator, i: usize, u: &RawAclUser) -> Result<Vec<String>> {
    let at = vec![
        vec![K("acl"), K("users"), I(i), K("rules")],
        vec![K("acl"), K("users"), I(i)],
    ];
    let items: Vec<String> = match &u.rules {
        None | Some(serde_yaml::Value::Null) => Vec::new(),
        Some(serde_yaml::Value::String(s)) => vec![s.clone()],
        Some(serde_yaml::Value::Sequence(items)) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    serde_yaml::Value::String(s) => out.push(s.clone()),
                    _ => {
                        return Err(v.err_at(
                            &at,
                            format!("ACL user {}: every rule must be a string", u.name),
                        ))
                    }
                }
            }
            out
        }
        Some(_) => {
            return Err(v.err_at(
                &at,
                format!(
                    "ACL user {}: rules must be a string of rules separated by spaces, or a list of them",
                    u.name
                ),
            ))
        }
    };
    let mut words = Vec::new();
    let mut depth = 0i32;
    for item in &items {
        if item.chars().any(|c| c.is_control()) {
            return Err(v.err_at(
                &at,
                format!("ACL user {}: rules must be on one line", u.name),
            ));
        }
        for w in item.split_whitespace() {
            let opens = w.len() - w.trim_start_matches('(').len();
            let inner = w.trim_start_matches('(');
            let closes = inner.len() - inner.trim_end_matches(')').len();
            let inner = inner.trim_end_matches(')');
            depth += opens as i32;
            if depth > 1 || (opens > 0 && depth != 1) {
                return Err(v.err_at(
                    &at,
                    format!("ACL user {}: selectors `(...)` cannot nest", u.name),
                ));
            }
            depth -= closes as i32;
            if depth < 0 {
                return Err(v.err_at(
                    &at,
                    format!("ACL user {}: a `)` closes no selector", u.name),
                ));
            }
            if !inner.is_empty() {
                check_rule(inner)
                    .map_err(|why| v.err_at(&at, format!("ACL user {}: {why}", u.name)))?;
            }
            words.push(w.to_string());
        }
    }
    if depth != 0 {
        return Err(v.err_at(
            &at,
            format!("ACL user {}: a selector `(` is not closed", u.name),
        ));
    }
    Ok(words)
}

/// Whether one rule word is one Redis 7.0 accepts in an aclfile line; the error quotes it only
/// when it cannot be a password.
fn check_rule(w: &str) -> std::result::Result<(), String> {
    let lower = w.to_ascii_lowercase();
    if w.starts_with(['>', '<', '#', '!']) || PASSWORD_WORDS.contains(&lower.as_str()) {
        return Err(
            "a rule sets or clears a password; passwords go in password or password_env, where tripod hashes them (the rule is not shown)"
                .to_string(),
        );
    }
    if WORDS.contains(&lower.as_str()) {
        return Ok(());
    }
    let ok = match w.as_bytes()[0] {
        b'+' | b'-' => w.len() > 1 && !w[1..].starts_with('|') && !w.ends_with('|'),
        b'~' | b'&' => true,
        b'%' => {
            let flags = w[1..].split('~').next().unwrap_or("");
            w[1..].contains('~')
                && !flags.is_empty()
                && flags.chars().all(|c| matches!(c, 'R' | 'W' | 'r' | 'w'))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "unknown ACL rule {w:?} (expected +command, -command, +@category, ~pattern, %R~pattern, &channel, allkeys, allchannels, allcommands, nocommands, on, off, ...)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check_rule;

    #[test]
    fn rule_words() {
        for ok in [
            "+get",
            "-@all",
            "+config|get",
            "~app:*",
            "%R~r:*",
            "%RW~x",
            "&ch",
            "allkeys",
            "ON",
        ] {
            assert!(check_rule(ok).is_ok(), "{ok}");
        }
        for bad in ["get", "%X~a", "%~a", "+", "+|x", "allkey"] {
            assert!(check_rule(bad).is_err(), "{bad}");
        }
        let e = check_rule(">s3cret").unwrap_err();
        assert!(!e.contains("s3cret"));
        assert!(check_rule("nopass").is_err());
    }
}
