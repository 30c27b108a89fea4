//! `OBJECT ENCODING key` and `OBJECT HELP`: the name Redis 7.0 would give the internal
//! representation of a key's value for its size (FREQ, IDLETIME and REFCOUNT are not here).
//!
//! # Format
//! ```text
//! OBJECT ENCODING key   -> int | embstr | raw | listpack | hashtable | quicklist | intset
//!                          | skiplist ; nil for a missing key
//! OBJECT HELP           -> lines
//! ```
//! llmcached keeps one representation per type; the name answered is the one Redis 7.0 would
//! use with its default thresholds, so tools that look at encodings see what they expect.

use super::collection::read;
use super::keyspace::lookup_read;
use super::spec::flag::*;
use super::{CommandError, CommandSpec, Ctx, Handler};
use crate::cache::Value;
use crate::protocol::parse::parse_i64;
use crate::protocol::Reply;
use crate::sub;
use bytes::Bytes;

#[rustfmt::skip]
pub static SUBCOMMANDS: &[CommandSpec] = &[
    sub!("object", "encoding", 3, READONLY, super::spec::acl::KEYSPACE, "generic", "2.2.3", "key", "Returns the internal encoding of a Redis object.", Handler::Sync(encoding)),
    sub!("object", "help", 2, LOADING | STALE, super::spec::acl::KEYSPACE, "generic", "6.2.0", "", "Returns helpful text about the different subcommands.", Handler::Sync(help)),
];

/// Redis 7.0.15's `OBJECT HELP`, less the subcommands llmcached does not have.
const HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "HELP",
    "    Prints this help.",
];

/// Hashes up to this many fields of up to [`LISTPACK_VALUE`] bytes are listpacks in Redis.
const LISTPACK_ENTRIES: usize = 128;
const LISTPACK_VALUE: usize = 64;
/// Strings up to this long are `embstr` in Redis.
const EMBSTR: usize = 44;

/// `OBJECT ENCODING key`
fn encoding(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let store = &ctx.shared.store;
    let Some(e) = lookup_read(store, &a[2]) else {
        return Ok(Reply::Nil);
    };
    let name = match &e.value {
        Value::Str(s) | Value::Json(s) if s.len() <= 20 && parse_i64(s).is_some() => "int",
        Value::Str(s) | Value::Json(s) if s.len() <= EMBSTR => "embstr",
        Value::Str(_) | Value::Json(_) => "raw",
        Value::Hash(h)
            if h.len() <= LISTPACK_ENTRIES
                && h.iter()
                    .all(|(k, v)| k.len() <= LISTPACK_VALUE && v.len() <= LISTPACK_VALUE) =>
        {
            "listpack"
        }
        Value::Hash(_) => "hashtable",
        Value::List(c) => c.read(super::list::encoding),
        Value::Set(_) => read(store, &a[2], super::set::encoding)?.unwrap_or("hashtable"),
        Value::ZSet(_) => read(store, &a[2], super::zset::encoding)?.unwrap_or("skiplist"),
    };
    Ok(Reply::from_static(name))
}

/// `OBJECT HELP`
fn help(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Array(
        HELP.iter().map(|l| Reply::Simple(l)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, TestServer};
    use crate::protocol::Reply;

    #[test]
    fn encodings_are_redis_7_0_names_for_the_size() {
        let s = TestServer::new();
        let mut c = s.client();
        c.run(&["SET", "n", "123"]);
        c.run(&["SET", "e", "hello"]);
        c.run(&["SET", "r", &"x".repeat(45)]);
        c.run(&["HSET", "h", "a", "1"]);
        c.run(&["RPUSH", "l", "a"]);
        c.run(&["SADD", "si", "1", "2"]);
        c.run(&["SADD", "ss", "a"]);
        c.run(&["ZADD", "z", "1", "a"]);
        c.run(&["ZADD", "zb", "1", &"m".repeat(65)]);
        for (key, want) in [
            ("n", "int"),
            ("e", "embstr"),
            ("r", "raw"),
            ("h", "listpack"),
            ("l", "quicklist"),
            ("si", "intset"),
            ("ss", "hashtable"),
            ("z", "listpack"),
            ("zb", "skiplist"),
        ] {
            assert_eq!(c.run(&["OBJECT", "ENCODING", key]), bulk(want), "{key}");
        }
        assert_eq!(c.run(&["OBJECT", "ENCODING", "nokey"]), Reply::Nil);
        let Reply::Array(lines) = c.run(&["OBJECT", "HELP"]) else {
            panic!()
        };
        assert_eq!(lines.last(), Some(&Reply::Simple("    Prints this help.")));
    }
}
