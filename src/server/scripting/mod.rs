//! Lua scripting (Redis 7.0's EVAL family): one Lua 5.1 interpreter per server,
//! the script cache, shebang flags and the run context a script executes in.
//!
//! - `engine`: the interpreter, its sandbox (the prelude in `prelude.lua`) and
//!   running a compiled script under the busy-script hook;
//! - `redis_lib`: the native half of the `redis` library (`redis.call` and
//!   friends) and `math.random`;
//! - `convert`: Redis replies to Lua values and Lua values to replies;
//! - `busy`: serving other clients while a script runs past
//!   `busy-reply-threshold` (BUSY errors, SCRIPT KILL, SHUTDOWN NOSAVE);
//! - `ldb`: the Lua debugger (SCRIPT DEBUG and its sessions);
//! - `bit`, `cjson`: Redis's bundled Lua libraries.
//!
//! The commands are in `commands::scripting`.

pub mod bit;
pub mod busy;
pub mod cjson;
pub mod cmsgpack;
pub mod convert;
pub mod engine;
pub mod functions;
pub mod ldb;
pub mod raising;
pub mod redis_lib;
pub mod struct_lib;

use std::collections::HashMap;

/// `no-writes` shebang flag.
pub const FLAG_NO_WRITES: u64 = 1 << 0;
/// `allow-oom` shebang flag.
pub const FLAG_ALLOW_OOM: u64 = 1 << 1;
/// `allow-stale` shebang flag.
pub const FLAG_ALLOW_STALE: u64 = 1 << 2;
/// `no-cluster` shebang flag.
pub const FLAG_NO_CLUSTER: u64 = 1 << 3;
/// `allow-cross-slot-keys` shebang flag.
pub const FLAG_ALLOW_CROSS_SLOT: u64 = 1 << 4;
/// A script without a shebang line (EVAL's backwards-compatible mode).
pub const FLAG_EVAL_COMPAT: u64 = 1 << 5;

/// The shebang flags by name, as Redis spells them.
pub const FLAG_NAMES: &[(u64, &str)] = &[
    (FLAG_NO_WRITES, "no-writes"),
    (FLAG_ALLOW_OOM, "allow-oom"),
    (FLAG_ALLOW_STALE, "allow-stale"),
    (FLAG_NO_CLUSTER, "no-cluster"),
    (FLAG_ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
];

/// A script of the cache: its shebang flags and the compiled function.
pub struct Script {
    pub flags: u64,
    pub func: mlua::Function,
}

/// The scripting state of the server: the interpreter and the script cache.
#[derive(Default)]
pub struct Scripting {
    pub engine: engine::Engine,
    pub scripts: HashMap<String, Script>,
    /// Bytes of cached script bodies (INFO used_memory_scripts_eval).
    pub scripts_mem: usize,
    /// Scripts run so far (a GC step every 50, as Redis).
    pub runs: u64,
    /// The function libraries (FUNCTION LOAD).
    pub functions: functions::Functions,
}

impl std::fmt::Debug for Scripting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripting")
            .field("scripts", &self.scripts.len())
            .finish()
    }
}

impl Scripting {
    /// SCRIPT FLUSH: a fresh interpreter and an empty cache, as Redis's scriptingReset.
    pub fn reset(&mut self) {
        let runs = self.runs;
        let codes = self.functions.codes();
        *self = Scripting::default();
        self.runs = runs;
        // Libraries live on in the new interpreter.
        for code in &codes {
            let _ = functions::create_library(self, code, true);
        }
    }
}

/// The lower-case hex SHA1 of `data` (script names, `redis.sha1hex`).
pub fn sha1hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// Parses a `#!lua flags=a,b` shebang line at the start of `body`. Returns the
/// flags (FLAG_EVAL_COMPAT when there is no shebang) and the length of the line
/// (the newline stays in the compiled body to keep line numbers), or Redis's error.
pub fn parse_shebang(body: &[u8]) -> Result<(u64, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((FLAG_EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let parts = match crate::server::util::split_args(&body[..end]) {
        Ok(p) if !p.is_empty() => p,
        _ => return Err("Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        ));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(p)
            ));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            match FLAG_NAMES.iter().find(|(_, n)| n.as_bytes() == name) {
                Some((f, _)) => flags |= f,
                None => {
                    return Err(format!(
                        "Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(name)
                    ))
                }
            }
        }
    }
    Ok((flags, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_parse_as_redis() {
        assert_eq!(parse_shebang(b"return 1").unwrap(), (FLAG_EVAL_COMPAT, 0));
        assert_eq!(
            parse_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap(),
            (FLAG_NO_WRITES | FLAG_ALLOW_OOM, 31)
        );
        assert_eq!(parse_shebang(b"#!lua\nreturn 1").unwrap(), (0, 5));
        assert_eq!(
            parse_shebang(b"#!lua flags=bad\n").unwrap_err(),
            "Unexpected flag in script shebang: bad"
        );
        assert_eq!(
            parse_shebang(b"#!python\n").unwrap_err(),
            "Unexpected engine in script shebang: #!python"
        );
        assert_eq!(
            parse_shebang(b"#!lua").unwrap_err(),
            "Invalid script shebang"
        );
    }

    #[test]
    fn sha1_is_hex() {
        assert_eq!(sha1hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
