//! The commands that reach every node through the shared tier: LLMSETNX and LLMEND put their
//! answer on the tier; DEL / UNLINK, FLUSHDB / FLUSHALL and LLMPURGE apply to the tier too, and
//! other nodes learn of it from the tier's invalidations. Without a tier (or inside MULTI and scripts, which never wait) they are the
//! node's own.
//!
//! While the tier is down DEL and FLUSHALL act on this node alone (what they can reach), and
//! LLMPURGE refuses: a purge that silently misses other nodes is worse than an error.

use super::{CommandError, Ctx, Flow};
use crate::cache::{Entry, Write};
use crate::protocol::Reply;
use crate::state::Shared;
use crate::tier::{Answer, Completed, Tier};
use bytes::Bytes;
use std::sync::Arc;

/// LLMPURGE's refusal while the tier is down.
pub fn purge_refused() -> CommandError {
    CommandError::err("shared tier unavailable: LLMPURGE was not applied")
}

/// The tier, if one is configured and up.
fn tier(ctx: &Ctx<'_>) -> Option<Arc<Tier>> {
    ctx.shared.tier.clone().filter(|t| t.is_up())
}

/// DEL's reply once `keys` (of which `local[i]` existed here) are deleted on the tier too: the
/// keys that existed here or there.
pub fn deleted(ctx: &mut Ctx<'_>, keys: &[Bytes], local: Vec<bool>) -> Flow {
    let here = local.iter().filter(|&&d| d).count() as i64;
    let Some(tier) = tier(ctx) else {
        return Flow::Reply(Reply::Int(here));
    };
    let keys = keys.to_vec();
    if ctx.client.in_exec {
        tokio::spawn(async move { tier.delete(&keys).await });
        return Flow::Reply(Reply::Int(here));
    }
    Flow::Wait(Box::pin(async move {
        match tier.delete(&keys).await {
            Ok(there) => {
                let n = local
                    .iter()
                    .zip(there.iter().chain(std::iter::repeat(&false)))
                    .filter(|(a, b)| **a || **b)
                    .count();
                Reply::Int(n as i64)
            }
            Err(_) => Reply::Int(here),
        }
    }))
}

/// FLUSHDB / FLUSHALL's reply once the tier is emptied too.
pub fn flushed(ctx: &mut Ctx<'_>) -> Flow {
    let Some(tier) = tier(ctx) else {
        return Flow::Reply(Reply::Ok);
    };
    if ctx.client.in_exec {
        tokio::spawn(async move { tier.flush().await });
        return Flow::Reply(Reply::Ok);
    }
    Flow::Wait(Box::pin(async move {
        if let Err(e) = tier.flush().await {
            tracing::warn!("FLUSHALL did not reach the shared tier: {e}");
        }
        Reply::Ok
    }))
}

/// Whether LLMPURGE may run: no tier, or a tier that is up.
pub fn purge_allowed(ctx: &Ctx<'_>) -> Result<Option<Arc<Tier>>, CommandError> {
    match &ctx.shared.tier {
        None => Ok(None),
        Some(t) if t.is_up() => Ok(Some(t.clone())),
        Some(_) => Err(purge_refused()),
    }
}

/// The reply of a store of an answer (`stored`: LLMSETNX's 1 or 0) once it is on the shared
/// tier too, if one is configured; `up` is the tier's status when the answer was stored.
pub fn stored(ctx: &Ctx<'_>, key: &Bytes, stored: i64, up: bool, replace: bool) -> Flow {
    let shared = ctx.shared;
    let Some(tier) = shared.tier.clone().filter(|_| stored == 1) else {
        return Flow::Reply(Reply::Int(stored));
    };
    let Some(answer) = shared.store.get(key).and_then(|e| Answer::of(&e)) else {
        return Flow::Reply(Reply::Int(stored));
    };
    if !up {
        tier.queue_writeback(key);
        return Flow::Reply(Reply::Int(stored));
    }
    let (shared, key) = (shared.clone(), key.clone());
    let sharing = async move { share(&shared, &tier, &key, answer, replace).await };
    if ctx.client.in_exec {
        // A transaction or script does not wait: the answer is shared in the background.
        tokio::spawn(sharing);
        return Flow::Reply(Reply::Int(stored));
    }
    Flow::Wait(Box::pin(async move { Reply::Int(sharing.await) }))
}

/// Puts an answer this node stored on the tier too; LLMSETNX's reply: 0 if the fleet already
/// had an answer (the node then takes that one), else 1. Should the tier fail, the answer
/// becomes the node's own (journaled) and is queued to be written back.
async fn share(shared: &Shared, tier: &Tier, key: &Bytes, answer: Answer, replace: bool) -> i64 {
    let version = tier.version(key);
    match tier.complete(key, &answer, replace).await {
        Ok(Completed::Stored) => 1,
        Ok(Completed::Existing(other)) => {
            tier.install(key, &other, version);
            0
        }
        Err(_) => {
            let _ = shared.store.write(key, |cur| match cur {
                Some(e) if e.is_near_copy() && answer.is_held_by(e) => {
                    let mut own = Entry::clone_of(e);
                    own.near_until = 0;
                    (Write::Put(own), ())
                }
                _ => (Write::Keep, ()),
            });
            tier.queue_writeback(key);
            1
        }
    }
}
