//! The inventory's ACL users applied to a running server, so a change of users takes effect
//! without a restart and a master knows the replication user before its replicas restart to
//! log in with it.
//!
//! What a restart would load from the aclfile, done with ACL commands: every user of
//! `acl.users` is rebuilt in one `ACL SETUSER name reset on #sha256 rules...` (atomic: no
//! moment without the user; a connected client of an unchanged user stays connected, as Redis
//! keeps it), and a user the server has that the inventory no longer declares is deleted with
//! `ACL DELUSER` (Redis disconnects its clients). The default user is left to
//! `redis.password`, whose change restarts the server as before. Nothing is ever printed with a
//! password or its hash in it.
use std::time::Duration;

use super::error::{Error, Result};
use super::inventory::{Acl, Host};
use super::ops::sha256_hex;
use super::probe;

/// How long each ACL command may take.
const T: Duration = Duration::from_secs(5);

/// Applies `acl` to the server of `host` (logged in to as tripod always is, the default user
/// with `redis.password`). Returns whether the server's users changed (ACL LIST before and
/// after differ).
pub async fn apply(host: &Host, acl: &Acl) -> Result<bool> {
    let mut con = probe::connect(host, T).await?;
    let before: Vec<String> = probe::cmd(host, &mut con, redis::cmd("ACL").arg("LIST"), T).await?;
    for u in &acl.users {
        let mut c = redis::cmd("ACL");
        c.arg("SETUSER")
            .arg(&u.name)
            .arg("reset")
            .arg("on")
            .arg(format!("#{}", sha256_hex(u.password.as_bytes())));
        for r in &u.rules {
            c.arg(r);
        }
        let r: probe::ProbeResult<()> = probe::cmd(host, &mut con, &c, T).await;
        r.map_err(|e| {
            Error::failed(format!(
                "host {}: ACL user {}: {}",
                host.name,
                u.name,
                hide_hashes(&e.message)
            ))
        })?;
    }
    let users: Vec<String> = probe::cmd(host, &mut con, redis::cmd("ACL").arg("USERS"), T).await?;
    let gone: Vec<&String> = users
        .iter()
        .filter(|n| *n != "default" && acl.user(n).is_none())
        .collect();
    if !gone.is_empty() {
        let _: i64 = probe::cmd(
            host,
            &mut con,
            redis::cmd("ACL").arg("DELUSER").arg(&gone),
            T,
        )
        .await?;
    }
    let after: Vec<String> = probe::cmd(host, &mut con, redis::cmd("ACL").arg("LIST"), T).await?;
    Ok(before != after)
}

/// `text` with every `#` followed by 64 hex digits (a password hash) replaced by `#********`.
fn hide_hashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(p) = rest.find('#') {
        out.push_str(&rest[..=p]);
        let after = &rest[p + 1..];
        let hex = after.bytes().take_while(|b| b.is_ascii_hexdigit()).count();
        if hex == 64 {
            out.push_str("********");
            rest = &after[64..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_hidden() {
        let h = "a".repeat(64);
        assert_eq!(
            super::hide_hashes(&format!("x '#{h}' y #1")),
            "x '#********' y #1"
        );
    }
}
