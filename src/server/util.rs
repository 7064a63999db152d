//! Text and number helpers shared by the whole server, with Redis's exact rules
//! (Redis keeps these in util.c and sds.c): strict integer parsing, long-double
//! style float parsing and formatting, glob matching, and argument splitting.

/// Parses a decimal i64 exactly as Redis's `string2ll`: no leading `+`, no spaces,
/// no leading zeros (except "0" itself), no "-0", fits in 64 bits.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Parses a u64-ish cursor or count the way Redis's `string2ull` does.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Parses a float the way Redis's `string2ld`/`getDoubleFromObject` accepts it:
/// no leading or trailing space, "inf"/"-inf"/"+inf" allowed, NaN refused.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 5120 {
        return None;
    }
    if s[0].is_ascii_whitespace() || s[s.len() - 1].is_ascii_whitespace() {
        return None;
    }
    let t = std::str::from_utf8(s).ok()?;
    let lower = t.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // Rust's parser refuses hex floats and accepts things strtod refuses
            // only in corner cases ("1e" is refused by both).
            if lower.contains("nan") || lower.contains("inf") {
                return None;
            }
            t.parse::<f64>().ok()?
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Formats a double as Redis does for replies and stored scores (`%.17g`, with
/// "inf"/"-inf", and integral values printed without exponent where they fit).
pub fn format_f64(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    format_g17(v)
}

/// `%.17g` formatting.
fn format_g17(v: f64) -> String {
    let exp = v.abs().log10().floor() as i32;
    // %g uses scientific when exp < -4 or exp >= precision (17).
    let sci = format!("{:.16e}", v);
    // Parse the exponent from Rust's scientific output to be exact.
    let (mant, e) = sci.split_once('e').unwrap_or((&sci, "0"));
    let e: i32 = e.parse().unwrap_or(exp);
    if !(-4..17).contains(&e) {
        let mant = trim_fraction(mant);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", mant, sign, e.abs())
    } else {
        let decimals = (16 - e).max(0) as usize;
        let s = format!("{:.*}", decimals, v);
        trim_fraction(&s).to_string()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Redis's `stringmatchlen`: glob-style matching with `*`, `?`, `[...]` (with `^`
/// negation and ranges) and `\` escapes, optionally case-insensitive.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    glob_rec(pattern, string, nocase, 0)
}

fn glob_rec(mut p: &[u8], mut s: &[u8], nocase: bool, depth: u32) -> bool {
    // Bound recursion like Redis does (it caps nesting to avoid stack overflows).
    if depth > 1000 {
        return false;
    }
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if glob_rec(&p[1..], s, nocase, depth + 1) {
                        return true;
                    }
                    s = &s[1..];
                }
                return false;
            }
            b'?' => {
                s = &s[1..];
            }
            b'[' => {
                p = &p[1..];
                let not = !p.is_empty() && p[0] == b'^';
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    if p.is_empty() {
                        break;
                    }
                    if p[0] == b'\\' && p.len() >= 2 {
                        p = &p[1..];
                        if eq(p[0], s[0]) {
                            matched = true;
                        }
                    } else if p[0] == b']' {
                        break;
                    } else if p.len() >= 3 && p[1] == b'-' {
                        let (mut start, mut end) = (p[0], p[2]);
                        let mut c = s[0];
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = start.to_ascii_lowercase();
                            end = end.to_ascii_lowercase();
                            c = c.to_ascii_lowercase();
                        }
                        p = &p[2..];
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if eq(p[0], s[0]) {
                        matched = true;
                    }
                    p = &p[1..];
                }
                if p.is_empty() {
                    // Unterminated class: Redis treats the end as the class end.
                    if not {
                        matched = !matched;
                    }
                    if !matched {
                        return false;
                    }
                    s = &s[1..];
                    continue;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s = &s[1..];
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if !eq(p[0], s[0]) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if !eq(c, s[0]) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while !p.is_empty() && p[0] == b'*' {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

/// Why `split_args` refused a line.
#[derive(Debug, PartialEq, Eq)]
pub struct UnbalancedQuotes;

/// Splits a line into arguments exactly as Redis's `sdssplitargs` (used for inline
/// commands and redis.conf lines): spaces separate, `"..."` takes `\n \r \t \b \a
/// \\ \" \xHH` escapes, `'...'` takes `\'`, and a closing quote must be followed by
/// a space or the end of the line.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, UnbalancedQuotes> {
    // Redis splits a C string: a NUL byte ends the line.
    let line = &line[..line.iter().position(|&c| c == 0).unwrap_or(line.len())];
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Ok(out);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= n {
                    return Err(UnbalancedQuotes);
                }
                if line[i] == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && line[i + 2].is_ascii_hexdigit()
                    && line[i + 3].is_ascii_hexdigit()
                {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if line[i] == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if line[i] == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else if insq {
                if i >= n {
                    return Err(UnbalancedQuotes);
                }
                if line[i] == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if line[i] == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

thread_local! {
    /// The time the current command started (µs since the epoch), like Redis's
    /// command time snapshot: one clock read per command, shared by every expiry
    /// check and access-time update it makes.
    static COMMAND_TIME_US: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Reads the clock and makes it the current command's time; returns it (µs).
pub fn tick() -> i64 {
    let us = now_us();
    COMMAND_TIME_US.with(|c| c.set(us));
    us
}

/// The current command-time snapshot in µs (read from the clock if unset).
pub fn command_time_us() -> i64 {
    let us = COMMAND_TIME_US.with(|c| c.get());
    if us == 0 {
        tick()
    } else {
        us
    }
}

/// The current command's time in ms (the clock, if no command ran yet).
pub fn command_time_ms() -> i64 {
    let us = COMMAND_TIME_US.with(|c| c.get());
    if us == 0 {
        now_ms()
    } else {
        us / 1000
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    now_us() / 1000
}

/// Microseconds since the Unix epoch (one vDSO clock read).
pub fn now_us() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
}

/// A small, fast xorshift PRNG: the server owns one for random sampling.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new() -> Self {
        let seed = now_us() as u64 ^ ((std::process::id() as u64) << 32) ^ 0x9E37_79B9_7F4A_7C15;
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

impl Default for Rng {
    fn default() -> Self {
        Self::new()
    }
}

/// Parses a memory size as redis.conf does: `1gb`, `100mb`, `1k` (1000), `1kb` (1024).
pub fn parse_memory(s: &str) -> Option<u64> {
    let l = s.to_ascii_lowercase();
    let (num, mul) = if let Some(n) = l.strip_suffix("gb") {
        (n, 1024u64 * 1024 * 1024)
    } else if let Some(n) = l.strip_suffix("mb") {
        (n, 1024 * 1024)
    } else if let Some(n) = l.strip_suffix("kb") {
        (n, 1024)
    } else if let Some(n) = l.strip_suffix('g') {
        (n, 1000 * 1000 * 1000)
    } else if let Some(n) = l.strip_suffix('m') {
        (n, 1000 * 1000)
    } else if let Some(n) = l.strip_suffix('k') {
        (n, 1000)
    } else if let Some(n) = l.strip_suffix('b') {
        (n, 1)
    } else {
        (l.as_str(), 1)
    };
    let v: i64 = num.parse().ok()?;
    if v < 0 {
        return None;
    }
    (v as u64).checked_mul(mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        for bad in [&b"01"[..], b"+1", b" 1", b"1 ", b"-0", b"", b"-", b"1a"] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn floats_format_like_redis() {
        assert_eq!(format_f64(1.0), "1");
        assert_eq!(format_f64(1.5), "1.5");
        assert_eq!(format_f64(0.1), "0.10000000000000001");
        assert_eq!(format_f64(f64::INFINITY), "inf");
        assert_eq!(format_f64(1e20), "1e+20");
        assert_eq!(format_f64(123456.0), "123456");
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
    }

    #[test]
    fn globs() {
        assert!(glob_match(b"*", b"anything", false));
        assert!(glob_match(b"h?llo", b"hello", false));
        assert!(glob_match(b"h[ae]llo", b"hallo", false));
        assert!(!glob_match(b"h[^e]llo", b"hello", false));
        assert!(glob_match(b"h[a-b]llo", b"hbllo", false));
        assert!(glob_match(b"h\\*llo", b"h*llo", false));
        assert!(glob_match(b"HELLO", b"hello", true));
        assert!(!glob_match(b"a*b", b"acd", false));
    }

    #[test]
    fn splits_args_like_sdssplitargs() {
        assert_eq!(
            split_args(b"set a b").unwrap(),
            vec![b"set".to_vec(), b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(
            split_args(b"  \"a b\" 'c d'").unwrap(),
            vec![b"a b".to_vec(), b"c d".to_vec()]
        );
        assert_eq!(split_args(b"\"\\x41\\n\"").unwrap(), vec![b"A\n".to_vec()]);
        assert_eq!(split_args(b"\"abc"), Err(UnbalancedQuotes));
        assert_eq!(split_args(b"\"abc\"x"), Err(UnbalancedQuotes));
        assert_eq!(split_args(b"").unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(split_args(b"a\0b c").unwrap(), vec![b"a".to_vec()]);
        assert_eq!(split_args(b"\0\0x").unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(split_args(b"\"ab\0c\""), Err(UnbalancedQuotes));
        // Every byte sequence terminates (regression: NUL used to loop forever).
        let mut x: u32 = 1;
        for len in 0..2000 {
            let v: Vec<u8> = (0..len % 97)
                .map(|_| {
                    x = x.wrapping_mul(1103515245).wrapping_add(12345);
                    b" \"'\\x0a\0\t\r\n"[(x >> 16) as usize % 11]
                })
                .collect();
            let _ = split_args(&v);
        }
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1mb"), Some(1048576));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("x"), None);
    }
}

/// Quotes bytes the way Redis's `sdscatrepr` does (MONITOR, CLIENT LIST, logs).
pub fn repr(s: &[u8]) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for &c in s {
        match c {
            b'\\' => o.push_str("\\\\"),
            b'"' => o.push_str("\\\""),
            b'\n' => o.push_str("\\n"),
            b'\r' => o.push_str("\\r"),
            b'\t' => o.push_str("\\t"),
            7 => o.push_str("\\a"),
            8 => o.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => o.push(c as char),
            c => o.push_str(&format!("\\x{:02x}", c)),
        }
    }
    o.push('"');
    o
}

/// A fast non-cryptographic hasher for internal maps keyed by trusted values
/// (command names, client ids). Never used for client-controlled keys.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64)
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// Why INCRBYFLOAT-style arithmetic failed.
#[derive(Debug, PartialEq, Eq)]
pub enum FloatIncrError {
    /// One operand is not a valid float.
    NotAFloat,
    /// The result would be NaN or infinite.
    NanOrInfinity,
}

/// INCRBYFLOAT / HINCRBYFLOAT: `current + increment`, printed as Redis prints it
/// (80-bit long double arithmetic, `%.17Lf`; see `server::long_double`).
pub fn incr_float_str(current: &[u8], increment: &[u8]) -> Result<Vec<u8>, FloatIncrError> {
    use crate::server::long_double::{add, format_human, parse, NotFinite};
    let a = parse(current);
    let b = parse(increment);
    let (a, b) = match (a, b) {
        (Err(NotFinite::Invalid), _) | (_, Err(NotFinite::Invalid)) => {
            return Err(FloatIncrError::NotAFloat)
        }
        (Ok(a), Ok(b)) => (a, b),
        _ => return Err(FloatIncrError::NanOrInfinity),
    };
    let sum = add(&a, &b).map_err(|_| FloatIncrError::NanOrInfinity)?;
    Ok(format_human(&sum).into_bytes())
}

#[cfg(test)]
mod incr_float_tests {
    use super::*;

    fn inc(a: &str, b: &str) -> String {
        String::from_utf8(incr_float_str(a.as_bytes(), b.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn matches_redis_long_double_output() {
        assert_eq!(inc("0", "1.5"), "1.5");
        assert_eq!(inc("1.5", "0.1"), "1.6");
        assert_eq!(inc("1.6", "-2"), "-0.4");
        assert_eq!(inc("10.50", "0.1"), "10.6");
        assert_eq!(inc("10.6", "-5"), "5.6");
        assert_eq!(inc("5.0e3", "2.0e2"), "5200");
        assert_eq!(inc("10", "5.0e3"), "5010");
        assert_eq!(inc("5010", "1.25"), "5011.25");
        assert_eq!(inc("-1", "1"), "0");
        assert_eq!(inc("0", "1e-20"), "0");
        assert_eq!(inc("3", "0.000000000000000015"), "3.00000000000000001");
        assert_eq!(
            incr_float_str(b"1", b"inf"),
            Err(FloatIncrError::NanOrInfinity)
        );
        assert_eq!(incr_float_str(b"abc", b"1"), Err(FloatIncrError::NotAFloat));
    }
}
