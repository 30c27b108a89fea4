//! How commands read and write the keyspace: counted reads, writes whose decision may fail with
//! a [`CommandError`], typed access to a string entry, and stored copies of arguments.

use super::CommandError;
use crate::cache::{Entry, Store, Write};
use crate::protocol::parse::BIG_BULK;
use bytes::Bytes;
use std::sync::Arc;

/// Reads a key for a read command, counting a keyspace hit or miss and marking the entry read.
pub fn lookup_read(store: &Store, key: &[u8]) -> Option<Arc<Entry>> {
    let e = store.get(key);
    match &e {
        Some(e) => {
            store.stats().keyspace_hits.incr();
            e.mark_read(store.clock().now_ms());
        }
        None => store.stats().keyspace_misses.incr(),
    }
    e
}

/// [`Store::write`] for a decision that may fail: a failed decision leaves the key as it is and
/// is the command's error, as is a write the store refuses.
pub fn write<R>(
    store: &Store,
    key: &Bytes,
    decide: impl FnOnce(Option<&Arc<Entry>>) -> Result<(Write, R), CommandError>,
) -> Result<R, CommandError> {
    store.write(key, |cur| match decide(cur) {
        Ok((write, r)) => (write, Ok(r)),
        Err(e) => (Write::Keep, Err(e)),
    })?
}

/// The string an entry holds; `WRONGTYPE` for any other type.
pub fn string_of(e: &Entry) -> Result<&Bytes, CommandError> {
    e.as_str().ok_or(CommandError::WrongType)
}

/// A stored copy of an argument: arguments are slices of the connection's read buffer, and a
/// stored slice would keep that whole buffer alive. A big argument that nothing else shares is
/// kept as it is: the connection received it into a buffer of its own size ([`BIG_BULK`]), so
/// keeping it pins nothing more, and a copy would cost its size again.
pub fn owned(b: &Bytes) -> Bytes {
    if b.len() >= BIG_BULK && b.is_unique() {
        b.clone()
    } else {
        Bytes::copy_from_slice(b)
    }
}
