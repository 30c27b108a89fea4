//! Semantic single-flight: per tenant and named *space*, the vectors of stored LLM answers and
//! of answers being filled right now (pending), so that a paraphrase of a question finds the
//! answer of the original, or waits for it while it is being made, instead of calling the model
//! again.
//!
//! # Lifecycle of a key in a space
//! 1. `LLMLOOKUP ... SEMANTIC space vector d` misses and nothing within `d` is stored or pending
//!    in the same scope: the key is registered *pending* with its vector ([`Space::decide`]).
//! 2. The answer is stored at the key (LLMSETNX): the store's observer calls [`Spaces::put`],
//!    which moves the key from pending to stored in the same lock.
//! 3. The key is deleted, expires or is evicted: [`Spaces::remove`] drops it.
//!
//! A pending entry that is never filled (the caller gave up, its lease ran out) lapses after
//! `lease`; a later caller that waits on it becomes the filler of that key (single-flight
//! promotion), which is still an answer to a question within `d`.
//!
//! # Scope: tenant and model
//! Keys here are server-built canonical keys, `llm:v1:<model>:<digest>` or, in a tenant's
//! namespace, `llm:ns:<ns>:v1:<model>:<digest>`. An answer only ever matches a question of the
//! same [`scope_of`] its key: the key without its digest, so the same namespace (or none) and
//! the same model. Neither a namespace nor a model segment holds a `:`, so two scopes are equal
//! exactly when both tenant and model are. The key is the record: a vector carries no tenant
//! or model of its own that could disagree with its key. On top of that each tenant
//! ([`tenant_of`] the key) has its own spaces, so a space's name and dimension are the tenant's
//! own too: another tenant using the same name neither shares its vectors nor fixes its
//! dimension.
//!
//! # Concurrency
//! One mutex per space. The decision (stored? pending? else register) is taken under it, so of a
//! burst of near-duplicate questions in one scope exactly one is told to call the model.

mod explain;

pub use explain::Refused;

use super::distance::{self, Near};
use super::guard::Signature;
use super::schema::{Algorithm, Metric, VectorParams};
use super::vectors::{Budget, VecStore};
use crate::cache::{Entry, Value};
use arc_swap::ArcSwap;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The scope of an answer key: the key without its last `:` segment (the digest), so
/// `llm:v1:<model>` or `llm:ns:<ns>:v1:<model>`. A key without a `:` is its own scope.
pub fn scope_of(key: &[u8]) -> &[u8] {
    match key.iter().rposition(|&b| b == b':') {
        Some(i) => &key[..i],
        None => key,
    }
}

/// The tenant of an answer key: `<ns>` of `llm:ns:<ns>:...`, empty for a global key. (The
/// namespaced key layout is the ACL namespaces'; a namespace holds no `:`.)
pub fn tenant_of(key: &[u8]) -> &[u8] {
    let Some(rest) = key.strip_prefix(b"llm:ns:") else {
        return b"";
    };
    match rest.iter().position(|&b| b == b':') {
        Some(i) => &rest[..i],
        None => b"",
    }
}

struct Pending {
    vector: Vec<f32>,
    sig: Arc<Signature>,
    until: Instant,
}

struct Inner {
    stored: VecStore,
    /// id -> key (whose scope is the answer's scope)
    docs: Vec<Option<Bytes>>,
    /// id -> the guards' signature of the question the answer was made for
    sigs: Vec<Option<Arc<Signature>>>,
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
    /// Nothing near, and the caller does not fill (a read-only lookup): nothing registered.
    Nothing,
}

/// What the lookup will do on a miss, which decides what it may see and leave behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Take stored or pending near answers, else lead (and register the vector pending).
    Lead,
    /// Take stored or pending near answers, never lead: nothing is registered.
    ReadOnly,
    /// A refresh: stored answers are what it replaces, so only a running near fill is taken;
    /// else lead.
    Refresh,
}

impl Space {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides, for `key` at `vector` (already normalised) and `radius`, and registers `key`
    /// pending when it is to lead. Only answers of `key`'s scope (tenant and model) are
    /// candidates, and of those only the keys `allowed` accepts (the caller's ACL key
    /// permissions), stored or pending alike.
    pub fn decide(
        &self,
        key: &Bytes,
        vector: Vec<f32>,
        radius: f32,
        lease: Duration,
        allowed: &(dyn Fn(&[u8]) -> bool + Sync),
    ) -> Decision {
        let sig = Arc::new(Signature::default());
        self.decide_as(Intent::Lead, key, &sig, vector, radius, lease, allowed)
    }

    /// [`Space::decide`] for a lookup with `intent`, of a question with the guards' signature
    /// `sig`: a stored or pending answer is a candidate only if its question's signature
    /// agrees (see the guard module).
    #[allow(clippy::too_many_arguments)]
    pub fn decide_as(
        &self,
        intent: Intent,
        key: &Bytes,
        sig: &Arc<Signature>,
        vector: Vec<f32>,
        radius: f32,
        lease: Duration,
        allowed: &(dyn Fn(&[u8]) -> bool + Sync),
    ) -> Decision {
        let now = Instant::now();
        let scope = scope_of(key);
        let candidate = |k: &[u8]| scope_of(k) == scope && allowed(k);
        let mut g = self.lock();
        g.pending.retain(|_, p| p.until > now);
        let found = if intent == Intent::Refresh {
            Vec::new()
        } else {
            let (docs, sigs) = (&g.docs, &g.sigs);
            let in_scope = |id: u32| {
                docs.get(id as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|k| candidate(k))
                    && sigs
                        .get(id as usize)
                        .and_then(Option::as_ref)
                        .is_none_or(|s| s.mismatch(sig).is_none())
            };
            g.stored
                .range(&vector, radius, &in_scope, &Budget::unlimited())
        };
        if !found.is_empty() {
            let hits = found
                .into_iter()
                .filter_map(|Near(d, id)| Some((g.docs[id as usize].clone()?, d)))
                .collect();
            return Decision::Stored(hits);
        }
        let near = g
            .pending
            .iter()
            .filter(|(k, p)| candidate(k) && p.sig.mismatch(sig).is_none())
            .map(|(k, p)| (k, distance::distance(Metric::Cosine, &vector, &p.vector)))
            .filter(|(_, d)| *d <= radius)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((k, d)) = near {
            return Decision::Pending(k.clone(), d);
        }
        if intent == Intent::ReadOnly {
            return Decision::Nothing;
        }
        g.pending.insert(
            Bytes::copy_from_slice(key),
            Pending {
                vector,
                sig: sig.clone(),
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
        // A copy of the key, not a clone: `key` may be a slice of the connection's read
        // buffer, which a clone would keep alive whole.
        let (id, key) = match g.ids.get_key_value(key.as_ref()) {
            Some((k, &id)) => (id, k.clone()),
            None => {
                let id = g.free.pop().unwrap_or(g.docs.len() as u32);
                if id as usize == g.docs.len() {
                    g.docs.push(None);
                    g.sigs.push(None);
                }
                let key = Bytes::copy_from_slice(key);
                g.ids.insert(key.clone(), id);
                (id, key)
            }
        };
        g.docs[id as usize] = Some(key);
        g.sigs[id as usize] = Some(p.sig);
        g.stored.set(id, &p.vector);
    }

    fn remove(&self, key: &[u8]) {
        let mut g = self.lock();
        g.pending.remove(key);
        if let Some(id) = g.ids.remove(key) {
            g.stored.clear(id);
            g.docs[id as usize] = None;
            g.sigs[id as usize] = None;
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
        g.sigs.clear();
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

/// Every space, by tenant and name; made on first use with the dimension of its first vector.
///
/// Every keyspace change reads the list (lock-free: it is swapped whole when a space is made).
#[derive(Default)]
pub struct Spaces {
    list: ArcSwap<Vec<Arc<Space>>>,
    spaces: Mutex<HashMap<(Bytes, Bytes), Arc<Space>>>,
}

impl Spaces {
    fn all(&self) -> Arc<Vec<Arc<Space>>> {
        self.list.load_full()
    }

    /// The space `name` of `tenant` (empty: the global one) for vectors of `dim`; `Err` if it
    /// holds another dimension.
    pub fn get_or_create(
        &self,
        tenant: &[u8],
        name: &[u8],
        dim: usize,
    ) -> Result<Arc<Space>, String> {
        let mut s = self.spaces.lock().unwrap_or_else(|p| p.into_inner());
        let id = (Bytes::copy_from_slice(tenant), Bytes::copy_from_slice(name));
        let fresh = !s.contains_key(&id);
        let space = s.entry(id).or_insert_with(|| {
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
                    sigs: Vec::new(),
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
mod tests;
