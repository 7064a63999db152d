//! Request parsing, with Redis's limits and error texts.
//!
//! A client sends either a multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every
//! client library and redis-cli send) or an inline command (`GET k\r\n`, what telnet
//! sends).
//!
//! The parser is incremental: a [`RequestParser`] remembers how far into the
//! request at the start of the buffer it got (the element count, the offsets of the
//! elements already complete, the length of the bulk being read), so when more bytes
//! arrive it goes on from there. A request of N bytes costs O(N) however the bytes
//! are split across reads, and each argument is copied exactly once, out of the
//! input buffer, when its request is complete. The parser does not consume the
//! buffer: it reports how many bytes a complete request used, and the buffer's
//! owner must not move the bytes of a request in progress relative to its start.

use crate::server::util::{split_args, UnbalancedQuotes};

/// Longest inline request and longest `*N`/`$N` header line Redis accepts.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Largest multibulk element count Redis accepts from a normal client.
pub const PROTO_MAX_MULTIBULK: i64 = 1024 * 1024;
/// Before authentication a multibulk may have at most this many elements
/// (Redis's limit since CVE-2021-32675).
pub const UNAUTHENTICATED_MAX_MULTIBULK: i64 = 10;
/// Before authentication a bulk string may be at most this long.
pub const UNAUTHENTICATED_MAX_BULK: i64 = 16 * 1024;

/// A request the server must refuse; the text is Redis's, and the connection closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(msg: &str) -> Self {
        ProtocolError(format!("Protocol error: {}", msg))
    }
}

/// What one call to [`RequestParser::parse`] found at the start of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseOutcome {
    /// A complete request: its arguments (possibly empty, for a blank inline line or
    /// `*0`), and the number of bytes it used.
    Request(Vec<Vec<u8>>, usize),
    /// Not enough bytes yet. `need` is a lower bound on the total bytes the request
    /// will take when known (used to reserve buffer room for big bulk strings).
    Incomplete { need: usize },
}

/// The limits a request is parsed under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk: i64,
    /// Whether the client may send requests of any size: false for a client that
    /// still has to AUTH, which gets Redis's pre-authentication limits.
    pub authenticated: bool,
}

/// Where the parser stands in the request at the start of the buffer.
#[derive(Debug, Default)]
pub struct RequestParser {
    /// Bytes of the current request already parsed.
    pos: usize,
    /// For a multibulk whose header is parsed: the elements still to come.
    remaining: Option<usize>,
    /// Elements taken out of the buffer before the ones in `elements`: those
    /// that preceded a big argument, and the big argument itself (see
    /// [`RequestParser::detach`]).
    detached: Vec<Vec<u8>>,
    /// Byte ranges (start, length) of the elements already complete.
    elements: Vec<(usize, usize)>,
    /// The element being read: where its data starts and its length.
    bulk: Option<(usize, usize)>,
    /// How far a header line or inline request has been scanned for its end.
    scanned: usize,
    /// Bytes examined in all (tests check that this stays linear in the input).
    #[cfg(test)]
    examined: usize,
}

impl RequestParser {
    /// A parser at the start of a request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses on from where the last call stopped, in `buf`, which holds the
    /// request in progress from its first byte (plus whatever arrived since).
    /// After a complete request or an error the parser is back at a request's
    /// start; after `Incomplete` it must be called again with the same bytes
    /// followed by more.
    pub fn parse(&mut self, buf: &[u8], limits: Limits) -> Result<ParseOutcome, ProtocolError> {
        let r = if self.remaining.is_some() || buf.first() == Some(&b'*') {
            self.parse_multibulk(buf, limits)
        } else if buf.is_empty() {
            Ok(ParseOutcome::Incomplete { need: 1 })
        } else {
            self.parse_inline(buf)
        };
        if !matches!(r, Ok(ParseOutcome::Incomplete { .. })) {
            *self = RequestParser {
                elements: std::mem::take(&mut self.elements),
                #[cfg(test)]
                examined: self.examined,
                ..Default::default()
            };
            self.elements.clear();
        }
        r
    }

    /// Finds the `\r\n` ending the line that starts at `self.pos`, scanning only
    /// bytes not scanned before.
    fn line_end(&mut self, buf: &[u8]) -> Option<usize> {
        let from = self.scanned.max(self.pos);
        let found = find_crlf(buf, from);
        #[cfg(test)]
        {
            self.examined += found.map_or(buf.len(), |at| at + 2).saturating_sub(from);
        }
        match found {
            Some(at) => {
                self.scanned = 0;
                Some(at)
            }
            None => {
                // The last byte may be a '\r' whose '\n' has not arrived yet.
                self.scanned = buf.len().saturating_sub(1).max(self.pos);
                None
            }
        }
    }

    fn parse_multibulk(
        &mut self,
        buf: &[u8],
        limits: Limits,
    ) -> Result<ParseOutcome, ProtocolError> {
        if self.remaining.is_none() {
            let Some(end) = self.line_end(buf) else {
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
            if !limits.authenticated && count > UNAUTHENTICATED_MAX_MULTIBULK {
                return Err(ProtocolError::new("unauthenticated multibulk length"));
            }
            self.pos = end + 2;
            if count <= 0 {
                return Ok(ParseOutcome::Request(Vec::new(), self.pos));
            }
            self.remaining = Some(count as usize);
            // Don't trust the count for the allocation: a client could claim a
            // million elements and send nothing.
            self.elements.reserve((count as usize).min(1024));
        }
        while let Some(remaining) = self.remaining.filter(|&n| n > 0) {
            let (start, len) = match self.bulk {
                Some(b) => b,
                None => {
                    let pos = self.pos;
                    if pos >= buf.len() {
                        return Ok(ParseOutcome::Incomplete { need: pos + 1 });
                    }
                    if buf[pos] != b'$' {
                        return Err(ProtocolError(format!(
                            "Protocol error: expected '$', got '{}'",
                            buf[pos] as char
                        )));
                    }
                    let Some(hend) = self.line_end(buf) else {
                        if buf.len() - pos > PROTO_INLINE_MAX_SIZE {
                            return Err(ProtocolError::new("too big bulk count string"));
                        }
                        return Ok(ParseOutcome::Incomplete {
                            need: buf.len() + 1,
                        });
                    };
                    let len = match header_number(&buf[pos + 1..hend]) {
                        Some(n) if n >= 0 && n <= limits.max_bulk => n,
                        _ => return Err(ProtocolError::new("invalid bulk length")),
                    };
                    if !limits.authenticated && len > UNAUTHENTICATED_MAX_BULK {
                        return Err(ProtocolError::new("unauthenticated bulk length"));
                    }
                    let b = (hend + 2, len as usize);
                    self.bulk = Some(b);
                    self.pos = hend + 2;
                    b
                }
            };
            let need = start + len + 2;
            if buf.len() < need {
                return Ok(ParseOutcome::Incomplete { need });
            }
            self.elements.push((start, len));
            self.bulk = None;
            self.pos = need;
            self.remaining = Some(remaining - 1);
        }
        let mut args = std::mem::take(&mut self.detached);
        args.extend(
            self.elements
                .iter()
                .map(|&(s, l)| crate::server::util::copy_bytes(&buf[s..s + l])),
        );
        Ok(ParseOutcome::Request(args, self.pos))
    }

    /// The bulk argument whose header is parsed and whose data has not all
    /// arrived: where its data starts in the buffer and its length.
    pub fn pending_bulk(&self) -> Option<(usize, usize)> {
        self.bulk
    }

    /// Prepares a big argument's own buffer (Redis's big-argument path): the
    /// complete elements of `buf` (the request so far) are copied out, and the
    /// parser then expects a buffer that starts with the pending bulk's data.
    /// Returns the bulk's length; None when no bulk is pending.
    pub fn detach(&mut self, buf: &[u8]) -> Option<usize> {
        let (_, len) = self.bulk?;
        for &(s, l) in &self.elements {
            self.detached.push(buf[s..s + l].to_vec());
        }
        self.elements.clear();
        self.bulk = Some((0, len));
        self.pos = 0;
        self.scanned = 0;
        Some(len)
    }

    /// Hands over the pending bulk's data as an element, without a copy (after
    /// [`RequestParser::detach`]); parsing goes on at the start of the next
    /// buffer.
    pub fn take_bulk(&mut self, data: Vec<u8>) {
        self.detached.push(data);
        self.bulk = None;
        self.pos = 0;
        self.scanned = 0;
        if let Some(n) = self.remaining.as_mut() {
            *n = n.saturating_sub(1);
        }
    }

    fn parse_inline(&mut self, buf: &[u8]) -> Result<ParseOutcome, ProtocolError> {
        let from = self.scanned;
        let Some(nl) = buf[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map(|p| p + from)
        else {
            if buf.len() > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::new("too big inline request"));
            }
            self.scanned = buf.len();
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
}

/// Parses one request from the start of `buf` with a fresh parser (for callers
/// that hold the whole request, and as the reference the incremental parse must
/// agree with).
#[cfg(test)]
pub fn parse_request(buf: &[u8], limits: Limits) -> Result<ParseOutcome, ProtocolError> {
    RequestParser::new().parse(buf, limits)
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        let at = i + buf[i..].iter().position(|&c| c == b'\r')?;
        if at + 1 >= buf.len() {
            return None;
        }
        if buf[at + 1] == b'\n' {
            return Some(at);
        }
        i = at + 1;
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

#[cfg(test)]
mod tests {
    use super::*;
    const OPEN: Limits = Limits {
        max_bulk: 512 * 1024 * 1024,
        authenticated: true,
    };
    const PRE_AUTH: Limits = Limits {
        max_bulk: 512 * 1024 * 1024,
        authenticated: false,
    };

    fn req(b: &[u8]) -> (Vec<Vec<u8>>, usize) {
        match parse_request(b, OPEN).unwrap() {
            ParseOutcome::Request(a, n) => (a, n),
            other => panic!("{:?}", other),
        }
    }

    /// Feeds `bytes` to one parser in pieces of the given sizes, as reads would.
    fn feed(
        bytes: &[u8],
        pieces: &[usize],
        limits: Limits,
    ) -> Vec<Result<ParseOutcome, ProtocolError>> {
        let mut p = RequestParser::new();
        let mut out = Vec::new();
        let mut have = 0;
        let mut start = 0;
        let mut cuts = pieces.iter().cycle();
        while have < bytes.len() {
            have = (have + cuts.next().copied().unwrap_or(1).max(1)).min(bytes.len());
            loop {
                let r = p.parse(&bytes[start..have], limits);
                match &r {
                    Ok(ParseOutcome::Request(_, n)) => {
                        start += n;
                        out.push(r);
                    }
                    Ok(ParseOutcome::Incomplete { .. }) => break,
                    Err(_) => {
                        out.push(r);
                        return out;
                    }
                }
            }
        }
        out
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
                parse_request(&full[..i], OPEN).unwrap(),
                ParseOutcome::Incomplete { .. }
            ));
        }
        assert_eq!(req(full).1, full.len());
    }

    #[test]
    fn byte_by_byte_equals_one_shot() {
        let stream =
            b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\nPING\r\n*0\r\n\r\nset a \"b c\"\n*1\r\n$0\r\n\r\n";
        let whole = feed(stream, &[stream.len()], OPEN);
        for size in 1..8 {
            assert_eq!(feed(stream, &[size], OPEN), whole, "pieces of {}", size);
        }
        assert_eq!(whole.len(), 6);
    }

    /// The work is linear in the request's size whatever the read sizes: a
    /// multibulk of 20,000 elements fed 7 bytes at a time examines each header
    /// byte about once (the old parser re-read every header on every read).
    #[test]
    fn parsing_is_linear_in_the_request_size() {
        let n = 20_000;
        let mut req = format!("*{}\r\n", n).into_bytes();
        for i in 0..n {
            let a = format!("arg{}", i);
            req.extend(format!("${}\r\n{}\r\n", a.len(), a).as_bytes());
        }
        let mut p = RequestParser::new();
        let mut calls = 0;
        let mut have = 0;
        let done = loop {
            have = (have + 7).min(req.len());
            calls += 1;
            match p.parse(&req[..have], OPEN).unwrap() {
                ParseOutcome::Request(args, used) => break (args.len(), used),
                ParseOutcome::Incomplete { .. } => assert!(have < req.len()),
            }
        };
        assert_eq!(done, (n, req.len()));
        assert!(calls >= req.len() / 7);
        assert!(
            p.examined < 2 * req.len(),
            "examined {} bytes for a request of {}",
            p.examined,
            req.len()
        );
    }

    #[test]
    fn a_detached_big_bulk_is_handed_over_whole() {
        // The request's head, then the bulk's data in a buffer of its own,
        // then the rest of the request in a fresh buffer.
        let head = b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nabc";
        let mut p = RequestParser::new();
        let limits = Limits {
            max_bulk: 512 * 1024 * 1024,
            authenticated: true,
        };
        assert!(matches!(
            p.parse(head, limits),
            Ok(ParseOutcome::Incomplete { .. })
        ));
        assert_eq!(p.pending_bulk(), Some((head.len() - 3, 6)));
        assert_eq!(p.detach(head), Some(6));
        // The bulk's own buffer fills up; the caller hands it over.
        let mut own = b"abc".to_vec();
        own.extend_from_slice(b"def\r\n");
        own.truncate(6);
        p.take_bulk(own);
        let tail = b"$2\r\nEX\r\n";
        assert!(matches!(
            p.parse(&tail[..4], limits),
            Ok(ParseOutcome::Incomplete { .. })
        ));
        match p.parse(tail, limits) {
            Ok(ParseOutcome::Request(args, n)) => {
                assert_eq!(
                    args,
                    vec![
                        b"SET".to_vec(),
                        b"k".to_vec(),
                        b"abcdef".to_vec(),
                        b"EX".to_vec()
                    ]
                );
                assert_eq!(n, tail.len());
            }
            other => panic!("{other:?}"),
        }
        // The next request starts clean.
        assert_eq!(req(b"*1\r\n$4\r\nPING\r\n").0, vec![b"PING".to_vec()]);
        assert_eq!(p.pending_bulk(), None);
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
        let e = |b: &[u8]| parse_request(b, OPEN).unwrap_err().0;
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

    #[test]
    fn pre_authentication_limits() {
        let e = |b: &[u8]| parse_request(b, PRE_AUTH).unwrap_err().0;
        assert_eq!(
            e(b"*11\r\n"),
            "Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(
            e(b"*1048576\r\n"),
            "Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(
            e(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n"),
            "Protocol error: unauthenticated bulk length"
        );
        // At the limits, and the same requests once authenticated.
        let ten = b"*10\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n";
        assert!(matches!(
            parse_request(ten, PRE_AUTH),
            Ok(ParseOutcome::Request(ref a, _)) if a.len() == 10
        ));
        let mut big = b"*1\r\n$16384\r\n".to_vec();
        big.extend(vec![b'x'; 16384]);
        big.extend(b"\r\n");
        assert!(matches!(
            parse_request(&big, PRE_AUTH),
            Ok(ParseOutcome::Request(..))
        ));
        assert!(matches!(
            parse_request(b"*11\r\n", OPEN),
            Ok(ParseOutcome::Incomplete { .. })
        ));
    }

    /// A seeded generator of requests, valid and broken, cut at random places:
    /// the incremental parser must agree with a one-shot parse of the same bytes
    /// and never panic.
    #[test]
    fn fuzz_incremental_agrees_with_one_shot() {
        let mut rng = crate::server::util::Rng::seeded(0x0072_190d);
        for round in 0..20000 {
            let mut bytes = Vec::new();
            for _ in 0..rng.below(6) + 1 {
                bytes.extend(random_request(&mut rng));
            }
            let limits = Limits {
                max_bulk: if rng.below(4) == 0 { 64 } else { 1 << 20 },
                authenticated: rng.below(3) != 0,
            };
            let whole = feed(&bytes, &[bytes.len()], limits);
            let pieces: Vec<usize> = (0..5).map(|_| rng.below(9) as usize + 1).collect();
            assert_eq!(
                feed(&bytes, &pieces, limits),
                whole,
                "round {} bytes {:?} pieces {:?}",
                round,
                String::from_utf8_lossy(&bytes),
                pieces
            );
        }
    }

    fn random_request(rng: &mut crate::server::util::Rng) -> Vec<u8> {
        let mut v = Vec::new();
        match rng.below(10) {
            0 => v.extend(b"PING\r\n"),
            1 => v.extend(b"set k \"a b\" 'c'\r\n"),
            2 => {
                // Random bytes.
                for _ in 0..rng.below(20) {
                    v.push(b"*$\r\n0123456789-abc\"' "[rng.below(20) as usize]);
                }
            }
            _ => {
                let n = rng.below(14);
                v.extend(format!("*{}\r\n", n).as_bytes());
                for _ in 0..n {
                    let len = rng.below(40) as usize;
                    v.extend(format!("${}\r\n", len).as_bytes());
                    v.extend((0..len).map(|i| b'a' + (i % 26) as u8));
                    v.extend(b"\r\n");
                }
            }
        }
        // Sometimes damage one byte.
        if !v.is_empty() && rng.below(5) == 0 {
            let at = rng.below(v.len() as u64) as usize;
            v[at] = b"*$\r\n9x-"[rng.below(7) as usize];
        }
        v
    }
}
