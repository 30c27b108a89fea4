//! The Lua state scripts run in, with Redis 7.0's sandbox: the base, table, string and math
//! libraries, `cjson` and `bit`, the `redis` table; no `os`, `io`, `package`/`require`,
//! `loadfile`, `dofile`, `print` or `debug`. Globals are read-only: reading one that does not
//! exist and assigning any fail with Redis's words, and the libraries cannot be changed.
//!
//! Scripts are compiled as chunk `@user_script`, so errors name `user_script:<line>`, and run
//! under an error handler that records where an error was raised, for Redis's
//! `... script: <sha>, on @user_script:<line>.` suffix.

use super::gate::RunState;
use super::{bit, cjson};
use mlua::{
    Function, HookTriggers, Lua, LuaOptions, Result as LuaResult, StdLib, Table, Value, Variadic,
    VmState,
};
use std::sync::Arc;

/// Frames the error handler looks through for the script's own.
const MAX_FRAMES: usize = 200;

/// Instructions between two checks of the kill flag (Redis's hook runs as often).
const HOOK_EVERY: u32 = 100_000;

/// The per-run protocol of `redis.call` replies (`redis.setresp`).
pub(super) struct Resp3(pub bool);

/// A Lua state ready to compile and run scripts.
pub(super) struct State {
    pub lua: Lua,
    /// The read-only view of the globals scripts run in.
    pub env: Table,
    /// The real globals, where KEYS and ARGV are set.
    pub globals: Table,
    /// `driver(f)` runs `f` under the error handler: `true, result` or `false, {err=...}`.
    pub driver: Function,
}

/// Where `redis.call` finds the run's host function (a registry value, set for one run).
pub(super) const HOST: &str = "llmcached.script.host";

/// The error `redis.call` raises for an error reply: the reply's text, as it is.
#[derive(Debug)]
pub struct CallError(pub String);

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CallError {}

const PRELUDE: &str = r#"
local real, where, killed, errtext = ...
local function readonly() error("Attempt to modify a readonly table", 2) end
local raw_set, protected = rawset, {}
local function protect(t)
  local p = setmetatable({}, {__index = t, __newindex = readonly, __metatable = false})
  protected[p] = true
  return p
end
for _, name in ipairs({"redis", "cjson", "bit", "string", "math", "table"}) do
  real[name] = protect(real[name])
end
local env = setmetatable({}, {
  __index = function(_, k)
    local v = rawget(real, k)
    if v == nil then
      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end
    return v
  end,
  __newindex = readonly,
  __metatable = false,
})
protected[env] = true
real._G = env
real.rawset = function(t, k, v)
  if protected[t] then readonly() end
  return raw_set(t, k, v)
end
real.getfenv = function() return env end
local function handler(err)
  if killed() then
    err = {err = "ERR Script killed by user with SCRIPT KILL..."}
  elseif type(err) ~= "table" then
    local text, reply = errtext(err)
    if reply then err = {err = text} else err = {err = "ERR " .. text} end
  end
  local line = where()
  if line then
    rawset(err, "source", "@user_script")
    rawset(err, "line", line)
  end
  return err
end
local function driver(f) return xpcall(f, handler) end
return env, driver
"#;

pub(super) fn build(run: Arc<RunState>) -> LuaResult<State> {
    let libs = StdLib::TABLE | StdLib::STRING | StdLib::MATH;
    let lua = Lua::new_with(libs, LuaOptions::default())?;
    lua.set_app_data(Resp3(false));
    let globals = lua.globals();
    // The line of the innermost frame of the script, for the error handler.
    let getinfo = lua.create_function(|lua, ()| {
        for level in 1..MAX_FRAMES {
            let found = lua.inspect_stack(level, |d| {
                let script = d.source().source.as_deref() == Some("@user_script");
                script.then(|| d.current_line())
            });
            match found {
                None => return Ok(None),
                Some(Some(line)) => return Ok(line),
                Some(None) => {}
            }
        }
        Ok(None)
    })?;
    for name in [
        "loadfile", "dofile", "print", "setfenv", "module", "require",
    ] {
        globals.raw_set(name, Value::Nil)?;
    }
    globals.set("redis", redis_table(&lua)?)?;
    globals.set("cjson", cjson::library(&lua)?)?;
    globals.set("bit", bit::library(&lua)?)?;
    let flag = run.clone();
    let killed = lua.create_function(move |_, ()| Ok(flag.is_killed()))?;
    let errtext = lua.create_function(|_, v: Value| Ok(error_text(&v)))?;
    let call = lua.create_function(|lua, args: mlua::MultiValue| {
        let host: Function = lua.named_registry_value(HOST)?;
        let (v, failed): (Value, bool) = host.call(args)?;
        if failed {
            let text = match &v {
                Value::Table(t) => t.raw_get::<mlua::LuaString>("err")?.to_string_lossy(),
                _ => String::new(),
            };
            return Err(mlua::Error::external(CallError(text)));
        }
        Ok(v)
    })?;
    let pcall = lua.create_function(|lua, args: mlua::MultiValue| {
        let host: Function = lua.named_registry_value(HOST)?;
        let (v, _): (Value, bool) = host.call(args)?;
        Ok(v)
    })?;
    let redis: Table = globals.get("redis")?;
    redis.set("call", call)?;
    redis.set("pcall", pcall)?;
    let prelude = lua.load(PRELUDE).set_name("=prelude").into_function()?;
    let (env, driver): (Table, Function) =
        prelude.call((globals.clone(), getinfo, killed, errtext))?;
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(HOOK_EVERY),
        move |_, _| {
            if run.is_killed() {
                Err(mlua::Error::runtime(
                    "Script killed by user with SCRIPT KILL...",
                ))
            } else {
                Ok(VmState::Continue)
            }
        },
    )?;
    Ok(State {
        lua,
        env,
        globals,
        driver,
    })
}

/// The words of an error raised by Lua or by a library function written in Rust (its root
/// cause, without mlua's `runtime error:` prefix and traceback).
/// The second value is true for an error reply `redis.call` raised (its text is kept as it is).
fn error_text(v: &Value) -> (String, bool) {
    let mut e = match v {
        Value::Error(e) => &**e,
        Value::String(s) => return (String::from_utf8_lossy(&s.as_bytes()).into_owned(), false),
        other => return (other.to_string().unwrap_or_default(), false),
    };
    if let Some(CallError(text)) = e.downcast_ref::<CallError>() {
        return (text.clone(), true);
    }
    while let mlua::Error::CallbackError { cause, .. } = e {
        e = cause;
    }
    match e {
        mlua::Error::RuntimeError(msg) => (msg.clone(), false),
        other => (other.to_string(), false),
    }
}

/// Lua's log levels and Redis's, in the order of `redis.LOG_*`.
const LOG_LEVELS: [&str; 4] = ["LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING"];

/// `redis` without `call` and `pcall` (the prelude adds them).
fn redis_table(lua: &Lua) -> LuaResult<Table> {
    let r = lua.create_table()?;
    for (i, name) in LOG_LEVELS.iter().enumerate() {
        r.set(*name, i)?;
    }
    for (name, v) in [
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
    ] {
        r.set(name, v)?;
    }
    r.set("REDIS_VERSION", "7.0.15")?;
    r.set("REDIS_VERSION_NUM", 0x07000f)?;
    r.set(
        "sha1hex",
        lua.create_function(|_, s: mlua::LuaString| Ok(super::sha1hex(&s.as_bytes())))?,
    )?;
    r.set(
        "error_reply",
        lua.create_function(|lua, s: mlua::LuaString| {
            let t = lua.create_table()?;
            let b = s.as_bytes();
            let text = b.strip_prefix(b"-").unwrap_or(&b);
            t.set("err", lua.create_string(text)?)?;
            Ok(t)
        })?,
    )?;
    r.set(
        "status_reply",
        lua.create_function(|lua, s: mlua::LuaString| {
            let t = lua.create_table()?;
            t.set("ok", s)?;
            Ok(t)
        })?,
    )?;
    r.set(
        "setresp",
        lua.create_function(|lua, v: i64| {
            if v != 2 && v != 3 {
                return Err(mlua::Error::runtime("RESP version must be 2 or 3."));
            }
            lua.set_app_data(Resp3(v == 3));
            Ok(())
        })?,
    )?;
    r.set(
        "log",
        lua.create_function(|_, args: Variadic<Value>| {
            let level = match args.first() {
                Some(Value::Integer(l)) if (0..4).contains(l) => *l,
                Some(Value::Number(l)) if (0.0..4.0).contains(l) => *l as i64,
                _ => return Err(mlua::Error::runtime("Invalid debug level.")),
            };
            let words: Vec<String> = args
                .iter()
                .skip(1)
                .map(|v| match v {
                    Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                    other => other.to_string().unwrap_or_default(),
                })
                .collect();
            let msg = words.join(" ");
            match level {
                3 => tracing::warn!(target: "script", "{msg}"),
                2 => tracing::info!(target: "script", "{msg}"),
                _ => tracing::debug!(target: "script", "{msg}"),
            }
            Ok(())
        })?,
    )?;
    r.set(
        "set_repl",
        lua.create_function(|_, _: Variadic<Value>| Ok(()))?,
    )?;
    r.set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
    r.set("breakpoint", lua.create_function(|_, ()| Ok(false))?)?;
    r.set(
        "debug",
        lua.create_function(|_, _: Variadic<Value>| Ok(()))?,
    )?;
    Ok(r)
}
