//! An ACL user (Redis 7.0): enabled or not, passwords (SHA-256 hashes) or
//! nopass, the root selector and further selectors; the user rules
//! (`on`, `>pass`, `(...)`, `reset`...) and the ACL LIST description.

use super::selector::{Denied, RuleError, Selector};
use sha2::{Digest, Sha256};

/// One user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub enabled: bool,
    pub nopass: bool,
    /// Some(true) skip-sanitize-payload, Some(false) sanitize-payload, None neither.
    pub sanitize: Option<bool>,
    /// Lower-case hex SHA-256 of each password, in the order added.
    pub passwords: Vec<String>,
    pub root: Selector,
    pub selectors: Vec<Selector>,
}

/// Lower-case hex SHA-256 of a password (how Redis stores and shows passwords).
pub fn hash_password(pass: &[u8]) -> String {
    let d = Sha256::digest(pass);
    d.iter().map(|b| format!("{:02x}", b)).collect()
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64
        && h.iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

impl User {
    /// A new user as ACL SETUSER creates it: off, no passwords, no commands,
    /// no keys, channels per acl-pubsub-default.
    pub fn new(name: &[u8], all_channels: bool) -> Self {
        let mut root = Selector::new();
        root.allchannels = all_channels;
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            root,
            selectors: Vec::new(),
        }
    }

    /// The `default` user as Redis creates it: on nopass ~* &* +@all.
    pub fn default_user() -> Self {
        let mut u = User::new(b"default", true);
        u.enabled = true;
        u.nopass = true;
        u.root.allkeys = true;
        let _ = u.root.apply(b"+@all");
        u
    }

    /// Applies one user rule (Redis's ACLSetUser). `all_channels` is
    /// acl-pubsub-default (for `reset`).
    pub fn apply(&mut self, op: &[u8], all_channels: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            // An empty rule changes nothing, as in Redis.
            return Ok(());
        }
        let lower = op.to_ascii_lowercase();
        match &lower[..] {
            b"on" => self.enabled = true,
            b"off" => self.enabled = false,
            b"skip-sanitize-payload" => self.sanitize = Some(true),
            b"sanitize-payload" => self.sanitize = Some(false),
            b"nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            b"resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            b"clearselectors" => self.selectors.clear(),
            b"reset" => {
                self.nopass = false;
                self.passwords.clear();
                self.root.apply(b"resetkeys")?;
                self.root.apply(b"resetchannels")?;
                if all_channels {
                    self.root.apply(b"allchannels")?;
                }
                self.enabled = false;
                self.sanitize = Some(false);
                self.selectors.clear();
                self.root.apply(b"-@all")?;
            }
            _ => match op.first() {
                Some(b'>') => {
                    let h = hash_password(&op[1..]);
                    if !self.passwords.contains(&h) {
                        self.passwords.push(h);
                    }
                    self.nopass = false;
                }
                Some(b'#') => {
                    if !valid_hash(&op[1..]) {
                        return Err(RuleError::BadHash);
                    }
                    let h = String::from_utf8_lossy(&op[1..]).into_owned();
                    if !self.passwords.contains(&h) {
                        self.passwords.push(h);
                    }
                    self.nopass = false;
                }
                Some(b'<') | Some(b'!') => {
                    let h = if op[0] == b'<' {
                        hash_password(&op[1..])
                    } else {
                        if !valid_hash(&op[1..]) {
                            return Err(RuleError::BadHash);
                        }
                        String::from_utf8_lossy(&op[1..]).into_owned()
                    };
                    let before = self.passwords.len();
                    self.passwords.retain(|p| *p != h);
                    if self.passwords.len() == before {
                        return Err(RuleError::NoSuchPassword);
                    }
                }
                Some(b'(') if op.last() == Some(&b')') && op.len() >= 2 => {
                    let mut s = Selector::new();
                    for tok in op[1..op.len() - 1].split(|&b| b == b' ') {
                        if tok.is_empty() {
                            continue;
                        }
                        s.apply(tok)?;
                    }
                    self.selectors.push(s);
                }
                _ => self.root.apply(op)?,
            },
        }
        Ok(())
    }

    /// Whether `pass` is one of the user's passwords (or the user is nopass).
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let h = hash_password(pass);
        let mut ok = false;
        for p in &self.passwords {
            // Compare every hash fully, so timing says nothing about which matched.
            ok |= p
                .as_bytes()
                .iter()
                .zip(h.as_bytes())
                .fold(0u8, |a, (x, y)| a | (x ^ y))
                == 0;
        }
        ok
    }

    /// The flags GETUSER lists: on/off, nopass, (skip-)sanitize-payload.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut v = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            v.push("nopass");
        }
        match self.sanitize {
            Some(true) => v.push("skip-sanitize-payload"),
            Some(false) => v.push("sanitize-payload"),
            None => {}
        }
        v
    }

    /// The user's rules in ACL LIST / aclfile form, without the `user <name>` prefix.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for f in self.flag_names() {
            s.push_str(f);
            s.push(' ');
        }
        for p in &self.passwords {
            s.push('#');
            s.push_str(p);
            s.push(' ');
        }
        s.push_str(&self.root.describe());
        for sel in &self.selectors {
            s.push_str(" (");
            s.push_str(&sel.describe());
            s.push(')');
        }
        s
    }

    /// Checks a command against the root selector and every other selector
    /// (ACLCheckAllUserCommandPerm): Ok if one allows it, else the most
    /// relevant denial (the highest kind, then the latest argument).
    pub fn check(&self, id: usize, argv: &[Vec<u8>]) -> Result<(), (Denied, usize)> {
        let mut worst = (Denied::Cmd, 0usize);
        for s in std::iter::once(&self.root).chain(self.selectors.iter()) {
            match s.check(id, argv) {
                Ok(()) => return Ok(()),
                Err((d, pos)) => {
                    if d > worst.0 || (d == worst.0 && pos > worst.1) {
                        worst = (d, pos);
                    }
                }
            }
        }
        Err(worst)
    }

    /// Whether some selector allows this channel (or pattern, compared literally).
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        std::iter::once(&self.root)
            .chain(self.selectors.iter())
            .any(|s| s.channel_allowed(channel, is_pattern))
    }
}

/// Splits SETUSER arguments into rules, joining a selector written over
/// several arguments (`(+get` `~k)`) as Redis's ACLMergeSelectorArguments.
/// Err carries the argument where an unclosed selector starts.
pub fn merge_selector_args(args: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, Vec<u8>> {
    let mut out = Vec::new();
    let mut open: Option<Vec<u8>> = None;
    for a in args {
        if let Some(cur) = open.as_mut() {
            cur.push(b' ');
            cur.extend_from_slice(a);
            if a.last() == Some(&b')') {
                out.push(open.take().expect("open selector"));
            }
        } else if a.first() == Some(&b'(') && a.last() != Some(&b')') {
            open = Some(a.clone());
        } else {
            out.push(a.clone());
        }
    }
    match open {
        Some(start) => {
            let first = start.split(|&b| b == b' ').next().unwrap_or(&[]).to_vec();
            Err(first)
        }
        None => Ok(out),
    }
}
