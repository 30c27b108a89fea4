//! SORT and SORT_RO: the elements of a list, set or sorted set ordered as numbers (or as bytes
//! with ALPHA), optionally by weights read from other keys (`BY pattern`), windowed (`LIMIT`),
//! projected through other keys (`GET pattern`, `GET #` for the element), reversed (`DESC`)
//! and, for SORT, stored as a list (`STORE destination`), as Redis 7.0.15's `sort.c` does.
//!
//! # Rules kept from Redis
//! - Numeric order reads each weight as C's `strtod` would (an empty string is 0); a weight
//!   that is not a number fails the whole command. Equal weights order by the element's bytes.
//! - `BY` a pattern without `*` does not sort: a list and a sorted set keep their order (DESC
//!   reverses it), a set too, except when the result is stored (or in a script), where Redis
//!   sorts it by bytes so that the stored list does not depend on the set's layout.
//! - A `BY` key that is missing weighs 0 (numeric) or sorts first (ALPHA); a `GET` key that
//!   is missing, or of another type, gives nil (an empty string when stored).
//! - `key->field` in a pattern reads a hash field. BY and GET with a pattern need access to
//!   every key (the keys they read are not known before).

use super::collection::store as store_list;
use super::keyspace::lookup_read;
use super::{args, permit, CommandError, Ctx};
use crate::cache::{Store, Value};
use crate::protocol::Reply;
use crate::types::list::List;
use bytes::Bytes;
use std::cmp::Ordering;

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]`
pub fn sort(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    run(ctx, a, false)
}

/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]`
pub fn sort_ro(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    run(ctx, a, true)
}

#[derive(Default)]
struct Options {
    by: Option<Bytes>,
    dont_sort: bool,
    limit: (i64, i64),
    gets: Vec<Bytes>,
    desc: bool,
    alpha: bool,
    store: Option<Bytes>,
}

fn parse(ctx: &mut Ctx<'_>, a: &[Bytes], read_only: bool) -> Result<Options, CommandError> {
    let full_access = permit::key_filter(ctx, crate::acl::READ).is_none();
    let mut o = Options {
        limit: (0, -1),
        ..Options::default()
    };
    let mut j = 2;
    while j < a.len() {
        let left = a.len() - j - 1;
        let w = &a[j];
        if args::is(w, "ASC") {
            o.desc = false;
        } else if args::is(w, "DESC") {
            o.desc = true;
        } else if args::is(w, "ALPHA") {
            o.alpha = true;
        } else if args::is(w, "LIMIT") && left >= 2 {
            o.limit = (args::int(&a[j + 1])?, args::int(&a[j + 2])?);
            j += 2;
        } else if !read_only && args::is(w, "STORE") && left >= 1 {
            o.store = Some(a[j + 1].clone());
            j += 1;
        } else if args::is(w, "BY") && left >= 1 {
            let pattern = a[j + 1].clone();
            if !pattern.contains(&b'*') {
                o.dont_sort = true;
            } else if !full_access {
                return Err(CommandError::err(
                    "BY option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            o.by = Some(pattern);
            j += 1;
        } else if args::is(w, "GET") && left >= 1 {
            if !full_access {
                return Err(CommandError::err(
                    "GET option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            o.gets.push(a[j + 1].clone());
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// What a SORT reads from the key: its elements, and whether their order is the type's own
/// (list, sorted set) rather than arbitrary (set).
fn elements(store: &Store, key: &[u8]) -> Result<(Vec<Bytes>, bool), CommandError> {
    let Some(e) = lookup_read(store, key) else {
        return Ok((Vec::new(), true));
    };
    Ok(match &e.value {
        Value::List(c) => (c.read(|l| l.iter().cloned().collect()), true),
        Value::Set(c) => (c.read(|s| s.iter().cloned().collect()), false),
        Value::ZSet(c) => (c.read(|z| z.iter().map(|(_, m)| m.clone()).collect()), true),
        _ => return Err(CommandError::WrongType),
    })
}

fn run(ctx: &mut Ctx<'_>, a: &[Bytes], read_only: bool) -> Result<Reply, CommandError> {
    let mut o = parse(ctx, a, read_only)?;
    if let Some(dest) = &o.store {
        // The user's key patterns name the key as the user does.
        let named = crate::cache::databases::split(dest).1;
        permit::admit_key(ctx, named, crate::acl::WRITE)?;
    }
    let store = &ctx.shared.store;
    let (mut items, ordered) = elements(store, &a[1])?;
    if o.dont_sort && !ordered && (o.store.is_some() || ctx.client.script) {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    if o.dont_sort {
        if o.desc {
            items.reverse();
        }
    } else {
        items = sorted(store, items, &o)?;
    }
    let window = window(items.len(), o.limit);
    let picked = &items[window];
    let mut out: Vec<Option<Bytes>> = Vec::with_capacity(picked.len() * o.gets.len().max(1));
    for item in picked {
        if o.gets.is_empty() {
            out.push(Some(item.clone()));
        }
        for pattern in &o.gets {
            out.push(lookup(store, pattern, item));
        }
    }
    match &o.store {
        Some(dest) => {
            let n = out.len();
            let list = List::from_items(out.into_iter().map(Option::unwrap_or_default));
            store_list(store, dest, list)?;
            Ok(Reply::Int(n as i64))
        }
        None => Ok(Reply::Array(
            out.into_iter()
                .map(|v| v.map_or(Reply::Nil, Reply::Bulk))
                .collect(),
        )),
    }
}

/// The positions LIMIT offset count selects from `len` items (a negative offset is 0, a
/// negative count is the rest).
fn window(len: usize, (offset, count): (i64, i64)) -> std::ops::Range<usize> {
    let start = offset.max(0) as u64;
    if start >= len as u64 {
        return 0..0;
    }
    let start = start as usize;
    let end = if count < 0 {
        len
    } else {
        start
            .saturating_add(usize::try_from(count).unwrap_or(usize::MAX))
            .min(len)
    };
    start..end
}

/// Sorts `items` by their weights (themselves, or what BY reads), as Redis's `sortCompare`.
fn sorted(store: &Store, items: Vec<Bytes>, o: &Options) -> Result<Vec<Bytes>, CommandError> {
    let weight = |item: &Bytes| match &o.by {
        Some(p) => lookup(store, p, item),
        None => Some(item.clone()),
    };
    let mut keyed: Vec<(Bytes, Weight)> = Vec::with_capacity(items.len());
    for item in items {
        let w = weight(&item);
        let w = if o.alpha {
            Weight::Text(w.filter(|_| o.by.is_some()))
        } else {
            // A missing BY key weighs 0, as in Redis.
            Weight::Number(match w {
                Some(b) => strtod(&b).ok_or_else(|| {
                    CommandError::err("One or more scores can't be converted into double")
                })?,
                None => 0.0,
            })
        };
        keyed.push((item, w));
    }
    keyed.sort_by(|(ia, wa), (ib, wb)| {
        let cmp = match (wa, wb) {
            (Weight::Number(x), Weight::Number(y)) => x
                .partial_cmp(y)
                .map_or(Ordering::Equal, |c| c)
                .then_with(|| ia.cmp(ib)),
            // ALPHA by the elements themselves.
            (Weight::Text(None), Weight::Text(None)) if o.by.is_none() => ia.cmp(ib),
            (Weight::Text(x), Weight::Text(y)) => x.cmp(y),
            _ => Ordering::Equal,
        };
        if o.desc {
            cmp.reverse()
        } else {
            cmp
        }
    });
    Ok(keyed.into_iter().map(|(item, _)| item).collect())
}

enum Weight {
    Number(f64),
    /// ALPHA by a BY key (`None`: missing, sorts first); by the element itself when no BY.
    Text(Option<Bytes>),
}

/// What `pattern` names for `item` (Redis's `lookupKeyByPattern`): `#` is the item itself;
/// otherwise the first `*` is replaced by the item and the string at that key is read, or with
/// `key->field` a hash field. `None` for no `*`, a missing key or another type.
fn lookup(store: &Store, pattern: &[u8], item: &Bytes) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(item.clone());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let rest = &pattern[star + 1..];
    let (suffix, field) = match rest.windows(2).position(|w| w == b"->") {
        Some(at) if at + 2 < rest.len() => (&rest[..at], Some(&rest[at + 2..])),
        _ => (rest, None),
    };
    let mut key = Vec::with_capacity(star + item.len() + suffix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(item);
    key.extend_from_slice(suffix);
    let entry = store.get(&key)?;
    match (&entry.value, field) {
        (Value::Str(s), None) => Some(s.clone()),
        (Value::Hash(h), Some(f)) => h.get(f).cloned(),
        _ => None,
    }
}

/// A weight read as C's `strtod` reads a whole string: leading white space allowed, nothing
/// after the number, no overflow to infinity, no NaN; an empty string is 0.
fn strtod(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return Some(0.0);
    }
    let s = std::str::from_utf8(b).ok()?;
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let v: f64 = t.parse().ok()?;
    let spelled_inf = t.to_ascii_lowercase().contains("inf");
    if v.is_nan() || (v.is_infinite() && !spelled_inf) {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_read_as_strtod() {
        assert_eq!(strtod(b""), Some(0.0));
        assert_eq!(strtod(b" 1.5"), Some(1.5));
        assert_eq!(strtod(b"-3"), Some(-3.0));
        assert_eq!(strtod(b"1e3"), Some(1000.0));
        assert_eq!(strtod(b"inf"), Some(f64::INFINITY));
        for bad in [&b"1 "[..], b"abc", b"nan", b"1e999", b" "] {
            assert_eq!(strtod(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn limit_windows_as_redis() {
        assert_eq!(window(5, (0, -1)), 0..5);
        assert_eq!(window(5, (-3, 2)), 0..2);
        assert_eq!(window(5, (3, 10)), 3..5);
        assert_eq!(window(5, (5, 1)), 0..0);
        assert_eq!(window(5, (1, 0)), 1..1);
        assert_eq!(window(0, (0, -1)), 0..0);
        assert_eq!(window(5, (2, i64::MAX)), 2..5);
    }
}
