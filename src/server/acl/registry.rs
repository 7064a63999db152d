//! Every command and subcommand of the table with a small integer id (the
//! bit ACL selectors keep for it), its ACL categories and key specs.

use super::categories;
use super::command_data::COMMANDS as REDIS;
use super::keyspec::{self, KeySpec};
use crate::server::commands::{self as table, Command};
use std::collections::HashMap;
use std::sync::OnceLock;

/// One command as the ACL sees it.
#[derive(Debug)]
pub struct Entry {
    /// Full name (`get`, `config|get`).
    pub name: &'static str,
    /// The command of tripod's table; None for a command only Redis has
    /// (rules may still name it, as in Redis, and ACL CAT lists it).
    pub cmd: Option<&'static Command>,
    /// The parent's id for a subcommand.
    pub parent: Option<usize>,
    /// Ids of the subcommands of a container command.
    pub subs: Vec<usize>,
    /// Category bits (categories.rs).
    pub cats: u32,
    /// Redis 7.0's key specs (empty for a command without keys).
    pub specs: &'static [KeySpec],
}

/// The registry: entries by id (sorted by full name) and ids by full name.
#[derive(Debug)]
pub struct Registry {
    pub entries: Vec<Entry>,
    pub by_name: HashMap<&'static str, usize>,
}

/// Key specs for a command Redis 7.0 does not have: its first/last/step keys, read-write.
static TRIPOD_ONLY_SPEC: [KeySpec; 1] = [KeySpec {
    flags: keyspec::RW | keyspec::ACCESS | keyspec::UPDATE,
    begin: keyspec::Begin::Unknown,
    find: keyspec::Find::Unknown,
}];

/// Category bits and key specs of a table command Redis 7.0 does not have,
/// derived from its flags and key positions.
fn derived_facts(c: &Command) -> (u32, &'static [KeySpec]) {
    let cats = c
        .derived_acl_categories()
        .iter()
        .filter_map(|n| categories::by_name(&n.as_bytes()[1..]))
        .fold(0, |a, b| a | b);
    let specs: &'static [KeySpec] = if c.first_key > 0 || c.get_keys.is_some() {
        &TRIPOD_ONLY_SPEC
    } else {
        &[]
    };
    (cats, specs)
}

/// The registry of the command table and Redis 7.0's command list (built once).
pub fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let mut mine: HashMap<&'static str, &'static Command> = HashMap::new();
        for c in table::table().values() {
            mine.insert(c.name, c);
            for s in c.subcommands.iter() {
                mine.insert(s.name, s);
            }
        }
        let mut names: Vec<&'static str> = mine.keys().copied().collect();
        names.extend(REDIS.iter().map(|r| r.0).filter(|n| !mine.contains_key(n)));
        names.sort_unstable();
        let by_name: HashMap<&'static str, usize> =
            names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut entries: Vec<Entry> = names
            .iter()
            .map(|&name| {
                let cmd = mine.get(name).copied();
                let (cats, specs) = match (redis_facts(name), cmd) {
                    (Some(f), _) => f,
                    (None, Some(c)) => derived_facts(c),
                    (None, None) => (0, &[][..]),
                };
                Entry {
                    name,
                    cmd,
                    parent: name
                        .split_once('|')
                        .and_then(|(p, _)| by_name.get(p).copied()),
                    subs: Vec::new(),
                    cats,
                    specs,
                }
            })
            .collect();
        for id in 0..entries.len() {
            if let Some(p) = entries[id].parent {
                entries[p].subs.push(id);
            }
        }
        Registry { entries, by_name }
    })
}

/// Redis 7.0's categories and key specs of a command by full name.
pub fn redis_facts(name: &str) -> Option<(u32, &'static [KeySpec])> {
    REDIS
        .binary_search_by(|(n, _, _)| n.cmp(&name))
        .ok()
        .map(|i| (REDIS[i].1, REDIS[i].2))
}

impl Registry {
    /// The id of a command by full name (`get`, `config|get`), case-insensitively.
    pub fn id(&self, name: &[u8]) -> Option<usize> {
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        self.by_name.get(lower.as_str()).copied()
    }

    /// The id of a resolved command (every table command has one).
    pub fn id_of(&self, cmd: &Command) -> usize {
        self.by_name.get(cmd.name).copied().unwrap_or(0)
    }

    /// The number of ids (the "future commands" bit is this index).
    pub fn count(&self) -> usize {
        self.entries.len()
    }

    /// The keys of this invocation with their key spec flags, as the ACL checks
    /// them and COMMAND GETKEYS(ANDFLAGS) shows them (Redis's
    /// getKeysFromCommandWithSpecs): by the specs, the command's own key finder
    /// where the specs are incomplete, none when complete specs do not fit the
    /// arguments, and the argument-dependent flags of SET and BITFIELD.
    pub fn keys_with_flags(&self, id: usize, argv: &[Vec<u8>]) -> Vec<(usize, u16)> {
        let e = &self.entries[id];
        if e.specs.iter().all(|s| s.flags & keyspec::NOT_KEY != 0) {
            return Vec::new();
        }
        let incomplete = e.specs.iter().any(|s| {
            s.flags & keyspec::INCOMPLETE != 0 || matches!(s.begin, keyspec::Begin::Unknown)
        });
        let by_specs = if incomplete {
            None
        } else {
            keyspec::keys_by_specs(e.specs, argv)
        };
        let mut keys = if let Some(k) = by_specs {
            k
        } else if !incomplete {
            // Complete specs that do not fit this invocation (a key count past
            // the arguments): Redis's own key finders find no key then either.
            return Vec::new();
        } else {
            let Some(cmd) = e.cmd else {
                return Vec::new();
            };
            // The command's finder knows the keys: they are no longer
            // incomplete (Redis's getkeys procs do not report that flag).
            let pos = cmd.key_positions(argv);
            let first = e.specs[0].flags & !keyspec::INCOMPLETE;
            let rest = e.specs[e.specs.len() - 1].flags & !keyspec::INCOMPLETE;
            pos.iter()
                .enumerate()
                .map(|(i, &p)| (p, if i == 0 { first } else { rest }))
                .collect()
        };
        for k in keys.iter_mut() {
            if k.1 & keyspec::VARIABLE_FLAGS != 0 {
                k.1 = keyspec::variable_flags(e.name, argv, k.1);
            }
        }
        keys
    }
}
