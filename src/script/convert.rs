//! Redis's conversions between replies and Lua values, both ways, as Redis 7.0 makes them.
//!
//! # A reply as a script sees it (`redis.call`)
//! | reply | RESP2 (default) | after `redis.setresp(3)` |
//! | --- | --- | --- |
//! | integer | number | number |
//! | bulk string | string | string |
//! | null | `false` | `nil` |
//! | array | table (a null element is `false`) | table |
//! | status | `{ok=text}` | `{ok=text}` |
//! | error | `{err=text}` | `{err=text}` |
//! | map | flat table of keys and values | `{map={k=v, ...}}` |
//! | set | table | `{set={member=true, ...}}` |
//! | double | string | `{double=number}` |
//! | boolean | 1 or 0 | `true` / `false` |
//! | verbatim string | string | `{verbatim_string={format='txt', string=text}}` |
//!
//! # A script's value as the client gets it
//! A string is a bulk string, a number an integer (truncated toward zero), `true` the integer 1
//! and `false` null (under `setresp(3)`: a boolean), `nil` null. A table with a string `err` is
//! an error, with a string `ok` a status, with a number `double` a double, with a table `map` or
//! `set` a map or a set; any other table is an array of its elements 1, 2, ... up to the first
//! `nil`.

use crate::protocol::reply::format_double;
use crate::protocol::Reply;
use bytes::Bytes;
use mlua::{Lua, Result as LuaResult, Table, Value};

/// Deepest nesting of tables a script's reply may have.
const MAX_DEPTH: usize = 512;

/// `reply` as the Lua value `redis.call` returns; `resp3` after `redis.setresp(3)`.
pub fn to_lua(lua: &Lua, reply: &Reply, resp3: bool) -> LuaResult<Value> {
    Ok(match reply {
        Reply::Ok => status(lua, "OK")?,
        Reply::Simple(s) => status(lua, s)?,
        Reply::Status(s) => status(lua, s)?,
        Reply::Error(e) => tagged(lua, "err", Value::String(lua.create_string(e)?))?,
        Reply::Int(n) => Value::Integer(*n),
        Reply::Bulk(b) => Value::String(lua.create_string(b)?),
        Reply::Nil | Reply::NilArray if resp3 => Value::Nil,
        Reply::Nil | Reply::NilArray => Value::Boolean(false),
        Reply::Array(items) => array(lua, items, resp3)?,
        Reply::Set(items) if resp3 => {
            let set = lua.create_table()?;
            for item in items {
                set.raw_set(to_lua(lua, item, resp3)?, true)?;
            }
            tagged(lua, "set", Value::Table(set))?
        }
        Reply::Set(items) => array(lua, items, resp3)?,
        Reply::Map(pairs) if resp3 => {
            let map = lua.create_table()?;
            for (k, v) in pairs {
                map.raw_set(to_lua(lua, k, resp3)?, to_lua(lua, v, resp3)?)?;
            }
            tagged(lua, "map", Value::Table(map))?
        }
        Reply::Map(pairs) => {
            let t = lua.create_table_with_capacity(pairs.len() * 2, 0)?;
            for (i, (k, v)) in pairs.iter().enumerate() {
                t.raw_set(2 * i + 1, to_lua(lua, k, resp3)?)?;
                t.raw_set(2 * i + 2, to_lua(lua, v, resp3)?)?;
            }
            Value::Table(t)
        }
        Reply::Double(d) if resp3 => tagged(lua, "double", Value::Number(*d))?,
        Reply::Double(d) => Value::String(lua.create_string(format_double(*d))?),
        Reply::Bool(b) if resp3 => Value::Boolean(*b),
        Reply::Bool(b) => Value::Integer(i64::from(*b)),
        Reply::Verbatim(s) if resp3 => {
            let v = lua.create_table()?;
            v.raw_set("format", "txt")?;
            v.raw_set("string", lua.create_string(s)?)?;
            tagged(lua, "verbatim_string", Value::Table(v))?
        }
        Reply::Verbatim(s) => Value::String(lua.create_string(s)?),
    })
}

fn status(lua: &Lua, s: &str) -> LuaResult<Value> {
    tagged(lua, "ok", Value::String(lua.create_string(s)?))
}

/// `{name=value}`
fn tagged(lua: &Lua, name: &str, value: Value) -> LuaResult<Value> {
    let t = lua.create_table_with_capacity(0, 1)?;
    t.raw_set(name, value)?;
    Ok(Value::Table(t))
}

fn array(lua: &Lua, items: &[Reply], resp3: bool) -> LuaResult<Value> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        t.raw_set(i + 1, to_lua(lua, item, resp3)?)?;
    }
    Ok(Value::Table(t))
}

/// A script's result as the reply the client gets; `resp3` after `redis.setresp(3)` (it changes
/// only what a boolean becomes).
pub fn from_lua(value: &Value, resp3: bool) -> Reply {
    convert(value, resp3, 0)
}

/// Lua's number to integer conversion as Redis makes it, a C cast: toward zero, and the
/// minimum for what does not fit.
pub fn truncate(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.is_nan() || !(-LIMIT..LIMIT).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

fn convert(value: &Value, resp3: bool, depth: usize) -> Reply {
    match value {
        Value::String(s) => Reply::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Boolean(b) if resp3 => Reply::Bool(*b),
        Value::Boolean(true) => Reply::Int(1),
        Value::Integer(n) => Reply::Int(*n),
        Value::Number(n) => Reply::Int(truncate(*n)),
        Value::Table(t) if depth >= MAX_DEPTH => {
            let _ = t;
            Reply::err("reached lua stack limit")
        }
        Value::Table(t) => table(t, resp3, depth),
        // The error `redis.call` raised, caught by the script's own `pcall` and returned.
        Value::Error(e) => match e.downcast_ref::<super::sandbox::CallError>() {
            Some(c) => Reply::Error(c.0.clone()),
            None => Reply::Nil,
        },
        _ => Reply::Nil,
    }
}

fn table(t: &Table, resp3: bool, depth: usize) -> Reply {
    let field = |name: &str| t.raw_get::<Value>(name).unwrap_or(Value::Nil);
    if let Value::String(e) = field("err") {
        let text = String::from_utf8_lossy(&e.as_bytes()).replace(['\r', '\n'], " ");
        return Reply::Error(text.strip_prefix('-').map(str::to_string).unwrap_or(text));
    }
    if let Value::String(s) = field("ok") {
        return Reply::Status(String::from_utf8_lossy(&s.as_bytes()).into_owned());
    }
    match field("double") {
        Value::Number(d) => return Reply::Double(d),
        Value::Integer(d) => return Reply::Double(d as f64),
        _ => {}
    }
    if let Value::Table(m) = field("map") {
        let pairs = m
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, v)| (convert(&k, resp3, depth + 1), convert(&v, resp3, depth + 1)))
            .collect();
        return Reply::Map(pairs);
    }
    if let Value::Table(s) = field("set") {
        let members = s
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, _)| convert(&k, resp3, depth + 1))
            .collect();
        return Reply::Set(members);
    }
    if let Value::String(b) = field("big_number") {
        return Reply::Bulk(Bytes::copy_from_slice(&b.as_bytes()));
    }
    if let Value::Table(v) = field("verbatim_string") {
        if let Ok(Value::String(s)) = v.raw_get::<Value>("string") {
            return Reply::Verbatim(String::from_utf8_lossy(&s.as_bytes()).into_owned());
        }
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(convert(&v, resp3, depth + 1)),
        }
    }
    Reply::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(lua: &Lua, code: &str, resp3: bool) -> Reply {
        let v: Value = lua.load(code).eval().unwrap();
        from_lua(&v, resp3)
    }

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(Bytes::from(s.to_string()))
    }

    #[test]
    fn lua_values_become_redis_replies() {
        let lua = Lua::new();
        let cases = [
            ("return 'x'", bulk("x")),
            ("return 3.99", Reply::Int(3)),
            ("return -3.99", Reply::Int(-3)),
            ("return 1e20", Reply::Int(i64::MIN)),
            ("return true", Reply::Int(1)),
            ("return false", Reply::Nil),
            ("return nil", Reply::Nil),
            ("return {ok='fine'}", Reply::Status("fine".into())),
            ("return {err='My Error'}", Reply::error("My Error")),
            ("return {err='-ERR x\\r\\ny'}", Reply::error("ERR x  y")),
            ("return {double=3.5}", Reply::Double(3.5)),
            (
                "return {1,2,nil,4}",
                Reply::Array(vec![Reply::Int(1), Reply::Int(2)]),
            ),
            (
                "return {1,{'a',{err='e'}},3}",
                Reply::Array(vec![
                    Reply::Int(1),
                    Reply::Array(vec![bulk("a"), Reply::error("e")]),
                    Reply::Int(3),
                ]),
            ),
            (
                "return {map={a=1}}",
                Reply::Map(vec![(bulk("a"), Reply::Int(1))]),
            ),
            ("return {set={a=true}}", Reply::Set(vec![bulk("a")])),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, code, false), want, "{code}");
        }
        assert_eq!(eval(&lua, "return true", true), Reply::Bool(true));
        assert_eq!(eval(&lua, "return false", true), Reply::Bool(false));
        assert_eq!(
            eval(&lua, "local t = {} t[1] = t return t", false),
            nested_error()
        );
    }

    fn nested_error() -> Reply {
        let mut r = Reply::err("reached lua stack limit");
        for _ in 0..MAX_DEPTH {
            r = Reply::Array(vec![r]);
        }
        r
    }

    #[test]
    fn replies_become_lua_values() {
        let lua = Lua::new();
        let check = |reply: Reply, resp3: bool, test: &str| {
            let v = to_lua(&lua, &reply, resp3).unwrap();
            lua.globals().set("v", v).unwrap();
            let ok: bool = lua.load(test).eval().unwrap();
            assert!(ok, "{reply:?} resp3={resp3}: {test}");
        };
        check(Reply::Int(7), false, "return v == 7");
        check(bulk("x"), false, "return v == 'x'");
        check(Reply::Nil, false, "return v == false");
        check(Reply::Nil, true, "return v == nil");
        check(Reply::Ok, false, "return v.ok == 'OK'");
        check(Reply::error("ERR no"), false, "return v.err == 'ERR no'");
        check(
            Reply::Array(vec![Reply::Int(1), Reply::Nil]),
            false,
            "return v[1] == 1 and v[2] == false",
        );
        check(
            Reply::Map(vec![(bulk("f"), bulk("v"))]),
            false,
            "return v[1] == 'f' and v[2] == 'v'",
        );
        check(
            Reply::Map(vec![(bulk("f"), bulk("v"))]),
            true,
            "return v.map.f == 'v'",
        );
        check(Reply::Set(vec![bulk("m")]), true, "return v.set.m == true");
        check(Reply::Double(2.5), false, "return v == '2.5'");
        check(Reply::Double(2.5), true, "return v.double == 2.5");
        check(Reply::Bool(true), false, "return v == 1");
        check(Reply::Bool(false), true, "return v == false");
    }
}
