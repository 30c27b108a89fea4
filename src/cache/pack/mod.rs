//! Transparent compression of string values: what the store keeps instead of a long string,
//! and the codec that makes and reads it.
//!
//! - [`dict`]: the dictionaries, trained per key prefix from the values stored under it.
//!
//! A string of at least [`Policy::min_bytes`] is compressed with zstd as it is stored, with the
//! dictionary of its key's prefix once one is trained (see [`prefix_of`]), and kept compressed
//! only if that saves at least an eighth of it ([`worth_keeping`]): a small or incompressible
//! value is stored as it came and costs no memory. What the store keeps is a [`Packed`]: one
//! standard zstd frame, whose dictionary-id field names the dictionary it needs (absent: none).
//!
//! # Invariants
//! - Readers never see a packed value: the store unpacks on each of its read paths, so every
//!   command, script and reply sees the bytes that were written. Only the weigher, the journal
//!   and the byte-level walks (`Store::iter_stored`) see the packed form; its weight is the
//!   compressed size.
//! - A frame names a dictionary only after that dictionary was handed to the journal
//!   ([`crate::cache::Journal::put_dict`]), so on disk each packed value comes after the
//!   dictionary it needs.
//! - A dictionary id means one dictionary for the life of the data: dictionaries are never
//!   replaced or dropped, and ids loaded from disk are never handed out again.

pub mod dict;

use super::stats::Counter;
use super::Journal;
use arc_swap::ArcSwap;
use bytes::Bytes;
use dict::{Dict, Dicts, Samplers};
use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use zstd::zstd_safe::{self, CCtx, DCtx};

/// zstd level of values compressed without a dictionary, and of every trained dictionary.
/// Level 3 is zstd's default: at 2 KB a higher level saves a few percent more and costs
/// several times the CPU of every write.
pub const LEVEL: i32 = 3;
/// Longest value unpacked; a frame that claims more is damage (`proto-max-bulk-len`'s ceiling).
const MAX_PLAIN: u64 = 512 * 1024 * 1024;

/// When values are compressed (the `compression` and `compression-min-bytes` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub enabled: bool,
    /// Strings shorter than this are stored as they are, without trying.
    pub min_bytes: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            enabled: false,
            min_bytes: 256,
        }
    }
}

/// A compressed string: one zstd frame with its content size, naming its dictionary by id
/// (no id: compressed without one). Cheap to clone (shares the bytes).
#[derive(Clone, PartialEq)]
pub struct Packed(Bytes);

impl fmt::Debug for Packed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Packed({} bytes, dict {}, {:?} plain)",
            self.0.len(),
            self.dict_id(),
            self.plain_len()
        )
    }
}

impl Packed {
    /// A frame read back from disk; [`Codec::unpack`] checks it when it is read.
    pub fn from_frame(frame: Bytes) -> Packed {
        Packed(frame)
    }

    /// The frame, as the journal writes it.
    pub fn frame(&self) -> &Bytes {
        &self.0
    }

    /// Bytes the frame takes: what the value weighs against the budget.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The dictionary the frame needs; 0 for none.
    pub fn dict_id(&self) -> u32 {
        zstd_safe::get_dict_id_from_frame(&self.0).map_or(0, |id| id.get())
    }

    /// The length of the original value, from the frame header.
    pub fn plain_len(&self) -> Option<u64> {
        zstd_safe::get_frame_content_size(&self.0).ok().flatten()
    }
}

/// A packed value that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackError {
    /// The frame names a dictionary this process does not hold.
    UnknownDictionary(u32),
    /// The frame is damaged (bad header, or it does not decode to the length it claims).
    Corrupt(String),
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackError::UnknownDictionary(id) => write!(f, "unknown compression dictionary {id}"),
            PackError::Corrupt(why) => write!(f, "damaged compressed value: {why}"),
        }
    }
}

impl std::error::Error for PackError {}

/// What the codec counts (INFO `# Memory`'s compression fields).
#[derive(Debug, Default)]
pub struct PackStats {
    /// Values stored compressed.
    pub packed: Counter,
    /// Values long enough to try that did not compress by an eighth: stored as they came.
    pub kept_plain: Counter,
    /// Bytes of the original values stored compressed, and of their frames.
    pub plain_bytes: Counter,
    pub packed_bytes: Counter,
    /// Dictionary trainings that produced no usable dictionary.
    pub failed_trainings: Counter,
}

/// Compresses and decompresses string values for one store; trains and holds its
/// dictionaries.
///
/// # Concurrency
/// Any thread may pack and unpack at once: each thread has its own zstd contexts and the
/// dictionaries are read through an `ArcSwap`. Training runs on a thread of its own.
pub struct Codec {
    enabled: AtomicBool,
    min_bytes: AtomicUsize,
    dicts: ArcSwap<Dicts>,
    samplers: Mutex<Samplers>,
    /// Serialises adding a dictionary (journal, then publish) and gives tests an event to wait on.
    added: (Mutex<()>, Condvar),
    journal: Arc<OnceLock<Arc<dyn Journal>>>,
    pub stats: PackStats,
}

thread_local! {
    /// This thread's compression context and output buffer (a zstd context is large to make:
    /// one per thread, reused for every value).
    static CCTX: RefCell<(CCtx<'static>, Vec<u8>)> = RefCell::new((CCtx::create(), Vec::new()));
    static DCTX: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
}

/// Whether a frame of `packed` bytes is worth keeping for a value of `plain` bytes: it must
/// save at least an eighth, so a value that barely compresses is not paid for on every read.
pub fn worth_keeping(plain: usize, packed: usize) -> bool {
    packed <= plain - plain / 8
}

/// The prefix a key's dictionary is trained and chosen by: the key up to its last `:`
/// (`llmcache:v1:` of `llmcache:v1:<hash>`, `llm:v1:gpt-4o:` of an LLMKEY key, so one
/// dictionary per model), at most [`dict::MAX_PREFIX`] bytes; empty for a key without `:`.
pub fn prefix_of(key: &[u8]) -> &[u8] {
    let head = &key[..key.len().min(dict::MAX_PREFIX)];
    match head.iter().rposition(|&b| b == b':') {
        Some(at) => &head[..=at],
        None => &[],
    }
}

impl Codec {
    /// A codec that journals the dictionaries it trains to `journal` once one is attached.
    pub fn new(journal: Arc<OnceLock<Arc<dyn Journal>>>) -> Codec {
        let p = Policy::default();
        Codec {
            enabled: AtomicBool::new(p.enabled),
            min_bytes: AtomicUsize::new(p.min_bytes),
            dicts: ArcSwap::from_pointee(Dicts::default()),
            samplers: Mutex::new(Samplers::default()),
            added: (Mutex::new(()), Condvar::new()),
            journal,
            stats: PackStats::default(),
        }
    }

    pub fn set_policy(&self, p: Policy) {
        self.enabled.store(p.enabled, Ordering::Relaxed);
        self.min_bytes.store(p.min_bytes, Ordering::Relaxed);
    }

    pub fn policy(&self) -> Policy {
        Policy {
            enabled: self.enabled.load(Ordering::Relaxed),
            min_bytes: self.min_bytes.load(Ordering::Relaxed),
        }
    }

    /// The packed form of `plain` stored under `key`, or `None` to store it as it is
    /// (compression off, too short, or not worth it). Also feeds the prefix's sampler until
    /// its dictionary is trained.
    pub fn pack(self: &Arc<Self>, key: &[u8], plain: &[u8]) -> Option<Packed> {
        if !self.enabled.load(Ordering::Relaxed)
            || plain.len() < self.min_bytes.load(Ordering::Relaxed)
        {
            return None;
        }
        let prefix = prefix_of(key);
        let dicts = self.dicts.load();
        let dict = dicts.for_prefix(prefix);
        if dict.is_none() {
            self.sample(prefix, plain);
        }
        let frame = CCTX.with(|c| {
            let (cctx, buf) = &mut *c.borrow_mut();
            buf.clear();
            buf.reserve(zstd_safe::compress_bound(plain.len()));
            let done = match dict {
                Some(d) => cctx.compress_using_cdict(buf, plain, d.cdict()),
                None => cctx.compress(buf, plain, LEVEL),
            };
            match done {
                Ok(n) if worth_keeping(plain.len(), n) => Some(Bytes::copy_from_slice(&buf[..n])),
                _ => None,
            }
        });
        match frame {
            Some(f) => {
                self.stats.packed.incr();
                self.stats.plain_bytes.add(plain.len() as u64);
                self.stats.packed_bytes.add(f.len() as u64);
                Some(Packed(f))
            }
            None => {
                self.stats.kept_plain.incr();
                None
            }
        }
    }

    /// The original bytes of `p`.
    pub fn unpack(&self, p: &Packed) -> Result<Bytes, PackError> {
        let frame = &p.0;
        let n = match zstd_safe::get_frame_content_size(frame) {
            Ok(Some(n)) if n <= MAX_PLAIN => n as usize,
            Ok(Some(n)) => return Err(PackError::Corrupt(format!("claims {n} bytes"))),
            _ => return Err(PackError::Corrupt("no frame header".into())),
        };
        let id = p.dict_id();
        let dicts = self.dicts.load();
        let dict = match id {
            0 => None,
            id => Some(dicts.by_id(id).ok_or(PackError::UnknownDictionary(id))?),
        };
        let mut out: Vec<u8> = Vec::with_capacity(n);
        let done = DCTX.with(|d| {
            let dctx = &mut *d.borrow_mut();
            match dict {
                Some(d) => dctx.decompress_using_ddict(&mut out, frame, d.ddict()),
                None => dctx.decompress(&mut out, frame),
            }
        });
        match done {
            Ok(got) if got == n => Ok(Bytes::from(out)),
            Ok(got) => Err(PackError::Corrupt(format!("{got} bytes instead of {n}"))),
            Err(code) => Err(PackError::Corrupt(
                zstd_safe::get_error_name(code).to_owned(),
            )),
        }
    }

    /// Whether every dictionary `p` needs is here (a loaded value is checked so).
    pub fn can_unpack(&self, p: &Packed) -> bool {
        match p.dict_id() {
            0 => true,
            id => self.dicts.load().by_id(id).is_some(),
        }
    }

    /// Every dictionary held, oldest first: `(id, prefix, dictionary bytes)`.
    /// Waits for a dictionary being added (journaled but not yet published) to be published.
    pub fn dictionaries(&self) -> Vec<(u32, Bytes, Bytes)> {
        let _g = lock(&self.added.0);
        self.dicts
            .load()
            .all()
            .map(|d| (d.id(), d.prefix().clone(), d.raw().clone()))
            .collect()
    }

    /// The dictionary `id`, for a rewrite that must write it before the values that need it.
    pub fn dictionary(&self, id: u32) -> Option<(Bytes, Bytes)> {
        self.dicts
            .load()
            .by_id(id)
            .map(|d| (d.prefix().clone(), d.raw().clone()))
    }

    /// Number of dictionaries held.
    pub fn dictionary_count(&self) -> usize {
        self.dicts.load().len()
    }

    /// Installs a dictionary read from disk (not journaled again). Loading the same id twice
    /// with the same bytes is a no-op, so a dictionary written both to a base and to the log
    /// after it loads once.
    pub fn load_dictionary(&self, id: u32, prefix: Bytes, raw: Bytes) -> Result<(), String> {
        let _g = lock(&self.added.0);
        let cur = self.dicts.load_full();
        if let Some(have) = cur.by_id(id) {
            return if *have.raw() == raw {
                Ok(())
            } else {
                Err(format!(
                    "two different compression dictionaries with id {id}"
                ))
            };
        }
        let d = Dict::new(id, prefix, raw)?;
        self.dicts.store(Arc::new(cur.with(Arc::new(d))));
        self.added.1.notify_all();
        Ok(())
    }

    /// Waits until at least `n` dictionaries are held, at most `limit`; whether they are.
    /// Training runs in the background: tests and benchmarks wait on this event.
    pub fn wait_for_dictionaries(&self, n: usize, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        let mut g = lock(&self.added.0);
        while self.dicts.load().len() < n {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            g = match self.added.1.wait_timeout(g, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }

    /// Adds a dictionary trained for `prefix`: journaled first, then published, both under
    /// the `added` lock, so no value is packed with an id the journal has not been given
    /// before it, and a rewrite listing the dictionaries after its walk sees every one that
    /// reached the journal before it started.
    fn add_trained(&self, prefix: Bytes, mut raw: Vec<u8>) -> Result<u32, String> {
        let _g = lock(&self.added.0);
        let cur = self.dicts.load_full();
        if cur.len() >= dict::MAX_DICTS {
            return Err("dictionary limit reached".into());
        }
        let id = cur.next_id();
        dict::set_id(&mut raw, id)?;
        let raw = Bytes::from(raw);
        let d = Dict::new(id, prefix.clone(), raw.clone())?;
        if let Some(j) = self.journal.get() {
            j.put_dict(id, &prefix, &raw);
        }
        self.dicts.store(Arc::new(cur.with(Arc::new(d))));
        self.added.1.notify_all();
        Ok(id)
    }

    /// Keeps a sample of `plain` for `prefix`'s dictionary; starts training once enough are in.
    fn sample(self: &Arc<Self>, prefix: &[u8], plain: &[u8]) {
        let ready = {
            let mut s = lock(&self.samplers);
            if s.settled(prefix) || self.dicts.load().len() >= dict::MAX_DICTS {
                return;
            }
            s.add(prefix, plain)
        };
        if let Some((prefix, set)) = ready {
            self.train(prefix, set);
        }
    }

    fn train(self: &Arc<Self>, prefix: Bytes, set: dict::SampleSet) {
        let me = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("llmcached-dict".into())
            .spawn(move || {
                let Some(codec) = me.upgrade() else { return };
                match set
                    .train()
                    .and_then(|raw| codec.add_trained(prefix.clone(), raw))
                {
                    Ok(id) => tracing::info!(
                        "compression dictionary {id} trained for prefix {:?}",
                        String::from_utf8_lossy(&prefix)
                    ),
                    Err(e) => {
                        codec.stats.failed_trainings.incr();
                        tracing::info!(
                            "no compression dictionary for prefix {:?}: {e}",
                            String::from_utf8_lossy(&prefix)
                        )
                    }
                }
            });
        if spawned.is_err() {
            self.stats.failed_trainings.incr();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every change under these locks is one call that leaves the data whole.
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

#[cfg(test)]
mod tests;
