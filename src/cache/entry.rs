//! What the store holds for one key, and how much it weighs.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Bytes counted for one entry besides its key and value: moka's node, our `Arc<Entry>`, the
/// hash table slot and the frequency sketch share (measured at roughly 150-200 bytes per entry).
pub const ENTRY_OVERHEAD: usize = 176;
/// Bytes counted per field of a hash besides the field and value themselves.
pub const FIELD_OVERHEAD: usize = 48;

/// A value of one of the types the keyspace holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Bytes),
    Hash(Arc<HashMap<Bytes, Bytes>>),
    /// A JSON document, stored as its validated serialisation.
    Json(Bytes),
}

impl Value {
    /// The name `TYPE` answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::Json(_) => "ReJSON-RL",
        }
    }

    fn weight(&self) -> usize {
        match self {
            Value::Str(b) | Value::Json(b) => b.len(),
            Value::Hash(h) => h
                .iter()
                .map(|(k, v)| k.len() + v.len() + FIELD_OVERHEAD)
                .sum(),
        }
    }
}

/// One key's value and metadata. Shared as `Arc<Entry>`: moka hands out clones on every read.
///
/// An entry is immutable except for its `read` flag: a write builds a new entry.
#[derive(Debug)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in unix milliseconds, or `None` for no TTL.
    pub expire_at: Option<u64>,
    /// Tokens the answer cost to produce (`LLMSETNX ... TOKENS n`); each hit saves that many.
    pub tokens: u64,
    read: AtomicBool,
}

impl Entry {
    pub fn new(value: Value, expire_at: Option<u64>) -> Self {
        Entry {
            value,
            expire_at,
            tokens: 0,
            read: AtomicBool::new(false),
        }
    }

    pub fn with_tokens(mut self, tokens: u64) -> Self {
        self.tokens = tokens;
        self
    }

    /// A new entry with the same value and token count and another expiry (the `read` flag is
    /// carried over: re-timing an answer does not make it unread).
    pub fn retimed(&self, expire_at: Option<u64>) -> Self {
        Entry {
            value: self.value.clone(),
            expire_at,
            tokens: self.tokens,
            read: AtomicBool::new(self.was_read()),
        }
    }

    /// A fresh copy of `e` (value, expiry, tokens; unread).
    pub fn clone_of(e: &Entry) -> Entry {
        Entry::new(e.value.clone(), e.expire_at).with_tokens(e.tokens)
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        matches!(self.expire_at, Some(at) if at <= now_ms)
    }

    /// Records that a client read this entry. Cheap when already set: no write to a shared line.
    pub fn mark_read(&self) {
        if !self.read.load(Ordering::Relaxed) {
            self.read.store(true, Ordering::Relaxed);
        }
    }

    pub fn was_read(&self) -> bool {
        self.read.load(Ordering::Relaxed)
    }

    pub fn as_str(&self) -> Option<&Bytes> {
        match &self.value {
            Value::Str(b) => Some(b),
            _ => None,
        }
    }

    /// The weight moka counts against the byte budget.
    pub fn weight(key: &[u8], entry: &Entry) -> u32 {
        let w = key.len() + entry.value.weight() + ENTRY_OVERHEAD;
        u32::try_from(w).unwrap_or(u32::MAX)
    }
}

/// What moka stores for a key: a cell holding the current entry.
///
/// Overwriting a key with an entry of the same weight and the same expiry swaps the cell's
/// contents instead of inserting into moka: moka's insert (measured at 1.6-2 us with its
/// bookkeeping) dwarfs a swap, and neither the byte budget nor moka's expiry timer is affected
/// by the change. Anything else goes through a real moka insert.
#[derive(Debug)]
pub struct Slot {
    entry: arc_swap::ArcSwap<Entry>,
}

impl Slot {
    pub fn new(entry: Entry) -> Slot {
        Slot {
            entry: arc_swap::ArcSwap::from_pointee(entry),
        }
    }

    pub fn load(&self) -> Arc<Entry> {
        self.entry.load_full()
    }

    /// Replaces the entry if that needs no moka bookkeeping: same weight, same expiry. Returns
    /// the entry back otherwise.
    pub fn try_replace(&self, key: &[u8], entry: Entry) -> Result<(), Entry> {
        let cur = self.entry.load();
        if cur.expire_at == entry.expire_at
            && Entry::weight(key, &cur) == Entry::weight(key, &entry)
        {
            self.entry.store(Arc::new(entry));
            Ok(())
        } else {
            Err(entry)
        }
    }
}
