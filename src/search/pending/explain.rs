//! What META reports about a semantic lookup beyond its answer: the answers inside the
//! distance that a guard refused, and why, and for an accepted one what the guards compared.

use super::{scope_of, Space};
use crate::search::distance::{self, Near};
use crate::search::guard::{Mismatch, Signature};
use crate::search::schema::Metric;
use crate::search::vectors::Budget;
use bytes::Bytes;
use std::time::Instant;

/// One answer inside the distance that the guards refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub key: Bytes,
    pub distance: f32,
    pub why: Mismatch,
    /// Still being filled (a pending question) rather than stored.
    pub pending: bool,
}

impl Space {
    /// The stored and pending answers of `key`'s scope, allowed to the caller, within `radius`
    /// of `vector` (normalised), that the guards refuse for a question with signature `sig`,
    /// nearest first. Read-only: nothing is registered.
    pub fn refused(
        &self,
        key: &[u8],
        sig: &Signature,
        vector: &[f32],
        radius: f32,
        allowed: &(dyn Fn(&[u8]) -> bool + Sync),
    ) -> Vec<Refused> {
        let scope = scope_of(key);
        let candidate = |k: &[u8]| k != key && scope_of(k) == scope && allowed(k);
        let g = self.lock();
        let in_scope = |id: u32| {
            g.docs
                .get(id as usize)
                .and_then(Option::as_ref)
                .is_some_and(|k| candidate(k))
        };
        let mut out: Vec<Refused> = g
            .stored
            .range(vector, radius, &in_scope, &Budget::unlimited())
            .into_iter()
            .filter_map(|Near(d, id)| {
                let other = g.sigs.get(id as usize).and_then(Option::as_ref)?;
                let why = other.mismatch(sig)?;
                Some(Refused {
                    key: g.docs.get(id as usize).cloned().flatten()?,
                    distance: d,
                    why,
                    pending: false,
                })
            })
            .collect();
        let now = Instant::now();
        for (k, p) in g
            .pending
            .iter()
            .filter(|(k, p)| p.until > now && candidate(k))
        {
            let d = distance::distance(Metric::Cosine, vector, &p.vector);
            if let (true, Some(why)) = (d <= radius, p.sig.mismatch(sig)) {
                out.push(Refused {
                    key: k.clone(),
                    distance: d,
                    why,
                    pending: true,
                });
            }
        }
        out.sort_by(|a, b| a.distance.total_cmp(&b.distance));
        out
    }

    /// The signature of the question the answer at `key` was made for (stored or pending).
    pub fn signature_of(&self, key: &[u8]) -> Option<std::sync::Arc<Signature>> {
        let g = self.lock();
        if let Some(p) = g.pending.get(key) {
            return Some(p.sig.clone());
        }
        let id = *g.ids.get(key)?;
        g.sigs.get(id as usize).cloned().flatten()
    }
}
