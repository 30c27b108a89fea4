//! What every LLM command that grants or ends a lease shares: the lease timer and finding the
//! stored entry of an answer (for readers that followed its stream).

use crate::cache::{Entry, Store, Value};
use crate::state::Shared;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;

/// Ends the flight's lease when its time is up, and each later holder's too, until the flight
/// ends. One task per flight.
pub fn spawn_lease_timer(shared: &Shared, key: Bytes, flight_id: u64) {
    let flights = shared.flights.clone();
    tokio::spawn(async move {
        while let Some(deadline) = flights.deadline(&key, flight_id) {
            tokio::time::sleep_until(deadline.into()).await;
            flights.expire_due(&key, flight_id, Instant::now());
        }
    });
}

/// The entry that now holds `value` under `key`, if it is that value (for cursors into it).
/// A value stored compressed reads back as new bytes, so the bytes are compared when the
/// buffers differ.
pub fn entry_holding(store: &Store, key: &[u8], value: &Bytes) -> Option<Arc<Entry>> {
    store.get(key).filter(|e| {
        matches!(&e.value, Value::Str(v) if v.len() == value.len()
            && (v.as_ptr() == value.as_ptr() || v == value))
    })
}
