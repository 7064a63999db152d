//! Client-side caching (Redis's tracking.c): which clients read which keys,
//! and the invalidation messages they get when those keys change.
//!
//! - Default mode: a tracking client that runs a read-only command has the
//!   command's keys remembered in the tracking table (key -> client ids). When
//!   a key changes ([`invalidate_key`], called from the server's
//!   key-modification signal), every client in its entry gets an
//!   `invalidate [key]` message and the entry is dropped.
//! - BCAST mode: nothing is remembered; keys changed under a prefix a client
//!   registered are collected and sent once per event-loop round
//!   ([`broadcast`]).
//! - FLUSHDB/FLUSHALL send a null invalidation to every tracking client
//!   ([`invalidate_on_flush`]); `tracking-table-max-keys` evicts table entries
//!   with an invalidation ([`limit_used_slots`]).
//!
//! Messages are RESP3 pushes (`>2 invalidate <keys>`), or, with REDIRECT, go
//! to the redirect client: a push if it speaks RESP3, a `__redis__:invalidate`
//! pub/sub message if it is a RESP2 subscriber. Like Redis, the table is keyed
//! by key name only (not by database).
//!
//! Output for the client whose command is running goes through
//! [`Clients::send`](crate::server::client::Clients::send), which keeps it
//! until the command's reply is written: an invalidation never lands in the
//! middle of a reply, as Redis's pending-invalidation list ensures.

use crate::server::client::Client;
use crate::server::resp::Reply;
use crate::server::state::Server;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The pub/sub channel RESP2 redirect clients receive invalidations on.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// One tracking-enabled client's mode (Redis's CLIENT_TRACKING_* flags,
/// `client_tracking_redirection` and `client_tracking_prefixes`).
#[derive(Debug, Default, Clone)]
pub struct ClientTracking {
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    /// CLIENT CACHING yes (OPTIN) / no (OPTOUT) was given for the next command.
    pub caching: bool,
    pub noloop: bool,
    /// The redirect client disappeared.
    pub broken_redir: bool,
    /// Client id invalidations go to; 0 for the client itself.
    pub redirect: u64,
    /// BCAST prefixes, sorted.
    pub prefixes: BTreeSet<Vec<u8>>,
}

/// A BCAST prefix: the clients registered for it and the keys under it
/// changed since the last broadcast, each with the client that changed it
/// last (None outside a client's command), for NOLOOP.
#[derive(Debug, Default)]
struct Bcast {
    keys: BTreeMap<Vec<u8>, Option<u64>>,
    clients: BTreeSet<u64>,
}

/// The server's tracking state.
#[derive(Debug, Default)]
pub struct Tracking {
    /// Key -> ids of the clients that may cache it.
    table: HashMap<Vec<u8>, HashSet<u64>>,
    /// Sum of the id sets' sizes (INFO tracking_total_items).
    total_items: u64,
    prefixes: BTreeMap<Vec<u8>, Bcast>,
    /// Every client with tracking on, by id.
    pub clients: HashMap<u64, ClientTracking>,
    /// Rounds `limit_used_slots` ended still over the limit (its effort grows).
    timeout_counter: u32,
    /// The client whose command is running (Redis's server.current_client).
    pub current: Option<u64>,
}

impl Tracking {
    /// INFO tracking_total_keys: keys in the tracking table.
    pub fn total_keys(&self) -> usize {
        self.table.len()
    }
    /// INFO tracking_total_items: (key, client) pairs in the table.
    pub fn total_items(&self) -> u64 {
        self.total_items
    }
    /// INFO tracking_total_prefixes: BCAST prefixes registered.
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }
}

/// What an invalidation carries: one key (sent as a one-element array) or
/// protocol already encoded (a BCAST key array, a null after a flush).
enum Payload<'a> {
    Key(&'a [u8]),
    Proto(&'a [u8]),
}

/// Writes an invalidation into a reply buffer: a RESP3 push, or a RESP2
/// `message` on `__redis__:invalidate` to a subscribed redirect client;
/// nothing for a RESP2 client otherwise (RESP2 has no out-of-band replies).
fn render(r: &mut Reply, redirected: bool, subscribed: bool, payload: &Payload) {
    if r.resp3 {
        r.push(2);
        r.bulk(b"invalidate");
    } else if redirected && subscribed {
        r.push(3);
        r.bulk(b"message");
        r.bulk(CHANNEL);
    } else {
        return;
    }
    match payload {
        Payload::Key(k) => {
            r.array(1);
            r.bulk(k);
        }
        Payload::Proto(p) => r.raw(p),
    }
}

/// Sends an invalidation for tracking client `id` (Redis's
/// sendTrackingMessage): to its redirect client if it has one, else to
/// itself. A redirect client that is gone marks the redirection broken and,
/// for a RESP3 client, sends it `tracking-redir-broken <id>` instead.
fn send_message(srv: &mut Server, id: u64, payload: &Payload) {
    let redirect = srv.tracking.clients.get(&id).map_or(0, |t| t.redirect);
    if redirect == 0 {
        srv.send_to(id, |r, subscribed| render(r, false, subscribed, payload));
        return;
    }
    if !srv.clients.contains(redirect) {
        if let Some(t) = srv.tracking.clients.get_mut(&id) {
            t.broken_redir = true;
        }
        srv.send_to(id, |r, _| {
            if r.resp3 {
                r.push(2);
                r.bulk(b"tracking-redir-broken");
                r.int(redirect as i64);
            }
        });
        return;
    }
    srv.send_to(redirect, |r, subscribed| {
        render(r, true, subscribed, payload)
    });
}

/// Ids in the order Redis's radix tree of raw (little-endian) ids yields them.
fn rax_order(ids: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut v: Vec<u64> = ids.into_iter().collect();
    v.sort_by_key(|id| id.to_le_bytes());
    v
}

/// A key changed (Redis's trackingInvalidateKey): clients that may cache it
/// get an invalidation and its table entry goes. With `bcast`, the key is
/// also collected for the BCAST prefixes it falls under, remembering
/// `modifier` (the client that changed it, None for expiry and eviction)
/// for NOLOOP. A NOLOOP client is not told about its own changes.
pub fn invalidate_key(srv: &mut Server, key: &[u8], bcast: bool, modifier: Option<u64>) {
    if bcast && !srv.tracking.prefixes.is_empty() {
        for (p, b) in srv.tracking.prefixes.iter_mut() {
            if key.starts_with(p) {
                b.keys.insert(key.to_vec(), modifier);
            }
        }
    }
    if srv.tracking.table.is_empty() {
        return;
    }
    let Some(ids) = srv.tracking.table.remove(key) else {
        return;
    };
    srv.tracking.total_items -= ids.len() as u64;
    let current = srv.tracking.current;
    for id in rax_order(ids) {
        let Some(t) = srv.tracking.clients.get(&id) else {
            continue;
        };
        if t.bcast || (t.noloop && current == Some(id)) {
            continue;
        }
        send_message(srv, id, &Payload::Key(key));
    }
}

/// The databases were flushed (Redis's trackingInvalidateKeysOnFlush): every
/// tracking client gets a null invalidation ("everything") and the tracking
/// table is emptied.
pub fn invalidate_on_flush(srv: &mut Server) {
    for id in srv
        .tracking
        .clients
        .keys()
        .copied()
        .collect::<BTreeSet<u64>>()
    {
        let null: &[u8] = if srv.clients.resp3_of(id) {
            b"_\r\n"
        } else {
            b"$-1\r\n"
        };
        send_message(srv, id, &Payload::Proto(null));
    }
    srv.tracking.table.clear();
    srv.tracking.total_items = 0;
}

/// After a read-only command of a tracking client in default mode (Redis's
/// trackingRememberKeys): remembers the command's keys for it, unless OPTIN
/// without CLIENT CACHING yes, or OPTOUT with CLIENT CACHING no.
pub fn remember_keys(srv: &mut Server, id: u64, argv: &[Vec<u8>], positions: &[usize]) {
    let Some(t) = srv.tracking.clients.get(&id) else {
        return;
    };
    if t.bcast || (t.optin && !t.caching) || (t.optout && t.caching) {
        return;
    }
    for &p in positions {
        let Some(key) = argv.get(p) else { continue };
        if srv
            .tracking
            .table
            .entry(key.clone())
            .or_default()
            .insert(id)
        {
            srv.tracking.total_items += 1;
        }
    }
}

/// Sends the keys collected under each BCAST prefix to the prefix's clients
/// and starts collecting afresh (Redis does it before sleeping; tripod after
/// each batch of requests and in the cron). A NOLOOP client does not get the
/// keys it changed itself, and nothing when that leaves none.
pub fn broadcast(srv: &mut Server) {
    if srv.tracking.prefixes.values().all(|b| b.keys.is_empty()) {
        return;
    }
    let mut sends: Vec<(u64, Vec<u8>)> = Vec::new();
    for b in srv.tracking.prefixes.values_mut() {
        if b.keys.is_empty() {
            continue;
        }
        let keys = std::mem::take(&mut b.keys);
        let all = key_array(&keys, None);
        for &id in &b.clients {
            let noloop = srv.tracking.clients.get(&id).is_some_and(|t| t.noloop);
            if noloop {
                if let Some(p) = key_array(&keys, Some(id)) {
                    sends.push((id, p));
                }
            } else if let Some(p) = &all {
                sends.push((id, p.clone()));
            }
        }
    }
    for (id, proto) in sends {
        send_message(srv, id, &Payload::Proto(&proto));
    }
}

/// The array of `keys` as RESP (Redis's trackingBuildBroadcastReply),
/// leaving out those last changed by `skip`; None when that leaves none.
fn key_array(keys: &BTreeMap<Vec<u8>, Option<u64>>, skip: Option<u64>) -> Option<Vec<u8>> {
    let kept: Vec<&Vec<u8>> = keys
        .iter()
        .filter(|(_, by)| skip.is_none() || **by != skip)
        .map(|(k, _)| k)
        .collect();
    if kept.is_empty() && skip.is_some() {
        return None;
    }
    let mut r = Reply::new();
    r.array(kept.len());
    for k in kept {
        r.bulk(k);
    }
    Some(r.buf)
}

/// `tracking-table-max-keys` (Redis's trackingLimitUsedSlots): while the
/// table holds more keys than allowed, entries are dropped with an
/// invalidation to their clients, up to 100 per call times the number of
/// calls in a row that ended still over the limit.
pub fn limit_used_slots(srv: &mut Server) {
    let max = srv.config.tracking_table_max_keys as usize;
    if max == 0 || srv.tracking.clients.is_empty() {
        return;
    }
    if srv.tracking.table.len() <= max {
        srv.tracking.timeout_counter = 0;
        return;
    }
    let effort = 100 * (srv.tracking.timeout_counter as usize + 1);
    let excess = srv.tracking.table.len() - max;
    let victims: Vec<Vec<u8>> = srv
        .tracking
        .table
        .keys()
        .take(excess.min(effort))
        .cloned()
        .collect();
    for k in victims {
        invalidate_key(srv, &k, false, None);
    }
    if srv.tracking.table.len() <= max {
        srv.tracking.timeout_counter = 0;
    } else {
        srv.tracking.timeout_counter += 1;
    }
}

/// Turns tracking on for `c` with the given mode (Redis's enableTracking).
/// Calling it again keeps the CACHING flag and adds BCAST prefixes.
pub fn enable(srv: &mut Server, c: &Client, mode: ClientTracking, prefixes: &[Vec<u8>]) {
    let t = srv.tracking.clients.entry(c.id).or_default();
    t.broken_redir = false;
    t.redirect = mode.redirect;
    t.bcast = mode.bcast;
    t.optin = mode.optin;
    t.optout = mode.optout;
    t.noloop = mode.noloop;
    if mode.bcast {
        let empty = [Vec::new()];
        let list: &[Vec<u8>] = if prefixes.is_empty() {
            &empty
        } else {
            prefixes
        };
        for p in list {
            let b = srv.tracking.prefixes.entry(p.clone()).or_default();
            if b.clients.insert(c.id) {
                t.prefixes.insert(p.clone());
            }
        }
    }
}

/// Turns tracking off for client `id` (Redis's disableTracking): it leaves
/// its BCAST prefixes (a prefix without clients goes) and loses its mode.
/// Its entries in the tracking table stay until the keys change, as in Redis.
pub fn disable(srv: &mut Server, id: u64) {
    let Some(t) = srv.tracking.clients.remove(&id) else {
        return;
    };
    for p in &t.prefixes {
        if let Some(b) = srv.tracking.prefixes.get_mut(p) {
            b.clients.remove(&id);
            if b.clients.is_empty() {
                srv.tracking.prefixes.remove(p);
            }
        }
    }
}

/// Whether two prefixes overlap (one starts with the other).
fn overlap(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// Checks new BCAST prefixes against the client's own and each other
/// (Redis's checkPrefixCollisionsOrReply). Returns the error, and whether
/// Redis would still go on to enable tracking after replying it (its check
/// of the provided prefixes among themselves returns the prefix's index,
/// which counts as success for any but the first).
pub fn prefix_collision(srv: &Server, id: u64, new: &[Vec<u8>]) -> Option<(String, bool)> {
    let lossy = |b: &[u8]| {
        let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    let own = srv.tracking.clients.get(&id).map(|t| &t.prefixes);
    for (i, p) in new.iter().enumerate() {
        if let Some(own) = own {
            if let Some(o) = own.iter().find(|o| overlap(o, p)) {
                return Some((
                    format!(
                        "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                        lossy(p),
                        lossy(o)
                    ),
                    false,
                ));
            }
        }
        for q in &new[i + 1..] {
            if overlap(p, q) {
                return Some((
                    format!(
                        "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                        lossy(p),
                        lossy(q)
                    ),
                    i != 0,
                ));
            }
        }
    }
    None
}

/// After each command of a client (Redis's resetClient): the CACHING flag
/// only lasts for the next command (or transaction), and CLIENT commands
/// (CLIENT CACHING itself) leave it.
pub fn after_command(srv: &mut Server, c: &Client, cmd_name: Option<&str>) {
    if c.multi.is_some() || cmd_name.is_some_and(|n| n == "client" || n.starts_with("client|")) {
        return;
    }
    if let Some(t) = srv.tracking.clients.get_mut(&c.id) {
        t.caching = false;
    }
}
