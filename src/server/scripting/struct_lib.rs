//! The `struct` library as Redis bundles it (Roberto Ierusalimschy's lua-struct):
//! `pack(fmt, ...)`, `unpack(fmt, data [, pos])` and `size(fmt)` with the same
//! format letters, endianness and alignment rules (native = little endian,
//! long/size_t 8 bytes, int 4, maximum alignment 8). Natives return
//! `(error, results...)`; the prelude raises the error.

use mlua::{Lua, MultiValue, Table, Value, Variadic};

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;

#[derive(Clone, Copy, PartialEq)]
enum Endian {
    Little,
    Big,
}

struct Header {
    endian: Endian,
    align: usize,
}

type Res<T> = Result<T, String>;

fn getnum(fmt: &[u8], i: &mut usize, df: usize) -> Res<usize> {
    if !fmt.get(*i).is_some_and(|c| c.is_ascii_digit()) {
        return Ok(df);
    }
    let mut a: usize = 0;
    while let Some(c) = fmt.get(*i).filter(|c| c.is_ascii_digit()) {
        a = a
            .checked_mul(10)
            .and_then(|a| a.checked_add((c - b'0') as usize))
            .filter(|a| *a <= i32::MAX as usize)
            .ok_or("integral size overflow")?;
        *i += 1;
    }
    Ok(a)
}

fn optsize(opt: u8, fmt: &[u8], i: &mut usize) -> Res<usize> {
    Ok(match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'x' => 1,
        b'c' => getnum(fmt, i, 1)?,
        b'i' | b'I' => {
            let sz = getnum(fmt, i, 4)?;
            if sz > MAXINTSIZE {
                return Err(format!(
                    "integral size {} is larger than limit of {}",
                    sz, MAXINTSIZE
                ));
            }
            sz
        }
        _ => 0,
    })
}

fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn controloptions(opt: u8, fmt: &[u8], i: &mut usize, h: &mut Header, fname: &str) -> Res<()> {
    match opt {
        b' ' => Ok(()),
        b'>' => {
            h.endian = Endian::Big;
            Ok(())
        }
        b'<' => {
            h.endian = Endian::Little;
            Ok(())
        }
        b'!' => {
            let a = getnum(fmt, i, MAXALIGN)?;
            if !a.is_power_of_two() {
                return Err(format!("alignment {} is not a power of 2", a));
            }
            h.align = a;
            Ok(())
        }
        other => Err(format!(
            "bad argument #1 to '{}' (invalid format option '{}')",
            fname, other as char
        )),
    }
}

fn arg_error(n: usize, fname: &str, msg: &str) -> String {
    format!("bad argument #{} to '{}' ({})", n, fname, msg)
}

fn check_number(args: &[Value], idx: usize, fname: &str) -> Res<f64> {
    let v = args.get(idx);
    // pack pushes a nil above its arguments, so a missing one reads as nil there.
    let missing = if fname == "pack" { "nil" } else { "no value" };
    v.and_then(super::convert::parse_lua_number).ok_or_else(|| {
        arg_error(
            idx + 1,
            fname,
            &format!(
                "number expected, got {}",
                v.map(super::bit::type_name).unwrap_or(missing)
            ),
        )
    })
}

fn check_string(args: &[Value], idx: usize, fname: &str) -> Res<Vec<u8>> {
    let v = args.get(idx);
    v.and_then(super::redis_lib::lua_tostring).ok_or_else(|| {
        arg_error(
            idx + 1,
            fname,
            &format!(
                "string expected, got {}",
                v.map(super::bit::type_name).unwrap_or("no value")
            ),
        )
    })
}

fn put_integer(out: &mut Vec<u8>, n: f64, endian: Endian, size: usize) {
    let mut value: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
    let mut buf = vec![0u8; size];
    let order: Vec<usize> = match endian {
        Endian::Little => (0..size).collect(),
        Endian::Big => (0..size).rev().collect(),
    };
    for i in order {
        buf[i] = (value & 0xff) as u8;
        value = value.checked_shr(8).unwrap_or(0);
    }
    out.extend_from_slice(&buf);
}

fn pack(args: &[Value]) -> Res<Vec<u8>> {
    let fmt = check_string(args, 0, "pack")?;
    let mut h = Header {
        endian: Endian::Little,
        align: 1,
    };
    let mut out = Vec::new();
    let mut arg = 1;
    let mut i = 0;
    let mut total = 0usize;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(opt, &fmt, &mut i)?;
        let toalign = gettoalign(total, &h, opt, size);
        total += toalign;
        out.resize(out.len() + toalign, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(args, arg, "pack")?;
                arg += 1;
                put_integer(&mut out, n, h.endian, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(args, arg, "pack")? as f32;
                arg += 1;
                match h.endian {
                    Endian::Little => out.extend_from_slice(&f.to_le_bytes()),
                    Endian::Big => out.extend_from_slice(&f.to_be_bytes()),
                }
            }
            b'd' => {
                let d = check_number(args, arg, "pack")?;
                arg += 1;
                match h.endian {
                    Endian::Little => out.extend_from_slice(&d.to_le_bytes()),
                    Endian::Big => out.extend_from_slice(&d.to_be_bytes()),
                }
            }
            b'c' | b's' => {
                let s = check_string(args, arg, "pack")?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(arg_error(arg + 1, "pack", "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => controloptions(opt, &fmt, &mut i, &mut h, "pack")?,
        }
        total += size;
    }
    Ok(out)
}

fn get_integer(b: &[u8], endian: Endian, signed: bool) -> f64 {
    let size = b.len();
    let mut l: u64 = 0;
    let bytes: Vec<u8> = match endian {
        Endian::Big => b.to_vec(),
        Endian::Little => b.iter().rev().copied().collect(),
    };
    for x in bytes {
        l = l.checked_shl(8).unwrap_or(0) | x as u64;
    }
    if !signed {
        return l as f64;
    }
    if size == 0 || size > 8 {
        return l as i64 as f64;
    }
    let mask = u64::MAX.checked_shl((size * 8 - 1) as u32).unwrap_or(0);
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn unpack(lua: &Lua, args: &[Value]) -> Res<Vec<Value>> {
    let fmt = check_string(args, 0, "unpack")?;
    let data = check_string(args, 1, "unpack")?;
    let ld = data.len();
    let pos = match args.get(2) {
        None | Some(Value::Nil) => 1i64,
        Some(_) => check_number(args, 2, "unpack")? as i64,
    };
    if pos <= 0 {
        return Err(arg_error(3, "unpack", "offset must be 1 or greater"));
    }
    let mut pos = (pos - 1) as usize;
    let mut h = Header {
        endian: Endian::Little,
        align: 1,
    };
    let mut out: Vec<Value> = Vec::new();
    let mut i = 0;
    let lerr = |e: mlua::Error| e.to_string();
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(opt, &fmt, &mut i)?;
        pos += gettoalign(pos, &h, opt, size);
        if !(size <= ld && pos <= ld - size) {
            return Err(arg_error(2, "unpack", "data string too short"));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let v = get_integer(&data[pos..pos + size], h.endian, opt.is_ascii_lowercase());
                out.push(Value::Number(v));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let f = match h.endian {
                    Endian::Little => f32::from_le_bytes(b),
                    Endian::Big => f32::from_be_bytes(b),
                };
                out.push(Value::Number(f as f64));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let d = match h.endian {
                    Endian::Little => f64::from_le_bytes(b),
                    Endian::Big => f64::from_be_bytes(b),
                };
                out.push(Value::Number(d));
            }
            b'c' => {
                if size == 0 {
                    let prev = out.pop().and_then(|v| super::convert::parse_lua_number(&v));
                    let Some(n) = prev else {
                        return Err("format 'c0' needs a previous size".into());
                    };
                    size = n as usize;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(arg_error(2, "unpack", "data string too short"));
                    }
                }
                out.push(Value::String(
                    lua.create_string(&data[pos..pos + size]).map_err(lerr)?,
                ));
            }
            b's' => {
                let Some(e) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err("unfinished string in data".into());
                };
                size = e + 1;
                out.push(Value::String(
                    lua.create_string(&data[pos..pos + e]).map_err(lerr)?,
                ));
            }
            _ => controloptions(opt, &fmt, &mut i, &mut h, "unpack")?,
        }
        pos += size;
    }
    out.push(Value::Number((pos + 1) as f64));
    Ok(out)
}

fn size(args: &[Value]) -> Res<f64> {
    let fmt = check_string(args, 0, "size")?;
    let mut h = Header {
        endian: Endian::Little,
        align: 1,
    };
    let mut pos = 0usize;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let size = optsize(opt, &fmt, &mut i)?;
        pos += gettoalign(pos, &h, opt, size);
        if opt == b's' {
            return Err(arg_error(1, "size", "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(arg_error(1, "size", "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            controloptions(opt, &fmt, &mut i, &mut h, "size")?;
        }
        pos += size;
    }
    Ok(pos as f64)
}

fn result(lua: &Lua, r: Res<Vec<Value>>) -> mlua::Result<MultiValue> {
    match r {
        Ok(mut v) => {
            v.insert(0, Value::Nil);
            Ok(MultiValue::from_iter(v))
        }
        Err(e) => Ok(MultiValue::from_iter([Value::String(
            lua.create_string(e)?,
        )])),
    }
}

/// Builds the `struct` table (functions in the `(error, results...)` form).
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| {
            let r = pack(&args).and_then(|b| {
                lua.create_string(&b)
                    .map(|s| vec![Value::String(s)])
                    .map_err(|e| e.to_string())
            });
            result(lua, r)
        })?,
    )?;
    t.set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| {
            let r = unpack(lua, &args);
            result(lua, r)
        })?,
    )?;
    t.set(
        "size",
        lua.create_function(|lua, args: Variadic<Value>| {
            let r = size(&args).map(|n| vec![Value::Number(n)]);
            result(lua, r)
        })?,
    )?;
    Ok(t)
}
