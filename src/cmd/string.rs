//! String commands: GET, SET and its variants, GETEX, GETDEL, MGET, MSET, STRLEN, INCR family,
//! APPEND.

use super::{wrong_arity, Ctx};
use crate::cache::{Entry, Store, Value, Write};
use crate::protocol::args::{self, Args};
use crate::protocol::parse::BIG_BULK;
use crate::protocol::Reply;
use bytes::Bytes;
use std::sync::Arc;

pub fn wrongtype() -> Reply {
    Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value")
}

/// Reads a key for a read command, counting a keyspace hit or miss and marking the entry read.
pub fn lookup_read(store: &Store, key: &[u8]) -> Option<Arc<Entry>> {
    let e = store.get(key);
    match &e {
        Some(e) => {
            store.stats().keyspace_hits.incr();
            e.mark_read();
        }
        None => store.stats().keyspace_misses.incr(),
    }
    e
}

/// A stored copy of an argument: arguments are slices of the connection's read buffer, and a
/// stored slice would keep that whole buffer alive. A big argument that nothing else shares is
/// kept as it is: the connection received it into a buffer of its own size ([`BIG_BULK`]), so
/// keeping it pins nothing more, and a copy would cost its size again.
pub fn owned(b: &Bytes) -> Bytes {
    if b.len() >= BIG_BULK && b.is_unique() {
        b.clone()
    } else {
        Bytes::copy_from_slice(b)
    }
}

/// An expiry as a command states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Relative, in milliseconds (EX is converted).
    In(i64),
    /// Absolute unix milliseconds (EXAT is converted).
    At(i64),
}

impl Ttl {
    /// Parses the number after EX / PX / EXAT / PXAT. `name` is the command, for the error text.
    pub fn parse(option: &[u8], n: &[u8], name: &str) -> Result<Ttl, Reply> {
        let n = args::int(n)?;
        let invalid = || Reply::err(format!("invalid expire time in '{name}' command"));
        if n <= 0 {
            return Err(invalid());
        }
        let ms = |n: i64| n.checked_mul(1000).ok_or_else(invalid);
        Ok(if args::is(option, "EX") {
            Ttl::In(ms(n)?)
        } else if args::is(option, "PX") {
            Ttl::In(n)
        } else if args::is(option, "EXAT") {
            Ttl::At(ms(n)?)
        } else {
            Ttl::At(n)
        })
    }

    /// The absolute expiry in unix milliseconds; an overflow is an invalid expire time.
    pub fn resolve(self, now_ms: u64, name: &str) -> Result<u64, Reply> {
        let at = match self {
            Ttl::In(ms) => (now_ms as i64).checked_add(ms),
            Ttl::At(at) => Some(at),
        };
        match at {
            Some(at) if at > 0 => Ok(at as u64),
            _ => Err(Reply::err(format!(
                "invalid expire time in '{name}' command"
            ))),
        }
    }
}

fn is_ttl_option(a: &[u8]) -> bool {
    ["EX", "PX", "EXAT", "PXAT"].iter().any(|o| args::is(a, o))
}

/// `GET key`
pub fn get(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match lookup_read(&ctx.shared.store, &a[1]) {
        None => Reply::Nil,
        Some(e) => match e.as_str() {
            Some(v) => Reply::Bulk(v.clone()),
            None => wrongtype(),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    IfAbsent,
    IfPresent,
}

/// A parsed `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]`.
struct Set {
    condition: Condition,
    get: bool,
    ttl: Option<Ttl>,
    keepttl: bool,
}

impl Set {
    fn parse(a: &[Bytes]) -> Result<Set, Reply> {
        let mut s = Set {
            condition: Condition::Always,
            get: false,
            ttl: None,
            keepttl: false,
        };
        let mut args = Args::new(a);
        args.next_bytes()?;
        args.next_bytes()?;
        while let Some(opt) = args.peek() {
            args.next_bytes()?;
            if args::is(opt, "NX") && s.condition == Condition::Always {
                s.condition = Condition::IfAbsent;
            } else if args::is(opt, "XX") && s.condition == Condition::Always {
                s.condition = Condition::IfPresent;
            } else if args::is(opt, "GET") && !s.get {
                s.get = true;
            } else if args::is(opt, "KEEPTTL") && s.ttl.is_none() && !s.keepttl {
                s.keepttl = true;
            } else if is_ttl_option(opt) && s.ttl.is_none() && !s.keepttl && !args.is_empty() {
                let n = args.next_bytes()?;
                s.ttl = Some(Ttl::parse(opt, n, "set")?);
            } else {
                return Err(args::syntax_error());
            }
        }
        Ok(s)
    }
}

/// `SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT n | KEEPTTL]`
pub fn set(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let s = match Set::parse(a) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let store = &ctx.shared.store;
    let expire_at = match s.ttl.map(|t| t.resolve(store.clock().now_ms(), "set")) {
        Some(Err(e)) => return e,
        Some(Ok(at)) => Some(at),
        None => None,
    };
    if s.condition == Condition::Always && !s.get && !s.keepttl {
        return put_string(store, &a[1], &a[2], expire_at);
    }
    let value = owned(&a[2]);
    let r = store.write(&a[1], |cur| {
        if s.get && cur.is_some_and(|e| e.as_str().is_none()) {
            return (Write::Keep, wrongtype());
        }
        let old = || match cur.and_then(|e| e.as_str()) {
            Some(v) => Reply::Bulk(v.clone()),
            None => Reply::Nil,
        };
        let go = match s.condition {
            Condition::Always => true,
            Condition::IfAbsent => cur.is_none(),
            Condition::IfPresent => cur.is_some(),
        };
        if !go {
            return (Write::Keep, if s.get { old() } else { Reply::Nil });
        }
        let expire_at = if s.keepttl {
            cur.and_then(|e| e.expire_at)
        } else {
            expire_at
        };
        let reply = if s.get { old() } else { Reply::Ok };
        (Write::Put(Entry::new(Value::Str(value), expire_at)), reply)
    });
    r.unwrap_or_else(Reply::from)
}

/// Stores a string unconditionally (SETEX, PSETEX, MSET).
fn put_string(store: &Store, key: &Bytes, value: &Bytes, expire_at: Option<u64>) -> Reply {
    let value = owned(value);
    store
        .write(key, |_| {
            (
                Write::Put(Entry::new(Value::Str(value), expire_at)),
                Reply::Ok,
            )
        })
        .unwrap_or_else(Reply::from)
}

/// `SETNX key value`
pub fn setnx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let value = owned(&a[2]);
    ctx.shared
        .store
        .write(&a[1], |cur| match cur {
            Some(_) => (Write::Keep, Reply::Int(0)),
            None => (
                Write::Put(Entry::new(Value::Str(value), None)),
                Reply::Int(1),
            ),
        })
        .unwrap_or_else(Reply::from)
}

fn set_with_ttl(ctx: &mut Ctx<'_>, a: &[Bytes], option: &str, name: &str) -> Reply {
    let store = &ctx.shared.store;
    let at = Ttl::parse(option.as_bytes(), &a[2], name)
        .and_then(|t| t.resolve(store.clock().now_ms(), name));
    match at {
        Ok(at) => put_string(store, &a[1], &a[3], Some(at)),
        Err(e) => e,
    }
}

/// `SETEX key seconds value`
pub fn setex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    set_with_ttl(ctx, a, "EX", "setex")
}

/// `PSETEX key milliseconds value`
pub fn psetex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    set_with_ttl(ctx, a, "PX", "psetex")
}

/// `GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]`
pub fn getex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    enum Change {
        None,
        Persist,
        At(u64),
    }
    let store = &ctx.shared.store;
    let change = match a.len() {
        2 => Change::None,
        3 if args::is(&a[2], "PERSIST") => Change::Persist,
        4 if is_ttl_option(&a[2]) => {
            match Ttl::parse(&a[2], &a[3], "getex")
                .and_then(|t| t.resolve(store.clock().now_ms(), "getex"))
            {
                Ok(at) => Change::At(at),
                Err(e) => return e,
            }
        }
        _ => return args::syntax_error(),
    };
    let r = store.write(&a[1], |cur| {
        let Some(e) = cur else {
            return (Write::Keep, Reply::Nil);
        };
        let Some(v) = e.as_str() else {
            return (Write::Keep, wrongtype());
        };
        e.mark_read();
        let reply = Reply::Bulk(v.clone());
        match change {
            Change::None => (Write::Keep, reply),
            Change::Persist if e.expire_at.is_none() => (Write::Keep, reply),
            Change::Persist => (Write::Put(e.retimed(None)), reply),
            Change::At(at) => (Write::Put(e.retimed(Some(at))), reply),
        }
    });
    r.unwrap_or_else(Reply::from)
}

/// `GETDEL key`
pub fn getdel(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    ctx.shared
        .store
        .write(&a[1], |cur| match cur {
            None => (Write::Keep, Reply::Nil),
            Some(e) => match e.as_str() {
                Some(v) => (Write::Remove, Reply::Bulk(v.clone())),
                None => (Write::Keep, wrongtype()),
            },
        })
        .unwrap_or_else(Reply::from)
}

/// `MGET key [key ...]`: nil for keys that are missing or not strings.
pub fn mget(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let store = &ctx.shared.store;
    Reply::Array(
        a[1..]
            .iter()
            .map(|k| match lookup_read(store, k) {
                Some(e) => e.as_str().map_or(Reply::Nil, |v| Reply::Bulk(v.clone())),
                None => Reply::Nil,
            })
            .collect(),
    )
}

/// `MSET key value [key value ...]`
pub fn mset(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if a.len().is_multiple_of(2) {
        return wrong_arity("mset");
    }
    for pair in a[1..].chunks(2) {
        let r = put_string(&ctx.shared.store, &pair[0], &pair[1], None);
        if r.is_error() {
            return r;
        }
    }
    Reply::Ok
}

/// `STRLEN key`
pub fn strlen(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match ctx.shared.store.get(&a[1]) {
        None => Reply::Int(0),
        Some(e) => match e.as_str() {
            Some(v) => Reply::Int(v.len() as i64),
            None => wrongtype(),
        },
    }
}

/// Adds `by` to the integer stored at `key`, keeping its TTL.
fn incr_by(ctx: &mut Ctx<'_>, key: &Bytes, by: i64) -> Reply {
    ctx.shared
        .store
        .write(key, |cur| {
            let (n, expire_at) = match cur {
                None => (0, None),
                Some(e) => match e.as_str() {
                    None => return (Write::Keep, wrongtype()),
                    Some(v) => match crate::protocol::parse::parse_i64(v) {
                        Some(n) => (n, e.expire_at),
                        None => return (Write::Keep, args::not_an_integer()),
                    },
                },
            };
            match n.checked_add(by) {
                None => (
                    Write::Keep,
                    Reply::err("increment or decrement would overflow"),
                ),
                Some(n) => {
                    let mut buf = itoa::Buffer::new();
                    let text = Bytes::copy_from_slice(buf.format(n).as_bytes());
                    (
                        Write::Put(Entry::new(Value::Str(text), expire_at)),
                        Reply::Int(n),
                    )
                }
            }
        })
        .unwrap_or_else(Reply::from)
}

/// `INCR key`
pub fn incr(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    incr_by(ctx, &a[1], 1)
}

/// `DECR key`
pub fn decr(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    incr_by(ctx, &a[1], -1)
}

/// `INCRBY key increment`
pub fn incrby(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match args::int(&a[2]) {
        Ok(by) => incr_by(ctx, &a[1], by),
        Err(e) => e,
    }
}

/// `DECRBY key decrement`
pub fn decrby(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match args::int(&a[2]) {
        Ok(i64::MIN) => Reply::err("decrement would overflow"),
        Ok(by) => incr_by(ctx, &a[1], -by),
        Err(e) => e,
    }
}

/// `APPEND key value`
pub fn append(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let max = ctx.shared.config().proto_max_bulk_len;
    ctx.shared
        .store
        .write(&a[1], |cur| {
            let (mut v, expire_at) = match cur {
                None => (Vec::new(), None),
                Some(e) => match e.as_str() {
                    Some(v) => (v.to_vec(), e.expire_at),
                    None => return (Write::Keep, wrongtype()),
                },
            };
            if v.len() + a[2].len() > max {
                return (
                    Write::Keep,
                    Reply::err("string exceeds maximum allowed size (proto-max-bulk-len)"),
                );
            }
            v.extend_from_slice(&a[2]);
            let len = v.len() as i64;
            (
                Write::Put(Entry::new(Value::Str(Bytes::from(v)), expire_at)),
                Reply::Int(len),
            )
        })
        .unwrap_or_else(Reply::from)
}
