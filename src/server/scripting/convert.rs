//! Conversions between Redis replies and Lua values, as Redis 7.0 documents them.
//!
//! Reply -> Lua (what `redis.call` returns): integer -> number, bulk -> string,
//! null bulk / null array -> false, array -> table, status -> `{ok=...}`, error ->
//! `{err=...}`; RESP3 (after `redis.setresp(3)`): null -> nil, boolean -> boolean,
//! double -> `{double=n}`, big number -> `{big_number=s}`, map -> `{map={...}}`,
//! set -> `{set={k=true}}`, verbatim -> `{verbatim_string={format=, string=}}`.
//!
//! Lua -> reply (what a script returns): number -> integer (truncated), string ->
//! bulk, true -> 1 (RESP2) / #t, false -> null / #f, table -> error, status,
//! double, big number, verbatim, map, set or array (up to the first nil), anything
//! else -> null.

use crate::server::resp::Reply;
use mlua::{Lua, Table, Value};

/// Formats a number like C's `%.<prec>g` (Lua's tostring is `%.14g`, Redis's
/// argument conversion `%.17g`).
pub fn format_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let prec = prec.max(1);
    // Integral values with fewer digits than the precision print as integers
    // (the common case of numbers passed to redis.call); exact formatting of
    // a double to 17 digits is slow.
    if v.fract() == 0.0 && v.abs() < 10f64.powi(prec.min(15) as i32) {
        return (v as i64).to_string();
    }
    let sci = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", mant, sign, exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{:.*}", decimals, v)).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Lua's string-to-number conversion for a value (numbers as they are, strings
/// that parse as a number), None otherwise.
pub fn parse_lua_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => {
            let b = s.as_bytes();
            let t = std::str::from_utf8(&b).ok()?.trim();
            if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                return u64::from_str_radix(h, 16).ok().map(|x| x as f64);
            }
            t.parse::<f64>().ok()
        }
        _ => None,
    }
}

/// Parses one reply from `buf` into a Lua value (what `redis.call` returns).
pub fn reply_to_lua(lua: &Lua, buf: &[u8]) -> mlua::Result<Value> {
    let mut pos = 0;
    parse(lua, buf, &mut pos)
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let start = *pos;
    let end = buf[start..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| start + p)
        .unwrap_or(buf.len());
    *pos = (end + 2).min(buf.len());
    &buf[start..end]
}

fn int_of(b: &[u8]) -> i64 {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn single(lua: &Lua, field: &str, v: Value) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(field, v)?;
    Ok(Value::Table(t))
}

fn parse(lua: &Lua, buf: &[u8], pos: &mut usize) -> mlua::Result<Value> {
    if *pos >= buf.len() {
        return Ok(Value::Nil);
    }
    let kind = buf[*pos];
    *pos += 1;
    let l = line(buf, pos);
    match kind {
        b'+' => single(lua, "ok", Value::String(lua.create_string(l)?)),
        b'-' => {
            let msg = String::from_utf8_lossy(l);
            let v = super::redis_lib::error_table(lua, &format!("-{}", msg));
            if let Value::Table(t) = &v {
                t.raw_set("ignore_error_stats_update", true)?;
            }
            Ok(v)
        }
        b':' => Ok(Value::Number(int_of(l) as f64)),
        b'$' | b'=' | b'!' => {
            let n = int_of(l);
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let n = n as usize;
            let end = (*pos + n).min(buf.len());
            let data = &buf[*pos..end];
            *pos = (end + 2).min(buf.len());
            match kind {
                b'=' => {
                    let (fmt, text) = if data.len() >= 4 {
                        (&data[..3], &data[4..])
                    } else {
                        (&b"txt"[..], data)
                    };
                    let inner = lua.create_table()?;
                    inner.raw_set("string", lua.create_string(text)?)?;
                    inner.raw_set("format", lua.create_string(fmt)?)?;
                    single(lua, "verbatim_string", Value::Table(inner))
                }
                b'!' => {
                    let msg = String::from_utf8_lossy(data);
                    Ok(super::redis_lib::error_table(lua, &format!("-{}", msg)))
                }
                _ => Ok(Value::String(lua.create_string(data)?)),
            }
        }
        b'*' | b'>' => {
            let n = int_of(l);
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let t = lua.create_table()?;
            for i in 0..n {
                let v = parse(lua, buf, pos)?;
                t.raw_set(i + 1, v)?;
            }
            Ok(Value::Table(t))
        }
        b'%' => {
            let n = int_of(l).max(0);
            let m = lua.create_table()?;
            for _ in 0..n {
                let k = parse(lua, buf, pos)?;
                let v = parse(lua, buf, pos)?;
                if !k.is_nil() {
                    m.raw_set(k, v)?;
                }
            }
            single(lua, "map", Value::Table(m))
        }
        b'~' => {
            let n = int_of(l).max(0);
            let m = lua.create_table()?;
            for _ in 0..n {
                let k = parse(lua, buf, pos)?;
                if !k.is_nil() {
                    m.raw_set(k, true)?;
                }
            }
            single(lua, "set", Value::Table(m))
        }
        b'|' => {
            let n = int_of(l).max(0);
            for _ in 0..2 * n {
                parse(lua, buf, pos)?;
            }
            parse(lua, buf, pos)
        }
        b'_' => Ok(Value::Nil),
        b'#' => Ok(Value::Boolean(l == b"t")),
        b',' => {
            let s = String::from_utf8_lossy(l);
            let d = match s.as_ref() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                "nan" => f64::NAN,
                x => x.parse().unwrap_or(0.0),
            };
            single(lua, "double", Value::Number(d))
        }
        b'(' => single(lua, "big_number", Value::String(lua.create_string(l)?)),
        _ => Ok(Value::Nil),
    }
}

/// Writes the Lua value a script returned as a reply to the caller (Redis's
/// luaReplyToRedisReply). `script_resp3` is the protocol the script selected
/// with redis.setresp (it decides how booleans are sent); `out` is encoded in
/// the caller's protocol.
pub fn lua_to_reply(v: &Value, out: &mut Reply, script_resp3: bool, depth: usize) {
    if depth > 1000 {
        out.error("reached lua stack limit");
        return;
    }
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if !script_resp3 {
                if *b {
                    out.int(1)
                } else {
                    out.null()
                }
            } else if out.resp3 {
                out.raw(if *b { b"#t\r\n" } else { b"#f\r\n" });
            } else {
                out.int(i64::from(*b))
            }
        }
        Value::Integer(i) => out.int(*i),
        Value::Number(n) => out.int(lua_number_to_i64(*n)),
        Value::Table(t) => table_to_reply(t, out, script_resp3, depth),
        _ => out.null(),
    }
}

/// C's `(long long)` cast of a double, saturating where C's is undefined.
fn lua_number_to_i64(n: f64) -> i64 {
    // x86-64's cvttsd2si gives i64::MIN for NaN and anything out of range.
    if n.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// Whether an error table came from a command the script ran (the command's
/// own reply or refusal already counted it in the error statistics).
pub fn already_counted(t: &Table) -> bool {
    matches!(
        t.raw_get::<Value>("ignore_error_stats_update"),
        Ok(Value::Boolean(true))
    )
}

fn table_to_reply(t: &Table, out: &mut Reply, script_resp3: bool, depth: usize) {
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        let msg = String::from_utf8_lossy(&e.as_bytes()).into_owned();
        if already_counted(t) {
            out.error_verbatim_uncounted(&msg);
        } else {
            out.error_verbatim(&msg);
        }
        return;
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        let s: Vec<u8> = s
            .as_bytes()
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
            .collect();
        out.simple(&String::from_utf8_lossy(&s));
        return;
    }
    if let Ok(v @ (Value::Number(_) | Value::Integer(_))) = t.raw_get::<Value>("double") {
        let d = match v {
            Value::Number(n) => n,
            Value::Integer(i) => i as f64,
            _ => 0.0,
        };
        out.double(d);
        return;
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
        let s: Vec<u8> = s
            .as_bytes()
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
            .collect();
        if out.resp3 {
            out.raw(b"(");
            out.raw(&s);
            out.raw(b"\r\n");
        } else {
            out.bulk(&s);
        }
        return;
    }
    if let Ok(Value::Table(vt)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(f)), Ok(Value::String(s))) =
            (vt.raw_get::<Value>("format"), vt.raw_get::<Value>("string"))
        {
            let f = f.as_bytes();
            let s = s.as_bytes();
            if out.resp3 {
                let mut b = Vec::with_capacity(s.len() + 16);
                b.push(b'=');
                b.extend_from_slice((s.len() + 4).to_string().as_bytes());
                b.extend_from_slice(b"\r\n");
                let mut fmt = f.to_vec();
                fmt.resize(3, b' ');
                b.extend_from_slice(&fmt[..3]);
                b.push(b':');
                b.extend_from_slice(&s);
                b.extend_from_slice(b"\r\n");
                out.raw(&b);
            } else {
                out.bulk(&s);
            }
            return;
        }
    }
    // Tables are walked twice (count, then write) rather than collected: every
    // Lua string or table held from Rust takes a slot of a stack Lua 5.1 caps
    // at 8000, so a large table must not be held all at once.
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let n = m.clone().pairs::<Value, Value>().count();
        out.map(n);
        for (k, v) in m.pairs::<Value, Value>().filter_map(Result::ok).take(n) {
            lua_to_reply(&k, out, script_resp3, depth + 1);
            lua_to_reply(&v, out, script_resp3, depth + 1);
        }
        return;
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let n = s.clone().pairs::<Value, Value>().count();
        out.set(n);
        for (k, _) in s.pairs::<Value, Value>().filter_map(Result::ok).take(n) {
            lua_to_reply(&k, out, script_resp3, depth + 1);
        }
        return;
    }
    let mut len = 0i64;
    while !matches!(t.raw_get::<Value>(len + 1), Ok(Value::Nil) | Err(_)) {
        len += 1;
    }
    out.array(len as usize);
    for j in 1..=len {
        let v = t.raw_get::<Value>(j).unwrap_or(Value::Nil);
        lua_to_reply(&v, out, script_resp3, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_printf_g() {
        assert_eq!(format_g(1.0, 17), "1");
        assert_eq!(format_g(0.1, 17), "0.10000000000000001");
        assert_eq!(format_g(0.1, 14), "0.1");
        assert_eq!(format_g(1e20, 17), "1e+20");
        assert_eq!(format_g(123456789012345678.0, 17), "1.2345678901234568e+17");
        assert_eq!(format_g(3.5, 14), "3.5");
        assert_eq!(
            format_g(1e-5, 14),
            "1.0000000000000001e-05".replace("1.0000000000000001", "1")
        );
        assert_eq!(format_g(-2.25, 14), "-2.25");
        // The integer fast path agrees with the general one (checked against
        // C's printf by the side-by-side script tests) at its edges.
        assert_eq!(format_g(100.0, 17), "100");
        assert_eq!(format_g(-42.0, 14), "-42");
        assert_eq!(format_g(99999999999999.0, 14), "99999999999999");
        assert_eq!(format_g(100000000000000.0, 14), "1e+14");
        assert_eq!(format_g(999999999999999.0, 17), "999999999999999");
        assert_eq!(format_g(1e15, 17), "1000000000000000");
        assert_eq!(format_g(1e17, 17), "1e+17");
        assert_eq!(format_g(12345.0, 3), "1.23e+04");
        assert_eq!(format_g(123.0, 3), "123");
    }
}
