//! What the blocking pops share (BLPOP and its kin, BZPOPMIN and its kin): Redis's timeout
//! argument and blocking a client on its keys in the registry of blocked clients
//! (`Shared::key_waits`, see the waits module).
//!
//! A pop that finds nothing registers the client on each of its keys and returns a wait: the
//! connection keeps reading the socket meanwhile (a disconnect drops the wait and leaves the
//! queues), `CLIENT LIST` shows the client with flag `b` and INFO counts it in
//! `blocked_clients`. The client is served by the connection that wrote one of its keys, right
//! after that command and before its reply, as Redis serves blocked clients. Inside MULTI (and
//! scripts) nothing blocks: a pop that finds nothing answers the timeout reply at once.
//! CLIENT UNBLOCK ends the wait as a timeout or with `-UNBLOCKED`; a reply served in the same
//! moment wins, since its item was already taken for the client.

use super::{CommandError, Ctx, Flow};
use crate::client::Unblocked;
use crate::protocol::Reply;
use crate::state::Shared;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Parses a blocking timeout in seconds as Redis 7.0 does: `None` for 0 (for ever).
pub(super) fn timeout(arg: &[u8]) -> Result<Option<Duration>, CommandError> {
    let secs = std::str::from_utf8(arg)
        .ok()
        .filter(|s| !s.is_empty() && !s.starts_with(char::is_whitespace))
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|v| !v.is_nan())
        .ok_or_else(|| CommandError::err("timeout is not a float or out of range"))?;
    let ms = secs * 1000.0;
    // Redis adds the timeout to the clock in 64-bit milliseconds: what overflows is negative.
    if ms < 0.0 || !ms.is_finite() || ms >= (i64::MAX / 2) as f64 {
        return Err(CommandError::err("timeout is negative"));
    }
    Ok((ms > 0.0).then(|| Duration::from_micros((ms * 1000.0) as u64)))
}

/// What a blocked pop does once an item may be there: `Ok(None)` if nothing was there.
pub(super) type Attempt = Arc<dyn Fn(&Shared) -> Result<Option<Reply>, CommandError> + Send + Sync>;

/// Runs `attempt` now; if it finds nothing, blocks the client on `keys` until a serve finds
/// something or `wait` runs out (`Reply::NilArray` then). `other_type` tells whether a key holds
/// a type this pop does not serve: a WRONGTYPE from such a blocked-on key keeps the client
/// waiting (as Redis, which serves a key only to clients blocked for its type); other errors
/// (BLMOVE's destination of another type, a refused write) end the wait with the error.
pub(super) fn block(
    ctx: &mut Ctx<'_>,
    keys: Vec<Bytes>,
    wait: Option<Duration>,
    attempt: Attempt,
    other_type: fn(&Shared, &[u8]) -> bool,
) -> Result<Flow, CommandError> {
    if let Some(reply) = attempt(ctx.shared)? {
        return Ok(Flow::Reply(reply));
    }
    if ctx.client.in_exec {
        return Ok(Flow::Reply(Reply::NilArray));
    }
    let shared = ctx.shared.clone();
    let ks = keys.clone();
    let serve = Box::new(move || match attempt(&shared) {
        Ok(r) => r,
        Err(CommandError::WrongType) if ks.iter().any(|k| other_type(&shared, k)) => None,
        Err(e) => Some(e.into()),
    });
    let guard = ctx.shared.key_waits.block(&keys, serve);
    let deadline = wait.map(|w| Instant::now() + w);
    let info = ctx.client.info.clone();
    Ok(Flow::Wait(Box::pin(async move {
        let _arm = info.arm_unblock();
        let how = tokio::select! {
            reply = guard.reply(deadline) => return reply.unwrap_or(Reply::NilArray),
            how = info.unblocked() => how,
        };
        match (guard.cancel(), how) {
            (Some(reply), _) => reply,
            (None, Unblocked::Timeout) => Reply::NilArray,
            (None, Unblocked::Error) => {
                Reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
            }
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_as_redis_7_0() {
        assert_eq!(timeout(b"0"), Ok(None));
        assert_eq!(timeout(b"0.5"), Ok(Some(Duration::from_millis(500))));
        assert_eq!(timeout(b"2"), Ok(Some(Duration::from_secs(2))));
        for (bad, text) in [
            (&b"x"[..], "ERR timeout is not a float or out of range"),
            (b"", "ERR timeout is not a float or out of range"),
            (b"-1", "ERR timeout is negative"),
            (b"1e100", "ERR timeout is negative"),
            (b"inf", "ERR timeout is negative"),
        ] {
            assert_eq!(timeout(bad).unwrap_err().to_string(), text, "{bad:?}");
        }
    }
}
