//! The `cmsgpack` library as Redis bundles it (lua-cmsgpack 0.4): `pack` encodes
//! its arguments as a stream of MessagePack values, `unpack` / `unpack_one` /
//! `unpack_limit` decode them. Integral numbers encode as the smallest integer
//! type, others as float32 when exact else float64; a table is an array when its
//! keys are exactly 1..n, else a map; tables nested deeper than 16 become nil.
//! Natives return `(error, results...)`; the prelude raises the error.

use mlua::{Lua, MultiValue, Table, Value, Variadic};

const MAX_NESTING: usize = 16;

fn int64_equivalent(n: f64) -> bool {
    n.is_finite() && (n as i64) as f64 == n
}

fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2147483648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_number(n: f64, out: &mut Vec<u8>) {
    if int64_equivalent(n) {
        encode_int(n as i64, out);
    } else if (n as f32) as f64 == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_len(len: usize, small: u8, smax: usize, b16: u8, b32: u8, out: &mut Vec<u8>) {
    if len <= smax {
        out.push(small | len as u8);
    } else if len <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn encode_bytes(s: &[u8], out: &mut Vec<u8>) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// lua-cmsgpack's table_is_an_array: every key a positive integer, count == max.
fn is_array(t: &Table) -> bool {
    let (mut count, mut max) = (0f64, 0f64);
    for pair in t.clone().pairs::<Value, Value>() {
        let Ok((k, _)) = pair else { return false };
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return false,
        };
        if n <= 0.0 || !(n.is_finite() && (n as i32) as f64 == n) {
            return false;
        }
        max = f64::max(max, n);
        count += 1.0;
    }
    max == count
}

fn encode(v: &Value, out: &mut Vec<u8>, level: usize) {
    match v {
        Value::String(s) => encode_bytes(&s.as_bytes(), out),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(*i as f64, out),
        Value::Number(n) => encode_number(*n, out),
        Value::Table(t) if level < MAX_NESTING => {
            if is_array(t) {
                let len = t.raw_len();
                encode_len(len, 0x90, 15, 0xdc, 0xdd, out);
                for i in 1..=len {
                    let item: Value = t.raw_get(i).unwrap_or(Value::Nil);
                    encode(&item, out, level + 1);
                }
            } else {
                // Counted first, then walked: holding every key and value at
                // once from Rust would overflow Lua 5.1's reference stack.
                let n = t.clone().pairs::<Value, Value>().count();
                encode_len(n, 0x80, 15, 0xde, 0xdf, out);
                for (k, val) in t
                    .clone()
                    .pairs::<Value, Value>()
                    .filter_map(Result::ok)
                    .take(n)
                {
                    encode(&k, out, level + 1);
                    encode(&val, out, level + 1);
                }
            }
        }
        _ => out.push(0xc0),
    }
}

/// Why decoding stopped.
enum DecErr {
    Eof,
    BadFmt,
}

struct Cur<'a> {
    s: &'a [u8],
    p: usize,
}

impl Cur<'_> {
    fn need(&self, n: usize) -> Result<(), DecErr> {
        if self.s.len() - self.p < n {
            Err(DecErr::Eof)
        } else {
            Ok(())
        }
    }
    fn take(&mut self, n: usize) -> Result<&[u8], DecErr> {
        self.need(n)?;
        let b = &self.s[self.p..self.p + n];
        self.p += n;
        Ok(b)
    }
    fn be(&mut self, n: usize) -> Result<u64, DecErr> {
        Ok(self.take(n)?.iter().fold(0u64, |a, &b| (a << 8) | b as u64))
    }
}

fn decode(lua: &Lua, c: &mut Cur) -> Result<Value, DecErr> {
    c.need(1)?;
    let t = c.s[c.p];
    c.p += 1;
    let num = |n: f64| Ok(Value::Number(n));
    match t {
        0xcc => num(c.be(1)? as f64),
        0xcd => num(c.be(2)? as f64),
        0xce => num(c.be(4)? as f64),
        0xcf => num(c.be(8)? as f64),
        0xd0 => num(c.be(1)? as u8 as i8 as f64),
        0xd1 => num(c.be(2)? as u16 as i16 as f64),
        0xd2 => num(c.be(4)? as u32 as i32 as f64),
        0xd3 => num(c.be(8)? as i64 as f64),
        0xc0 => Ok(Value::Nil),
        0xc2 => Ok(Value::Boolean(false)),
        0xc3 => Ok(Value::Boolean(true)),
        0xca => num(f32::from_bits(c.be(4)? as u32) as f64),
        0xcb => num(f64::from_bits(c.be(8)?)),
        0xd9..=0xdb => {
            let n = match t {
                0xd9 => c.be(1)?,
                0xda => c.be(2)?,
                _ => c.be(4)?,
            } as usize;
            let b = c.take(n)?;
            Ok(Value::String(
                lua.create_string(b).map_err(|_| DecErr::BadFmt)?,
            ))
        }
        0xdc | 0xdd => {
            let n = if t == 0xdc { c.be(2)? } else { c.be(4)? } as usize;
            array(lua, c, n)
        }
        0xde | 0xdf => {
            let n = if t == 0xde { c.be(2)? } else { c.be(4)? } as usize;
            map(lua, c, n)
        }
        0x00..=0x7f => num(t as f64),
        0xe0..=0xff => num(t as i8 as f64),
        0xa0..=0xbf => {
            let b = c.take((t & 0x1f) as usize)?;
            Ok(Value::String(
                lua.create_string(b).map_err(|_| DecErr::BadFmt)?,
            ))
        }
        0x90..=0x9f => array(lua, c, (t & 0xf) as usize),
        0x80..=0x8f => map(lua, c, (t & 0xf) as usize),
        _ => Err(DecErr::BadFmt),
    }
}

fn array(lua: &Lua, c: &mut Cur, n: usize) -> Result<Value, DecErr> {
    let t = lua.create_table().map_err(|_| DecErr::BadFmt)?;
    for i in 0..n {
        let v = decode(lua, c)?;
        t.raw_set(i + 1, v).map_err(|_| DecErr::BadFmt)?;
    }
    Ok(Value::Table(t))
}

fn map(lua: &Lua, c: &mut Cur, n: usize) -> Result<Value, DecErr> {
    let t = lua.create_table().map_err(|_| DecErr::BadFmt)?;
    for _ in 0..n {
        let k = decode(lua, c)?;
        let v = decode(lua, c)?;
        if !k.is_nil() {
            t.raw_set(k, v).map_err(|_| DecErr::BadFmt)?;
        }
    }
    Ok(Value::Table(t))
}

fn fail(lua: &Lua, msg: &str) -> mlua::Result<MultiValue> {
    Ok(MultiValue::from_iter([Value::String(
        lua.create_string(msg)?,
    )]))
}

/// Decodes up to `limit` values (0: all) from `offset`; with a limit or offset, the
/// next offset (-1 at the end) comes first.
fn unpack_full(lua: &Lua, args: &[Value], limit: i64, offset: i64) -> mlua::Result<MultiValue> {
    let s = match args.first() {
        Some(Value::String(s)) => s.as_bytes().to_vec(),
        Some(v @ (Value::Integer(_) | Value::Number(_))) => {
            super::redis_lib::lua_tostring(v).unwrap_or_default()
        }
        other => {
            return fail(
                lua,
                &format!(
                    "bad argument #1 to 'unpack' (string expected, got {})",
                    other.map(super::bit::type_name).unwrap_or("no value")
                ),
            )
        }
    };
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return fail(
            lua,
            &format!(
                "Invalid request to unpack with offset of {} and limit of {}.",
                offset,
                s.len()
            ),
        );
    }
    if offset as usize > s.len() {
        return fail(
            lua,
            &format!(
                "Start offset {} greater than input length {}.",
                offset,
                s.len()
            ),
        );
    }
    let limit = if decode_all { i64::MAX } else { limit };
    let mut c = Cur {
        s: &s,
        p: offset as usize,
    };
    let mut out = vec![Value::Nil];
    let mut cnt = 0;
    while c.p < s.len() && cnt < limit {
        match decode(lua, &mut c) {
            Ok(v) => out.push(v),
            Err(DecErr::Eof) => return fail(lua, "Missing bytes in input."),
            Err(DecErr::BadFmt) => return fail(lua, "Bad data format in input."),
        }
        cnt += 1;
    }
    if !decode_all {
        let next = if c.p == s.len() { -1 } else { c.p as i64 };
        out.insert(1, Value::Number(next as f64));
    }
    Ok(MultiValue::from_iter(out))
}

fn opt_int(args: &[Value], i: usize) -> i64 {
    args.get(i)
        .and_then(super::convert::parse_lua_number)
        .map(|n| n as i64)
        .unwrap_or(0)
}

/// Builds the `cmsgpack` table (functions in the `(error, results...)` form).
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.is_empty() {
                return fail(
                    lua,
                    "bad argument #0 to 'pack' (MessagePack pack needs input.)",
                );
            }
            let mut out = Vec::new();
            for a in args.iter() {
                encode(a, &mut out, 0);
            }
            Ok(MultiValue::from_iter([
                Value::Nil,
                Value::String(lua.create_string(&out)?),
            ]))
        })?,
    )?;
    t.set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| unpack_full(lua, &args, 0, 0))?,
    )?;
    t.set(
        "unpack_one",
        lua.create_function(|lua, args: Variadic<Value>| {
            let off = opt_int(&args, 1);
            unpack_full(lua, &args, 1, off)
        })?,
    )?;
    t.set(
        "unpack_limit",
        lua.create_function(|lua, args: Variadic<Value>| {
            let limit = opt_int(&args, 1);
            let off = opt_int(&args, 2);
            unpack_full(lua, &args, limit, off)
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_take_the_smallest_encoding() {
        let mut out = Vec::new();
        encode_int(5, &mut out);
        encode_int(200, &mut out);
        encode_int(-5, &mut out);
        encode_int(-200, &mut out);
        assert_eq!(out, [0x05, 0xcc, 200, 0xfb, 0xd1, 0xff, 0x38]);
    }
}
