//! How the list, set and sorted-set commands read and change their values: one generic read and
//! one generic read-modify-write over a collection kept in a cell (see the types module).
//!
//! # Invariants
//! - No key holds an empty collection: a change that empties one removes the key, as in Redis.
//! - A change keeps the key's TTL; a change that fails (its closure returns an error) must not
//!   have changed anything before failing, and leaves the entry alone.
//! - A change that changes nothing leaves the entry (and its `read` flag) alone.

use super::keyspace::{lookup_read, write};
use super::CommandError;
use crate::cache::{Entry, Store, Value, Write};
use crate::types::{list::List, set::Set, zset::ZSet, Coll, Weigh};
use bytes::Bytes;

/// A collection type a key can hold.
pub trait Kind: Weigh + Default + Sized {
    fn of(v: &Value) -> Option<&Coll<Self>>;
    fn wrap(c: Coll<Self>) -> Value;
    fn is_empty(&self) -> bool;
}

impl Kind for List {
    fn of(v: &Value) -> Option<&Coll<Self>> {
        match v {
            Value::List(c) => Some(c),
            _ => None,
        }
    }
    fn wrap(c: Coll<Self>) -> Value {
        Value::List(c)
    }
    fn is_empty(&self) -> bool {
        List::is_empty(self)
    }
}

impl Kind for Set {
    fn of(v: &Value) -> Option<&Coll<Self>> {
        match v {
            Value::Set(c) => Some(c),
            _ => None,
        }
    }
    fn wrap(c: Coll<Self>) -> Value {
        Value::Set(c)
    }
    fn is_empty(&self) -> bool {
        Set::is_empty(self)
    }
}

impl Kind for ZSet {
    fn of(v: &Value) -> Option<&Coll<Self>> {
        match v {
            Value::ZSet(c) => Some(c),
            _ => None,
        }
    }
    fn wrap(c: Coll<Self>) -> Value {
        Value::ZSet(c)
    }
    fn is_empty(&self) -> bool {
        ZSet::is_empty(self)
    }
}

/// Reads the collection at `key` for a read command (counted as a keyspace hit or miss):
/// `Ok(None)` if the key is missing, WRONGTYPE if it holds another type.
pub fn read<T: Kind, R>(
    store: &Store,
    key: &[u8],
    f: impl FnOnce(&T) -> R,
) -> Result<Option<R>, CommandError> {
    match lookup_read(store, key) {
        None => Ok(None),
        Some(e) => match T::of(&e.value) {
            Some(c) => Ok(Some(c.read(f))),
            None => Err(CommandError::WrongType),
        },
    }
}

/// Whether `key` holds another type than `T` (a missing key does not).
pub fn wrong_type<T: Kind>(store: &Store, key: &[u8]) -> bool {
    store.get(key).is_some_and(|e| T::of(&e.value).is_none())
}

/// One read-modify-write of the collection at `key`, under the key's stripe lock. A missing key
/// reads as an empty collection. `change` returns its result and whether it changed anything.
pub fn modify<T: Kind, R>(
    store: &Store,
    key: &Bytes,
    change: impl FnOnce(&mut T) -> Result<(R, bool), CommandError>,
) -> Result<R, CommandError> {
    write(store, key, |cur| {
        let Some(e) = cur else {
            let mut fresh = T::default();
            let (r, changed) = change(&mut fresh)?;
            let w = if changed && !fresh.is_empty() {
                Write::Put(Entry::new(T::wrap(Coll::new(fresh)), None))
            } else {
                Write::Keep
            };
            return Ok((w, r));
        };
        let Some(c) = T::of(&e.value) else {
            return Err(CommandError::WrongType);
        };
        let (next, out) = c.change(change);
        let (r, changed) = out?;
        let w = if !changed {
            Write::Keep
        } else if next.read(|t| t.is_empty()) {
            Write::Remove
        } else {
            Write::Put(Entry::new(T::wrap(next), e.expire_at))
        };
        Ok((w, r))
    })
}

/// Stores `value` at `key` whatever the key held, without a TTL (the STORE commands), or
/// removes the key for an empty collection.
pub fn store<T: Kind>(store: &Store, key: &Bytes, value: T) -> Result<(), CommandError> {
    write(store, key, |_| {
        let w = if value.is_empty() {
            Write::Remove
        } else {
            Write::Put(Entry::new(T::wrap(Coll::new(value)), None))
        };
        Ok((w, ()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{Clock, EvictionKind};
    use crate::types::list::End;
    use std::sync::Arc;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    /// A push changes the list moka holds in place: no copy of the items, and the entry moka
    /// counts carries the new weight.
    #[test]
    fn a_push_changes_the_list_in_place_and_the_weight_follows() {
        let s = Store::new(1 << 20, EvictionKind::Lru, Clock::default());
        let key = b("l");
        let push = |v: &str| {
            modify::<List, _>(&s, &key, |l| {
                l.push(End::Right, b(v));
                Ok(((), true))
            })
        };
        push("a").unwrap();
        let before = s.get(b"l").unwrap();
        let used = s.used_bytes();
        push("bb").unwrap();
        let after = s.get(b"l").unwrap();
        let (Value::List(x), Value::List(y)) = (&before.value, &after.value) else {
            panic!("lists")
        };
        // The older entry sees the change: the same cell, not a copy.
        assert_eq!(x.read(|l| l.len()), 2);
        assert!(x == y);
        assert!(y.weight() > x.weight());
        s.run_maintenance();
        assert!(s.used_bytes() > used, "{} <= {used}", s.used_bytes());
        assert!(!Arc::ptr_eq(&before, &after));
    }

    #[test]
    fn emptying_removes_the_key_keeps_the_ttl_and_failures_change_nothing() {
        let s = Store::new(1 << 20, EvictionKind::Lru, Clock::default());
        let key = b("l");
        let at = s.clock().now_ms() + 100_000;
        s.load(
            key.clone(),
            Entry::new(
                Value::List(Coll::new(List::from_items([b("a"), b("b")]))),
                Some(at),
            ),
        );
        let pop = || {
            modify::<List, _>(&s, &key, |l| {
                let v = l.pop(End::Left);
                Ok((v, true))
            })
        };
        assert_eq!(pop().unwrap(), Some(b("a")));
        assert_eq!(s.get(b"l").unwrap().expire_at, Some(at));
        let failed: Result<(), _> = modify::<List, _>(&s, &key, |_| Err(CommandError::Syntax));
        assert_eq!(failed, Err(CommandError::Syntax));
        assert_eq!(pop().unwrap(), Some(b("b")));
        assert!(s.get(b"l").is_none());
        s.load(b("s"), Entry::new(Value::Str(b("x")), None));
        assert_eq!(
            modify::<Set, _>(&s, &b("s"), |_| Ok(((), true))),
            Err(CommandError::WrongType)
        );
        assert!(wrong_type::<ZSet>(&s, b"s") && !wrong_type::<ZSet>(&s, b"none"));
    }

    /// A collection weighs against the byte budget as it grows: a list pushed past the budget
    /// is evicted like any key, and an expired one reads as missing (and is created anew).
    #[test]
    fn collections_evict_and_expire_like_strings() {
        let s = Store::new(64 * 1024, EvictionKind::Lru, Clock::default());
        let key = b("big");
        for i in 0..2_000 {
            let item = Bytes::from(vec![b'x'; 100 + i % 2]);
            modify::<List, _>(&s, &key, |l| {
                l.push(End::Right, item);
                Ok(((), true))
            })
            .unwrap();
            s.run_maintenance();
        }
        // 2,000 items of 100 bytes cannot fit in 64 KB: the list was evicted on the way.
        let len = s.get(b"big").map_or(0, |e| match &e.value {
            Value::List(c) => c.read(|l| l.len()),
            _ => 0,
        });
        assert!(len < 2_000, "{len}");
        assert!(s.used_bytes() <= 64 * 1024, "{}", s.used_bytes());

        let clock = Clock::new();
        let s = Store::new(1 << 20, EvictionKind::Lru, clock.clone());
        let at = clock.now_ms() + 1_000;
        s.load(
            b("t"),
            Entry::new(Value::Set(Coll::new(Set::from_members([b("a")]))), Some(at)),
        );
        clock.advance(1_001);
        assert!(read::<Set, _>(&s, b"t", |x| x.len()).unwrap().is_none());
        let added = modify::<Set, _>(&s, &b("t"), |x| Ok((x.insert(b("b")), true))).unwrap();
        assert!(added);
        let e = s.get(b"t").unwrap();
        assert_eq!(e.expire_at, None);
    }
}
