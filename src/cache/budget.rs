//! The byte budget and the eviction policy: reading them, changing them at run time, and
//! under `noeviction` the check that refuses growth past the budget.

use super::{backend, EvictionKind, Store};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The used-bytes figure past which growth is refused: the budget under `noeviction`, never
/// under the evicting policies.
pub(super) fn oom_limit(max_bytes: u64, eviction: EvictionKind) -> u64 {
    match eviction {
        EvictionKind::NoEviction => max_bytes,
        EvictionKind::TinyLfu | EvictionKind::Lru => u64::MAX,
    }
}

impl Store {
    pub fn max_bytes(&self) -> u64 {
        self.budget().0
    }

    pub fn eviction(&self) -> EvictionKind {
        self.budget().1
    }

    fn budget(&self) -> (u64, EvictionKind) {
        match self.budget.lock() {
            Ok(b) => *b,
            Err(p) => *p.into_inner(),
        }
    }

    /// Changes the byte budget or the eviction policy (CONFIG SET maxmemory /
    /// maxmemory-policy). moka fixes both when a cache is built, so this builds a new cache and
    /// moves every entry into it; what no longer fits is evicted (counted and journaled as any
    /// eviction).
    ///
    /// # Concurrency
    /// Holds every stripe lock while it copies and swaps, so no write is lost or reordered;
    /// readers keep reading the old cache until the swap. Not for use while loading at start:
    /// the loader inserts without stripe locks.
    pub fn resize(&self, max_bytes: u64, eviction: EvictionKind) {
        let _all = self.lock_all();
        let mut budget = match self.budget.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        if *budget == (max_bytes, eviction) {
            return;
        }
        self.oom_limit
            .store(oom_limit(max_bytes, eviction), Ordering::Release);
        if budget.1 == EvictionKind::NoEviction && eviction == EvictionKind::NoEviction {
            // Nothing is evicted either way: only the limit moves (and the weighed size is
            // brought up to date for the check against it).
            *budget = (max_bytes, eviction);
            drop(budget);
            self.cache.load().run_pending_tasks();
            return;
        }
        let hooks = backend::Hooks {
            journal: self.journal.clone(),
            observer: self.observer.clone(),
            evicted: self.evicted.clone(),
            index: self.index.clone(),
            listening: Arc::new(true.into()),
        };
        let next = backend::build(max_bytes, eviction, &self.clock, &self.stats, &hooks);
        // From here the old cache's removals are not the store's: its slots move to `next`,
        // whose listener takes what it evicts out of the table.
        let mut listening = match self.listening.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        };
        listening.store(false, Ordering::Release);
        *listening = hooks.listening;
        drop(listening);
        let old = self.cache.load_full();
        for (key, slot) in old.iter() {
            next.insert((*key).clone(), slot);
        }
        self.cache.store(Arc::new(next));
        *budget = (max_bytes, eviction);
        drop(budget);
        self.cache.load().run_pending_tasks();
    }

    /// Under `noeviction`, whether the stored bytes are past the budget, so that a command that
    /// may grow memory is refused (Redis's `-OOM`). moka's weighed size is updated by its
    /// maintenance, which follows writes within milliseconds; a CONFIG SET of the budget or the
    /// policy brings it up to date at once. One atomic load and moka's counter read.
    pub fn refuses_growth(&self) -> bool {
        let limit = self.oom_limit.load(Ordering::Acquire);
        limit != u64::MAX && self.cache.load().weighted_size() > limit
    }
}
