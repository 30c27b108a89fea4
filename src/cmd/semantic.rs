//! Semantic single-flight: `LLMLOOKUP ... SEMANTIC space vector max-distance`.
//!
//! # Format
//! ```text
//! LLMLOOKUP request-json [WAIT ms] [DIALECT d] [MODEL m] ... SEMANTIC space vector max-distance
//!     vector: the prompt's embedding, little-endian FLOAT32; max-distance: cosine distance
//!     -> [key, value, distance]   a hit: the exact key (distance 0), or the stored answer of the
//!                                 same model nearest within max-distance
//!     -> [key, nil, nil]          a miss: this caller holds the lease on its exact key; store
//!                                 the answer with LLMSETNX key (which also indexes it)
//!     (blocks)                    a near question of the same model is being answered right
//!                                 now: waits for that answer -> [its key, value, distance]
//! ```
//! The answer's vector is kept in the space once LLMSETNX stores it, and leaves it when the key
//! is deleted, expires or is evicted. Answers are only ever matched within one model (the
//! model segment of the canonical key).

use super::llmget::{single_flight, ReadOptions};
use super::{args, CommandError, Ctx, Flow};
use crate::protocol::Reply;
use crate::search::distance;
use crate::search::pending::Decision;
use crate::search::schema::Metric;
use crate::search::text;
use bytes::Bytes;

/// What follows `SEMANTIC`.
pub struct Semantic {
    pub space: Bytes,
    pub vector: Bytes,
    pub radius: f32,
}

impl Semantic {
    /// Takes `SEMANTIC space vector max-distance` out of `rest`, if it is there.
    pub fn take(rest: &mut Vec<Bytes>) -> Result<Option<Semantic>, CommandError> {
        let Some(i) = rest.iter().position(|a| args::is(a, "SEMANTIC")) else {
            return Ok(None);
        };
        if rest.len() < i + 4 {
            return Err(CommandError::Syntax);
        }
        let parts: Vec<Bytes> = rest.drain(i..i + 4).collect();
        let radius = std::str::from_utf8(&parts[3])
            .ok()
            .and_then(|s| s.parse::<f32>().ok())
            .filter(|r| (0.0..=2.0).contains(r))
            .ok_or_else(|| CommandError::err("max-distance must be a number between 0 and 2"))?;
        Ok(Some(Semantic {
            space: parts[1].clone(),
            vector: parts[2].clone(),
            radius,
        }))
    }
}

/// The model segment of a canonical key (`llm:v1:<model>:<digest>`).
fn model_of(key: &[u8]) -> &[u8] {
    key.split(|&b| b == b':').nth(2).unwrap_or(b"")
}

fn triple(key: Bytes, r: Reply, distance: Option<f32>) -> Reply {
    if r.is_error() {
        return r;
    }
    let d = match (&r, distance) {
        (Reply::Nil, _) | (_, None) => Reply::Nil,
        (_, Some(d)) => Reply::text(text::g12(d as f64)),
    };
    Reply::Array(vec![Reply::Bulk(key), r, d])
}

fn wrap(flow: Flow, key: Bytes, distance: Option<f32>) -> Flow {
    match flow {
        Flow::Reply(r) => Flow::Reply(triple(key, r, distance)),
        Flow::Wait(w) => Flow::Wait(Box::pin(async move { triple(key, w.await, distance) })),
        Flow::Close => Flow::Close,
    }
}

/// The semantic lookup of `key` (already computed from the request).
pub fn lookup(
    ctx: &mut Ctx<'_>,
    key: Bytes,
    sem: Semantic,
    opts: ReadOptions,
) -> Result<Flow, CommandError> {
    if sem.vector.is_empty() || !sem.vector.len().is_multiple_of(4) {
        return Err(CommandError::err(
            "the vector must be FLOAT32 values, 4 bytes each",
        ));
    }
    let dim = sem.vector.len() / 4;
    let mut v = distance::decode(&sem.vector, dim).ok_or(CommandError::Syntax)?;
    distance::prepare(Metric::Cosine, &mut v);
    let shared = ctx.shared.clone();
    if shared.store.get(&key).is_some() {
        let flow = single_flight(ctx, &key, opts, None)?;
        return Ok(wrap(flow, key, Some(0.0)));
    }
    let space = shared
        .search
        .semantic
        .get_or_create(&sem.space, dim)
        .map_err(CommandError::err)?;
    let lease = shared.flights.lease();
    match space.decide(&key, model_of(&key), v, sem.radius, lease) {
        Decision::Stored(hits) => {
            for (k, d) in hits {
                if let Some(entry) = shared.store.get(&k) {
                    if let Some(value) = entry.as_str() {
                        entry.mark_read();
                        let stats = shared.store.stats();
                        stats.llm_hits.incr();
                        stats.tokens_saved.add(entry.tokens);
                        return Ok(Flow::Reply(triple(k, Reply::Bulk(value.clone()), Some(d))));
                    }
                }
            }
            // Every near answer left meanwhile: fill our own key.
            let flow = single_flight(ctx, &key, opts, None)?;
            Ok(wrap(flow, key, None))
        }
        Decision::Pending(k, d) => {
            let flow = single_flight(ctx, &k, opts, None)?;
            Ok(wrap(flow, k, Some(d)))
        }
        Decision::Lead => {
            let flow = single_flight(ctx, &key, opts, None)?;
            Ok(wrap(flow, key, None))
        }
    }
}
