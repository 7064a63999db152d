//! Redis 7.0's key specs: where a command's keys are and how it uses them
//! (read, write...), and the key extraction the ACL checks make from them
//! (Redis's getKeysUsingKeySpecs).

/// Key spec flags, as COMMAND INFO names them.
pub const RO: u16 = 1 << 0;
pub const RW: u16 = 1 << 1;
pub const OW: u16 = 1 << 2;
pub const RM: u16 = 1 << 3;
pub const ACCESS: u16 = 1 << 4;
pub const UPDATE: u16 = 1 << 5;
pub const INSERT: u16 = 1 << 6;
pub const DELETE: u16 = 1 << 7;
pub const NOT_KEY: u16 = 1 << 8;
pub const INCOMPLETE: u16 = 1 << 9;
pub const VARIABLE_FLAGS: u16 = 1 << 10;

/// Where the search for the first key starts.
#[derive(Debug, Clone, Copy)]
pub enum Begin {
    /// The key is at this argument index.
    Index(i32),
    /// After this keyword, searched from this index (negative: from the end, backwards).
    Keyword(&'static [u8], i32),
    /// Only the command's own key finder knows.
    Unknown,
}

/// How many keys follow the first.
#[derive(Debug, Clone, Copy)]
pub enum Find {
    /// lastkey (relative to the first key, negative from the end), step, limit.
    Range(i32, i32, i32),
    /// Index of the key count (relative to the first), first key (relative), step.
    Keynum(i32, i32, i32),
    /// Only the command's own key finder knows.
    Unknown,
}

/// One key spec of a command.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub flags: u16,
    pub begin: Begin,
    pub find: Find,
}

/// The keys of `argv` by the specs: (argument index, spec flags), in spec
/// order, as Redis's getKeysUsingKeySpecs finds them. Specs whose start is
/// not found yield no key for that spec; None when a key count or range
/// does not fit the arguments (Redis then asks the command's own key finder).
pub fn keys_by_specs(specs: &[KeySpec], argv: &[Vec<u8>]) -> Option<Vec<(usize, u16)>> {
    let argc = argv.len() as i64;
    let mut out = Vec::new();
    for spec in specs.iter().filter(|s| s.flags & NOT_KEY == 0) {
        let first: i64 = match spec.begin {
            Begin::Index(i) => i as i64,
            Begin::Keyword(kw, from) => {
                let (start, end, step): (i64, i64, i64) = if from > 0 {
                    (from as i64, argc - 1, 1)
                } else {
                    (argc + from as i64, 0, -1)
                };
                let mut found = 0;
                let mut i = start;
                while (step > 0 && i <= end) || (step < 0 && i >= end) {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if argv[i as usize].eq_ignore_ascii_case(kw) {
                        found = i + 1;
                        break;
                    }
                    i += step;
                }
                if found == 0 {
                    continue;
                }
                found
            }
            Begin::Unknown => continue,
        };
        if first >= argc || first < 1 {
            continue;
        }
        let (first, last, step) = match spec.find {
            Find::Range(lastkey, step, limit) => {
                let last = if lastkey >= 0 {
                    first + lastkey as i64
                } else if limit <= 1 {
                    argc + lastkey as i64
                } else {
                    first + ((argc - first) / limit as i64 + lastkey as i64)
                };
                (first, last, step.max(1) as i64)
            }
            Find::Keynum(idx, firstkey, step) => {
                let at = first + idx as i64;
                if at < 0 || at >= argc {
                    return None;
                }
                let n = std::str::from_utf8(&argv[at as usize])
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())?;
                if n < 0 || n > argc {
                    return None;
                }
                let f = first + firstkey as i64;
                let step = step.max(1) as i64;
                (f, f + (n - 1) * step, step)
            }
            Find::Unknown => continue,
        };
        let mut i = first;
        while i <= last {
            if i >= argc || i < first {
                return None;
            }
            out.push((i as usize, spec.flags));
            i += step;
        }
    }
    Some(out)
}

/// The ACL-relevant flags of a command whose key use depends on its
/// arguments (Redis's VARIABLE_FLAGS getkeys procs): SET with GET reads,
/// BITFIELD reads only with GET and writes only with SET/INCRBY.
pub fn variable_flags(name: &str, argv: &[Vec<u8>], declared: u16) -> u16 {
    // SET's options start after the value (Redis's setGetKeys scans from argv[3]).
    let has = |w: &[u8]| argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(w));
    match name {
        "set" => {
            if has(b"get") {
                RW | ACCESS | UPDATE
            } else {
                OW | UPDATE
            }
        }
        "bitfield" => {
            let mut f = 0;
            let mut i = 2;
            while i < argv.len() {
                let a = &argv[i];
                if a.eq_ignore_ascii_case(b"get") {
                    f |= ACCESS;
                    i += 3;
                } else if a.eq_ignore_ascii_case(b"set") || a.eq_ignore_ascii_case(b"incrby") {
                    f |= UPDATE;
                    i += 4;
                } else if a.eq_ignore_ascii_case(b"overflow") {
                    i += 2;
                } else {
                    i += 1;
                }
            }
            // Any write also returns the old value (Redis's bitfieldGetKeys).
            if f & UPDATE != 0 {
                RW | ACCESS | UPDATE
            } else {
                RO | ACCESS
            }
        }
        _ => declared,
    }
}
