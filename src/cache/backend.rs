//! How the store's moka cache is built: the weigher, the per-entry expiry and the removal
//! listener that counts evictions and expirations and queues evicted keys for the journal.

use super::{Cache, EvictionKind, Journal, Stats};
use super::{Clock, Entry, Slot};
use ahash::RandomState;
use bytes::Bytes;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;
use moka::Expiry;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A moka cache bounded to `max_bytes` with `eviction`, reporting removals to `stats` and
/// queueing evicted keys on `evicted` once a journal is attached.
pub(super) fn build(
    max_bytes: u64,
    eviction: EvictionKind,
    clock: &Clock,
    stats: &Arc<Stats>,
    journal: &Arc<OnceLock<Arc<dyn Journal>>>,
    evicted: &Arc<Mutex<Vec<Bytes>>>,
) -> Cache {
    let listener_stats = stats.clone();
    let listener_journal = journal.clone();
    let listener_evicted = evicted.clone();
    let policy = match eviction {
        EvictionKind::TinyLfu => EvictionPolicy::tiny_lfu(),
        EvictionKind::Lru => EvictionPolicy::lru(),
    };
    moka::sync::Cache::builder()
        .max_capacity(max_bytes)
        .weigher(|k: &Bytes, v: &Arc<Slot>| Entry::weight(k, &v.load()))
        .eviction_policy(policy)
        .expire_after(TtlExpiry {
            clock: clock.clone(),
        })
        .eviction_listener(move |key: Arc<Bytes>, slot: Arc<Slot>, cause| {
            let entry = slot.load();
            on_removal(
                &listener_stats,
                &listener_journal,
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

impl Expiry<Bytes, Arc<Slot>> for TtlExpiry {
    fn expire_after_create(&self, _: &Bytes, v: &Arc<Slot>, _: Instant) -> Option<Duration> {
        self.remaining(&v.load())
    }

    fn expire_after_update(
        &self,
        _: &Bytes,
        v: &Arc<Slot>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.remaining(&v.load())
    }
}

fn on_removal(
    stats: &Stats,
    journal: &OnceLock<Arc<dyn Journal>>,
    evicted: &Mutex<Vec<Bytes>>,
    key: &Bytes,
    entry: &Entry,
    cause: RemovalCause,
) {
    if entry.expire_at.is_some() {
        stats.expires.decr();
    }
    match cause {
        RemovalCause::Expired => {
            stats.expired_keys.incr();
            if !entry.was_read() {
                stats.expired_unread.incr();
            }
        }
        RemovalCause::Size => {
            stats.evicted_keys.incr();
            if !entry.was_read() {
                stats.evicted_unread.incr();
            }
            // What leaves memory leaves the disk too: this is a cache, not a disk tier.
            if journal.get().is_some() {
                if let Ok(mut v) = evicted.lock() {
                    v.push(key.clone());
                }
            }
        }
        RemovalCause::Explicit | RemovalCause::Replaced => {}
    }
}
