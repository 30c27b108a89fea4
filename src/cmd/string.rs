//! String commands: GET, SET and its variants (SETNX, SETEX, PSETEX), GETEX, GETDEL, MGET,
//! MSET, STRLEN, APPEND. The INCR family is [`super::counters`]; expiry options are parsed by
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
        let write = match ttl.deadline(now, "getex")? {
            Some(at) if at <= now => Write::Remove,
            Some(at) => Write::Put(e.retimed(Some(at))),
            None if ttl.persist && e.expire_at.is_some() => Write::Put(e.retimed(None)),
            None => Write::Keep,
        };
        e.mark_read();
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
