//! What the store holds for one key, and how much it weighs.

use super::access::Access;
use super::pack::Packed;
use crate::types::{list::List, set::Set, zset::ZSet, Coll};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;

/// Bytes counted for one entry besides its key and value: moka's node and its access and write
/// order links, its hash table slot, the frequency sketch's share, the store's own table slot,
/// our `Arc<Slot>` and `Arc<Entry>`, the stored key, and the allocator's rounding. Measured,
/// not estimated: 400,000 SETs of 10-byte values (16-byte keys, `redis-benchmark -t set -n
/// 400000 -r 1000000000 -d 10 -P 16`) into the release build cost 551 bytes of resident memory
/// per key over the empty server, 525 besides the key and value (496 before the store's own
/// table, whose first measurement, 446, predates the numbered databases and the compression).
/// Counting less lets the resident set outgrow the byte budget (a 1 KB write flood into 64 MB
/// peaked at 1.33x when 176 was counted).
pub const ENTRY_OVERHEAD: usize = 528;
/// Bytes counted per field of a hash besides the field and value themselves.
pub const FIELD_OVERHEAD: usize = 48;

/// A value of one of the types the keyspace holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Bytes),
    /// A string kept compressed (see [`super::pack`]). Only the store holds one: each of its
    /// read paths hands the entry out as `Str` with the original bytes.
    Packed(Packed),
    Hash(Arc<HashMap<Bytes, Bytes>>),
    /// A JSON document, stored as its validated serialisation.
    Json(Bytes),
    /// A list, changed in place by writers (see `Coll` in the types module).
    List(Coll<List>),
    /// A set, changed in place by writers.
    Set(Coll<Set>),
    /// A sorted set, changed in place by writers.
    ZSet(Coll<ZSet>),
}

impl Value {
    /// A value that shares nothing changeable with this one: a collection is copied (a clone
    /// of `Value` shares the collection's cell, which writers change in place).
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::List(c) => Value::List(c.deep_copy()),
            Value::Set(c) => Value::Set(c.deep_copy()),
            Value::ZSet(c) => Value::ZSet(c.deep_copy()),
            other => other.clone(),
        }
    }

    /// The name `TYPE` answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) | Value::Packed(_) => "string",
            Value::Hash(_) => "hash",
            Value::Json(_) => "ReJSON-RL",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    fn weight(&self) -> usize {
        match self {
            Value::Str(b) | Value::Json(b) => b.len(),
            Value::Packed(p) => p.len(),
            Value::Hash(h) => h
                .iter()
                .map(|(k, v)| k.len() + v.len() + FIELD_OVERHEAD)
                .sum(),
            Value::List(c) => c.weight(),
            Value::Set(c) => c.weight(),
            Value::ZSet(c) => c.weight(),
        }
    }
}

/// One key's value and metadata. Shared as `Arc<Entry>`: moka hands out clones on every read.
///
/// An entry is immutable except for its [`Access`] record and the collection of a list, set
/// or sorted set (changed in place under the key's stripe lock): a write builds a new entry.
///
/// Time of an answer: it is fresh until `expire_at - grace_ms` and may be served stale for
/// `grace_ms` after that; `expire_at` is the physical expiry, what `TTL`/`PTTL` report and when
/// the key leaves. Without an expiry an entry is fresh for ever and `grace_ms` is zero.
#[derive(Debug)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in unix milliseconds, or `None` for no TTL.
    pub expire_at: Option<u64>,
    /// When the value was written, unix milliseconds; 0 until the store stamps it (see
    /// [`Entry::stamped`]). Re-timing (`EXPIRE`, `PERSIST`) keeps it: the value is as old as before.
    pub stored_at: u64,
    /// The stale window at the end of the entry's life (`LLMSETNX ... GRACE s`), in ms; zero
    /// without an expiry. The writer sets the expiry as fresh life plus grace, so the window
    /// never starts before `stored_at`.
    pub grace_ms: u64,
    /// Tokens the answer cost to produce (`LLMSETNX ... TOKENS n`); each hit saves that many.
    pub tokens: u64,
    /// 0 for a value of this node's own. Otherwise the entry is a copy of an answer the shared
    /// tier holds (read from it, or stored by this node and accepted by it), which LLM reads
    /// take from the tier again after this unix ms; such copies are not journaled (the tier
    /// is their durable home) and are dropped whenever invalidations may have been missed.
    pub near_until: u64,
    access: Access,
    /// Set on an entry the store unpacked for a reader: the stored entry it was read from,
    /// whose value is the packed form of this one's. Reads are recorded on the stored entry
    /// (it is the key's), its weight is this entry's, and storing this value again (a
    /// re-timing) reuses its frame instead of compressing anew. A stored entry has none.
    origin: Option<Arc<Entry>>,
}

impl Entry {
    pub fn new(value: Value, expire_at: Option<u64>) -> Self {
        Entry {
            value,
            expire_at,
            stored_at: 0,
            grace_ms: 0,
            tokens: 0,
            near_until: 0,
            access: Access::new(0),
            origin: None,
        }
    }

    pub fn with_tokens(mut self, tokens: u64) -> Self {
        self.tokens = tokens;
        self
    }

    /// The entry with a stale window of `grace_ms` after its fresh life. An entry without an
    /// expiry has no stale window (it never goes stale), so the grace is dropped.
    pub fn with_grace(mut self, grace_ms: u64) -> Self {
        self.grace_ms = if self.expire_at.is_some() {
            grace_ms
        } else {
            0
        };
        self
    }

    /// The entry as a copy of a shared-tier answer, to be read from the tier again after
    /// `near_until` (unix ms, non-zero).
    pub fn near_copy(mut self, near_until: u64) -> Self {
        self.near_until = near_until.max(1);
        self
    }

    /// Whether this is a copy of a shared-tier answer (see [`Entry::near_until`]).
    pub fn is_near_copy(&self) -> bool {
        self.near_until != 0
    }

    /// The entry with a known write time (loaded from disk), instead of being stamped on write.
    pub fn with_stored_at(mut self, stored_at: u64) -> Self {
        self.stored_at = stored_at;
        self
    }

    /// The entry as the store keeps it: written at `now_ms` unless it already carries its write
    /// time (a re-timed or loaded entry).
    /// This entry with a read history given by hand (see [`Access::given`]).
    pub fn with_access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    pub fn stamped(mut self, now_ms: u64) -> Self {
        if self.stored_at == 0 {
            self.stored_at = now_ms;
        }
        self.access.date(now_ms);
        self
    }

    /// A new entry with the same value, write time and token count and another expiry (the
    /// `read` flag is carried over: re-timing an answer does not make it unread). The new expiry
    /// is the end of its freshness: whoever sets a lifetime by hand sets the whole of it, so the
    /// stale window is dropped.
    pub fn retimed(&self, expire_at: Option<u64>) -> Self {
        Entry {
            value: self.value.clone(),
            expire_at,
            stored_at: self.stored_at,
            grace_ms: 0,
            tokens: self.tokens,
            near_until: self.near_until,
            access: Access::carried(self.access()),
            origin: self.origin.clone(),
        }
    }

    /// A fresh copy of `e` (value, times, tokens; unread).
    pub fn clone_of(e: &Entry) -> Entry {
        Entry {
            value: e.value.clone(),
            expire_at: e.expire_at,
            stored_at: e.stored_at,
            grace_ms: e.grace_ms,
            tokens: e.tokens,
            near_until: e.near_until,
            access: Access::new(0),
            origin: None,
        }
    }

    /// The entry a reader sees of `stored`, whose packed value reads as `plain`.
    pub(crate) fn unpacked(stored: &Arc<Entry>, plain: Bytes) -> Entry {
        Entry {
            value: Value::Str(plain),
            expire_at: stored.expire_at,
            stored_at: stored.stored_at,
            grace_ms: stored.grace_ms,
            tokens: stored.tokens,
            near_until: stored.near_until,
            access: Access::new(0),
            origin: Some(stored.clone()),
        }
    }

    /// The entry the store holds for `e`: `e` itself, or for an entry unpacked for a reader,
    /// the stored one it was read from. Stable across reads, so it can say whether two reads
    /// saw the same write (each read of a compressed value makes a new unpacked entry).
    pub fn stored_of(e: &Arc<Entry>) -> &Arc<Entry> {
        e.origin.as_ref().unwrap_or(e)
    }

    /// The frame this entry's value was unpacked from, if it was and still reads as that
    /// frame says (same length: an entry is not meant to have its value replaced).
    pub(crate) fn packed_origin(&self) -> Option<&Packed> {
        let Value::Packed(p) = &self.origin.as_ref()?.value else {
            return None;
        };
        match &self.value {
            Value::Str(b) if p.plain_len() == Some(b.len() as u64) => Some(p),
            _ => None,
        }
    }

    /// This entry as the store keeps it, holding `value` (the packed form of its own value,
    /// or that value itself): everything else is kept, the link to a stored entry dropped.
    pub(crate) fn into_stored(mut self, value: Option<Value>) -> Entry {
        if let Some(v) = value {
            self.value = v;
        }
        self.origin = None;
        self
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        matches!(self.expire_at, Some(at) if at <= now_ms)
    }

    /// When the entry stops being fresh (unix ms), or `None` if it never does.
    pub fn fresh_until(&self) -> Option<u64> {
        self.expire_at.map(|at| at.saturating_sub(self.grace_ms))
    }

    /// Whether the entry is still fresh at `now_ms` (past that it is stale, within its grace).
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        self.fresh_until().is_none_or(|until| now_ms < until)
    }

    /// How long ago the value was written, in ms (0 for a time not yet stamped or in the future).
    pub fn age_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.stored_at)
    }

    /// Records that a client read this entry at `now_ms` (see [`Access::read`]).
    pub fn mark_read(&self, now_ms: u64) {
        self.access().read(now_ms);
    }

    pub fn was_read(&self) -> bool {
        self.access().was_read()
    }

    /// How this entry has been read: idle time and LFU counter (`OBJECT IDLETIME` / `FREQ`);
    /// of an unpacked entry, its stored entry's.
    pub fn access(&self) -> &Access {
        match &self.origin {
            Some(o) => o.access(),
            None => &self.access,
        }
    }

    pub fn as_str(&self) -> Option<&Bytes> {
        match &self.value {
            Value::Str(b) => Some(b),
            _ => None,
        }
    }

    /// The weight moka counts against the byte budget: of a compressed string, its frame's
    /// length (an unpacked entry weighs what its stored entry does).
    pub fn weight(key: &[u8], entry: &Entry) -> u32 {
        if let Some(o) = &entry.origin {
            return Entry::weight(key, o);
        }
        let w = key.len() + entry.value.weight() + ENTRY_OVERHEAD;
        u32::try_from(w).unwrap_or(u32::MAX)
    }
}

/// What moka stores for a key: a cell holding the current entry, and the key itself (the
/// store's own table finds slots by it, see the cache's `index` module).
///
/// Overwriting a key with an entry of the same weight and the same expiry swaps the cell's
/// contents instead of inserting into moka: moka's insert (measured at 1.6-2 us with its
/// bookkeeping) dwarfs a swap, and neither the byte budget nor moka's expiry timer is affected
/// by the change. Anything else goes through a real moka insert.
#[derive(Debug)]
pub struct Slot {
    /// A lock rather than an `ArcSwap`: a swap of an `ArcSwap` walks every thread's debt list
    /// (measured at 6% of a SET -P 16 run), and a read of either costs about the same.
    entry: parking_lot::Mutex<Arc<Entry>>,
    key: Arc<[u8]>,
}

impl Slot {
    pub fn new(key: Arc<[u8]>, entry: Entry) -> Slot {
        Slot {
            entry: parking_lot::Mutex::new(Arc::new(entry)),
            key,
        }
    }

    pub fn load(&self) -> Arc<Entry> {
        self.entry.lock().clone()
    }

    pub fn key(&self) -> &Arc<[u8]> {
        &self.key
    }

    /// Replaces the entry if that needs no moka bookkeeping: same weight, same expiry. Returns
    /// the entry back otherwise.
    pub fn try_replace(&self, key: &[u8], entry: Entry) -> Result<(), Entry> {
        let mut cur = self.entry.lock();
        if cur.expire_at == entry.expire_at
            && Entry::weight(key, &cur) == Entry::weight(key, &entry)
        {
            let old = std::mem::replace(&mut *cur, Arc::new(entry));
            drop(cur);
            // The old value is freed (if this was its last reference) outside the lock.
            drop(old);
            Ok(())
        } else {
            Err(entry)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(expire_at: Option<u64>, grace_ms: u64) -> Entry {
        Entry::new(Value::Str(Bytes::from_static(b"v")), expire_at)
            .with_grace(grace_ms)
            .stamped(1_000)
    }

    /// EX 10 GRACE 20 stored at 1 s: fresh until 11 s, stale until 31 s, then gone.
    #[test]
    fn an_answer_walks_from_fresh_through_stale_to_expired() {
        let e = answer(Some(31_000), 20_000);
        assert_eq!(e.fresh_until(), Some(11_000));
        assert!(e.is_fresh(10_999) && !e.is_expired(10_999));
        assert!(!e.is_fresh(11_000) && !e.is_expired(11_000));
        assert!(!e.is_fresh(30_999) && !e.is_expired(30_999));
        assert!(e.is_expired(31_000));
        assert_eq!(e.age_ms(4_500), 3_500);
    }

    #[test]
    fn without_an_expiry_an_entry_is_always_fresh_and_has_no_grace() {
        let e = answer(None, 20_000);
        assert_eq!(e.grace_ms, 0);
        assert_eq!(e.fresh_until(), None);
        assert!(e.is_fresh(u64::MAX));
    }

    /// The collection variants cost the string path nothing: a `Value` is no bigger than a
    /// string's `Bytes` plus the tag, as before lists, sets and sorted sets.
    #[test]
    fn a_value_is_no_bigger_than_before_the_collections() {
        assert!(std::mem::size_of::<Value>() <= std::mem::size_of::<Bytes>() + 8);
    }

    /// EXPIRE sets the whole remaining life: the stale window goes, the write time stays.
    #[test]
    fn retiming_keeps_the_write_time_and_drops_the_grace() {
        let e = answer(Some(31_000), 20_000).retimed(Some(50_000));
        assert_eq!((e.stored_at, e.grace_ms), (1_000, 0));
        assert_eq!(e.fresh_until(), Some(50_000));
        assert_eq!(e.stamped(9_000).stored_at, 1_000);
    }
}
