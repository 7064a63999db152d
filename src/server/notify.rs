//! Keyspace notifications (Redis's notify.c): a key's change is published on
//! `__keyspace@<db>__:<key>` (message: the event name) and on
//! `__keyevent@<db>__:<event>` (message: the key), through pub/sub, when the
//! `notify-keyspace-events` classes select the event's class.
//!
//! Handlers call [`notify`] right after the write it describes, with the same
//! class and event name Redis 7.0 uses; when notifications are off it costs
//! one flag test.

use crate::server::state::Server;

/// `g`: generic commands (DEL, EXPIRE, RENAME...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: keys that expired.
pub const EXPIRED: u32 = 1 << 8;
/// `e`: keys evicted by maxmemory.
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u32 = 1 << 10;
/// `m`: reads of missing keys (not in `A`).
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module events (none here; kept for the flag string).
pub const MODULE: u32 = 1 << 12;
/// `n`: a key was created (not in `A`).
pub const NEW: u32 = 1 << 13;
/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `A`: every class but key-miss and new.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Parses a `notify-keyspace-events` string into flags (Redis's
/// keyspaceEventsStringToFlags); None on a character outside `AKEg$lshzxetmdn`.
pub fn parse_flags(s: &str) -> Option<u32> {
    let mut flags = 0;
    for ch in s.chars() {
        flags |= match ch {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// The canonical string of a flag set, as CONFIG GET shows it (Redis's
/// keyspaceEventsFlagsToString): `A` when every class of it is set, else the
/// classes in `g$lshzxetdn` order, then `K`, `E` and `m`.
pub fn flags_to_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (f, ch) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & f != 0 {
                s.push(ch);
            }
        }
    }
    for (f, ch) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & f != 0 {
            s.push(ch);
        }
    }
    s
}

/// Is any event of `class` published? The one test a write path pays when
/// notifications are off.
#[inline]
pub fn enabled(srv: &Server, class: u32) -> bool {
    srv.config.notify_flags & class != 0
}

/// Publishes event `event` of class `class` about `key` in database `db`
/// (Redis's notifyKeyspaceEvent): `__keyspace@<db>__:<key>` gets the event
/// name and `__keyevent@<db>__:<event>` gets the key, each when `K` / `E` is
/// configured, and only if `class` is selected. Subscribers receive them as
/// any published message (pushes for RESP3 clients); the client whose command
/// raised the event gets its own after its reply.
pub fn notify(srv: &mut Server, class: u32, event: &str, key: &[u8], db: usize) {
    let flags = srv.config.notify_flags;
    if flags & class == 0 {
        return;
    }
    if srv.channels.is_empty() && srv.patterns.is_empty() {
        return;
    }
    if flags & KEYSPACE != 0 {
        let mut chan = format!("__keyspace@{db}__:").into_bytes();
        chan.extend_from_slice(key);
        crate::server::commands::pubsub::publish_from_server(srv, &chan, event.as_bytes());
    }
    if flags & KEYEVENT != 0 {
        let chan = format!("__keyevent@{db}__:{event}").into_bytes();
        crate::server::commands::pubsub::publish_from_server(srv, &chan, key);
    }
}

/// A key was created (Redis's dbAdd): the `new` event.
#[inline]
pub fn new_key(srv: &mut Server, key: &[u8], db: usize) {
    notify(srv, NEW, "new", key, db);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_strings_normalise_as_redis() {
        assert_eq!(flags_to_string(parse_flags("KEA").unwrap()), "AKE");
        assert_eq!(flags_to_string(parse_flags("Eg$lshzxetd").unwrap()), "AE");
        assert_eq!(flags_to_string(parse_flags("mnEK").unwrap()), "nKEm");
        assert_eq!(flags_to_string(parse_flags("lgK").unwrap()), "glK");
        assert_eq!(flags_to_string(parse_flags("").unwrap()), "");
        assert!(parse_flags("KEAQ").is_none());
    }
}
