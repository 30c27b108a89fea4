//! Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP, SRANDMEMBER, SINTER,
//! SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE, SINTERCARD, SMOVE, SSCAN.
//!
//! A set is a [`Set`] changed in place under the key's stripe lock through the collection
//! helpers: adding or removing a member is O(1), and so is a random member (SPOP,
//! SRANDMEMBER). Member order in replies is unspecified, as Redis documents it. RESP3 gets
//! SMEMBERS, SPOP with a count and the algebra (SINTER, SUNION, SDIFF) as set replies.

use super::args::{self, Args};
use super::collection::{modify, read, store, wrong_type};
use super::cscan::{walk, ScanArgs};
use super::keyspace::owned;
use super::list::positive;
use super::{CommandError, Ctx};
use crate::protocol::Reply;
use crate::types::{set::Set, Rng, PICKS_MAX};
use bytes::Bytes;
use std::collections::HashSet;

/// Sets up to this many integer members are reported as `intset`, as Redis's
/// `set-max-intset-entries` default.
const INTSET_ENTRIES: usize = 512;

fn bulk(b: &Bytes) -> Reply {
    Reply::Bulk(b.clone())
}

/// `OBJECT ENCODING` of a set, as Redis 7.0 would name it for its size.
pub fn encoding(s: &Set) -> &'static str {
    if s.len() <= INTSET_ENTRIES && s.all_integers() {
        "intset"
    } else {
        "hashtable"
    }
}

/// `SADD key member [member ...]`: the number added.
pub fn sadd(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    modify(&ctx.shared.store, &a[1], |s: &mut Set| {
        let added = a[2..].iter().filter(|m| s.insert(owned(m))).count();
        Ok((Reply::Int(added as i64), added > 0))
    })
}

/// `SREM key member [member ...]`: the number removed.
pub fn srem(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    modify(&ctx.shared.store, &a[1], |s: &mut Set| {
        let removed = a[2..].iter().filter(|m| s.remove(m)).count();
        Ok((Reply::Int(removed as i64), removed > 0))
    })
}

/// `SMEMBERS key`
pub fn smembers(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let m = read(&ctx.shared.store, &a[1], |s: &Set| {
        s.iter().map(bulk).collect()
    })?;
    Ok(Reply::Set(m.unwrap_or_default()))
}

/// `SISMEMBER key member`
pub fn sismember(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let is = read(&ctx.shared.store, &a[1], |s: &Set| s.contains(&a[2]))?;
    Ok(Reply::Int(is.unwrap_or(false) as i64))
}

/// `SMISMEMBER key member [member ...]`
pub fn smismember(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let found = read(&ctx.shared.store, &a[1], |s: &Set| {
        a[2..]
            .iter()
            .map(|m| Reply::Int(s.contains(m) as i64))
            .collect()
    })?;
    Ok(Reply::Array(found.unwrap_or_else(|| {
        a[2..].iter().map(|_| Reply::Int(0)).collect()
    })))
}

/// `SCARD key`
pub fn scard(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let n = read(&ctx.shared.store, &a[1], |s: &Set| s.len())?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `SPOP key [count]`
pub fn spop(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if a.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match a.get(2) {
        None => None,
        Some(c) => Some(args::uint(c).map_err(|_| positive())? as usize),
    };
    let mut rng = Rng::new();
    let popped = modify(&ctx.shared.store, &a[1], |s: &mut Set| {
        let n = count.unwrap_or(1).min(s.len());
        let items: Vec<Bytes> = (0..n).filter_map(|_| s.pop_random(&mut rng)).collect();
        let changed = !items.is_empty();
        Ok((items, changed))
    })?;
    Ok(match count {
        None => popped.first().map_or(Reply::Nil, bulk),
        Some(_) => Reply::Set(popped.iter().map(bulk).collect()),
    })
}

/// `SRANDMEMBER key [count]`: distinct members for a positive count, with repeats for a
/// negative one.
pub fn srandmember(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if a.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match a.get(2) {
        None => None,
        Some(c) => match args::int(c)? {
            i64::MIN => {
                return Err(CommandError::err(
                    "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ))
            }
            n if n < 0 && n.unsigned_abs() > PICKS_MAX => {
                return Err(CommandError::err("value is out of range"))
            }
            n => Some(n),
        },
    };
    let mut rng = Rng::new();
    let picked = read(&ctx.shared.store, &a[1], |s: &Set| match count {
        None => s.random(&mut rng).map(bulk).into_iter().collect::<Vec<_>>(),
        Some(n) => rng
            .picks(s.len(), n)
            .into_iter()
            .filter_map(|i| s.at(i).map(bulk))
            .collect(),
    })?
    .unwrap_or_default();
    Ok(match count {
        None => picked.into_iter().next().unwrap_or(Reply::Nil),
        Some(_) => Reply::Array(picked),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// The members of each key's set (a missing key is an empty set); WRONGTYPE if any key holds
/// another type.
fn sets_of(ctx: &Ctx<'_>, keys: &[Bytes]) -> Result<Vec<Vec<Bytes>>, CommandError> {
    keys.iter()
        .map(|k| {
            read(&ctx.shared.store, k, |s: &Set| s.iter().cloned().collect())
                .map(Option::unwrap_or_default)
        })
        .collect()
}

fn combine(op: Op, sets: Vec<Vec<Bytes>>) -> Set {
    let mut iter = sets.into_iter();
    let mut acc = Set::from_members(iter.next().unwrap_or_default());
    for next in iter {
        match op {
            Op::Union => next.into_iter().for_each(|m| {
                acc.insert(m);
            }),
            Op::Diff => next.iter().for_each(|m| {
                acc.remove(m);
            }),
            Op::Inter => {
                let other: HashSet<Bytes> = next.into_iter().collect();
                let gone: Vec<Bytes> = acc
                    .iter()
                    .filter(|m| !other.contains(*m))
                    .cloned()
                    .collect();
                for m in gone {
                    acc.remove(&m);
                }
            }
        }
    }
    acc
}

fn algebra(ctx: &mut Ctx<'_>, keys: &[Bytes], op: Op) -> Result<Reply, CommandError> {
    let result = combine(op, sets_of(ctx, keys)?);
    Ok(Reply::Set(result.iter().map(bulk).collect()))
}

fn algebra_store(ctx: &mut Ctx<'_>, a: &[Bytes], op: Op) -> Result<Reply, CommandError> {
    let result = combine(op, sets_of(ctx, &a[2..])?);
    let n = result.len();
    store(&ctx.shared.store, &a[1], result)?;
    Ok(Reply::Int(n as i64))
}

pub fn sinter(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    algebra(ctx, &a[1..], Op::Inter)
}

pub fn sunion(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    algebra(ctx, &a[1..], Op::Union)
}

pub fn sdiff(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    algebra(ctx, &a[1..], Op::Diff)
}

pub fn sinterstore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    algebra_store(ctx, a, Op::Inter)
}

pub fn sunionstore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    algebra_store(ctx, a, Op::Union)
}

pub fn sdiffstore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    algebra_store(ctx, a, Op::Diff)
}

/// `numkeys key [key ...]` of SINTERCARD (and the sorted-set algebra): the keys and the
/// arguments after them.
pub fn numkeys(a: &[Bytes]) -> Result<(&[Bytes], Args<'_>), CommandError> {
    let n = match args::int(&a[1]) {
        Ok(n) if n > 0 => n as usize,
        _ => return Err(CommandError::err("numkeys should be greater than 0")),
    };
    if n > a.len() - 2 {
        return Err(CommandError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let mut rest = Args::new(a);
    for _ in 0..=n {
        rest.next_bytes()?;
    }
    Ok((&a[2..2 + n], rest))
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`
pub fn sintercard(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (keys, mut rest) = numkeys(a)?;
    let mut limit = 0usize;
    while !rest.is_empty() {
        if rest.eat("LIMIT") {
            limit = args::uint(rest.next_bytes()?)
                .map_err(|_| CommandError::err("LIMIT can't be negative"))?
                as usize;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let n = combine(Op::Inter, sets_of(ctx, keys)?).len();
    Ok(Reply::Int(if limit > 0 { n.min(limit) } else { n } as i64))
}

/// `SMOVE source destination member`: 1 if moved, 0 if the member was not in the source.
pub fn smove(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let st = &ctx.shared.store;
    let (from, to, m) = (&a[1], &a[2], &a[3]);
    if wrong_type::<Set>(st, from) || wrong_type::<Set>(st, to) {
        return Err(CommandError::WrongType);
    }
    if from == to {
        let is = read(st, from, |s: &Set| s.contains(m))?.unwrap_or(false);
        return Ok(Reply::Int(is as i64));
    }
    let removed = modify(st, from, |s: &mut Set| {
        let r = s.remove(m);
        Ok((r, r))
    })?;
    if !removed {
        return Ok(Reply::Int(0));
    }
    if let Err(e) = modify(st, to, |s: &mut Set| Ok(((), s.insert(owned(m))))) {
        // The destination took another type meanwhile: the member goes back.
        modify(st, from, |s: &mut Set| Ok(((), s.insert(owned(m)))))?;
        return Err(e);
    }
    Ok(Reply::Int(1))
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`
pub fn sscan(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let opts = ScanArgs::parse(a)?;
    let store = &ctx.shared.store;
    let reply = read(store, &a[1], |s: &Set| {
        let whole = encoding(s) == "intset";
        walk(&opts, whole, s.iter().map(|m| (m, Vec::new())), |m| {
            store.scan_hash(m)
        })
    })?;
    Ok(reply
        .unwrap_or_else(|| Reply::Array(vec![Reply::from_static("0"), Reply::Array(Vec::new())])))
}

#[cfg(test)]
mod tests;
