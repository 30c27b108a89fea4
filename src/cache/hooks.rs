//! Who the store tells about its changes: the [`Journal`] (persistence) and the [`Observer`]
//! (the search indexes and WATCH).

use super::Entry;
use bytes::Bytes;

/// Where the store reports every change, so it can be made durable.
///
/// Called under the key's stripe lock, so per key the calls come in the order the changes were
/// applied. Implementations must be cheap and never block on IO.
pub trait Journal: Send + Sync {
    /// `Err` with a reason while the journal refuses writes (fail-stop after an IO error).
    fn check_writable(&self) -> Result<(), String>;
    fn put(&self, key: &Bytes, entry: &Entry);
    fn remove(&self, key: &Bytes);
    fn flush_all(&self);
    /// A compression dictionary was trained: the packed values that follow may need it (see
    /// [`super::pack`]). Called before any value packed with it is journaled.
    fn put_dict(&self, _id: u32, _prefix: &Bytes, _dict: &Bytes) {}
}

/// Who wants to follow the keyspace live (the search indexes): every key that takes a value,
/// loses it, or the whole keyspace being emptied.
///
/// # Concurrency
/// Called under the key's stripe lock (all stripes for `flush_all`) as the change is applied
/// (`put` just before the value enters moka, so that `extra_weight` sees what the observer
/// keeps), so per key the calls come in the order of the changes. Implementations must not call back into
/// the store and must be quick: they hold up every writer of the stripe.
pub trait Observer: Send + Sync {
    /// `key` now holds `entry` (a write, or a load at start-up).
    fn put(&self, key: &Bytes, entry: &Entry);
    /// `key` holds nothing any more (deleted, expired, evicted).
    fn remove(&self, key: &[u8]);
    /// Every key is gone.
    fn flush_all(&self);
    /// Bytes the observer keeps for `entry` (an indexed vector), counted against the byte
    /// budget with the entry. Evaluated by moka's weigher when the entry is inserted.
    fn extra_weight(&self, key: &[u8], entry: &Entry) -> usize;
}

/// Several observers as one: each call goes to every one of them, in order.
pub struct Observers(pub Vec<std::sync::Arc<dyn Observer>>);

impl Observer for Observers {
    fn put(&self, key: &Bytes, entry: &Entry) {
        self.0.iter().for_each(|o| o.put(key, entry));
    }

    fn remove(&self, key: &[u8]) {
        self.0.iter().for_each(|o| o.remove(key));
    }

    fn flush_all(&self) {
        self.0.iter().for_each(|o| o.flush_all());
    }

    fn extra_weight(&self, key: &[u8], entry: &Entry) -> usize {
        self.0.iter().map(|o| o.extra_weight(key, entry)).sum()
    }
}
