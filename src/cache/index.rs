//! The store's own table of its keys, beside moka: what reads look keys up in.
//!
//! moka's `get` finds the key and records the read for its eviction policy (a message on a
//! bounded channel, drained by whichever caller comes next: deque moves, the frequency sketch).
//! Measured with `cargo bench --bench store_read` (10,000 keys, 2 KB values), that costs about
//! 210 ns a read; a hashbrown table behind a read lock about 30 ns. So reads look keys up here,
//! and moka is told of a read of a key at most once per second of the store's clock, which is the
//! resolution of Redis's own LRU clock: moka's order still sees every key that is read.
//!
//! # Invariants
//! - The table holds exactly the slots moka holds (the same `Arc<Slot>`), except while a writer
//!   holding the key's stripe lock is between its two steps, and between moka's own removal of
//!   a slot (eviction, its expiry timer) and the removal listener's call. A read that finds a
//!   slot in those windows sees a value that was live a moment ago; every read checks the
//!   expiry itself.
//! - A writer adds a slot here before inserting it into moka, and the removal listener removes
//!   a slot only if it is the one the table holds ([`Index::remove_slot`]): a slot moka
//!   evicts cannot stay here, and a newer slot of the same key is not removed for an older one.

use super::Slot;
use ahash::RandomState;
use hashbrown::HashTable;
use parking_lot::RwLock;
use std::sync::Arc;

/// Shards of the table, each behind its own lock; a power of two.
const SHARDS: usize = 64;

pub(super) struct Index {
    shards: Box<[RwLock<HashTable<Arc<Slot>>>]>,
    hasher: RandomState,
}

impl Index {
    pub fn new() -> Index {
        Index {
            shards: (0..SHARDS).map(|_| RwLock::new(HashTable::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The shard of a hash: bits the table itself does not use (it takes the low bits for the
    /// bucket and the top seven as the tag of each bucket).
    fn shard(&self, hash: u64) -> &RwLock<HashTable<Arc<Slot>>> {
        &self.shards[(hash >> 32) as usize & (SHARDS - 1)]
    }

    /// The slot of `key`, if the table holds one.
    pub fn get(&self, key: &[u8]) -> Option<Arc<Slot>> {
        let hash = self.hash(key);
        self.shard(hash)
            .read()
            .find(hash, |s| **s.key() == *key)
            .cloned()
    }

    /// Whether `slot` is its key's slot here.
    pub fn holds(&self, slot: &Arc<Slot>) -> bool {
        let hash = self.hash(slot.key());
        self.shard(hash)
            .read()
            .find(hash, |s| Arc::ptr_eq(s, slot))
            .is_some()
    }

    /// Makes `slot` the slot of its key, replacing any other.
    pub fn insert(&self, slot: Arc<Slot>) {
        let hash = self.hash(slot.key());
        let mut shard = self.shard(hash).write();
        match shard.entry(
            hash,
            |s| s.key() == slot.key(),
            |s| self.hasher.hash_one(&**s.key()),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut e) => *e.get_mut() = slot,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(slot);
            }
        }
    }

    /// Removes `key`'s slot, whichever it is.
    pub fn remove(&self, key: &[u8]) {
        self.remove_if(key, |_| true);
    }

    /// Removes `slot` if it is still its key's slot here.
    pub fn remove_slot(&self, key: &[u8], slot: &Arc<Slot>) {
        self.remove_if(key, |s| Arc::ptr_eq(s, slot));
    }

    fn remove_if(&self, key: &[u8], which: impl Fn(&Arc<Slot>) -> bool) {
        let hash = self.hash(key);
        let mut shard = self.shard(hash).write();
        if let Ok(e) = shard.find_entry(hash, |s| **s.key() == *key) {
            if which(e.get()) {
                e.remove();
            }
        }
    }

    /// Removes every slot.
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            *shard.write() = HashTable::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{Entry, Value};
    use bytes::Bytes;

    fn slot(key: &'static str) -> Arc<Slot> {
        let entry = Entry::new(Value::Str(Bytes::from_static(b"v")), None);
        Arc::new(Slot::new(Arc::from(key.as_bytes()), entry))
    }

    #[test]
    fn a_slot_is_removed_for_itself_not_for_an_older_one() {
        let index = Index::new();
        let (old, new) = (slot("k"), slot("k"));
        index.insert(old.clone());
        index.insert(new.clone());
        assert!(Arc::ptr_eq(&index.get(b"k").unwrap(), &new));
        index.remove_slot(b"k", &old);
        assert!(
            index.get(b"k").is_some(),
            "an older slot's removal kept the newer one"
        );
        index.remove_slot(b"k", &new);
        assert!(index.get(b"k").is_none());
    }

    #[test]
    fn keys_are_found_among_many_and_cleared() {
        let index = Index::new();
        let keys: Vec<String> = (0..10_000).map(|i| format!("key:{i}")).collect();
        for k in &keys {
            let entry = Entry::new(Value::Str(Bytes::from_static(b"v")), None);
            index.insert(Arc::new(Slot::new(Arc::from(k.as_bytes()), entry)));
        }
        assert!(keys.iter().all(|k| index.get(k.as_bytes()).is_some()));
        index.remove(b"key:42");
        assert!(index.get(b"key:42").is_none() && index.get(b"key:43").is_some());
        index.clear();
        assert!(index.get(b"key:43").is_none());
    }
}
