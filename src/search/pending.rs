//! Semantic single-flight: per named *space*, the vectors of stored LLM answers and of answers
//! being filled right now (pending), so that a paraphrase of a question finds the answer of the
//! original, or waits for it while it is being made, instead of calling the model again.
//!
//! # Lifecycle of a key in a space
//! 1. `LLMLOOKUP ... SEMANTIC space vector d` misses and nothing within `d` is stored or pending
//!    for the same model: the key is registered *pending* with its vector ([`Space::decide`]).
//! 2. The answer is stored at the key (LLMSETNX): the store's observer calls [`Spaces::put`],
//!    which moves the key from pending to stored in the same lock.
//! 3. The key is deleted, expires or is evicted: [`Spaces::remove`] drops it.
//!
//! A pending entry that is never filled (the caller gave up, its lease ran out) lapses after
//! `lease`; a later caller that waits on it becomes the filler of that key (single-flight
//! promotion), which is still an answer to a question within `d`.
//!
//! # Concurrency
//! One mutex per space. The decision (stored? pending? else register) is taken under it, so of a
//! burst of near-duplicate questions exactly one is told to call the model.

use super::distance::{self, Near};
use super::schema::{Algorithm, Metric, VectorParams};
use super::vectors::VecStore;
use crate::cache::{Entry, Value};
use arc_swap::ArcSwap;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

struct Pending {
    vector: Vec<f32>,
    model: Bytes,
    until: Instant,
}

struct Inner {
    stored: VecStore,
    /// id -> (key, model)
    docs: Vec<Option<(Bytes, Bytes)>>,
    ids: HashMap<Bytes, u32>,
    free: Vec<u32>,
    pending: HashMap<Bytes, Pending>,
}

/// One space: COSINE vectors of one dimension.
pub struct Space {
    pub dim: usize,
    inner: Mutex<Inner>,
}

/// What a semantic lookup should do.
#[derive(Debug, PartialEq)]
pub enum Decision {
    /// Stored answers within the distance, nearest first: (key, distance).
    Stored(Vec<(Bytes, f32)>),
    /// An answer within the distance is being filled at this key: wait for it.
    Pending(Bytes, f32),
    /// Nothing near: the caller's key is now pending; the caller fills it.
    Lead,
}

impl Space {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides, for `key` of `model` at `vector` (already normalised) and `radius`, and
    /// registers `key` pending when it is to lead.
    pub fn decide(
        &self,
        key: &Bytes,
        model: &[u8],
        vector: Vec<f32>,
        radius: f32,
        lease: Duration,
    ) -> Decision {
        let now = Instant::now();
        let mut g = self.lock();
        g.pending.retain(|_, p| p.until > now);
        let found = {
            let docs = &g.docs;
            let same_model = |id: u32| {
                docs.get(id as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|(_, m)| m == model)
            };
            g.stored.range(&vector, radius, &same_model)
        };
        if !found.is_empty() {
            let hits = found
                .into_iter()
                .filter_map(|Near(d, id)| Some((g.docs[id as usize].as_ref()?.0.clone(), d)))
                .collect();
            return Decision::Stored(hits);
        }
        let near = g
            .pending
            .iter()
            .filter(|(_, p)| p.model == model)
            .map(|(k, p)| (k, distance::distance(Metric::Cosine, &vector, &p.vector)))
            .filter(|(_, d)| *d <= radius)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((k, d)) = near {
            return Decision::Pending(k.clone(), d);
        }
        g.pending.insert(
            Bytes::copy_from_slice(key),
            Pending {
                vector,
                model: Bytes::copy_from_slice(model),
                until: now + lease,
            },
        );
        Decision::Lead
    }

    fn put(&self, key: &Bytes, entry: &Entry) {
        let mut g = self.lock();
        let Some(p) = g.pending.remove(key.as_ref()) else {
            return;
        };
        if !matches!(entry.value, Value::Str(_)) {
            return;
        }
        let id = match g.ids.get(key.as_ref()) {
            Some(&id) => id,
            None => {
                let id = g.free.pop().unwrap_or(g.docs.len() as u32);
                if id as usize == g.docs.len() {
                    g.docs.push(None);
                }
                g.ids.insert(key.clone(), id);
                id
            }
        };
        g.docs[id as usize] = Some((key.clone(), p.model));
        g.stored.set(id, &p.vector);
    }

    fn remove(&self, key: &[u8]) {
        let mut g = self.lock();
        g.pending.remove(key);
        if let Some(id) = g.ids.remove(key) {
            g.stored.clear(id);
            g.docs[id as usize] = None;
            g.free.push(id);
        }
    }

    fn holds(&self, key: &[u8]) -> bool {
        let g = self.lock();
        g.ids.contains_key(key) || g.pending.contains_key(key)
    }

    fn clear(&self) {
        let mut g = self.lock();
        g.stored.clear_all();
        g.docs.clear();
        g.ids.clear();
        g.free.clear();
        g.pending.clear();
    }

    /// Answers stored, answers pending.
    pub fn counts(&self) -> (usize, usize) {
        let g = self.lock();
        (g.ids.len(), g.pending.len())
    }
}

/// Every space, by name; made on first use with the dimension of its first vector.
///
/// Every keyspace change reads the list (lock-free: it is swapped whole when a space is made).
#[derive(Default)]
pub struct Spaces {
    list: ArcSwap<Vec<Arc<Space>>>,
    spaces: Mutex<HashMap<Bytes, Arc<Space>>>,
}

impl Spaces {
    fn all(&self) -> Arc<Vec<Arc<Space>>> {
        self.list.load_full()
    }

    /// The space `name` for vectors of `dim`; `Err` if it holds another dimension.
    pub fn get_or_create(&self, name: &[u8], dim: usize) -> Result<Arc<Space>, String> {
        let mut s = self.spaces.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = !s.contains_key(name);
        let space = s.entry(Bytes::copy_from_slice(name)).or_insert_with(|| {
            let params = VectorParams {
                algorithm: Algorithm::Flat,
                dim,
                metric: Metric::Cosine,
            };
            Arc::new(Space {
                dim,
                inner: Mutex::new(Inner {
                    stored: VecStore::new(0, &params),
                    docs: Vec::new(),
                    ids: HashMap::new(),
                    free: Vec::new(),
                    pending: HashMap::new(),
                }),
            })
        });
        if space.dim != dim {
            return Err(format!(
                "the semantic space holds vectors of {} dimensions, not {dim}",
                space.dim
            ));
        }
        let space = space.clone();
        if fresh {
            self.list.store(Arc::new(s.values().cloned().collect()));
        }
        Ok(space)
    }

    pub fn put(&self, key: &Bytes, entry: &Entry) {
        for s in self.all().iter() {
            s.put(key, entry);
        }
    }

    pub fn remove(&self, key: &[u8]) {
        for s in self.all().iter() {
            s.remove(key);
        }
    }

    pub fn clear(&self) {
        for s in self.all().iter() {
            s.clear();
        }
    }

    /// Bytes held for `key`'s vectors (counted against the byte budget with its entry).
    pub fn extra_weight(&self, key: &[u8]) -> usize {
        self.all()
            .iter()
            .filter(|s| s.holds(key))
            .map(|s| s.dim * 4 + 64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        distance::prepare(Metric::Cosine, &mut v);
        v
    }

    #[test]
    fn near_duplicates_wait_for_the_first_and_then_find_its_answer() {
        let spaces = Spaces::default();
        let s = spaces.get_or_create(b"qa", 2).unwrap();
        let lease = Duration::from_secs(60);
        let (a, b, c) = (Bytes::from("k:a"), Bytes::from("k:b"), Bytes::from("k:c"));
        assert_eq!(
            s.decide(&a, b"m", unit(&[1.0, 0.0]), 0.1, lease),
            Decision::Lead
        );
        // A paraphrase waits for the pending answer; another model or a far question leads.
        assert!(
            matches!(s.decide(&b, b"m", unit(&[1.0, 0.05]), 0.1, lease), Decision::Pending(ref k, _) if k == &a)
        );
        assert_eq!(
            s.decide(&c, b"other", unit(&[1.0, 0.05]), 0.1, lease),
            Decision::Lead
        );
        spaces.put(&a, &Entry::new(Value::Str(Bytes::from("answer")), None));
        assert!(
            matches!(s.decide(&b, b"m", unit(&[1.0, 0.05]), 0.1, lease), Decision::Stored(ref v) if v[0].0 == a)
        );
        assert!(spaces.extra_weight(b"k:a") > 0);
        spaces.remove(b"k:a");
        assert_eq!(
            s.decide(&b, b"m", unit(&[1.0, 0.05]), 0.1, lease),
            Decision::Lead
        );
        assert_eq!(s.counts(), (0, 2));
        assert!(spaces.get_or_create(b"qa", 3).is_err());
    }
}
