//! How an entry has been read: whether at all (for the expired-unread counts), when last
//! (`OBJECT IDLETIME`) and how often (`OBJECT FREQ`, Redis's logarithmic LFU counter).
//!
//! These are observations, not the eviction policy: moka decides what leaves. They follow Redis's
//! definitions so that tools reading them (`redis-cli --hotkeys`, idle-key scripts) see the
//! figures they expect: the counter starts at [`LFU_INIT`], grows by one with probability
//! `1 / ((c - LFU_INIT) * LOG_FACTOR + 1)` per read, and loses one per minute without reads
//! (`lfu-log-factor 10`, `lfu-decay-time 1`, Redis's defaults).
//!
//! # Concurrency
//! Relaxed atomics: racing readers may lose an increment, as Redis's approximate counter may.
//! Each field is written only when its value changes, so a hot entry read from several threads
//! does not bounce its cache line on every read.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};

/// The counter of a new key (Redis's `LFU_INIT_VAL`): new keys are not the first evicted.
pub const LFU_INIT: u8 = 5;
const LOG_FACTOR: u32 = 10;

#[derive(Debug)]
pub struct Access {
    read: AtomicBool,
    /// Unix seconds of the last read (of the write, until the first read).
    last_s: AtomicU32,
    freq: AtomicU8,
}

fn secs(now_ms: u64) -> u32 {
    (now_ms / 1000).min(u32::MAX as u64) as u32
}

/// A cheap per-thread random number for the counter's probabilistic increment.
fn random() -> u32 {
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0x2545_F491_4F6C_DD1D) });
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 32) as u32
    })
}

impl Access {
    /// A key written at `now_ms`, unread.
    pub fn new(now_ms: u64) -> Access {
        Access {
            read: AtomicBool::new(false),
            last_s: AtomicU32::new(secs(now_ms)),
            freq: AtomicU8::new(LFU_INIT),
        }
    }

    /// A key written at `now_ms` with a history given by hand (RESTORE ... IDLETIME / FREQ):
    /// last read `idle_secs` ago, its counter at `freq`.
    pub fn given(now_ms: u64, idle_secs: Option<u64>, freq: Option<u8>) -> Access {
        let now = secs(now_ms);
        let idle = idle_secs.unwrap_or(0).min(now as u64) as u32;
        Access {
            read: AtomicBool::new(false),
            last_s: AtomicU32::new(now - idle),
            freq: AtomicU8::new(freq.unwrap_or(LFU_INIT)),
        }
    }

    /// A copy carrying `other`'s history (a re-timed entry is the same key, read as before).
    pub fn carried(other: &Access) -> Access {
        Access {
            read: AtomicBool::new(other.was_read()),
            last_s: AtomicU32::new(other.last_s.load(Ordering::Relaxed)),
            freq: AtomicU8::new(other.freq.load(Ordering::Relaxed)),
        }
    }

    /// Dates an entry that has no time yet (built before it was stored, or loaded) at `now_ms`.
    pub fn date(&mut self, now_ms: u64) {
        let last = self.last_s.get_mut();
        if *last == 0 {
            *last = secs(now_ms);
        }
    }

    /// Records a read at `now_ms`.
    pub fn read(&self, now_ms: u64) {
        if !self.read.load(Ordering::Relaxed) {
            self.read.store(true, Ordering::Relaxed);
        }
        let counter = self.freq(now_ms);
        let grown = if counter == u8::MAX {
            counter
        } else {
            let base = counter.saturating_sub(LFU_INIT) as u32;
            let odds = base * LOG_FACTOR + 1;
            if random().is_multiple_of(odds) {
                counter + 1
            } else {
                counter
            }
        };
        if grown != self.freq.load(Ordering::Relaxed) {
            self.freq.store(grown, Ordering::Relaxed);
        }
        let now = secs(now_ms);
        if self.last_s.load(Ordering::Relaxed) != now {
            self.last_s.store(now, Ordering::Relaxed);
        }
    }

    /// Whether the last read (or the write, until the first read) was in the second of
    /// `now_ms`.
    pub fn used_in_second_of(&self, now_ms: u64) -> bool {
        self.last_s.load(Ordering::Relaxed) == secs(now_ms)
    }

    pub fn was_read(&self) -> bool {
        self.read.load(Ordering::Relaxed)
    }

    /// Seconds since the last read (or the write), as `OBJECT IDLETIME` reports.
    pub fn idle_secs(&self, now_ms: u64) -> u64 {
        secs(now_ms).saturating_sub(self.last_s.load(Ordering::Relaxed)) as u64
    }

    /// The counter at `now_ms`, after one decrement per idle minute (`OBJECT FREQ`).
    pub fn freq(&self, now_ms: u64) -> u8 {
        let minutes = self.idle_secs(now_ms) / 60;
        let c = self.freq.load(Ordering::Relaxed);
        c.saturating_sub(minutes.min(255) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_grows_logarithmically_and_decays_per_idle_minute() {
        let a = Access::new(0);
        assert_eq!(a.freq(0), LFU_INIT);
        for _ in 0..100 {
            a.read(1_000);
        }
        let after_100 = a.freq(1_000);
        for _ in 0..10_000 {
            a.read(1_000);
        }
        let after_10k = a.freq(1_000);
        // Redis's table for lfu-log-factor 10: about 10 after 100 hits, 18 after 1k; the
        // counter grows as about 5 + sqrt(hits / 5), so about 50 after 10k.
        assert!((7..=14).contains(&after_100), "{after_100}");
        assert!((35..=65).contains(&after_10k), "{after_10k}");
        assert_eq!(a.freq(1_000 + 3 * 60_000), after_10k - 3);
        assert_eq!(a.idle_secs(1_000 + 3 * 60_000), 180);
        assert!(a.was_read());
    }

    #[test]
    fn a_given_history_is_what_restore_asked_for() {
        let a = Access::given(1_000_000_000, None, Some(42));
        assert_eq!(a.freq(1_000_000_000), 42);
        assert_eq!(a.idle_secs(1_000_000_000), 0);
        let b = Access::given(1_000_000_000, Some(100), None);
        assert_eq!(b.idle_secs(1_000_000_000), 100);
        assert_eq!(b.freq(1_000_000_000), LFU_INIT - 1);
    }

    #[test]
    fn a_carried_history_keeps_reads_and_counter() {
        let a = Access::new(5_000);
        a.read(9_000);
        let b = Access::carried(&a);
        assert!(b.was_read());
        assert_eq!(b.idle_secs(10_000), 1);
        assert_eq!(b.freq(10_000), a.freq(10_000));
    }
}
