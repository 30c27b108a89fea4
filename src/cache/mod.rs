//! The keyspace: a facade over moka that adds Redis semantics.
//!
//! - [`entry`]: what one key holds and how much it weighs against the byte budget.
//! - [`clock`]: wall-clock milliseconds that tests can advance.
//! - [`stats`]: counters shared with INFO and LLMSTATS.
//! - [`flight`]: single-flight leases and the followers waiting on them (LLMGET / LLMSETNX).
//! - [`fresh`]: whether a stored answer is fresh, stale but servable, or neither, for a caller.
//! - [`pack`]: transparent compression of string values (zstd, dictionaries per key prefix).
//!
//! # Invariants
//! - A read never returns an expired entry: every read checks `expire_at` against the [`Clock`]
//!   and removes what has expired (moka's own timer, on `Instant`, only reclaims memory sooner).
//! - Every write goes through [`Store::write`], which holds the key's stripe lock while it reads
//!   the current entry, decides, applies the change to moka and hands it to the [`Journal`]. So a
//!   read-modify-write (INCR, SET NX, HSET, ...) is atomic, and the journal sees each key's changes
//!   in the order they were applied.
//! - moka runs no code of ours while holding its own locks except the removal listener, which
//!   only touches atomics and queues evicted keys; [`Store::run_maintenance`] journals those
//!   under the keys' stripe locks.
//! - Every change also reaches the [`Observer`] (the search indexes) under the same stripe lock,
//!   so per key it sees them in order; evictions and moka's own expirations reach it through
//!   [`Store::run_maintenance`], under the key's stripe lock and only if the key is still absent.
//! - A key's value lives in a [`Slot`]: an overwrite with the same weight and expiry swaps the
//!   slot's entry instead of inserting into moka (see [`Slot::try_replace`]). Reads find slots
//!   in the store's own table (the `index` module: it holds what moka holds); moka hears of a
//!   key's use at most once a second.
//! - A long string may be stored compressed ([`Value::Packed`], weighed at its compressed size);
//!   every read path ([`Store::get`], [`Store::with_locked`], the entry [`Store::write`]'s
//!   `decide` sees, [`Store::iter`]) hands it out as the original bytes. The observer sees
//!   the original of every write; the journal sees the compressed form.

pub mod access;
mod backend;
mod budget;
pub mod clock;
pub mod databases;
pub mod entry;
pub mod flight;
pub mod fresh;
mod hooks;
mod index;
mod loading;
pub mod pack;
mod packing;
pub mod stats;
pub mod watch;

pub use clock::Clock;
pub use entry::{Entry, Slot, Value};
pub use hooks::{Journal, Observer, Observers};
pub use pack::Codec;
pub use stats::Stats;

use ahash::RandomState;
use arc_swap::ArcSwap;
use bytes::Bytes;
use std::sync::{Arc, Mutex, OnceLock};

/// How many stripe locks serialise writers; a power of two.
const STRIPES: usize = 1024;

/// Which entries moka evicts when the byte budget is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictionKind {
    /// moka's TinyLFU: admission by frequency, so a burst of one-off keys cannot flush the hot
    /// set. A brand-new key may be refused when the cache is full of keys used more often.
    TinyLfu,
    /// Plain least-recently-used: a new key always gets in.
    Lru,
    /// Nothing is evicted (Redis's `noeviction`): past the budget, the commands that would grow
    /// memory are refused with `-OOM` (see [`Store::refuses_growth`]).
    NoEviction,
}

/// A write refused by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// Persistence failed and the store refuses writes rather than pretend they are durable.
    NotDurable(String),
}

impl From<WriteError> for crate::protocol::Reply {
    fn from(e: WriteError) -> Self {
        match e {
            // The journal words the whole error line (MISCONF ..., LOADING ...).
            WriteError::NotDurable(line) => crate::protocol::Reply::error(line),
        }
    }
}

/// What a write decided to do with the key.
pub enum Write {
    /// Leave the key as it is.
    Keep,
    /// Store this entry (replacing any other).
    Put(Entry),
    /// Remove the key.
    Remove,
}

/// moka's table hashed with ahash: keeps hash-flooding resistance (random keys per process)
/// at a fraction of SipHash's cost on every lookup.
type Cache = moka::sync::Cache<Arc<[u8]>, Arc<Slot>, RandomState>;

/// The keyspace. Cheap to share: clone the `Arc<Store>`.
pub struct Store {
    /// Swapped whole by [`Store::resize`]; every other access loads the current one.
    cache: ArcSwap<Cache>,
    /// Whether the current `cache`'s removal listener keeps `index` in step (a cache replaced by
    /// [`Store::resize`] is told to stop: its slots now belong to the next one).
    listening: Mutex<Arc<std::sync::atomic::AtomicBool>>,
    /// Every key's slot, as moka holds it: reads look keys up here (see [`index`]).
    index: Arc<index::Index>,
    stripes: Box<[Mutex<()>]>,
    clock: Clock,
    stats: Arc<Stats>,
    /// The byte budget and eviction policy the current `cache` was built with.
    budget: Mutex<(u64, EvictionKind)>,
    /// Under [`EvictionKind::NoEviction`] the byte budget, past which growth is refused;
    /// `u64::MAX` under the evicting policies.
    oom_limit: std::sync::atomic::AtomicU64,
    journal: Arc<OnceLock<Arc<dyn Journal>>>,
    observer: Arc<OnceLock<Arc<dyn Observer>>>,
    /// Keys moka evicted (or expired on its own timer), waiting to be journaled as deletions and
    /// reported to the observer (see [`Store::run_maintenance`]).
    evicted: Arc<Mutex<Vec<backend::Removed>>>,
    /// Held for the whole of [`Store::run_maintenance`]: a caller waits for a run in progress
    /// (moka skips its own pass while another thread holds its housekeeping), then runs its own.
    maintaining: Mutex<()>,
    /// Seeded once per process: stripe choice and SCAN cursor positions.
    hasher: RandomState,
    /// Compresses long strings as they are stored and reads them back.
    codec: Arc<Codec>,
    /// Set once a key of a database other than 0 may be stored ([`databases`]).
    numbered: std::sync::atomic::AtomicBool,
}

impl Store {
    /// A store bounded to `max_bytes` (keys, values and per-entry overhead).
    pub fn new(max_bytes: u64, eviction: EvictionKind, clock: Clock) -> Store {
        let stats = Arc::new(Stats::default());
        let journal: Arc<OnceLock<Arc<dyn Journal>>> = Arc::new(OnceLock::new());
        let journal_for_codec = journal.clone();
        let observer: Arc<OnceLock<Arc<dyn Observer>>> = Arc::new(OnceLock::new());
        let evicted = Arc::new(Mutex::new(Vec::new()));
        let index = Arc::new(index::Index::new());
        let hooks = backend::Hooks {
            journal: journal.clone(),
            observer: observer.clone(),
            evicted: evicted.clone(),
            index: index.clone(),
            listening: Arc::new(true.into()),
        };
        let cache = backend::build(max_bytes, eviction, &clock, &stats, &hooks);
        let stripes = (0..STRIPES).map(|_| Mutex::new(())).collect();
        Store {
            cache: ArcSwap::from_pointee(cache),
            listening: Mutex::new(hooks.listening),
            index,
            stripes,
            clock,
            stats,
            budget: Mutex::new((max_bytes, eviction)),
            oom_limit: budget::oom_limit(max_bytes, eviction).into(),
            maintaining: Mutex::new(()),
            journal,
            observer,
            evicted,
            hasher: RandomState::new(),
            codec: Arc::new(Codec::new(journal_for_codec)),
            numbered: false.into(),
        }
    }

    /// The compression codec (its policy, dictionaries and counters).
    pub fn codec(&self) -> &Arc<Codec> {
        &self.codec
    }

    /// Attaches the journal that every later change is reported to. Only the first call counts.
    pub fn set_journal(&self, journal: Arc<dyn Journal>) {
        let _ = self.journal.set(journal);
    }

    /// Attaches the observer that every later change is reported to. Only the first call counts.
    pub fn set_observer(&self, observer: Arc<dyn Observer>) {
        let _ = self.observer.set(observer);
    }

    fn observer(&self) -> Option<&Arc<dyn Observer>> {
        self.observer.get()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// Every stripe lock, in order (FLUSHALL, resizing).
    fn lock_all(&self) -> Vec<std::sync::MutexGuard<'_, ()>> {
        self.stripes
            .iter()
            .map(|m| match m.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            })
            .collect()
    }

    /// Bytes counted against the budget (after pending maintenance).
    pub fn used_bytes(&self) -> u64 {
        self.cache.load().weighted_size()
    }

    /// Number of keys, after the pending maintenance has run (so it is exact for what moka
    /// holds; keys past their TTL that no read has touched yet still count, as in Redis). The
    /// evictions that maintenance makes reach the journal and the observers before this returns,
    /// so the count agrees with the indexes that follow the store.
    pub fn len(&self) -> u64 {
        self.run_maintenance();
        self.cache.load().entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs moka's maintenance (evictions, expirations and their notifications), then
    /// journals the evictions as deletions.
    ///
    /// An eviction is journaled under the key's stripe lock and only if the key is still absent:
    /// a value written between the eviction and now must not be deleted on disk. (The removal
    /// listener cannot take the lock itself: moka may call it from inside a writer's insert,
    /// while that writer holds a stripe.)
    ///
    /// When it returns, every removal moka made before the call has been reported, even if
    /// another thread was running maintenance meanwhile.
    pub fn run_maintenance(&self) {
        let _one = match self.maintaining.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        self.cache.load().run_pending_tasks();
        let removed = match self.evicted.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(_) => return,
        };
        for r in removed {
            let _guard = self.lock(&r.key);
            if !self.cache.load().contains_key(r.key.as_ref()) {
                if let (true, Some(j)) = (r.journal, self.journal.get()) {
                    j.remove(&r.key);
                }
                if let Some(o) = self.observer() {
                    o.remove(&r.key);
                }
            }
        }
    }

    /// The live entry for `key`, if any.
    pub fn get(&self, key: &[u8]) -> Option<Arc<Entry>> {
        let entry = self.get_stored(key)?;
        self.reading(entry)
    }

    /// The live entry for `key` as stored: a string may be [`Value::Packed`].
    fn get_stored(&self, key: &[u8]) -> Option<Arc<Entry>> {
        let now = self.clock.now_ms();
        let (_, entry) = self.slot(key, now)?;
        if entry.is_expired(now) {
            self.expire(key);
            return None;
        }
        Some(entry)
    }

    /// The bytes `key` weighs against the budget now (the weigher's figure), if it is live.
    pub fn weight_of(&self, key: &[u8]) -> Option<u64> {
        let entry = self.get_stored(key)?;
        let extra = self.observer().map_or(0, |o| o.extra_weight(key, &entry));
        Some(Entry::weight(key, &entry) as u64 + extra as u64)
    }

    /// Runs `f` on the live entry of `key` (an expired one is `None` and stays in place) under
    /// the key's stripe lock: no change to `key` lands while `f` runs (WATCH registers so).
    pub fn with_locked<R>(&self, key: &[u8], f: impl FnOnce(Option<Arc<Entry>>) -> R) -> R {
        let _guard = self.lock(key);
        let now = self.clock.now_ms();
        let entry = self.slot(key, now).map(|(_, e)| e);
        f(entry
            .filter(|e| !e.is_expired(now))
            .and_then(|e| self.reading(e)))
    }

    /// Removes `key` if it is still expired, counting it as an expiration.
    fn expire(&self, key: &[u8]) {
        let _guard = self.lock(key);
        if let Some(entry) = self.index.get(key).map(|s| s.load()) {
            if entry.is_expired(self.clock.now_ms()) {
                self.unlink(key);
                self.count_removed_by_expiry(&entry);
                if let Some(j) = self.journal.get() {
                    j.remove(&Bytes::copy_from_slice(key));
                }
                if let Some(o) = self.observer() {
                    o.remove(key);
                }
            }
        }
    }

    fn count_removed_by_expiry(&self, entry: &Entry) {
        self.stats.expired_keys.incr();
        if !entry.was_read() {
            self.stats.expired_unread.incr();
        }
    }

    fn lock(&self, key: &[u8]) -> std::sync::MutexGuard<'_, ()> {
        let i = (self.scan_hash(key) as usize) & (STRIPES - 1);
        // A poisoned stripe only means a writer panicked between two moka calls; the keyspace
        // itself is consistent, so carry on.
        match self.stripes[i].lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Reads, decides and applies one change to `key` atomically with respect to other writers.
    ///
    /// `decide` sees the live entry (expired ones are passed as `None`) and returns what to do and
    /// the command's result.
    pub fn write<R>(
        &self,
        key: &Bytes,
        decide: impl FnOnce(Option<&Arc<Entry>>) -> (Write, R),
    ) -> Result<R, WriteError> {
        let journal = self.journal.get();
        if let Some(j) = journal {
            j.check_writable().map_err(WriteError::NotDurable)?;
        }
        let _guard = self.lock(key);
        let now = self.clock.now_ms();
        let (slot, current) = self.slot(key, now).unzip();
        // Present as reads see it: in the table (what moka holds, or is just dropping).
        let present = slot.is_some();
        let live = match current {
            Some(e) if e.is_expired(now) => {
                self.count_removed_by_expiry(&e);
                None
            }
            other => other,
        };
        let seen = live.clone().and_then(|e| self.reading(e));
        let (write, result) = decide(seen.as_ref());
        match write {
            Write::Keep => {
                if live.is_none() && present {
                    // It had expired: drop it now that we hold the lock.
                    self.unlink(key);
                    if let Some(j) = journal {
                        j.remove(key);
                    }
                    if let Some(o) = self.observer() {
                        o.remove(key);
                    }
                }
            }
            Write::Put(entry) => {
                let entry = self.prepare(key, entry.stamped(now));
                if let Some(j) = journal {
                    j.put(key, &entry);
                }
                self.install(key, slot.filter(|_| live.is_some()), entry);
            }
            Write::Remove => {
                if present {
                    self.unlink(key);
                    if let Some(j) = journal {
                        j.remove(key);
                    }
                    if let Some(o) = self.observer() {
                        o.remove(key);
                    }
                }
            }
        }
        Ok(result)
    }

    /// Stores `entry` under `key` whatever was there (SET without conditions, SETEX, MSET): the
    /// same as a [`Store::write`] that always puts, without reading the current entry first.
    pub fn put(&self, key: &Bytes, entry: Entry) -> Result<(), WriteError> {
        let journal = self.journal.get();
        if let Some(j) = journal {
            j.check_writable().map_err(WriteError::NotDurable)?;
        }
        let _guard = self.lock(key);
        let now = self.clock.now_ms();
        let entry = self.prepare(key, entry.stamped(now));
        if let Some(j) = journal {
            j.put(key, &entry);
        }
        let slot = self.slot(key, now).map(|(s, _)| s);
        self.install(key, slot, entry);
        Ok(())
    }

    /// Makes `entry` the value of `key`, under the key's stripe lock. `slot` is the key's current
    /// cell, if it holds a live entry.
    ///
    /// Overwriting in place is safe against a concurrent eviction because every insert of this
    /// key holds the stripe we hold: if the table still holds the cell after the swap, so did
    /// moka a moment before, and if moka evicts it (now, or before its listener has taken it
    /// out of the table) the new value is evicted with it: the listener queues the key, and
    /// [`Store::run_maintenance`] journals its removal. If the table no longer holds it, we
    /// insert a new cell.
    fn install(&self, key: &Bytes, slot: Option<Arc<Slot>>, entry: Entry) {
        let entry = match slot {
            Some(slot) => match slot.try_replace(key, entry) {
                Ok(()) if self.index.holds(&slot) => return,
                Ok(()) => Entry::clone_of(&slot.load()),
                Err(entry) => entry,
            },
            None => entry,
        };
        if entry.expire_at.is_some() {
            self.stats.expires.incr();
        }
        self.stats.databases.count(key, &entry, 1);
        // Keys are copied so that a stored key never pins a connection's read buffer.
        self.link(Arc::new(Slot::new(Arc::from(key.as_ref()), entry)));
    }

    /// The slot of `key` as the table holds it and its entry as stored, telling moka of the
    /// use unless the entry was already read (or written) in this second of the clock: moka's
    /// eviction order then sees each key at most once a second, the resolution of Redis's own
    /// LRU clock (see [`index`]).
    fn slot(&self, key: &[u8], now_ms: u64) -> Option<(Arc<Slot>, Arc<Entry>)> {
        let slot = self.index.get(key)?;
        let entry = slot.load();
        if !entry.access().used_in_second_of(now_ms) {
            // The read that moka's order counts; its answer is the slot we hold.
            let _ = self.cache.load().get(key);
        }
        Some((slot, entry))
    }

    /// Makes `slot` its key's, in the table and then in moka (so that if moka drops it at
    /// once, its removal listener finds it in the table to remove).
    fn link(&self, slot: Arc<Slot>) {
        self.index.insert(slot.clone());
        self.cache.load().insert(slot.key().clone(), slot);
    }

    /// Removes `key` from moka and the table.
    fn unlink(&self, key: &[u8]) {
        self.cache.load().invalidate(key);
        self.index.remove(key);
    }

    /// Removes every key from moka and the table.
    fn unlink_all(&self) {
        self.cache.load().invalidate_all();
        self.index.clear();
    }

    /// Removes every key. Holds every stripe while it clears and journals, so no write can land
    /// between the two and be ordered differently in memory and on disk.
    pub fn flush(&self) -> Result<(), WriteError> {
        if let Some(j) = self.journal.get() {
            j.check_writable().map_err(WriteError::NotDurable)?;
        }
        {
            let _all = self.lock_all();
            if let Some(j) = self.journal.get() {
                j.flush_all();
            }
            self.unlink_all();
            if let Some(o) = self.observer() {
                o.flush_all();
            }
        }
        self.cache.load().run_pending_tasks();
        Ok(())
    }

    /// A 64-bit hash of a key, stable for the life of the process: SCAN cursors are positions
    /// in this hash space.
    pub fn scan_hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }
}

#[cfg(test)]
mod tests;
