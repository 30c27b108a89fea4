//! CLIENT PAUSE: the server-wide pause of client commands, below the commands that set it and
//! the connections that wait on it.
//!
//! A paused command waits, it does not fail: the connection holds it (and what is pipelined
//! behind it) until the pause ends by its deadline or CLIENT UNPAUSE, then runs it, as Redis
//! postpones it. `ALL` holds every command (CLIENT UNPAUSE too, as in Redis 7.0.15, so only the
//! deadline ends it); `WRITE` holds the commands that may write: the table's write rows (the LLM commands
//! that store or abort included), EVAL and EVALSHA, and EXEC of a transaction that queued a
//! write. Monitors are never held (Redis exempts its replicas).
//!
//! # Invariants
//! - A pause only grows: a second CLIENT PAUSE keeps the later deadline and the stricter mode.
//! - With no pause set a command pays one relaxed atomic load ([`Pause::active`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tokio::sync::watch;
use tokio::time::Instant;

/// What a pause holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Write,
    All,
}

/// See the module docs.
pub struct Pause {
    active: AtomicBool,
    /// The deadline (`None`: further than a clock can say) and mode of the pause in force.
    state: Mutex<Option<(Option<Instant>, Mode)>>,
    changed: watch::Sender<u64>,
}

impl Default for Pause {
    fn default() -> Self {
        Pause {
            active: AtomicBool::new(false),
            state: Mutex::new(None),
            changed: watch::channel(0).0,
        }
    }
}

impl Pause {
    fn state(&self) -> std::sync::MutexGuard<'_, Option<(Option<Instant>, Mode)>> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Some pause may be in force.
    #[inline]
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Pauses for `ms` milliseconds in `mode` (extending a pause in force, never shortening it).
    pub fn pause(&self, ms: u64, mode: Mode) {
        let until = Instant::now().checked_add(std::time::Duration::from_millis(ms));
        let mut st = self.state();
        let next = match *st {
            Some((old, m)) => {
                let later = match (old, until) {
                    (None, _) | (_, None) => None,
                    (Some(a), Some(b)) => Some(a.max(b)),
                };
                (later, m.max(mode))
            }
            None => (until, mode),
        };
        *st = Some(next);
        self.active.store(true, Ordering::Relaxed);
        drop(st);
        self.changed.send_modify(|g| *g += 1);
    }

    /// Ends the pause (CLIENT UNPAUSE).
    pub fn unpause(&self) {
        *self.state() = None;
        self.active.store(false, Ordering::Relaxed);
        self.changed.send_modify(|g| *g += 1);
    }

    /// The pause in force now, if any, with its deadline.
    fn current(&self) -> Option<(Option<Instant>, Mode)> {
        let mut st = self.state();
        if let Some((Some(until), _)) = *st {
            if Instant::now() >= until {
                *st = None;
                self.active.store(false, Ordering::Relaxed);
                return None;
            }
        }
        *st
    }

    /// Whether a command that may write (`writes`) or not is held now.
    pub fn holds(&self, writes: bool) -> bool {
        match self.current() {
            Some((_, Mode::All)) => true,
            Some((_, Mode::Write)) => writes,
            None => false,
        }
    }

    /// Resolves once a command that may write (`writes`) or not is no longer held. No change
    /// is missed: the subscription is taken before the state is read.
    pub async fn released(&self, writes: bool) {
        let mut rx = self.changed.subscribe();
        loop {
            let Some((until, mode)) = self.current() else {
                return;
            };
            if mode == Mode::Write && !writes {
                return;
            }
            match until {
                Some(at) => {
                    let _ = tokio::time::timeout_at(at, rx.changed()).await;
                }
                None => {
                    let _ = rx.changed().await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn write_pauses_hold_writes_only_and_unpause_releases_them() {
        let p = Pause::default();
        assert!(!p.active() && !p.holds(true));
        p.pause(60_000, Mode::Write);
        assert!(p.holds(true) && !p.holds(false));
        // A second, shorter pause in ALL mode makes it stricter, not shorter.
        p.pause(1, Mode::All);
        assert!(p.holds(false));
        let waiter = p.released(false);
        p.unpause();
        waiter.await;
        assert!(!p.active() && !p.holds(true));
        p.pause(0, Mode::All);
        assert!(!p.holds(true));
    }
}
