//! The fleet-wide side of a miss, when a shared tier is configured: the node's local leader
//! asks the tier for the fleet's lease before it tells its caller to call the model.
//!
//! The local flight stays in charge of this node's callers: only its holder talks to the tier
//! (one tier operation per key per node), and whatever the tier yields (an answer, or another
//! node's answer after a wait) ends the local flight for every local follower at once.

use crate::cache::Entry;
use crate::state::Shared;
use crate::tier::{Answer, Held, Lead, Tier};
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::time::Instant;

/// How the fleet answered a local leader.
pub(super) enum Fleet {
    /// This node holds the fleet's lease (or the tier failed: it leads alone).
    Lead,
    /// An answer was on the tier, or arrived there while this node waited; the local flight
    /// has ended with it.
    Hit(Answer, Option<Arc<Entry>>),
    /// Another node still fills the key and this caller's wait ran out.
    TimedOut,
}

/// Takes the fleet's lease for `key`, or its answer, or follows another node's fill until
/// `deadline`. A stub that disappears (its leader aborted, or its node died and the stub
/// expired) sends every follower back to the lease: one of them wins, on whichever node.
pub(super) async fn lead(
    shared: &Shared,
    tier: &Arc<Tier>,
    key: &Bytes,
    deadline: Instant,
) -> Fleet {
    let mut following = false;
    loop {
        if Instant::now() >= deadline {
            return Fleet::TimedOut;
        }
        let version = tier.version(key);
        let stub = match tier.lead(key).await {
            Err(_) => return Fleet::Lead,
            Ok(Lead::Granted) => {
                if following {
                    tier.stats.remote_promotions.fetch_add(1, Ordering::Relaxed);
                }
                return Fleet::Lead;
            }
            Ok(Lead::Answer(a)) => return hit(shared, tier, key, a, version),
            Ok(Lead::Elsewhere(stub)) => stub,
        };
        if tier.is_mine(&stub) && !following {
            // A stub of this node's own, from an attempt whose local lease has ended (this
            // caller holds the local lease now).
            match tier.take_over(key, &stub).await {
                Err(_) | Ok(true) => return Fleet::Lead,
                Ok(false) => continue,
            }
        }
        if !following {
            following = true;
            tier.stats.remote_follows.fetch_add(1, Ordering::Relaxed);
        }
        match follow(shared, tier, key, deadline).await {
            Followed::Gone => continue,
            Followed::Done(fleet) => return fleet,
        }
    }
}

enum Followed {
    /// No lease stub any more, and no answer: try the lease.
    Gone,
    Done(Fleet),
}

/// Waits for another node's fill of `key`. The bell is armed before each read, so a change
/// between the read and the wait still wakes this caller.
async fn follow(shared: &Shared, tier: &Arc<Tier>, key: &Bytes, deadline: Instant) -> Followed {
    loop {
        let bell = tier.bell(key).notified();
        tokio::pin!(bell);
        bell.as_mut().enable();
        let version = tier.version(key);
        match tier.read(key).await {
            Err(_) => return Followed::Done(Fleet::Lead),
            Ok(None) => return Followed::Gone,
            Ok(Some(Held::Answer(a))) => return Followed::Done(hit(shared, tier, key, a, version)),
            Ok(Some(Held::Stub(_))) => {}
        }
        tokio::select! {
            _ = &mut bell => {}
            _ = tokio::time::sleep(tier.poll()) => {}
            _ = tokio::time::sleep_until(deadline) => return Followed::Done(Fleet::TimedOut),
        }
    }
}

/// A read that may not lead (MODE READONLY, LLMGET_RO) and found nothing here: the tier's
/// answer, or a running fill's elsewhere (followed until `deadline`); [`Fleet::Lead`] stands
/// for "nothing anywhere" (the caller answers -MISS).
pub(super) async fn read_only(
    shared: &Shared,
    tier: &Arc<Tier>,
    key: &Bytes,
    deadline: Instant,
) -> Fleet {
    match follow(shared, tier, key, deadline).await {
        Followed::Gone => Fleet::Lead,
        Followed::Done(fleet) => fleet,
    }
}

/// An answer from the tier: a copy of it in this node, and the local flight ended with it.
fn hit(shared: &Shared, tier: &Tier, key: &Bytes, a: Answer, version: u64) -> Fleet {
    let entry = tier.install(key, &a, version);
    shared
        .flights
        .complete(key, &a.value, a.tokens, entry.as_ref());
    tier.stats.shared_hits.fetch_add(1, Ordering::Relaxed);
    Fleet::Hit(a, entry)
}
