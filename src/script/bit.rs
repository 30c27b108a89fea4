//! The `bit` library scripts get (LuaBitOp's functions): operations on 32-bit integers.

use mlua::{Lua, Result as LuaResult, Table, Variadic};

/// A Lua number as LuaBitOp normalises it: rounded, then taken modulo 2^32 as a signed value.
fn tobit(n: f64) -> i32 {
    if !n.is_finite() {
        return 0;
    }
    let r = n.round_ties_even().rem_euclid(4_294_967_296.0);
    r as u64 as u32 as i32
}

/// The `bit` table.
pub fn library(lua: &Lua) -> LuaResult<Table> {
    let t = lua.create_table()?;
    t.set("tobit", lua.create_function(|_, n: f64| Ok(tobit(n)))?)?;
    t.set("bnot", lua.create_function(|_, n: f64| Ok(!tobit(n)))?)?;
    t.set(
        "band",
        lua.create_function(|_, ns: Variadic<f64>| {
            Ok(ns.iter().fold(-1i32, |a, &n| a & tobit(n)))
        })?,
    )?;
    t.set(
        "bor",
        lua.create_function(|_, ns: Variadic<f64>| Ok(ns.iter().fold(0i32, |a, &n| a | tobit(n))))?,
    )?;
    t.set(
        "bxor",
        lua.create_function(|_, ns: Variadic<f64>| Ok(ns.iter().fold(0i32, |a, &n| a ^ tobit(n))))?,
    )?;
    let shift = |f: fn(i32, u32) -> i32| {
        move |_: &Lua, (x, n): (f64, f64)| Ok(f(tobit(x), (tobit(n) & 31) as u32))
    };
    t.set(
        "lshift",
        lua.create_function(shift(|x, n| ((x as u32) << n) as i32))?,
    )?;
    t.set(
        "rshift",
        lua.create_function(shift(|x, n| ((x as u32) >> n) as i32))?,
    )?;
    t.set("arshift", lua.create_function(shift(|x, n| x >> n))?)?;
    t.set(
        "rol",
        lua.create_function(shift(|x, n| (x as u32).rotate_left(n) as i32))?,
    )?;
    t.set(
        "ror",
        lua.create_function(shift(|x, n| (x as u32).rotate_right(n) as i32))?,
    )?;
    t.set(
        "bswap",
        lua.create_function(|_, n: f64| Ok(tobit(n).swap_bytes()))?,
    )?;
    t.set(
        "tohex",
        lua.create_function(|_, (x, n): (f64, Option<f64>)| {
            let n = n.map(tobit).unwrap_or(8);
            let (upper, digits) = (n < 0, n.unsigned_abs().min(8) as usize);
            let v = tobit(x) as u32 as u64;
            let s = if upper {
                format!("{v:08X}")
            } else {
                format!("{v:08x}")
            };
            Ok(s[8 - digits..].to_string())
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_operations_match_luabitop() {
        let lua = Lua::new();
        lua.globals().set("bit", library(&lua).unwrap()).unwrap();
        let cases = [
            ("return bit.band(0xff, 0x0f)", 15.0),
            ("return bit.bor(1, 2, 4)", 7.0),
            ("return bit.bxor(5, 1)", 4.0),
            ("return bit.bnot(0)", -1.0),
            ("return bit.tobit(0xffffffff)", -1.0),
            ("return bit.lshift(1, 31)", -2147483648.0),
            ("return bit.rshift(-1, 28)", 15.0),
            ("return bit.arshift(-16, 2)", -4.0),
            ("return bit.rol(0x80000000, 1)", 1.0),
            ("return bit.bswap(0x01020304)", 67305985.0),
        ];
        for (code, want) in cases {
            let got: f64 = lua.load(code).eval().unwrap();
            assert_eq!(got, want, "{code}");
        }
        let hex: String = lua.load("return bit.tohex(65535)").eval().unwrap();
        assert_eq!(hex, "0000ffff");
        let hex: String = lua.load("return bit.tohex(255, -2)").eval().unwrap();
        assert_eq!(hex, "FF");
    }
}
