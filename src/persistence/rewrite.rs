//! Rewrite (compaction) and snapshots: write a new base from the live keyspace.
//!
//! # Why it is correct while appends continue
//! 1. Rotate: records appended from now on go to a new segment `S` (with appendonly on; the
//!    writer fsyncs the old segment and creates `S` before we go on).
//! 2. Only then iterate the keyspace into `base.tmp`. Each key is read at some moment after
//!    the rotation, so every change to it that the base misses is in a segment `>= S`, and
//!    since records are full states replayed in order, base + segments `>= S` converge to the
//!    live state.
//! 3. fsync `base.tmp`, rename it to `base.<S>`, fsync the directory: the commit point. A
//!    crash before it leaves the old base + logs in charge; after it, the new ones.
//! 4. Remove the bases and segments below `S` (recovery also removes such leftovers).
//!
//! # Failures
//! A failed rewrite leaves the previous base and logs in charge and the log writer going; it
//! removes its temporary file, is counted (`aof_last_bgrewrite_status:err`), and is retried
//! after a backoff ([`Shared::rewrite_due`]). Writes go on, except in snapshot-only mode,
//! where the snapshot is all there is (Redis's `stop-writes-on-bgsave-error`).
//!
//! A committed base also repairs a broken log (see `health.rs`): it holds every record
//! appended before the rotation, whatever happened to the segments that held them.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::engine::{lock, Mode, Rotation, Shared};
use super::format::{encode_end, encode_header, encode_record, FileKind, Header};
use super::names::{base_path, parse_name, BASE_TMP};
use super::retry::retry_delay_ms;
use super::{Lsn, PersistError, Record};

/// Base files are written in chunks of this size.
const CHUNK: usize = 1 << 20;

/// What a successful rewrite wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewriteStats {
    /// Id of the new base; log segments from this id on follow it.
    pub base_id: u64,
    pub records: u64,
    pub bytes: u64,
}

/// Clears the in-progress flag however the rewrite ends, including a panic in the caller's
/// snapshot iterator, and wakes a shutdown waiting for it.
struct Running<'a>(&'a Shared);

impl Running<'_> {
    fn start(shared: &Shared) -> Result<Running<'_>, PersistError> {
        let _gate = lock(&shared.rewrite_gate);
        if shared.rewriting.swap(true, Ordering::AcqRel) {
            return Err(PersistError::RewriteInProgress);
        }
        Ok(Running(shared))
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let _gate = lock(&self.0.rewrite_gate);
        self.0.rewriting.store(false, Ordering::Release);
        self.0.rewrite_idle.notify_all();
    }
}

pub(crate) fn rewrite<F, I>(
    shared: &Arc<Shared>,
    now_ms: u64,
    snapshot: F,
) -> Result<RewriteStats, PersistError>
where
    F: FnOnce() -> I,
    I: IntoIterator<Item = Record>,
{
    if shared.loading.load(Ordering::Acquire) {
        return Err(PersistError::Loading);
    }
    if let Some(e) = shared.terminal_error() {
        return Err(e);
    }
    let _running = Running::start(shared)?;
    let dirty_before = shared.dirty.load(Ordering::Relaxed);
    let started = std::time::Instant::now();
    lock(&shared.stats).rewrite_started_ms = Some(now_ms);
    let mut covered = 0;
    let result = rotate(shared).and_then(|(id, lsn)| {
        covered = lsn;
        write_base(shared, id, now_ms, snapshot)
    });
    let mut st = lock(&shared.stats);
    st.last_attempt = Some((now_ms, result.is_ok()));
    st.last_rewrite_ok = result.is_ok();
    st.rewrite_started_ms = None;
    st.retry_scheduled = result.is_err();
    if result.is_ok() {
        st.rewrites += 1;
        st.rewrite_failures_in_a_row = 0;
    } else {
        st.rewrite_failures_in_a_row += 1;
    }
    let failures = st.rewrite_failures_in_a_row;
    st.last_rewrite_took_ms =
        Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    match &result {
        Ok(stats) => {
            st.base_size = stats.bytes;
            st.log_sizes.retain(|&seg, _| seg >= stats.base_id);
            st.last_save_ms = now_ms;
            st.force_rewrite = false;
            drop(st);
            shared.dirty.fetch_sub(dirty_before, Ordering::Relaxed);
            tracing::info!(
                "persistence: wrote base {} ({} keys, {} bytes)",
                stats.base_id,
                stats.records,
                stats.bytes
            );
            if shared.mode == Mode::Aof {
                shared.base_committed(stats.base_id, covered);
            }
        }
        Err(PersistError::Closed) => drop(st),
        Err(e) => {
            drop(st);
            tracing::warn!(
                "persistence: rewrite failed ({failures} in a row): {e}; the previous files stay \
                 in charge, and a retry follows in {} s at the earliest",
                retry_delay_ms(failures) / 1000
            );
        }
    }
    result
}

/// Starts a new segment and returns its id, which the new base will carry, and the last LSN
/// before it. Waits until the writer has switched, so everything appended before this call
/// is in older segments.
fn rotate(shared: &Shared) -> Result<(u64, Lsn), PersistError> {
    let mut q = lock(&shared.queue);
    if q.shutdown {
        return Err(PersistError::Closed);
    }
    let seg = q.next_seg;
    q.next_seg += 1;
    let lsn = q.last_lsn;
    if shared.mode != Mode::Aof {
        return Ok((seg, lsn));
    }
    q.rotate = Some(Rotation {
        at: q.buf.len(),
        lsn,
        seg,
    });
    shared.wake.notify_one();
    // The writer answers every rotation, carried out or not, until it is gone.
    while q.rotation_answered < seg && !q.writer_gone {
        q = shared.rotated.wait(q).unwrap_or_else(|e| e.into_inner());
    }
    if q.rotation_answered < seg {
        return Err(shared.terminal_error().unwrap_or(PersistError::Closed));
    }
    match q.rotation_error.take() {
        Some((s, e)) if s == seg => Err(e),
        _ => Ok((seg, lsn)),
    }
}

fn write_base<F, I>(
    shared: &Shared,
    id: u64,
    now_ms: u64,
    snapshot: F,
) -> Result<RewriteStats, PersistError>
where
    F: FnOnce() -> I,
    I: IntoIterator<Item = Record>,
{
    let fs = &shared.opts.fs;
    let dir = shared.dir();
    fs.create_dir_all(dir)
        .map_err(|e| PersistError::io("create dir", dir, e))?;
    let tmp = dir.join(BASE_TMP);
    let io = |op| move |e| PersistError::io(op, dir.join(BASE_TMP), e);
    let file = fs.create(&tmp).map_err(io("create"))?;
    let written = fill_base(shared, file, id, now_ms, snapshot);
    let committed = written.and_then(|(records, bytes)| {
        let path = base_path(dir, id);
        fs.rename(&tmp, &path).map_err(io("rename"))?;
        fs.sync_dir(dir)
            .map_err(|e| PersistError::io("fsync dir", dir, e))?;
        Ok((records, bytes))
    });
    let (records, bytes) = match committed {
        Ok(done) => done,
        Err(e) => {
            // Gone already when the rename happened; else it would hold the disk's space.
            match fs.remove(&tmp) {
                Ok(()) => {}
                Err(re) if re.kind() == std::io::ErrorKind::NotFound => {}
                Err(re) => tracing::warn!("removing {}: {re}", tmp.display()),
            }
            return Err(e);
        }
    };
    remove_covered(shared, id);
    Ok(RewriteStats {
        base_id: id,
        records,
        bytes,
    })
}

/// Writes the header, the snapshot's records and the end marker to `file`, then fsyncs it.
/// Returns (records, bytes). Stops early once shutdown has begun.
fn fill_base<F, I>(
    shared: &Shared,
    mut file: Box<dyn super::fs::FsFile>,
    id: u64,
    now_ms: u64,
    snapshot: F,
) -> Result<(u64, u64), PersistError>
where
    F: FnOnce() -> I,
    I: IntoIterator<Item = Record>,
{
    let dir = shared.dir();
    let io = |op| move |e| PersistError::io(op, dir.join(BASE_TMP), e);
    let mut buf = Vec::with_capacity(CHUNK + 4096);
    buf.extend_from_slice(&encode_header(&Header {
        kind: FileKind::Base,
        id,
        time_secs: u32::try_from(now_ms / 1000).unwrap_or(u32::MAX),
    }));
    let mut records = 0u64;
    let mut bytes = 0u64;
    for rec in snapshot() {
        if shared.closing.load(Ordering::Acquire) {
            return Err(PersistError::Closed);
        }
        match &rec {
            Record::Set {
                expire_at_ms: Some(at),
                ..
            } if *at <= now_ms => continue,
            Record::Set { .. } => {}
            // Dictionaries precede the compressed values that need them.
            Record::Dict { .. } => {}
            // A snapshot holds live keys only; anything else is a caller bug we must not
            // turn into a base that deletes data on load.
            Record::Del { .. } | Record::FlushAll => continue,
        }
        encode_record(&rec, &mut buf).map_err(|n| PersistError::RecordTooLarge { bytes: n })?;
        records += 1;
        if buf.len() >= CHUNK {
            file.write_all(&buf).map_err(io("write"))?;
            bytes += buf.len() as u64;
            buf.clear();
        }
    }
    encode_end(records, &mut buf);
    file.write_all(&buf).map_err(io("write"))?;
    bytes += buf.len() as u64;
    file.sync_data().map_err(io("fsync"))?;
    Ok((records, bytes))
}

/// Removes bases and segments older than base `id`. Failures only leave garbage that the
/// next recovery removes, so they are logged, not returned.
fn remove_covered(shared: &Shared, id: u64) {
    let fs = &shared.opts.fs;
    let dir = shared.dir();
    let names = match fs.list(dir) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("listing {}: {e}", dir.display());
            return;
        }
    };
    for name in names {
        if matches!(parse_name(&name), Some((_, n)) if n < id) {
            let path = dir.join(&name);
            if let Err(e) = fs.remove(&path) {
                tracing::warn!("removing {}: {e}", path.display());
            }
        }
    }
    if let Err(e) = fs.sync_dir(dir) {
        tracing::warn!("fsync dir {}: {e}", dir.display());
    }
}
