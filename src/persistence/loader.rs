//! The [`Loader`]: streams the records of the planned files (see `recovery.rs`), cuts torn
//! tails, applies the expiry rule, and opens the engine for writes when it is done.

use std::collections::VecDeque;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::engine::{lock, Mode, Shared};
use super::format::{self, Decoded, FileKind, FRAME_LEN, HEADER_LEN, MAX_PAYLOAD};
use super::names::{parse_name, read_full, segment_path, Source};
use super::writer::{create_segment, spawn};
use super::{PersistError, Record};

/// Publish progress to the engine's status every this many records.
const PUBLISH_EVERY: u64 = 4096;

/// How far loading has got, for logs and `INFO persistence` (`loading_*` fields).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadProgress {
    pub bytes_total: u64,
    pub bytes_done: u64,
    pub records: u64,
    /// Keys dropped because they expired while the server was down.
    pub expired: u64,
}

/// Failure of one record read: `torn` says it looks like an interrupted final write.
struct BadRecord {
    offset: u64,
    reason: String,
    torn: bool,
}

struct FileReader {
    src: Source,
    r: BufReader<Box<dyn Read + Send>>,
    offset: u64,
    len: u64,
}

impl FileReader {
    /// The next payload, `Ok(None)` at a clean end of file.
    fn next_payload(&mut self) -> Result<Option<Bytes>, BadRecord> {
        let at = self.offset;
        let io_err = |e: std::io::Error| BadRecord {
            offset: at,
            reason: format!("read error: {e}"),
            torn: false,
        };
        let mut frame = [0u8; FRAME_LEN];
        let n = read_full(&mut self.r, &mut frame).map_err(io_err)?;
        if n == 0 {
            return Ok(None);
        }
        if n < FRAME_LEN {
            return Err(self.bad(at, &frame[..n], "record header cut short", true));
        }
        let f = format::decode_frame(&frame);
        if !f.len_ok {
            return Err(self.bad(at, &frame, "record length checksum mismatch", false));
        }
        let len = f.len;
        if len > MAX_PAYLOAD {
            return Err(self.bad(at, &frame, "record length over the limit", false));
        }
        if at + (FRAME_LEN + len) as u64 > self.len {
            return Err(self.bad(at, &frame, "record runs past end of file", true));
        }
        let mut payload = vec![0u8; len];
        let got = read_full(&mut self.r, &mut payload).map_err(io_err)?;
        if got < len {
            return Err(self.bad(at, &frame, "record runs past end of file", true));
        }
        if !f.payload_ok(&payload) {
            let ends_at_eof = at + (FRAME_LEN + len) as u64 == self.len;
            let mut seen = frame.to_vec();
            seen.extend_from_slice(&payload);
            return Err(self.bad(at, &seen, "record checksum mismatch", ends_at_eof));
        }
        self.offset += (FRAME_LEN + len) as u64;
        Ok(Some(Bytes::from(payload)))
    }

    /// Builds the error for a bad record at `at`; it is torn when `torn_hint` holds or all
    /// bytes from `at` to end of file (`seen` then the unread rest) are zero.
    fn bad(&mut self, at: u64, seen: &[u8], reason: &str, torn_hint: bool) -> BadRecord {
        let torn = torn_hint || (seen.iter().all(|&b| b == 0) && rest_is_zero(&mut self.r));
        BadRecord {
            offset: at,
            reason: reason.to_owned(),
            torn,
        }
    }
}

fn rest_is_zero(r: &mut impl Read) -> bool {
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) if buf[..n].iter().all(|&b| b == 0) => {}
            Ok(_) => return false,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Streams the records to load, in replay order; drive it to the end before serving writes.
///
/// Yields `Ok(record)` to apply to the store in order, starting from an empty store. A
/// [`Record::Set`] whose expiry passed while the server was down comes out as
/// [`Record::Del`] (it must still remove the older value it replaced). After an `Err` the
/// loader yields `None` and the engine stays unwritable. Once it returns `None` after
/// success, the engine accepts appends.
pub struct Loader {
    shared: Arc<Shared>,
    sources: VecDeque<Source>,
    cur: Option<FileReader>,
    stale: Vec<PathBuf>,
    now_ms: u64,
    progress: LoadProgress,
    done_bytes: u64,
    base_count: u64,
    finished: bool,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("progress", &self.progress)
            .finish_non_exhaustive()
    }
}

impl Loader {
    pub(crate) fn new(
        shared: Arc<Shared>,
        sources: VecDeque<Source>,
        stale: Vec<PathBuf>,
        now_ms: u64,
        bytes_total: u64,
    ) -> Loader {
        Loader {
            shared,
            sources,
            cur: None,
            stale,
            now_ms,
            progress: LoadProgress {
                bytes_total,
                ..LoadProgress::default()
            },
            done_bytes: 0,
            base_count: 0,
            finished: false,
        }
    }

    pub fn progress(&self) -> LoadProgress {
        let mut p = self.progress;
        p.bytes_done = self.done_bytes + self.cur.as_ref().map_or(0, |c| c.offset);
        p
    }

    fn open_source(&mut self, src: Source) -> Result<Option<FileReader>, PersistError> {
        let fs = Arc::clone(&self.shared.opts.fs);
        let io = |op, e| PersistError::io(op, &src.path, e);
        let len = fs.len(&src.path).map_err(|e| io("stat", e))?;
        let mut r =
            BufReader::with_capacity(1 << 16, fs.open_read(&src.path).map_err(|e| io("open", e))?);
        let mut hdr = [0u8; HEADER_LEN];
        let n = read_full(&mut r, &mut hdr).map_err(|e| io("read", e))?;
        let problem = match n {
            0 if src.kind == FileKind::Log => return Ok(None),
            n if n < HEADER_LEN => Some((format!("file header cut short at {n} bytes"), true)),
            _ => match format::decode_header(&hdr, src.kind) {
                Ok(h) if h.id == src.id => None,
                Ok(h) => Some((format!("header names segment {}", h.id), false)),
                Err(e) => Some((e, false)),
            },
        };
        if let Some((reason, torn)) = problem {
            self.damaged(&src, 0, reason, torn)?;
            return Ok(None);
        }
        self.base_count = 0;
        Ok(Some(FileReader {
            src,
            r,
            offset: HEADER_LEN as u64,
            len,
        }))
    }

    /// Handles damage at `offset` of `src`: cuts a torn tail off the last segment, skips the
    /// rest of the file under `load_corrupt`, or fails.
    fn damaged(
        &mut self,
        src: &Source,
        offset: u64,
        reason: String,
        torn: bool,
    ) -> Result<(), PersistError> {
        let fs = &self.shared.opts.fs;
        if torn && src.last {
            let len = fs.len(&src.path).unwrap_or(offset);
            tracing::warn!(
                "{}: {reason} at offset {offset}: cutting off a torn tail of {} bytes left by \
                 an interrupted write",
                src.path.display(),
                len.saturating_sub(offset)
            );
            fs.truncate(&src.path, offset)
                .map_err(|e| PersistError::io("truncate", &src.path, e))?;
            return Ok(());
        }
        if self.shared.opts.load_corrupt {
            tracing::warn!(
                "{}: {reason} at offset {offset}: skipping the rest of this file \
                 (aof-load-corrupt yes)",
                src.path.display()
            );
            lock(&self.shared.stats).force_rewrite = true;
            return Ok(());
        }
        Err(PersistError::Corrupt {
            path: src.path.clone(),
            offset,
            reason,
        })
    }

    fn step(&mut self) -> Result<Option<Record>, PersistError> {
        loop {
            let Some(cur) = self.cur.as_mut() else {
                let Some(src) = self.sources.pop_front() else {
                    self.finish()?;
                    return Ok(None);
                };
                self.cur = self.open_source(src)?;
                continue;
            };
            let kind = cur.src.kind;
            let bad = match cur.next_payload() {
                Ok(Some(p)) => match format::decode_payload(p) {
                    Ok(Decoded::Record(rec)) => {
                        if cur.src.kind == FileKind::Base {
                            self.base_count += 1;
                        }
                        let admitted = self.admit(rec, kind);
                        if self.progress.records.is_multiple_of(PUBLISH_EVERY) {
                            self.publish();
                        }
                        match admitted {
                            Some(rec) => return Ok(Some(rec)),
                            None => continue,
                        }
                    }
                    Ok(Decoded::End { count }) if cur.src.kind == FileKind::Base => {
                        if count != self.base_count {
                            Some((
                                format!(
                                    "end marker counts {count} records, read {}",
                                    self.base_count
                                ),
                                false,
                            ))
                        } else if cur.offset != cur.len {
                            Some(("data after the end marker".to_owned(), false))
                        } else {
                            self.close_current();
                            continue;
                        }
                    }
                    Ok(Decoded::End { .. }) => {
                        Some(("end marker in a log segment".to_owned(), false))
                    }
                    Err(e) => Some((e, false)),
                },
                Ok(None) if cur.src.kind == FileKind::Base => {
                    Some(("base file ends without its end marker".to_owned(), false))
                }
                Ok(None) => {
                    self.close_current();
                    continue;
                }
                Err(b) => {
                    // Undo the offset so the error names the start of the bad record.
                    cur.offset = b.offset;
                    Some((b.reason, b.torn))
                }
            };
            if let Some((reason, torn)) = bad {
                let cur = self.cur.take().expect("matched on Some above");
                self.done_bytes += cur.offset;
                self.damaged(&cur.src, cur.offset, reason, torn)?;
            }
        }
    }

    /// Shares progress with [`Status`](super::Status), so INFO can report it while loading.
    fn publish(&self) {
        lock(&self.shared.stats).load = self.progress();
    }

    fn close_current(&mut self) {
        if let Some(c) = self.cur.take() {
            self.done_bytes += c.offset;
        }
    }

    /// Applies the expiry rule; counts records.
    fn admit(&mut self, rec: Record, kind: FileKind) -> Option<Record> {
        self.progress.records += 1;
        match rec {
            Record::Set {
                key,
                expire_at_ms: Some(at),
                ..
            } if at <= self.now_ms => {
                self.progress.expired += 1;
                // A base is applied to an empty store: nothing older to remove.
                (kind == FileKind::Log).then_some(Record::Del { key })
            }
            rec => Some(rec),
        }
    }

    /// Loading succeeded: drop leftovers, open a fresh segment, start accepting writes.
    fn finish(&mut self) -> Result<(), PersistError> {
        let shared = Arc::clone(&self.shared);
        let fs = &shared.opts.fs;
        if shared.mode != Mode::InMemory {
            for path in self.stale.drain(..) {
                tracing::info!("removing {}, covered by a newer base", path.display());
                fs.remove(&path)
                    .map_err(|e| PersistError::io("remove", &path, e))?;
            }
            let mut sizes = std::collections::BTreeMap::new();
            let mut base_size = 0;
            for name in fs
                .list(shared.dir())
                .map_err(|e| PersistError::io("list", shared.dir(), e))?
            {
                let path = shared.dir().join(&name);
                let len = fs.len(&path).unwrap_or(0);
                match parse_name(&name) {
                    Some((FileKind::Base, _)) => base_size = len,
                    // Each open starts a new segment: drop the ones that never got a record,
                    // so restarts without writes do not pile up files.
                    Some((FileKind::Log, _)) if len <= HEADER_LEN as u64 => {
                        fs.remove(&path)
                            .map_err(|e| PersistError::io("remove", &path, e))?;
                    }
                    Some((FileKind::Log, m)) => {
                        sizes.insert(m, len);
                    }
                    None => {}
                }
            }
            let mut st = lock(&shared.stats);
            st.base_size = base_size;
            st.log_sizes = sizes;
        }
        if shared.mode == Mode::Aof {
            let mut q = lock(&shared.queue);
            if q.shutdown {
                return Err(PersistError::Closed);
            }
            let seg = q.next_seg;
            q.next_seg += 1;
            q.current_seg = seg;
            let file = create_segment(&shared, seg)?;
            let handle = spawn(Arc::clone(&shared), file, seg).map_err(|e| {
                PersistError::io("spawn writer for", segment_path(shared.dir(), seg), e)
            })?;
            *lock(&shared.writer) = Some(handle);
            q.accepting = true;
        }
        self.publish();
        shared.loading.store(false, Ordering::Release);
        tracing::info!(
            "persistence: loaded {} records ({} expired) from {} bytes",
            self.progress.records,
            self.progress.expired,
            self.progress().bytes_done
        );
        Ok(())
    }
}

impl Iterator for Loader {
    type Item = Result<Record, PersistError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.step() {
            Ok(Some(rec)) => Some(Ok(rec)),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }
}
