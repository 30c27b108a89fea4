//! The store's clock: wall-clock milliseconds that tests can move forward.
//!
//! Expiry times are absolute unix milliseconds (as in Redis, and as persisted on disk), so the
//! clock is the system's wall clock plus an offset. Tests advance the offset instead of sleeping.
//! moka's own timers run on `std::time::Instant` and cannot be driven; they only reclaim memory,
//! while every read checks the entry's expiry against this clock, so what a client sees follows
//! this clock alone.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn new() -> Self {
        Clock::default()
    }

    /// Milliseconds since the unix epoch, as this clock sees them.
    pub fn now_ms(&self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        (wall + self.offset_ms.load(Ordering::Relaxed)).max(0) as u64
    }

    /// Microseconds since the unix epoch (for `TIME`).
    pub fn now_us(&self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        (wall + self.offset_ms.load(Ordering::Relaxed) * 1000).max(0) as u64
    }

    /// Moves this clock (and every clone of it) forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.offset_ms.fetch_add(ms as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_every_clone() {
        let a = Clock::new();
        let b = a.clone();
        let before = b.now_ms();
        a.advance(10_000);
        assert!(b.now_ms() >= before + 10_000);
    }
}
