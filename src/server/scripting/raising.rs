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

/// The C closure: upvalue 1 is the native function.
unsafe extern "C-unwind" fn trampoline(l: *mut ffi::lua_State) -> c_int {
    let n = ffi::lua_gettop(l);
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
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
/// result or raises the error.
pub fn wrap(lua: &Lua, native: Function) -> mlua::Result<Function> {
    // SAFETY: the closure only pushes a C closure over the value exec_raw pushed.
    unsafe {
        lua.exec_raw::<Function>(native, |state| {
            ffi::lua_pushcclosure(state, trampoline, 1);
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
