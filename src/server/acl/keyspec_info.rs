//! COMMAND INFO's key specifications field, written from Redis 7.0's key specs
//! (the same ones the ACL checks use), notes included, in Redis's layout.

use super::keyspec::{Begin, Find, KeySpec};
use crate::server::resp::Reply;

/// Key spec flag names in Redis's order (bit i of KeySpec::flags is NAMES[i]).
const FLAG_NAMES: [&str; 11] = [
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
];

/// The notes Redis 7.0 gives some key specs: (command, spec index, text).
const NOTES: &[(&str, usize, &str)] = &[
    ("bitfield", 0, "This command allows both access and modification of the key"),
    ("eval", 0, "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"),
    ("eval_ro", 0, "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"),
    ("fcall", 0, "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"),
    ("fcall_ro", 0, "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"),
    ("getex", 0, "RW and UPDATE because it changes the TTL"),
    ("pfcount", 0, "RW because it may change the internal representation of the key, and propagate to replicas"),
    ("set", 0, "RW and ACCESS due to the optional `GET` argument"),
    ("sort", 1, "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
    ("sort", 2, "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"),
    ("sort_ro", 1, "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
    ("xadd", 0, "UPDATE instead of INSERT because of the optional trimming feature"),
];

/// Writes the key specs of command `name` (full name, `parent|sub`) as Redis
/// 7.0's COMMAND INFO does: an array of maps with `notes` (when Redis has
/// one), `flags`, `begin_search` and `find_keys`. Returns false, writing
/// nothing, for a command Redis 7.0 does not have.
pub fn write_key_specs(reply: &mut Reply, name: &str) -> bool {
    let Some((_, specs)) = super::registry::redis_facts(name) else {
        return false;
    };
    reply.array(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        write_spec(reply, spec, note(name, i));
    }
    true
}

/// Key spec flags as a set of names in Redis's order (COMMAND INFO's key
/// specs, COMMAND GETKEYSANDFLAGS).
pub fn write_flags(reply: &mut Reply, flags: u16) {
    let names: Vec<&str> = (0..FLAG_NAMES.len())
        .filter(|b| flags & (1 << b) != 0)
        .map(|b| FLAG_NAMES[b])
        .collect();
    reply.set(names.len());
    for n in names {
        reply.simple(n);
    }
}

/// Whether Redis 7.0 marks command `name` movablekeys for its key specs: one
/// of them starts at a keyword or unknown place, or counts its keys from an
/// argument or in an unknown way (Redis's populateCommandMovableKeys).
pub fn movable_keys(name: &str) -> bool {
    super::registry::redis_facts(name).is_some_and(|(_, specs)| {
        specs
            .iter()
            .any(|s| !matches!(s.begin, Begin::Index(_)) || !matches!(s.find, Find::Range(..)))
    })
}

/// Redis's note for spec `i` of `name`, if any.
fn note(name: &str, i: usize) -> Option<&'static str> {
    NOTES
        .iter()
        .find(|(n, j, _)| *n == name && *j == i)
        .map(|(_, _, t)| *t)
}

/// One key spec map.
fn write_spec(reply: &mut Reply, spec: &KeySpec, notes: Option<&str>) {
    reply.map(3 + usize::from(notes.is_some()));
    if let Some(n) = notes {
        reply.bulk(b"notes");
        reply.bulk(n.as_bytes());
    }
    reply.bulk(b"flags");
    write_flags(reply, spec.flags);
    reply.bulk(b"begin_search");
    reply.map(2);
    reply.bulk(b"type");
    match spec.begin {
        Begin::Index(i) => {
            reply.bulk(b"index");
            reply.bulk(b"spec");
            reply.map(1);
            reply.bulk(b"index");
            reply.int(i as i64);
        }
        Begin::Keyword(k, from) => {
            reply.bulk(b"keyword");
            reply.bulk(b"spec");
            reply.map(2);
            reply.bulk(b"keyword");
            reply.bulk(k);
            reply.bulk(b"startfrom");
            reply.int(from as i64);
        }
        Begin::Unknown => {
            reply.bulk(b"unknown");
            reply.bulk(b"spec");
            reply.map(0);
        }
    }
    reply.bulk(b"find_keys");
    reply.map(2);
    reply.bulk(b"type");
    match spec.find {
        Find::Range(last, step, limit) => {
            reply.bulk(b"range");
            reply.bulk(b"spec");
            reply.map(3);
            reply.bulk(b"lastkey");
            reply.int(last as i64);
            reply.bulk(b"keystep");
            reply.int(step as i64);
            reply.bulk(b"limit");
            reply.int(limit as i64);
        }
        Find::Keynum(idx, first, step) => {
            reply.bulk(b"keynum");
            reply.bulk(b"spec");
            reply.map(3);
            reply.bulk(b"keynumidx");
            reply.int(idx as i64);
            reply.bulk(b"firstkey");
            reply.int(first as i64);
            reply.bulk(b"keystep");
            reply.int(step as i64);
        }
        Find::Unknown => {
            reply.bulk(b"unknown");
            reply.bulk(b"spec");
            reply.map(0);
        }
    }
}
