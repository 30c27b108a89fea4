//! The near cache against the tier's invalidations: installing copies of tier answers,
//! applying an invalidation (wake the key's remote followers; read an invalidated copy again),
//! and dropping every copy when invalidations may have been missed.

use super::envelope::{Answer, Held};
use super::Tier;
use crate::cache::{Entry, Value, Write};
use bytes::Bytes;
use redis::{PushInfo, PushKind};
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Tier {
    /// Installs a copy of `answer` under `key`, unless the key was invalidated since `version`
    /// was read (the answer may be older than that invalidation) or the node holds a value of
    /// another type there. Returns the entry installed.
    pub fn install(&self, key: &Bytes, answer: &Answer, version: u64) -> Option<Arc<Entry>> {
        let now = self.store.clock().now_ms();
        if answer.expire_at.is_some_and(|at| at <= now) {
            return None;
        }
        let entry = Arc::new(answer.entry(self.near_until()));
        let bucket = self.bucket(key);
        let put = self.store.write(key, |cur| {
            let fresh = self.versions[bucket].load(Ordering::Acquire) == version;
            let other_type = cur.is_some_and(|e| !matches!(e.value, Value::Str(_)));
            if fresh && !other_type {
                (Write::Put(Entry::clone_of(&entry)), true)
            } else {
                (Write::Keep, false)
            }
        });
        match put {
            Ok(true) => self.store.get(key),
            _ => None,
        }
    }

    /// Handles one push from a master's connection.
    pub(super) fn on_push(self: &Arc<Self>, push: PushInfo) {
        match push.kind {
            PushKind::Invalidate => {
                self.stats
                    .invalidations_received
                    .fetch_add(1, Ordering::Relaxed);
                match push.data.into_iter().next() {
                    Some(redis::Value::Array(keys)) => {
                        for k in keys {
                            if let redis::Value::BulkString(k) = k {
                                self.invalidated(Bytes::from(k));
                            }
                        }
                    }
                    // A null list: the master was flushed.
                    _ => self.drop_copies(),
                }
            }
            PushKind::Disconnection => self.trip("the invalidation connection dropped"),
            _ => {}
        }
    }

    /// `key` changed on the tier.
    fn invalidated(self: &Arc<Self>, key: Bytes) {
        let bucket = self.bucket(&key);
        let held = self.store.with_locked(&key, |cur| {
            self.versions[bucket].fetch_add(1, Ordering::AcqRel);
            cur.filter(|e| matches!(e.value, Value::Str(_)))
        });
        self.bells[bucket].notify_waiters();
        if let Some(entry) = held {
            let tier = self.clone();
            tokio::spawn(async move { tier.revalidate(key, entry).await });
        }
    }

    /// Keeps `entry` under `key` only if the tier still holds that very answer (this node's own
    /// write coming back, or a write of the same answer).
    async fn revalidate(&self, key: Bytes, entry: Arc<Entry>) {
        let same = match self.read(&key).await {
            Ok(Some(Held::Answer(a))) => a.is_held_by(&entry),
            _ => false,
        };
        if !same {
            let _ = self.store.write(&key, |cur| match cur {
                Some(c) if Arc::ptr_eq(Entry::stored_of(c), Entry::stored_of(&entry)) => {
                    (Write::Remove, ())
                }
                _ => (Write::Keep, ()),
            });
        }
    }

    /// Drops every copy of a tier answer (after a flush of the tier, or a new tracking
    /// connection: invalidations may have been missed). Values of this node's own stay.
    pub(super) fn drop_copies(&self) {
        for v in self.versions.iter() {
            v.fetch_add(1, Ordering::AcqRel);
        }
        let copies: Vec<(Arc<[u8]>, Arc<Entry>)> = self
            .store
            .iter()
            .filter(|(_, e)| e.is_near_copy())
            .collect();
        for (key, entry) in copies {
            let _ = self
                .store
                .write(&Bytes::copy_from_slice(&key), |cur| match cur {
                    Some(c) if Arc::ptr_eq(Entry::stored_of(c), Entry::stored_of(&entry)) => {
                        (Write::Remove, ())
                    }
                    _ => (Write::Keep, ()),
                });
        }
        for b in self.bells.iter() {
            b.notify_waiters();
        }
    }
}
