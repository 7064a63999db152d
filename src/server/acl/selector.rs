//! An ACL selector (Redis 7.0's aclSelector): the commands, key patterns
//! (with read/write flags) and channel patterns one set of rules allows; the
//! rules that change it (`+get`, `~key*`, `%R~pat`, `&chan`...), its
//! description in ACL LIST form and the permission checks.

use super::categories;
use super::keyspec;
use super::registry::{registry, Registry};
use crate::server::util::glob_match;
use std::collections::BTreeMap;

/// Key pattern permission: read.
pub const KEY_READ: u8 = 1;
/// Key pattern permission: write.
pub const KEY_WRITE: u8 = 2;

/// Why a rule was refused (Redis's errno values for ACLSetSelector/ACLSetUser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    Unknown,
    Syntax,
    KeysAfterAll,
    ChannelsAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl RuleError {
    /// Redis's ACLSetUserStringError text.
    pub fn text(self) -> &'static str {
        match self {
            RuleError::Unknown => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeysAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelsAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// What a permission check found (Redis's ACL_DENIED_*), in Redis's order of relevance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Cmd,
    Key,
    Channel,
}

/// One selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// One bit per command id, plus the "future commands" bit at index len.
    allowed: Vec<u64>,
    /// Command id -> first arguments allowed although the command is not.
    firstargs: BTreeMap<usize, Vec<Vec<u8>>>,
    /// Key patterns with their KEY_READ/KEY_WRITE flags, in order.
    pub keys: Vec<(Vec<u8>, u8)>,
    pub allkeys: bool,
    pub channels: Vec<Vec<u8>>,
    pub allchannels: bool,
}

impl Selector {
    /// A selector that allows nothing (no commands, keys or channels).
    pub fn new() -> Self {
        let n = registry().count() + 1;
        Selector {
            allowed: vec![0; n.div_ceil(64)],
            firstargs: BTreeMap::new(),
            keys: Vec::new(),
            allkeys: false,
            channels: Vec::new(),
            allchannels: false,
        }
    }

    fn bit(&self, id: usize) -> bool {
        self.allowed[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if on {
            self.allowed[id / 64] |= 1 << (id % 64);
        } else {
            self.allowed[id / 64] &= !(1 << (id % 64));
        }
    }

    /// Allows or denies a command and all its subcommands (ACLChangeSelectorPerm).
    fn change_perm(&mut self, reg: &Registry, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.firstargs.remove(&id);
        for &s in &reg.entries[id].subs {
            self.set_bit(s, allow);
        }
    }

    /// Allows or denies every command (and subcommand) of the categories `bits`.
    fn change_category(&mut self, reg: &Registry, bits: u32, allow: bool) {
        for (id, e) in reg.entries.iter().enumerate() {
            if e.cats & bits != 0 {
                self.change_perm(reg, id, allow);
            }
        }
    }

    fn set_all(&mut self, allow: bool) {
        let v = if allow { u64::MAX } else { 0 };
        self.allowed.iter_mut().for_each(|w| *w = v);
        self.firstargs.clear();
    }

    /// Whether this selector allows every command, key and channel (`+@all
    /// ~* &*`, the default user's rules): `check` would pass for any command,
    /// so callers may skip it. Conservative: a selector built command by
    /// command answers false and takes the full check.
    pub fn allows_everything(&self) -> bool {
        self.allkeys && self.allchannels && self.allowed.iter().all(|w| *w == u64::MAX)
    }

    /// Whether `+@all` (or allcommands) is in effect for commands added later.
    fn future_commands(&self) -> bool {
        self.bit(registry().count())
    }

    /// Applies one selector rule (Redis's ACLSetSelector).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let reg = registry();
        let lower = op.to_ascii_lowercase();
        match &lower[..] {
            b"allkeys" | b"~*" => {
                self.allkeys = true;
                self.keys.clear();
                return Ok(());
            }
            b"resetkeys" => {
                self.allkeys = false;
                self.keys.clear();
                return Ok(());
            }
            b"allchannels" | b"&*" => {
                self.allchannels = true;
                self.channels.clear();
                return Ok(());
            }
            b"resetchannels" => {
                self.allchannels = false;
                self.channels.clear();
                return Ok(());
            }
            b"allcommands" | b"+@all" => {
                self.set_all(true);
                return Ok(());
            }
            b"nocommands" | b"-@all" => {
                self.set_all(false);
                return Ok(());
            }
            _ => {}
        }
        match op.first() {
            Some(b'~') | Some(b'%') => self.add_key_pattern(op),
            Some(b'&') => {
                if self.allchannels {
                    return Err(RuleError::ChannelsAfterAll);
                }
                let pat = &op[1..];
                if pat.contains(&b' ') {
                    return Err(RuleError::Syntax);
                }
                if !self.channels.iter().any(|c| c == pat) {
                    self.channels.push(pat.to_vec());
                }
                Ok(())
            }
            Some(b'+') | Some(b'-') if op.get(1) == Some(&b'@') => {
                let bits = categories::by_name(&op[2..]).ok_or(RuleError::Unknown)?;
                self.change_category(reg, bits, op[0] == b'+');
                Ok(())
            }
            Some(b'+') => self.allow_command(reg, &op[1..]),
            Some(b'-') => {
                let id = reg.id(&op[1..]).ok_or(RuleError::Unknown)?;
                self.change_perm(reg, id, false);
                Ok(())
            }
            _ => Err(RuleError::Syntax),
        }
    }

    /// `~pattern`, `%R~pattern`, `%W~pattern`, `%RW~pattern`.
    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let (flags, pat) = if op[0] == b'%' {
            let Some(tilde) = op.iter().position(|&b| b == b'~') else {
                return Err(RuleError::Syntax);
            };
            let mut f = 0;
            for &b in &op[1..tilde] {
                match b.to_ascii_uppercase() {
                    b'R' => f |= KEY_READ,
                    b'W' => f |= KEY_WRITE,
                    _ => return Err(RuleError::Syntax),
                }
            }
            if f == 0 {
                return Err(RuleError::Syntax);
            }
            (f, &op[tilde + 1..])
        } else {
            (KEY_READ | KEY_WRITE, &op[1..])
        };
        if self.allkeys {
            return Err(RuleError::KeysAfterAll);
        }
        if pat.contains(&b' ') {
            return Err(RuleError::Syntax);
        }
        if pat == b"*" && flags == KEY_READ | KEY_WRITE {
            self.allkeys = true;
            self.keys.clear();
            return Ok(());
        }
        match self.keys.iter_mut().find(|(p, _)| p == pat) {
            Some(k) => k.1 |= flags,
            None => self.keys.push((pat.to_vec(), flags)),
        }
        Ok(())
    }

    /// `+cmd`, `+cmd|sub`, `+cmd|firstarg`.
    fn allow_command(&mut self, reg: &Registry, name: &[u8]) -> Result<(), RuleError> {
        let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
            let id = reg.id(name).ok_or(RuleError::Unknown)?;
            self.change_perm(reg, id, true);
            return Ok(());
        };
        let (cmd, sub) = (&name[..bar], &name[bar + 1..]);
        let id = reg.id(cmd).ok_or(RuleError::Unknown)?;
        if reg.entries[id].parent.is_some() {
            return Err(RuleError::FirstArgOfSubcommand);
        }
        if sub.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !reg.entries[id].subs.is_empty() {
            let sid = reg.id(name).ok_or(RuleError::Unknown)?;
            self.change_perm(reg, sid, true);
        } else {
            let list = self.firstargs.entry(id).or_default();
            let sub = sub.to_ascii_lowercase();
            if !list.contains(&sub) {
                list.push(sub);
            }
        }
        Ok(())
    }

    /// The command rules in ACL LIST form (`+@all -@hash`, `-@all +get`...),
    /// rebuilt from the permissions as Redis 7.0's
    /// ACLDescribeSelectorCommandRules: the start (+@all or -@all), the
    /// best-fitting categories one by one (among the commands no earlier
    /// category explained), then single commands
    /// (a container before its subcommands) and allowed first arguments.
    pub fn describe_commands(&self) -> String {
        let reg = registry();
        let additive = !self.future_commands();
        let mut fake = Selector::new();
        let mut temp = self.clone();
        let mut rules = String::new();
        if additive {
            rules.push_str("-@all ");
        } else {
            fake.set_all(true);
            rules.push_str("+@all ");
        }
        // Repeatedly the best-fitting category not yet applied: more commands
        // in common than different, the fewest differences, then the most in common.
        let mut applied = [false; categories::NAMES.len()];
        loop {
            let mut best: Option<usize> = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (i, done) in applied.iter().enumerate() {
                if *done {
                    continue;
                }
                let bit = 1u32 << i;
                let (mut on, mut off) = (0, 0);
                for (id, e) in reg.entries.iter().enumerate() {
                    if e.cats & bit != 0 {
                        if temp.bit(id) {
                            on += 1;
                        } else {
                            off += 1;
                        }
                    }
                }
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(i);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(i) = best else { break };
            let bit = 1u32 << i;
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(categories::NAMES[i]);
            rules.push(' ');
            fake.change_category(reg, bit, additive);
            temp.change_category(reg, bit, !additive);
            applied[i] = true;
        }
        for (id, e) in reg.entries.iter().enumerate() {
            let user = self.bit(id);
            if user != fake.bit(id) {
                rules.push(if user { '+' } else { '-' });
                rules.push_str(e.name);
                rules.push(' ');
                fake.change_perm(reg, id, user);
            }
            if !user {
                if let Some(args) = self.firstargs.get(&id) {
                    for a in args {
                        rules.push('+');
                        rules.push_str(e.name);
                        rules.push('|');
                        rules.push_str(&String::from_utf8_lossy(a));
                        rules.push(' ');
                    }
                }
            }
        }
        rules.pop();
        rules
    }

    /// The key patterns as GETUSER shows them (`~*`, `%R~a ~b`).
    pub fn describe_keys(&self) -> String {
        if self.allkeys {
            return "~*".into();
        }
        let v: Vec<String> = self
            .keys
            .iter()
            .map(|(p, f)| {
                let pre = match *f {
                    KEY_READ => "%R~",
                    KEY_WRITE => "%W~",
                    _ => "~",
                };
                format!("{}{}", pre, String::from_utf8_lossy(p))
            })
            .collect();
        v.join(" ")
    }

    /// The channel patterns as GETUSER shows them (`&*`, `&a &b`).
    pub fn describe_channels(&self) -> String {
        if self.allchannels {
            return "&*".into();
        }
        let v: Vec<String> = self
            .channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect();
        v.join(" ")
    }

    /// The whole selector in ACL LIST form: keys, channels (resetchannels
    /// first unless all are allowed), commands.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let keys = self.describe_keys();
        if !keys.is_empty() {
            s.push_str(&keys);
            s.push(' ');
        }
        if self.allchannels {
            s.push_str("&* ");
        } else {
            s.push_str("resetchannels ");
            let ch = self.describe_channels();
            if !ch.is_empty() {
                s.push_str(&ch);
                s.push(' ');
            }
        }
        s.push_str(&self.describe_commands());
        s
    }

    /// Whether every key may be read (all keys, or a `*` pattern with read).
    pub fn reads_all_keys(&self) -> bool {
        self.allkeys
            || self
                .keys
                .iter()
                .any(|(p, f)| p == b"*" && f & KEY_READ != 0)
    }

    /// Whether a key may be used with the key spec flags `spec` (ACLSelectorCheckKey).
    pub fn key_allowed(&self, key: &[u8], spec: u16) -> bool {
        if self.allkeys {
            return true;
        }
        let mut need = 0;
        if spec & keyspec::ACCESS != 0 {
            need |= KEY_READ;
        }
        if spec & (keyspec::INSERT | keyspec::DELETE | keyspec::UPDATE) != 0 {
            need |= KEY_WRITE;
        }
        self.keys
            .iter()
            .any(|(p, f)| f & need == need && glob_match(p, key, false))
    }

    /// Whether a key may be used in some way (ACL's check for commands that
    /// use keys without reading or writing, such as EXISTS).
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        if self.allchannels {
            return true;
        }
        self.channels.iter().any(|p| {
            if is_pattern {
                p == channel
            } else {
                glob_match(p, channel, false)
            }
        })
    }

    /// Checks a command line against this selector (ACLSelectorCheckCmd):
    /// Ok, or what was denied and the argument index at fault.
    pub fn check(&self, id: usize, argv: &[Vec<u8>]) -> Result<(), (Denied, usize)> {
        let reg = registry();
        let e = &reg.entries[id];
        let no_auth = e
            .cmd
            .is_some_and(|c| c.flags & crate::server::commands::NO_AUTH != 0);
        if !no_auth && !self.bit(id) {
            let ok = argv.len() >= 2
                && self
                    .firstargs
                    .get(&id)
                    .is_some_and(|l| l.iter().any(|a| a.eq_ignore_ascii_case(&argv[1])));
            if !ok {
                return Err((Denied::Cmd, 0));
            }
        }
        if !self.allkeys {
            for (pos, flags) in reg.keys_with_flags(id, argv) {
                if !self.key_allowed(&argv[pos], flags) {
                    return Err((Denied::Key, pos));
                }
            }
        }
        if !self.allchannels {
            for (pos, is_pattern) in channels_of(e.name, argv) {
                if !self.channel_allowed(&argv[pos], is_pattern) {
                    return Err((Denied::Channel, pos));
                }
            }
        }
        Ok(())
    }
}

impl Default for Selector {
    fn default() -> Self {
        Selector::new()
    }
}

/// The channels a command publishes or subscribes to: (argument index, is a pattern).
pub fn channels_of(name: &str, argv: &[Vec<u8>]) -> Vec<(usize, bool)> {
    match name {
        "publish" | "spublish" => {
            if argv.len() > 1 {
                vec![(1, false)]
            } else {
                Vec::new()
            }
        }
        "subscribe" | "ssubscribe" => (1..argv.len()).map(|i| (i, false)).collect(),
        "psubscribe" => (1..argv.len()).map(|i| (i, true)).collect(),
        _ => Vec::new(),
    }
}
