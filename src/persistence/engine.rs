//! The engine's shared state: append buffer, log health, counters and status.
//!
//! # Concurrency
//! `queue` is the only lock on the append path; it is held for one record's encoding. The
//! writer thread swaps the whole buffer out under the same lock, so records reach the file in
//! append (= LSN) order. `stats` is touched once per writer batch and by rewrites; `health`
//! only when a write fails or a base repairs it (`failing` mirrors it for the write path).
//! Lock order: `queue` before `stats`, `health` alone; never hold any across I/O except the
//! writer's brief `stats` update.
//!
//! # Shutdown and the directory lock
//! The directory lock is released by [`Shared::shutdown`] only after the writer has exited
//! and any running rewrite has stopped (it checks `closing` between records), so no file of
//! ours changes once another process may own the directory.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use tokio::sync::watch;

use super::format::encode_record;
use super::fs::DirLock;
use super::retry::{retry_delay_ms, Failure};
use super::{FsyncPolicy, LoadProgress, Lsn, Options, PersistError, Record, SaveSchedule, Status};

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
    /// Every record up to this LSN is fsynced (or held by a committed base).
    pub synced: Lsn,
    /// Every record up to this LSN that is not synced never will be by the log: its write or
    /// fsync failed, or the writer dropped it while poisoned (see `health.rs`). `Lsn::MAX`
    /// after fail-stop.
    pub lost: Lsn,
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
    /// Id of the last rotation the writer carried out or gave up on.
    pub rotation_answered: u64,
    /// Why the rotation `.0` failed (the writer stays on its segment).
    pub rotation_error: Option<(u64, PersistError)>,
    /// The writer thread has ended: nobody answers rotations any more.
    pub writer_gone: bool,
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
    /// The last rewrite failed: the next one runs once its backoff has passed.
    pub retry_scheduled: bool,
    /// Published by the loader as it goes.
    pub load: LoadProgress,
    pub load_started_ms: u64,
    /// The last load skipped corrupt bytes: the next rewrite makes the directory clean again.
    pub force_rewrite: bool,
}

#[derive(Debug)]
pub(crate) struct Shared {
    /// The options at open; `fsync` and `save` may change later (CONFIG SET): read those
    /// through [`Shared::fsync`] and `save`.
    pub opts: Options,
    /// The fsync policy in force ([`FsyncPolicy`] as its index in `FSYNC_POLICIES`).
    fsync: AtomicU8,
    /// The snapshot schedule in force.
    pub save: Mutex<SaveSchedule>,
    pub mode: Mode,
    pub queue: Mutex<Queue>,
    /// Wakes the writer thread.
    pub wake: Condvar,
    /// Wakes a rewrite waiting for the writer to carry out a rotation.
    pub rotated: Condvar,
    pub progress: watch::Sender<Progress>,
    /// Why the log is not whole, if it is not (see `health.rs`).
    pub health: Mutex<Option<Failure>>,
    /// `health.is_some()`, read without the lock on every write.
    pub failing: AtomicBool,
    pub loading: AtomicBool,
    /// Set and cleared under `rewrite_gate`, so shutdown can wait for a rewrite to end.
    pub rewriting: AtomicBool,
    pub rewrite_gate: Mutex<()>,
    pub rewrite_idle: Condvar,
    /// Shutdown has begun: a running rewrite stops at its next record.
    pub closing: AtomicBool,
    pub dir_lock: Mutex<Option<Box<dyn DirLock>>>,
    /// Changes since the last successful snapshot.
    pub dirty: AtomicU64,
    /// LSNs in modes without a log.
    pub lsn: AtomicU64,
    pub stats: Mutex<Stats>,
    pub writer: Mutex<Option<JoinHandle<()>>>,
}

impl super::clock::Wake for Shared {
    fn wake(&self) {
        // Under the queue lock: the writer reads the clock under it before it waits.
        let _q = lock(&self.queue);
        self.wake.notify_all();
    }
}

/// Locks a mutex, ignoring poisoning: every critical section here leaves the data consistent
/// at each step, so a panic elsewhere must not take persistence down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

const FSYNC_POLICIES: [FsyncPolicy; 3] =
    [FsyncPolicy::Always, FsyncPolicy::EverySec, FsyncPolicy::No];

fn fsync_index(p: FsyncPolicy) -> u8 {
    FSYNC_POLICIES.iter().position(|q| *q == p).unwrap_or(1) as u8
}

impl Shared {
    /// The fsync policy in force.
    pub fn fsync(&self) -> FsyncPolicy {
        FSYNC_POLICIES
            .get(self.fsync.load(Ordering::Relaxed) as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Changes the fsync policy (CONFIG SET appendfsync); the writer takes it from its next
    /// round, and a write acknowledged from then on is as durable as the new policy promises.
    pub fn set_fsync(&self, policy: FsyncPolicy) {
        self.fsync.store(fsync_index(policy), Ordering::Relaxed);
        self.wake.notify_all();
    }

    pub fn new(opts: Options, now_ms: u64, next_seg: u64) -> Shared {
        let mode = if opts.appendonly {
            Mode::Aof
        } else if opts.in_memory() {
            Mode::InMemory
        } else {
            Mode::SnapshotOnly
        };
        Shared {
            fsync: AtomicU8::new(fsync_index(opts.fsync)),
            save: Mutex::new(opts.save.clone()),
            opts,
            mode,
            queue: Mutex::new(Queue {
                next_seg,
                ..Queue::default()
            }),
            wake: Condvar::new(),
            rotated: Condvar::new(),
            progress: watch::Sender::new(Progress::default()),
            health: Mutex::new(None),
            failing: AtomicBool::new(false),
            loading: AtomicBool::new(true),
            rewriting: AtomicBool::new(false),
            rewrite_gate: Mutex::new(()),
            rewrite_idle: Condvar::new(),
            closing: AtomicBool::new(false),
            dir_lock: Mutex::new(None),
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

    pub fn check_writable(&self) -> Result<(), PersistError> {
        if let Some(e) = self.failure_error() {
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

    /// While the log is broken but recoverable, appends are still taken: the store has
    /// already applied the change, and the base that repairs the log will hold it.
    pub fn append(&self, rec: &Record) -> Result<Lsn, PersistError> {
        if let Some(e) = self.terminal_error() {
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

    /// Under `always`, waits for the fsync (or a failure, which is then the answer). Under
    /// `everysec` and `no` a write is acknowledged once applied: a failed log write later on
    /// does not take it back, since the repairing base will hold it.
    pub async fn durable(&self, lsn: Lsn) -> Result<(), PersistError> {
        if self.mode == Mode::Aof
            && self.fsync() == FsyncPolicy::Always
            && !self.wait_synced(lsn).await?
        {
            return Err(self.failure_error().unwrap_or(PersistError::Closed));
        }
        match self.terminal_error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Waits until `lsn` is fsynced (`true`) or lost to a failure (`false`).
    ///
    /// The guard `wait_for` returns holds the watch's read lock: it is dropped here, inside,
    /// before anything else reads the watch. Held across a second `borrow()`, it deadlocked the
    /// event loop against the writer thread's `send_modify` waiting for the write lock (a
    /// `kill -9` test hung with every client blocked under `appendfsync always`).
    async fn wait_synced(&self, lsn: Lsn) -> Result<bool, PersistError> {
        let mut rx = self.progress.subscribe();
        let synced = rx
            .wait_for(|p| p.synced >= lsn || p.lost >= lsn)
            .await
            .map(|p| p.synced >= lsn);
        synced.map_err(|_| PersistError::Closed)
    }

    pub async fn synced(&self, lsn: Lsn) -> Result<(), PersistError> {
        if self.mode == Mode::Aof && !self.wait_synced(lsn).await? {
            return Err(self.failure_error().unwrap_or(PersistError::Closed));
        }
        Ok(())
    }

    pub fn needs_rewrite(&self) -> bool {
        if self.mode != Mode::Aof
            || self.loading.load(Ordering::Acquire)
            || self.rewriting.load(Ordering::Acquire)
            || self.failing.load(Ordering::Acquire)
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
        lock(&self.save).is_due(
            now_ms,
            self.dirty.load(Ordering::Relaxed),
            s.last_save_ms,
            s.last_attempt,
        )
    }

    /// Should the housekeeping tick start a rewrite now? A base is needed to repair the log,
    /// a failed rewrite is to be retried, the log outgrew its base, or the save schedule is
    /// due; and no rewrite runs, and the backoff after failed ones has passed.
    pub fn rewrite_due(&self, now_ms: u64) -> bool {
        if self.mode == Mode::InMemory
            || self.loading.load(Ordering::Acquire)
            || self.rewriting.load(Ordering::Acquire)
            || self.terminal_error().is_some()
        {
            return false;
        }
        let retry = {
            let s = lock(&self.stats);
            if let Some((at, false)) = s.last_attempt {
                let delay = retry_delay_ms(s.rewrite_failures_in_a_row);
                if now_ms < at.saturating_add(delay) {
                    return false;
                }
            }
            s.retry_scheduled
        };
        retry || self.needs_base() || self.needs_rewrite() || self.snapshot_due(now_ms)
    }

    pub fn status(&self) -> Status {
        let failure = self.failure();
        let s = lock(&self.stats);
        Status {
            aof_enabled: self.mode == Mode::Aof,
            fsync: self.fsync(),
            loading: self.loading.load(Ordering::Acquire),
            load: s.load,
            load_started_ms: s.load_started_ms,
            rewrite_in_progress: self.rewriting.load(Ordering::Acquire),
            rewrite_started_ms: s.rewrite_started_ms,
            last_rewrite_ok: s.last_rewrite_ok,
            last_rewrite_took_ms: s.last_rewrite_took_ms,
            rewrites: s.rewrites,
            rewrite_failures_in_a_row: s.rewrite_failures_in_a_row,
            rewrite_scheduled: s.retry_scheduled,
            last_write_ok: failure.is_none(),
            needs_base: failure.as_ref().is_some_and(|f| !f.terminal),
            fail_reason: failure.map(|f| f.detail),
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
        self.closing.store(true, Ordering::Release);
        self.wake.notify_all();
        let handle = lock(&self.writer).take();
        if let Some(h) = handle {
            if h.join().is_err() {
                self.fail_stop("log writer thread panicked".into());
            }
        }
        let mut gate = lock(&self.rewrite_gate);
        while self.rewriting.load(Ordering::Acquire) {
            gate = self
                .rewrite_idle
                .wait(gate)
                .unwrap_or_else(|e| e.into_inner());
        }
        drop(gate);
        drop(lock(&self.dir_lock).take());
        match self.failure_error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
