//! The engine's shared state: append buffer, fail-stop flag, counters and status.
//!
//! # Concurrency
//! `queue` is the only lock on the append path; it is held for one record's encoding. The
//! writer thread swaps the whole buffer out under the same lock, so records reach the file in
//! append (= LSN) order. `stats` is touched once per writer batch and by rewrites.
//! Lock order: `queue` before `stats`; never hold either across I/O except the writer's
//! brief `stats` update.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;

use tokio::sync::watch;

use super::format::encode_record;
use super::{FsyncPolicy, LoadProgress, Lsn, Options, PersistError, Record, Status};

/// Wake the writer early once this much is buffered (bounds memory and batch size).
pub(crate) const FLUSH_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    InMemory,
    SnapshotOnly,
    Aof,
}

/// What `durable` waiters watch.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress {
    /// Every record up to this LSN is fsynced.
    pub synced: Lsn,
    pub failed: bool,
}

/// Bytes of the buffer before `at` (records up to `lsn`) go to the old segment, the rest to
/// the new segment `seg`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rotation {
    pub at: usize,
    pub lsn: Lsn,
    pub seg: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Queue {
    /// Encoded frames not yet handed to the writer.
    pub buf: Vec<u8>,
    pub last_lsn: Lsn,
    /// A pending rotation request.
    pub rotate: Option<Rotation>,
    /// Segment the writer appends to (after any rotation it has carried out).
    pub current_seg: u64,
    /// Id for the next segment or base.
    pub next_seg: u64,
    pub accepting: bool,
    pub shutdown: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub base_size: u64,
    pub log_sizes: BTreeMap<u64, u64>,
    pub last_save_ms: u64,
    pub last_rewrite_ok: bool,
    /// (time, success) of the last rewrite attempt.
    pub last_attempt: Option<(u64, bool)>,
    /// How long the last rewrite took, in milliseconds.
    pub last_rewrite_took_ms: Option<u64>,
    pub rewrite_started_ms: Option<u64>,
    pub rewrites: u64,
    pub rewrite_failures_in_a_row: u64,
    /// Published by the loader as it goes.
    pub load: LoadProgress,
    pub load_started_ms: u64,
    /// The last load skipped corrupt bytes: the next rewrite makes the directory clean again.
    pub force_rewrite: bool,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub opts: Options,
    pub mode: Mode,
    pub queue: Mutex<Queue>,
    /// Wakes the writer thread.
    pub wake: Condvar,
    /// Wakes a rewrite waiting for the writer to carry out a rotation.
    pub rotated: Condvar,
    pub progress: watch::Sender<Progress>,
    pub fail: OnceLock<String>,
    pub loading: AtomicBool,
    pub rewriting: AtomicBool,
    /// Changes since the last successful snapshot.
    pub dirty: AtomicU64,
    /// LSNs in modes without a log.
    pub lsn: AtomicU64,
    pub stats: Mutex<Stats>,
    pub writer: Mutex<Option<JoinHandle<()>>>,
}

/// Locks a mutex, ignoring poisoning: every critical section here leaves the data consistent
/// at each step, so a panic elsewhere must not take persistence down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn new(opts: Options, now_ms: u64, next_seg: u64) -> Shared {
        let mode = if opts.appendonly {
            Mode::Aof
        } else if opts.in_memory() {
            Mode::InMemory
        } else {
            Mode::SnapshotOnly
        };
        Shared {
            opts,
            mode,
            queue: Mutex::new(Queue {
                next_seg,
                ..Queue::default()
            }),
            wake: Condvar::new(),
            rotated: Condvar::new(),
            progress: watch::Sender::new(Progress::default()),
            fail: OnceLock::new(),
            loading: AtomicBool::new(true),
            rewriting: AtomicBool::new(false),
            dirty: AtomicU64::new(0),
            lsn: AtomicU64::new(0),
            stats: Mutex::new(Stats {
                last_save_ms: now_ms,
                load_started_ms: now_ms,
                last_rewrite_ok: true,
                ..Stats::default()
            }),
            writer: Mutex::new(None),
        }
    }

    pub fn dir(&self) -> &PathBuf {
        &self.opts.dir
    }

    /// Enters fail-stop (first reason wins) and wakes every waiter.
    pub fn fail_stop(&self, reason: String) {
        if self.fail.set(reason.clone()).is_ok() {
            tracing::error!("persistence: {reason}; refusing writes until restart (fail-stop)");
        }
        self.progress.send_modify(|p| p.failed = true);
        self.rotated.notify_all();
    }

    fn fail_error(&self) -> Option<PersistError> {
        self.fail
            .get()
            .map(|r| PersistError::FailStop { reason: r.clone() })
    }

    pub fn check_writable(&self) -> Result<(), PersistError> {
        if let Some(e) = self.fail_error() {
            return Err(e);
        }
        if self.loading.load(Ordering::Acquire) {
            return Err(PersistError::Loading);
        }
        if self.mode == Mode::SnapshotOnly && !lock(&self.stats).last_rewrite_ok {
            return Err(PersistError::SnapshotFailed);
        }
        Ok(())
    }

    pub fn append(&self, rec: &Record) -> Result<Lsn, PersistError> {
        if let Some(e) = self.fail_error() {
            return Err(e);
        }
        if self.mode != Mode::Aof {
            self.check_writable()?;
            if lock(&self.queue).shutdown {
                return Err(PersistError::Closed);
            }
            self.dirty.fetch_add(1, Ordering::Relaxed);
            return Ok(self.lsn.fetch_add(1, Ordering::Relaxed) + 1);
        }
        let mut q = lock(&self.queue);
        if !q.accepting {
            return Err(if q.shutdown {
                PersistError::Closed
            } else {
                PersistError::Loading
            });
        }
        let before = q.buf.len();
        encode_record(rec, &mut q.buf).map_err(|bytes| PersistError::RecordTooLarge { bytes })?;
        q.last_lsn += 1;
        let lsn = q.last_lsn;
        let after = q.buf.len();
        drop(q);
        self.dirty.fetch_add(1, Ordering::Relaxed);
        // Wake the writer when it may be idle (buffer was empty) or when a batch is large.
        if before == 0 || (before < FLUSH_BYTES && after >= FLUSH_BYTES) {
            self.wake.notify_one();
        }
        Ok(lsn)
    }

    pub async fn durable(&self, lsn: Lsn) -> Result<(), PersistError> {
        if self.mode == Mode::Aof && self.opts.fsync == FsyncPolicy::Always {
            let mut rx = self.progress.subscribe();
            let res = rx.wait_for(|p| p.synced >= lsn || p.failed).await;
            if res.is_err() {
                return Err(PersistError::Closed);
            }
        }
        match self.fail_error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub async fn synced(&self, lsn: Lsn) -> Result<(), PersistError> {
        if self.mode == Mode::Aof {
            let mut rx = self.progress.subscribe();
            if rx.wait_for(|p| p.synced >= lsn || p.failed).await.is_err() {
                return Err(PersistError::Closed);
            }
        }
        match self.fail_error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub fn needs_rewrite(&self) -> bool {
        if self.mode != Mode::Aof
            || self.loading.load(Ordering::Acquire)
            || self.rewriting.load(Ordering::Acquire)
            || self.fail.get().is_some()
        {
            return false;
        }
        let s = lock(&self.stats);
        if s.force_rewrite {
            return true;
        }
        // Redis: rewrite when growth since the last rewrite >= percentage and size >= min.
        let log: u64 = s.log_sizes.values().sum();
        let total = s.base_size + log;
        total >= self.opts.rewrite_min_size
            && (s.base_size == 0
                || u128::from(log) * 100
                    >= u128::from(s.base_size) * u128::from(self.opts.rewrite_percentage))
    }

    pub fn snapshot_due(&self, now_ms: u64) -> bool {
        if self.mode == Mode::InMemory
            || self.loading.load(Ordering::Acquire)
            || self.rewriting.load(Ordering::Acquire)
        {
            return false;
        }
        let s = lock(&self.stats);
        self.opts.save.is_due(
            now_ms,
            self.dirty.load(Ordering::Relaxed),
            s.last_save_ms,
            s.last_attempt,
        )
    }

    pub fn status(&self) -> Status {
        let s = lock(&self.stats);
        Status {
            aof_enabled: self.mode == Mode::Aof,
            fsync: self.opts.fsync,
            loading: self.loading.load(Ordering::Acquire),
            load: s.load,
            load_started_ms: s.load_started_ms,
            rewrite_in_progress: self.rewriting.load(Ordering::Acquire),
            rewrite_started_ms: s.rewrite_started_ms,
            last_rewrite_ok: s.last_rewrite_ok,
            last_rewrite_took_ms: s.last_rewrite_took_ms,
            rewrites: s.rewrites,
            rewrite_failures_in_a_row: s.rewrite_failures_in_a_row,
            last_write_ok: self.fail.get().is_none(),
            fail_reason: self.fail.get().cloned(),
            last_save_ms: s.last_save_ms,
            changes_since_last_save: self.dirty.load(Ordering::Relaxed),
            current_size: s.base_size + s.log_sizes.values().sum::<u64>(),
            base_size: s.base_size,
        }
    }

    pub fn shutdown(&self) -> Result<(), PersistError> {
        {
            let mut q = lock(&self.queue);
            q.shutdown = true;
            q.accepting = false;
        }
        self.wake.notify_all();
        let handle = lock(&self.writer).take();
        if let Some(h) = handle {
            if h.join().is_err() {
                self.fail_stop("log writer thread panicked".into());
            }
        }
        match self.fail_error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
