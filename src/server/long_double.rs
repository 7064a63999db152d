//! The x87 80-bit `long double` arithmetic INCRBYFLOAT and HINCRBYFLOAT use in
//! Redis, emulated exactly, so that replies match Redis digit for digit
//! (`SET k 1234` then `INCRBYFLOAT k 0.1` answers 1234.09999999999999998).
//!
//! Redis parses both operands with strtold (rounding each to a 64-bit
//! mantissa), adds them (rounding again), refuses NaN and infinities, and prints
//! `%.17Lf` with trailing zeros removed. Here a value is `m * 2^e` with `m` a
//! big integer of at most 64 bits; every rounding is to nearest, ties to even,
//! as the FPU does.
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};

/// A finite long double: (-1)^neg * m * 2^e, m < 2^64.
#[derive(Debug, Clone, PartialEq)]
pub struct Ld {
    neg: bool,
    m: BigUint,
    e: i64,
}

/// The largest binary exponent of a finite long double (value < 2^16384).
const MAX_EXP: i64 = 16384;
/// Values below 2^-16445 round to zero (subnormals are not modelled).
const MIN_EXP: i64 = -16445;

/// Why a value is not a finite long double.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFinite {
    Invalid,
    Infinite,
}

/// Rounds `n * 2^e` to a 64-bit mantissa (ties to even).
fn round64(neg: bool, n: BigUint, e: i64) -> Result<Ld, NotFinite> {
    if n.is_zero() {
        return Ok(Ld { neg, m: n, e: 0 });
    }
    let bits = n.bits() as i64;
    let (m, e) = if bits <= 64 {
        (n, e)
    } else {
        let k = (bits - 64) as usize;
        let mut q = &n >> k;
        let rem = &n - (&q << k);
        let half = BigUint::one() << (k - 1);
        if rem > half || (rem == half && q.is_odd()) {
            q += 1u32;
        }
        let mut e = e + k as i64;
        if q.bits() > 64 {
            q >>= 1usize;
            e += 1;
        }
        (q, e)
    };
    if e + m.bits() as i64 > MAX_EXP {
        return Err(NotFinite::Infinite);
    }
    if e + (m.bits() as i64) < MIN_EXP {
        return Ok(Ld {
            neg,
            m: BigUint::zero(),
            e: 0,
        });
    }
    Ok(Ld { neg, m, e })
}

/// Rounds the ratio num/den to a long double.
fn round_ratio(neg: bool, num: BigUint, den: &BigUint) -> Result<Ld, NotFinite> {
    if num.is_zero() {
        return Ok(Ld { neg, m: num, e: 0 });
    }
    // Scale so that the quotient has at least 66 bits, then round it.
    let shift = (den.bits() as i64 - num.bits() as i64 + 66).max(0) as usize;
    let (q, r) = (num << shift).div_rem(den);
    // The remainder only matters as a sticky bit below the quotient's last bit.
    let q = (q << 1usize)
        | if r.is_zero() {
            BigUint::zero()
        } else {
            BigUint::one()
        };
    round64(neg, q, -(shift as i64) - 1)
}

/// Parses what strtold accepts in Redis's string2ld: an optional sign, digits
/// with an optional point, an optional exponent, or inf/infinity. No spaces,
/// nothing after the number, no NaN.
pub fn parse(s: &[u8]) -> Result<Ld, NotFinite> {
    let t = std::str::from_utf8(s).map_err(|_| NotFinite::Invalid)?;
    if t.is_empty() || t.len() > 5120 || t.starts_with(|c: char| c.is_ascii_whitespace()) {
        return Err(NotFinite::Invalid);
    }
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Err(NotFinite::Infinite);
    }
    let (mant, exp) = match lower.find('e') {
        Some(i) => (&lower[..i], Some(&lower[i + 1..])),
        None => (&lower[..], None),
    };
    let (int_part, frac_part) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(NotFinite::Invalid);
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(NotFinite::Invalid);
    }
    let mut e10: i64 = match exp {
        None => 0,
        Some(x) => {
            let (sign, digits) = match x.as_bytes().first() {
                Some(b'-') => (-1, &x[1..]),
                Some(b'+') => (1, &x[1..]),
                _ => (1, x),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(NotFinite::Invalid);
            }
            // Exponents beyond this overflow or vanish whatever the digits.
            let v: i64 = digits.parse::<i64>().unwrap_or(100_000).min(100_000);
            sign * v
        }
    };
    e10 -= frac_part.len() as i64;
    let digits = format!("{}{}", int_part, frac_part);
    let n = BigUint::parse_bytes(digits.as_bytes(), 10).unwrap_or_default();
    if n.is_zero() {
        return Ok(Ld { neg, m: n, e: 0 });
    }
    let ten = BigUint::from(10u32);
    if e10 >= 0 {
        if e10 > 6000 {
            return Err(NotFinite::Infinite);
        }
        round64(neg, n * ten.pow(e10 as u32), 0)
    } else {
        if -e10 > 12000 {
            return Ok(Ld {
                neg,
                m: BigUint::zero(),
                e: 0,
            });
        }
        round_ratio(neg, n, &ten.pow((-e10) as u32))
    }
}

/// a + b, rounded.
pub fn add(a: &Ld, b: &Ld) -> Result<Ld, NotFinite> {
    if a.m.is_zero() {
        return Ok(b.clone());
    }
    if b.m.is_zero() {
        return Ok(a.clone());
    }
    let e = a.e.min(b.e);
    let x = &a.m << ((a.e - e) as usize);
    let y = &b.m << ((b.e - e) as usize);
    if a.neg == b.neg {
        round64(a.neg, x + y, e)
    } else if x >= y {
        round64(a.neg, x - y, e)
    } else {
        round64(b.neg, y - x, e)
    }
}

/// `%.17Lf` with trailing zeros (and a bare point) removed, "-0" as "0".
pub fn format_human(v: &Ld) -> String {
    let ten17 = BigUint::from(10u32).pow(17);
    let scaled = if v.e >= 0 {
        (&v.m << (v.e as usize)) * &ten17
    } else {
        let d = BigUint::one() << ((-v.e) as usize);
        let (q, r) = (&v.m * &ten17).div_rem(&d);
        let twice = r << 1usize;
        if twice > d || (twice == d && q.is_odd()) {
            q + 1u32
        } else {
            q
        }
    };
    let (int_part, frac) = scaled.div_rem(&ten17);
    let frac = format!("{:017}", frac.to_u64().unwrap_or(0));
    let frac = frac.trim_end_matches('0');
    let mut s = String::new();
    if v.neg && !(int_part.is_zero() && frac.is_empty()) {
        s.push('-');
    }
    s.push_str(&int_part.to_str_radix(10));
    if !frac.is_empty() {
        s.push('.');
        s.push_str(frac);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(a: &str, b: &str) -> String {
        let x = parse(a.as_bytes()).unwrap();
        let y = parse(b.as_bytes()).unwrap();
        format_human(&add(&x, &y).unwrap())
    }

    #[test]
    fn matches_redis_7_outputs() {
        // Observed on Redis 7.0 (x86-64 long double).
        assert_eq!(inc("1234", "0.1"), "1234.09999999999999998");
        assert_eq!(
            inc("1234.09999999999999998", "1e20"),
            "100000000000000001232"
        );
        assert_eq!(inc("100000000000000001232", "0.3"), "100000000000000001232");
        assert_eq!(inc("3.0e3", "1.15"), "3001.14999999999999991");
        assert_eq!(
            inc("3001.14999999999999991", "100000000.123456789"),
            "100003001.27345678900019266"
        );
        assert_eq!(
            inc("-10000000000000000000000000", "-2.25"),
            "-10000000000000000000000000"
        );
        assert_eq!(inc("10.5", "0.1"), "10.6");
        assert_eq!(inc("1.6", "-2"), "-0.4");
        assert_eq!(inc("5.0e3", "2.0e2"), "5200");
        assert_eq!(inc("-1", "1"), "0");
        assert_eq!(inc("0", "1e-20"), "0");
    }

    #[test]
    fn refuses_what_strtold_refuses() {
        assert_eq!(parse(b" 1"), Err(NotFinite::Invalid));
        assert_eq!(parse(b"1 "), Err(NotFinite::Invalid));
        assert_eq!(parse(b"nan"), Err(NotFinite::Invalid));
        assert_eq!(parse(b"inf"), Err(NotFinite::Infinite));
        assert_eq!(parse(b"1e99999"), Err(NotFinite::Infinite));
        assert_eq!(parse(b"."), Err(NotFinite::Invalid));
        assert_eq!(parse(b"1e"), Err(NotFinite::Invalid));
        assert!(parse(b"1e4000").is_ok());
        assert!(parse(b".5").is_ok());
        assert!(parse(b"5.").is_ok());
    }
}
