//! The Lua interpreter: created with the libraries Redis 7.0 loads (base, table,
//! string, math, debug for the error handler only, cjson, bit), sandboxed by
//! `prelude.lua`, and the one place scripts are compiled and run.

use mlua::{ChunkMode, Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value};

/// One interpreter with its sandbox (a cheap handle: clones share the interpreter): the runner (`run` of the prelude) and the
/// environment compiled scripts get.
#[derive(Clone)]
pub struct Engine {
    pub lua: Lua,
    runner: Function,
    env: Table,
    fenv: Table,
    load_lib: Function,
    /// The prelude's helpers for the Lua debugger.
    ldb: Table,
}

const PRELUDE: &str = include_str!("prelude.lua");

/// Instructions between two calls of the busy-script hook (Redis: 100000).
const HOOK_EVERY: u32 = 100_000;

/// How long FUNCTION LOAD lets a library's code run (Redis: 500 ms).
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

impl Engine {
    /// A fresh interpreter with the Redis libraries and the sandbox.
    ///
    /// Panics only if the bundled prelude itself fails to run, which the unit
    /// tests rule out.
    pub fn new() -> Engine {
        // SAFETY: the debug library is needed by the error handler; the prelude
        // keeps it in a local and removes the global before any script runs.
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::new(),
            )
        };
        let native = super::redis_lib::native_table(&lua).expect("native library");
        let (runner, env, fenv, load_lib, ldb): (Function, Table, Table, Function, Table) = lua
            .load(PRELUDE)
            .set_name("@__redis__")
            .call(native)
            .expect("scripting prelude");
        Engine {
            lua,
            runner,
            env,
            fenv,
            load_lib,
            ldb,
        }
    }

    /// Compiles a script body (text only) named `@user_script` as Redis does, with the
    /// sandboxed environment. Returns the Lua error message on failure.
    pub fn compile(&self, body: &[u8], name: &str) -> Result<Function, String> {
        let f = self
            .lua
            .load(body)
            .set_name(name)
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(|e| compile_error_text(&e))?;
        f.set_environment(self.env.clone())
            .map_err(|e| e.to_string())?;
        Ok(f)
    }

    /// Compiles and runs a function library's code (after its shebang line) with the
    /// library API, returning the functions it registered: (name, description,
    /// flag names, callback). The error is Redis's FUNCTION LOAD error text.
    pub fn load_library(&self, code: &[u8]) -> Result<Vec<super::functions::Registered>, String> {
        let chunk = self
            .lua
            .load(code)
            .set_name("@user_function")
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(|e| format!("Error compiling function: {}", compile_error_text(&e)))?;
        chunk
            .set_environment(self.fenv.clone())
            .map_err(|e| e.to_string())?;
        // A library's code gets LOAD_TIMEOUT to register its functions; after that
        // every check raises again, so a pcall in the code cannot swallow it.
        let start = std::time::Instant::now();
        self.lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_, _| {
                if start.elapsed() > LOAD_TIMEOUT {
                    Err(mlua::Error::runtime("FUNCTION LOAD timeout"))
                } else {
                    Ok(mlua::VmState::Continue)
                }
            },
        );
        let out = self.load_lib.call::<(bool, Value)>(chunk);
        self.lua.remove_hook();
        let (ok, out) = out.map_err(|e| format!("Error registering functions: {}", e))?;
        if !ok {
            let msg = match &out {
                Value::Table(t) => t
                    .raw_get::<mlua::String>("err")
                    .map(|s| String::from_utf8_lossy(&s.as_bytes()).into_owned())
                    .unwrap_or_default(),
                other => format!(
                    "ERR {}",
                    super::redis_lib::lua_tostring(other)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default()
                ),
            };
            return Err(format!("Error registering functions: {}", msg));
        }
        let Value::Table(list) = out else {
            return Ok(Vec::new());
        };
        let mut fns = Vec::new();
        for item in list.sequence_values::<Table>() {
            let item = item.map_err(|e| e.to_string())?;
            let name: String = item.get("name").map_err(|e| e.to_string())?;
            let desc: Option<mlua::String> = item.get("description").ok();
            let flags: Vec<String> = item.get("flags").unwrap_or_default();
            let func: Function = item.get("callback").map_err(|e| e.to_string())?;
            fns.push(super::functions::Registered {
                name,
                description: desc.map(|d| d.as_bytes().to_vec()),
                flags,
                func,
            });
        }
        Ok(fns)
    }

    /// Runs `f` with the keys and arguments (as globals KEYS/ARGV for EVAL, as
    /// arguments for functions), with the busy hook installed when
    /// `busy_threshold_ms` > 0. Returns Ok(value) or Err(error table or message).
    pub fn run(
        &self,
        f: &Function,
        keys: &[Vec<u8>],
        args: &[Vec<u8>],
        is_eval: bool,
        busy_threshold_ms: i64,
    ) -> Result<Value, Value> {
        let lua = &self.lua;
        let to_table = |items: &[Vec<u8>]| -> mlua::Result<Table> {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, a) in items.iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(a)?)?;
            }
            Ok(t)
        };
        let (k, a) = match (to_table(keys), to_table(args)) {
            (Ok(k), Ok(a)) => (k, a),
            _ => return Err(Value::Nil),
        };
        // A debugging session gets the debugger's hook, at every line, instead
        // of the busy-script one (the session's client is the only one served).
        let debugging = super::ldb::active();
        if debugging {
            let helpers = super::ldb::Helpers {
                env: self.env.clone(),
                ldb: self.ldb.clone(),
            };
            lua.set_hook(
                HookTriggers::new()
                    .every_line()
                    .every_nth_instruction(HOOK_EVERY),
                move |lua, debug| super::ldb::hook(lua, &helpers, &debug),
            );
        } else if busy_threshold_ms > 0 {
            lua.set_hook(
                HookTriggers::new().every_nth_instruction(HOOK_EVERY),
                |lua, _| super::busy::hook(lua),
            );
        }
        let out = self
            .runner
            .call::<(bool, Value)>((f.clone(), k, a, is_eval));
        if debugging || busy_threshold_ms > 0 {
            lua.remove_hook();
        }
        match out {
            Ok((true, v)) => Ok(v),
            Ok((false, e)) => Err(e),
            Err(e) => Err(Value::String(
                lua.create_string(e.to_string())
                    .unwrap_or_else(|_| lua.create_string("").expect("empty string")),
            )),
        }
    }

    /// Runs a step of garbage collection (Redis does one every 50 scripts).
    pub fn gc_step(&self) {
        let _ = self.lua.gc_step_kbytes(50);
    }

    /// Memory the interpreter uses, in bytes (INFO used_memory_lua).
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// The message of a compile error as Lua prints it (`user_script:1: ...`).
fn compile_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
