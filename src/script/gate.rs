//! The gate that makes a script atomic: while a script (or a transaction's EXEC) runs, no other
//! command touches the data set.
//!
//! Every command from a connection passes the gate shared; a script and EXEC pass it exclusive.
//! The gate is held only while a command executes synchronously (never across a wait), so an
//! exclusive pass waits for the commands that are running now, no longer.
//!
//! A command that meets a running script waits for it, as it would in Redis's single thread,
//! until the script has run for `busy-reply-threshold`; from then on it is refused with `-BUSY`
//! instead (rows flagged `allow_busy`, SCRIPT KILL among them, do not pass the gate at all).
//! SCRIPT KILL raises the kill flag that the script's instruction hook checks.
//!
//! # Cost
//! A command with no script about takes and drops one uncontended read lock.

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The gate and the state of the script holding it.
pub struct Gate {
    lock: RwLock<()>,
    run: Arc<RunState>,
}

/// What other connections may learn about the running script.
pub struct RunState {
    base: Instant,
    /// Milliseconds since `base` plus one when the running script started; 0 = none runs.
    started: AtomicU64,
    /// SCRIPT KILL asked the running script to stop.
    killed: AtomicBool,
    /// The running script has written: it can no longer be killed.
    wrote: AtomicBool,
}

/// A pass through the gate, held while the command runs.
pub enum Pass<'a> {
    Shared(#[allow(dead_code)] RwLockReadGuard<'a, ()>),
    Exclusive(#[allow(dead_code)] RwLockWriteGuard<'a, ()>),
    /// Rows that run even while a script is busy (SCRIPT KILL, AUTH, ...).
    Free,
}

/// A script has run past the busy threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Why SCRIPT KILL did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillError {
    NotBusy,
    Unkillable,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            lock: RwLock::new(()),
            run: Arc::new(RunState {
                base: Instant::now(),
                started: AtomicU64::new(0),
                killed: AtomicBool::new(false),
                wrote: AtomicBool::new(false),
            }),
        }
    }
}

/// A writer that does not announce a script (EXEC) is waited for in steps of this long.
const STEP: Duration = Duration::from_millis(10);

impl Gate {
    /// A shared pass: waits while a script runs, until it is busy (`Err(Busy)`).
    pub fn shared(&self, threshold: impl Fn() -> Duration) -> Result<Pass<'_>, Busy> {
        loop {
            if let Some(g) = self.lock.try_read() {
                return Ok(Pass::Shared(g));
            }
            let deadline = self.deadline(threshold())?;
            if let Some(g) = self.lock.try_read_until(deadline) {
                return Ok(Pass::Shared(g));
            }
        }
    }

    /// An exclusive pass (a script, EXEC): waits for running commands, and for a running script
    /// until it is busy.
    pub fn exclusive(&self, threshold: impl Fn() -> Duration) -> Result<Pass<'_>, Busy> {
        loop {
            if let Some(g) = self.lock.try_write() {
                return Ok(Pass::Exclusive(g));
            }
            let deadline = self.deadline(threshold())?;
            if let Some(g) = self.lock.try_write_until(deadline) {
                return Ok(Pass::Exclusive(g));
            }
        }
    }

    /// Until when to wait for the holder: the moment a running script turns busy.
    fn deadline(&self, threshold: Duration) -> Result<Instant, Busy> {
        let now = Instant::now();
        match self.run.started_at() {
            Some(start) => {
                let busy_at = start + threshold;
                if now >= busy_at {
                    Err(Busy)
                } else {
                    Ok(busy_at.min(now + STEP))
                }
            }
            None => Ok(now + STEP),
        }
    }

    /// The running script's state, for its instruction hook.
    pub fn run_state(&self) -> Arc<RunState> {
        self.run.clone()
    }

    /// SCRIPT KILL: asks the running script to stop, unless it has written.
    pub fn kill(&self) -> Result<(), KillError> {
        if self.run.started_at().is_none() {
            return Err(KillError::NotBusy);
        }
        if self.run.wrote.load(Ordering::Acquire) {
            return Err(KillError::Unkillable);
        }
        self.run.killed.store(true, Ordering::Release);
        Ok(())
    }

    /// Whether a script is running now (INFO, tests).
    pub fn script_running(&self) -> bool {
        self.run.started_at().is_some()
    }
}

impl RunState {
    fn started_at(&self) -> Option<Instant> {
        match self.started.load(Ordering::Acquire) {
            0 => None,
            ms => Some(self.base + Duration::from_millis(ms - 1)),
        }
    }

    /// Marks the start of a script (the caller holds the exclusive pass).
    pub fn begin(&self) {
        self.killed.store(false, Ordering::Release);
        self.wrote.store(false, Ordering::Release);
        let ms = self.base.elapsed().as_millis() as u64 + 1;
        self.started.store(ms, Ordering::Release);
    }

    pub fn end(&self) {
        self.started.store(0, Ordering::Release);
        self.killed.store(false, Ordering::Release);
    }

    pub fn note_write(&self) {
        self.wrote.store(true, Ordering::Release);
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_script_turns_waiters_away_and_can_be_killed() {
        let gate = Gate::default();
        assert_eq!(gate.kill(), Err(KillError::NotBusy));
        let pass = gate.exclusive(|| Duration::ZERO).unwrap();
        gate.run.begin();
        assert!(matches!(gate.shared(|| Duration::ZERO), Err(Busy)));
        assert!(matches!(gate.exclusive(|| Duration::ZERO), Err(Busy)));
        assert_eq!(gate.kill(), Ok(()));
        assert!(gate.run.is_killed());
        gate.run.note_write();
        assert_eq!(gate.kill(), Err(KillError::Unkillable));
        gate.run.end();
        drop(pass);
        assert!(matches!(
            gate.shared(|| Duration::ZERO),
            Ok(Pass::Shared(_))
        ));
    }
}
