//! Stream entry ids (`<ms>-<seq>`): ordering, successor/predecessor, and the
//! parsing rules of Redis's streamGenericParseIDOrReply.

/// A stream entry id. Ordered by milliseconds, then sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// The reply Redis gives for an id it cannot parse.
pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

impl StreamId {
    /// The smallest id, 0-0.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest id, which `+` stands for.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An id from its two parts.
    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// Whether this is 0-0.
    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next id (streamIncrID): None when this is the largest one.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous id (streamDecrID): None when this is 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// The `<ms>-<seq>` form replies use.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut v = Vec::with_capacity(24);
        v.extend_from_slice(itoa::Buffer::new().format(self.ms).as_bytes());
        v.push(b'-');
        v.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        v
    }

    /// The 16-byte big-endian key Redis uses in its radix trees and RDB files.
    pub fn encode(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// Decodes a 16-byte big-endian key; None when not 16 bytes.
    pub fn decode(b: &[u8]) -> Option<StreamId> {
        if b.len() != 16 {
            return None;
        }
        let ms = u64::from_be_bytes(b[..8].try_into().ok()?);
        let seq = u64::from_be_bytes(b[8..].try_into().ok()?);
        Some(StreamId::new(ms, seq))
    }
}

/// Parses an unsigned decimal the way Redis's string2ull does (digits only, no
/// sign, no overflow).
fn parse_ull(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// The outcome of parsing an XADD id: the id and whether its sequence was given
/// (`ms-*` and plain `ms` leave it to the server).
#[derive(Debug, Clone, Copy)]
pub struct ParsedId {
    pub id: StreamId,
    pub seq_given: bool,
}

/// Parses an id: `-` and `+` (unless `strict`), `ms`, `ms-seq`, and with
/// `allow_star_seq` the `ms-*` form. A missing sequence becomes `missing_seq`.
pub fn parse_id(
    s: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_star_seq: bool,
) -> Result<ParsedId, &'static str> {
    if s.len() > 127 {
        return Err(INVALID_ID);
    }
    if s == b"-" || s == b"+" {
        if strict {
            return Err(INVALID_ID);
        }
        let id = if s == b"-" {
            StreamId::MIN
        } else {
            StreamId::MAX
        };
        return Ok(ParsedId {
            id,
            seq_given: true,
        });
    }
    // Redis works on a C string: a NUL ends it.
    let s = match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    };
    match s.iter().position(|&c| c == b'-') {
        None => {
            let ms = parse_ull(s).ok_or(INVALID_ID)?;
            Ok(ParsedId {
                id: StreamId::new(ms, missing_seq),
                seq_given: true,
            })
        }
        Some(p) => {
            let ms = parse_ull(&s[..p]).ok_or(INVALID_ID)?;
            let rest = &s[p + 1..];
            if allow_star_seq && rest == b"*" {
                return Ok(ParsedId {
                    id: StreamId::new(ms, 0),
                    seq_given: false,
                });
            }
            let seq = parse_ull(rest).ok_or(INVALID_ID)?;
            Ok(ParsedId {
                id: StreamId::new(ms, seq),
                seq_given: true,
            })
        }
    }
}

/// A non-strict id (`-` and `+` allowed).
pub fn parse_loose(s: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
    parse_id(s, missing_seq, false, false).map(|p| p.id)
}

/// A strict id (`-` and `+` refused).
pub fn parse_strict(s: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
    parse_id(s, missing_seq, true, false).map(|p| p.id)
}

/// An interval bound (streamParseIntervalIDOrReply): a leading `(` makes it
/// exclusive (and strict). Returns (id, exclusive).
pub fn parse_interval(s: &[u8], missing_seq: u64) -> Result<(StreamId, bool), &'static str> {
    if s.len() > 1 && s[0] == b'(' {
        Ok((parse_strict(&s[1..], missing_seq)?, true))
    } else {
        Ok((parse_loose(s, missing_seq)?, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_redis_accepts() {
        assert_eq!(parse_loose(b"-", 0).unwrap(), StreamId::MIN);
        assert_eq!(parse_loose(b"+", 0).unwrap(), StreamId::MAX);
        assert!(parse_strict(b"+", 0).is_err());
        assert_eq!(parse_loose(b"5", 7).unwrap(), StreamId::new(5, 7));
        assert_eq!(parse_loose(b"5-3", 7).unwrap(), StreamId::new(5, 3));
        assert!(parse_loose(b"5-", 0).is_err());
        assert!(parse_loose(b"-5", 0).is_err());
        assert!(parse_loose(b"5-*", 0).is_err());
        let p = parse_id(b"5-*", 0, true, true).unwrap();
        assert!(!p.seq_given);
        assert_eq!(
            parse_interval(b"(5-3", 0).unwrap(),
            (StreamId::new(5, 3), true)
        );
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MIN.decr(), None);
    }
}
