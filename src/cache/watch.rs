//! WATCH's bookkeeping: which keys connections watch, and a flag per connection that any change
//! to one of them raises, so that its EXEC is refused.
//!
//! The registry follows the keyspace as an [`Observer`]: every put and removal of a key (writes,
//! expiry, eviction, FLUSHALL) reaches it under the key's stripe lock, which is where Redis
//! "touches" watched keys. With no key watched an observation costs one atomic load.
//!
//! # Invariants
//! - A key is in the map exactly while some live [`Watching`] lists it; dropping the
//!   `Watching` (UNWATCH, EXEC, DISCARD, RESET, disconnect) takes its registrations out.
//! - A flag, once raised, stays raised until its `Watching` is dropped.

use super::hooks::Observer;
use super::Entry;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// One connection's registration of one key.
struct Registration {
    flag: Arc<AtomicBool>,
    /// The key held a live value when it was watched: only then is its removal (DEL, lazy
    /// expiry, FLUSHALL) a change. Redis's rule: a key created after WATCH has raised the flag
    /// already, and an absent or already expired key that is removed has not changed.
    existed: bool,
}

/// Every watched key and who watches it.
#[derive(Default)]
pub struct Watches {
    /// Number of keys in `keys`: the fast path of every observation reads only this.
    watched: AtomicUsize,
    keys: Mutex<HashMap<Bytes, Vec<Registration>>>,
}

impl Watches {
    fn keys(&self) -> MutexGuard<'_, HashMap<Bytes, Vec<Registration>>> {
        // A panic while holding the lock leaves the map consistent (every change is one call).
        match self.keys.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Raises the flags of `key`'s watchers; `removed`: only of those that saw it live.
    fn touch(&self, key: &[u8], removed: bool) {
        if self.watched.load(Ordering::Acquire) == 0 {
            return;
        }
        if let Some(regs) = self.keys().get(key) {
            for r in regs.iter().filter(|r| r.existed || !removed) {
                r.flag.store(true, Ordering::Release);
            }
        }
    }

    /// Number of distinct keys watched by some connection (INFO `watching_keys`-like figures).
    pub fn watched_keys(&self) -> usize {
        self.watched.load(Ordering::Acquire)
    }
}

impl Observer for Watches {
    fn put(&self, key: &Bytes, _: &Entry) {
        self.touch(key, false);
    }

    /// Removing a key that was absent (or already expired) when watched is no change, as in
    /// Redis: had it been created since, that put raised the flag already.
    fn remove(&self, key: &[u8]) {
        self.touch(key, true);
    }

    fn flush_all(&self) {
        if self.watched.load(Ordering::Acquire) == 0 {
            return;
        }
        for regs in self.keys().values() {
            for r in regs.iter().filter(|r| r.existed) {
                r.flag.store(true, Ordering::Release);
            }
        }
    }

    fn extra_weight(&self, _: &[u8], _: &Entry) -> usize {
        0
    }
}

/// One connection's WATCH state: the keys it watches, with their expiry when watched, and the
/// flag the registry raises when any of them changes.
pub struct Watching {
    registry: Arc<Watches>,
    flag: Arc<AtomicBool>,
    /// Each watched key once, with the expiry it had when watched (`None`: absent or no TTL).
    keys: Vec<(Bytes, Option<u64>)>,
}

impl Watching {
    pub fn new(registry: Arc<Watches>) -> Watching {
        Watching {
            registry,
            flag: Arc::new(AtomicBool::new(false)),
            keys: Vec::new(),
        }
    }

    /// Watches `key`, whose live entry is `current`. Watching a key twice is one watch.
    ///
    /// Call it under the key's stripe lock (`Store::with_locked`): then every change to the
    /// key is either in `current` or raises the flag.
    pub fn add(&mut self, key: &Bytes, current: Option<&Entry>) {
        if self.keys.iter().any(|(k, _)| k == key) {
            return;
        }
        let mut map = self.registry.keys();
        let regs = map.entry(key.clone()).or_default();
        if regs.is_empty() {
            self.registry.watched.fetch_add(1, Ordering::AcqRel);
        }
        regs.push(Registration {
            flag: self.flag.clone(),
            existed: current.is_some(),
        });
        drop(map);
        self.keys
            .push((key.clone(), current.and_then(|e| e.expire_at)));
    }

    /// True if EXEC must be refused: a watched key changed, or expired since it was watched
    /// (Redis 7 aborts on a key that was live at WATCH and is logically expired at EXEC, even
    /// if nothing has removed it yet).
    pub fn is_dirty(&self, now_ms: u64) -> bool {
        self.flag.load(Ordering::Acquire)
            || self
                .keys
                .iter()
                .any(|(_, at)| at.is_some_and(|at| at <= now_ms))
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let mut map = self.registry.keys();
        for (key, _) in &self.keys {
            if let Some(regs) = map.get_mut(key) {
                regs.retain(|r| !Arc::ptr_eq(&r.flag, &self.flag));
                if regs.is_empty() {
                    map.remove(key);
                    self.registry.watched.fetch_sub(1, Ordering::AcqRel);
                }
            }
        }
    }
}

impl std::fmt::Debug for Watching {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watching")
            .field("keys", &self.keys.len())
            .field("dirty", &self.flag.load(Ordering::Relaxed))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Value;

    fn entry(expire_at: Option<u64>) -> Entry {
        Entry::new(Value::Str(Bytes::from_static(b"v")), expire_at)
    }

    #[test]
    fn a_change_to_a_watched_key_raises_only_its_watchers_flags() {
        let reg = Arc::new(Watches::default());
        let (a, b) = (Bytes::from_static(b"a"), Bytes::from_static(b"b"));
        let mut w1 = Watching::new(reg.clone());
        let mut w2 = Watching::new(reg.clone());
        w1.add(&a, None);
        w1.add(&a, None);
        w2.add(&b, Some(&entry(None)));
        assert_eq!(reg.watched_keys(), 2);
        reg.put(&a, &entry(None));
        assert!(w1.is_dirty(0));
        assert!(!w2.is_dirty(0));
        reg.remove(&b);
        assert!(w2.is_dirty(0));
    }

    #[test]
    fn dropping_the_last_watcher_empties_the_registry() {
        let reg = Arc::new(Watches::default());
        let k = Bytes::from_static(b"k");
        let mut w1 = Watching::new(reg.clone());
        let mut w2 = Watching::new(reg.clone());
        w1.add(&k, None);
        w2.add(&k, None);
        drop(w1);
        assert_eq!(reg.watched_keys(), 1);
        reg.put(&k, &entry(None));
        assert!(w2.is_dirty(0));
        drop(w2);
        assert_eq!(reg.watched_keys(), 0);
        assert!(reg.keys().is_empty());
    }

    #[test]
    fn flush_all_counts_only_for_keys_that_existed_and_expiry_is_seen_at_exec() {
        let reg = Arc::new(Watches::default());
        let (absent, present) = (Bytes::from_static(b"absent"), Bytes::from_static(b"p"));
        let mut w1 = Watching::new(reg.clone());
        w1.add(&absent, None);
        reg.remove(&absent);
        assert!(!w1.is_dirty(0));
        reg.flush_all();
        assert!(!w1.is_dirty(0));
        let mut w2 = Watching::new(reg.clone());
        w2.add(&present, Some(&entry(Some(1_000))));
        assert!(!w2.is_dirty(999));
        assert!(w2.is_dirty(1_000));
        reg.flush_all();
        assert!(w2.is_dirty(0));
    }
}
