//! Numbers with Redis's exact rules (util.c): strict integer parsing, float
//! parsing and `%.17g` formatting, memory sizes in redis.conf, and
//! INCRBYFLOAT's long-double arithmetic.

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
///
/// Integral values below 10^17 (most scores and counters) print as integers,
/// which is what `%.17g` gives for them, without the exact-digit machinery.
/// Others take 17 significant digits once (Rust's exact `{:.16e}`) and lay them
/// out in fixed or scientific form as `%g` does; the digits are the same in
/// both forms, so there is no second formatting pass.
fn format_g17(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e17 {
        return itoa::Buffer::new().format(v as i64).to_string();
    }
    let sci = format!("{:.16e}", v);
    let (mant, e) = sci.split_once('e').unwrap_or((&sci, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    if !(-4..17).contains(&e) {
        let mant = trim_fraction(mant);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{}e{}{:02}", mant, sign, e.abs());
    }
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    // The 17 significant digits, without the point.
    let digits: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if e >= 0 {
        let int_len = e as usize + 1;
        out.push_str(std::str::from_utf8(&digits[..int_len]).unwrap_or("0"));
        out.push('.');
        out.push_str(std::str::from_utf8(&digits[int_len..]).unwrap_or(""));
    } else {
        out.push_str("0.");
        for _ in 0..(-e - 1) {
            out.push('0');
        }
        out.push_str(std::str::from_utf8(&digits).unwrap_or(""));
    }
    let keep = trim_fraction(&out).len();
    out.truncate(keep);
    out
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
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

#[cfg(test)]
mod g17_tests {
    /// `format_f64` prints what C's `%.17g` prints (the digits Redis 7.0
    /// replies with), for integral, tiny, huge and random doubles.
    #[test]
    fn format_f64_is_printf_g17() {
        fn printf(v: f64) -> String {
            let mut buf = [0u8; 64];
            // SAFETY: the buffer is 64 bytes and snprintf writes at most that many.
            let n = unsafe {
                libc::snprintf(
                    buf.as_mut_ptr() as *mut libc::c_char,
                    buf.len(),
                    c"%.17g".as_ptr(),
                    v,
                )
            };
            String::from_utf8_lossy(&buf[..n as usize]).into_owned()
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut values = vec![
            1.0,
            -1.0,
            2.5,
            0.1,
            -0.1,
            1e16,
            1e17,
            99999999999999999.0,
            1e-4,
            1e-5,
            123.456,
            0.000123,
            1.5e300,
            -2.2e-300,
            3.0e16,
            12345678901234567.0,
            0.3,
            1.0 / 3.0,
            9.999999999999999e16,
            5e-324,
        ];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_finite() {
                values.push(v);
            }
            values.push((x % 2_000_000) as f64 / 8.0 - 100_000.0);
            values.push((x >> 11) as f64 * 1e-3);
        }
        for v in values {
            if v == 0.0 {
                continue;
            }
            assert_eq!(super::format_f64(v), printf(v), "{:e}", v);
        }
    }
}
