//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, SCAN, KEYS (the EXPIRE and TTL families
//! are [`super::expire`]).

use super::args::{self, Args};
use super::{CommandError, Ctx};
use crate::cache::Write;
use crate::glob;
use crate::protocol::Reply;
use bytes::Bytes;
use std::collections::BinaryHeap;

/// `DEL key [key ...]` and `UNLINK key [key ...]`
pub fn del(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let mut n = 0;
    for key in &a[1..] {
        n += ctx.shared.store.write(key, |cur| match cur {
            Some(_) => (Write::Remove, 1),
            None => (Write::Keep, 0),
        })?;
    }
    Ok(Reply::Int(n))
}

/// `EXISTS key [key ...]`: counts repeats, as Redis does.
pub fn exists(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let n = a[1..]
        .iter()
        .filter(|k| ctx.shared.store.get(k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

/// `TYPE key`
pub fn type_(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Simple(match ctx.shared.store.get(&a[1]) {
        None => "none",
        Some(e) => e.value.type_name(),
    }))
}

/// `KEYS pattern`
pub fn keys(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let pattern = &a[1];
    Ok(Reply::Array(
        ctx.shared
            .store
            .iter()
            .filter(|(k, _)| glob::matches(pattern, k, false))
            .map(|(k, _)| Reply::Bulk((*k).clone()))
            .collect(),
    ))
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
///
/// The cursor is a position in the store's 64-bit key-hash space: each call returns the `COUNT`
/// keys with the smallest hashes at or after the cursor, and the next cursor is just past the
/// last of them. So, as in Redis, a full iteration returns every key that was present for the
/// whole iteration, and a key is returned once (two keys of one hash, odds about n/2^64, could
/// be split across a call boundary). Each call walks the whole keyspace, so it costs O(n).
pub fn scan(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let cursor = std::str::from_utf8(&a[1])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| CommandError::err("invalid cursor"))?;
    let mut args = Args::new(a);
    args.next_bytes()?;
    let mut pattern: Option<&Bytes> = None;
    let mut count = 10usize;
    let mut type_filter: Option<String> = None;
    while let Some(opt) = args.peek() {
        args.next_bytes()?;
        let val = args.next_bytes()?;
        if args::is(opt, "MATCH") {
            pattern = Some(val);
        } else if args::is(opt, "COUNT") {
            match args::int(val)? {
                n if n >= 1 => count = n as usize,
                _ => return Err(CommandError::Syntax),
            }
        } else if args::is(opt, "TYPE") {
            type_filter = Some(String::from_utf8_lossy(val).to_ascii_lowercase());
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let store = &ctx.shared.store;
    // A max-heap of the `count` smallest hashes at or after the cursor.
    let mut heap: BinaryHeap<(u64, Bytes, &'static str)> = BinaryHeap::with_capacity(count + 1);
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
    Ok(Reply::Array(vec![
        Reply::text(next.to_string()),
        Reply::Array(picked.into_iter().map(|(_, k, _)| Reply::Bulk(k)).collect()),
    ]))
}
