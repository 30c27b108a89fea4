//! Persistence: an append-only log of full-state records plus base snapshots, in one directory.
//!
//! # Layout
//! - `format.rs`   on-disk byte tables, record encoding and decoding
//! - `fs.rs`       the file-system trait the engine uses, and the real implementation
//! - `sim.rs`      a simulated file system that knows which bytes are durable (crash tests)
//! - `clock.rs`    the writer's clock (`everysec` cadence), real or driven by tests
//! - `engine.rs`   shared state: the append buffer, counters, status
//! - `health.rs`   the log's health after a write error, and its repair by a base
//! - `writer.rs`   the log writer thread: write, fsync (group commit), segment rotation
//! - `recovery.rs` which files to replay, in which order; leftovers to remove
//! - `loader.rs`   the [`Loader`]: streams records, cuts torn tails, applies expiry
//! - `rewrite.rs`  writing a new base from the live keyspace, then dropping what it covers
//! - `schedule.rs` the Redis `save` schedule
//! - `status.rs`   [`Status`] and its `INFO persistence` fields
//! - `error.rs`    [`PersistError`] and the Redis replies it maps to
//!
//! # Model
//! Every write to the keyspace is logged as the *full state* of the key afterwards
//! ([`Record::Set`]), or as [`Record::Del`] / [`Record::FlushAll`]. Replaying records in order
//! over any base that was taken after the segment rotation that preceded it converges to the
//! right state, which is what lets a rewrite run while appends continue.
//!
//! Files: `base.<N>` (complete snapshot, replaces older bases atomically by rename) and
//! `log.<M>` for every `M >= N`, replayed in order. Expiry times are absolute unix milliseconds.
//!
//! # Modes
//! - `appendonly` on: every append goes to the log; durability per [`FsyncPolicy`].
//! - `appendonly` off, save schedule set: appends only count changes; bases are written by
//!   [`Persistence::rewrite`] (Redis's RDB-only mode: writes since the last snapshot are lost
//!   on a crash).
//! - both off: purely in memory; `open` neither reads nor creates the directory.
//!
//! # Use from the server
//! ```
//! use std::collections::BTreeMap;
//! use std::sync::{Arc, Mutex};
//! use bytes::Bytes;
//! use llmcached::persistence::{Options, Persistence, Record, SetMeta, Value};
//!
//! # let tmp = tempfile::tempdir().unwrap();
//! # let now_ms = 1_800_000_000_000;
//! // Startup: open, then replay into an empty store (answering -LOADING meanwhile).
//! let (p, mut loader) = Persistence::open(Options::new(tmp.path()), now_ms)?;
//! let store = Mutex::new(BTreeMap::new()); // stands in for the real store
//! for rec in loader.by_ref() {
//!     match rec? {
//!         Record::Set { key, value, expire_at_ms, .. } => { store.lock().unwrap().insert(key, (value, expire_at_ms)); }
//!         Record::Del { key } => { store.lock().unwrap().remove(&key); }
//!         Record::FlushAll => store.lock().unwrap().clear(),
//!         Record::Dict { .. } => {} // a compression dictionary (the real store keeps it)
//!     }
//! }
//! let p = Arc::new(p);
//!
//! // Write path: refuse early, apply + append under the key's lock, then wait for durability
//! // before replying (a no-op unless appendfsync is `always`).
//! p.check_writable()?;
//! let rec = Record::Set { key: Bytes::from("k"), value: Value::Str(Bytes::from("v")), expire_at_ms: None, meta: SetMeta::default() };
//! let lsn = {
//!     let mut s = store.lock().unwrap();
//!     s.insert(Bytes::from("k"), (Value::Str(Bytes::from("v")), None));
//!     p.append(&rec)?
//! };
//! tokio::runtime::Builder::new_current_thread().build()?.block_on(p.durable(lsn))?;
//!
//! // Housekeeping tick (BGREWRITEAOF / BGSAVE run the same call on a std thread). It also
//! // repairs the log after a write error (`needs_base`) and retries failed rewrites.
//! if p.rewrite_due(now_ms) {
//!     let snapshot: Vec<Record> = Vec::new(); // the server iterates its store lazily here
//!     p.rewrite(now_ms, || snapshot)?;
//! }
//!
//! // Clean exit.
//! p.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod clock;
pub mod dump;
mod engine;
mod error;
mod format;
pub mod fs;
mod health;
mod loader;
mod names;
mod recovery;
mod retry;
mod rewrite;
mod schedule;
pub mod sim;
mod status;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

pub use clock::{ManualClock, WriterClock};
pub use error::{os_reason, PersistError};
pub use format::FORMAT_VERSION;
pub use loader::{LoadProgress, Loader};
pub use rewrite::RewriteStats;
pub use schedule::{SaveRule, SaveSchedule, ScheduleError, DEFAULT_SAVE};
pub use status::Status;

use engine::Shared;
use fs::{Fs, OsFs};

/// Sequence number of an appended record; strictly increasing per engine.
pub type Lsn = u64;

/// The value kinds the store holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Bytes),
    /// A string stored compressed: one zstd frame, naming its dictionary (a [`Record::Dict`]
    /// earlier in the files) by id, or none (format version 3).
    Packed(Bytes),
    Hash(Vec<(Bytes, Bytes)>),
    /// A serialized JSON document.
    Json(Bytes),
    /// A list's items, head first.
    List(Vec<Bytes>),
    /// A set's members.
    Set(Vec<Bytes>),
    /// A sorted set's (score, member) pairs.
    ZSet(Vec<(f64, Bytes)>),
}

/// What a stored value records besides itself and its expiry (format version 2; records of
/// version 1 files read as all zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetMeta {
    /// When the value was written, unix ms (0: unknown).
    pub stored_at_ms: u64,
    /// The stale window at the end of its life, ms: it is fresh until `expire_at_ms - grace_ms`.
    pub grace_ms: u64,
    /// Tokens the answer cost to produce.
    pub tokens: u64,
}

/// One logged change.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// The full state of `key` after a write. `expire_at_ms` is absolute unix milliseconds.
    Set {
        key: Bytes,
        value: Value,
        expire_at_ms: Option<u64>,
        meta: SetMeta,
    },
    /// `key` no longer exists (deleted, expired or evicted).
    Del { key: Bytes },
    /// Every key is gone.
    FlushAll,
    /// A compression dictionary that later [`Value::Packed`] values may name (format version
    /// 3). Not about a key: loading applies it before the records that follow.
    Dict { id: u32, prefix: Bytes, dict: Bytes },
}

impl Record {
    /// The key this record is about, if any.
    pub fn key(&self) -> Option<&Bytes> {
        match self {
            Record::Set { key, .. } | Record::Del { key } => Some(key),
            Record::FlushAll | Record::Dict { .. } => None,
        }
    }
}

/// When an appended record is made durable (Redis `appendfsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// fsync before [`Persistence::durable`] resolves; one fsync covers every append made
    /// before it (group commit). An acknowledged write survives power loss.
    Always,
    /// Written to the OS within a few milliseconds, fsynced once a second: a power cut loses
    /// about one second at most.
    #[default]
    EverySec,
    /// Written to the OS within a few milliseconds, fsynced only on rotation and shutdown.
    No,
}

impl FsyncPolicy {
    /// Parses Redis's `appendfsync` values: `always`, `everysec`, `no` (any case).
    pub fn parse(s: &str) -> Option<FsyncPolicy> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(FsyncPolicy::Always),
            "everysec" => Some(FsyncPolicy::EverySec),
            "no" => Some(FsyncPolicy::No),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FsyncPolicy::Always => "always",
            FsyncPolicy::EverySec => "everysec",
            FsyncPolicy::No => "no",
        }
    }
}

/// Engine configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// Data directory (created if missing).
    pub dir: PathBuf,
    /// Log every write (`--appendonly yes`).
    pub appendonly: bool,
    pub fsync: FsyncPolicy,
    /// Snapshot schedule (`--save`); drives [`Persistence::snapshot_due`].
    pub save: SaveSchedule,
    /// Load the valid records of a corrupt file and skip the rest of it instead of failing
    /// (`--aof-load-corrupt yes`). The skipped bytes are reported in warnings.
    pub load_corrupt: bool,
    /// Rewrite when the log has grown by this percentage of the base (Redis
    /// `auto-aof-rewrite-percentage`; 100 keeps the disk at about twice the live data).
    pub rewrite_percentage: u64,
    /// ... and is at least this many bytes (Redis `auto-aof-rewrite-min-size`).
    pub rewrite_min_size: u64,
    /// The file system; [`OsFs`] except in crash tests.
    pub fs: Arc<dyn Fs>,
    /// When `everysec` fsyncs; [`WriterClock::Real`] except in tests.
    pub clock: WriterClock,
}

impl Options {
    /// Defaults: append-only on, `everysec`, Redis's default save schedule.
    pub fn new(dir: impl Into<PathBuf>) -> Options {
        Options {
            dir: dir.into(),
            appendonly: true,
            fsync: FsyncPolicy::EverySec,
            save: SaveSchedule::parse(DEFAULT_SAVE).expect("the default schedule parses"),
            load_corrupt: false,
            rewrite_percentage: 100,
            rewrite_min_size: 64 << 20,
            fs: Arc::new(OsFs),
            clock: WriterClock::Real,
        }
    }

    /// True when nothing is ever read from or written to disk.
    pub fn in_memory(&self) -> bool {
        !self.appendonly && self.save.is_off()
    }
}

/// The persistence engine. `Send + Sync`; share it with an `Arc`.
///
/// Dropping it shuts it down as [`Persistence::shutdown`] does, ignoring errors.
#[derive(Debug)]
pub struct Persistence {
    shared: Arc<Shared>,
}

impl Persistence {
    /// Changes when appends are fsynced (CONFIG SET appendfsync).
    pub fn set_fsync(&self, policy: FsyncPolicy) {
        self.shared.set_fsync(policy);
    }

    /// Changes the snapshot schedule (CONFIG SET save).
    pub fn set_save(&self, save: SaveSchedule) {
        *engine::lock(&self.shared.save) = save;
    }

    /// Opens (or creates) the data directory and plans recovery. Returns the engine and the
    /// [`Loader`] that yields the records to apply, in order, to an empty store.
    ///
    /// Nothing is read past the file headers here: the caller drives the loader (and can answer
    /// `-LOADING` meanwhile). Until the loader has returned `None`, [`append`](Self::append)
    /// and [`rewrite`](Self::rewrite) fail with [`PersistError::Loading`]. `now_ms` (unix ms)
    /// decides which keys have expired while the server was down.
    pub fn open(opts: Options, now_ms: u64) -> Result<(Persistence, Loader), PersistError> {
        let (shared, loader) = recovery::open(opts, now_ms)?;
        Ok((Persistence { shared }, loader))
    }

    /// Logs one record and returns its sequence number. Cheap: it encodes into a shared
    /// buffer under a short lock and never waits for I/O.
    ///
    /// # Ordering
    /// Records of one key must be appended in the order they were applied to the store; the
    /// caller holds its per-key lock around apply + append. Records of different keys may
    /// interleave freely. [`Record::FlushAll`] touches every key, so its apply + append must
    /// exclude all other writes (hold every stripe). An eviction's [`Record::Del`] must be
    /// appended under the key's lock and only if the key is still absent, or it could delete
    /// a newer value written between the eviction and the append.
    ///
    /// # Errors
    /// [`PersistError::FailStop`] after a log write error under `always`,
    /// [`PersistError::SnapshotFailed`] in snapshot-only mode after a failed snapshot,
    /// [`PersistError::Loading`] before the loader finished, [`PersistError::Closed`] after
    /// shutdown. While the log is broken under `everysec`/`no` appends are still taken (the
    /// store has applied them; the repairing base holds them). The caller should have
    /// checked [`check_writable`](Self::check_writable) *before* changing the store.
    pub fn append(&self, rec: &Record) -> Result<Lsn, PersistError> {
        self.shared.append(rec)
    }

    /// Fails when a write would be refused: call before applying a write to the store so a
    /// refused write leaves memory unchanged (Redis checks MISCONF before executing). While
    /// the log is broken: [`PersistError::WriteFailed`] (until a base repairs it) or
    /// [`PersistError::FailStop`].
    pub fn check_writable(&self) -> Result<(), PersistError> {
        self.shared.check_writable()
    }

    /// Resolves once the record `lsn` (and all before it) is as durable as the policy
    /// promises: with [`FsyncPolicy::Always`] written and fsynced (an error if the log broke
    /// first); otherwise at once, even while the log is broken, since memory holds the write
    /// and the repairing base will.
    ///
    /// # Cancellation
    /// Dropping the future only stops waiting; the record is still written.
    pub async fn durable(&self, lsn: Lsn) -> Result<(), PersistError> {
        self.shared.durable(lsn).await
    }

    /// Resolves once the record `lsn` is fsynced, whatever the policy: within about a second
    /// with `EverySec`; with `No` only at the next rotation or shutdown. Without a log
    /// (`appendonly` off) it resolves at once. For tests and diagnostics; the write path
    /// uses [`durable`](Self::durable).
    pub async fn synced(&self, lsn: Lsn) -> Result<(), PersistError> {
        self.shared.synced(lsn).await
    }

    /// Writes a new base from `snapshot` and drops the log segments it covers. Blocking: run
    /// it on a dedicated thread for BGSAVE/BGREWRITEAOF, inline for SAVE.
    ///
    /// `snapshot` is called *after* the log has been rotated and must iterate the live
    /// keyspace as [`Record::Set`]s; appends may continue meanwhile. Sets already expired at
    /// `now_ms` are left out.
    ///
    /// A committed base also repairs a broken log: it holds everything the failed segments
    /// missed, so writes are accepted again (see [`needs_base`](Self::needs_base)).
    ///
    /// # Errors
    /// [`PersistError::RewriteInProgress`] if one is running, I/O errors (the previous base
    /// and logs stay in place and valid, the log writer goes on, the temporary file is
    /// removed, and [`rewrite_due`](Self::rewrite_due) retries after a backoff),
    /// [`PersistError::FailStop`], `Loading`, `Closed` when shutdown stopped it.
    pub fn rewrite<F, I>(&self, now_ms: u64, snapshot: F) -> Result<RewriteStats, PersistError>
    where
        F: FnOnce() -> I,
        I: IntoIterator<Item = Record>,
    {
        rewrite::rewrite(&self.shared, now_ms, snapshot)
    }

    /// True when the log has outgrown the base (see [`Options::rewrite_percentage`]) or the
    /// last load skipped corrupt bytes, and no rewrite is running.
    pub fn needs_rewrite(&self) -> bool {
        self.shared.needs_rewrite()
    }

    /// True when the save schedule asks for a snapshot at `now_ms`.
    pub fn snapshot_due(&self, now_ms: u64) -> bool {
        self.shared.snapshot_due(now_ms)
    }

    /// True when the housekeeping tick should run [`rewrite`](Self::rewrite) from the store
    /// now: the log needs a base to be whole again ([`needs_base`](Self::needs_base)), a failed
    /// rewrite is to be retried, the log outgrew its base, or the save schedule is due; and
    /// no rewrite is running and the backoff after failures (1 s doubling to a minute) has
    /// passed at `now_ms`.
    pub fn rewrite_due(&self, now_ms: u64) -> bool {
        self.shared.rewrite_due(now_ms)
    }

    /// True while a write or fsync of the log has failed under `everysec`/`no` and no base has
    /// repaired it: writes are refused, and a rewrite from the store makes the disk whole
    /// again. Worth one last rewrite before a clean exit, or what memory holds beyond the log
    /// is lost at restart.
    pub fn needs_base(&self) -> bool {
        self.shared.needs_base()
    }

    pub fn status(&self) -> Status {
        self.shared.status()
    }

    /// Writes and fsyncs everything appended, stops the writer thread and refuses later
    /// appends; a running rewrite stops at its next record (its temporary file removed) and
    /// is waited for; then the directory lock is released. Idempotent.
    ///
    /// # Deadlock
    /// Never call it from inside a rewrite's `snapshot` iterator: it waits for that rewrite.
    pub fn shutdown(&self) -> Result<(), PersistError> {
        self.shared.shutdown()
    }
}

impl Drop for Persistence {
    fn drop(&mut self) {
        if let Err(e) = self.shared.shutdown() {
            tracing::warn!("persistence shutdown on drop: {e}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}

    #[test]
    fn handles_can_cross_threads() {
        send_sync::<Persistence>();
        send_sync::<Options>();
        let fs = sim::SimFs::new();
        let mut o = Options::new("/d");
        o.fs = Arc::new(fs);
        let (p, loader) = Persistence::open(o, 0).unwrap();
        send(&loader);
        // The futures must be Send so the server can await them in spawned tasks.
        send(&p.durable(1));
        send(&p.synced(1));
    }

    #[test]
    fn fsync_policy_names_match_redis() {
        for p in [FsyncPolicy::Always, FsyncPolicy::EverySec, FsyncPolicy::No] {
            assert_eq!(FsyncPolicy::parse(p.as_str()), Some(p));
        }
        assert_eq!(FsyncPolicy::parse("EVERYSEC"), Some(FsyncPolicy::EverySec));
        assert_eq!(FsyncPolicy::parse("sometimes"), None);
    }
}
