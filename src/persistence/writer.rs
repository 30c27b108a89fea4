//! The log writer: one std thread that moves the append buffer to the current segment file.
//!
//! Each round it takes the *whole* buffer under the queue lock, then writes it without the
//! lock, so appenders never wait for I/O and one write + one fsync covers every record
//! appended since the previous round (group commit).
//!
//! Per policy: `Always` writes and fsyncs every round, then publishes the synced LSN that
//! `durable` waiters watch. `EverySec` and `No` let a round gather for up to
//! [`WRITE_INTERVAL`], and `EverySec` fsyncs when a second has passed since the last fsync.
//! Rotation and shutdown always fsync.
//!
//! Any write or fsync error is final (fail-stop): the writer stops writing and drops what
//! it is handed; appends are refused from then on.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::engine::{lock, Rotation, Shared, FLUSH_BYTES};
use super::format::{encode_header, FileKind, Header, HEADER_LEN};
use super::fs::FsFile;
use super::{FsyncPolicy, Lsn, PersistError};

/// How long `EverySec`/`No` let a batch gather before writing it to the OS.
pub(crate) const WRITE_INTERVAL: Duration = Duration::from_millis(2);
const SYNC_INTERVAL: Duration = Duration::from_secs(1);
/// A buffer kept between rounds larger than this is released after a burst.
const KEEP_CAPACITY: usize = 2 * FLUSH_BYTES;

pub(crate) fn segment_path(dir: &std::path::Path, id: u64) -> PathBuf {
    dir.join(format!("log.{id:012}"))
}

/// Creates segment `id`: header written and fsynced, directory entry fsynced, so records
/// fsynced into it later cannot vanish with the file.
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
    f.write_all(&header).map_err(io("write"))?;
    f.sync_data().map_err(io("fsync"))?;
    fs.sync_dir(shared.dir())
        .map_err(|e| PersistError::io("fsync dir", shared.dir(), e))?;
    lock(&shared.stats).log_sizes.insert(id, HEADER_LEN as u64);
    Ok(f)
}

/// Starts the writer thread on segment `seg` (already created by [`create_segment`]).
pub(crate) fn spawn(
    shared: Arc<Shared>,
    file: Box<dyn FsFile>,
    seg: u64,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("llmcached-aof".into())
        .spawn(move || Writer::new(shared, file, seg).run())
}

struct Writer {
    shared: Arc<Shared>,
    file: Box<dyn FsFile>,
    seg: u64,
    spare: Vec<u8>,
    last_write: Instant,
    last_sync: Instant,
    /// LSN of the last record written to the file but not yet fsynced.
    unsynced: Option<Lsn>,
}

struct Round {
    buf: Vec<u8>,
    lsn: Lsn,
    rotate: Option<Rotation>,
    shutdown: bool,
}

impl Writer {
    fn new(shared: Arc<Shared>, file: Box<dyn FsFile>, seg: u64) -> Writer {
        let now = Instant::now();
        Writer {
            shared,
            file,
            seg,
            spare: Vec::new(),
            last_write: now,
            last_sync: now,
            unsynced: None,
        }
    }

    fn run(mut self) {
        loop {
            let round = self.next_round();
            let shutdown = round.shutdown;
            if self.shared.fail.get().is_none() {
                if let Err(e) = self.process(&round) {
                    self.shared.fail_stop(e.to_string());
                }
            }
            if round.rotate.is_some() {
                // Whether it worked or not, the rewrite waiting on it must wake up.
                let mut q = lock(&self.shared.queue);
                if let Some(r) = round.rotate {
                    q.current_seg = q.current_seg.max(r.seg);
                }
                drop(q);
                self.shared.rotated.notify_all();
            }
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
        let policy = shared.opts.fsync;
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
                let since = self.last_sync.elapsed();
                if since >= SYNC_INTERVAL {
                    break;
                }
                q = shared
                    .wake
                    .wait_timeout(q, SYNC_INTERVAL - since)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
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
        }
    }

    fn process(&mut self, round: &Round) -> Result<(), PersistError> {
        let policy = self.shared.opts.fsync;
        match round.rotate {
            None => self.write(&round.buf, round.lsn)?,
            Some(r) => {
                self.write(&round.buf[..r.at], r.lsn)?;
                self.sync()?;
                self.file = create_segment(&self.shared, r.seg)?;
                self.seg = r.seg;
                self.write(&round.buf[r.at..], round.lsn)?;
            }
        }
        let sync_now = round.shutdown
            || match policy {
                FsyncPolicy::Always => true,
                FsyncPolicy::EverySec => self.last_sync.elapsed() >= SYNC_INTERVAL,
                FsyncPolicy::No => false,
            };
        if sync_now {
            self.sync()?;
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8], lsn: Lsn) -> Result<(), PersistError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.file
            .write_all(bytes)
            .map_err(|e| self.error("write", e))?;
        self.last_write = Instant::now();
        self.unsynced = Some(lsn);
        *lock(&self.shared.stats)
            .log_sizes
            .entry(self.seg)
            .or_insert(0) += bytes.len() as u64;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), PersistError> {
        if let Some(lsn) = self.unsynced {
            self.file.sync_data().map_err(|e| self.error("fsync", e))?;
            self.unsynced = None;
            self.shared
                .progress
                .send_modify(|p| p.synced = p.synced.max(lsn));
        }
        self.last_sync = Instant::now();
        Ok(())
    }

    fn error(&self, op: &'static str, e: std::io::Error) -> PersistError {
        PersistError::io(op, segment_path(self.shared.dir(), self.seg), e)
    }
}
