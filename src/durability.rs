//! Connects the keyspace to the persistence engine: the journal the store writes through,
//! loading at start (while clients get `-LOADING`), background rewrites and snapshots. It takes
//! the store, never the server: the SAVE / BGSAVE / BGREWRITEAOF / LASTSAVE commands
//! (the persistence command family) call it.
//!
//! # Promises
//! - A write is journaled under its key's stripe lock, in the order it was applied.
//! - With `appendfsync always`, a connection sends no reply to a batch containing writes until
//!   everything journaled so far is fsynced ([`Durability::durable`]): an acknowledged write
//!   survives a kill -9 or a power cut.
//! - After a journal failure the store refuses writes (`-MISCONF ...`) rather than pretend.

use crate::cache::pack::Packed;
use crate::cache::{Entry, Journal, Store, Value};
use crate::config::Config;
use crate::persistence::{self, Options, PersistError, Persistence, Record, SetMeta};
use crate::types::{list::List, set::Set, zset::ZSet, Coll};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// The engine plus the highest sequence number the store appended.
pub struct Durability {
    engine: Persistence,
    last_lsn: AtomicU64,
    /// Disconnects when the running background rewrite's thread ends (see `finish_background`).
    background: Mutex<Option<mpsc::Receiver<()>>>,
}

/// The engine options a config asks for, or `None` for a purely in-memory server.
pub fn options(config: &Config) -> Result<Option<Options>, String> {
    let mut o = Options::new(&config.dir);
    o.appendonly = config.appendonly;
    o.fsync = config.appendfsync;
    o.save = config.save.clone();
    o.load_corrupt = config.aof_load_corrupt;
    Ok((!o.in_memory()).then_some(o))
}

fn to_record(key: Bytes, entry: &Entry) -> Record {
    Record::Set {
        key,
        value: persisted(&entry.value),
        expire_at_ms: entry.expire_at,
        meta: SetMeta {
            stored_at_ms: entry.stored_at,
            grace_ms: entry.grace_ms,
            tokens: entry.tokens,
        },
    }
}

/// A value as the persistence format writes it (DUMP too).
pub fn persisted(value: &Value) -> persistence::Value {
    match value {
        Value::Str(b) => persistence::Value::Str(b.clone()),
        Value::Packed(p) => persistence::Value::Packed(p.frame().clone()),
        Value::Json(b) => persistence::Value::Json(b.clone()),
        Value::Hash(h) => {
            persistence::Value::Hash(h.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        Value::List(c) => persistence::Value::List(c.read(|l| l.iter().cloned().collect())),
        Value::Set(c) => persistence::Value::Set(c.read(|s| s.iter().cloned().collect())),
        Value::ZSet(c) => {
            persistence::Value::ZSet(c.read(|z| z.iter().map(|(s, m)| (s, m.clone())).collect()))
        }
    }
}

/// The entry a loaded record stands for. A record without a write time (format version 1) is
/// stamped by the store as written at load time.
fn loaded_entry(value: persistence::Value, expire_at_ms: Option<u64>, meta: SetMeta) -> Entry {
    Entry::new(from_value(value), expire_at_ms)
        .with_tokens(meta.tokens)
        .with_grace(meta.grace_ms)
        .with_stored_at(meta.stored_at_ms)
}

/// The value a persisted one stands for (loading, RESTORE).
pub fn from_value(v: persistence::Value) -> Value {
    match v {
        persistence::Value::Str(b) => Value::Str(b),
        persistence::Value::Packed(f) => Value::Packed(Packed::from_frame(f)),
        persistence::Value::Json(b) => Value::Json(b),
        persistence::Value::Hash(pairs) => {
            Value::Hash(Arc::new(pairs.into_iter().collect::<HashMap<_, _>>()))
        }
        persistence::Value::List(items) => Value::List(Coll::new(List::from_items(items))),
        persistence::Value::Set(members) => Value::Set(Coll::new(Set::from_members(members))),
        persistence::Value::ZSet(pairs) => Value::ZSet(Coll::new(ZSet::from_pairs(pairs))),
    }
}

impl Durability {
    fn append(&self, rec: &Record) {
        match self.engine.append(rec) {
            Ok(lsn) => {
                self.last_lsn.fetch_max(lsn, Ordering::AcqRel);
            }
            // The engine is now in fail-stop: `durable` and `check_writable` report it.
            Err(e) => warn!("journal append failed: {e}"),
        }
    }

    /// Resolves once everything journaled so far is as durable as the policy promises. The
    /// error is the full Redis error line to send instead of the replies.
    pub async fn durable(&self) -> Result<(), String> {
        let lsn = self.last_lsn.load(Ordering::Acquire);
        if lsn == 0 {
            return self.engine.check_writable().map_err(|e| e.reply_text());
        }
        self.engine.durable(lsn).await.map_err(|e| e.reply_text())
    }

    pub fn status_fields(&self, now_ms: u64) -> Vec<(&'static str, String)> {
        self.engine
            .status()
            .info_fields(now_ms)
            .into_iter()
            .filter(|(k, _)| *k != "loading" && *k != "async_loading")
            .collect()
    }

    pub fn last_save_secs(&self) -> u64 {
        self.engine.status().last_save_ms / 1000
    }

    /// Writes a new base from the live keyspace (blocking: call off the async workers).
    ///
    /// Compressed strings are written compressed. Each dictionary is written just before the
    /// first value that needs it, and every dictionary held once the walk is over is written
    /// after it: a dictionary journaled to the log this rewrite replaces, but needed only by
    /// values written after it started (into the log after the base), still reaches the base.
    pub fn rewrite(&self, store: &Store) -> Result<(), PersistError> {
        let now = store.clock().now_ms();
        self.engine
            .rewrite(now, || {
                let codec = store.codec().clone();
                let written = std::cell::RefCell::new(std::collections::HashSet::new());
                let dict_record = move |id: u32, codec: &crate::cache::Codec| {
                    let (prefix, dict) = codec.dictionary(id)?;
                    written
                        .borrow_mut()
                        .insert(id)
                        .then_some(Record::Dict { id, prefix, dict })
                };
                let dict_record = std::rc::Rc::new(dict_record);
                let per_value = {
                    let (codec, dict_record) = (codec.clone(), dict_record.clone());
                    move |(k, e): (Arc<[u8]>, Arc<Entry>)| {
                        let dict = match &e.value {
                            Value::Packed(p) if p.dict_id() != 0 => {
                                dict_record(p.dict_id(), &codec)
                            }
                            _ => None,
                        };
                        dict.into_iter()
                            .chain([to_record(Bytes::copy_from_slice(&k), &e)])
                    }
                };
                let tail = std::iter::once(()).flat_map(move |()| {
                    codec
                        .dictionaries()
                        .into_iter()
                        .filter_map(|(id, _, _)| dict_record(id, &codec))
                        .collect::<Vec<_>>()
                });
                // Copies of shared-tier answers live on the tier, not in this node's files.
                store
                    .iter_stored()
                    .filter(|(_, e)| !e.is_near_copy())
                    .flat_map(per_value)
                    .chain(tail)
            })
            .map(|_| ())
    }

    /// Also true when the log needs a base from memory after a write error, or a failed
    /// rewrite's backoff has passed.
    pub fn rewrite_due(&self, now_ms: u64) -> bool {
        self.engine.rewrite_due(now_ms)
    }

    /// The log is broken and only a rewrite from the store makes the disk whole again.
    pub fn needs_base(&self) -> bool {
        self.engine.needs_base()
    }

    pub fn shutdown(&self) -> Result<(), PersistError> {
        self.engine.shutdown()
    }
}

impl Journal for Durability {
    fn check_writable(&self) -> Result<(), String> {
        self.engine.check_writable().map_err(|e| e.reply_text())
    }

    fn put(&self, key: &Bytes, entry: &Entry) {
        if entry.is_near_copy() {
            // The key has no value of this node's own any more (the tier holds it).
            self.append(&Record::Del { key: key.clone() });
        } else {
            self.append(&to_record(key.clone(), entry));
        }
    }

    fn remove(&self, key: &Bytes) {
        self.append(&Record::Del { key: key.clone() });
    }

    fn flush_all(&self) {
        self.append(&Record::FlushAll);
    }

    fn put_dict(&self, id: u32, prefix: &Bytes, dict: &Bytes) {
        self.append(&Record::Dict {
            id,
            prefix: prefix.clone(),
            dict: dict.clone(),
        });
    }
}

/// Opens the data directory and loads it into `store`, blocking. The server answers
/// `-LOADING` meanwhile; progress is logged every second. On success the store journals every
/// later write to the returned engine; `None` when persistence is off.
pub fn open_and_load(store: &Store, config: &Config) -> Result<Option<Arc<Durability>>, String> {
    let Some(opts) = options(config)? else {
        return Ok(None);
    };
    let dir = opts.dir.display().to_string();
    let started = Instant::now();
    let now = store.clock().now_ms();
    let (engine, mut loader) =
        Persistence::open(opts, now).map_err(|e| format!("cannot open {dir}: {e}"))?;
    let mut last_log = Instant::now();
    // Records are applied by worker threads, each owning the keys whose hash falls to it, so
    // every key's records are applied in log order. A FLUSHALL record clears every key: it is a
    // barrier between two passes.
    loop {
        let flushed = load_pass(store, &mut loader, &mut last_log)
            .map_err(|e| format!("cannot load {dir}: {e}"))?;
        if !flushed {
            break;
        }
        store.load_clear();
    }
    let p = loader.progress();
    let durability = Arc::new(Durability {
        engine,
        last_lsn: AtomicU64::new(0),
        background: Mutex::new(None),
    });
    store.set_journal(durability.clone());
    info!(
        "loaded {} records ({} bytes, {} keys expired while down) from {dir} in {:.3}s",
        p.records,
        p.bytes_done,
        p.expired,
        started.elapsed().as_secs_f64()
    );
    Ok(Some(durability))
}

/// Threads that apply loaded records; loading is bound by allocating and inserting values.
const LOAD_THREADS: usize = 2;
/// Records handed to a loading thread at a time.
const LOAD_BATCH: usize = 512;

/// Applies records until the log ends (`Ok(false)`) or a FLUSHALL record (`Ok(true)`, which the
/// caller applies once every earlier record is in).
fn load_pass(
    store: &Store,
    loader: &mut persistence::Loader,
    last_log: &mut Instant,
) -> Result<bool, PersistError> {
    std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(LOAD_THREADS);
        for _ in 0..LOAD_THREADS {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Record>>(8);
            senders.push(tx);
            scope.spawn(move || {
                for batch in rx {
                    for rec in batch {
                        match rec {
                            Record::Set {
                                key,
                                value,
                                expire_at_ms,
                                meta,
                            } => store.load(key, loaded_entry(value, expire_at_ms, meta)),
                            Record::Del { key } => store.load_remove(&key),
                            Record::FlushAll | Record::Dict { .. } => {}
                        }
                    }
                }
            });
        }
        let mut batches: Vec<Vec<Record>> = (0..LOAD_THREADS)
            .map(|_| Vec::with_capacity(LOAD_BATCH))
            .collect();
        let mut flushed = false;
        // Dropping `senders` (on return, or on an error) ends the workers; the scope joins them.
        while let Some(rec) = loader.next() {
            let rec = rec?;
            if let Record::Dict { id, prefix, dict } = rec {
                // Installed before any later record is handed out: the values that need it
                // come after it in the files.
                if let Err(e) = store.codec().load_dictionary(id, prefix, dict) {
                    warn!("compression dictionary {id} not loaded: {e}");
                }
                continue;
            }
            let Some(key) = rec.key() else {
                flushed = true;
                break;
            };
            let i = (store.scan_hash(key) as usize) % LOAD_THREADS;
            batches[i].push(rec);
            if batches[i].len() == LOAD_BATCH {
                let full = std::mem::replace(&mut batches[i], Vec::with_capacity(LOAD_BATCH));
                // A worker only stops when its sender is dropped, so the send cannot fail.
                let _ = senders[i].send(full);
            }
            if last_log.elapsed() >= Duration::from_secs(1) {
                let p = loader.progress();
                info!(
                    "loading: {} records, {} of {} bytes",
                    p.records, p.bytes_done, p.bytes_total
                );
                *last_log = Instant::now();
            }
        }
        for (tx, batch) in senders.iter().zip(batches) {
            let _ = tx.send(batch);
        }
        Ok(flushed)
    })
}

/// Starts a background rewrite of `store` on its own thread unless one is running. Returns
/// false if one was already running.
pub fn spawn_rewrite(d: &Arc<Durability>, store: &Arc<Store>) -> bool {
    if d.rewrite_in_progress() {
        return false;
    }
    let store = store.clone();
    let (done, finished) = mpsc::channel::<()>();
    let worker = d.clone();
    let spawned = std::thread::Builder::new()
        .name("llmcached-rewrite".into())
        .spawn(move || {
            let _done = done;
            match worker.rewrite(&store) {
                Ok(()) => info!("background rewrite finished"),
                Err(PersistError::RewriteInProgress) => {}
                Err(e) => warn!("background rewrite failed: {e}"),
            }
        });
    if spawned.is_ok() {
        if let Ok(mut b) = d.background.lock() {
            *b = Some(finished);
        }
    }
    spawned.is_ok()
}

impl Durability {
    /// Applies CONFIG SET appendfsync / save to the running engine.
    pub fn reconfigure(&self, fsync: persistence::FsyncPolicy, save: &persistence::SaveSchedule) {
        self.engine.set_fsync(fsync);
        self.engine.set_save(save.clone());
    }

    pub fn rewrite_in_progress(&self) -> bool {
        self.engine.status().rewrite_in_progress
    }

    /// Waits (at most `limit`) for a running background rewrite to end, so that a clean shutdown
    /// does not leave its unfinished files behind. Blocking.
    pub fn finish_background(&self, limit: Duration) {
        let rx = self.background.lock().ok().and_then(|mut b| b.take());
        if let Some(rx) = rx {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                warn!(
                    "background rewrite still running after {}s; exiting without it (its files are removed at the next start)",
                    limit.as_secs()
                );
            }
        }
    }
}
