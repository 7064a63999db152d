//! Argument helpers shared by command families: typed key lookups for reads,
//! the `numkeys key... WHERE [COUNT n]` form of the MPOP commands, and blocking
//! timeouts.

use crate::server::client::Client;
use crate::server::resp::errors;
use crate::server::state::Server;

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
