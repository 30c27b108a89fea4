//! One search index: its definition, its documents and their vector stores, kept in step with
//! the keyspace, and the search over them.
//!
//! # Concurrency
//! The documents sit behind one `RwLock`: keyspace changes (called under the key's stripe lock)
//! take it for writing, searches for reading. Nothing holding it calls into the store, so it
//! cannot deadlock with the stripes.
//!
//! While `FT.CREATE` indexes the keys that were already there (the backfill), changes reported
//! live win: a key touched live since the backfill started is not overwritten by the backfill's
//! older copy.

use super::distance::Near;
use super::filter::{self, Doc};
use super::hnsw;
use super::query::{Node, Query};
use super::schema::{Algorithm, IndexDef, Kind};
use super::vectors::{Budget, VecStore};
use crate::cache::{Entry, Value};
use bytes::Bytes;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::watch;

/// Bytes a document takes besides its key and values: its slot in `docs`, its entry in
/// `by_key` (the hash table's slot and control byte), and a free-list slot.
const DOC_OVERHEAD: usize =
    std::mem::size_of::<Option<Doc>>() + std::mem::size_of::<(Bytes, u32)>() + 1 + 4;

#[derive(Default)]
struct Docs {
    docs: Vec<Option<Doc>>,
    free: Vec<u32>,
    by_key: HashMap<Bytes, u32>,
    vectors: Vec<VecStore>,
    /// Keys changed live during a backfill (`Some` while one runs).
    touched: Option<HashSet<Bytes>>,
}

pub struct Index {
    pub def: IndexDef,
    docs: RwLock<Docs>,
    /// Hashes under the prefix that could not be indexed (a vector of the wrong length, a
    /// NUMERIC field that is not a number).
    failures: AtomicU64,
    /// Backfill progress in thousandths (1000 when done), as a watch so callers can await it.
    progress: watch::Sender<u64>,
    /// Floats the last search of each shape read (see [`Index::shape`]), so that a caller can
    /// tell a search that will not fit its budget before running it.
    costs: [AtomicUsize; 4],
}

/// One result of a search.
#[derive(Debug, Clone)]
pub struct Hit {
    pub key: Bytes,
    pub hash: Arc<HashMap<Bytes, Bytes>>,
    pub distance: Option<f32>,
}

/// What a search found: how many matched, and the page asked for.
#[derive(Debug, Default)]
pub struct Found {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// The name the distance is returned under, if the query yields one.
    pub yield_as: Option<String>,
}

/// How to order and page results.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub sort_by: Option<(String, bool)>,
    pub offset: usize,
    pub limit: usize,
}

impl Index {
    pub fn new(def: IndexDef) -> Index {
        let vectors = def
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match &f.kind {
                Kind::Vector(p) => Some(VecStore::new(i, p)),
                _ => None,
            })
            .collect();
        Index {
            def,
            docs: RwLock::new(Docs {
                vectors,
                ..Docs::default()
            }),
            failures: AtomicU64::new(0),
            costs: Default::default(),
            progress: watch::channel(1000).0,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Docs> {
        // A panic while writing leaves the documents consistent per operation: carry on.
        self.docs.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Docs> {
        self.docs.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn num_docs(&self) -> usize {
        self.read().by_key.len()
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    pub fn percent_indexed(&self) -> f64 {
        *self.progress.borrow() as f64 / 1000.0
    }

    pub fn set_progress(&self, fraction: f64) {
        self.progress
            .send_replace((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
    }

    /// Resolves once the keys present at FT.CREATE are all indexed.
    pub async fn indexed(&self) {
        let mut rx = self.progress.subscribe();
        // The sender lives as long as `self`.
        let _ = rx.wait_for(|p| *p >= 1000).await;
    }

    /// Bytes of vector data and graph links held.
    pub fn vector_bytes(&self) -> usize {
        self.read().vectors.iter().map(VecStore::bytes).sum()
    }

    /// The keys indexed now.
    pub fn keys(&self) -> Vec<Bytes> {
        self.read().by_key.keys().cloned().collect()
    }

    /// Bytes an entry takes in this index, counted against the byte budget with the entry: per
    /// vector the f32 copy, its presence flag and, on HNSW, the graph's links (which outweigh a
    /// small vector: about 150 bytes at M 16); per document its slot, a copy of the key in
    /// the key map, and its field values.
    pub fn extra_weight(&self, key: &[u8], entry: &Entry) -> usize {
        let Value::Hash(h) = &entry.value else {
            return 0;
        };
        if !self.def.covers(key) {
            return 0;
        }
        let mut vectors = 0;
        let mut values = 0;
        for f in &self.def.fields {
            let Some(raw) = h.get(f.path.as_bytes()) else {
                continue;
            };
            match &f.kind {
                Kind::Vector(p) if raw.len() == p.dim * 4 => {
                    vectors += p.dim * 4 + 1;
                    if let Algorithm::Hnsw { m, .. } = p.algorithm {
                        vectors += hnsw::bytes_per_node(m);
                    }
                }
                // Wrong length: the document is not indexed.
                Kind::Vector(_) => return 0,
                Kind::Tag { .. } | Kind::Text { .. } => values += raw.len() + 24,
                Kind::Numeric => {}
            }
        }
        vectors
            + values
            + DOC_OVERHEAD
            + key.len()
            + self.def.fields.len() * std::mem::size_of::<filter::Value>()
    }

    /// Starts a backfill: live changes from now on are remembered so it does not undo them.
    pub fn begin_backfill(&self) {
        self.write().touched = Some(HashSet::new());
        self.set_progress(0.0);
    }

    pub fn end_backfill(&self) {
        self.write().touched = None;
        self.set_progress(1.0);
    }

    /// The backfill's copy of `key`, unless the key changed live meanwhile.
    pub fn backfill(&self, key: &Bytes, entry: &Entry) {
        let mut d = self.write();
        if d.touched.as_ref().is_some_and(|t| t.contains(key)) {
            return;
        }
        self.apply(&mut d, key, Some(entry));
    }

    /// `key` now holds `entry` (reported live).
    pub fn put(&self, key: &Bytes, entry: &Entry) {
        let mut d = self.write();
        if let Some(t) = &mut d.touched {
            t.insert(Bytes::copy_from_slice(key));
        }
        self.apply(&mut d, key, Some(entry));
    }

    pub fn remove(&self, key: &[u8]) {
        let mut d = self.write();
        if let Some(t) = &mut d.touched {
            t.insert(Bytes::copy_from_slice(key));
        }
        self.drop_doc(&mut d, key);
    }

    pub fn clear(&self) {
        let mut d = self.write();
        d.docs.clear();
        d.free.clear();
        d.by_key.clear();
        for v in &mut d.vectors {
            v.clear_all();
        }
        if let Some(t) = &mut d.touched {
            t.clear();
        }
    }

    fn drop_doc(&self, d: &mut Docs, key: &[u8]) {
        if let Some(id) = d.by_key.remove(key) {
            for v in &mut d.vectors {
                v.clear(id);
            }
            d.docs[id as usize] = None;
            d.free.push(id);
        }
    }

    fn apply(&self, d: &mut Docs, key: &Bytes, entry: Option<&Entry>) {
        let hash = match entry.map(|e| (&e.value, e.expire_at)) {
            Some((Value::Hash(h), at)) => Some((h, at)),
            _ => None,
        };
        let Some((hash, expire_at)) = hash else {
            self.drop_doc(d, key);
            return;
        };
        // The document keeps the index's own copy of the key: `key` may be a slice of the
        // connection's read buffer, which a clone would keep alive whole (a pipeline of HSETs
        // kept every byte it was sent, 2.2 KB per 384-d document).
        let (stored, known) = match d.by_key.get_key_value(key) {
            Some((k, &id)) => (k.clone(), Some(id)),
            None => (Bytes::copy_from_slice(key), None),
        };
        let (doc, vecs) = match filter::build(&self.def, &stored, hash, expire_at) {
            Ok(built) => built,
            Err(filter::Failure) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                self.drop_doc(d, key);
                return;
            }
        };
        let id = match known {
            Some(id) => id,
            None => {
                let id = d.free.pop().unwrap_or(d.docs.len() as u32);
                if id as usize == d.docs.len() {
                    d.docs.push(None);
                }
                d.by_key.insert(stored, id);
                id
            }
        };
        for store in &mut d.vectors {
            match vecs.iter().find(|(f, _)| *f == store.field) {
                Some((_, v)) => store.set(id, v),
                None => store.clear(id),
            }
        }
        d.docs[id as usize] = Some(doc);
    }

    /// Runs `query` at `now_ms` (documents past their expiry are left out), reading no more
    /// than `budget` allows: if it runs out (see [`Budget::exhausted`]), the result is
    /// incomplete and is to be thrown away.
    pub fn search(
        &self,
        query: &Query,
        page: &Page,
        now_ms: u64,
        budget: &Budget,
    ) -> Result<Found, String> {
        let (plan, range) = filter::compile(&self.def, &query.filter)?;
        let d = self.read();
        let live = |doc: &Doc| doc.expire_at.is_none_or(|at| at > now_ms);
        let accept = |id: u32| {
            d.docs
                .get(id as usize)
                .and_then(Option::as_ref)
                .is_some_and(|doc| live(doc) && plan.matches(doc))
        };
        let (mut found, yield_as): (Vec<(u32, Option<f32>)>, Option<String>) =
            if let Some(knn) = &query.knn {
                let store = self.vector_store(&d, &knn.field)?;
                let q = self.query_vector(store, &knn.vector)?;
                // Without a filter the walk leaves out only documents past their expiry that
                // the store has not yet reported gone, so it takes no check per node (each a
                // read of the document's slot) and is redone with one if a result is such.
                let near = plan
                    .is_all()
                    .then(|| store.knn(&q, knn.k, knn.ef_runtime, None, budget))
                    .filter(|near| near.iter().all(|n| accept(n.1)))
                    .unwrap_or_else(|| store.knn(&q, knn.k, knn.ef_runtime, Some(&accept), budget));
                (
                    near.into_iter()
                        .map(|Near(dist, id)| (id, Some(dist)))
                        .collect(),
                    Some(knn.yield_as.clone()),
                )
            } else if let Some(r) = &range {
                let name = &self.def.fields[r.field].name;
                let store = self.vector_store(&d, name)?;
                let q = self.query_vector(store, &r.vector)?;
                let near = store.range(&q, r.radius as f32, &accept, budget);
                (
                    near.into_iter()
                        .map(|Near(dist, id)| (id, Some(dist)))
                        .collect(),
                    r.yield_as.clone(),
                )
            } else {
                if !budget.spend(d.docs.len().saturating_mul(Budget::DOC)) {
                    return Ok(Found::default());
                }
                let ids = (0..d.docs.len() as u32).filter(|&id| accept(id));
                (ids.map(|id| (id, None)).collect(), None)
            };
        if let Some((field, asc)) = &page.sort_by {
            if yield_as.as_deref() == Some(field.as_str()) {
                found.sort_by(|a, b| {
                    a.1.unwrap_or(f32::INFINITY)
                        .total_cmp(&b.1.unwrap_or(f32::INFINITY))
                });
            } else {
                let (i, _) = self
                    .def
                    .field(field)
                    .ok_or_else(|| format!("Property `{field}` not loaded nor in schema"))?;
                let key_of = |id: u32| match d.docs[id as usize].as_ref().map(|doc| &doc.values[i])
                {
                    Some(filter::Value::Num(n)) => (0, *n, Bytes::new()),
                    _ => {
                        let raw = d.docs[id as usize].as_ref().and_then(|doc| {
                            doc.hash.get(self.def.fields[i].path.as_bytes()).cloned()
                        });
                        raw.map_or((2, 0.0, Bytes::new()), |r| (1, 0.0, r))
                    }
                };
                found.sort_by(|a, b| {
                    let (x, y) = (key_of(a.0), key_of(b.0));
                    x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)).then(x.2.cmp(&y.2))
                });
            }
            if !asc {
                found.reverse();
            }
        }
        let total = found.len();
        let hits = found
            .into_iter()
            .skip(page.offset)
            .take(page.limit)
            .filter_map(|(id, distance)| {
                let doc = d.docs[id as usize].as_ref()?;
                Some(Hit {
                    key: doc.key.clone(),
                    hash: doc.hash.clone(),
                    distance,
                })
            })
            .collect();
        Ok(Found {
            total,
            hits,
            yield_as,
        })
    }

    /// Which of four kinds `query` is, by cost: KNN or not, filtered or not. Searches of one kind
    /// on one index read about as much as each other.
    fn shape(query: &Query) -> usize {
        usize::from(query.knn.is_some()) * 2 + usize::from(query.filter != Node::All)
    }

    /// Floats the last search of `query`'s kind read (0 before the first).
    pub fn last_cost(&self, query: &Query) -> usize {
        self.costs[Self::shape(query)].load(Ordering::Relaxed)
    }

    /// Records what a search of `query`'s kind read.
    pub fn note_cost(&self, query: &Query, floats: usize) {
        self.costs[Self::shape(query)].store(floats, Ordering::Relaxed);
    }

    fn vector_store<'d>(&self, d: &'d Docs, name: &str) -> Result<&'d VecStore, String> {
        let (i, f) = self
            .def
            .field(name)
            .ok_or_else(|| format!("Unknown field `{name}`"))?;
        if !matches!(f.kind, Kind::Vector(_)) {
            return Err(format!("Field `{name}` is not a vector field"));
        }
        d.vectors
            .iter()
            .find(|v| v.field == i)
            .ok_or_else(|| format!("Unknown field `{name}`"))
    }

    fn query_vector(&self, store: &VecStore, blob: &[u8]) -> Result<Vec<f32>, String> {
        let mut v = super::distance::decode(blob, store.dim).ok_or_else(|| {
            format!(
                "Error parsing vector similarity query: query vector blob size ({}) does not match index's expected size ({}).",
                blob.len(),
                store.dim * 4
            )
        })?;
        super::distance::prepare(store.metric, &mut v);
        Ok(v)
    }

    /// The stored (prepared) vectors of `field` for `keys`, in order (tests and tools).
    pub fn vector_of(&self, key: &[u8], field: &str) -> Option<Vec<f32>> {
        let d = self.read();
        let id = *d.by_key.get(key)?;
        self.vector_store(&d, field)
            .ok()?
            .get(id)
            .map(<[f32]>::to_vec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::schema;

    #[test]
    fn a_document_holds_no_slice_of_the_request() {
        let args: Vec<Bytes> = "ON HASH PREFIX 1 doc: SCHEMA model TAG"
            .split(' ')
            .map(|w| Bytes::from(w.to_string()))
            .collect();
        let index = Index::new(schema::parse(b"ix", &args).unwrap());
        // A request as the connection reads it: the key is a slice of its buffer.
        let request =
            Bytes::from(b"*4\r\n$4\r\nHSET\r\n$5\r\ndoc:1\r\n$5\r\nmodel\r\n$1\r\na\r\n".to_vec());
        let key = request.slice(18..23);
        assert_eq!(key, "doc:1");
        let hash = HashMap::from([(Bytes::from("model"), Bytes::from("a"))]);
        let entry = Entry::new(Value::Hash(Arc::new(hash)), None);
        index.put(&key, &entry);
        index.put(&key, &entry);
        drop(key);
        assert_eq!(index.keys(), vec![Bytes::from("doc:1")]);
        assert!(
            request.is_unique(),
            "the index keeps the request's buffer alive"
        );
    }
}
