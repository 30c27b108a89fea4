//! Lua scripting as Redis 7.0 has it: one Lua 5.1 state for the server, scripts cached by the
//! SHA1 of their body, Redis's sandbox ([`sandbox`]), its type conversions ([`convert`]), the
//! `cjson` and `bit` libraries, and the gate that makes a script atomic ([`gate`]).
//!
//! This module knows nothing of the command table: a script's `redis.call` reaches the caller's
//! [`Host`], which runs the command through the same checks and handlers as a client's.
//!
//! # Concurrency
//! One script runs at a time: the caller holds the gate's exclusive pass for the length of
//! [`Scripts::run`], and the Lua state sits behind a mutex (SCRIPT LOAD takes it too).

pub mod bit;
pub mod cjson;
pub mod convert;
pub mod gate;
pub mod sandbox;

use crate::protocol::Reply;
use bytes::Bytes;
use gate::Gate;
use mlua::{Function, MultiValue, Value};
use parking_lot::Mutex;
use std::collections::HashMap;

/// The SHA1 of `body`, lower-case hex: a script's name in the cache.
pub fn sha1hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// Who runs the commands a script calls.
pub trait Host {
    /// Runs `args` for the script; `resp3` after `redis.setresp(3)`. An error reply is raised by
    /// `redis.call` and returned by `redis.pcall`.
    fn call(&mut self, args: Vec<Bytes>, resp3: bool) -> Reply;
}

/// What to run: a body (EVAL) or the SHA1 of a cached one (EVALSHA).
pub enum Source<'a> {
    Body(&'a [u8]),
    Sha(&'a [u8]),
}

/// What running a script gave.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Reply(Reply),
    /// EVALSHA of a script that is not cached.
    NoScript,
}

/// The script cache, the Lua state and the gate.
pub struct Scripts {
    pub gate: Gate,
    engine: Mutex<Engine>,
}

#[derive(Default)]
struct Engine {
    /// Built on first use, dropped by SCRIPT FLUSH.
    state: Option<sandbox::State>,
    cache: HashMap<String, Function>,
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts {
            gate: Gate::default(),
            engine: Mutex::new(Engine::default()),
        }
    }
}

impl Engine {
    fn state(&mut self, gate: &Gate) -> Result<&sandbox::State, Reply> {
        if self.state.is_none() {
            let state = sandbox::build(gate.run_state())
                .map_err(|e| Reply::err(format!("cannot start Lua: {e}")))?;
            self.state = Some(state);
        }
        self.state
            .as_ref()
            .ok_or_else(|| Reply::err("cannot start Lua"))
    }

    /// Compiles and caches `body` (if not cached): its SHA1 and function.
    fn load(&mut self, gate: &Gate, body: &[u8]) -> Result<(String, Function), Reply> {
        let sha = sha1hex(body);
        if let Some(f) = self.cache.get(&sha) {
            return Ok((sha, f.clone()));
        }
        let state = self.state(gate)?;
        let f = state
            .lua
            .load(body)
            .set_name("@user_script")
            .set_environment(state.env.clone())
            .into_function()
            .map_err(|e| {
                let msg = match e {
                    mlua::Error::SyntaxError { message, .. } => message,
                    other => other.to_string(),
                };
                Reply::err(format!("Error compiling script (new function): {msg}"))
            })?;
        self.cache.insert(sha.clone(), f.clone());
        Ok((sha, f))
    }
}

impl Scripts {
    /// SCRIPT LOAD: compiles and caches `body`; its SHA1, or the compile error.
    pub fn load(&self, body: &[u8]) -> Result<String, Reply> {
        self.engine
            .lock()
            .load(&self.gate, body)
            .map(|(sha, _)| sha)
    }

    /// SCRIPT EXISTS for one SHA1 (any case).
    pub fn exists(&self, sha: &[u8]) -> bool {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        self.engine.lock().cache.contains_key(&sha)
    }

    /// SCRIPT FLUSH: forgets every script, and starts over with a new Lua state.
    pub fn flush(&self) {
        *self.engine.lock() = Engine::default();
    }

    /// Number of cached scripts (INFO memory's `number_of_cached_scripts`).
    pub fn len(&self) -> usize {
        self.engine.lock().cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs a script with `keys` and `argv`. The caller holds the gate's exclusive pass.
    pub fn run(
        &self,
        source: Source<'_>,
        keys: &[Bytes],
        argv: &[Bytes],
        host: &mut dyn Host,
    ) -> Outcome {
        let mut engine = self.engine.lock();
        let (sha, f) = match source {
            Source::Body(body) => match engine.load(&self.gate, body) {
                Ok(found) => found,
                Err(e) => return Outcome::Reply(e),
            },
            Source::Sha(sha) => {
                let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
                match engine.cache.get(&sha) {
                    Some(f) => (sha, f.clone()),
                    None => return Outcome::NoScript,
                }
            }
        };
        let state = match engine.state(&self.gate) {
            Ok(s) => s,
            Err(e) => return Outcome::Reply(e),
        };
        let run = self.gate.run_state();
        run.begin();
        let reply = run_function(state, &sha, &f, keys, argv, host)
            .unwrap_or_else(|e| Reply::err(format!("Error running script: {e}")));
        run.end();
        // A step of incremental collection per run, as Redis does (not a full collection).
        let _ = state.lua.gc_step();
        Outcome::Reply(reply)
    }
}

fn strings(lua: &mlua::Lua, items: &[Bytes]) -> mlua::Result<mlua::Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(item)?)?;
    }
    Ok(t)
}

fn run_function(
    state: &sandbox::State,
    sha: &str,
    f: &Function,
    keys: &[Bytes],
    argv: &[Bytes],
    host: &mut dyn Host,
) -> mlua::Result<Reply> {
    let lua = &state.lua;
    lua.set_app_data(sandbox::Resp3(false));
    state.globals.raw_set("KEYS", strings(lua, keys)?)?;
    state.globals.raw_set("ARGV", strings(lua, argv)?)?;
    lua.scope(|scope| {
        let call = scope.create_function_mut(|lua, args: MultiValue| {
            let resp3 = lua.app_data_ref::<sandbox::Resp3>().is_some_and(|r| r.0);
            let reply = match arguments(args) {
                Ok(argv) => host.call(argv, resp3),
                Err(e) => e,
            };
            let failed = reply.is_error();
            Ok((convert::to_lua(lua, &reply, resp3)?, failed))
        })?;
        lua.set_named_registry_value(sandbox::HOST, call)?;
        let (ok, value): (bool, Value) = state.driver.call(f.clone())?;
        lua.set_named_registry_value(sandbox::HOST, Value::Nil)?;
        let resp3 = lua.app_data_ref::<sandbox::Resp3>().is_some_and(|r| r.0);
        if ok {
            return Ok(convert::from_lua(&value, resp3));
        }
        Ok(script_error(&value, sha))
    })
}

/// The reply to a script that raised an error: its text, and where it was raised, in Redis's
/// words (`ERR user_script:1: boom script: <sha>, on @user_script:1.`).
fn script_error(err: &Value, sha: &str) -> Reply {
    let Value::Table(t) = err else {
        return Reply::err("Error running script");
    };
    let text = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        _ => "ERR unknown error".to_string(),
    };
    let text = text.replace(['\r', '\n'], " ");
    let text = text.strip_prefix('-').unwrap_or(&text).to_string();
    match (t.raw_get::<Value>("source"), t.raw_get::<Value>("line")) {
        (Ok(Value::String(src)), Ok(line)) => {
            let line = match line {
                Value::Integer(n) => n,
                Value::Number(n) => n as i64,
                _ => 0,
            };
            let src = String::from_utf8_lossy(&src.as_bytes()).into_owned();
            Reply::Error(format!("{text} script: {sha}, on {src}:{line}."))
        }
        _ => Reply::Error(text),
    }
}

/// A `redis.call`'s arguments as a command: strings, and numbers as Redis prints them (`%.17g`).
fn arguments(args: MultiValue) -> Result<Vec<Bytes>, Reply> {
    if args.is_empty() {
        return Err(Reply::err(
            "Please specify at least one argument for this redis lib call",
        ));
    }
    args.iter()
        .map(|v| match v {
            Value::String(s) => Ok(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(n) => Ok(Bytes::from(n.to_string())),
            Value::Number(n) => Ok(Bytes::from(g17(*n))),
            _ => Err(Reply::err(
                "Lua redis lib command arguments must be strings or integers",
            )),
        })
        .collect()
}

/// C's `%.17g`.
pub fn g17(n: f64) -> String {
    crate::protocol::printf::g(n, 17)
}

#[cfg(test)]
mod tests;
