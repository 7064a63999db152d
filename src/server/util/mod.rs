//! Helpers shared by the whole server, with Redis's exact rules (Redis keeps
//! these in util.c and sds.c), one module per concern; everything is
//! re-exported here.

mod args;
mod clock;
mod copy;
mod glob;
mod hashing;
mod numbers;
mod random;

pub use args::*;
pub use clock::*;
pub use copy::*;
pub use glob::*;
pub use hashing::*;
pub use numbers::*;
pub use random::*;

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
        // Exponential without the early exit (Redis's skipLongerMatches).
        let started = std::time::Instant::now();
        let long_a = [b'a'; 40];
        assert!(!glob_match(
            b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
            &long_a,
            false
        ));
        assert!(glob_match(
            b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*",
            &long_a,
            false
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(glob_match(b"*x*y*z", b"axbyczz", false));
        assert!(!glob_match(b"*x*y*z", b"axbycz1", false));
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
