//! Sorted-set commands: ZADD (NX / XX / GT / LT / CH / INCR), ZINCRBY, ZREM, ZSCORE, ZMSCORE,
//! ZCARD, ZCOUNT, ZRANK, ZREVRANK, ZPOPMIN, ZPOPMAX, ZRANDMEMBER, ZSCAN (the range commands are
//! in the zrange file, the algebra in zalgebra, the multi-key and blocking pops in zset_block).
//!
//! A sorted set is a [`ZSet`] changed in place under the key's stripe lock through the
//! collection helpers: adding, re-scoring and removing a member is O(log n). Scores are written
//! as Redis 7.0 writes them (`%.17g`, `inf`, `-inf`) in RESP2 and as doubles in RESP3.
//!
//! # Format
//! ```text
//! ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
//!     -> members added (CH: added or changed) | INCR: the new score, nil if not applied
//! ZPOPMIN|ZPOPMAX key [count] -> [member, score, ...] (RESP3 with count: [[member, score], ...])
//! ```

use super::args;
use super::collection::{modify, read};
use super::cscan::{walk, ScanArgs};
use super::keyspace::owned;
use super::list::positive;
use super::{CommandError, Ctx};
use crate::protocol::{Protocol, Reply};
use crate::types::zset::{format_score, parse_score, ZSet};
use crate::types::Rng;
use bytes::Bytes;

/// Members up to this many, each up to [`LISTPACK_VALUE`] bytes, are what Redis keeps as a
/// listpack (`zset-max-listpack-entries` / `-value` defaults).
const LISTPACK_ENTRIES: usize = 128;
const LISTPACK_VALUE: usize = 64;

/// `OBJECT ENCODING` of a sorted set, as Redis 7.0 would name it for its size.
pub fn encoding(z: &ZSet) -> &'static str {
    if z.len() <= LISTPACK_ENTRIES && z.iter().all(|(_, m)| m.len() <= LISTPACK_VALUE) {
        "listpack"
    } else {
        "skiplist"
    }
}

/// A score in a reply: a double in RESP3, its `%.17g` text in RESP2.
pub(super) fn score(proto: Protocol, s: f64) -> Reply {
    match proto {
        Protocol::Resp3 => Reply::Double(s),
        Protocol::Resp2 => Reply::text(format_score(s)),
    }
}

/// Members with their scores: flat in RESP2, `[member, score]` pairs in RESP3 (or always flat
/// when `flat`).
pub(super) fn with_scores(proto: Protocol, items: Vec<(f64, Bytes)>, flat: bool) -> Reply {
    let mut out = Vec::with_capacity(items.len() * 2);
    for (s, m) in items {
        if proto == Protocol::Resp3 && !flat {
            out.push(Reply::Array(vec![Reply::Bulk(m), score(proto, s)]));
        } else {
            out.push(Reply::Bulk(m));
            out.push(score(proto, s));
        }
    }
    Reply::Array(out)
}

fn float(arg: &[u8]) -> Result<f64, CommandError> {
    parse_score(arg).ok_or(CommandError::NotFloat)
}

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

fn nan() -> CommandError {
    CommandError::err("resulting score is not a number (NaN)")
}

/// Applies one ZADD element; `Some(score)` if it was applied (for INCR's reply), and counts it.
fn add_one(
    z: &mut ZSet,
    f: AddFlags,
    by: f64,
    m: &Bytes,
    added: &mut i64,
    changed: &mut i64,
) -> Result<Option<f64>, CommandError> {
    match z.score(m) {
        Some(cur) => {
            if f.nx {
                return Ok(None);
            }
            let new = if f.incr { cur + by } else { by };
            if new.is_nan() {
                return Err(nan());
            }
            if (f.gt && new <= cur) || (f.lt && new >= cur) {
                return Ok(None);
            }
            if new != cur {
                z.insert(owned(m), new);
                *changed += 1;
            }
            Ok(Some(new))
        }
        None => {
            if f.xx {
                return Ok(None);
            }
            z.insert(owned(m), by);
            *added += 1;
            Ok(Some(by))
        }
    }
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`
pub fn zadd(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let mut f = AddFlags::default();
    let mut i = 2;
    while let Some(arg) = a.get(i) {
        let flag = match () {
            _ if args::is(arg, "NX") => &mut f.nx,
            _ if args::is(arg, "XX") => &mut f.xx,
            _ if args::is(arg, "GT") => &mut f.gt,
            _ if args::is(arg, "LT") => &mut f.lt,
            _ if args::is(arg, "CH") => &mut f.ch,
            _ if args::is(arg, "INCR") => &mut f.incr,
            _ => break,
        };
        *flag = true;
        i += 1;
    }
    let elements = &a[i..];
    if elements.is_empty() || !elements.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    if f.nx && f.xx {
        return Err(CommandError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if [f.gt, f.lt, f.nx].iter().filter(|x| **x).count() > 1 {
        return Err(CommandError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && elements.len() > 2 {
        return Err(CommandError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let pairs: Vec<(f64, &Bytes)> = elements
        .chunks(2)
        .map(|p| float(&p[0]).map(|s| (s, &p[1])))
        .collect::<Result<_, _>>()?;
    let proto = ctx.client.protocol;
    modify(&ctx.shared.store, &a[1], |z: &mut ZSet| {
        let (mut added, mut changed) = (0, 0);
        let mut last = None;
        for (s, m) in &pairs {
            // INCR has one pair: an error leaves the set as it was.
            last = add_one(z, f, *s, m, &mut added, &mut changed)?;
        }
        let any = added + changed > 0;
        let reply = if f.incr {
            last.map_or(Reply::Nil, |s| score(proto, s))
        } else if f.ch {
            Reply::Int(added + changed)
        } else {
            Reply::Int(added)
        };
        Ok((reply, any))
    })
}

/// `ZINCRBY key increment member`: the new score.
pub fn zincrby(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let by = float(&a[2])?;
    let proto = ctx.client.protocol;
    modify(&ctx.shared.store, &a[1], |z: &mut ZSet| {
        let new = z.score(&a[3]).map_or(by, |cur| cur + by);
        if new.is_nan() {
            return Err(nan());
        }
        z.insert(owned(&a[3]), new);
        Ok((score(proto, new), true))
    })
}

/// `ZREM key member [member ...]`: the number removed.
pub fn zrem(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    modify(&ctx.shared.store, &a[1], |z: &mut ZSet| {
        let n = a[2..].iter().filter(|m| z.remove(m)).count();
        Ok((Reply::Int(n as i64), n > 0))
    })
}

/// `ZSCORE key member`
pub fn zscore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let s = read(&ctx.shared.store, &a[1], |z: &ZSet| z.score(&a[2]))?.flatten();
    Ok(s.map_or(Reply::Nil, |s| score(ctx.client.protocol, s)))
}

/// `ZMSCORE key member [member ...]`
pub fn zmscore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let proto = ctx.client.protocol;
    let scores = read(&ctx.shared.store, &a[1], |z: &ZSet| {
        a[2..].iter().map(|m| z.score(m)).collect::<Vec<_>>()
    })?
    .unwrap_or_else(|| vec![None; a.len() - 2]);
    Ok(Reply::Array(
        scores
            .into_iter()
            .map(|s| s.map_or(Reply::Nil, |s| score(proto, s)))
            .collect(),
    ))
}

/// `ZCARD key`
pub fn zcard(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let n = read(&ctx.shared.store, &a[1], |z: &ZSet| z.len())?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

fn rank(ctx: &mut Ctx<'_>, a: &[Bytes], rev: bool) -> Result<Reply, CommandError> {
    if a.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let r = read(&ctx.shared.store, &a[1], |z: &ZSet| {
        z.rank(&a[2]).map(|r| if rev { z.len() - 1 - r } else { r })
    })?;
    Ok(r.flatten().map_or(Reply::Nil, |r| Reply::Int(r as i64)))
}

/// `ZRANK key member`
pub fn zrank(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    rank(ctx, a, false)
}

/// `ZREVRANK key member`
pub fn zrevrank(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    rank(ctx, a, true)
}

fn zpop(ctx: &mut Ctx<'_>, a: &[Bytes], highest: bool) -> Result<Reply, CommandError> {
    if a.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match a.get(2) {
        None => None,
        Some(c) => Some(args::uint(c).map_err(|_| positive())? as usize),
    };
    let popped = modify(&ctx.shared.store, &a[1], |z: &mut ZSet| {
        let n = count.unwrap_or(1).min(z.len());
        let items: Vec<(f64, Bytes)> = (0..n).filter_map(|_| z.pop(highest)).collect();
        let any = !items.is_empty();
        Ok((items, any))
    })?;
    Ok(with_scores(ctx.client.protocol, popped, count.is_none()))
}

/// `ZPOPMIN key [count]`
pub fn zpopmin(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    zpop(ctx, a, false)
}

/// `ZPOPMAX key [count]`
pub fn zpopmax(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    zpop(ctx, a, true)
}

/// `ZRANDMEMBER key [count [WITHSCORES]]`: distinct members for a positive count, with repeats
/// for a negative one; a count of the set's size or more returns the whole set, highest score
/// first (as Redis 7.0.15 does).
pub fn zrandmember(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let proto = ctx.client.protocol;
    let Some(c) = a.get(2) else {
        let m = read(&ctx.shared.store, &a[1], |z: &ZSet| {
            if z.is_empty() {
                return None;
            }
            let i = Rng::new().below(z.len());
            z.iter().nth(i).map(|(_, m)| m.clone())
        })?;
        return Ok(m.flatten().map_or(Reply::Nil, Reply::Bulk));
    };
    let (count, scores) = args::random_count(c, &a[3..], "WITHSCORES")?;
    let picked = read(&ctx.shared.store, &a[1], |z: &ZSet| {
        let all: Vec<(f64, &Bytes)> = z.iter().collect();
        let picks = Rng::new().picks(all.len(), count);
        let whole = count >= 0 && picks.len() == all.len();
        let mut out: Vec<(f64, Bytes)> = picks
            .into_iter()
            .map(|i| (all[i].0, all[i].1.clone()))
            .collect();
        if whole {
            // Redis 7.0.15 answers the whole set highest score first.
            out.reverse();
        }
        out
    })?
    .unwrap_or_default();
    Ok(if scores {
        with_scores(proto, picked, false)
    } else {
        Reply::Array(picked.into_iter().map(|(_, m)| Reply::Bulk(m)).collect())
    })
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`: members and their scores (as text).
pub fn zscan(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let opts = ScanArgs::parse(a)?;
    let store = &ctx.shared.store;
    let reply = read(store, &a[1], |z: &ZSet| {
        let whole = encoding(z) == "listpack";
        let members = z
            .iter()
            .map(|(s, m)| (m, vec![Reply::text(format_score(s))]));
        walk(&opts, whole, members, |m| store.scan_hash(m))
    })?;
    Ok(reply
        .unwrap_or_else(|| Reply::Array(vec![Reply::from_static("0"), Reply::Array(Vec::new())])))
}

#[cfg(test)]
mod tests;
