//! Keyed lookups: LLMKEY, LLMLOOKUP, LLMPURGE.
//!
//! # Format
//! ```text
//! LLMKEY request-json [DIALECT name] [MODEL name] [SAMPLED] [LIVE] [FORMAT name]
//!     -> "llm:v1:<model>:<sha256>"   the canonical key of the request body (see crate::keying)
//!     -> -NOTCACHEABLE <reason>      sampling could change the answer (opt in: SAMPLED), or it
//!                                    depends on live data or provider state (opt in: LIVE)
//! LLMLOOKUP request-json [DIALECT name] [MODEL name] [SAMPLED] [LIVE] [FORMAT name]
//!           [WAIT ms] [MAXAGE s] [MAXSTALE s] [MODE m] [META]
//! LLMLOOKUP_RO request-json ... (as LLMLOOKUP, without MODE: MODE READONLY)
//!     -> [key, value]                a hit, in one round trip
//!     -> [key, nil]                  a miss: this caller holds the lease; store with LLMSETNX key
//!     (blocks / -TRYAGAIN / -MISS)   exactly as LLMGET (see super::llmget), whose options it takes
//!     -> META: LLMGET's META map with a first pair `key`
//! LLMPURGE pattern
//!     -> count of keys deleted that match the glob (e.g. llm:v1:gpt-4o:*)
//! ```

use super::llmget::{single_flight, ReadOptions};
use super::{permit, CommandError, Ctx, Flow};
use crate::acl::{namespace, READ, WRITE};
use crate::cache::Write;
use crate::glob;
use crate::keying::{cache_key, KeyOptions};
use crate::protocol::Reply;
use bytes::Bytes;

/// Keys deleted per batch by LLMPURGE before it yields to other work.
const PURGE_BATCH: usize = 1024;

/// Computes the key. Keying errors carry their own code (`ERR ...`, `NOTCACHEABLE ...`).
fn key_of(body: &Bytes, options: &[Bytes]) -> Result<Bytes, CommandError> {
    let opts = KeyOptions::parse_args(options).map_err(|e| CommandError::coded(e.to_string()))?;
    let key = cache_key(body, &opts).map_err(|e| CommandError::coded(e.to_string()))?;
    Ok(Bytes::from(key.key))
}

/// `LLMKEY request-json [DIALECT name] [MODEL name] [SAMPLED] [LIVE] [FORMAT name] [NAMESPACE ns]`
pub fn llmkey(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (ns, opts) = permit::llm_namespace(ctx, &a[2..])?;
    Ok(Reply::Bulk(namespace::apply(
        key_of(&a[1], &opts)?,
        ns.as_deref(),
    )))
}

/// `LLMLOOKUP request-json [keying options] [WAIT ms] [MAXAGE s] [MAXSTALE s] [MODE m] [META]`
pub fn llmlookup(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    lookup(ctx, a, false)
}

/// `LLMLOOKUP_RO request-json [keying options] [WAIT ms] [MAXAGE s] [MAXSTALE s] [META]`
pub fn llmlookup_ro(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    lookup(ctx, a, true)
}

fn lookup(ctx: &mut Ctx<'_>, a: &[Bytes], read_only: bool) -> Result<Flow, CommandError> {
    let mut keying: Vec<Bytes> = Vec::with_capacity(a.len());
    let opts = ReadOptions::parse(a, 2, ctx.shared, read_only, Some(&mut keying))?;
    let (ns, mut rest) = permit::llm_namespace(ctx, &keying)?;
    let semantic = super::semantic::Semantic::take(&mut rest)?;
    let key = namespace::apply(key_of(&a[1], &rest)?, ns.as_deref());
    // A read-only lookup takes no lease, so reading the key is all it needs.
    let access = if read_only { READ } else { READ | WRITE };
    permit::admit_key(ctx, &key, access)?;
    if let Some(sem) = semantic {
        return super::semantic::lookup(ctx, &a[1], key, sem, opts, access);
    }
    single_flight(ctx, &key.clone(), opts, Some(key))
}

/// `LLMPURGE pattern`: walks the keyspace off the async workers and deletes matching keys one
/// by one (each under its own lock), so other clients are never held up for long.
pub fn llmpurge(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let pattern = a[1].clone();
    let tier = super::fleet::purge_allowed(ctx)?;
    let allowed = permit::key_filter(ctx, WRITE);
    let shared = ctx.shared.clone();
    ctx.client.wrote = true;
    Ok(Flow::Wait(Box::pin(async move {
        // The tier first: its invalidations reach every node, this one included.
        let there = match &tier {
            Some(t) => match t.purge(&pattern).await {
                Ok(keys) => keys,
                Err(_) => return Reply::from(super::fleet::purge_refused()),
            },
            None => Vec::new(),
        };
        let done = tokio::task::spawn_blocking(move || {
            let store = &shared.store;
            let keys: Vec<Bytes> = store
                .iter()
                .filter(|(k, _)| glob::matches(&pattern, k, false))
                .filter(|(k, _)| allowed.as_ref().is_none_or(|f| f(k)))
                .map(|(k, _)| (*k).clone())
                .collect();
            let mut gone: std::collections::HashSet<Bytes> = there.into_iter().collect();
            for batch in keys.chunks(PURGE_BATCH) {
                for k in batch {
                    match store.write(k, |cur| match cur {
                        Some(_) => (Write::Remove, true),
                        None => (Write::Keep, false),
                    }) {
                        Ok(true) => {
                            gone.insert(k.clone());
                        }
                        Ok(false) => {}
                        Err(e) => return Err(Reply::from(e)),
                    }
                }
                std::thread::yield_now();
            }
            Ok(gone.len() as i64)
        })
        .await;
        match done {
            Ok(Ok(n)) => Reply::Int(n),
            Ok(Err(e)) => e,
            Err(_) => Reply::err("the purge task failed"),
        }
    })))
}
