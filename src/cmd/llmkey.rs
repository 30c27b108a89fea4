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
//!
//! # Off the event loop
//! LLMKEY and LLMLOOKUP key a body of at least `llm-key-offload-bytes` (64kb) on a blocking
//! thread and answer through [`Flow::Wait`], so a 1 MB prompt does not hold up the other
//! clients of the event loop for the milliseconds its keying takes (LLMLOOKUP then looks the
//! key up as it would have on the loop; with `SEMANTIC` it keys in place). At most [`offload_slots`] such keyings
//! run at once (the others wait their turn without blocking anything), so keying never takes
//! every core from the event loop. Inside MULTI/EXEC and scripts, which cannot wait, the body
//! is keyed in place. Replies and errors are the same on both paths.

use super::llmget::{single_flight, ReadOptions};
use super::{permit, CommandError, Ctx, Flow};
use crate::acl::{namespace, READ, WRITE};
use crate::cache::databases::stored_key;
use crate::cache::Write;
use crate::glob;
use crate::keying::{cache_key, KeyOptions};
use crate::protocol::Reply;
use bytes::Bytes;
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// Keys deleted per batch by LLMPURGE before it yields to other work.
const PURGE_BATCH: usize = 1024;

/// Computes the key. Keying errors carry their own code (`ERR ...`, `NOTCACHEABLE ...`).
fn key_of(body: &Bytes, options: &[Bytes]) -> Result<Bytes, CommandError> {
    key_with(body, &parse_options(options)?)
}

fn parse_options(options: &[Bytes]) -> Result<KeyOptions, CommandError> {
    KeyOptions::parse_args(options).map_err(|e| CommandError::coded(e.to_string()))
}

fn key_with(body: &[u8], opts: &KeyOptions) -> Result<Bytes, CommandError> {
    let key = cache_key(body, opts).map_err(|e| CommandError::coded(e.to_string()))?;
    Ok(Bytes::from(key.key))
}

/// `LLMKEY request-json [DIALECT name] [MODEL name] [SAMPLED] [LIVE] [FORMAT name] [NAMESPACE ns]`
pub fn llmkey(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let (ns, options) = permit::llm_namespace(ctx, &a[2..])?;
    let opts = parse_options(&options)?;
    if !offloads(ctx, &a[1]) {
        let key = key_with(&a[1], &opts)?;
        return Ok(Flow::Reply(Reply::Bulk(namespace::apply(
            key,
            ns.as_deref(),
        ))));
    }
    let body = a[1].clone();
    Ok(Flow::Wait(Box::pin(async move {
        match key_off_loop(body, opts).await {
            Ok(key) => Reply::Bulk(namespace::apply(key, ns.as_deref())),
            Err(e) => Reply::from(e),
        }
    })))
}

/// Whether `body` is keyed off the event loop (see the module docs).
fn offloads(ctx: &Ctx<'_>, body: &Bytes) -> bool {
    let threshold = ctx.shared.config().llm_key_offload_bytes;
    threshold > 0 && body.len() as u64 >= threshold && !ctx.client.in_exec
}

/// How many bodies are keyed off the event loop at once: every core but one, at least one.
/// On two cores that leaves one to the event loop however many large bodies arrive.
pub fn offload_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// Keys `body` on a blocking thread once one of the [`offload_slots`] is free.
///
/// # Cancellation
/// Dropped before its turn (the client went away), it gives up its place; dropped while
/// keying, the thread finishes that one body (bounded by the body) and the result is dropped.
async fn key_off_loop(body: Bytes, opts: KeyOptions) -> Result<Bytes, CommandError> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| Arc::new(Semaphore::new(offload_slots())));
    // The semaphore is never closed, so acquiring fails only if it were.
    let Ok(slot) = slots.clone().acquire_owned().await else {
        return Err(CommandError::err("the keying pool is closed"));
    };
    let keyed = tokio::task::spawn_blocking(move || {
        let key = key_with(&body, &opts);
        drop(slot);
        key
    })
    .await;
    keyed.unwrap_or_else(|_| Err(CommandError::err("the keying task failed")))
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
    // A read-only lookup takes no lease, so reading the key is all it needs.
    let access = if read_only { READ } else { READ | WRITE };
    if semantic.is_none() && offloads(ctx, &a[1]) {
        return lookup_off_loop(ctx, a[1].clone(), parse_options(&rest)?, ns, opts, access);
    }
    let key = namespace::apply(key_of(&a[1], &rest)?, ns.as_deref());
    permit::admit_key(ctx, &key, access)?;
    let stored = stored_key(ctx.client.db, &key);
    if let Some(sem) = semantic {
        return super::semantic::lookup(ctx, &a[1], stored, sem, opts, access);
    }
    single_flight(ctx, &stored, opts, Some(key))
}

/// LLMLOOKUP of a large body: the key is computed off the event loop, then the lookup runs
/// as on the loop, for a client that is this connection's stand-in: the same id, ACL user,
/// protocol and deferred-write flag (so ACL checks and logs, the lease owner and durability
/// are this connection's). The lease flag is set on the connection itself beforehand, so a
/// lease taken meanwhile is handed on if the client goes away.
fn lookup_off_loop(
    ctx: &mut Ctx<'_>,
    body: Bytes,
    keying: KeyOptions,
    ns: Option<Bytes>,
    opts: ReadOptions,
    access: u8,
) -> Result<Flow, CommandError> {
    let shared = ctx.shared.clone();
    let mut stand_in = ctx.client.stand_in();
    Ok(Flow::Wait(Box::pin(async move {
        let key = match key_off_loop(body, keying).await {
            Ok(key) => namespace::apply(key, ns.as_deref()),
            Err(e) => return Reply::from(e),
        };
        let flow = {
            let mut ctx = Ctx {
                shared: &shared,
                client: &mut stand_in,
            };
            let stored = stored_key(ctx.client.db, &key);
            permit::admit_key(&mut ctx, &key, access)
                .and_then(|()| single_flight(&mut ctx, &stored, opts, Some(key)))
        };
        match flow {
            Ok(Flow::Reply(reply)) => reply,
            Ok(Flow::Wait(wait)) => wait.await,
            // A lookup never closes the connection.
            Ok(Flow::Close) => Reply::err("the lookup failed"),
            Err(e) => Reply::from(e),
        }
    })))
}

/// `LLMPURGE pattern`: walks the keyspace off the async workers and deletes matching keys one
/// by one (each under its own lock), so other clients are never held up for long.
pub fn llmpurge(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let pattern = a[1].clone();
    let tier = super::fleet::purge_allowed(ctx)?;
    let allowed = permit::key_filter(ctx, WRITE);
    let shared = ctx.shared.clone();
    let db = ctx.client.db;
    ctx.client.wrote = true;
    Ok(Flow::Wait(Box::pin(async move {
        // The tier first: its invalidations reach every node, this one included. It holds
        // keys in their stored form, so the pattern is put in the form of this database (the
        // prefix holds no glob character; in database 0 the pattern also reaches the keys of
        // the others there, which a cache may lose).
        let there = match &tier {
            Some(t) => match t.purge(&stored_key(db, &pattern)).await {
                Ok(keys) => keys,
                Err(_) => return Reply::from(super::fleet::purge_refused()),
            },
            None => Vec::new(),
        };
        let done = tokio::task::spawn_blocking(move || {
            let store = &shared.store;
            let keys: Vec<Bytes> = store
                .iter_db(db)
                .filter(|e| glob::matches(&pattern, e.key(), false))
                .filter(|e| allowed.as_ref().is_none_or(|f| f(e.key())))
                .map(|e| e.stored_bytes())
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
