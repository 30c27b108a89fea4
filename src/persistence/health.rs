//! The log's health after a write or fsync error, and the way back to a whole log.
//!
//! # States
//! - **Healthy.**
//! - **Broken, recoverable** (`appendfsync everysec` and `no`): a write or fsync of segment
//!   `S` failed, for example on a full disk. From then on:
//!   * writes are refused before they change memory ([`PersistError::WriteFailed`], Redis's
//!     `-MISCONF Errors writing to the AOF file: ...`), while the appends of writes already
//!     applied are still taken, so memory stays the truth;
//!   * the writer drops what it is handed until the next rotation: after a failed fsync the
//!     kernel may have dropped dirty pages, so no later success proves the segment whole;
//!   * [`Shared::needs_base`] is true, and the server's maintenance acts on it by writing a
//!     base from the store (retried with [`retry_delay_ms`] between failures);
//!   * once a base whose id is above every failed segment is committed, it holds everything
//!     the failed segments missed: the engine is healthy again and accepts writes, by itself.
//!
//!   Nothing acknowledged is lost while the process runs. A crash before the repair loses what
//!   the failed segments missed, as a crash under `everysec` can.
//! - **Fail-stop** (`appendfsync always`): final until restart. An acknowledged write must
//!   already be fsynced; Redis exits here, we keep serving reads.

use std::sync::atomic::Ordering;

use super::engine::{lock, Shared};
use super::error::os_reason;
use super::retry::Failure;
use super::{FsyncPolicy, Lsn, PersistError};

impl Shared {
    /// A write or fsync of segment `seg` failed with `err`.
    pub(crate) fn log_failed(&self, seg: u64, err: &PersistError) {
        let reason = match err {
            PersistError::Io { source, .. } => os_reason(source),
            other => other.to_string(),
        };
        let terminal = self.fsync() == FsyncPolicy::Always;
        self.set_failure(seg, reason, err.to_string(), terminal);
    }

    /// Enters fail-stop for a reason that is not an I/O error (a panicked writer thread).
    pub(crate) fn fail_stop(&self, detail: String) {
        self.set_failure(u64::MAX, "the log writer stopped".into(), detail, true);
    }

    fn set_failure(&self, seg: u64, reason: String, detail: String, terminal: bool) {
        let mut h = lock(&self.health);
        match &mut *h {
            Some(f) => {
                f.poisoned_seg = f.poisoned_seg.max(seg);
                f.terminal |= terminal;
            }
            None => {
                if terminal {
                    tracing::error!(
                        "persistence: {detail}; refusing writes until restart (fail-stop, \
                         appendfsync always)"
                    );
                } else {
                    tracing::error!(
                        "persistence: {detail}; refusing writes until a base written from \
                         memory makes the log whole again"
                    );
                }
                *h = Some(Failure {
                    reason,
                    detail,
                    poisoned_seg: seg,
                    terminal,
                });
            }
        }
        self.failing.store(true, Ordering::Release);
        drop(h);
        if terminal {
            self.progress.send_modify(|p| p.lost = Lsn::MAX);
        }
        self.rotated.notify_all();
    }

    /// The error writes get while the log is not whole.
    pub(crate) fn failure_error(&self) -> Option<PersistError> {
        if !self.failing.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.health).as_ref().map(|f| {
            let reason = f.reason.clone();
            if f.terminal {
                PersistError::FailStop { reason }
            } else {
                PersistError::WriteFailed { reason }
            }
        })
    }

    /// The error of fail-stop only: what stops appends and rewrites.
    pub(crate) fn terminal_error(&self) -> Option<PersistError> {
        match self.failure_error() {
            Some(e @ PersistError::FailStop { .. }) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn failure(&self) -> Option<Failure> {
        if !self.failing.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.health).clone()
    }

    /// The log is broken but recoverable: a base written from memory would make it whole.
    pub(crate) fn needs_base(&self) -> bool {
        self.failure().is_some_and(|f| !f.terminal)
    }

    /// Base `base_id` is committed and covers every record up to `lsn`: if it is newer than
    /// every failed segment, the disk holds all of memory again.
    pub(crate) fn base_committed(&self, base_id: u64, lsn: Lsn) {
        let mut h = lock(&self.health);
        let healed = matches!(&*h, Some(f) if !f.terminal && f.poisoned_seg < base_id);
        if healed {
            *h = None;
            self.failing.store(false, Ordering::Release);
            tracing::warn!(
                "persistence: AOF write error looks solved: base {base_id} was written from \
                 memory; accepting writes again"
            );
        }
        drop(h);
        self.progress.send_modify(|p| p.synced = p.synced.max(lsn));
    }
}
