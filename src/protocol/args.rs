//! Legacy argument helpers that return error replies, kept only for the keyed lookups
//! (`crate::cmd::llmkey`) until they return `CommandError` too; every other handler parses with
//! `crate::cmd::args`. Delete this module with that change.

use super::parse::parse_i64;
use super::reply::Reply;

/// `ERR value is not an integer or out of range`
pub fn not_an_integer() -> Reply {
    Reply::err("value is not an integer or out of range")
}

/// `ERR syntax error`
pub fn syntax_error() -> Reply {
    Reply::err("syntax error")
}

/// Parses a non-negative integer argument as Redis does (`string2ll`).
pub fn uint(arg: &[u8]) -> Result<u64, Reply> {
    match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(not_an_integer()),
    }
}

/// Case-insensitive comparison of an argument with an upper-case ASCII word.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}
