//! The `cjson` library scripts get: `cjson.encode`, `cjson.decode` and `cjson.null`, with
//! lua-cjson's conventions (a table with keys 1..n is an array, other tables objects, an empty
//! table `{}`; numbers with 14 significant digits; JSON null is `cjson.null`).

use mlua::{Error, LightUserData, Lua, Result as LuaResult, Table, Value};
use serde_json::Value as Json;

/// Deepest nesting encode and decode accept, as lua-cjson's default.
const MAX_DEPTH: usize = 1000;

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// The `cjson` table.
pub fn library(lua: &Lua) -> LuaResult<Table> {
    let t = lua.create_table()?;
    t.set("null", null())?;
    t.set(
        "encode",
        lua.create_function(|_, v: Value| {
            let mut out = String::new();
            encode(&v, &mut out, 0).map_err(Error::runtime)?;
            Ok(out)
        })?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, s: mlua::LuaString| {
            let json: Json = serde_json::from_slice(&s.as_bytes()).map_err(|e| {
                Error::runtime(format!(
                    "Expected value but found invalid token at character {}",
                    e.column().max(1)
                ))
            })?;
            decode(lua, &json, 0)
        })?,
    )?;
    Ok(t)
}

/// lua-cjson's `%.14g` (Redis 7.0.15: `1e-05`, `-0`, `1.2345678901235e+14`).
fn number(n: f64, out: &mut String) -> Result<(), String> {
    if !n.is_finite() {
        return Err("Cannot serialise number: must not be NaN or Inf".into());
    }
    out.push_str(&crate::protocol::printf::g(n, 14));
    Ok(())
}

fn string(b: &[u8], out: &mut String) {
    out.push('"');
    for ch in String::from_utf8_lossy(b).chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn encode(v: &Value, out: &mut String, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("Cannot serialise, excessive nesting (1001)".into());
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::LightUserData(p) if p.0.is_null() => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(n) => number(*n as f64, out)?,
        Value::Number(n) => number(*n, out)?,
        Value::String(s) => string(&s.as_bytes(), out),
        Value::Table(t) => {
            let len = t.raw_len();
            let pairs: Vec<(Value, Value)> = t.pairs().filter_map(Result::ok).collect();
            if len > 0 && pairs.len() == len {
                out.push('[');
                for i in 1..=len {
                    if i > 1 {
                        out.push(',');
                    }
                    encode(&t.raw_get(i).unwrap_or(Value::Nil), out, depth + 1)?;
                }
                out.push(']');
            } else {
                out.push('{');
                for (i, (k, val)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    match k {
                        Value::String(s) => string(&s.as_bytes(), out),
                        Value::Integer(n) => string(n.to_string().as_bytes(), out),
                        Value::Number(n) => {
                            let mut s = String::new();
                            number(*n, &mut s)?;
                            string(s.as_bytes(), out)
                        }
                        _ => {
                            return Err(
                                "Cannot serialise table: table key must be a number or string"
                                    .into(),
                            )
                        }
                    }
                    out.push(':');
                    encode(val, out, depth + 1)?;
                }
                out.push('}');
            }
        }
        other => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ))
        }
    }
    Ok(())
}

fn decode(lua: &Lua, j: &Json, depth: usize) -> LuaResult<Value> {
    if depth > MAX_DEPTH {
        return Err(Error::runtime(
            "Found too many nested data structures (1001)",
        ));
    }
    Ok(match j {
        Json::Null => null(),
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        Json::String(s) => Value::String(lua.create_string(s)?),
        Json::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, decode(lua, item, depth + 1)?)?;
            }
            Value::Table(t)
        }
        Json::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, v) in map {
                t.raw_set(lua.create_string(k)?, decode(lua, v, depth + 1)?)?;
            }
            Value::Table(t)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Redis 7.0.15 answers to `EVAL "return cjson.encode(n)" 0` for these numbers.
    #[test]
    fn numbers_encode_as_redis_7_0() {
        for (n, want) in [
            (0.00001, "1e-05"),
            (0.0001, "0.0001"),
            (123456789012345.5, "1.2345678901235e+14"),
            (-0.0, "-0"),
            (1e20, "1e+20"),
        ] {
            let mut out = String::new();
            number(n, &mut out).unwrap();
            assert_eq!(out, want, "{n}");
        }
    }

    #[test]
    fn encode_and_decode_as_lua_cjson() {
        let lua = Lua::new();
        lua.globals().set("cjson", library(&lua).unwrap()).unwrap();
        let s = |code: &str| -> String { lua.load(code).eval().unwrap() };
        assert_eq!(s("return cjson.encode({1,2,{a=1}})"), "[1,2,{\"a\":1}]");
        assert_eq!(s("return cjson.encode({})"), "{}");
        assert_eq!(s("return cjson.encode({a=cjson.null})"), "{\"a\":null}");
        assert_eq!(s("return cjson.encode(0.1)"), "0.1");
        assert_eq!(s("return cjson.encode(1/3)"), "0.33333333333333");
        assert_eq!(s("return cjson.encode('a/b\"')"), "\"a\\/b\\\"\"");
        let n: f64 = lua
            .load("return cjson.decode('[1,2,{\"a\":3.5}]')[3].a")
            .eval()
            .unwrap();
        assert_eq!(n, 3.5);
        let null: bool = lua
            .load("return cjson.decode('[null]')[1] == cjson.null")
            .eval()
            .unwrap();
        assert!(null);
        assert!(lua.load("return cjson.decode('x')").exec().is_err());
    }
}
