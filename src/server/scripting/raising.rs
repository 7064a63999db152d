//! Library functions that raise errors the way Redis's C functions do.
//!
//! mlua callbacks cannot raise an arbitrary Lua value (Redis raises tables
//! `{err=...}` from `redis.call`), and a Lua wrapper would be tail-called by
//! `return redis.call(...)`, losing the caller's line from error messages. So each
//! native function returning `(result, error)` is wrapped in a small C closure:
//! it calls the native function and, when an error came back, raises it from C:
//! a table as it is, a string with the caller's position in front (luaL_error).

use mlua::ffi;
use mlua::{Function, Lua};
use std::os::raw::c_int;

/// Above this many arguments, a closure that has a packed variant of its native
/// (upvalue 2) hands the arguments to it in one table. mlua needs free Lua stack
/// to read a callback's arguments, and a C function's stack is capped at
/// LUAI_MAXCSTACK (8000) slots, which `redis.call(cmd, key, unpack(t))` with
/// 7999 elements exceeds; Redis reads its arguments in place and accepts it.
/// Reading thousands of string arguments at once would also exhaust mlua's
/// reference stack, so the packed variant converts them one at a time.
const PACK_ABOVE: c_int = 1000;

/// Pushes the native to call below the arguments, and returns how many
/// arguments it takes: all of them, or one table holding them when there are
/// more than `PACK_ABOVE` and the closure has a packed variant.
unsafe fn push_native(l: *mut ffi::lua_State) -> c_int {
    let n = ffi::lua_gettop(l);
    // A C function always has LUA_MINSTACK free slots, so these few pushes fit
    // even when the arguments fill the LUAI_MAXCSTACK budget.
    if n > PACK_ABOVE && ffi::lua_isnil(l, ffi::lua_upvalueindex(2)) == 0 {
        ffi::lua_createtable(l, n, 0);
        ffi::lua_insert(l, 1);
        for i in (1..=n).rev() {
            ffi::lua_rawseti(l, 1, i as ffi::lua_Integer);
        }
        // The count, since a nil argument leaves a hole in the sequence.
        ffi::lua_pushinteger(l, n as ffi::lua_Integer);
        ffi::lua_setfield(l, 1, c"n".as_ptr());
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(2));
        ffi::lua_insert(l, 1);
        return 1;
    }
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    n
}

/// The C closure: upvalue 1 is the native function, upvalue 2 (optional) its
/// variant taking the arguments packed in a table.
unsafe extern "C-unwind" fn trampoline(l: *mut ffi::lua_State) -> c_int {
    let n = push_native(l);
    ffi::lua_call(l, n, 2);
    if ffi::lua_isnil(l, -1) == 0 {
        if ffi::lua_type(l, -1) == ffi::LUA_TSTRING {
            ffi::luaL_where(l, 1);
            ffi::lua_insert(l, -2);
            ffi::lua_concat(l, 2);
        }
        ffi::lua_error(l);
    }
    ffi::lua_pop(l, 1);
    1
}

/// Wraps `native` (returning `(result, error)`) into a function that returns the
/// result or raises the error. `packed`, when given, is called instead with one
/// table of the arguments when there are very many (see `PACK_ABOVE`).
pub fn wrap(lua: &Lua, native: Function, packed: Option<Function>) -> mlua::Result<Function> {
    // SAFETY: the closure only pushes a C closure over the values exec_raw pushed.
    unsafe {
        lua.exec_raw::<Function>((native, packed), |state| {
            ffi::lua_pushcclosure(state, trampoline, 2);
        })
    }
}

/// The C closure of `packing`: calls the native with the arguments as they are
/// or packed (as `trampoline`), and returns what it returned.
unsafe extern "C-unwind" fn pass_through(l: *mut ffi::lua_State) -> c_int {
    let n = push_native(l);
    ffi::lua_call(l, n, ffi::LUA_MULTRET);
    ffi::lua_gettop(l)
}

/// Wraps `native` so that very many arguments reach `packed` in one table
/// (for natives that raise nothing, as redis.pcall).
pub fn packing(lua: &Lua, native: Function, packed: Function) -> mlua::Result<Function> {
    // SAFETY: as in `wrap`.
    unsafe {
        lua.exec_raw::<Function>((native, packed), |state| {
            ffi::lua_pushcclosure(state, pass_through, 2);
        })
    }
}

/// Like `trampoline` for natives returning `(error, results...)`: any number of results.
unsafe extern "C-unwind" fn trampoline_multi(l: *mut ffi::lua_State) -> c_int {
    let n = ffi::lua_gettop(l);
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    ffi::lua_call(l, n, ffi::LUA_MULTRET);
    if ffi::lua_isnil(l, 1) == 0 {
        ffi::lua_settop(l, 1);
        if ffi::lua_type(l, 1) == ffi::LUA_TSTRING {
            ffi::luaL_where(l, 1);
            ffi::lua_insert(l, -2);
            ffi::lua_concat(l, 2);
        }
        ffi::lua_error(l);
    }
    ffi::lua_remove(l, 1);
    ffi::lua_gettop(l)
}

/// Wraps `native` (returning `(error, results...)`) into a function that returns the
/// results or raises the error.
pub fn wrap_multi(lua: &Lua, native: Function) -> mlua::Result<Function> {
    // SAFETY: as in `wrap`.
    unsafe {
        lua.exec_raw::<Function>(native, |state| {
            ffi::lua_pushcclosure(state, trampoline_multi, 1);
        })
    }
}
