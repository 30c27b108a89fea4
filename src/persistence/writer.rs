//! The log writer: one std thread that moves the append buffer to the current segment file.
//!
//! Each round it takes the *whole* buffer under the queue lock, then writes it without the
//! lock, so appenders never wait for I/O and one write + one fsync covers every record
//! appended since the previous round (group commit).
//!
//! Per policy: `Always` writes and fsyncs every round, then publishes the synced LSN that
//! `durable` waiters watch. `EverySec` and `No` let a round gather for up to
//! [`WRITE_INTERVAL`], and `EverySec` fsyncs when a second has passed on the engine's
//! [`WriterClock`](super::WriterClock) since the last fsync. Rotation and shutdown always fsync.
//!
//! # Errors
//! A failed write is cut off the file (so the segment ends on a record boundary, as Redis
//! does), then the segment is *poisoned*: the writer drops every round until a rotation gives
//! it a fresh segment, and the engine's health turns broken (see `health.rs`: recoverable by a
//! base from memory, or fail-stop under `always`). A failed rotation is not a log error: the
//! writer stays on its segment and the rewrite that asked for it fails.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::engine::{lock, Rotation, Shared, FLUSH_BYTES};
use super::format::{encode_header, FileKind, Header, HEADER_LEN};
use super::fs::FsFile;
use super::names::segment_path;
use super::{FsyncPolicy, Lsn, PersistError};

/// How long `EverySec`/`No` let a batch gather before writing it to the OS.
pub(crate) const WRITE_INTERVAL: Duration = Duration::from_millis(2);
const SYNC_INTERVAL: Duration = Duration::from_secs(1);
/// A buffer kept between rounds larger than this is released after a burst.
const KEEP_CAPACITY: usize = 2 * FLUSH_BYTES;

/// Creates segment `id`: header written and fsynced, directory entry fsynced, so records
/// fsynced into it later cannot vanish with the file. On failure nothing of it is left
/// (as far as the directory lets us remove it).
pub(crate) fn create_segment(shared: &Shared, id: u64) -> Result<Box<dyn FsFile>, PersistError> {
    let fs = &shared.opts.fs;
    let path = segment_path(shared.dir(), id);
    let io = |op| move |e| PersistError::io(op, segment_path(shared.dir(), id), e);
    let mut f = fs.create(&path).map_err(io("create"))?;
    let header = encode_header(&Header {
        kind: FileKind::Log,
        id,
        time_secs: 0,
    });
    let written = f
        .write_all(&header)
        .map_err(io("write"))
        .and_then(|()| f.sync_data().map_err(io("fsync")))
        .and_then(|()| {
            fs.sync_dir(shared.dir())
                .map_err(|e| PersistError::io("fsync dir", shared.dir(), e))
        });
    if let Err(e) = written {
        drop(f);
        if let Err(re) = fs.remove(&path) {
            tracing::warn!("removing the unfinished {}: {re}", path.display());
        }
        return Err(e);
    }
    lock(&shared.stats).log_sizes.insert(id, HEADER_LEN as u64);
    Ok(f)
}

/// Starts the writer thread on segment `seg` (already created by [`create_segment`]).
pub(crate) fn spawn(
    shared: Arc<Shared>,
    file: Box<dyn FsFile>,
    seg: u64,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    // Built here, not on the new thread: its clock reading must precede anything the caller
    // does next (a test moving the clock).
    let writer = Writer::new(shared, file, seg);
    std::thread::Builder::new()
        .name("llmcached-aof".into())
        .spawn(move || writer.run())
}

/// Marks the writer gone however its thread ends, so a rewrite waiting for a rotation wakes
/// up; a panic is fail-stop.
struct Gone(Arc<Shared>);

impl Drop for Gone {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail_stop("log writer thread panicked".into());
        }
        lock(&self.0.queue).writer_gone = true;
        self.0.rotated.notify_all();
    }
}

struct Writer {
    shared: Arc<Shared>,
    /// `None` while poisoned: a write or fsync of segment `seg` failed.
    file: Option<Box<dyn FsFile>>,
    seg: u64,
    /// Bytes of the current segment written without error: where a partial write is cut.
    len: u64,
    spare: Vec<u8>,
    last_write: Instant,
    /// On the engine's writer clock.
    last_sync: Duration,
    /// LSN of the last record written to the file but not yet fsynced.
    unsynced: Option<Lsn>,
}

struct Round {
    buf: Vec<u8>,
    lsn: Lsn,
    rotate: Option<Rotation>,
    shutdown: bool,
    /// The writer clock when the buffer was taken. An fsync is due by this reading, not by a
    /// later one: whoever appended and then moved the clock finds their records in the
    /// round that fsyncs.
    now: Duration,
}

impl Writer {
    fn new(shared: Arc<Shared>, file: Box<dyn FsFile>, seg: u64) -> Writer {
        let last_sync = shared.opts.clock.now();
        Writer {
            shared,
            file: Some(file),
            seg,
            len: HEADER_LEN as u64,
            spare: Vec::new(),
            last_write: Instant::now(),
            last_sync,
            unsynced: None,
        }
    }

    fn run(mut self) {
        let _gone = Gone(Arc::clone(&self.shared));
        loop {
            let round = self.next_round();
            self.process(&round);
            let shutdown = round.shutdown;
            let mut buf = round.buf;
            buf.clear();
            if buf.capacity() > KEEP_CAPACITY {
                buf = Vec::new();
            }
            self.spare = buf;
            if shutdown {
                return;
            }
        }
    }

    /// Waits until there is something to do, then takes the buffer.
    fn next_round(&mut self) -> Round {
        let shared = Arc::clone(&self.shared);
        let policy = shared.fsync();
        let clock = &shared.opts.clock;
        let mut q = lock(&shared.queue);
        loop {
            if q.shutdown || q.rotate.is_some() {
                break;
            }
            if !q.buf.is_empty() {
                let since = self.last_write.elapsed();
                if policy == FsyncPolicy::Always
                    || q.buf.len() >= FLUSH_BYTES
                    || since >= WRITE_INTERVAL
                {
                    break;
                }
                q = shared
                    .wake
                    .wait_timeout(q, WRITE_INTERVAL - since)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                continue;
            }
            if policy == FsyncPolicy::EverySec && self.unsynced.is_some() {
                let since = clock.now().saturating_sub(self.last_sync);
                if since >= SYNC_INTERVAL {
                    break;
                }
                q = match clock.wait_limit(SYNC_INTERVAL - since) {
                    Some(d) => {
                        shared
                            .wake
                            .wait_timeout(q, d)
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                    None => shared.wake.wait(q).unwrap_or_else(|e| e.into_inner()),
                };
                continue;
            }
            q = shared.wake.wait(q).unwrap_or_else(|e| e.into_inner());
        }
        let buf = std::mem::replace(&mut q.buf, std::mem::take(&mut self.spare));
        Round {
            buf,
            lsn: q.last_lsn,
            rotate: q.rotate.take(),
            shutdown: q.shutdown,
            now: clock.now(),
        }
    }

    fn process(&mut self, round: &Round) {
        match round.rotate {
            None => self.write(&round.buf, round.lsn),
            Some(r) => {
                self.write(&round.buf[..r.at], r.lsn);
                self.sync(round.now);
                let answer = self.rotate_to(r.seg);
                let mut q = lock(&self.shared.queue);
                q.rotation_answered = q.rotation_answered.max(r.seg);
                match answer {
                    Ok(()) => q.current_seg = q.current_seg.max(r.seg),
                    Err(e) => q.rotation_error = Some((r.seg, e)),
                }
                drop(q);
                self.shared.rotated.notify_all();
                self.write(&round.buf[r.at..], round.lsn);
            }
        }
        let sync_now = round.shutdown
            || match self.shared.fsync() {
                FsyncPolicy::Always => true,
                FsyncPolicy::EverySec => round.now.saturating_sub(self.last_sync) >= SYNC_INTERVAL,
                FsyncPolicy::No => false,
            };
        if sync_now {
            self.sync(round.now);
        }
    }

    /// Switches to a fresh segment `seg`; on failure stays where it was (poisoned or not).
    fn rotate_to(&mut self, seg: u64) -> Result<(), PersistError> {
        if let Some(e) = self.shared.terminal_error() {
            return Err(e);
        }
        let file = create_segment(&self.shared, seg)?;
        self.file = Some(file);
        self.seg = seg;
        self.len = HEADER_LEN as u64;
        self.unsynced = None;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8], lsn: Lsn) {
        if bytes.is_empty() {
            return;
        }
        // Poisoned: the base that repairs the log covers these records.
        let Some(file) = self.file.as_mut() else {
            self.lost(lsn);
            return;
        };
        if let Err(e) = file.write_all(bytes) {
            if let Err(te) = file.truncate_to(self.len) {
                tracing::warn!(
                    "cannot cut a partial write off {}: {te}",
                    segment_path(self.shared.dir(), self.seg).display()
                );
            }
            self.poison("write", e, lsn);
            return;
        }
        self.len += bytes.len() as u64;
        self.last_write = Instant::now();
        self.unsynced = Some(lsn);
        *lock(&self.shared.stats)
            .log_sizes
            .entry(self.seg)
            .or_insert(0) += bytes.len() as u64;
    }

    /// `now`: the round's clock reading (see [`Round::now`]).
    fn sync(&mut self, now: Duration) {
        if let (Some(lsn), Some(file)) = (self.unsynced, self.file.as_mut()) {
            if let Err(e) = file.sync_data() {
                self.poison("fsync", e, lsn);
                return;
            }
            self.unsynced = None;
            self.shared
                .progress
                .send_modify(|p| p.synced = p.synced.max(lsn));
        }
        self.last_sync = now;
    }

    /// The segment failed at a record up to `lsn`: nothing written to it and not yet synced
    /// will be, so those records are lost to the log (memory and the repairing base keep them).
    fn poison(&mut self, op: &'static str, e: std::io::Error, lsn: Lsn) {
        self.file = None;
        let lost = self.unsynced.take().map_or(lsn, |u| u.max(lsn));
        let err = PersistError::io(op, segment_path(self.shared.dir(), self.seg), e);
        self.shared.log_failed(self.seg, &err);
        self.lost(lost);
    }

    fn lost(&self, lsn: Lsn) {
        self.shared
            .progress
            .send_modify(|p| p.lost = p.lost.max(lsn));
    }
}
