//! Recovery: pick the files to replay, then stream their records through a [`Loader`].
//!
//! # Which files
//! The base with the highest id `N` (its header repeats `N`), then every `log.<M>` with
//! `M >= N` in ascending order. Bases below `N` and logs below `N` are leftovers of a rewrite
//! interrupted after its commit; they are deleted once loading has succeeded.
//!
//! # Damage
//! Only the last log segment can end in a torn write (the writer fsyncs a segment before it
//! starts the next one, and every open truncates the tail before starting a new segment). At
//! the first bad record of the last segment, the rest of the file is a torn tail when the frame
//! header is cut short, the payload runs past end of file (with an intact length), the payload
//! checksum fails on a record that ends exactly at end of file, or only zeros follow: it is cut
//! off with a warning. Anything else (a damaged length, a bad record followed by more data, any
//! damage in a base or an earlier segment) is [`PersistError::Corrupt`] naming file and offset,
//! unless `load_corrupt` is set: then the rest of that file is skipped with a warning, and
//! [`needs_rewrite`](super::Persistence::needs_rewrite) turns true so that a rewrite makes the
//! directory clean again.
//!
//! Running recovery twice on the same directory yields the same records: the only changes it
//! makes (truncating a torn tail, removing leftovers) are idempotent.
//!
//! # One process per directory
//! Before it reads anything, `open` takes the directory's lock ([`Fs::lock_dir`](super::fs::Fs::lock_dir));
//! if another process holds it, it fails with [`PersistError::Locked`] naming the directory
//! and the holder's pid, and touches nothing.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use super::clock::Wake;
use super::engine::{lock, Shared};
use super::format::{self, FileKind, HEADER_LEN};
use super::fs::DirLockError;
use super::loader::Loader;
use super::names::{base_path, parse_name, read_full, segment_path, Source, BASE_TMP};
use super::{Options, PersistError};

fn read_header(
    opts: &Options,
    path: &Path,
    kind: FileKind,
) -> Result<Option<format::Header>, String> {
    let mut r = opts.fs.open_read(path).map_err(|e| e.to_string())?;
    let mut b = [0u8; HEADER_LEN];
    match read_full(&mut r, &mut b).map_err(|e| e.to_string())? {
        0 => Ok(None),
        n if n < HEADER_LEN => Err(format!("file header cut short at {n} bytes")),
        _ => format::decode_header(&b, kind).map(Some),
    }
}

pub(crate) fn open(opts: Options, now_ms: u64) -> Result<(Arc<Shared>, Loader), PersistError> {
    if opts.in_memory() {
        let shared = Arc::new(Shared::new(opts, now_ms, 1));
        let loader = Loader::new(Arc::clone(&shared), VecDeque::new(), Vec::new(), now_ms, 0);
        return Ok((shared, loader));
    }
    let dir = opts.dir.clone();
    let fs = Arc::clone(&opts.fs);
    fs.create_dir_all(&dir)
        .map_err(|e| PersistError::io("create dir", &dir, e))?;
    // Before anything in the directory is read or changed: a second server on the same
    // directory would remove the first one's files as leftovers.
    let dir_lock = fs.lock_dir(&dir).map_err(|e| match e {
        DirLockError::Held { pid } => PersistError::Locked {
            dir: dir.clone(),
            pid,
        },
        DirLockError::Io(e) => PersistError::io("lock", dir.join(super::fs::LOCK_FILE), e),
    })?;
    let names = fs
        .list(&dir)
        .map_err(|e| PersistError::io("list", &dir, e))?;
    if names.iter().any(|n| n == BASE_TMP) {
        // An unfinished rewrite: never renamed, so never part of the state.
        let tmp = dir.join(BASE_TMP);
        fs.remove(&tmp)
            .map_err(|e| PersistError::io("remove", &tmp, e))?;
    }
    let mut bases = Vec::new();
    let mut logs = Vec::new();
    for name in &names {
        match parse_name(name) {
            Some((FileKind::Base, n)) => bases.push(n),
            Some((FileKind::Log, n)) => logs.push(n),
            None => {}
        }
    }
    bases.sort_unstable_by(|a, b| b.cmp(a));
    logs.sort_unstable();

    let mut stale = Vec::new();
    let mut base = None;
    for &n in &bases {
        let path = base_path(&dir, n);
        if base.is_some() {
            stale.push(path);
            continue;
        }
        let problem = match read_header(&opts, &path, FileKind::Base) {
            Ok(Some(h)) if h.id == n => None,
            Ok(Some(h)) => Some(format!(
                "header names base {} but the file is base {n}",
                h.id
            )),
            Ok(None) => Some("empty base file".to_owned()),
            Err(e) => Some(e),
        };
        match problem {
            None => base = Some(n),
            Some(reason) if opts.load_corrupt => {
                tracing::warn!("skipping {}: {reason}", path.display());
            }
            Some(reason) => {
                return Err(PersistError::Corrupt {
                    path,
                    offset: 0,
                    reason,
                })
            }
        }
    }
    let log_start = base.unwrap_or(0);
    let mut sources = VecDeque::new();
    let mut bytes_total = 0;
    if let Some(n) = base {
        let path = base_path(&dir, n);
        bytes_total += fs.len(&path).unwrap_or(0);
        sources.push_back(Source {
            path,
            kind: FileKind::Base,
            id: n,
            last: false,
        });
    }
    let live_logs: Vec<u64> = logs.iter().copied().filter(|&m| m >= log_start).collect();
    for &m in logs.iter().filter(|&&m| m < log_start) {
        stale.push(segment_path(&dir, m));
    }
    for (i, &m) in live_logs.iter().enumerate() {
        let path = segment_path(&dir, m);
        bytes_total += fs.len(&path).unwrap_or(0);
        sources.push_back(Source {
            path,
            kind: FileKind::Log,
            id: m,
            last: i + 1 == live_logs.len(),
        });
    }
    let next_seg = live_logs
        .last()
        .map_or(1, |m| m + 1)
        .max(log_start)
        .max(bases.first().map_or(0, |b| b + 1))
        .max(1);
    let shared = Arc::new(Shared::new(opts, now_ms, next_seg));
    *lock(&shared.dir_lock) = Some(dir_lock);
    let waker: Arc<dyn Wake> = shared.clone();
    shared.opts.clock.subscribe(Arc::downgrade(&waker));
    let loader = Loader::new(Arc::clone(&shared), sources, stale, now_ms, bytes_total);
    Ok((shared, loader))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(parse_name("base.000000000003"), Some((FileKind::Base, 3)));
        assert_eq!(parse_name("log.12"), Some((FileKind::Log, 12)));
        assert_eq!(parse_name("log."), None);
        assert_eq!(parse_name("base.tmp"), None);
        assert_eq!(parse_name("log.1.corrupt"), None);
        assert_eq!(parse_name("other"), None);
    }
}
