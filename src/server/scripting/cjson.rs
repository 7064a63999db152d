//! The `cjson` library as Redis bundles it (lua-cjson 2.1): `encode` and `decode`
//! with its number formatting (`%.14g`), escaping (`/` and DEL escaped too), array
//! detection (sparse arrays refused), nesting limits and error messages.
//! Functions return `(result, error)`; the prelude raises the error.

use mlua::{LightUserData, Lua, Table, Value, Variadic};
use std::cell::Cell;

thread_local! {
    static ENCODE_MAX_DEPTH: Cell<i64> = const { Cell::new(1000) };
    static DECODE_MAX_DEPTH: Cell<i64> = const { Cell::new(1000) };
    static PRECISION: Cell<i64> = const { Cell::new(14) };
    /// encode_sparse_array: (convert, ratio, safe).
    static SPARSE: Cell<(bool, i64, i64)> = const { Cell::new((false, 2, 10)) };
    /// encode_invalid_numbers: 0 refuse NaN/Inf, 1 encode them, 2 encode as null.
    static INVALID: Cell<u8> = const { Cell::new(0) };
}

type Res = (Value, Option<String>);

fn fail(msg: String) -> mlua::Result<Res> {
    Ok((Value::Nil, Some(msg)))
}

/// The value `cjson.null` (a NULL light userdata, as lua-cjson).
pub fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// Builds the `cjson` table.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encode",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.len() != 1 {
                return fail("bad argument #1 to 'encode' (expected 1 argument)".into());
            }
            let mut out = Vec::new();
            match encode(&args[0], &mut out, 0) {
                Ok(()) => Ok((Value::String(lua.create_string(&out)?), None)),
                Err(e) => fail(e),
            }
        })?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.len() != 1 {
                return fail("bad argument #1 to 'decode' (expected 1 argument)".into());
            }
            let Some(text) = super::redis_lib::lua_tostring(&args[0]) else {
                return fail(format!(
                    "bad argument #1 to 'decode' (string expected, got {})",
                    super::bit::type_name(&args[0])
                ));
            };
            let mut p = Parser {
                lua,
                s: &text,
                pos: 0,
                depth: 0,
            };
            match p.document() {
                Ok(v) => Ok((v, None)),
                Err(e) => fail(e),
            }
        })?,
    )?;
    config_fn(lua, &t, "encode_max_depth", &ENCODE_MAX_DEPTH)?;
    config_fn(lua, &t, "decode_max_depth", &DECODE_MAX_DEPTH)?;
    config_fn(lua, &t, "encode_number_precision", &PRECISION)?;
    t.set(
        "encode_sparse_array",
        lua.create_function(|_, args: Variadic<Value>| {
            let mut cur = SPARSE.with(|c| c.get());
            if let Some(Value::Boolean(b)) = args.first() {
                cur.0 = *b;
            }
            if let Some(n) = args.get(1).and_then(super::convert::parse_lua_number) {
                cur.1 = n as i64;
            }
            if let Some(n) = args.get(2).and_then(super::convert::parse_lua_number) {
                cur.2 = n as i64;
            }
            SPARSE.with(|c| c.set(cur));
            Ok((cur.0, cur.1, cur.2))
        })?,
    )?;
    t.set(
        "encode_invalid_numbers",
        lua.create_function(|lua, args: Variadic<Value>| {
            match args.first() {
                Some(Value::Boolean(b)) => INVALID.with(|c| c.set(u8::from(*b))),
                Some(Value::String(s)) => {
                    let v = match &s.as_bytes()[..] {
                        b"on" => 1,
                        b"null" => 2,
                        _ => 0,
                    };
                    INVALID.with(|c| c.set(v));
                }
                _ => {}
            }
            Ok(match INVALID.with(|c| c.get()) {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                _ => Value::String(lua.create_string("null")?),
            })
        })?,
    )?;
    for name in ["encode_keep_buffer", "decode_invalid_numbers"] {
        t.set(name, lua.create_function(|_, _: Variadic<Value>| Ok(true))?)?;
    }
    t.set("null", null())?;
    t.set("_NAME", "cjson")?;
    t.set("_VERSION", "2.1.0")?;
    Ok(t)
}

fn config_fn(
    lua: &Lua,
    t: &Table,
    name: &'static str,
    cell: &'static std::thread::LocalKey<Cell<i64>>,
) -> mlua::Result<()> {
    t.set(
        name,
        lua.create_function(move |_, args: Variadic<Value>| {
            if let Some(n) = args.first().and_then(super::convert::parse_lua_number) {
                cell.with(|c| c.set(n as i64));
            }
            Ok(cell.with(|c| c.get()))
        })?,
    )
}

fn append_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

fn append_number(n: f64, out: &mut Vec<u8>) -> Result<(), String> {
    if !n.is_finite() {
        match INVALID.with(|c| c.get()) {
            0 => return Err("Cannot serialise number: must not be NaN or Inf".into()),
            2 => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
            _ if n.is_nan() => {
                out.extend_from_slice(b"nan");
                return Ok(());
            }
            _ => {}
        }
    }
    let prec = PRECISION.with(|c| c.get()).clamp(1, 14) as usize;
    out.extend_from_slice(super::convert::format_g(n, prec).as_bytes());
    Ok(())
}

/// The length of `t` as a JSON array, or None when it must be an object
/// (lua-cjson's lua_array_length).
fn array_length(t: &Table) -> Result<Option<usize>, String> {
    let (mut max, mut items) = (0f64, 0usize);
    for pair in t.clone().pairs::<Value, Value>() {
        let Ok((k, _)) = pair else {
            return Ok(None);
        };
        let k = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if k.floor() != k || k < 1.0 {
            return Ok(None);
        }
        max = max.max(k);
        items += 1;
    }
    let (convert, ratio, safe) = SPARSE.with(|c| c.get());
    if ratio > 0 && max > (items as f64) * ratio as f64 && max > safe as f64 {
        if !convert {
            return Err("Cannot serialise table: excessively sparse array".into());
        }
        return Ok(None);
    }
    Ok(if max > 0.0 { Some(max as usize) } else { None })
}

fn encode(v: &Value, out: &mut Vec<u8>, depth: i64) -> Result<(), String> {
    match v {
        Value::String(s) => append_string(&s.as_bytes(), out),
        Value::Integer(i) => append_number(*i as f64, out)?,
        Value::Number(n) => append_number(*n, out)?,
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Table(t) => {
            let depth = depth + 1;
            if depth > ENCODE_MAX_DEPTH.with(|c| c.get()) {
                return Err(format!("Cannot serialise, excessive nesting ({})", depth));
            }
            match array_length(t)? {
                Some(len) => {
                    out.push(b'[');
                    for i in 1..=len {
                        if i > 1 {
                            out.push(b',');
                        }
                        let item: Value = t.raw_get(i).unwrap_or(Value::Nil);
                        encode(&item, out, depth)?;
                    }
                    out.push(b']');
                }
                None => {
                    out.push(b'{');
                    let mut first = true;
                    for pair in t.clone().pairs::<Value, Value>() {
                        let Ok((k, val)) = pair else { continue };
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match &k {
                            Value::Integer(i) => {
                                out.push(b'"');
                                append_number(*i as f64, out)?;
                                out.extend_from_slice(b"\":");
                            }
                            Value::Number(n) => {
                                out.push(b'"');
                                append_number(*n, out)?;
                                out.extend_from_slice(b"\":");
                            }
                            Value::String(s) => {
                                append_string(&s.as_bytes(), out);
                                out.push(b':');
                            }
                            other => {
                                return Err(format!(
                                    "Cannot serialise {}: table key must be a number or string",
                                    super::bit::type_name(other)
                                ))
                            }
                        }
                        encode(&val, out, depth)?;
                    }
                    out.push(b'}');
                }
            }
        }
        other => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                super::bit::type_name(other)
            ))
        }
    }
    Ok(())
}

/// A token of the JSON text (lua-cjson's token types, named as in its errors).
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    /// An invalid token: what was wrong.
    Error(&'static str),
}

impl Tok {
    fn name(&self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str(_) => "T_STRING",
            Tok::Num(_) => "T_NUMBER",
            Tok::Bool(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(e) => e,
        }
    }
}

struct Parser<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    pos: usize,
    depth: i64,
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    /// The next token and the index it starts at.
    fn next(&mut self) -> (Tok, usize) {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let c = self.at(self.pos);
        let single = match c {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b':' => Some(Tok::Colon),
            b',' => Some(Tok::Comma),
            0 => return (Tok::End, start),
            _ => None,
        };
        if let Some(t) = single {
            self.pos += 1;
            return (t, start);
        }
        let rest = &self.s[self.pos..];
        let tok = if c == b'"' {
            self.string()
        } else if c == b'-' || c.is_ascii_digit() || invalid_number_start(rest) {
            self.number()
        } else if rest.starts_with(b"true") {
            self.pos += 4;
            Tok::Bool(true)
        } else if rest.starts_with(b"false") {
            self.pos += 5;
            Tok::Bool(false)
        } else if rest.starts_with(b"null") {
            self.pos += 4;
            Tok::Null
        } else {
            Tok::Error("invalid token")
        };
        let idx = if matches!(tok, Tok::Error(_)) {
            self.pos
        } else {
            start
        };
        (tok, idx)
    }

    fn number(&mut self) -> Tok {
        let rest = &self.s[self.pos..];
        match strtod_prefix(rest) {
            Some((n, len)) => {
                self.pos += len;
                Tok::Num(n)
            }
            None => Tok::Error("invalid number"),
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.s.get(at..at + 4)?;
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    }

    fn string(&mut self) -> Tok {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let c = self.at(self.pos);
            if c == b'"' {
                self.pos += 1;
                return Tok::Str(out);
            }
            if c == 0 && self.pos >= self.s.len() {
                return Tok::Error("unexpected end of string");
            }
            if c == 0 {
                return Tok::Error("unexpected end of string");
            }
            if c != b'\\' {
                out.push(c);
                self.pos += 1;
                continue;
            }
            let e = self.at(self.pos + 1);
            let ch = match e {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 8,
                b't' => b'\t',
                b'n' => b'\n',
                b'f' => 12,
                b'r' => b'\r',
                b'u' => {
                    match self.unicode_escape() {
                        Some(cp) => {
                            let mut buf = [0u8; 4];
                            match char::from_u32(cp) {
                                Some(ch) => {
                                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes())
                                }
                                None => return Tok::Error("invalid unicode escape code"),
                            }
                        }
                        None => return Tok::Error("invalid unicode escape code"),
                    }
                    continue;
                }
                _ => return Tok::Error("invalid escape code"),
            };
            out.push(ch);
            self.pos += 2;
        }
    }

    /// `\uXXXX` (and a following low surrogate) at pos; advances past it.
    fn unicode_escape(&mut self) -> Option<u32> {
        let hi = self.hex4(self.pos + 2)?;
        if (0xDC00..=0xDFFF).contains(&hi) {
            return None;
        }
        if (0xD800..=0xDBFF).contains(&hi) {
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return None;
            }
            let lo = self.hex4(self.pos + 8)?;
            if !(0xDC00..=0xDFFF).contains(&lo) {
                return None;
            }
            self.pos += 12;
            return Some((((hi & 0x3FF) << 10) | (lo & 0x3FF)) + 0x10000);
        }
        self.pos += 6;
        Some(hi)
    }

    fn expected(&self, what: &str, tok: &Tok, idx: usize) -> String {
        format!(
            "Expected {} but found {} at character {}",
            what,
            tok.name(),
            idx + 1
        )
    }

    fn document(&mut self) -> Result<Value, String> {
        let (tok, idx) = self.next();
        let v = self.value(tok, idx)?;
        let (tok, idx) = self.next();
        if !matches!(tok, Tok::End) {
            return Err(self.expected("the end", &tok, idx));
        }
        Ok(v)
    }

    fn descend(&mut self, idx: usize) -> Result<(), String> {
        self.depth += 1;
        if self.depth > DECODE_MAX_DEPTH.with(|c| c.get()) {
            return Err(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth,
                idx + 1
            ));
        }
        Ok(())
    }

    fn value(&mut self, tok: Tok, idx: usize) -> Result<Value, String> {
        let lua = self.lua;
        let lerr = |e: mlua::Error| e.to_string();
        match tok {
            Tok::Str(s) => Ok(Value::String(lua.create_string(&s).map_err(lerr)?)),
            Tok::Num(n) => Ok(Value::Number(n)),
            Tok::Bool(b) => Ok(Value::Boolean(b)),
            Tok::Null => Ok(null()),
            Tok::ObjBegin => {
                self.descend(idx)?;
                let t = lua.create_table().map_err(lerr)?;
                let (mut tok, mut idx) = self.next();
                if matches!(tok, Tok::ObjEnd) {
                    self.depth -= 1;
                    return Ok(Value::Table(t));
                }
                loop {
                    let Tok::Str(k) = tok else {
                        return Err(self.expected("object key string", &tok, idx));
                    };
                    let (c, cidx) = self.next();
                    if !matches!(c, Tok::Colon) {
                        return Err(self.expected("colon", &c, cidx));
                    }
                    let (vt, vidx) = self.next();
                    let v = self.value(vt, vidx)?;
                    t.raw_set(lua.create_string(&k).map_err(lerr)?, v)
                        .map_err(lerr)?;
                    let (sep, sidx) = self.next();
                    match sep {
                        Tok::ObjEnd => break,
                        Tok::Comma => {}
                        other => return Err(self.expected("comma or object end", &other, sidx)),
                    }
                    (tok, idx) = self.next();
                }
                self.depth -= 1;
                Ok(Value::Table(t))
            }
            Tok::ArrBegin => {
                self.descend(idx)?;
                let t = lua.create_table().map_err(lerr)?;
                let (mut tok, mut idx) = self.next();
                if matches!(tok, Tok::ArrEnd) {
                    self.depth -= 1;
                    return Ok(Value::Table(t));
                }
                let mut i = 1i64;
                loop {
                    let v = self.value(tok, idx)?;
                    t.raw_set(i, v).map_err(lerr)?;
                    i += 1;
                    let (sep, sidx) = self.next();
                    match sep {
                        Tok::ArrEnd => break,
                        Tok::Comma => {}
                        other => return Err(self.expected("comma or array end", &other, sidx)),
                    }
                    (tok, idx) = self.next();
                }
                self.depth -= 1;
                Ok(Value::Table(t))
            }
            other => Err(self.expected("value", &other, idx)),
        }
    }
}

/// Whether the text starts a number lua-cjson only reads with strtod (inf, nan,
/// hex, leading +).
fn invalid_number_start(s: &[u8]) -> bool {
    let low: Vec<u8> = s.iter().take(3).map(|b| b.to_ascii_lowercase()).collect();
    s.first() == Some(&b'+') || low == b"inf" || low == b"nan"
}

/// C's strtod on a prefix of `s`: the value and how many bytes it used.
fn strtod_prefix(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let lower: Vec<u8> = rest
        .iter()
        .take(8)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    if lower.starts_with(b"inf") {
        let len = if lower.starts_with(b"infinity") { 8 } else { 3 };
        let v = if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        return Some((v, i + len));
    }
    if lower.starts_with(b"nan") {
        return Some((f64::NAN, i + 3));
    }
    if lower.starts_with(b"0x") {
        let digits = rest[2..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if digits > 0 {
            let h = std::str::from_utf8(&rest[2..2 + digits]).ok()?;
            let v = u64::from_str_radix(h, 16)
                .map(|x| x as f64)
                .unwrap_or(f64::MAX);
            return Some((if neg { -v } else { v }, i + 2 + digits));
        }
    }
    let mut j = i;
    let int_digits = s[j..].iter().take_while(|b| b.is_ascii_digit()).count();
    j += int_digits;
    let mut frac_digits = 0;
    if s.get(j) == Some(&b'.') {
        frac_digits = s[j + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if int_digits > 0 || frac_digits > 0 {
            j += 1 + frac_digits;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(s.get(j), Some(b'e') | Some(b'E')) {
        let mut k = j + 1;
        if matches!(s.get(k), Some(b'+') | Some(b'-')) {
            k += 1;
        }
        let exp_digits = s[k.min(s.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if exp_digits > 0 {
            j = k + exp_digits;
        }
    }
    let text = std::str::from_utf8(&s[..j]).ok()?;
    text.parse::<f64>().ok().map(|v| (v, j))
}
