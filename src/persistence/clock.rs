//! The log writer's clock: when `everysec` is due to fsync.
//!
//! The server runs on real time. Tests drive a [`ManualClock`], so "a second has passed" is
//! an event the test causes ([`ManualClock::advance`]) instead of a sleep. Only the fsync
//! cadence follows this clock; the few milliseconds a batch may gather before it is written
//! stay on real time, since they only shape batches and promise nothing.
//!
//! # Concurrency
//! The writer reads the clock under its queue lock and, on a manual clock, waits without a
//! timeout. `advance` moves the time first and then takes each subscribed engine's queue lock
//! to wake its writer, so a writer that read the old time is already waiting when woken: no
//! wake-up is lost.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// Something the clock wakes when it moves (the engine's writer).
pub(crate) trait Wake: Send + Sync {
    fn wake(&self);
}

/// The writer's time source. `Real` unless a test drives it.
#[derive(Clone, Default)]
pub enum WriterClock {
    #[default]
    Real,
    Manual(ManualClock),
}

impl fmt::Debug for WriterClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriterClock::Real => f.write_str("Real"),
            WriterClock::Manual(m) => write!(f, "Manual({:?})", m.now()),
        }
    }
}

impl WriterClock {
    /// Monotonic time since an arbitrary origin.
    pub fn now(&self) -> Duration {
        match self {
            WriterClock::Real => {
                static ORIGIN: OnceLock<Instant> = OnceLock::new();
                ORIGIN.get_or_init(Instant::now).elapsed()
            }
            WriterClock::Manual(m) => m.now(),
        }
    }

    /// How long a writer may wait for time to pass: `None` means until woken (a manual clock
    /// wakes its subscribers when it moves).
    pub(crate) fn wait_limit(&self, d: Duration) -> Option<Duration> {
        match self {
            WriterClock::Real => Some(d),
            WriterClock::Manual(_) => None,
        }
    }

    pub(crate) fn subscribe(&self, w: Weak<dyn Wake>) {
        if let WriterClock::Manual(m) = self {
            let mut subs = m.inner.subs.lock().unwrap_or_else(|e| e.into_inner());
            subs.retain(|s| s.strong_count() > 0);
            subs.push(w);
        }
    }
}

/// A clock that moves only when told to; clones share it.
#[derive(Clone, Default)]
pub struct ManualClock {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    now: Mutex<Duration>,
    subs: Mutex<Vec<Weak<dyn Wake>>>,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    pub fn now(&self) -> Duration {
        *self.inner.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the time forward and wakes every engine on this clock.
    pub fn advance(&self, d: Duration) {
        *self.inner.now.lock().unwrap_or_else(|e| e.into_inner()) += d;
        let subs: Vec<_> = self
            .inner
            .subs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for s in subs {
            s.wake();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Count(AtomicU32);
    impl Wake for Count {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn advance_moves_every_clone_and_wakes_subscribers() {
        let m = ManualClock::new();
        let c = WriterClock::Manual(m.clone());
        let n = Arc::new(Count(AtomicU32::new(0)));
        let w: Arc<dyn Wake> = n.clone();
        c.subscribe(Arc::downgrade(&w));
        m.advance(Duration::from_secs(1));
        assert_eq!(c.now(), Duration::from_secs(1));
        assert_eq!(n.0.load(Ordering::Relaxed), 1);
        assert_eq!(c.wait_limit(Duration::from_secs(1)), None);
        assert!(WriterClock::Real.wait_limit(Duration::ZERO).is_some());
    }
}
