//! Semantic single-flight: `LLMLOOKUP ... SEMANTIC space vector max-distance`.
//!
//! # Format
//! ```text
//! LLMLOOKUP request-json [WAIT ms] [DIALECT d] [MODEL m] ... SEMANTIC space vector max-distance
//!     vector: the prompt's embedding, little-endian FLOAT32, or AUTO for the server's own
//!             embedding of the last user message (--embedding-model); max-distance: cosine
//!     -> [key, value, distance]   a hit: the exact key (distance 0), or the stored answer of the
//!                                 same model nearest within max-distance
//!     -> [key, nil, nil]          a miss: this caller holds the lease on its exact key; store
//!                                 the answer with LLMSETNX key (which also indexes it)
//!     (blocks)                    a near question of the same model is being answered right
//!                                 now: waits for that answer -> [its key, value, distance]
//! ```
//! The answer's vector is kept in the space once LLMSETNX stores it, and leaves it when the key
//! is deleted, expires or is evicted.
//!
//! With META the middle element is LLMGET's META map plus `match` (exact, near, pending,
//! none), `accepted` (what the guards compared for a near answer) and `refused` (the answers
//! within the distance that a guard turned away: key, distance, reason, stored or pending).
//!
//! # Scope
//! The read modes apply: LLMLOOKUP_RO and MODE READONLY take stored or pending near answers but
//! never lead, so a miss leaves no pending vector; MODE REFRESH skips stored answers (exact and
//! near) and takes only a running near fill; MODE BYPASS touches nothing.
//!
//! Answers are only ever matched within one scope: the canonical key without its digest, so
//! the same model and the same tenant namespace (the one the exact key is built in: `NAMESPACE`
//! or, with `llm-key-namespace user`, the user's; none for a global key). Each tenant also has
//! its own spaces by name. Within the scope, a stored or pending answer is a candidate only if
//! the caller's ACL key patterns allow it with the access the exact key needed, so a reply
//! never names a key, value or distance the caller could not have read.

use super::llmget::{hit_reply, single_flight, Mode, ReadOptions};
use super::{args, permit, CommandError, Ctx, Flow};
use crate::cache::databases::{split, user_key};
use crate::protocol::Reply;
use crate::search::pending::{tenant_of, Decision, Intent, Refused};
use crate::search::schema::Metric;
use crate::search::text;
use crate::search::{distance, guard};
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

/// What META adds to a semantic reply: how the answer was matched (`exact`, `near`,
/// `pending`, `none`), what the guards compared for a near one, and the answers inside the
/// distance that a guard refused.
#[derive(Default)]
struct Account {
    matched: &'static str,
    accepted: Vec<String>,
    refused: Vec<Refused>,
}

impl Account {
    /// Adds the account to a META map; other replies (plain, errors) pass unchanged.
    fn annotate(&self, r: Reply) -> Reply {
        let Reply::Map(mut pairs) = r else {
            return r;
        };
        let text = |s: &str| Reply::text(s.to_string());
        let refused = self
            .refused
            .iter()
            .map(|c| {
                Reply::Array(vec![
                    Reply::Bulk(user_key(&c.key)),
                    text(&text::g12(c.distance as f64)),
                    text(c.why.as_str()),
                    text(if c.pending { "pending" } else { "stored" }),
                ])
            })
            .collect();
        pairs.extend([
            (
                Reply::from_static("match"),
                Reply::from_static(self.matched),
            ),
            (
                Reply::from_static("accepted"),
                Reply::Array(self.accepted.iter().map(|a| text(a)).collect()),
            ),
            (Reply::from_static("refused"), Reply::Array(refused)),
        ]);
        Reply::Map(pairs)
    }
}

fn triple(key: Bytes, r: Reply, distance: Option<f32>, account: &Option<Account>) -> Reply {
    if r.is_error() {
        return r;
    }
    let d = match (&r, distance) {
        (Reply::Nil, _) | (_, None) => Reply::Nil,
        (_, Some(d)) => Reply::text(text::g12(d as f64)),
    };
    let r = match account {
        Some(a) => a.annotate(r),
        None => r,
    };
    Reply::Array(vec![Reply::Bulk(user_key(&key)), r, d])
}

fn wrap(flow: Flow, key: Bytes, distance: Option<f32>, account: Option<Account>) -> Flow {
    match flow {
        Flow::Reply(r) => Flow::Reply(triple(key, r, distance, &account)),
        Flow::Wait(w) => Flow::Wait(Box::pin(
            async move { triple(key, w.await, distance, &account) },
        )),
        Flow::Close => Flow::Close,
    }
}

/// The semantic lookup of `key` (already computed from the request, in the caller's namespace,
/// and admitted with `access`, which every other key it may answer with needs too).
///
/// With META the reply's map also tells how the answer was matched and why a near one was
/// accepted (the guards' view of both questions), and lists the answers inside the distance
/// that a guard refused, with the reason.
pub fn lookup(
    ctx: &mut Ctx<'_>,
    body: &[u8],
    key: Bytes,
    sem: Semantic,
    opts: ReadOptions,
    access: u8,
) -> Result<Flow, CommandError> {
    if args::is(&sem.vector, "AUTO") {
        return auto(ctx, body, key, sem, opts, access);
    }
    if sem.vector.is_empty() || !sem.vector.len().is_multiple_of(4) {
        return Err(CommandError::err(
            "the vector must be FLOAT32 values, 4 bytes each",
        ));
    }
    let dim = sem.vector.len() / 4;
    let mut v = distance::decode(&sem.vector, dim).ok_or(CommandError::Syntax)?;
    distance::prepare(Metric::Cosine, &mut v);
    let shared = ctx.shared.clone();
    let meta = opts.meta;
    let account = |matched: &'static str, accepted: Vec<String>, refused: Vec<Refused>| {
        meta.then_some(Account {
            matched,
            accepted,
            refused,
        })
    };
    let intent = match opts.mode {
        Mode::Default => Intent::Lead,
        Mode::ReadOnly => Intent::ReadOnly,
        Mode::Refresh => Intent::Refresh,
        // Touches nothing: the exact read answers -BYPASS.
        Mode::Bypass => {
            let flow = single_flight(ctx, &key, opts, None)?;
            return Ok(wrap(flow, key, None, account("none", vec![], vec![])));
        }
    };
    if intent != Intent::Refresh && shared.store.get(&key).is_some() {
        let flow = single_flight(ctx, &key, opts, None)?;
        let exact = account(
            "exact",
            vec!["the same request (its canonical key)".into()],
            vec![],
        );
        return Ok(wrap(flow, key, Some(0.0), exact));
    }
    let space = shared
        .search
        .semantic
        .get_or_create(tenant_of(split(&key).1), &sem.space, dim)
        .map_err(CommandError::err)?;
    let lease = shared.flights.lease();
    let allowed = permit::key_filter(ctx, access);
    // The user's key patterns name keys as the user does, not in their stored form.
    let allowed = |k: &[u8]| allowed.as_ref().is_none_or(|f| f(split(k).1));
    let (system, user) = guard::texts_of(body);
    let sig = std::sync::Arc::new(guard::Signature::of(&system, &user));
    let refused = match meta {
        true => space.refused(&key, &sig, &v, sem.radius, &allowed),
        false => Vec::new(),
    };
    let agreed = |k: &[u8]| {
        space
            .signature_of(k)
            .map_or_else(Vec::new, |theirs| sig.agreement(&theirs))
    };
    match space.decide_as(intent, &key, &sig, v, sem.radius, lease, &allowed) {
        Decision::Stored(hits) => {
            for (k, d) in hits {
                if let Some(entry) = shared.store.get(&k) {
                    if entry.as_str().is_some() {
                        entry.mark_read(shared.store.clock().now_ms());
                        let stats = shared.store.stats();
                        stats.llm_hits.incr();
                        stats.tokens_saved.add(entry.tokens);
                        let reply = hit_reply(&shared, &entry, &opts);
                        let near = account("near", agreed(&k), refused);
                        return Ok(Flow::Reply(triple(k, reply, Some(d), &near)));
                    }
                }
            }
            // Every near answer left meanwhile: fill our own key.
            let flow = single_flight(ctx, &key, opts, None)?;
            Ok(wrap(flow, key, None, account("none", vec![], refused)))
        }
        Decision::Pending(k, d) => {
            let pending = account("pending", agreed(&k), refused);
            let flow = single_flight(ctx, &k, opts, None)?;
            Ok(wrap(flow, k, Some(d), pending))
        }
        Decision::Lead | Decision::Nothing => {
            let flow = single_flight(ctx, &key, opts, None)?;
            Ok(wrap(flow, key, None, account("none", vec![], refused)))
        }
    }
}

/// `SEMANTIC space AUTO max-distance`: the vector is the server's embedding of the request's
/// last user message; the lookup then runs as with a vector sent, for a stand-in of this
/// connection, once the model has answered (off the event loop).
fn auto(
    ctx: &mut Ctx<'_>,
    body: &[u8],
    key: Bytes,
    sem: Semantic,
    opts: ReadOptions,
    access: u8,
) -> Result<Flow, CommandError> {
    let model = super::embed::embedder(ctx)?;
    let (_, user) = guard::texts_of(body);
    let text = user.trim().to_string();
    if text.is_empty() {
        return Err(CommandError::err(
            "SEMANTIC AUTO found no user message to embed in the request",
        ));
    }
    let shared = ctx.shared.clone();
    let mut client = ctx.client.stand_in();
    let body = Bytes::copy_from_slice(body);
    Ok(Flow::Wait(Box::pin(async move {
        let vector = match model.embed(vec![text]).await {
            Ok(mut v) => match v.pop() {
                Some(v) => crate::embed::to_blob(&v),
                None => return CommandError::err("embedding failed: no vector").into(),
            },
            Err(e) => return CommandError::err(format!("embedding failed: {e}")).into(),
        };
        let sem = Semantic { vector, ..sem };
        let flow = {
            let mut ctx = Ctx {
                shared: &shared,
                client: &mut client,
            };
            lookup(&mut ctx, &body, key, sem, opts, access)
        };
        match flow {
            Ok(Flow::Reply(r)) => r,
            Ok(Flow::Wait(w)) => w.await,
            Ok(Flow::Close) => CommandError::err("the lookup failed").into(),
            Err(e) => e.into(),
        }
    })))
}

#[cfg(test)]
mod tests;
