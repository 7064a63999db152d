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
    /// Parses a manifest as Redis 7.0's `aofLoadManifestFromFile`: blank lines
    /// and `#` comments are skipped, keys may come in any order, unknown keys
    /// are ignored; a line without a file name, type or sequence, more than
    /// one base, or no file at all is an error with Redis's message.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        let mut any = false;
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.len() % 2 != 0 {
                return Err("Invalid AOF manifest file format".into());
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for kv in words.chunks(2) {
                match kv[0] {
                    "file" => name = Some(kv[1].to_string()),
                    "seq" => seq = kv[1].parse::<u64>().ok(),
                    "type" => {
                        kind = match kv[1] {
                            "b" => Some(Kind::Base),
                            "h" => Some(Kind::History),
                            "i" => Some(Kind::Incr),
                            _ => None,
                        }
                    }
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err("Invalid AOF manifest file format".into());
            };
            if name.contains('/') {
                return Err("Invalid AOF manifest file format".into());
            }
            let e = Entry { name, seq, kind };
            match kind {
                Kind::Base => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.base = Some(e);
                }
                Kind::History => m.history.push(e),
                Kind::Incr => {
                    if m.incrs.last().is_some_and(|l| l.seq >= e.seq) {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    m.incrs.push(e)
                }
            }
            any = true;
        }
        if !any {
            return Err("Found an empty AOF manifest".into());
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

    /// The sequence number the next incremental file takes.
    pub fn next_incr_seq(&self) -> u64 {
        self.incrs.last().map_or(1, |e| e.seq + 1)
    }

    /// The sequence number the next base file takes.
    pub fn next_base_seq(&self) -> u64 {
        self.base.as_ref().map_or(1, |e| e.seq + 1)
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
        assert_eq!(m.next_incr_seq(), 3);
        assert_eq!(
            base_name("appendonly.aof", 1, true),
            "appendonly.aof.1.base.rdb"
        );
        assert!(Manifest::parse("").is_err());
        assert!(Manifest::parse("file x seq 1\n").is_err());
    }
}
