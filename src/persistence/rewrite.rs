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

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::engine::{lock, Mode, Rotation, Shared};
use super::format::{encode_end, encode_header, encode_record, FileKind, Header};
use super::recovery::{parse_name, BASE_TMP};
use super::{PersistError, Record};

/// Base files are written in chunks of this size.
const CHUNK: usize = 1 << 20;

pub(crate) fn base_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("base.{id:012}"))
}

/// What a successful rewrite wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewriteStats {
    /// Id of the new base; log segments from this id on follow it.
    pub base_id: u64,
    pub records: u64,
    pub bytes: u64,
}

/// Clears the in-progress flag however the rewrite ends, including a panic in the caller's
/// snapshot iterator.
struct Running<'a>(&'a Shared);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.rewriting.store(false, Ordering::Release);
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
    if let Some(reason) = shared.fail.get() {
        return Err(PersistError::FailStop {
            reason: reason.clone(),
        });
    }
    if shared
        .rewriting
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return Err(PersistError::RewriteInProgress);
    }
    let _running = Running(shared);
    let dirty_before = shared.dirty.load(Ordering::Relaxed);
    let started = std::time::Instant::now();
    lock(&shared.stats).rewrite_started_ms = Some(now_ms);
    let result = rotate(shared).and_then(|id| write_base(shared, id, now_ms, snapshot));
    let mut st = lock(&shared.stats);
    st.last_attempt = Some((now_ms, result.is_ok()));
    st.last_rewrite_ok = result.is_ok();
    st.rewrite_started_ms = None;
    if result.is_ok() {
        st.rewrites += 1;
        st.rewrite_failures_in_a_row = 0;
    } else {
        st.rewrite_failures_in_a_row += 1;
    }
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
        }
        Err(e) => {
            drop(st);
            tracing::warn!("persistence: rewrite failed: {e}");
            let tmp = shared.dir().join(BASE_TMP);
            let _ = shared.opts.fs.remove(&tmp);
        }
    }
    result
}

/// Starts a new segment and returns its id, which the new base will carry. Waits until the
/// writer has switched, so everything appended before this call is in older segments.
fn rotate(shared: &Shared) -> Result<u64, PersistError> {
    let mut q = lock(&shared.queue);
    if q.shutdown {
        return Err(PersistError::Closed);
    }
    let seg = q.next_seg;
    q.next_seg += 1;
    if shared.mode != Mode::Aof {
        return Ok(seg);
    }
    q.rotate = Some(Rotation {
        at: q.buf.len(),
        lsn: q.last_lsn,
        seg,
    });
    shared.wake.notify_one();
    // The writer marks the rotation done even when it failed, so check for failure after.
    while q.current_seg < seg && shared.fail.get().is_none() {
        q = shared.rotated.wait(q).unwrap_or_else(|e| e.into_inner());
    }
    match shared.fail.get() {
        Some(reason) => Err(PersistError::FailStop {
            reason: reason.clone(),
        }),
        None => Ok(seg),
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
    let mut file = fs.create(&tmp).map_err(io("create"))?;
    let mut buf = Vec::with_capacity(CHUNK + 4096);
    buf.extend_from_slice(&encode_header(&Header {
        kind: FileKind::Base,
        id,
        time_secs: u32::try_from(now_ms / 1000).unwrap_or(u32::MAX),
    }));
    let mut records = 0u64;
    let mut bytes = 0u64;
    for rec in snapshot() {
        match &rec {
            Record::Set {
                expire_at_ms: Some(at),
                ..
            } if *at <= now_ms => continue,
            Record::Set { .. } => {}
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
    drop(file);
    let path = base_path(dir, id);
    fs.rename(&tmp, &path).map_err(io("rename"))?;
    fs.sync_dir(dir)
        .map_err(|e| PersistError::io("fsync dir", dir, e))?;
    remove_covered(shared, id);
    Ok(RewriteStats {
        base_id: id,
        records,
        bytes,
    })
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
