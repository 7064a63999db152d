//! Request parsing, with Redis's limits and error texts.
//!
//! A client sends either a multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every
//! client library and redis-cli send) or an inline command (`GET k\r\n`, what telnet
//! sends). The parser works on the connection's buffer without consuming it: it
//! returns how many bytes a complete request used, so a partial request costs
//! nothing but a re-scan of its header when more bytes arrive.

use crate::server::util::{split_args, UnbalancedQuotes};

/// Longest inline request and longest `*N`/`$N` header line Redis accepts.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Largest multibulk element count Redis accepts from a normal client.
pub const PROTO_MAX_MULTIBULK: i64 = 1024 * 1024;

/// A request the server must refuse; the text is Redis's, and the connection closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(msg: &str) -> Self {
        ProtocolError(format!("Protocol error: {}", msg))
    }
}

/// What one call to [`parse_request`] found at the start of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseOutcome {
    /// A complete request: its arguments (possibly empty, for a blank inline line or
    /// `*0`), and the number of bytes it used.
    Request(Vec<Vec<u8>>, usize),
    /// Not enough bytes yet. `need` is a lower bound on the total bytes the request
    /// will take when known (used to reserve buffer room for big bulk strings).
    Incomplete { need: usize },
}

/// Parses one request from the start of `buf`.
///
/// `max_bulk` is `proto-max-bulk-len`. Inline requests are only accepted when
/// `allow_inline` (a master link never sends them, but Redis accepts blank lines there
/// as keep-alives, which the caller handles by passing true).
pub fn parse_request(buf: &[u8], max_bulk: i64) -> Result<ParseOutcome, ProtocolError> {
    if buf.is_empty() {
        return Ok(ParseOutcome::Incomplete { need: 1 });
    }
    if buf[0] == b'*' {
        parse_multibulk(buf, max_bulk)
    } else {
        parse_inline(buf)
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    // memchr-like scan for '\r' followed by '\n'.
    let mut i = from;
    while i < buf.len() {
        match buf[i..].iter().position(|&c| c == b'\r') {
            None => return None,
            Some(p) => {
                let at = i + p;
                if at + 1 < buf.len() {
                    if buf[at + 1] == b'\n' {
                        return Some(at);
                    }
                    i = at + 1;
                } else {
                    return None;
                }
            }
        }
    }
    None
}

/// Parses the digits of a `*N` or `$N` header like Redis's string2ll (sign allowed).
fn header_number(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, d) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if d.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

fn parse_multibulk(buf: &[u8], max_bulk: i64) -> Result<ParseOutcome, ProtocolError> {
    let Some(end) = find_crlf(buf, 1) else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(ProtocolError::new("too big mbulk count string"));
        }
        return Ok(ParseOutcome::Incomplete {
            need: buf.len() + 1,
        });
    };
    let count = match header_number(&buf[1..end]) {
        Some(n) if n <= PROTO_MAX_MULTIBULK => n,
        _ => return Err(ProtocolError::new("invalid multibulk length")),
    };
    let mut pos = end + 2;
    if count <= 0 {
        return Ok(ParseOutcome::Request(Vec::new(), pos));
    }
    // Don't trust the count for the allocation: a client could claim a million
    // elements and send nothing.
    let mut args = Vec::with_capacity((count as usize).min(1024));
    for _ in 0..count {
        if pos >= buf.len() {
            return Ok(ParseOutcome::Incomplete { need: pos + 1 });
        }
        let Some(hend) = find_crlf(buf, pos) else {
            if buf.len() - pos > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::new("too big bulk count string"));
            }
            if buf[pos] != b'$' {
                return Err(ProtocolError(format!(
                    "Protocol error: expected '$', got '{}'",
                    buf[pos] as char
                )));
            }
            return Ok(ParseOutcome::Incomplete {
                need: buf.len() + 1,
            });
        };
        if buf[pos] != b'$' {
            return Err(ProtocolError(format!(
                "Protocol error: expected '$', got '{}'",
                buf[pos] as char
            )));
        }
        let len = match header_number(&buf[pos + 1..hend]) {
            Some(n) if n >= 0 && n <= max_bulk => n as usize,
            _ => return Err(ProtocolError::new("invalid bulk length")),
        };
        let start = hend + 2;
        let need = start + len + 2;
        if buf.len() < need {
            return Ok(ParseOutcome::Incomplete { need });
        }
        args.push(buf[start..start + len].to_vec());
        pos = need;
    }
    Ok(ParseOutcome::Request(args, pos))
}

fn parse_inline(buf: &[u8]) -> Result<ParseOutcome, ProtocolError> {
    let Some(nl) = buf.iter().position(|&c| c == b'\n') else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(ProtocolError::new("too big inline request"));
        }
        return Ok(ParseOutcome::Incomplete {
            need: buf.len() + 1,
        });
    };
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    match split_args(line) {
        Ok(args) => Ok(ParseOutcome::Request(args, nl + 1)),
        Err(UnbalancedQuotes) => Err(ProtocolError::new("unbalanced quotes in request")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const MAX: i64 = 512 * 1024 * 1024;

    fn req(b: &[u8]) -> (Vec<Vec<u8>>, usize) {
        match parse_request(b, MAX).unwrap() {
            ParseOutcome::Request(a, n) => (a, n),
            other => panic!("{:?}", other),
        }
    }

    #[test]
    fn multibulk() {
        let (a, n) = req(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nextra");
        assert_eq!(a, vec![b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(n, 20);
    }

    #[test]
    fn partial_multibulk_is_incomplete() {
        let full = b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
        for i in 0..full.len() {
            assert!(matches!(
                parse_request(&full[..i], MAX).unwrap(),
                ParseOutcome::Incomplete { .. }
            ));
        }
        assert_eq!(req(full).1, full.len());
    }

    #[test]
    fn inline() {
        let (a, n) = req(b"set k \"a b\"\r\n");
        assert_eq!(a, vec![b"set".to_vec(), b"k".to_vec(), b"a b".to_vec()]);
        assert_eq!(n, 13);
        assert_eq!(req(b"\r\n").0.len(), 0);
    }

    #[test]
    fn protocol_errors() {
        let e = |b: &[u8]| parse_request(b, MAX).unwrap_err().0;
        assert_eq!(e(b"*abc\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(
            e(b"*1048577\r\n"),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(e(b"*1\r\nx\r\n"), "Protocol error: expected '$', got 'x'");
        assert_eq!(e(b"*1\r\n$-5\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(
            e(b"*1\r\n$536870913\r\n"),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            e(b"get \"a\r\n"),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            e(&vec![b'a'; 70000]),
            "Protocol error: too big inline request"
        );
    }
}
