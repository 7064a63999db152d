//! The command table: one [`Command`] entry per command (name, arity, flags,
//! key positions, handler), the flags Redis defines, and lookup by name with
//! the arity and subcommand checks Redis makes before anything else.

use super::{
    acl, cluster, connection, debug, dump, functions, geo, hashes, hyperloglog, keys, latency,
    lists, memory, persistence, pubsub, replication, scripting, server_admin, sets, sort, streams,
    strings, transactions, zsets,
};
use crate::server::client::Client;
use crate::server::state::Server;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A command handler: runs one command for client `c` with arguments `argv`
/// (argv[0] is the command name), writing its reply into `c.reply`.
pub type Handler = fn(&mut Server, &mut Client, &[Vec<u8>]);

// Command flags (Redis's CMD_*). COMMAND INFO prints their names.
pub const WRITE: u64 = 1 << 0;
pub const READONLY: u64 = 1 << 1;
pub const DENYOOM: u64 = 1 << 2;
pub const ADMIN: u64 = 1 << 3;
pub const PUBSUB: u64 = 1 << 4;
pub const NOSCRIPT: u64 = 1 << 5;
pub const BLOCKING: u64 = 1 << 6;
pub const LOADING: u64 = 1 << 7;
pub const STALE: u64 = 1 << 8;
pub const SKIP_MONITOR: u64 = 1 << 9;
pub const SKIP_SLOWLOG: u64 = 1 << 10;
pub const FAST: u64 = 1 << 11;
pub const NO_AUTH: u64 = 1 << 12;
pub const MAY_REPLICATE: u64 = 1 << 13;
pub const NO_MULTI: u64 = 1 << 14;
pub const ALLOW_BUSY: u64 = 1 << 15;
pub const NO_MANDATORY_KEYS: u64 = 1 << 16;
pub const SENTINEL: u64 = 1 << 17;
/// Accepted with ASKING (RESTORE-ASKING).
pub const ASKING: u64 = 1 << 18;
/// Key positions depend on the arguments (GEORADIUS's STORE...): COMMAND INFO
/// prints "movablekeys" after the other flags, as Redis's cmdHasMovableKeys.
pub const MOVABLE_KEYS: u64 = 1 << 19;
/// Redis refuses these while a replica loads its master's data asynchronously
/// (repl-diskless-load swapdb). Loading here is synchronous, so the flag only shows in
/// COMMAND INFO, as Redis's.
pub const NO_ASYNC_LOADING: u64 = 1 << 20;

const FLAG_NAMES: &[(u64, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (ASKING, "asking"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    // may_replicate is hidden from COMMAND INFO on purpose in Redis 7.0.
    (NO_ASYNC_LOADING, "no_async_loading"),
    (NO_MULTI, "no_multi"),
    (ALLOW_BUSY, "allow_busy"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (MOVABLE_KEYS, "movablekeys"),
];

/// Redis's ACL categories in the order of its category table.
const ACL_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

/// Finds the key positions of a full command line (argv[0] the name).
pub type KeyFinder = fn(&[Vec<u8>]) -> Vec<usize>;

/// One entry of the command table.
#[derive(Debug)]
pub struct Command {
    /// Lower-case name; subcommands are named `parent|sub`.
    pub name: &'static str,
    /// Redis's arity: N means exactly N arguments (with the name), -N at least N.
    pub arity: i32,
    /// Command group as COMMAND DOCS reports it ("string", "generic", ...).
    pub group: &'static str,
    pub flags: u64,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub handler: Handler,
    pub subcommands: &'static [Command],
    /// Key positions that depend on the arguments (Redis's getkeys_proc), for
    /// commands flagged MOVABLE_KEYS; None means first/last/step say it all.
    pub get_keys: Option<KeyFinder>,
}

impl Command {
    /// A table entry for `name`, run by `handler`: no arguments beyond the
    /// name, no flags, no keys, no group until the builder methods say so
    /// (const, so family tables are plain statics).
    pub const fn new(name: &'static str, handler: Handler) -> Command {
        Command {
            name,
            arity: 1,
            group: "",
            flags: 0,
            first_key: 0,
            last_key: 0,
            step: 0,
            handler,
            subcommands: &[],
            get_keys: None,
        }
    }

    /// A container command (CONFIG, CLIENT...) whose subcommands have their own
    /// entries; called without a known subcommand it answers Redis's error.
    pub const fn container(name: &'static str, subcommands: &'static [Command]) -> Command {
        let mut c = Command::new(name, container_help);
        c.subcommands = subcommands;
        c
    }

    /// Redis's arity: N means exactly N arguments (with the name), -N at least N.
    pub const fn arity(mut self, arity: i32) -> Self {
        self.arity = arity;
        self
    }

    /// The group COMMAND DOCS reports ("string", "generic"...).
    pub const fn group(mut self, group: &'static str) -> Self {
        self.group = group;
        self
    }

    /// The command flags (`WRITE | DENYOOM`...).
    pub const fn flags(mut self, flags: u64) -> Self {
        self.flags = flags;
        self
    }

    /// Key positions computed from the arguments (GEORADIUS's STORE key...);
    /// marks the command movablekeys as Redis does.
    pub const fn get_keys(mut self, f: KeyFinder) -> Self {
        self.get_keys = Some(f);
        self.flags |= MOVABLE_KEYS;
        self
    }

    /// Where the keys are: the first and last key argument (negative counts
    /// from the end) and the step between keys.
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.first_key = first;
        self.last_key = last;
        self.step = step;
        self
    }
}

fn container_help(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    c.reply.error(&format!(
        "unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(argv.get(1).map(|v| &v[..]).unwrap_or(b"")),
        String::from_utf8_lossy(&argv[0]).to_uppercase()
    ));
}

impl Command {
    /// The names of the command's flags ("write", "denyoom"...), in FLAG_NAMES order,
    /// as COMMAND INFO lists them; movablekeys also when Redis 7.0's key specs make
    /// the command so (acl::keyspec_info::movable_keys).
    pub fn flag_names(&self) -> Vec<&'static str> {
        let movable = crate::server::acl::keyspec_info::movable_keys(self.name);
        FLAG_NAMES
            .iter()
            .filter(|(f, _)| self.flags & f != 0 || (*f == MOVABLE_KEYS && movable))
            .map(|(_, n)| *n)
            .collect()
    }

    /// True for commands flagged WRITE (rejected on read-only replicas, propagated
    /// when they change data).
    pub fn is_write(&self) -> bool {
        self.flags & WRITE != 0
    }

    /// ACL categories as COMMAND INFO shows them: Redis 7.0's own list for a
    /// command Redis has (acl/command_data.rs), derived otherwise.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        match crate::server::acl::registry::redis_facts(self.name) {
            Some((bits, _)) => crate::server::acl::categories::names_of(bits),
            None => self.derived_acl_categories(),
        }
    }

    /// ACL categories derived from the flags and the group (for commands
    /// Redis 7.0 does not have).
    pub fn derived_acl_categories(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.flags & WRITE != 0 {
            v.push("@write");
        }
        if self.flags & READONLY != 0 {
            v.push("@read");
        }
        match self.group {
            "string" => v.push("@string"),
            "list" => v.push("@list"),
            "hash" => v.push("@hash"),
            "set" => v.push("@set"),
            "sorted-set" => v.push("@sortedset"),
            "bitmap" => v.push("@bitmap"),
            "generic" => v.push("@keyspace"),
            "connection" => v.push("@connection"),
            "pubsub" => v.push("@pubsub"),
            "transactions" => v.push("@transaction"),
            "hyperloglog" => v.push("@hyperloglog"),
            "geo" => v.push("@geo"),
            "scripting" => v.push("@scripting"),
            _ => {}
        }
        if self.flags & ADMIN != 0 {
            v.push("@admin");
            v.push("@dangerous");
        }
        if self.flags & FAST != 0 {
            v.push("@fast");
        } else {
            v.push("@slow");
        }
        if self.flags & BLOCKING != 0 {
            v.push("@blocking");
        }
        // COMMAND INFO lists them in the order of Redis's category table.
        v.sort_by_key(|c| ACL_ORDER.iter().position(|o| o == c));
        v
    }

    /// The key positions of this invocation `argv` (argv[0] the command name):
    /// the command's own key finder when it has one, else `key_positions`.
    pub fn keys_of(&self, argv: &[Vec<u8>]) -> Vec<usize> {
        self.key_positions(argv)
    }

    /// The key positions of this invocation (COMMAND GETKEYS).
    pub fn key_positions(&self, argv: &[Vec<u8>]) -> Vec<usize> {
        if let Some(f) = self.get_keys {
            return f(argv);
        }
        let argc = argv.len();
        if self.first_key <= 0 {
            return Vec::new();
        }
        let last = if self.last_key < 0 {
            argc as i32 + self.last_key
        } else {
            self.last_key
        };
        let mut v = Vec::new();
        let mut i = self.first_key;
        while i <= last && (i as usize) < argc {
            v.push(i as usize);
            i += self.step.max(1);
        }
        v
    }
}

/// All top-level commands, by lower-case name.
pub fn table() -> &'static HashMap<&'static str, &'static Command, crate::server::util::FxBuild> {
    static TABLE: OnceLock<HashMap<&'static str, &'static Command, crate::server::util::FxBuild>> =
        OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = HashMap::default();
        for family in [
            acl::COMMANDS,
            cluster::COMMANDS,
            connection::COMMANDS,
            strings::COMMANDS,
            keys::COMMANDS,
            server_admin::COMMANDS,
            debug::COMMANDS,
            hashes::COMMANDS,
            lists::COMMANDS,
            sets::COMMANDS,
            sort::COMMANDS,
            dump::COMMANDS,
            memory::COMMANDS,
            latency::COMMANDS,
            zsets::COMMANDS,
            hyperloglog::COMMANDS,
            geo::COMMANDS,
            streams::COMMANDS,
            transactions::COMMANDS,
            pubsub::COMMANDS,
            persistence::COMMANDS,
            replication::COMMANDS,
            scripting::COMMANDS,
            functions::COMMANDS,
        ] {
            for c in family {
                t.insert(c.name, c);
            }
        }
        t
    })
}

/// Looks up a command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    for (i, b) in name.iter().enumerate() {
        buf[i] = b.to_ascii_lowercase();
    }
    let s = std::str::from_utf8(&buf[..name.len()]).ok()?;
    table().get(s).copied()
}

/// Resolves `argv` to the command (or subcommand) that will run, or the error
/// reply Redis gives (unknown command, unknown subcommand, wrong arity).
/// The command or subcommand `argv` names, whatever its number of arguments;
/// None when unknown.
pub fn lookup_exact(argv: &[Vec<u8>]) -> Option<&'static Command> {
    let cmd = lookup(argv.first()?)?;
    if cmd.subcommands.is_empty() || argv.len() < 2 {
        return Some(cmd);
    }
    let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
    cmd.subcommands
        .iter()
        .find(|s| s.name.split('|').nth(1) == Some(sub.as_str()))
}

pub fn resolve(argv: &[Vec<u8>]) -> Result<&'static Command, String> {
    let Some(cmd) = lookup(&argv[0]) else {
        let mut args = String::new();
        for a in argv[1..].iter() {
            if args.len() >= 128 {
                break;
            }
            let s = String::from_utf8_lossy(a);
            let room = 128 - args.len();
            args.push_str(&format!("'{}' ", s.chars().take(room).collect::<String>()));
        }
        let name: String = String::from_utf8_lossy(&argv[0])
            .chars()
            .take(128)
            .collect();
        return Err(format!(
            "ERR unknown command '{}', with args beginning with: {}",
            name, args
        ));
    };
    let cmd = if !cmd.subcommands.is_empty() && argv.len() >= 2 {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        match cmd
            .subcommands
            .iter()
            .find(|s| s.name.split('|').nth(1) == Some(sub.as_str()))
        {
            Some(s) => s,
            None => {
                return Err(format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    String::from_utf8_lossy(&argv[1])
                        .chars()
                        .take(128)
                        .collect::<String>(),
                    cmd.name.to_uppercase()
                ))
            }
        }
    } else {
        cmd
    };
    let argc = argv.len() as i32;
    if (cmd.arity > 0 && cmd.arity != argc) || argc < -cmd.arity {
        return Err(format!(
            "ERR wrong number of arguments for '{}' command",
            cmd.name
        ));
    }
    Ok(cmd)
}
