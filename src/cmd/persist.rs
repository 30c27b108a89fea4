//! Persistence commands: SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE.
//!
//! They drive [`crate::durability`], which owns the engine; with persistence off (`--appendonly
//! no --save ""`) SAVE, BGSAVE and BGREWRITEAOF say so and LASTSAVE reports the start time.

use super::{CommandError, Ctx, Flow};
use crate::durability;
use crate::persistence::PersistError;
use crate::protocol::Reply;
use bytes::Bytes;

fn persistence_off() -> CommandError {
    CommandError::err("persistence is off (--appendonly no --save \"\"): nothing to save")
}

/// `SAVE`: writes a snapshot now; this connection waits, others go on.
pub fn save(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Flow, CommandError> {
    let Some(d) = ctx.shared.durability.get().cloned() else {
        return Err(persistence_off());
    };
    let store = ctx.shared.store.clone();
    Ok(Flow::Wait(Box::pin(async move {
        let done = tokio::task::spawn_blocking(move || d.rewrite(&store)).await;
        match done {
            Ok(Ok(())) => Reply::Ok,
            Ok(Err(PersistError::RewriteInProgress)) => {
                Reply::err("Background save already in progress")
            }
            Ok(Err(e)) => Reply::error(e.reply_text()),
            Err(_) => Reply::err("the save task failed"),
        }
    })))
}

/// `BGSAVE [SCHEDULE]`
pub fn bgsave(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let d = ctx.shared.durability.get().ok_or_else(persistence_off)?;
    if durability::spawn_rewrite(d, &ctx.shared.store) {
        Ok(Reply::Simple("Background saving started"))
    } else {
        Err(CommandError::err("Background save already in progress"))
    }
}

/// `BGREWRITEAOF`
pub fn bgrewriteaof(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let d = ctx.shared.durability.get().ok_or_else(persistence_off)?;
    if durability::spawn_rewrite(d, &ctx.shared.store) {
        Ok(Reply::Simple(
            "Background append only file rewriting started",
        ))
    } else {
        Err(CommandError::err(
            "Background append only file rewriting already in progress",
        ))
    }
}

/// `LASTSAVE`
pub fn lastsave(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let secs = match ctx.shared.durability.get() {
        Some(d) => d.last_save_secs(),
        None => ctx.shared.started_unix_secs,
    };
    Ok(Reply::Int(secs as i64))
}
