//! Hash commands: HSET / HMSET, HGET, HMGET, HGETALL, HDEL, HEXISTS, HLEN, HKEYS, HVALS, HINCRBY,
//! HINCRBYFLOAT, HSETNX, HSTRLEN, HRANDFIELD, HSCAN.
//!
//! A hash is a [`Value::Hash`]: an `Arc<HashMap>` inside an immutable [`Entry`]. A write builds a
//! new map (copied only when something changes) and a new entry that keeps the key's expiry, all
//! under [`Store::write`], so concurrent HSET / HDEL / HINCRBY on one key never lose an update.
//!
//! # Invariants
//! - No key holds an empty hash: the write that removes the last field removes the key, as in
//!   Redis (so `EXISTS`, `TYPE` and `DBSIZE` never see an empty hash).
//! - Field changes keep the key's TTL; only the generic expiry commands change it.
//!
//! Field order in HGETALL / HKEYS / HVALS is unspecified, as Redis documents it.

use super::args;
use super::cscan::{walk, ScanArgs};
use super::keyspace::{lookup_read, owned, write};
use super::{CommandError, Ctx};
use crate::cache::{Entry, Store, Value, Write};
use crate::protocol::parse::parse_i64;
use crate::protocol::reply::format_double;
use crate::protocol::Reply;
use crate::types::Rng;
use bytes::Bytes;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

type Fields = HashMap<Bytes, Bytes>;

/// The live hash at `key` for a read command: `Ok(None)` if the key is missing, WRONGTYPE if it
/// holds something else.
fn read_hash(store: &Store, key: &[u8]) -> Result<Option<Arc<Entry>>, CommandError> {
    match lookup_read(store, key) {
        None => Ok(None),
        Some(e) if matches!(e.value, Value::Hash(_)) => Ok(Some(e)),
        Some(_) => Err(CommandError::WrongType),
    }
}

/// The fields of an entry known to hold a hash.
fn fields(e: &Entry) -> &Fields {
    match &e.value {
        Value::Hash(h) => h,
        // `read_hash` and `modify` only pass hashes here.
        _ => empty(),
    }
}

fn empty() -> &'static Fields {
    static EMPTY: std::sync::OnceLock<Fields> = std::sync::OnceLock::new();
    EMPTY.get_or_init(HashMap::new)
}

/// Runs one read-modify-write on the hash at `key` (an absent key reads as an empty hash).
///
/// `change` sees the fields as a copy-on-write map: it calls `to_mut()` only when it changes
/// something, so a command that changes nothing copies nothing and leaves the entry (and its
/// `read` flag) alone. The result is stored with the key's old expiry, or the key is removed
/// when no field is left. A change that fails leaves the key as it was.
fn modify(
    store: &Store,
    key: &Bytes,
    change: impl FnOnce(&mut Cow<'_, Fields>) -> Result<Reply, CommandError>,
) -> Result<Reply, CommandError> {
    write(store, key, |cur| {
        let (current, expire_at) = match cur {
            None => (empty(), None),
            Some(e) => match &e.value {
                Value::Hash(h) => (&**h, e.expire_at),
                _ => return Err(CommandError::WrongType),
            },
        };
        let mut map = Cow::Borrowed(current);
        let reply = change(&mut map)?;
        let write = match map {
            Cow::Borrowed(_) => Write::Keep,
            Cow::Owned(m) if m.is_empty() => Write::Remove,
            Cow::Owned(m) => Write::Put(Entry::new(Value::Hash(Arc::new(m)), expire_at)),
        };
        Ok((write, reply))
    })
}

/// `HSET key field value [field value ...]`: the number of fields added.
pub fn hset(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    set_fields(ctx, a, "hset")
}

/// `HMSET key field value [field value ...]`: OK.
pub fn hmset(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    set_fields(ctx, a, "hmset")?;
    Ok(Reply::Ok)
}

/// Sets the field/value pairs of `a`; replies with the number of fields added.
fn set_fields(ctx: &mut Ctx<'_>, a: &[Bytes], name: &'static str) -> Result<Reply, CommandError> {
    if a.len() < 4 || !a.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity(name));
    }
    modify(&ctx.shared.store, &a[1], |map| {
        let map = map.to_mut();
        let mut added = 0;
        for pair in a[2..].chunks(2) {
            if map.insert(owned(&pair[0]), owned(&pair[1])).is_none() {
                added += 1;
            }
        }
        Ok(Reply::Int(added))
    })
}

/// `HSETNX key field value`: 1 if the field was set, 0 if it already existed.
pub fn hsetnx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    modify(&ctx.shared.store, &a[1], |map| {
        if map.contains_key(&a[2]) {
            return Ok(Reply::Int(0));
        }
        map.to_mut().insert(owned(&a[2]), owned(&a[3]));
        Ok(Reply::Int(1))
    })
}

/// `HGET key field`
pub fn hget(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(match read_hash(&ctx.shared.store, &a[1])? {
        None => Reply::Nil,
        Some(e) => fields(&e)
            .get(&a[2])
            .map_or(Reply::Nil, |v| Reply::Bulk(v.clone())),
    })
}

/// `HMGET key field [field ...]`: a nil for each missing field (all nils for a missing key).
pub fn hmget(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let entry = read_hash(&ctx.shared.store, &a[1])?;
    let map = entry.as_deref().map_or(empty(), fields);
    Ok(Reply::Array(
        a[2..]
            .iter()
            .map(|f| map.get(f).map_or(Reply::Nil, |v| Reply::Bulk(v.clone())))
            .collect(),
    ))
}

/// Reads the whole hash and shapes it with `each` (HGETALL, HKEYS, HVALS).
fn whole<T>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    each: impl Fn(&Bytes, &Bytes) -> T,
) -> Result<Vec<T>, CommandError> {
    let entry = read_hash(&ctx.shared.store, key)?;
    let map = entry.as_deref().map_or(empty(), fields);
    Ok(map.iter().map(|(k, v)| each(k, v)).collect())
}

/// `HGETALL key`: a map (RESP3) or a flat field/value array (RESP2); empty for a missing key.
pub fn hgetall(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    whole(ctx, &a[1], |k, v| {
        (Reply::Bulk(k.clone()), Reply::Bulk(v.clone()))
    })
    .map(Reply::Map)
}

/// `HKEYS key`
pub fn hkeys(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    whole(ctx, &a[1], |k, _| Reply::Bulk(k.clone())).map(Reply::Array)
}

/// `HVALS key`
pub fn hvals(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    whole(ctx, &a[1], |_, v| Reply::Bulk(v.clone())).map(Reply::Array)
}

/// `HDEL key field [field ...]`: the number of fields removed; removing the last field removes
/// the key.
pub fn hdel(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    modify(&ctx.shared.store, &a[1], |map| {
        let mut removed = 0;
        for f in &a[2..] {
            if map.contains_key(f) {
                map.to_mut().remove(f);
                removed += 1;
            }
        }
        Ok(Reply::Int(removed))
    })
}

/// `HEXISTS key field`: 1 or 0.
pub fn hexists(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let e = read_hash(&ctx.shared.store, &a[1])?;
    Ok(Reply::Int(
        e.is_some_and(|e| fields(&e).contains_key(&a[2])) as i64,
    ))
}

/// `HLEN key`: the number of fields, 0 for a missing key.
pub fn hlen(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let e = read_hash(&ctx.shared.store, &a[1])?;
    Ok(Reply::Int(e.map_or(0, |e| fields(&e).len()) as i64))
}

/// `HSTRLEN key field`: the length of the field's value, 0 if it is missing.
pub fn hstrlen(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let e = read_hash(&ctx.shared.store, &a[1])?;
    Ok(Reply::Int(
        e.map_or(0, |e| fields(&e).get(&a[2]).map_or(0, |v| v.len())) as i64,
    ))
}

/// `HINCRBY key field increment`: the new value. A missing field counts as 0.
///
/// Errors, worded as Redis: a bad increment is `ERR value is not an integer or out of range`
/// (checked before the key's type), a field holding something else than a 64-bit integer is
/// `ERR hash value is not an integer`, and a result outside i64 is
/// `ERR increment or decrement would overflow`.
pub fn hincrby(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let by = args::int(&a[3])?;
    modify(&ctx.shared.store, &a[1], |map| {
        let old = match map.get(&a[2]) {
            None => 0,
            Some(v) => {
                parse_i64(v).ok_or_else(|| CommandError::err("hash value is not an integer"))?
            }
        };
        let new = old.checked_add(by).ok_or(CommandError::Overflow)?;
        let mut buf = itoa::Buffer::new();
        let text = Bytes::copy_from_slice(buf.format(new).as_bytes());
        map.to_mut().insert(owned(&a[2]), text);
        Ok(Reply::Int(new))
    })
}

/// `HINCRBYFLOAT key field increment`: a missing field counts as 0; the result is written as
/// INCRBYFLOAT writes it (see [`super::counters`]). An infinite increment is refused before the
/// hash is looked at, an infinite result after, with Redis's two texts.
pub fn hincrbyfloat(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let by = args::float(&a[3])?;
    if by.is_infinite() {
        return Err(CommandError::err("value is NaN or Infinity"));
    }
    modify(&ctx.shared.store, &a[1], |map| {
        let old = match map.get(&a[2]) {
            None => 0.0,
            Some(v) => {
                args::float(v).map_err(|_| CommandError::err("hash value is not a float"))?
            }
        };
        let new = old + by;
        if !new.is_finite() {
            return Err(CommandError::err("increment would produce NaN or Infinity"));
        }
        let text = Bytes::from(format_double(new));
        map.to_mut().insert(owned(&a[2]), text.clone());
        Ok(Reply::Bulk(text))
    })
}

/// Hashes up to this many fields, each field and value up to [`LISTPACK_VALUE`] bytes, are what
/// Redis keeps as a listpack (`hash-max-listpack-entries` / `-value` defaults): HSCAN returns
/// them whole, as Redis does.
const LISTPACK_ENTRIES: usize = 128;
const LISTPACK_VALUE: usize = 64;

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`: fields and their values.
pub fn hscan(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let opts = ScanArgs::parse(a)?;
    let store = &ctx.shared.store;
    let Some(e) = read_hash(store, &a[1])? else {
        return Ok(Reply::Array(vec![
            Reply::from_static("0"),
            Reply::Array(Vec::new()),
        ]));
    };
    let map = fields(&e);
    let whole = map.len() <= LISTPACK_ENTRIES
        && map
            .iter()
            .all(|(k, v)| k.len() <= LISTPACK_VALUE && v.len() <= LISTPACK_VALUE);
    let members = map.iter().map(|(k, v)| (k, vec![Reply::Bulk(v.clone())]));
    Ok(walk(&opts, whole, members, |f| store.scan_hash(f)))
}

/// `HRANDFIELD key [count [WITHVALUES]]`: one field (nil for a missing key), or for a count
/// distinct fields (a positive count, the whole hash when it is the hash's size or more) or
/// fields that may repeat (a negative one); WITHVALUES pairs each with its value, as a flat
/// array in RESP2 and as two-element arrays in RESP3.
pub fn hrandfield(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let entry = |ctx: &Ctx<'_>| read_hash(&ctx.shared.store, &a[1]);
    let Some(c) = a.get(2) else {
        let e = entry(ctx)?;
        let map = e.as_deref().map_or(empty(), fields);
        let pick = Rng::new().picks(map.len(), 1);
        return Ok(match pick.first().and_then(|&i| map.keys().nth(i)) {
            Some(f) => Reply::Bulk(f.clone()),
            None => Reply::Nil,
        });
    };
    let (count, values) = args::random_count(c, &a[3..], "WITHVALUES")?;
    let e = entry(ctx)?;
    let all: Vec<(&Bytes, &Bytes)> = e.as_deref().map_or(empty(), fields).iter().collect();
    let picked = Rng::new()
        .picks(all.len(), count)
        .into_iter()
        .map(|i| all[i]);
    let resp3 = ctx.client.protocol == crate::protocol::Protocol::Resp3;
    let bulk = |b: &Bytes| Reply::Bulk(b.clone());
    Ok(Reply::Array(match (values, resp3) {
        (false, _) => picked.map(|(f, _)| bulk(f)).collect(),
        (true, false) => picked.flat_map(|(f, v)| [bulk(f), bulk(v)]).collect(),
        (true, true) => picked
            .map(|(f, v)| Reply::Array(vec![bulk(f), bulk(v)]))
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{Clock, EvictionKind};

    fn store() -> Store {
        Store::new(1 << 20, EvictionKind::Lru, Clock::default())
    }

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn hincrbyfloat_adds_and_words_its_errors_as_redis() {
        use crate::cmd::testing::{bulk, error, TestServer};
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["HINCRBYFLOAT", "h", "f", "2.5"]), bulk("2.5"));
        assert_eq!(c.run(&["HINCRBYFLOAT", "h", "f", "0.1"]), bulk("2.6"));
        assert_eq!(c.run(&["HINCRBYFLOAT", "h", "f", "-2.6"]), bulk("0"));
        assert_eq!(c.run(&["HINCRBYFLOAT", "h", "f", "1e2"]), bulk("100"));
        assert_eq!(c.run(&["HGET", "h", "f"]), bulk("100"));
        c.run(&[
            "HSET", "h", "left", " 1", "right", "1 ", "nul", "1\0x", "s", "abc",
        ]);
        for field in ["left", "right", "nul", "s"] {
            assert_eq!(
                c.run(&["HINCRBYFLOAT", "h", field, "1"]),
                error("ERR hash value is not a float")
            );
        }
        assert_eq!(
            c.run(&["HINCRBYFLOAT", "h", "f", "abc"]),
            error("ERR value is not a valid float")
        );
        assert_eq!(
            c.run(&["HINCRBYFLOAT", "h", "f", "+inf"]),
            error("ERR value is NaN or Infinity")
        );
        // Past the range of a double (Redis's long double reaches further before it refuses).
        c.run(&["HSET", "h", "big", "1.7e308"]);
        assert_eq!(
            c.run(&["HINCRBYFLOAT", "h", "big", "1.7e308"]),
            error("ERR increment would produce NaN or Infinity")
        );
        assert_eq!(c.run(&["HGET", "h", "big"]), bulk("1.7e308"));
        c.run(&["SET", "str", "x"]);
        assert_eq!(
            c.run(&["HINCRBYFLOAT", "str", "f", "1"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }

    #[test]
    fn a_change_that_changes_nothing_keeps_the_entry() {
        let s = store();
        let key = b("h");
        assert_eq!(
            modify(&s, &key, |m| {
                m.to_mut().insert(b("f"), b("1"));
                Ok(Reply::Ok)
            }),
            Ok(Reply::Ok)
        );
        let before = s.get(b"h").unwrap();
        assert_eq!(modify(&s, &key, |_| Ok(Reply::Int(0))), Ok(Reply::Int(0)));
        assert!(Arc::ptr_eq(&before, &s.get(b"h").unwrap()));
    }

    #[test]
    fn removing_the_last_field_removes_the_key_and_changes_keep_the_ttl() {
        let s = store();
        let key = b("h");
        let at = s.clock().now_ms() + 100_000;
        s.load(
            key.clone(),
            Entry::new(
                Value::Hash(Arc::new(HashMap::from([
                    (b("a"), b("1")),
                    (b("b"), b("2")),
                ]))),
                Some(at),
            ),
        );
        modify(&s, &key, |m| {
            m.to_mut().remove(&b("a"));
            Ok(Reply::Ok)
        })
        .unwrap();
        assert_eq!(s.get(b"h").unwrap().expire_at, Some(at));
        modify(&s, &key, |m| {
            m.to_mut().remove(&b("b"));
            Ok(Reply::Ok)
        })
        .unwrap();
        assert!(s.get(b"h").is_none());
    }

    /// LlamaIndex's `get_all` walks a hash with HSCAN until the cursor is 0.
    #[test]
    fn hscan_walks_small_and_big_hashes() {
        use crate::cmd::testing::{bulk, TestServer};
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["HSET", "small", "a", "1", "b", "2"]);
        let Reply::Array(r) = c.run(&["HSCAN", "small", "0", "MATCH", "a"]) else {
            panic!()
        };
        assert_eq!(r, vec![bulk("0"), Reply::Array(vec![bulk("a"), bulk("1")])]);
        let mut args = vec!["HSET".to_string(), "big".into()];
        for i in 0..200 {
            args.push(format!("f{i}"));
            args.push(format!("v{i}"));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.run(&refs);
        let (mut cursor, mut seen) = ("0".to_string(), HashMap::new());
        loop {
            let Reply::Array(r) = c.run(&["HSCAN", "big", &cursor, "COUNT", "50"]) else {
                panic!()
            };
            let (Reply::Bulk(next), Reply::Array(items)) = (&r[0], &r[1]) else {
                panic!()
            };
            for pair in items.chunks(2) {
                let (Reply::Bulk(f), Reply::Bulk(v)) = (&pair[0], &pair[1]) else {
                    panic!()
                };
                assert_eq!(&f[1..], &v[1..]);
                assert!(seen.insert(f.clone(), v.clone()).is_none());
            }
            cursor = String::from_utf8_lossy(next).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 200);
        assert_eq!(
            c.run(&["HSCAN", "nokey", "0"]),
            Reply::Array(vec![bulk("0"), Reply::Array(vec![])])
        );
        c.run(&["SET", "s", "x"]);
        assert!(c.run(&["HSCAN", "s", "0"]).is_error());
    }

    #[test]
    fn other_types_are_wrongtype() {
        let s = store();
        s.load(b("s"), Entry::new(Value::Str(b("x")), None));
        assert_eq!(
            modify(&s, &b("s"), |_| Ok(Reply::Ok)),
            Err(CommandError::WrongType)
        );
        assert_eq!(read_hash(&s, b"s").unwrap_err(), CommandError::WrongType);
        assert!(read_hash(&s, b"nope").unwrap().is_none());
    }
}
