//! The multi-part AOF manifest of Redis 7.0: `<appendfilename>.manifest` in
//! `appenddirname`, one line per file, `file <name> seq <n> type <b|h|i>`,
//! the base first, then history files, then the incremental files in order.

/// The kind of a file listed in the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The base file (`b`): an RDB (`.base.rdb`) or commands (`.base.aof`).
    Base,
    /// A file of a finished rewrite, to be deleted (`h`).
    History,
    /// An incremental file of commands (`i`).
    Incr,
}

/// One file of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub seq: u64,
    pub kind: Kind,
}

/// The parsed manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<Entry>,
    pub history: Vec<Entry>,
    pub incrs: Vec<Entry>,
    /// The sequence numbers last given to a base and to an incremental file
    /// (they only grow, even when the files become history).
    pub base_seq: u64,
    pub incr_seq: u64,
}

/// The manifest's file name for `appendfilename` (Redis: `<name>.manifest`).
pub fn manifest_name(prefix: &str) -> String {
    format!("{}.manifest", prefix)
}

/// A base file's name (Redis: `<name>.<seq>.base.rdb` or `.base.aof`).
pub fn base_name(prefix: &str, seq: u64, rdb: bool) -> String {
    format!(
        "{}.{}.base.{}",
        prefix,
        seq,
        if rdb { "rdb" } else { "aof" }
    )
}

/// An incremental file's name (Redis: `<name>.<seq>.incr.aof`).
pub fn incr_name(prefix: &str, seq: u64) -> String {
    format!("{}.{}.incr.aof", prefix, seq)
}

impl Manifest {
    /// Parses a manifest as Redis 7.0's `aofLoadManifestFromFile`: `#`
    /// comment lines are skipped, keys may come in any order and unknown keys
    /// are ignored; a blank line, a line with fewer than six words or an odd
    /// count, a missing name, sequence or type, a path instead of a file
    /// name, two bases, an unknown type, incremental files out of order or
    /// no line at all are errors with Redis's message and the line.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        if text.is_empty() {
            return Err(ManifestError::new("Found an empty AOF manifest", None));
        }
        for (i, line) in text.split_inclusive('\n').enumerate() {
            if line.starts_with('#') {
                continue;
            }
            let trimmed = line.trim_matches(|c| c == ' ' || c == '\t' || c == '\r' || c == '\n');
            let err = |msg: &str| ManifestError::new(msg, Some((i + 1, trimmed.to_string())));
            if !line.ends_with('\n') && line.len() >= 1024 {
                return Err(err("The AOF manifest file contains too long line"));
            }
            if trimmed.is_empty() {
                return Err(err("Invalid AOF manifest file format"));
            }
            let words: Vec<&str> = trimmed.split_whitespace().collect();
            if words.len() < 6 || !words.len().is_multiple_of(2) {
                return Err(err("Invalid AOF manifest file format"));
            }
            let (mut name, mut seq, mut kind) = (None, 0u64, None);
            for kv in words.chunks(2) {
                if kv[0].eq_ignore_ascii_case("file") {
                    if kv[1].contains('/') {
                        return Err(err("File can't be a path, just a filename"));
                    }
                    name = Some(kv[1].to_string());
                } else if kv[0].eq_ignore_ascii_case("seq") {
                    seq = kv[1].parse::<u64>().unwrap_or(0);
                } else if kv[0].eq_ignore_ascii_case("type") {
                    kind = kv[1].chars().next();
                }
            }
            let (Some(name), true, Some(kind)) = (name, seq != 0, kind) else {
                return Err(err("Invalid AOF manifest file format"));
            };
            match kind {
                'b' => {
                    if m.base.is_some() {
                        return Err(err("Found duplicate base file information"));
                    }
                    m.base_seq = seq;
                    m.base = Some(Entry {
                        name,
                        seq,
                        kind: Kind::Base,
                    });
                }
                'h' => m.history.push(Entry {
                    name,
                    seq,
                    kind: Kind::History,
                }),
                'i' => {
                    if seq <= m.incr_seq {
                        return Err(err("Found a non-monotonic sequence number"));
                    }
                    m.incr_seq = seq;
                    m.incrs.push(Entry {
                        name,
                        seq,
                        kind: Kind::Incr,
                    });
                }
                _ => return Err(err("Unknown AOF file type")),
            }
        }
        Ok(m)
    }

    /// The manifest's text as Redis 7.0 writes it.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let mut line = |e: &Entry, t: char| {
            s.push_str(&format!("file {} seq {} type {}\n", e.name, e.seq, t));
        };
        if let Some(b) = &self.base {
            line(b, 'b');
        }
        for h in &self.history {
            line(h, 'h');
        }
        for i in &self.incrs {
            line(i, 'i');
        }
        s
    }

    /// Names a new base file (`<prefix>.<seq>.base.rdb`, or `.base.aof` for
    /// a base of commands) and makes the current base a history file
    /// (Redis's getNewBaseFileNameAndMarkPreAsHistory).
    pub fn new_base(&mut self, prefix: &str, rdb: bool) -> String {
        if let Some(mut b) = self.base.take() {
            b.kind = Kind::History;
            self.history.insert(0, b);
        }
        self.base_seq += 1;
        let name = base_name(prefix, self.base_seq, rdb);
        self.base = Some(Entry {
            name: name.clone(),
            seq: self.base_seq,
            kind: Kind::Base,
        });
        name
    }

    /// Names a new incremental file and lists it last (getNewIncrAofName).
    pub fn new_incr(&mut self, prefix: &str) -> String {
        self.incr_seq += 1;
        let name = incr_name(prefix, self.incr_seq);
        self.incrs.push(Entry {
            name: name.clone(),
            seq: self.incr_seq,
            kind: Kind::Incr,
        });
        name
    }

    /// After a rewrite: the incremental files it covered become history,
    /// all of them, or all but the last when that one is open for writes
    /// (markRewrittenIncrAofAsHistory).
    pub fn mark_rewritten_incrs_as_history(&mut self, keep_last: bool) {
        let keep = usize::from(keep_last && !self.incrs.is_empty());
        let n = self.incrs.len() - keep;
        for mut e in self.incrs.drain(..n).rev() {
            e.kind = Kind::History;
            self.history.insert(0, e);
        }
    }

    /// Whether the manifest lists no base and no incremental file.
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.incrs.is_empty()
    }
}

/// A manifest that can't be read: Redis's message and the line it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub msg: String,
    /// The line's number (from 1) and text.
    pub line: Option<(usize, String)>,
}

impl ManifestError {
    fn new(msg: &str, line: Option<(usize, String)>) -> Self {
        ManifestError {
            msg: msg.to_string(),
            line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_redis_format() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.render(), text);
        assert_eq!(m.incr_seq, 2);
        assert_eq!(
            base_name("appendonly.aof", 1, true),
            "appendonly.aof.1.base.rdb"
        );
        assert!(Manifest::parse("").is_err());
        assert!(Manifest::parse("file x seq 1\n").is_err());
    }
}
