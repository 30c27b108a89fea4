//! How the store's moka cache is built: the weigher, the per-entry expiry and the removal
//! listener that counts evictions and expirations and queues evicted keys for the journal.

use super::index::Index;
use super::{Cache, EvictionKind, Journal, Observer, Stats};
use super::{Clock, Entry, Slot};
use ahash::RandomState;
use bytes::Bytes;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;
use moka::Expiry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A key moka removed on its own (evicted, or expired on its timer), waiting for
/// `Store::run_maintenance`.
pub(super) struct Removed {
    pub key: Bytes,
    /// Journal it as a deletion (evictions; an expired key needs no record on disk).
    pub journal: bool,
}

/// What the listener and weigher reach: the store's journal and observer, once attached, the
/// queue of keys moka removed, and the store's table of slots with this cache's switch for it.
pub(super) struct Hooks {
    pub journal: Arc<OnceLock<Arc<dyn Journal>>>,
    pub observer: Arc<OnceLock<Arc<dyn Observer>>>,
    pub evicted: Arc<Mutex<Vec<Removed>>>,
    pub index: Arc<Index>,
    /// While set, what moka removes on its own leaves `index` too; cleared when the cache is
    /// replaced (its slots then live on in the next cache).
    pub listening: Arc<AtomicBool>,
}

/// A moka cache bounded to `max_bytes` with `eviction`, reporting removals to `stats` and
/// queueing removed keys on `evicted` for the journal and the observer.
pub(super) fn build(
    max_bytes: u64,
    eviction: EvictionKind,
    clock: &Clock,
    stats: &Arc<Stats>,
    hooks: &Hooks,
) -> Cache {
    let listener_stats = stats.clone();
    let listener_journal = hooks.journal.clone();
    let listener_observer = hooks.observer.clone();
    let listener_evicted = hooks.evicted.clone();
    let listener_index = hooks.index.clone();
    let listening = hooks.listening.clone();
    let weigh_observer = hooks.observer.clone();
    let policy = match eviction {
        EvictionKind::TinyLfu => EvictionPolicy::tiny_lfu(),
        EvictionKind::Lru | EvictionKind::NoEviction => EvictionPolicy::lru(),
    };
    // Under noeviction moka never reaches its capacity: the store refuses growth instead
    // (`Store::refuses_growth`), while moka still weighs every entry.
    let capacity = match eviction {
        EvictionKind::NoEviction => u64::MAX,
        EvictionKind::TinyLfu | EvictionKind::Lru => max_bytes,
    };
    moka::sync::Cache::builder()
        .max_capacity(capacity)
        .weigher(move |k: &Arc<[u8]>, v: &Arc<Slot>| {
            let entry = v.load();
            let extra = weigh_observer
                .get()
                .map_or(0, |o| o.extra_weight(k, &entry));
            Entry::weight(k, &entry).saturating_add(u32::try_from(extra).unwrap_or(u32::MAX))
        })
        .eviction_policy(policy)
        .expire_after(TtlExpiry {
            clock: clock.clone(),
        })
        .eviction_listener(move |key: Arc<Arc<[u8]>>, slot: Arc<Slot>, cause| {
            if matches!(cause, RemovalCause::Expired | RemovalCause::Size)
                && listening.load(Ordering::Acquire)
            {
                listener_index.remove_slot(&key, &slot);
            }
            let entry = slot.load();
            on_removal(
                &listener_stats,
                (&listener_journal, &listener_observer),
                &listener_evicted,
                &key,
                &entry,
                cause,
            )
        })
        .build_with_hasher(RandomState::new())
}

struct TtlExpiry {
    clock: Clock,
}

impl TtlExpiry {
    fn remaining(&self, entry: &Entry) -> Option<Duration> {
        entry
            .expire_at
            .map(|at| Duration::from_millis(at.saturating_sub(self.clock.now_ms())))
    }
}

impl Expiry<Arc<[u8]>, Arc<Slot>> for TtlExpiry {
    fn expire_after_create(&self, _: &Arc<[u8]>, v: &Arc<Slot>, _: Instant) -> Option<Duration> {
        self.remaining(&v.load())
    }

    fn expire_after_update(
        &self,
        _: &Arc<[u8]>,
        v: &Arc<Slot>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.remaining(&v.load())
    }
}

type Attached<'a> = (
    &'a OnceLock<Arc<dyn Journal>>,
    &'a OnceLock<Arc<dyn Observer>>,
);

fn on_removal(
    stats: &Stats,
    (journal, observer): Attached<'_>,
    evicted: &Mutex<Vec<Removed>>,
    key: &[u8],
    entry: &Entry,
    cause: RemovalCause,
) {
    if entry.expire_at.is_some() {
        stats.expires.decr();
    }
    stats.databases.count(key, entry, -1);
    match cause {
        RemovalCause::Expired => {
            stats.expired_keys.incr();
            if !entry.was_read() {
                stats.expired_unread.incr();
            }
            if observer.get().is_some() {
                if let Ok(mut v) = evicted.lock() {
                    v.push(Removed {
                        key: Bytes::copy_from_slice(key),
                        journal: false,
                    });
                }
            }
        }
        RemovalCause::Size => {
            stats.evicted_keys.incr();
            if !entry.was_read() {
                stats.evicted_unread.incr();
            }
            // What leaves memory leaves the disk too: this is a cache, not a disk tier.
            let journal = journal.get().is_some();
            if journal || observer.get().is_some() {
                if let Ok(mut v) = evicted.lock() {
                    v.push(Removed {
                        key: Bytes::copy_from_slice(key),
                        journal,
                    });
                }
            }
        }
        RemovalCause::Explicit | RemovalCause::Replaced => {}
    }
}
