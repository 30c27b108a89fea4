//! Search indexes over hashes: the RediSearch subset that vector caches speak (RedisVL,
//! LangChain, LiteLLM).
//!
//! - [`schema`]: `FT.CREATE`'s definition, parsed into an [`IndexDef`].
//! - [`query`]: the query language (tags, numeric ranges, text terms, VECTOR_RANGE, KNN).
//! - [`filter`]: documents as indexed, and compiled filters.
//! - [`distance`], [`vectors`], [`hnsw`]: the vectors, exact (FLAT) and approximate (HNSW).
//! - [`index`]: one index, kept in step with the keyspace, and its search.
//! - [`text`]: tokens, and numbers printed as RediSearch prints them.
//! - [`store`]: index definitions kept across restarts.
//! - [`pending`]: semantic single-flight spaces (`LLMLOOKUP ... SEMANTIC`).
//!
//! The store stays the source of truth: the [`Registry`] is the store's
//! [`Observer`](crate::cache::Observer), so every change to a hash under an index's prefix
//! (HSET, HDEL, DEL, expiry, eviction, FLUSHALL) reaches the index under the key's lock.

pub mod distance;
pub mod filter;
pub mod guard;
pub mod hnsw;
pub mod index;
pub mod pending;
pub mod query;
pub mod schema;
pub mod store;
pub mod text;
pub mod vectors;

pub use index::{Found, Hit, Index, Page};
pub use schema::IndexDef;
pub use vectors::Budget;

use crate::cache::{Entry, Observer};
use arc_swap::ArcSwap;
use bytes::Bytes;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Key sets at least this big are indexed by FT.CREATE in the background.
pub const BACKGROUND_BACKFILL: usize = 10_000;

/// Every index, by name.
///
/// # Concurrency
/// Readers (every keyspace change, every search) load the list without a lock; FT.CREATE and
/// FT.DROPINDEX replace it whole under `changes`.
#[derive(Default)]
pub struct Registry {
    indexes: ArcSwap<Vec<Arc<Index>>>,
    changes: Mutex<()>,
    /// Where definitions are saved (the data directory), once persistence is set up.
    dir: Mutex<Option<PathBuf>>,
    /// Semantic single-flight spaces, following the keyspace too.
    pub semantic: pending::Spaces,
}

impl Registry {
    pub fn get(&self, name: &[u8]) -> Option<Arc<Index>> {
        self.indexes
            .load()
            .iter()
            .find(|i| i.def.name.as_bytes() == name)
            .cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.indexes
            .load()
            .iter()
            .map(|i| i.def.name.clone())
            .collect()
    }

    pub fn all(&self) -> Vec<Arc<Index>> {
        self.indexes.load().to_vec()
    }

    /// Adds an index; `Err` with RediSearch's text if the name is taken.
    pub fn create(&self, def: IndexDef) -> Result<Arc<Index>, String> {
        let _g = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        if self.get(def.name.as_bytes()).is_some() {
            return Err("Index already exists".into());
        }
        let index = Arc::new(Index::new(def));
        let mut next = self.indexes.load().to_vec();
        next.push(index.clone());
        self.indexes.store(Arc::new(next));
        self.save();
        Ok(index)
    }

    pub fn drop_index(&self, name: &[u8]) -> Option<Arc<Index>> {
        let _g = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        let cur = self.indexes.load();
        let gone = cur.iter().find(|i| i.def.name.as_bytes() == name)?.clone();
        let next: Vec<_> = cur
            .iter()
            .filter(|i| !Arc::ptr_eq(i, &gone))
            .cloned()
            .collect();
        self.indexes.store(Arc::new(next));
        self.save();
        Some(gone)
    }

    /// Saves definitions in `dir` from now on, and loads those saved there before. Call before
    /// the data set loads, so that loading the hashes rebuilds the vectors.
    pub fn attach_dir(&self, dir: PathBuf) -> Result<usize, String> {
        let defs = store::load(&dir)?;
        let n = defs.len();
        for def in defs {
            let _ = self.create(def);
        }
        *self.dir.lock().unwrap_or_else(|p| p.into_inner()) = Some(dir);
        Ok(n)
    }

    fn save(&self) {
        let dir = self.dir.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(dir) = dir {
            let defs: Vec<IndexDef> = self.indexes.load().iter().map(|i| i.def.clone()).collect();
            if let Err(e) = store::save(&dir, &defs) {
                tracing::warn!("could not save the search index definitions: {e}");
            }
        }
    }
}

impl Observer for Registry {
    fn put(&self, key: &Bytes, entry: &Entry) {
        for i in self.indexes.load().iter().filter(|i| i.def.covers(key)) {
            i.put(key, entry);
        }
        self.semantic.put(key, entry);
    }

    fn remove(&self, key: &[u8]) {
        for i in self.indexes.load().iter().filter(|i| i.def.covers(key)) {
            i.remove(key);
        }
        self.semantic.remove(key);
    }

    fn flush_all(&self) {
        for i in self.indexes.load().iter() {
            i.clear();
        }
        self.semantic.clear();
    }

    fn extra_weight(&self, key: &[u8], entry: &Entry) -> usize {
        self.indexes
            .load()
            .iter()
            .map(|i| i.extra_weight(key, entry))
            .sum::<usize>()
            + self.semantic.extra_weight(key)
    }
}

/// Indexes `entries` (the keyspace when the index was created) into `index`, recording progress.
pub fn backfill(index: &Index, entries: Vec<(Arc<[u8]>, Arc<Entry>)>) {
    index.begin_backfill();
    let n = entries.len().max(1);
    for (done, (key, entry)) in entries.iter().enumerate() {
        index.backfill(&Bytes::copy_from_slice(key), entry);
        if done % 1024 == 0 {
            index.set_progress(done as f64 / n as f64);
        }
    }
    index.end_backfill();
}
