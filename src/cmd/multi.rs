//! Transactions: MULTI, EXEC, DISCARD.
//!
//! Between MULTI and EXEC the connection queues commands (see [`crate::connection`]): an unknown
//! command or a wrong argument count is answered at once and marks the transaction dirty, so EXEC
//! aborts it with `EXECABORT`, as in Redis. EXEC runs the queued commands one after the other
//! with nothing else from this connection in between; a command that would block (LLMGET waiting
//! on another caller's fill) does not block inside EXEC, as Redis's blocking commands do not.

use super::{call, CommandError, Ctx, Flow};
use crate::client::Multi;
use crate::protocol::Reply;
use bytes::Bytes;

/// `MULTI`
pub fn multi(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Multi::default());
    ctx.client.info.meta(|m| m.multi = 0);
    Ok(Reply::Ok)
}

/// `DISCARD`
pub fn discard(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    if ctx.client.multi.take().is_none() {
        return Err(CommandError::err("DISCARD without MULTI"));
    }
    ctx.client.info.meta(|m| m.multi = -1);
    Ok(Reply::Ok)
}

/// `EXEC`
pub fn exec(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Flow, CommandError> {
    let Some(multi) = ctx.client.multi.take() else {
        return Err(CommandError::err("EXEC without MULTI"));
    };
    ctx.client.info.meta(|m| m.multi = -1);
    if multi.dirty {
        return Err(CommandError::coded(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    ctx.client.in_exec = true;
    let mut replies = Vec::with_capacity(multi.queued.len());
    for (index, args) in multi.queued {
        let reply = match call(ctx, index, &args) {
            Flow::Reply(r) => r,
            // Handlers do not block or close while `in_exec` is set; should one try, the
            // transaction still answers every command.
            Flow::Wait(_) | Flow::Close => {
                CommandError::err("command cannot run inside a transaction").into()
            }
        };
        replies.push(reply);
    }
    ctx.client.in_exec = false;
    Ok(Flow::Reply(Reply::Array(replies)))
}
