//! Bit commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS.
use super::*;

/// Parses a bit offset: an integer in 0..2^32, i.e. within a 512 MB string;
/// None otherwise. The limit is fixed, not taken from proto-max-bulk-len.
pub(super) fn parse_bit_offset(arg: &[u8]) -> Option<usize> {
    let v = parse_i64(arg)?;
    if !(0..(512i64 * 1024 * 1024 * 8)).contains(&v) {
        return None;
    }
    Some(v as usize)
}

/// SETBIT key offset 0|1: sets or clears one bit (bit 0 is the most significant
/// bit of the first byte), growing the string with zero bytes as needed and
/// creating the key if missing. Replies the bit's previous value; the string is
/// then reported as raw by OBJECT ENCODING. Counts as a change (dirty,
/// propagation) only when the key was created or grew or the bit changed.
pub(super) fn setbit(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(off) = parse_bit_offset(&argv[2]) else {
        c.reply.error(errors::BIT_OFFSET);
        return;
    };
    let on = match &argv[3][..] {
        b"1" => true,
        b"0" => false,
        _ => {
            c.reply.error("ERR bit is not an integer or out of range");
            return;
        }
    };
    let db = c.db;
    let byte = off >> 3;
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
    let grown = s.len() <= byte;
    if grown {
        s.resize(byte + 1, 0);
    }
    let mask = 1u8 << (7 - (off & 7));
    let old = s[byte] & mask != 0;
    if on {
        s[byte] |= mask;
    } else {
        s[byte] &= !mask;
    }
    e.raw = true;
    // As Redis 7.0.15: a change only when the key was created, grew or the bit flipped.
    if !exists || grown || old != on {
        srv.signal_modified(db, &argv[1]);
        crate::server::notify::notify(srv, crate::server::notify::STRING, "setbit", &argv[1], db);
        srv.add_dirty(1);
    }
    c.reply.int(old as i64);
}

/// GETBIT key offset: the bit's value; 0 past the end of the string or for a
/// missing key.
pub(super) fn getbit(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(off) = parse_bit_offset(&argv[2]) else {
        c.reply.error(errors::BIT_OFFSET);
        return;
    };
    match read_str(srv, c, &argv[1]) {
        Err(()) => {}
        Ok(None) => c.reply.int(0),
        Ok(Some(s)) => {
            let byte = off >> 3;
            let bit = s.get(byte).is_some_and(|b| b & (1 << (7 - (off & 7))) != 0);
            c.reply.int(bit as i64);
        }
    }
}

/// Resolves a [start, end] range (negative from the end) over `len` units.
pub(super) fn clamp_range(mut start: i64, mut end: i64, len: i64) -> Option<(i64, i64)> {
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        None
    } else {
        Some((start, end))
    }
}

/// BITCOUNT key [start end [BYTE|BIT]]: the number of set bits, in the whole
/// string or within the inclusive range (negative indexes count from the end;
/// BIT makes the range count bits instead of bytes). 0 for a missing key.
pub(super) fn bitcount(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut range = None;
    let mut bits = false;
    if argv.len() == 4 || argv.len() == 5 {
        let (Some(s), Some(e)) = (parse_i64(&argv[2]), parse_i64(&argv[3])) else {
            c.reply.error(errors::NOT_INTEGER);
            return;
        };
        if argv.len() == 5 {
            match &argv[4].to_ascii_uppercase()[..] {
                b"BIT" => bits = true,
                b"BYTE" => {}
                _ => {
                    c.reply.error(errors::SYNTAX);
                    return;
                }
            }
        }
        // Both negative with start after end: empty, before any clamping.
        if s < 0 && e < 0 && s > e {
            if let Err(()) = read_str(srv, c, &argv[1]) {
                return;
            }
            c.reply.int(0);
            return;
        }
        range = Some((s, e));
    } else if argv.len() != 2 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let s = match read_str(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply.int(0);
            return;
        }
        Ok(Some(s)) => s,
    };
    let count = match range {
        None => s.iter().map(|b| b.count_ones() as i64).sum(),
        Some((a, b)) => {
            let len = if bits {
                s.len() as i64 * 8
            } else {
                s.len() as i64
            };
            match clamp_range(a, b, len) {
                None => 0,
                Some((a, b)) if !bits => s[a as usize..=b as usize]
                    .iter()
                    .map(|x| x.count_ones() as i64)
                    .sum(),
                Some((a, b)) => (a..=b)
                    .filter(|&i| s[(i >> 3) as usize] & (1 << (7 - (i & 7))) != 0)
                    .count() as i64,
            }
        }
    };
    c.reply.int(count);
}

/// BITPOS key 0|1 [start [end [BYTE|BIT]]]: the first bit equal to the wanted
/// value within the range, or -1. As in Redis, looking for 0 with no end given
/// treats the string as padded with zero bits, so the answer is then the first
/// bit past the end; a missing key gives -1 for 1 and 0 for 0.
pub(super) fn bitpos(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let bit = match &argv[2][..] {
        b"1" => true,
        b"0" => false,
        _ => {
            c.reply.error("ERR The bit argument must be 1 or 0.");
            return;
        }
    };
    let mut start = 0i64;
    let mut end: Option<i64> = None;
    let mut bits = false;
    if argv.len() >= 4 {
        match parse_i64(&argv[3]) {
            Some(v) => start = v,
            None => {
                c.reply.error(errors::NOT_INTEGER);
                return;
            }
        }
    }
    if argv.len() >= 5 {
        match parse_i64(&argv[4]) {
            Some(v) => end = Some(v),
            None => {
                c.reply.error(errors::NOT_INTEGER);
                return;
            }
        }
    }
    if argv.len() == 6 {
        match &argv[5].to_ascii_uppercase()[..] {
            b"BIT" => bits = true,
            b"BYTE" => {}
            _ => {
                c.reply.error(errors::SYNTAX);
                return;
            }
        }
    }
    if argv.len() > 6 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let s = match read_str(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply.int(if bit { -1 } else { 0 });
            return;
        }
        Ok(Some(s)) => s.clone(),
    };
    let len = if bits {
        s.len() as i64 * 8
    } else {
        s.len() as i64
    };
    let end_given = end.is_some();
    let Some((a, b)) = clamp_range(start, end.unwrap_or(-1), len) else {
        c.reply.int(-1);
        return;
    };
    let (first_bit, last_bit) = if bits { (a, b) } else { (a * 8, b * 8 + 7) };
    for i in first_bit..=last_bit {
        let v = s[(i >> 3) as usize] & (1 << (7 - (i & 7))) != 0;
        if v == bit {
            c.reply.int(i);
            return;
        }
    }
    // Looking for a clear bit with no end given: the string is padded with zeros.
    if !bit && !end_given {
        c.reply.int(last_bit + 1);
    } else {
        c.reply.int(-1);
    }
}
