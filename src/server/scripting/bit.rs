//! The `bit` library (LuaBitOp, as bundled with Redis): 32-bit operations on Lua
//! numbers. Each function returns `(result, error)`; the prelude raises the error.

use mlua::{Lua, Table, Value, Variadic};

/// Converts a Lua number to the 32-bit integer LuaBitOp works on: modulo 2^32,
/// rounded to nearest like its 2^52+2^51 trick.
pub fn tobit(n: f64) -> i32 {
    if !n.is_finite() {
        return 0;
    }
    let r = n.round_ties_even();
    let m = r.rem_euclid(4294967296.0);
    (m as u64 as u32) as i32
}

fn arg(args: &[Value], i: usize, fname: &str) -> Result<i32, String> {
    let v = args.get(i);
    match v.and_then(super::convert::parse_lua_number) {
        Some(n) => Ok(tobit(n)),
        None => Err(format!(
            "bad argument #{} to '{}' (number expected, got {})",
            i + 1,
            fname,
            v.map(type_name).unwrap_or("no value")
        )),
    }
}

/// Lua's type name of a value, for argument errors.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

type BitResult = (Value, Option<String>);

fn ok(n: i32) -> BitResult {
    (Value::Number(n as f64), None)
}

fn unary(lua: &Lua, t: &Table, name: &'static str, f: fn(i32) -> i32) -> mlua::Result<()> {
    t.set(
        name,
        lua.create_function(move |_, args: Variadic<Value>| {
            Ok(match arg(&args, 0, name) {
                Ok(x) => ok(f(x)),
                Err(e) => (Value::Nil, Some(e)),
            })
        })?,
    )
}

fn fold(lua: &Lua, t: &Table, name: &'static str, f: fn(i32, i32) -> i32) -> mlua::Result<()> {
    t.set(
        name,
        lua.create_function(move |_, args: Variadic<Value>| {
            let mut acc = match arg(&args, 0, name) {
                Ok(x) => x,
                Err(e) => return Ok((Value::Nil, Some(e))),
            };
            for i in 1..args.len() {
                match arg(&args, i, name) {
                    Ok(x) => acc = f(acc, x),
                    Err(e) => return Ok((Value::Nil, Some(e))),
                }
            }
            Ok(ok(acc))
        })?,
    )
}

fn shift(lua: &Lua, t: &Table, name: &'static str, f: fn(i32, u32) -> i32) -> mlua::Result<()> {
    t.set(
        name,
        lua.create_function(move |_, args: Variadic<Value>| {
            let x = match arg(&args, 0, name) {
                Ok(x) => x,
                Err(e) => return Ok((Value::Nil, Some(e))),
            };
            let n = match arg(&args, 1, name) {
                Ok(n) => (n as u32) & 31,
                Err(e) => return Ok((Value::Nil, Some(e))),
            };
            Ok(ok(f(x, n)))
        })?,
    )
}

/// Builds the `bit` table.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    unary(lua, &t, "tobit", |x| x)?;
    unary(lua, &t, "bnot", |x| !x)?;
    unary(lua, &t, "bswap", |x| x.swap_bytes())?;
    fold(lua, &t, "band", |a, b| a & b)?;
    fold(lua, &t, "bor", |a, b| a | b)?;
    fold(lua, &t, "bxor", |a, b| a ^ b)?;
    shift(lua, &t, "lshift", |x, n| ((x as u32) << n) as i32)?;
    shift(lua, &t, "rshift", |x, n| ((x as u32) >> n) as i32)?;
    shift(lua, &t, "arshift", |x, n| x >> n)?;
    shift(lua, &t, "rol", |x, n| (x as u32).rotate_left(n) as i32)?;
    shift(lua, &t, "ror", |x, n| (x as u32).rotate_right(n) as i32)?;
    t.set(
        "tohex",
        lua.create_function(|lua, args: Variadic<Value>| {
            let x = match arg(&args, 0, "tohex") {
                Ok(x) => x as u32,
                Err(e) => return Ok((Value::Nil, Some(e))),
            };
            let mut n = if args.len() > 1 && !args[1].is_nil() {
                match arg(&args, 1, "tohex") {
                    Ok(n) => n,
                    Err(e) => return Ok((Value::Nil, Some(e))),
                }
            } else {
                8
            };
            let upper = n < 0;
            if upper {
                n = n.wrapping_neg();
            }
            let n = (n as u32).min(8) as usize;
            let full = if upper {
                format!("{:08X}", x)
            } else {
                format!("{:08x}", x)
            };
            Ok((Value::String(lua.create_string(&full[8 - n..])?), None))
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tobit_wraps_like_luabitop() {
        assert_eq!(tobit(4294967295.0), -1);
        assert_eq!(tobit(2147483648.0), i32::MIN);
        assert_eq!(tobit(-1.0), -1);
        assert_eq!(tobit(1.5), 2);
        assert_eq!(tobit(2.5), 2);
    }
}
