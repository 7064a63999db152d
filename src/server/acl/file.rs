//! Users from an ACL file (`aclfile`, ACL LOAD / ACL SAVE) and from `user`
//! lines of redis.conf, with Redis 7.0's checks and error texts.

use super::user::{merge_selector_args, User};
use std::collections::BTreeMap;

/// The error Redis gives when both `user` lines and `aclfile` are configured.
pub const BOTH_ERROR: &str = "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.";

/// Builds one user from its rules, as an ACL file line or a config `user`
/// line defines it: a new user (as ACL SETUSER creates it), after `reset`
/// when `reset` (Redis resets only the config's `default`). Err is (index
/// of the bad rule, message).
pub fn build_user(
    name: &[u8],
    rules: &[Vec<u8>],
    all_channels: bool,
    reset: bool,
) -> Result<User, (usize, Vec<u8>, String)> {
    let mut u = User::new(name, all_channels);
    if reset {
        let _ = u.apply(b"reset", all_channels);
    }
    let merged = merge_selector_args(rules).map_err(|s| {
        (
            0,
            s,
            "Unmatched parenthesis in selector definition".to_string(),
        )
    })?;
    for (j, r) in merged.iter().enumerate() {
        u.apply(r, all_channels)
            .map_err(|e| (j, r.clone(), e.text().to_string()))?;
    }
    Ok(u)
}

/// Parses an ACL file's text (Redis's ACLLoadFromFile): one `user <name>
/// rules...` per non-empty line. All errors are collected; Err is Redis's
/// message (without the leading "ERR "). Without a `default` line the
/// caller adds Redis's fresh default user (acl::default_if_missing).
pub fn parse_acl_file(
    path: &str,
    text: &[u8],
    all_channels: bool,
) -> Result<BTreeMap<Vec<u8>, User>, String> {
    let mut users: BTreeMap<Vec<u8>, User> = BTreeMap::new();
    let mut errors = String::new();
    let mut seen = std::collections::HashSet::new();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let line = trim(raw);
        if line.is_empty() {
            continue;
        }
        let Ok(args) = crate::server::util::split_args(line) else {
            errors.push_str(&format!("{}:{}: Syntax error. ", path, n));
            continue;
        };
        if args.len() < 2 || args[0] != b"user" {
            errors.push_str(&format!(
                "{}:{} should start with user keyword followed by the username. ",
                path, n
            ));
            continue;
        }
        if !seen.insert(args[1].clone()) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {}. ",
                String::from_utf8_lossy(&args[1]),
                n
            ));
            continue;
        }
        match build_user(&args[1], &args[2..], all_channels, false) {
            Ok(u) => {
                users.insert(args[1].clone(), u);
            }
            Err((_, _, msg)) if msg.starts_with("Unmatched") => {
                errors.push_str(&format!("{}:{}: {}.", path, n, msg));
            }
            Err((_, op, msg)) => errors.push_str(&format!(
                "{}:{}: Error in applying operation '{}': {}. ",
                path,
                n,
                String::from_utf8_lossy(&op),
                msg
            )),
        }
    }
    if !errors.is_empty() {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        return Err(errors);
    }
    Ok(users)
}

/// Reads and parses an ACL file; Err is Redis's message.
pub fn load_acl_file(path: &str, all_channels: bool) -> Result<BTreeMap<Vec<u8>, User>, String> {
    let text = std::fs::read(path).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{}': {}",
            path,
            strerror(&e)
        )
    })?;
    parse_acl_file(path, &text, all_channels)
}

/// The ACL file text of these users (ACL SAVE): one `user <name> <rules>` line each.
pub fn render(users: &BTreeMap<Vec<u8>, User>) -> String {
    let mut s = String::new();
    for u in users.values() {
        s.push_str("user ");
        s.push_str(&String::from_utf8_lossy(&u.name));
        s.push(' ');
        s.push_str(&u.describe());
        s.push('\n');
    }
    s
}

/// Writes the users to `path` atomically (a temporary file renamed over
/// it), readable by the owner only.
pub fn save_acl_file(path: &str, users: &BTreeMap<Vec<u8>, User>) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = format!("{}.tmp-{}", path, std::process::id());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(render(users).as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Builds the users of redis.conf `user` lines (each: name and rules).
/// Err is Redis's "Error in user declaration '...': ..." message.
pub fn users_from_config(
    lines: &[Vec<Vec<u8>>],
    all_channels: bool,
) -> Result<BTreeMap<Vec<u8>, User>, String> {
    let mut users = BTreeMap::new();
    for args in lines {
        let Some(name) = args.first() else { continue };
        if users.contains_key(name) {
            return Err(format!(
                "Error in user declaration '{}': Duplicate user found. A user can only be defined once in config files",
                String::from_utf8_lossy(name)
            ));
        }
        match build_user(name, &args[1..], all_channels, name == b"default") {
            Ok(u) => {
                users.insert(name.clone(), u);
            }
            Err((j, _, msg)) => {
                let shown = if j == 0 {
                    "user".to_string()
                } else {
                    String::from_utf8_lossy(&args[j - 1]).into_owned()
                };
                return Err(format!("Error in user declaration '{}': {}", shown, msg));
            }
        }
    }
    users
        .entry(b"default".to_vec())
        .or_insert_with(User::default_user);
    Ok(users)
}

fn trim(s: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|b| !is_ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ws(b)).map_or(start, |e| e + 1);
    &s[start..end]
}

/// The C library's text for an I/O error, as Redis prints strerror(errno).
fn strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        // SAFETY: strerror returns a pointer to a static NUL-terminated string.
        Some(n) => unsafe { std::ffi::CStr::from_ptr(libc::strerror(n)) }
            .to_string_lossy()
            .into_owned(),
        None => e.to_string(),
    }
}
