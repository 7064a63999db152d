//! Argument helpers shared by command families: typed key lookups for reads,
//! the `numkeys key... WHERE [COUNT n]` form of the MPOP commands, blocking
//! timeouts, and the SCAN family's cursor, options and step loop.

use crate::server::client::Client;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::util::{parse_i64, parse_u64};

/// Looks `key` up for reading and checks its type: Ok(true) when it holds a value
/// for which `is` holds, Ok(false) when it does not exist, Err after replying
/// WRONGTYPE.
pub(crate) fn check_read_type(
    srv: &mut Server,
    c: &mut Client,
    key: &[u8],
    is: fn(&crate::server::types::Value) -> bool,
) -> Result<bool, ()> {
    match srv.lookup_read(c, key).map(|e| is(&e.value)) {
        None => Ok(false),
        Some(true) => Ok(true),
        Some(false) => {
            c.reply.error(crate::server::types::WRONGTYPE);
            Err(())
        }
    }
}

/// Parses `numkeys key... WHERE [COUNT n]` of LMPOP/ZMPOP and their blocking
/// forms, starting at argv[first]; `side` reads WHERE (LEFT|RIGHT, MIN|MAX).
/// Replies Redis's error and returns None when an argument is bad.
pub fn parse_mpop<D>(
    c: &mut Client,
    argv: &[Vec<u8>],
    first: usize,
    side: fn(&[u8]) -> Option<D>,
) -> Option<(Vec<Vec<u8>>, D, usize)> {
    let numkeys = match crate::server::util::parse_i64(&argv[first]) {
        Some(n) if n > 0 => n as usize,
        _ => {
            c.reply.error(errors::NUMKEYS_NOT_POSITIVE);
            return None;
        }
    };
    let keys_end = first + 1 + numkeys;
    if keys_end >= argv.len() {
        c.reply.error(errors::SYNTAX);
        return None;
    }
    let Some(d) = side(&argv[keys_end]) else {
        c.reply.error(errors::SYNTAX);
        return None;
    };
    let mut count = 1usize;
    let rest = &argv[keys_end + 1..];
    match rest.len() {
        0 => {}
        2 if rest[0].eq_ignore_ascii_case(b"count") => {
            match crate::server::util::parse_i64(&rest[1]) {
                Some(n) if n > 0 => count = n as usize,
                _ => {
                    c.reply.error("ERR count should be greater than 0");
                    return None;
                }
            }
        }
        _ => {
            c.reply.error(errors::SYNTAX);
            return None;
        }
    }
    Some((argv[first + 1..keys_end].to_vec(), d, count))
}

/// Parses a blocking timeout argument (seconds, may be fractional) like Redis.
pub fn parse_timeout(arg: &[u8]) -> Result<i64, String> {
    let v =
        crate::server::util::parse_f64(arg).ok_or("ERR timeout is not a float or out of range")?;
    if v < 0.0 {
        return Err(errors::TIMEOUT_NEGATIVE.into());
    }
    if v > (i64::MAX / 1000) as f64 {
        return Err("ERR timeout is out of range".into());
    }
    Ok((v * 1000.0).ceil() as i64)
}

/// The SCAN family's options after the cursor.
pub struct ScanOpts {
    pub pattern: Option<Vec<u8>>,
    pub count: usize,
    pub type_name: Option<String>,
}

/// Parses SCAN-family options from argv[start]: MATCH, COUNT and (for SCAN,
/// `allow_type`) TYPE, with Redis's errors.
pub fn parse_scan_opts(
    argv: &[Vec<u8>],
    start: usize,
    allow_type: bool,
) -> Result<ScanOpts, String> {
    let mut o = ScanOpts {
        pattern: None,
        count: 10,
        type_name: None,
    };
    let mut i = start;
    while i < argv.len() {
        let a = argv[i].to_ascii_lowercase();
        let rest = argv.len() - i - 1;
        if a == b"count" && rest >= 1 {
            match parse_i64(&argv[i + 1]) {
                Some(n) if n >= 1 => o.count = n as usize,
                Some(_) => return Err(errors::SYNTAX.into()),
                None => return Err(errors::NOT_INTEGER.into()),
            }
            i += 2;
        } else if a == b"match" && rest >= 1 {
            let p = argv[i + 1].clone();
            o.pattern = if p == b"*" { None } else { Some(p) };
            i += 2;
        } else if a == b"type" && rest >= 1 && allow_type {
            o.type_name = Some(String::from_utf8_lossy(&argv[i + 1]).to_ascii_lowercase());
            i += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok(o)
}

/// Parses `KEY cursor [MATCH pattern] [COUNT count]` of HSCAN/SSCAN/ZSCAN;
/// replies the error and returns None when an argument is bad.
pub fn parse_scan_args(c: &mut Client, argv: &[Vec<u8>]) -> Option<(u64, ScanOpts)> {
    let parsed = parse_cursor(&argv[2]).and_then(|cur| Ok((cur, parse_scan_opts(argv, 3, false)?)));
    match parsed {
        Ok(v) => Some(v),
        Err(e) => {
            c.reply.error(&e);
            None
        }
    }
}

/// Runs SCAN steps from `cursor` the way Redis does: until `step` reports at
/// least `count` elements gathered, the cursor comes back to 0, or count*10
/// steps (sparse tables). `step` visits one bucket and returns the next cursor
/// and the progress so far. Returns the cursor to hand back.
pub fn scan_steps(cursor: u64, count: usize, mut step: impl FnMut(u64) -> (u64, usize)) -> u64 {
    let mut cur = cursor;
    let mut budget = count * 10;
    loop {
        let (next, progress) = step(cur);
        cur = next;
        budget = budget.saturating_sub(1);
        if cur == 0 || progress >= count || budget == 0 {
            return cur;
        }
    }
}

/// Parses a SCAN cursor (errors::INVALID_CURSOR like Redis).
pub fn parse_cursor(arg: &[u8]) -> Result<u64, String> {
    parse_u64(arg).ok_or_else(|| errors::INVALID_CURSOR.to_string())
}
