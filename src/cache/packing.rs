//! How the store keeps compressed strings: what it stores for a write, and what a reader is
//! handed of a stored entry (see [`super::pack`]).

use super::{Entry, Store, Value};
use bytes::Bytes;
use std::sync::Arc;

impl Store {
    /// The entry a reader sees of `stored`: a compressed string unpacked (see [`Entry`]'s
    /// `origin`). A value that cannot be unpacked reads as absent, and says so in the log.
    pub(super) fn reading(&self, stored: Arc<Entry>) -> Option<Arc<Entry>> {
        let Value::Packed(p) = &stored.value else {
            return Some(stored);
        };
        match self.codec.unpack(p) {
            Ok(plain) => Some(Arc::new(Entry::unpacked(&stored, plain))),
            Err(e) => {
                tracing::error!("a stored value cannot be read: {e}");
                None
            }
        }
    }

    /// `entry` as the store keeps it: a string compressed if that pays (an unpacked one
    /// re-stored unchanged, as by EXPIRE, keeps its frame).
    pub(super) fn storing(&self, key: &[u8], entry: Entry) -> Entry {
        let packed = match &entry.value {
            Value::Str(b) => match entry.packed_origin() {
                Some(p) => Some(p.clone()),
                None => self.codec.pack(key, b),
            },
            _ => None,
        };
        entry.into_stored(packed.map(Value::Packed))
    }

    /// Shows the observer the value being written (as written), then makes the entry to
    /// journal and store (compressed if that pays). Under the key's stripe lock.
    pub(super) fn prepare(&self, key: &Bytes, entry: Entry) -> Entry {
        if let Some(o) = self.observer() {
            o.put(key, &entry);
        }
        self.storing(key, entry)
    }
}
