//! What the store does at start-up (applying loaded records, bypassing the journal) and its
//! whole-keyspace walks.

use super::{Entry, Slot, Store, Value};
use bytes::Bytes;
use std::sync::Arc;

impl Store {
    /// Removes a key at start-up (a logged deletion), bypassing the journal.
    pub fn load_remove(&self, key: &[u8]) {
        self.unlink(key);
        if let Some(o) = self.observer() {
            o.remove(key);
        }
    }

    /// Removes every key at start-up (a logged flush), bypassing the journal.
    pub fn load_clear(&self) {
        self.unlink_all();
        self.cache.load().run_pending_tasks();
        if let Some(o) = self.observer() {
            o.flush_all();
        }
    }

    /// Loads an entry at start-up (from disk), bypassing the journal. An entry without a write
    /// time is stamped as written now.
    ///
    /// A compressed string whose dictionary did not load is left out, with an error logged:
    /// it could never be read.
    pub fn load(&self, key: Bytes, entry: Entry) {
        if let Value::Packed(p) = &entry.value {
            if !self.codec.can_unpack(p) {
                tracing::error!(
                    "not loaded: {:?} needs compression dictionary {}, which the files do not hold",
                    String::from_utf8_lossy(&key),
                    p.dict_id()
                );
                return;
            }
        }
        let entry = entry.stamped(self.clock.now_ms());
        if entry.expire_at.is_some() {
            self.stats.expires.incr();
        }
        if key.first() == Some(&super::databases::MARK) {
            self.note_numbered();
        }
        self.stats.databases.count(&key, &entry, 1);
        if let Some(o) = self.observer() {
            o.put(&key, &entry);
        }
        self.link(Arc::new(Slot::new(Arc::from(key.as_ref()), entry)));
    }

    /// Every live key and entry, in no particular order. Walks concurrently with writers: a
    /// key changed during the walk may be seen in either state or not at all. The walk is
    /// collected first (two pointers per key, no copy), since the cache it walks may be swapped by
    /// [`Store::resize`] meanwhile; every caller walks the whole keyspace anyway.
    ///
    /// Strings come out as their original bytes, unpacked as the walk reaches them; a walk
    /// that needs only keys or types should use [`Store::iter_stored`].
    pub fn iter(&self) -> impl Iterator<Item = (Arc<[u8]>, Arc<Entry>)> + '_ {
        self.iter_stored()
            .filter_map(|(k, e)| self.reading(e).map(|e| (k, e)))
    }

    /// [`Store::iter`] of the entries as stored: a string may be [`Value::Packed`] (its
    /// `type_name` is still `string`). For walks that look at keys, types and expiries only,
    /// and for the rewrite, which writes the compressed form.
    pub fn iter_stored(&self) -> impl Iterator<Item = (Arc<[u8]>, Arc<Entry>)> {
        let now = self.clock.now_ms();
        let cache = self.cache.load_full();
        let live: Vec<_> = cache
            .iter()
            .map(|(k, s)| (k, s.load()))
            .filter(move |(_, e)| !e.is_expired(now))
            .map(|(k, e)| ((*k).clone(), e))
            .collect();
        live.into_iter()
    }
}
