//! String commands: GET, SET and its variants (SETNX, SETEX, PSETEX), GETEX, GETDEL, MGET,
//! MSET, MSETNX, GETSET, STRLEN, APPEND. The INCR family is [`super::counters`]; expiry options are parsed by
//! [`super::ttl`].

use super::args::{self, Args};
use super::keyspace::{lookup_read, owned, string_of, write};
use super::ttl::{self, Expiry, Kind, TtlOptions};
use super::{CommandError, Ctx};
use crate::cache::{Entry, Store, Value, Write};
use crate::protocol::Reply;
use bytes::Bytes;

/// `GET key`
pub fn get(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(match lookup_read(&ctx.shared.store, &a[1]) {
        None => Reply::Nil,
        Some(e) => Reply::Bulk(string_of(&e)?.clone()),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    IfAbsent,
    IfPresent,
}

/// A parsed `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]`.
///
/// As in Redis, an option may repeat (`NX NX`, `GET GET`, `EX 1 EX 2`), NX with XX is a syntax
/// error, and so are two different expiry options.
struct Set<'a> {
    condition: Condition,
    get: bool,
    ttl: TtlOptions<'a>,
}

impl<'a> Set<'a> {
    fn parse(a: &'a [Bytes]) -> Result<Set<'a>, CommandError> {
        let mut s = Set {
            condition: Condition::Always,
            get: false,
            ttl: TtlOptions::default(),
        };
        let mut args = Args::new(a);
        args.next_bytes()?;
        args.next_bytes()?;
        while let Some(opt) = args.peek() {
            if s.ttl.take(ttl::SET, &mut args) {
                continue;
            }
            args.next_bytes()?;
            if args::is(opt, "NX") && s.condition != Condition::IfPresent {
                s.condition = Condition::IfAbsent;
            } else if args::is(opt, "XX") && s.condition != Condition::IfAbsent {
                s.condition = Condition::IfPresent;
            } else if args::is(opt, "GET") {
                s.get = true;
            } else {
                return Err(CommandError::Syntax);
            }
        }
        Ok(s)
    }
}

/// `SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT n | KEEPTTL]`
///
/// The expiry is checked before the key's type, as in Redis: `SET k v GET EX 0` on a hash is an
/// invalid expire time, not WRONGTYPE.
pub fn set(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let s = Set::parse(a)?;
    let store = &ctx.shared.store;
    let expire_at = s.ttl.deadline(store.clock().now_ms(), "set")?;
    if s.condition == Condition::Always && !s.get && !s.ttl.keepttl {
        return put_string(store, &a[1], &a[2], expire_at);
    }
    let value = owned(&a[2]);
    write(store, &a[1], |cur| {
        let old = match cur {
            Some(e) if s.get => Reply::Bulk(string_of(e)?.clone()),
            _ => Reply::Nil,
        };
        let go = match s.condition {
            Condition::Always => true,
            Condition::IfAbsent => cur.is_none(),
            Condition::IfPresent => cur.is_some(),
        };
        if !go {
            return Ok((Write::Keep, old));
        }
        let expire_at = if s.ttl.keepttl {
            cur.and_then(|e| e.expire_at)
        } else {
            expire_at
        };
        let reply = if s.get { old } else { Reply::Ok };
        Ok((Write::Put(Entry::new(Value::Str(value), expire_at)), reply))
    })
}

/// Stores a string unconditionally (SET without conditions, SETEX, PSETEX, MSET).
fn put_string(
    store: &Store,
    key: &Bytes,
    value: &Bytes,
    expire_at: Option<u64>,
) -> Result<Reply, CommandError> {
    let value = owned(value);
    store.write(key, |_| {
        (Write::Put(Entry::new(Value::Str(value), expire_at)), ())
    })?;
    Ok(Reply::Ok)
}

/// `SETNX key value`
pub fn setnx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let value = owned(&a[2]);
    Ok(ctx.shared.store.write(&a[1], |cur| match cur {
        Some(_) => (Write::Keep, Reply::Int(0)),
        None => (
            Write::Put(Entry::new(Value::Str(value), None)),
            Reply::Int(1),
        ),
    })?)
}

/// SETEX and PSETEX: `key n value` with the expiry option `kind`.
fn set_with_ttl(
    ctx: &mut Ctx<'_>,
    a: &[Bytes],
    kind: Kind,
    command: &'static str,
) -> Result<Reply, CommandError> {
    let store = &ctx.shared.store;
    let at = Expiry::new(kind, &a[2]).resolve(store.clock().now_ms(), command)?;
    put_string(store, &a[1], &a[3], Some(at))
}

/// `SETEX key seconds value`
pub fn setex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    set_with_ttl(ctx, a, Kind::Ex, "setex")
}

/// `PSETEX key milliseconds value`
pub fn psetex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    set_with_ttl(ctx, a, Kind::Px, "psetex")
}

/// `GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]`
///
/// Redis's order: a syntax error first, then a missing key (nil, whatever the expiry says),
/// WRONGTYPE, and only then a bad expiry. An EXAT / PXAT in the past deletes the key after
/// replying with its value.
pub fn getex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let ttl = ttl::parse_all(a, 2, ttl::GETEX)?;
    let store = &ctx.shared.store;
    let now = store.clock().now_ms();
    write(store, &a[1], |cur| {
        let Some(e) = cur else {
            return Ok((Write::Keep, Reply::Nil));
        };
        let reply = Reply::Bulk(string_of(e)?.clone());
        e.mark_read(now);
        let write = match ttl.deadline(now, "getex")? {
            Some(at) if at <= now => Write::Remove,
            Some(at) => Write::Put(e.retimed(Some(at))),
            None if ttl.persist && e.expire_at.is_some() => Write::Put(e.retimed(None)),
            None => Write::Keep,
        };
        Ok((write, reply))
    })
}

/// `GETDEL key`
pub fn getdel(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    write(&ctx.shared.store, &a[1], |cur| match cur {
        None => Ok((Write::Keep, Reply::Nil)),
        Some(e) => Ok((Write::Remove, Reply::Bulk(string_of(e)?.clone()))),
    })
}

/// `MGET key [key ...]`: nil for keys that are missing or not strings.
pub fn mget(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let store = &ctx.shared.store;
    Ok(Reply::Array(
        a[1..]
            .iter()
            .map(|k| match lookup_read(store, k) {
                Some(e) => e.as_str().map_or(Reply::Nil, |v| Reply::Bulk(v.clone())),
                None => Reply::Nil,
            })
            .collect(),
    ))
}

/// `MSET key value [key value ...]`
pub fn mset(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if a.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity("mset"));
    }
    for pair in a[1..].chunks(2) {
        put_string(&ctx.shared.store, &pair[0], &pair[1], None)?;
    }
    Ok(Reply::Ok)
}

/// `STRLEN key`
pub fn strlen(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Int(match ctx.shared.store.get(&a[1]) {
        None => 0,
        Some(e) => string_of(&e)?.len() as i64,
    }))
}

/// `APPEND key value`: the new length. The key keeps its TTL.
pub fn append(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let max = ctx.shared.config().proto_max_bulk_len;
    write(&ctx.shared.store, &a[1], |cur| {
        let (mut v, expire_at) = match cur {
            None => (Vec::new(), None),
            Some(e) => (string_of(e)?.to_vec(), e.expire_at),
        };
        if v.len() + a[2].len() > max {
            return Err(CommandError::err(
                "string exceeds maximum allowed size (proto-max-bulk-len)",
            ));
        }
        v.extend_from_slice(&a[2]);
        let len = v.len() as i64;
        Ok((
            Write::Put(Entry::new(Value::Str(Bytes::from(v)), expire_at)),
            Reply::Int(len),
        ))
    })
}

/// `GETSET key value`: SET with GET, dropping any TTL.
pub fn getset(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let value = owned(&a[2]);
    write(&ctx.shared.store, &a[1], |cur| {
        let old = match cur {
            Some(e) => Reply::Bulk(string_of(e)?.clone()),
            None => Reply::Nil,
        };
        Ok((Write::Put(Entry::new(Value::Str(value), None)), old))
    })
}

/// `MSETNX key value [key value ...]`: all the keys or none, 1 if set.
///
/// All absent is checked before the first write; with one event loop nothing runs between
/// the check and the writes, as in Redis.
pub fn msetnx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if a.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity("msetnx"));
    }
    let store = &ctx.shared.store;
    if a[1..].chunks(2).any(|kv| store.get(&kv[0]).is_some()) {
        return Ok(Reply::Int(0));
    }
    for kv in a[1..].chunks(2) {
        put_string(store, &kv[0], &kv[1], None)?;
    }
    Ok(Reply::Int(1))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::protocol::Reply;

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn set_conditions_and_get_reply_as_redis() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["GET", "k"]), Reply::Nil);
        assert_eq!(c.run(&["SET", "k", "v1"]), Reply::Ok);
        assert_eq!(c.run(&["set", "k", "v2", "NX"]), Reply::Nil);
        assert_eq!(c.run(&["SET", "k", "v2", "XX", "GET"]), bulk("v1"));
        assert_eq!(c.run(&["SET", "new", "x", "XX"]), Reply::Nil);
        assert_eq!(c.run(&["SET", "new", "x", "NX", "GET"]), Reply::Nil);
        assert_eq!(c.run(&["GET", "new"]), bulk("x"));
        // Repeats are allowed, as in Redis.
        assert_eq!(c.run(&["SET", "k", "v3", "GET", "GET"]), bulk("v2"));
        assert_eq!(c.run(&["SET", "k", "v4", "NX", "NX"]), Reply::Nil);
        assert_eq!(c.run(&["GET", "k"]), bulk("v3"));
    }

    #[test]
    fn set_expiry_follows_the_store_clock() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["SET", "k", "v", "EX", "10"]), Reply::Ok);
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(10));
        // The wall clock also moves (by far less than a second during the test).
        server.clock.advance(9_000);
        assert_eq!(c.run(&["GET", "k"]), bulk("v"));
        server.clock.advance(1_000);
        assert_eq!(c.run(&["GET", "k"]), Reply::Nil);

        assert_eq!(c.run(&["SET", "k", "v", "PX", "5000"]), Reply::Ok);
        let at = c.run(&["PEXPIRETIME", "k"]);
        assert_eq!(c.run(&["SET", "k", "w", "KEEPTTL"]), Reply::Ok);
        assert_eq!(c.run(&["PEXPIRETIME", "k"]), at);
        assert_eq!(c.run(&["SET", "k", "x", "EX", "1", "EX", "20"]), Reply::Ok);
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(20));
        assert_eq!(c.run(&["SET", "k", "y"]), Reply::Ok);
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(-1));
        // A deadline already passed is valid, and the key is gone at once.
        assert_eq!(c.run(&["SET", "k", "v", "EXAT", "1"]), Reply::Ok);
        assert_eq!(c.run(&["EXISTS", "k"]), Reply::Int(0));
        let at = server.clock.now_ms() + 3_000;
        assert_eq!(
            c.run(&["SET", "k", "v", "PXAT", &at.to_string()]),
            Reply::Ok
        );
        assert_eq!(c.run(&["PEXPIRETIME", "k"]), Reply::Int(at as i64));
    }

    #[test]
    fn set_errors_are_redis_texts_in_redis_order() {
        let server = TestServer::new();
        let mut c = server.client();
        let invalid = error("ERR invalid expire time in 'set' command");
        let syntax = error("ERR syntax error");
        assert_eq!(c.run(&["SET", "k", "v", "EX", "0"]), invalid);
        assert_eq!(c.run(&["SET", "k", "v", "EX", "9223372036854775"]), invalid);
        assert_eq!(
            c.run(&["SET", "k", "v", "PX", "x"]),
            error("ERR value is not an integer or out of range")
        );
        for bad in [
            &["SET", "k", "v", "NX", "XX"][..],
            &["SET", "k", "v", "EX", "10", "PX", "10"],
            &["SET", "k", "v", "KEEPTTL", "EX", "10"],
            &["SET", "k", "v", "EX"],
            &["SET", "k", "v", "PERSIST"],
            // A syntax error anywhere wins over a bad expire time.
            &["SET", "k", "v", "EX", "0", "NX", "XX"],
        ] {
            assert_eq!(c.run(bad), syntax, "{bad:?}");
        }
        assert_eq!(c.run(&["HSET", "h", "f", "v"]), Reply::Int(1));
        assert_eq!(c.run(&["SET", "h", "v", "GET"]), error(WRONGTYPE));
        assert_eq!(c.run(&["SET", "h", "v", "GET", "EX", "0"]), invalid);
        assert_eq!(c.run(&["GET", "h"]), error(WRONGTYPE));
        assert_eq!(c.run(&["SET", "h", "v"]), Reply::Ok);
        assert_eq!(c.run(&["GET", "h"]), bulk("v"));
        assert_eq!(
            c.run(&["SET", "k"]),
            error("ERR wrong number of arguments for 'set' command")
        );
    }

    #[test]
    fn setex_and_psetex_name_themselves_in_errors() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["SETEX", "k", "50", "v"]), Reply::Ok);
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(50));
        assert_eq!(c.run(&["PSETEX", "k", "7000", "v"]), Reply::Ok);
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(7));
        assert_eq!(
            c.run(&["SETEX", "k", "0", "v"]),
            error("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            c.run(&["PSETEX", "k", "-5", "v"]),
            error("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(7));
    }

    #[test]
    fn getex_answers_nil_and_wrongtype_before_checking_the_expiry() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["GETEX", "missing", "EX", "0"]), Reply::Nil);
        assert_eq!(
            c.run(&["GETEX", "missing", "EX", "1", "PX", "1"]),
            error("ERR syntax error")
        );
        c.run(&["HSET", "h", "f", "v"]);
        assert_eq!(c.run(&["GETEX", "h", "EX", "0"]), error(WRONGTYPE));
        c.run(&["SET", "k", "v"]);
        assert_eq!(
            c.run(&["GETEX", "k", "EX", "0"]),
            error("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(c.run(&["GETEX", "k", "PX", "5000"]), bulk("v"));
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(5));
        assert_eq!(c.run(&["GETEX", "k"]), bulk("v"));
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(5));
        assert_eq!(c.run(&["GETEX", "k", "PERSIST", "PERSIST"]), bulk("v"));
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(-1));
        assert_eq!(
            c.run(&["GETEX", "k", "PERSIST", "EX", "1"]),
            error("ERR syntax error")
        );
        // A passed deadline replies with the value and deletes the key.
        assert_eq!(c.run(&["GETEX", "k", "EXAT", "1"]), bulk("v"));
        assert_eq!(c.run(&["EXISTS", "k"]), Reply::Int(0));
    }

    #[test]
    fn multi_key_and_length_commands() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["MSET", "a", "1", "b", "2"]), Reply::Ok);
        assert_eq!(
            c.run(&["MSET", "a", "1", "b"]),
            error("ERR wrong number of arguments for 'mset' command")
        );
        c.run(&["HSET", "h", "f", "v"]);
        assert_eq!(
            c.run(&["MGET", "a", "nope", "h", "b"]),
            Reply::Array(vec![bulk("1"), Reply::Nil, Reply::Nil, bulk("2")])
        );
        assert_eq!(c.run(&["SETNX", "a", "x"]), Reply::Int(0));
        assert_eq!(c.run(&["SETNX", "c", "x"]), Reply::Int(1));
        assert_eq!(c.run(&["STRLEN", "a"]), Reply::Int(1));
        assert_eq!(c.run(&["STRLEN", "nope"]), Reply::Int(0));
        assert_eq!(c.run(&["STRLEN", "h"]), error(WRONGTYPE));
        assert_eq!(c.run(&["GETDEL", "c"]), bulk("x"));
        assert_eq!(c.run(&["GETDEL", "c"]), Reply::Nil);
        assert_eq!(c.run(&["GETDEL", "h"]), error(WRONGTYPE));
    }

    #[test]
    fn append_keeps_the_ttl_and_respects_the_bulk_limit() {
        let server = TestServer::with_config(crate::config::Config {
            proto_max_bulk_len: 8,
            ..Default::default()
        });
        let mut c = server.client();
        assert_eq!(c.run(&["APPEND", "k", "abc"]), Reply::Int(3));
        c.run(&["EXPIRE", "k", "100"]);
        assert_eq!(c.run(&["APPEND", "k", "de"]), Reply::Int(5));
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(100));
        assert_eq!(
            c.run(&["APPEND", "k", "fghi"]),
            error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(c.run(&["GET", "k"]), bulk("abcde"));
    }

    #[test]
    fn getset_returns_the_old_value_and_drops_the_ttl() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["GETSET", "k", "a"]), Reply::Nil);
        c.run(&["EXPIRE", "k", "100"]);
        assert_eq!(c.run(&["GETSET", "k", "b"]), bulk("a"));
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(-1));
        c.run(&["HSET", "h", "f", "v"]);
        assert_eq!(c.run(&["GETSET", "h", "x"]), error(WRONGTYPE));
    }

    #[test]
    fn msetnx_sets_all_or_nothing() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["MSETNX", "a", "1", "b", "2"]), Reply::Int(1));
        assert_eq!(c.run(&["MSETNX", "c", "3", "a", "x"]), Reply::Int(0));
        assert_eq!(c.run(&["EXISTS", "c"]), Reply::Int(0));
        assert_eq!(c.run(&["GET", "a"]), bulk("1"));
        assert_eq!(
            c.run(&["MSETNX", "a", "1", "b"]),
            error("ERR wrong number of arguments for 'msetnx' command")
        );
    }
}
