//! The optional `sentinel:` section: Redis Sentinel on some or all hosts of the group, watching
//! the master under the name `cluster`. Resolved and checked after the hosts, in this order:
//! the hosts that run a Sentinel, the program (`binary` or `command`), each Sentinel's port
//! (a host's own `sentinel.port` over the section's over 26379) and its endpoint, the quorum and
//! timings, and one password for the whole group (Sentinel authenticates to every node with
//! one `auth-pass`). An even number of Sentinels is allowed with a warning.
use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::locate::Validator;
use super::raw::{RawInventory, RawSentinel};
use super::validate::{absolutize, canonical_address, check_port, resolve_local_path};
use super::{Host, Seg, Sentinel, SentinelNode, SentinelProgram};
use crate::cli::error::Result;
use Seg::{Index as I, Key as K};

/// Sentinel's default port.
const DEFAULT_PORT: i64 = 26379;
/// The largest timing accepted, in milliseconds (one day).
const MAX_MS: i64 = 86_400_000;

/// Resolves `raw_s` (the `sentinel:` section of `raw`) against the validated `hosts`; the
/// first problem is a usage error at its key's file:line:column. Warnings (an even number of
/// Sentinels, a single one) are pushed to `warnings` with their location.
pub(super) fn resolve(
    v: &Validator,
    raw_s: &RawSentinel,
    raw: &RawInventory,
    hosts: &[Host],
    base: &Path,
    warnings: &mut Vec<String>,
) -> Result<Sentinel> {
    let names = sentinel_hosts(v, raw_s, hosts)?;
    let program = program(v, raw_s, base)?;
    let nodes = nodes(v, raw_s, raw, hosts, &names)?;
    let n = nodes.len() as i64;
    let quorum = raw_s.quorum.unwrap_or(n / 2 + 1);
    if !(1..=n).contains(&quorum) {
        return Err(v.err(
            &[&[K("sentinel"), K("quorum")]],
            format!(
                "sentinel quorum {quorum}: it must be between 1 and the number of Sentinels ({n})"
            ),
        ));
    }
    let ms = |key: &'static str, value: Option<i64>, default: i64| -> Result<u64> {
        let x = value.unwrap_or(default);
        if !(1..=MAX_MS).contains(&x) {
            return Err(v.err(
                &[&[K("sentinel"), K(key)]],
                format!("sentinel {key} {x}: expected milliseconds between 1 and {MAX_MS}"),
            ));
        }
        Ok(x as u64)
    };
    let down_after_ms = ms("down_after_ms", raw_s.down_after_ms, 5000)?;
    let failover_timeout_ms = ms("failover_timeout_ms", raw_s.failover_timeout_ms, 60000)?;
    let parallel_syncs = raw_s.parallel_syncs.unwrap_or(1);
    if !(1..=1000).contains(&parallel_syncs) {
        return Err(v.err(
            &[&[K("sentinel"), K("parallel_syncs")]],
            format!("sentinel parallel_syncs {parallel_syncs}: expected 1 to 1000"),
        ));
    }
    one_password(v, hosts)?;
    if n % 2 == 0 {
        let at = v.err(&[&[K("sentinel"), K("hosts")], &[K("sentinel")]], "");
        warnings.push(format!(
            "{}warning: {n} Sentinels: a failover needs a majority of them ({}) to agree, so an even number \
             tolerates no more failures than one Sentinel less; use an odd number",
            at.message,
            n / 2 + 1
        ));
    } else if n == 1 {
        let at = v.err(&[&[K("sentinel"), K("hosts")], &[K("sentinel")]], "");
        warnings.push(format!(
            "{}warning: one Sentinel: if its host fails, nothing fails the master over; use three",
            at.message
        ));
    }
    Ok(Sentinel {
        quorum: quorum as u32,
        down_after_ms,
        failover_timeout_ms,
        parallel_syncs: parallel_syncs as u32,
        program,
        nodes,
    })
}

/// The names in `sentinel.hosts` (each a host of the group, once), else every host.
fn sentinel_hosts(v: &Validator, raw_s: &RawSentinel, hosts: &[Host]) -> Result<Vec<String>> {
    let Some(list) = &raw_s.hosts else {
        return Ok(hosts.iter().map(|h| h.name.clone()).collect());
    };
    if list.is_empty() {
        return Err(v.err(
            &[&[K("sentinel"), K("hosts")]],
            "sentinel hosts is empty: list the hosts that run a Sentinel, or leave it out for every host",
        ));
    }
    let mut seen = HashSet::new();
    for (i, name) in list.iter().enumerate() {
        let at = [
            vec![K("sentinel"), K("hosts"), I(i)],
            vec![K("sentinel"), K("hosts")],
        ];
        if !hosts.iter().any(|h| &h.name == name) {
            return Err(v.err_at(
                &at,
                format!(
                    "sentinel hosts: no host is named {name:?}; the hosts are {}",
                    hosts
                        .iter()
                        .map(|h| h.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !seen.insert(name.clone()) {
            return Err(v.err_at(&at, format!("sentinel hosts: {name} is listed twice")));
        }
    }
    Ok(list.clone())
}

/// Exactly one of `binary` (made absolute; whether it exists is deploy's business) and
/// `command` (one line of words).
fn program(v: &Validator, raw_s: &RawSentinel, base: &Path) -> Result<SentinelProgram> {
    match (&raw_s.binary, &raw_s.command) {
        (Some(_), Some(_)) => Err(v.err(
            &[&[K("sentinel"), K("command")]],
            "sentinel: set either binary (a file uploaded to the hosts) or command (already on the hosts), not both",
        )),
        (None, None) => Err(v.err(
            &[&[K("sentinel")]],
            "sentinel: set binary (a redis-sentinel executable on this machine, uploaded to the hosts) \
             or command (e.g. redis-sentinel, already installed on the hosts)",
        )),
        (Some(b), None) => {
            if b.trim().is_empty() {
                return Err(v.err(&[&[K("sentinel"), K("binary")]], "sentinel binary is empty"));
            }
            Ok(SentinelProgram::Upload(absolutize(&resolve_local_path(base, b))))
        }
        (None, Some(c)) => {
            let words: Vec<String> = c.split_whitespace().map(str::to_string).collect();
            if words.is_empty() || c.chars().any(|ch| ch.is_control()) {
                return Err(v.err(
                    &[&[K("sentinel"), K("command")]],
                    "sentinel command must be one non-empty line, e.g. redis-sentinel",
                ));
            }
            Ok(SentinelProgram::Command(words))
        }
    }
}

/// One node per Sentinel host, with its port; no two Sentinels share an endpoint, and none
/// takes a data node's endpoint. A host's own `sentinel:` is only allowed on a Sentinel host.
fn nodes(
    v: &Validator,
    raw_s: &RawSentinel,
    raw: &RawInventory,
    hosts: &[Host],
    names: &[String],
) -> Result<Vec<SentinelNode>> {
    let mut nodes = Vec::new();
    let mut endpoints: HashMap<(String, u16), String> = hosts
        .iter()
        .map(|h| {
            (
                (canonical_address(&h.address), h.redis.port),
                h.name.clone(),
            )
        })
        .collect();
    for (i, (h, rh)) in hosts.iter().zip(&raw.hosts).enumerate() {
        let own = rh.sentinel.as_ref().and_then(|s| s.port);
        let at = vec![
            vec![K("hosts"), I(i), K("sentinel"), K("port")],
            vec![K("sentinel"), K("port")],
            vec![K("hosts"), I(i)],
        ];
        if !names.contains(&h.name) {
            if rh.sentinel.is_some() {
                return Err(v.err_at(
                    &[vec![K("hosts"), I(i), K("sentinel")]],
                    format!(
                        "host {} sets sentinel keys but runs no Sentinel (it is not in sentinel.hosts)",
                        h.name
                    ),
                ));
            }
            continue;
        }
        let p = own.or(raw_s.port).unwrap_or(DEFAULT_PORT);
        let port = check_port(p).ok_or_else(|| {
            v.err_at(
                &at,
                format!("host {}: bad sentinel port {p}: expected 1-65535", h.name),
            )
        })?;
        let key = (canonical_address(&h.address), port);
        if let Some(other) = endpoints.insert(key, format!("the Sentinel of {}", h.name)) {
            return Err(v.err_at(
                &at,
                format!(
                    "host {}: its Sentinel would listen on {}:{port}, which {other} uses; give it another port \
                     (hosts[].sentinel: {{ port: N }} sets one host's)",
                    h.name, h.address
                ),
            ));
        }
        nodes.push(SentinelNode {
            host: h.clone(),
            port,
        });
    }
    // Keep the order of `sentinel.hosts`' hosts as in `hosts:` (already so) — nothing to do.
    Ok(nodes)
}

/// Sentinel logs in to every node with one `auth-pass`, and a failover can make any node the
/// master: every host must have the same password (or none).
fn one_password(v: &Validator, hosts: &[Host]) -> Result<()> {
    let first = &hosts[0];
    if let Some(pw) = &first.redis.password {
        // Sentinel 7.0 writes auth-pass and sentinel-pass back into its config unquoted: a
        // space or quote would break its next start.
        if pw
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == '\\')
        {
            return Err(v.err_at(
                &[
                    vec![K("hosts"), I(0), K("redis"), K("password")],
                    vec![K("redis"), K("password")],
                    vec![K("hosts"), I(0), K("redis"), K("password_env")],
                    vec![K("redis"), K("password_env")],
                    vec![K("sentinel")],
                ],
                "with sentinel, the password must not hold spaces, quotes or backslashes: Sentinel writes it back into \
                 its own config unquoted, and would not start again",
            ));
        }
    }
    for (i, h) in hosts.iter().enumerate().skip(1) {
        if h.redis.password != first.redis.password {
            return Err(v.err_at(
                &[
                    vec![K("hosts"), I(i), K("redis"), K("password")],
                    vec![K("hosts"), I(i), K("redis"), K("password_env")],
                    vec![K("hosts"), I(i)],
                ],
                format!(
                    "host {}: with sentinel, every host needs the same password (Sentinel logs in to whichever node is master \
                     with one auth-pass), but {} and {} differ",
                    h.name, first.name, h.name
                ),
            ));
        }
    }
    Ok(())
}
