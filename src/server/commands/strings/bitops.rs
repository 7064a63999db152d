//! BITOP, BITFIELD and BITFIELD_RO, as Redis 7.0's bitops.c: the same argument
//! checks in the same order, the same overflow arithmetic, the same replies.
use super::*;

/// BITOP AND|OR|XOR|NOT destkey srckey [srckey ...]: combines the source strings
/// byte by byte (shorter ones padded with zero bytes; missing keys are empty) and
/// stores the result, as long as the longest source, in destkey. An empty result
/// deletes destkey. Replies with the length stored. NOT takes exactly one source.
pub(super) fn bitop(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    #[derive(PartialEq, Clone, Copy)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = match &argv[1].to_ascii_lowercase()[..] {
        b"and" => Op::And,
        b"or" => Op::Or,
        b"xor" => Op::Xor,
        b"not" => Op::Not,
        _ => {
            c.reply.error(errors::SYNTAX);
            return;
        }
    };
    if op == Op::Not && argv.len() != 4 {
        c.reply
            .error("ERR BITOP NOT must be called with a single source key.");
        return;
    }
    let db = c.db;
    let mut srcs: Vec<Vec<u8>> = Vec::with_capacity(argv.len() - 3);
    for key in &argv[3..] {
        match srv.lookup_read(c, key) {
            None => srcs.push(Vec::new()),
            Some(e) => match &e.value {
                Value::Str(s) => srcs.push(s.clone()),
                _ => {
                    c.reply.error(WRONGTYPE);
                    return;
                }
            },
        }
    }
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; maxlen];
    for (i, o) in out.iter_mut().enumerate() {
        let byte = |s: &Vec<u8>| s.get(i).copied().unwrap_or(0);
        *o = match op {
            Op::Not => !byte(&srcs[0]),
            Op::And => srcs.iter().fold(0xff, |acc, s| acc & byte(s)),
            Op::Or => srcs.iter().fold(0, |acc, s| acc | byte(s)),
            Op::Xor => srcs.iter().fold(0, |acc, s| acc ^ byte(s)),
        };
    }
    if maxlen > 0 {
        srv.set_key(db, &argv[2], Value::Str(out), false);
        if let Some(e) = srv.dbs[db].get_mut(&argv[2]) {
            e.raw = true;
        }
        notify::notify(srv, notify::STRING, "set", &argv[2], db);
        srv.add_dirty(1);
    } else if srv.delete_key(db, &argv[2]) {
        notify::notify(srv, notify::GENERIC, "del", &argv[2], db);
        srv.add_dirty(1);
    }
    c.reply.int(maxlen as i64);
}

/// What a BITFIELD operation does when the result does not fit.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum OpKind {
    Get,
    Set,
    IncrBy,
}

#[derive(Clone, Copy, Debug)]
struct FieldOp {
    kind: OpKind,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

/// Parses a bitfield type: `i1`..`i64` or `u1`..`u63`.
fn parse_type(arg: &[u8]) -> Option<(bool, u32)> {
    let signed = match arg.first()? {
        b'i' | b'I' => true,
        b'u' | b'U' => false,
        _ => return None,
    };
    let bits = parse_i64(&arg[1..])?;
    let max = if signed { 64 } else { 63 };
    if bits < 1 || bits > max {
        return None;
    }
    Some((signed, bits as u32))
}

/// Parses a bitfield offset: a bit offset, or `#N` for the N-th field of `bits`
/// bits. Within the 512 MB string limit.
fn parse_field_offset(arg: &[u8], bits: u32) -> Option<u64> {
    let (num, mul) = match arg.first() {
        Some(b'#') => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let v = parse_i64(num)?.checked_mul(mul)?;
    if v < 0 || (v >> 3) >= 512 * 1024 * 1024 {
        return None;
    }
    Some(v as u64)
}

/// Reads `bits` bits at bit `offset` (most significant first) as an unsigned
/// number; bits past the end of the string read as 0.
fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..bits as u64 {
        let pos = offset + i;
        let byte = s.get((pos >> 3) as usize).copied().unwrap_or(0);
        let bit = (byte >> (7 - (pos & 7))) & 1;
        v = (v << 1) | bit as u64;
    }
    v
}

/// Reads a signed field: the unsigned bits, sign-extended.
fn get_signed(s: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(s, offset, bits);
    if bits < 64 && v & (1u64 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` bits of `v` at bit `offset`; the string is long enough.
fn set_bits(s: &mut [u8], offset: u64, bits: u32, v: u64) {
    for i in 0..bits as u64 {
        let bit = (v >> (bits as u64 - 1 - i)) & 1;
        let pos = offset + i;
        let byte = &mut s[(pos >> 3) as usize];
        let mask = 1u8 << (7 - (pos & 7));
        if bit == 1 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// Redis's checkUnsignedBitfieldOverflow: whether `value + incr` leaves the
/// range of a `bits`-bit unsigned field, and the value WRAP or SAT then gives.
pub fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || {
        let res = value.wrapping_add(incr as u64);
        if bits < 64 {
            res & !(u64::MAX << bits)
        } else {
            res
        }
    };
    if value > max || (incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        })
    } else if incr < 0 && incr < minincr {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => 0,
        })
    } else {
        None
    }
}

/// Redis's checkSignedBitfieldOverflow: whether `value + incr` leaves the range
/// of a `bits`-bit signed field, and the value WRAP or SAT then gives.
pub fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let msb = 1u64 << (bits - 1);
            let mask = u64::MAX << bits;
            if c & msb != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => min,
        })
    } else {
        None
    }
}

/// Parses BITFIELD's operations, replying with Redis's error on the first bad one.
fn parse_ops(c: &mut Client, argv: &[Vec<u8>]) -> Option<Vec<FieldOp>> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < argv.len() {
        let remargs = argv.len() - j - 1;
        let sub = argv[j].to_ascii_lowercase();
        let kind = match &sub[..] {
            b"get" if remargs >= 2 => OpKind::Get,
            b"set" if remargs >= 3 => OpKind::Set,
            b"incrby" if remargs >= 3 => OpKind::IncrBy,
            b"overflow" if remargs >= 1 => {
                overflow = match &argv[j + 1].to_ascii_lowercase()[..] {
                    b"wrap" => Overflow::Wrap,
                    b"sat" => Overflow::Sat,
                    b"fail" => Overflow::Fail,
                    _ => {
                        c.reply.error("ERR Invalid OVERFLOW type specified");
                        return None;
                    }
                };
                j += 2;
                continue;
            }
            _ => {
                c.reply.error(errors::SYNTAX);
                return None;
            }
        };
        let Some((signed, bits)) = parse_type(&argv[j + 1]) else {
            c.reply.error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
            return None;
        };
        let Some(offset) = parse_field_offset(&argv[j + 2], bits) else {
            c.reply.error(errors::BIT_OFFSET);
            return None;
        };
        let mut value = 0;
        if kind != OpKind::Get {
            match parse_i64(&argv[j + 3]) {
                Some(v) => value = v,
                None => {
                    c.reply.error(errors::NOT_INTEGER);
                    return None;
                }
            }
            j += 1;
        }
        ops.push(FieldOp {
            kind,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += 3;
    }
    Some(ops)
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset
/// increment] [OVERFLOW WRAP|SAT|FAIL] ...: reads and writes integer fields of
/// any width (i1..i64, u1..u63) at bit offsets (`#N` = N times the width).
/// Replies one entry per GET/SET/INCRBY: the value read, the old value (SET),
/// the new value (INCRBY), or nil when OVERFLOW FAIL refused the write. With a
/// write the string grows to hold the highest field written (created if missing).
/// Each write counts as a change when the key was created or grew or the
/// field's bits changed.
pub(super) fn bitfield(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    bitfield_generic(srv, c, argv, false)
}

/// BITFIELD_RO key [GET type offset ...]: BITFIELD limited to GET, allowed on
/// read-only replicas; any other subcommand is refused.
pub(super) fn bitfield_ro(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    bitfield_generic(srv, c, argv, true)
}

fn bitfield_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], ro: bool) {
    let Some(ops) = parse_ops(c, argv) else {
        return;
    };
    let writes = ops.iter().any(|o| o.kind != OpKind::Get);
    if ro && writes {
        c.reply
            .error("ERR BITFIELD_RO only supports the GET subcommand");
        return;
    }
    let db = c.db;
    if !writes {
        let s = match read_str(srv, c, &argv[1]) {
            Err(()) => return,
            Ok(None) => Vec::new(),
            Ok(Some(s)) => s.clone(),
        };
        c.reply.array(ops.len());
        for op in &ops {
            reply_get(c, &s, op);
        }
        return;
    }
    let highest = ops
        .iter()
        .filter(|o| o.kind != OpKind::Get)
        .map(|o| o.offset + o.bits as u64 - 1)
        .max()
        .unwrap_or(0);
    let exists = match srv.lookup_write(db, &argv[1]) {
        None => false,
        Some(e) => match &e.value {
            Value::Str(_) => true,
            _ => {
                c.reply.error(WRONGTYPE);
                return;
            }
        },
    };
    if !exists {
        srv.set_key(db, &argv[1], Value::Str(Vec::new()), false);
    }
    let Some(e) = srv.dbs[db].get_mut(&argv[1]) else {
        return;
    };
    let Value::Str(s) = &mut e.value else { return };
    let need = (highest >> 3) as usize + 1;
    // Created or grown: every write counts as a change, as in Redis 7.0.15.
    let dirty = !exists || s.len() < need;
    if s.len() < need {
        s.resize(need, 0);
    }
    e.raw = true;
    let mut changes = 0u64;
    c.reply.array(ops.len());
    for op in &ops {
        if op.kind == OpKind::Get {
            reply_get(c, s, op);
            continue;
        }
        let oldbits = get_unsigned(s, op.offset, op.bits);
        let (reply, newval, overflowed) = if op.signed {
            let old = get_signed(s, op.offset, op.bits);
            let (base, incr) = if op.kind == OpKind::IncrBy {
                (old, op.value)
            } else {
                (op.value, 0)
            };
            let ow = signed_overflow(base, incr, op.bits, op.overflow);
            let new = ow.unwrap_or_else(|| base.wrapping_add(incr));
            let reply = if op.kind == OpKind::IncrBy { new } else { old };
            (reply, new as u64, ow.is_some())
        } else {
            let old = get_unsigned(s, op.offset, op.bits);
            let (base, incr) = if op.kind == OpKind::IncrBy {
                (old, op.value)
            } else {
                (op.value as u64, 0)
            };
            let ow = unsigned_overflow(base, incr, op.bits, op.overflow);
            let new = ow.unwrap_or_else(|| base.wrapping_add(incr as u64));
            let reply = if op.kind == OpKind::IncrBy { new } else { old };
            (reply as i64, new, ow.is_some())
        };
        if overflowed && op.overflow == Overflow::Fail {
            c.reply.null();
        } else {
            c.reply.int(reply);
            set_bits(s, op.offset, op.bits, newval);
            if dirty || get_unsigned(s, op.offset, op.bits) != oldbits {
                changes += 1;
            }
        }
    }
    if changes > 0 {
        srv.signal_modified(db, &argv[1]);
        notify::notify(srv, notify::STRING, "setbit", &argv[1], db);
        srv.add_dirty(changes);
    }
}

fn reply_get(c: &mut Client, s: &[u8], op: &FieldOp) {
    if op.signed {
        c.reply.int(get_signed(s, op.offset, op.bits));
    } else {
        c.reply.int(get_unsigned(s, op.offset, op.bits) as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_arithmetic_matches_redis() {
        assert_eq!(unsigned_overflow(255, 1, 8, Overflow::Wrap), Some(0));
        assert_eq!(unsigned_overflow(255, 1, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_overflow(0, -1, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(0, -1, 8, Overflow::Wrap), Some(255));
        assert_eq!(unsigned_overflow(10, 5, 8, Overflow::Wrap), None);
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), Some(-128));
        assert_eq!(signed_overflow(-128, -1, 8, Overflow::Sat), Some(-128));
        assert_eq!(
            signed_overflow(i64::MAX, 1, 64, Overflow::Wrap),
            Some(i64::MIN)
        );
        assert_eq!(signed_overflow(5, 0, 64, Overflow::Fail), None);
    }

    #[test]
    fn fields_read_back_what_was_written() {
        let mut s = vec![0u8; 4];
        set_bits(&mut s, 3, 9, 0x1ab);
        assert_eq!(get_unsigned(&s, 3, 9), 0x1ab);
        assert_eq!(get_signed(&s, 3, 9), 0x1ab - 512);
        assert_eq!(get_unsigned(&s, 100, 8), 0);
    }
}
