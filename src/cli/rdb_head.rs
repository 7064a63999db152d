//! What the head of an RDB file says about the data in it, without reading the whole file: the
//! replication history it belongs to (`repl-id` and `repl-offset` aux fields) and, from the
//! RESIZEDB opcodes, how many keys it holds.
//!
//! Deploy reads the first bytes of a stopped node's `dump.rdb` over the transport to decide
//! whether starting (or starting from) that node can lose data another node holds. Only the
//! head is read (a dump can be gigabytes), so key counts are lower bounds when databases lie
//! beyond it, and a head that cannot be parsed yields "unknown", never an error: this is a
//! safety check's input, and an unknown answer makes the check cautious.

/// The facts found in an RDB file's head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RdbHead {
    pub repl_id: Option<String>,
    pub repl_offset: Option<i64>,
    /// Keys counted from RESIZEDB opcodes; None when the head ends before the first database
    /// (or the file could not be parsed that far).
    pub keys: Option<u64>,
    /// The whole file was parsed to its end marker (so `keys` is exact).
    pub complete: bool,
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

enum Len {
    Plain(u64),
    /// A specially encoded string: 0 int8, 1 int16, 2 int32, 3 LZF.
    Special(u8),
}

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Option<u8> {
        let v = *self.b.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn len(&mut self) -> Option<Len> {
        let first = self.byte()?;
        Some(match first >> 6 {
            0 => Len::Plain(u64::from(first & 0x3f)),
            1 => Len::Plain((u64::from(first & 0x3f) << 8) | u64::from(self.byte()?)),
            2 => match first {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(
                    self.take(4)?.try_into().ok()?,
                ))),
                0x81 => Len::Plain(u64::from_be_bytes(self.take(8)?.try_into().ok()?)),
                _ => return None,
            },
            _ => Len::Special(first & 0x3f),
        })
    }
    fn plain_len(&mut self) -> Option<u64> {
        match self.len()? {
            Len::Plain(n) => Some(n),
            Len::Special(_) => None,
        }
    }
    /// A string; None for an LZF-compressed one (skipped) or a truncated head.
    fn string(&mut self) -> Option<Option<String>> {
        match self.len()? {
            Len::Plain(n) => {
                let s = self.take(usize::try_from(n).ok()?)?;
                Some(Some(String::from_utf8_lossy(s).into_owned()))
            }
            Len::Special(0) => Some(Some((self.byte()? as i8).to_string())),
            Len::Special(1) => Some(Some(
                i16::from_le_bytes(self.take(2)?.try_into().ok()?).to_string(),
            )),
            Len::Special(2) => Some(Some(
                i32::from_le_bytes(self.take(4)?.try_into().ok()?).to_string(),
            )),
            Len::Special(3) => {
                let clen = usize::try_from(self.plain_len()?).ok()?;
                self.plain_len()?;
                self.take(clen)?;
                Some(None)
            }
            Len::Special(_) => None,
        }
    }
}

/// Parses as much of `bytes` (the start of an RDB file) as it can. A file that is not RDB
/// gives a head with nothing known.
pub fn parse(bytes: &[u8]) -> RdbHead {
    let mut head = RdbHead::default();
    if bytes.len() < 9 || &bytes[..5] != b"REDIS" {
        return head;
    }
    let mut c = Cursor { b: bytes, pos: 9 };
    let mut keys: Option<u64> = None;
    while let Some(op) = c.byte() {
        match op {
            // AUX key value
            0xFA => {
                let (Some(k), Some(v)) = (c.string(), c.string()) else {
                    break;
                };
                match k.as_deref() {
                    Some("repl-id") => head.repl_id = v,
                    Some("repl-offset") => head.repl_offset = v.and_then(|v| v.parse().ok()),
                    _ => {}
                }
            }
            // SELECTDB n
            0xFE => {
                if c.plain_len().is_none() {
                    break;
                }
            }
            // RESIZEDB keys expires: the keys of one database
            0xFB => {
                let (Some(n), Some(_)) = (c.plain_len(), c.plain_len()) else {
                    break;
                };
                keys = Some(keys.unwrap_or(0) + n);
                // The values follow; skipping them would mean parsing every type. The later
                // databases' counts are beyond what the head promises.
                head.keys = keys;
                return head;
            }
            // MODULE_AUX, FUNCTION2 and anything else: stop; what was found stands.
            0xFF => {
                head.keys = Some(keys.unwrap_or(0));
                head.complete = true;
                return head;
            }
            _ => break,
        }
    }
    head.keys = keys;
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aux(k: &str, v: &str) -> Vec<u8> {
        let mut b = vec![0xFA, k.len() as u8];
        b.extend_from_slice(k.as_bytes());
        b.push(v.len() as u8);
        b.extend_from_slice(v.as_bytes());
        b
    }

    #[test]
    fn reads_replication_aux_fields_and_key_counts() {
        let mut b = b"REDIS0010".to_vec();
        b.extend(aux("redis-ver", "7.0.15"));
        b.extend([0xFA, 10]);
        b.extend_from_slice(b"redis-bits");
        b.extend([0xC0, 64]); // int8 encoded
        b.extend(aux("repl-id", &"a".repeat(40)));
        b.extend([0xFA, 11]);
        b.extend_from_slice(b"repl-offset");
        b.extend([0xC2, 0x10, 0x27, 0, 0]); // int32 10000
        b.extend([0xFE, 0, 0xFB, 0x40, 0xC8, 0]); // db 0, 200 keys (14-bit length)
        let h = parse(&b);
        assert_eq!(h.repl_id.as_deref(), Some("a".repeat(40).as_str()));
        assert_eq!(h.repl_offset, Some(10000));
        assert_eq!(h.keys, Some(200));
        assert!(!h.complete);
    }

    #[test]
    fn an_empty_dataset_and_garbage() {
        let mut b = b"REDIS0010".to_vec();
        b.extend(aux("repl-offset", "0"));
        b.push(0xFF);
        let h = parse(&b);
        assert_eq!(h.keys, Some(0));
        assert!(h.complete);
        assert_eq!(parse(b"not an rdb file"), RdbHead::default());
        // truncated in the middle of an aux field: what was read before stands
        let h = parse(&b[..b.len() - 3]);
        assert_eq!(h.keys, None);
        for n in 0..b.len() {
            let _ = parse(&b[..n]);
        }
    }
}
