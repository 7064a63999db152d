//! Function libraries (Redis 7.0's functions.c): the registry of libraries and
//! their functions, loading a library from its code (`#!lua name=<lib>` first
//! line), and the DUMP/RESTORE payload. Libraries are saved in RDB files as
//! `FUNCTION2` records holding their code, and replicated as the commands that
//! change them.

use std::collections::{BTreeMap, HashMap};

/// A function as `redis.register_function` registered it during a load.
pub struct Registered {
    pub name: String,
    pub description: Option<Vec<u8>>,
    pub flags: Vec<String>,
    pub func: mlua::Function,
}

/// A function of a loaded library.
pub struct Function {
    pub name: String,
    pub description: Option<Vec<u8>>,
    /// Shebang-style flags (`scripting::FLAG_*`).
    pub flags: u64,
    pub func: mlua::Function,
}

/// A loaded library: its name, its whole code (with the shebang line) and its functions.
pub struct Library {
    pub name: String,
    pub code: Vec<u8>,
    pub functions: Vec<Function>,
}

/// All libraries, and which library each function name belongs to. Both maps are
/// keyed by the lower-case name: Redis compares these names case-insensitively.
#[derive(Default)]
pub struct Functions {
    pub libs: BTreeMap<String, Library>,
    pub index: HashMap<String, String>,
}

impl Functions {
    /// The function `name` with its library, if loaded.
    pub fn get(&self, name: &str) -> Option<&Function> {
        let lib = self.libs.get(self.index.get(&name.to_ascii_lowercase())?)?;
        lib.functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Whether a library of that name (in any case) is loaded.
    pub fn has_library(&self, name: &str) -> bool {
        self.libs.contains_key(&name.to_ascii_lowercase())
    }

    /// Number of functions over all libraries.
    pub fn function_count(&self) -> usize {
        self.index.len()
    }

    /// Removes a library and its functions from the index.
    pub fn remove(&mut self, name: &str) -> Option<Library> {
        let lib = self.libs.remove(&name.to_ascii_lowercase())?;
        for f in &lib.functions {
            self.index.remove(&f.name.to_ascii_lowercase());
        }
        Some(lib)
    }

    /// The code of every library, in name order (what RDB files and DUMP hold).
    pub fn codes(&self) -> Vec<Vec<u8>> {
        self.libs.values().map(|l| l.code.clone()).collect()
    }
}

/// `#!<engine> name=<lib>`: the engine and the library name, or Redis's error.
pub fn parse_metadata(code: &[u8]) -> Result<(String, String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match crate::server::util::split_args(&code[..end]) {
        Ok(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = String::from_utf8_lossy(&parts[0][2..]).into_owned();
    let mut name = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(String::from_utf8_lossy(&p[5..]).into_owned());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(p)
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok((engine, name, end))
}

/// Whether a library or function name is made of letters, digits and `_`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Compiles and registers a library (FUNCTION LOAD, RESTORE, RDB load). With
/// `replace` an existing library of the same name is replaced. Returns the
/// library's name or the error text (without the `ERR ` code).
pub fn create_library(
    scripting: &mut super::Scripting,
    code: &[u8],
    replace: bool,
) -> Result<String, String> {
    let (engine, name, shebang_len) = parse_metadata(code)?;
    if !valid_name(&name) {
        return Err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("Engine '{}' not found", engine));
    }
    let key = name.to_ascii_lowercase();
    if scripting.functions.has_library(&name) && !replace {
        return Err(format!("Library '{}' already exists", name));
    }
    let registered = scripting.engine.load_library(&code[shebang_len..])?;
    if registered.is_empty() {
        return Err("No functions registered".into());
    }
    for r in &registered {
        if let Some(owner) = scripting.functions.index.get(&r.name.to_ascii_lowercase()) {
            if *owner != key {
                return Err(format!("Function {} already exists", r.name));
            }
        }
    }
    scripting.functions.remove(&name);
    let functions = registered
        .into_iter()
        .map(|r| {
            let flags = r
                .flags
                .iter()
                .filter_map(|f| super::FLAG_NAMES.iter().find(|(_, n)| n == f))
                .fold(0, |acc, (bit, _)| acc | bit);
            Function {
                name: r.name,
                description: r.description,
                flags,
                func: r.func,
            }
        })
        .collect::<Vec<_>>();
    for f in &functions {
        scripting
            .functions
            .index
            .insert(f.name.to_ascii_lowercase(), key.clone());
    }
    scripting.functions.libs.insert(
        key,
        Library {
            name: name.clone(),
            code: code.to_vec(),
            functions,
        },
    );
    Ok(name)
}

/// RDB version written at the end of a DUMP payload.
const DUMP_RDB_VERSION: u16 = 10;

/// FUNCTION DUMP's payload: a FUNCTION2 record per library, the RDB version
/// (2 bytes, little endian) and a CRC64 of everything before (8 bytes, LE).
pub fn dump(codes: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = crate::server::rdb::writer::RdbWriter::new(&mut out, false);
        for c in codes {
            let _ = w.byte(crate::server::rdb::format::OPCODE_FUNCTION2);
            let _ = w.string(c);
        }
    }
    out.extend_from_slice(&DUMP_RDB_VERSION.to_le_bytes());
    let crc = crate::server::rdb::crc64::update(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Parses a FUNCTION RESTORE payload back into library codes, or Redis's error.
pub fn parse_dump(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    const BAD: &str = "DUMP payload version or checksum are wrong";
    if payload.len() < 10 {
        return Err(BAD.into());
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let mut crc_bytes = [0u8; 8];
    crc_bytes.copy_from_slice(&footer[2..]);
    let crc = u64::from_le_bytes(crc_bytes);
    if version > DUMP_RDB_VERSION
        || crate::server::rdb::crc64::update(0, &payload[..payload.len() - 8]) != crc
    {
        return Err(BAD.into());
    }
    let mut codes = Vec::new();
    let mut r: &[u8] = body;
    while !r.is_empty() {
        if r[0] != crate::server::rdb::format::OPCODE_FUNCTION2 {
            return Err("given type is not a function".into());
        }
        r = &r[1..];
        match crate::server::rdb::reader::read_string_from(&mut r) {
            Ok(s) => codes.push(s),
            Err(_) => return Err("can not read data type".into()),
        }
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_parses_as_redis() {
        assert_eq!(
            parse_metadata(b"#!lua name=mylib\nreturn 1").unwrap(),
            ("lua".into(), "mylib".into(), 16)
        );
        assert_eq!(
            parse_metadata(b"return 1").unwrap_err(),
            "Missing library metadata"
        );
        assert_eq!(
            parse_metadata(b"#!lua\n").unwrap_err(),
            "Library name was not given"
        );
        assert_eq!(
            parse_metadata(b"#!lua foo=bar name=x\n").unwrap_err(),
            "Invalid metadata value given: foo=bar"
        );
    }

    #[test]
    fn dump_round_trips() {
        let codes = vec![b"#!lua name=a\n".to_vec(), b"#!lua name=b\n".to_vec()];
        assert_eq!(parse_dump(&dump(&codes)).unwrap(), codes);
        let mut bad = dump(&codes);
        bad[3] ^= 1;
        assert!(parse_dump(&bad).is_err());
    }
}
