//! Generic key commands: DEL, UNLINK, EXISTS, the EXPIRE and TTL families, PERSIST, TYPE, SCAN,
//! KEYS.

use super::Ctx;
use crate::cache::{Store, Write};
use crate::glob;
use crate::protocol::args::{self, Args};
use crate::protocol::Reply;
use bytes::Bytes;
use std::collections::BinaryHeap;

/// `DEL key [key ...]` and `UNLINK key [key ...]`
pub fn del(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut n = 0;
    for key in &a[1..] {
        match ctx.shared.store.write(key, |cur| match cur {
            Some(_) => (Write::Remove, 1),
            None => (Write::Keep, 0),
        }) {
            Ok(removed) => n += removed,
            Err(e) => return e.into(),
        }
    }
    Reply::Int(n)
}

/// `EXISTS key [key ...]`: counts repeats, as Redis does.
pub fn exists(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let n = a[1..]
        .iter()
        .filter(|k| ctx.shared.store.get(k).is_some())
        .count();
    Reply::Int(n as i64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireIf {
    Always,
    NoTtl,
    HasTtl,
    Greater,
    Less,
}

fn parse_expire_condition(rest: &[Bytes]) -> Result<ExpireIf, Reply> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in rest {
        if args::is(opt, "NX") {
            nx = true;
        } else if args::is(opt, "XX") {
            xx = true;
        } else if args::is(opt, "GT") {
            gt = true;
        } else if args::is(opt, "LT") {
            lt = true;
        } else {
            return Err(Reply::err(format!(
                "Unsupported option {}",
                super::lossy(opt, 128)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(Reply::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(Reply::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    Ok(match (nx, xx, gt, lt) {
        (true, ..) => ExpireIf::NoTtl,
        (_, _, true, _) => ExpireIf::Greater,
        (_, _, _, true) => ExpireIf::Less,
        (_, true, ..) => ExpireIf::HasTtl,
        _ => ExpireIf::Always,
    })
}

/// The EXPIRE family: `n` in `unit_ms` milliseconds, relative to now unless `absolute`.
fn expire_generic(
    ctx: &mut Ctx<'_>,
    a: &[Bytes],
    unit_ms: i64,
    absolute: bool,
    name: &str,
) -> Reply {
    let n = match args::int(&a[2]) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let cond = match parse_expire_condition(&a[3..]) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let store = &ctx.shared.store;
    let now = store.clock().now_ms() as i64;
    let invalid = || Reply::err(format!("invalid expire time in '{name}' command"));
    let Some(ms) = n.checked_mul(unit_ms) else {
        return invalid();
    };
    let at = if absolute {
        Some(ms)
    } else {
        now.checked_add(ms)
    };
    let Some(at) = at else {
        return invalid();
    };
    store
        .write(&a[1], |cur| {
            let Some(e) = cur else {
                return (Write::Keep, Reply::Int(0));
            };
            let ok = match (cond, e.expire_at) {
                (ExpireIf::Always, _) => true,
                (ExpireIf::NoTtl, t) => t.is_none(),
                (ExpireIf::HasTtl, t) => t.is_some(),
                (ExpireIf::Greater, Some(t)) => at > t as i64,
                (ExpireIf::Greater, None) => false,
                (ExpireIf::Less, Some(t)) => at < t as i64,
                (ExpireIf::Less, None) => true,
            };
            if !ok {
                (Write::Keep, Reply::Int(0))
            } else if at <= now {
                // A time in the past deletes the key, as in Redis.
                (Write::Remove, Reply::Int(1))
            } else {
                (Write::Put(e.retimed(Some(at as u64))), Reply::Int(1))
            }
        })
        .unwrap_or_else(Reply::from)
}

/// `EXPIRE key seconds [NX|XX|GT|LT]`
pub fn expire(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    expire_generic(ctx, a, 1000, false, "expire")
}

/// `PEXPIRE key milliseconds [NX|XX|GT|LT]`
pub fn pexpire(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    expire_generic(ctx, a, 1, false, "pexpire")
}

/// `EXPIREAT key unix-time-seconds [NX|XX|GT|LT]`
pub fn expireat(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    expire_generic(ctx, a, 1000, true, "expireat")
}

/// `PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]`
pub fn pexpireat(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    expire_generic(ctx, a, 1, true, "pexpireat")
}

/// Remaining time to live: -2 for a missing key, -1 for no TTL.
fn ttl_generic(store: &Store, key: &[u8], in_ms: bool) -> Reply {
    let Some(e) = store.get(key) else {
        return Reply::Int(-2);
    };
    match e.expire_at {
        None => Reply::Int(-1),
        Some(at) => {
            let left = at.saturating_sub(store.clock().now_ms()) as i64;
            Reply::Int(if in_ms { left } else { (left + 500) / 1000 })
        }
    }
}

/// `TTL key`
pub fn ttl(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    ttl_generic(&ctx.shared.store, &a[1], false)
}

/// `PTTL key`
pub fn pttl(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    ttl_generic(&ctx.shared.store, &a[1], true)
}

fn expiretime_generic(store: &Store, key: &[u8], in_ms: bool) -> Reply {
    match store.get(key) {
        None => Reply::Int(-2),
        Some(e) => match e.expire_at {
            None => Reply::Int(-1),
            Some(at) => Reply::Int(if in_ms { at as i64 } else { (at / 1000) as i64 }),
        },
    }
}

/// `EXPIRETIME key`
pub fn expiretime(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    expiretime_generic(&ctx.shared.store, &a[1], false)
}

/// `PEXPIRETIME key`
pub fn pexpiretime(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    expiretime_generic(&ctx.shared.store, &a[1], true)
}

/// `PERSIST key`
pub fn persist(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    ctx.shared
        .store
        .write(&a[1], |cur| match cur {
            Some(e) if e.expire_at.is_some() => (Write::Put(e.retimed(None)), Reply::Int(1)),
            _ => (Write::Keep, Reply::Int(0)),
        })
        .unwrap_or_else(Reply::from)
}

/// `TYPE key`
pub fn type_(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    Reply::Simple(match ctx.shared.store.get(&a[1]) {
        None => "none",
        Some(e) => e.value.type_name(),
    })
}

/// `KEYS pattern`
pub fn keys(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let pattern = &a[1];
    Reply::Array(
        ctx.shared
            .store
            .iter()
            .filter(|(k, _)| glob::matches(pattern, k, false))
            .map(|(k, _)| Reply::Bulk((*k).clone()))
            .collect(),
    )
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
///
/// The cursor is a position in the store's 64-bit key-hash space: each call returns the `COUNT`
/// keys with the smallest hashes at or after the cursor, and the next cursor is just past the
/// last of them. So, as in Redis, a full iteration returns every key that was present for the
/// whole iteration, and a key is returned once (two keys of one hash, odds about n/2^64, could
/// be split across a call boundary). Each call walks the whole keyspace, so it costs O(n).
pub fn scan(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let Some(cursor) = std::str::from_utf8(&a[1])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return Reply::err("invalid cursor");
    };
    let mut args = Args::new(a);
    args.next_bytes().ok();
    let mut pattern: Option<&Bytes> = None;
    let mut count = 10usize;
    let mut type_filter: Option<String> = None;
    while let Some(opt) = args.peek() {
        args.next_bytes().ok();
        let Ok(val) = args.next_bytes() else {
            return args::syntax_error();
        };
        if args::is(opt, "MATCH") {
            pattern = Some(val);
        } else if args::is(opt, "COUNT") {
            match args::int(val) {
                Ok(n) if n >= 1 => count = n as usize,
                Ok(_) => return args::syntax_error(),
                Err(e) => return e,
            }
        } else if args::is(opt, "TYPE") {
            type_filter = Some(String::from_utf8_lossy(val).to_ascii_lowercase());
        } else {
            return args::syntax_error();
        }
    }
    let store = &ctx.shared.store;
    // A max-heap of the `count` smallest hashes at or after the cursor. COUNT is the client's:
    // reserving all of it up front let `SCAN 0 COUNT 4398046511104` abort the process.
    let mut heap: BinaryHeap<(u64, Bytes, &'static str)> =
        BinaryHeap::with_capacity(count.min(1024) + 1);
    let mut more = false;
    for (key, entry) in store.iter() {
        let h = store.scan_hash(&key);
        if h < cursor {
            continue;
        }
        if heap.len() == count {
            match heap.peek() {
                Some(top) if h < top.0 => {
                    heap.pop();
                    more = true;
                }
                _ => {
                    more = true;
                    continue;
                }
            }
        }
        heap.push((h, (*key).clone(), entry.value.type_name()));
    }
    let mut picked = heap.into_sorted_vec();
    let next = match picked.last() {
        Some((h, _, _)) if more => h.checked_add(1).unwrap_or(0),
        _ => 0,
    };
    picked.retain(|(_, k, t)| {
        pattern.is_none_or(|p| glob::matches(p, k, false))
            && type_filter
                .as_deref()
                .is_none_or(|f| f.eq_ignore_ascii_case(t))
    });
    Reply::Array(vec![
        Reply::text(next.to_string()),
        Reply::Array(picked.into_iter().map(|(_, k, _)| Reply::Bulk(k)).collect()),
    ])
}
