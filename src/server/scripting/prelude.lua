-- The Lua side of tripod's scripting sandbox (Redis 7.0's scripting environment).
-- Run once per interpreter with the native functions as its argument; returns the
-- runner that executes a compiled script and the environment scripts see.
--
-- Redis patches Lua with read-only tables; stock Lua 5.1 has none, so here the
-- globals and every library table scripts can reach are empty proxies whose
-- metatable reads through to the real table and refuses writes. setmetatable and
-- rawset refuse proxies too, so the same scripts get the same errors.
local native = ...
local dbg = debug
local real_G = _G
local rawset_, rawget_, setmetatable_, getmetatable_, type_, error_, tostring_ =
  rawset, rawget, setmetatable, getmetatable, type, error, tostring
local select_, unpack_, xpcall_, pcall_ = select, unpack, xpcall, pcall

local readonly = setmetatable_({}, { __mode = 'k' })

local function ro_error()
  error_('Attempt to modify a readonly table', 2)
end

-- `strict`: reading a field the table lacks raises, as Redis's tables with its error
-- metatable (the library API FUNCTION LOAD sees) do.
local function protect(real, strict)
  local proxy = {}
  local mt_proxy = {}
  local index = real
  if strict then
    index = function(_, k)
      local v = real[k]
      if v == nil then
        error_("Script attempted to access nonexistent global variable '" .. tostring_(k) .. "'", 2)
      end
      return v
    end
  end
  setmetatable_(mt_proxy, { __index = { __index = index }, __newindex = ro_error, __metatable = false })
  readonly[mt_proxy] = true
  setmetatable_(proxy, { __index = index, __newindex = ro_error, __metatable = mt_proxy })
  readonly[proxy] = true
  readonly[real] = true
  return proxy
end

-- What Redis 7.0 leaves out of the base library.
for _, name in ipairs({ 'dofile', 'loadfile', 'print', 'module', 'require', 'package', 'os', 'io', 'newproxy' }) do
  real_G[name] = nil
end

-- redis.pcall errors are tables; pcall hands back their message, as Redis's pcall.
local function pack(...)
  return { n = select_('#', ...), ... }
end
real_G.pcall = function(f, ...)
  local r = pack(pcall_(f, ...))
  if not r[1] and type_(r[2]) == 'table' and type_(rawget_(r[2], 'err')) == 'string' then
    return false, r[2].err
  end
  return unpack_(r, 1, r.n)
end

real_G.setmetatable = function(t, mt)
  if readonly[t] then error_('Attempt to modify a readonly table', 0) end
  return setmetatable_(t, mt)
end
real_G.rawset = function(t, k, v)
  if readonly[t] then error_('Attempt to modify a readonly table', 0) end
  return rawset_(t, k, v)
end
-- Binary chunks are refused, as Redis's patched loadstring does.
local loadstring_ = loadstring
real_G.loadstring = function(s, name)
  if type_(s) == 'string' and s:byte(1) == 27 then
    return nil, 'attempt to load a binary chunk'
  end
  return loadstring_(s, name)
end
real_G.load = nil

local redis = {}
local raising = native.raising
redis.call = raising(native.call, native.call_packed)
redis.pcall = native.packing(native.pcall, native.pcall_packed)
local checked = raising
redis.sha1hex = checked(native.sha1hex)
redis.log = checked(native.log)
redis.setresp = checked(native.setresp)
redis.set_repl = checked(native.set_repl)
redis.acl_check_cmd = checked(native.acl_check_cmd)
-- (ldb_error shows the error in a debugging session, as Redis's luaPushError.)
local ldb_error = native.ldb_error
redis.error_reply = function(...)
  if select_('#', ...) ~= 1 or type_((...)) ~= 'string' then
    ldb_error('wrong number or type of arguments')
    return { err = 'ERR wrong number or type of arguments' }
  end
  local e = ...
  if e:sub(1, 1) == '-' then ldb_error(e) else ldb_error('-' .. e) end
  if e:sub(1, 1) == '-' then e = e:sub(2) end
  local code, msg = e:match('^(%S*) (.*)$')
  if not code then code, msg = 'ERR', e end
  msg = msg:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
  return { err = code .. ' ' .. msg }
end
redis.status_reply = function(...)
  if select_('#', ...) ~= 1 or type_((...)) ~= 'string' then
    ldb_error('wrong number or type of arguments')
    return { err = 'ERR wrong number or type of arguments' }
  end
  return { ok = (...) }
end
redis.breakpoint = native.breakpoint
redis.debug = native.debug
redis.replicate_commands = function() return true end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION = native.version
redis.REDIS_VERSION_NUM = native.version_num
real_G.redis = redis

-- math.random with Redis's own generator (rand48), the same sequence everywhere.
local lrand48, srand48 = native.lrand48, native.srand48
local floor = math.floor
local function checkint(v, n, fname)
  local x = tonumber(v)
  if x == nil then
    error_("bad argument #" .. n .. " to '" .. fname .. "' (number expected, got " ..
      (v == nil and 'no value' or type_(v)) .. ")", 3)
  end
  if x < 0 then return -floor(-x) end
  return floor(x)
end
math.random = function(...)
  local n = select_('#', ...)
  local r = (lrand48() % 2147483647) / 2147483647
  if n == 0 then return r end
  if n == 1 then
    local u = checkint((...), 1, 'random')
    if u < 1 then error_("bad argument #1 to 'random' (interval is empty)", 2) end
    return floor(r * u) + 1
  end
  if n == 2 then
    local l, u = checkint((...), 1, 'random'), checkint(select_(2, ...), 2, 'random')
    if l > u then error_("bad argument #2 to 'random' (interval is empty)", 2) end
    return floor(r * (u - l + 1)) + l
  end
  error_('wrong number of arguments', 2)
end
math.randomseed = function(s)
  srand48(checkint(s, 1, 'randomseed'))
end

-- Native library functions return (result, error): raise the error from C as
-- lua-cjson and LuaBitOp do.
local cjson = {}
for k, v in pairs(native.cjson) do cjson[k] = v end
cjson.encode = raising(native.cjson.encode)
cjson.decode = raising(native.cjson.decode)
real_G.cjson = cjson
local bit = {}
for k, v in pairs(native.bit) do bit[k] = raising(v) end
local raising_multi = native.raising_multi
local cmsgpack = {}
for k, v in pairs(native.cmsgpack) do cmsgpack[k] = raising_multi(v) end
real_G.cmsgpack = cmsgpack
local struct = {}
for k, v in pairs(native.struct) do struct[k] = raising_multi(v) end
real_G.struct = struct
local errmsg = native.errmsg
native = nil
real_G.bit = bit
real_G.debug = nil

-- The error handler of every script run: errors become {err=..., source=..., line=...}
-- with the position in the user's code (frames of C functions and of this file
-- are skipped).
local function err_handler(err)
  if type_(err) == 'userdata' then err = errmsg(err) end
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.source == '@__redis__') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type_(err) ~= 'table' then
    err = { err = 'ERR ' .. tostring_(err) }
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

-- FUNCTION LOAD: while a library's code runs, `redis` is the library API
-- (register_function, log, versions) and nothing else is visible; registrations
-- are collected in `loading`.
local lower = string.lower
local loading = nil
local load_api = {
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
  log = redis.log,
}
local function reg_err(msg) error_({ err = 'ERR ' .. msg }, 0) end
local flag_names = { ['no-writes'] = true, ['allow-oom'] = true, ['allow-stale'] = true,
  ['no-cluster'] = true, ['allow-cross-slot-keys'] = true }
local function is_str(v) return type_(v) == 'string' or type_(v) == 'number' end
load_api.register_function = function(...)
  if not loading then reg_err('redis.register_function can only be called on FUNCTION LOAD command') end
  local n = select_('#', ...)
  if n < 1 or n > 2 then reg_err('wrong number of arguments to redis.register_function') end
  local name, cb, desc, flags = nil, nil, nil, {}
  if n == 1 then
    local t = ...
    if type_(t) ~= 'table' then
      reg_err('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
    end
    for k, v in pairs(t) do
      if not is_str(k) then reg_err('named argument key given to redis.register_function is not a string') end
      local key = lower(tostring_(k))
      if key == 'function_name' then
        if not is_str(v) then reg_err('function_name argument given to redis.register_function must be a string') end
        name = tostring_(v)
      elseif key == 'description' then
        if not is_str(v) then reg_err('description argument given to redis.register_function must be a string') end
        desc = tostring_(v)
      elseif key == 'callback' then
        if type_(v) ~= 'function' then reg_err('callback argument given to redis.register_function must be a function') end
        cb = v
      elseif key == 'flags' then
        if type_(v) ~= 'table' then reg_err('flags argument to redis.register_function must be a table representing function flags') end
        local i = 1
        while true do
          local f = v[i]
          if f == nil then break end
          if not is_str(f) or not flag_names[lower(tostring_(f))] then reg_err('unknown flag given') end
          flags[#flags + 1] = lower(tostring_(f))
          i = i + 1
        end
      else
        reg_err('unknown argument given to redis.register_function')
      end
    end
    if not name then reg_err('redis.register_function must get a function name argument') end
    if not cb then reg_err('redis.register_function must get a callback argument') end
  else
    local a, b = ...
    if not is_str(a) then reg_err('first argument to redis.register_function must be a string') end
    if type_(b) ~= 'function' then reg_err('second argument to redis.register_function must be a function') end
    name, cb = tostring_(a), b
  end
  if not name:match('^[%w_]+$') then
    reg_err('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long')
  end
  if loading.seen[name] then reg_err('Function already exists in the library') end
  loading.seen[name] = true
  loading.list[#loading.list + 1] = { name = name, callback = cb, description = desc, flags = flags }
end

-- Library tables become read-only proxies.
for _, name in ipairs({ 'string', 'math', 'table', 'redis', 'cjson', 'bit', 'cmsgpack', 'struct', 'coroutine' }) do
  if real_G[name] then real_G[name] = protect(real_G[name]) end
end

-- The environment of scripts: reads through to the globals, raising on unknown
-- names; writes refused.
local env = {}
local env_mt = {
  __index = function(_, k)
    local v = rawget_(real_G, k)
    if v == nil then
      error_("Script attempted to access nonexistent global variable '" .. tostring_(k) .. "'", 2)
    end
    return v
  end,
  __newindex = ro_error,
}
env_mt.__metatable = protect(env_mt)
setmetatable_(env, env_mt)
readonly[env] = true
real_G._G = env

-- The environment of function libraries: the library API while loading, the
-- script environment afterwards.
local load_G = { redis = protect(load_api, true) }
local fenv = {}
local fenv_mt = {
  __index = function(_, k)
    local v
    if loading then v = rawget_(load_G, k) else v = rawget_(real_G, k) end
    if v == nil then
      error_("Script attempted to access nonexistent global variable '" .. tostring_(k) .. "'", 2)
    end
    return v
  end,
  __newindex = ro_error,
}
fenv_mt.__metatable = protect(fenv_mt)
setmetatable_(fenv, fenv_mt)
readonly[fenv] = true

-- Runs a library's compiled code: returns true and the registered functions, or
-- false and the error.
local function load_lib(chunk)
  loading = { seen = {}, list = {} }
  local ok, err = pcall_(chunk)
  local list = loading.list
  loading = nil
  if not ok then
    -- errors raised from Rust (the load timeout) arrive as userdata
    if type_(err) == 'userdata' then err = errmsg(err) end
    return false, err
  end
  return true, list
end

-- Runs a compiled script: EVAL scripts see KEYS and ARGV as globals, functions
-- get them as arguments. Returns ok, result-or-error-table.
local function run(f, keys, args, is_eval)
  if is_eval then
    rawset_(real_G, 'KEYS', keys)
    rawset_(real_G, 'ARGV', args)
    return xpcall_(f, err_handler)
  end
  return xpcall_(function() return f(keys, args) end, err_handler)
end

-- The Lua debugger's view of a stopped script (ldb.rs), called from its line
-- hook: level 2 here is the function the script stopped in.
local ldb = {}
-- pcall, handing back the raw error value.
ldb.pcall = function(f, ...) return pcall_(f, ...) end
-- The locals of the stopped function but its temporaries: their names, their
-- values and how many there are.
ldb.locals = function()
  local names, values, n, i = {}, {}, 0, 1
  while true do
    local name, v = dbg.getlocal(2, i)
    if name == nil then break end
    if not name:find('(*temporary)', 1, true) then
      n = n + 1
      names[n], values[n] = name, v
    end
    i = i + 1
  end
  return names, values, n
end
-- The innermost local called `name`, from the stopped function out to the
-- script's entry (the frames of this file do not count): found, value.
ldb.find = function(name)
  local level = 2
  while true do
    local info = dbg.getinfo(level, 'Sf')
    if info == nil or info.func == run then return false end
    if info.source ~= '@__redis__' then
      local i = 1
      while true do
        local n, v = dbg.getlocal(level, i)
        if n == nil then break end
        if n == name then return true, v end
        i = i + 1
      end
    end
    level = level + 1
  end
end

return run, env, fenv, load_lib, ldb
