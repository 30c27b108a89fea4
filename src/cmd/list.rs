//! List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LRANGE, LINDEX, LSET, LREM,
//! LTRIM, LINSERT, LPOS, LMOVE, RPOPLPUSH (the blocking pops are in the blocking-list file).
//!
//! A list is a [`List`] (a `VecDeque`) changed in place under the key's stripe lock through
//! the collection helpers, so a push or pop at either end is O(1). A push makes the key ready for
//! the clients blocked on it (`Shared::key_waits`, through the store's observer).
//!
//! # Format
//! ```text
//! LPUSH|RPUSH key element [element ...]        -> length after the push
//! LPUSHX|RPUSHX key element [element ...]      -> length, 0 (and no key) if the key is missing
//! LPOP|RPOP key [count]                        -> element | nil; with count: array | null array
//! LMOVE source destination LEFT|RIGHT LEFT|RIGHT -> the element moved | nil
//! ```

use super::args::{self, Args};
use super::collection::{modify, read, wrong_type};
use super::keyspace::owned;
use super::{CommandError, Ctx};
use crate::protocol::Reply;
use crate::state::Shared;
use crate::types::list::{End, List};
use bytes::Bytes;

/// `OBJECT ENCODING` of a list: Redis 7.0 keeps every list as a quicklist.
pub fn encoding(_: &List) -> &'static str {
    "quicklist"
}

fn bulk(b: &Bytes) -> Reply {
    Reply::Bulk(b.clone())
}

/// `LEFT` or `RIGHT`.
pub(super) fn end(arg: &[u8]) -> Result<End, CommandError> {
    if args::is(arg, "LEFT") {
        Ok(End::Left)
    } else if args::is(arg, "RIGHT") {
        Ok(End::Right)
    } else {
        Err(CommandError::Syntax)
    }
}

/// Pushes `items` at `end` of the list at `key` (only onto an existing list when `existing`),
/// and returns the new length (the store's observer wakes clients blocked on the key).
pub(super) fn push(
    shared: &Shared,
    key: &Bytes,
    end: End,
    items: &[Bytes],
    existing: bool,
) -> Result<usize, CommandError> {
    let len = modify(&shared.store, key, |l: &mut List| {
        if existing && l.is_empty() {
            return Ok((0, false));
        }
        for i in items {
            l.push(end, owned(i));
        }
        Ok((l.len(), true))
    })?;
    Ok(len)
}

pub fn lpush(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    push(ctx.shared, &a[1], End::Left, &a[2..], false).map(|n| Reply::Int(n as i64))
}

pub fn rpush(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    push(ctx.shared, &a[1], End::Right, &a[2..], false).map(|n| Reply::Int(n as i64))
}

pub fn lpushx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    push(ctx.shared, &a[1], End::Left, &a[2..], true).map(|n| Reply::Int(n as i64))
}

pub fn rpushx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    push(ctx.shared, &a[1], End::Right, &a[2..], true).map(|n| Reply::Int(n as i64))
}

/// Pops up to `count` items from `end`; `None` if the key is missing (or the list is empty).
pub(super) fn pop_n(
    shared: &Shared,
    key: &Bytes,
    end: End,
    count: usize,
) -> Result<Option<Vec<Bytes>>, CommandError> {
    modify(&shared.store, key, |l: &mut List| {
        if l.is_empty() {
            return Ok((None, false));
        }
        let n = count.min(l.len());
        let items: Vec<Bytes> = (0..n).filter_map(|_| l.pop(end)).collect();
        Ok((Some(items), n > 0))
    })
}

fn pop(ctx: &mut Ctx<'_>, a: &[Bytes], end: End) -> Result<Reply, CommandError> {
    if a.len() > 3 {
        return Err(CommandError::WrongArity(if end == End::Left {
            "lpop"
        } else {
            "rpop"
        }));
    }
    let Some(count) = a.get(2) else {
        return Ok(match pop_n(ctx.shared, &a[1], end, 1)? {
            Some(items) => items.first().map_or(Reply::Nil, bulk),
            None => Reply::Nil,
        });
    };
    let count = args::uint(count).map_err(|_| positive())?;
    Ok(match pop_n(ctx.shared, &a[1], end, count as usize)? {
        Some(items) => Reply::Array(items.iter().map(bulk).collect()),
        None => Reply::NilArray,
    })
}

/// `ERR value is out of range, must be positive`
pub(super) fn positive() -> CommandError {
    CommandError::err("value is out of range, must be positive")
}

pub fn lpop(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    pop(ctx, a, End::Left)
}

pub fn rpop(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    pop(ctx, a, End::Right)
}

/// `LLEN key`
pub fn llen(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let n = read(&ctx.shared.store, &a[1], |l: &List| l.len())?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `LRANGE key start stop`
pub fn lrange(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (start, stop) = (args::int(&a[2])?, args::int(&a[3])?);
    let items = read(&ctx.shared.store, &a[1], |l: &List| {
        match l.span(start, stop) {
            None => Vec::new(),
            Some((x, y)) => l.iter().skip(x).take(y - x + 1).map(bulk).collect(),
        }
    })?;
    Ok(Reply::Array(items.unwrap_or_default()))
}

/// `LINDEX key index`
pub fn lindex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let index = args::int(&a[2])?;
    let item = read(&ctx.shared.store, &a[1], |l: &List| l.get(index).cloned())?;
    Ok(item.flatten().map_or(Reply::Nil, Reply::Bulk))
}

/// `LSET key index element`
pub fn lset(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let index = args::int(&a[2])?;
    modify(&ctx.shared.store, &a[1], |l: &mut List| {
        if l.is_empty() {
            return Err(CommandError::err("no such key"));
        }
        if !l.set(index, owned(&a[3])) {
            return Err(CommandError::err("index out of range"));
        }
        Ok((Reply::Ok, true))
    })
}

/// `LREM key count element`
pub fn lrem(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let count = args::int(&a[2])?;
    modify(&ctx.shared.store, &a[1], |l: &mut List| {
        let n = l.remove(count, &a[3]);
        Ok((Reply::Int(n as i64), n > 0))
    })
}

/// `LTRIM key start stop`
pub fn ltrim(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (start, stop) = (args::int(&a[2])?, args::int(&a[3])?);
    modify(&ctx.shared.store, &a[1], |l: &mut List| {
        let before = l.len();
        l.trim(start, stop);
        Ok((Reply::Ok, l.len() != before))
    })
}

/// `LINSERT key BEFORE|AFTER pivot element`: the new length, -1 without the pivot, 0 without
/// the key.
pub fn linsert(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let before = if args::is(&a[2], "BEFORE") {
        true
    } else if args::is(&a[2], "AFTER") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let n = modify(&ctx.shared.store, &a[1], |l: &mut List| {
        if l.is_empty() {
            return Ok((0, false));
        }
        if l.insert(before, &a[3], owned(&a[4])) {
            Ok((l.len() as i64, true))
        } else {
            Ok((-1, false))
        }
    })?;
    Ok(Reply::Int(n))
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
pub fn lpos(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let mut opts = Args::new(a);
    opts.next_bytes()?;
    let item = opts.next_bytes()?;
    let (mut rank, mut count, mut maxlen) = (1i64, None::<usize>, 0usize);
    while !opts.is_empty() {
        if opts.eat("RANK") {
            rank = opts.next_int()?;
            if rank == 0 {
                return Err(CommandError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if opts.eat("COUNT") {
            let n = args::uint(opts.next_bytes()?)
                .map_err(|_| CommandError::err("COUNT can't be negative"))?;
            count = Some(n as usize);
        } else if opts.eat("MAXLEN") {
            let n = args::uint(opts.next_bytes()?)
                .map_err(|_| CommandError::err("MAXLEN can't be negative"))?;
            maxlen = n as usize;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let found = read(&ctx.shared.store, &a[1], |l: &List| {
        let want = match count {
            Some(0) => usize::MAX,
            Some(n) => n,
            None => 1,
        };
        let limit = if maxlen == 0 { usize::MAX } else { maxlen };
        let skip = (rank.unsigned_abs() - 1) as usize;
        let len = l.len();
        let matches = |(i, x): (usize, &Bytes)| (x == item).then_some(i);
        let hits: Vec<usize> = if rank > 0 {
            l.iter()
                .enumerate()
                .take(limit)
                .filter_map(matches)
                .skip(skip)
                .take(want)
                .collect()
        } else {
            l.iter()
                .enumerate()
                .rev()
                .take(limit)
                .filter_map(matches)
                .skip(skip)
                .take(want)
                .collect()
        };
        debug_assert!(hits.iter().all(|&i| i < len));
        hits
    })?;
    let hits = found.unwrap_or_default();
    Ok(match count {
        Some(_) => Reply::Array(hits.into_iter().map(|i| Reply::Int(i as i64)).collect()),
        None => hits.first().map_or(Reply::Nil, |&i| Reply::Int(i as i64)),
    })
}

/// Moves one item from `from`'s end `wherefrom` to `to`'s end `whereto`; `None` if `from` is
/// missing. Types are checked first, in Redis's order: the source (a missing source answers nil
/// whatever the destination holds), then the destination. A destination that changed type
/// meanwhile gets the item back at the source.
pub(super) fn move_one(
    shared: &Shared,
    from: &Bytes,
    to: &Bytes,
    wherefrom: End,
    whereto: End,
) -> Result<Option<Bytes>, CommandError> {
    match shared.store.get(from) {
        None => return Ok(None),
        Some(e) if !matches!(e.value, crate::cache::Value::List(_)) => {
            return Err(CommandError::WrongType)
        }
        Some(_) => {}
    }
    if wrong_type::<List>(&shared.store, to) {
        return Err(CommandError::WrongType);
    }
    if from == to {
        let item = modify(&shared.store, from, |l: &mut List| {
            let Some(item) = l.pop(wherefrom) else {
                return Ok((None, false));
            };
            l.push(whereto, item.clone());
            Ok((Some(item), true))
        })?;
        return Ok(item);
    }
    let Some(item) = pop_n(shared, from, wherefrom, 1)?.and_then(|v| v.into_iter().next()) else {
        return Ok(None);
    };
    if let Err(e) = push(shared, to, whereto, std::slice::from_ref(&item), false) {
        push(shared, from, wherefrom, std::slice::from_ref(&item), false)?;
        return Err(e);
    }
    Ok(Some(item))
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`
pub fn lmove(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (wherefrom, whereto) = (end(&a[3])?, end(&a[4])?);
    let item = move_one(ctx.shared, &a[1], &a[2], wherefrom, whereto)?;
    Ok(item.map_or(Reply::Nil, Reply::Bulk))
}

/// `RPOPLPUSH source destination`
pub fn rpoplpush(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let item = move_one(ctx.shared, &a[1], &a[2], End::Right, End::Left)?;
    Ok(item.map_or(Reply::Nil, Reply::Bulk))
}

#[cfg(test)]
mod tests;
