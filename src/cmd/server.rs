//! Server commands: INFO, DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN (COMMAND and CONFIG are
//! [`super::command`] and [`super::config`]; SAVE and friends [`super::persist`]).

use super::args;
use super::{CommandError, Ctx, Flow};
use crate::protocol::Reply;
use bytes::Bytes;

/// `INFO [section ...]`
pub fn info(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let sections: Vec<String> = a[1..]
        .iter()
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
        .collect();
    Ok(Reply::Verbatim(crate::metrics::info::render(
        ctx.shared, &sections,
    )))
}

/// `DBSIZE`
pub fn dbsize(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Int(ctx.shared.store.len() as i64))
}

/// `FLUSHDB [ASYNC|SYNC]` and `FLUSHALL [ASYNC|SYNC]`
pub fn flushdb(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    match a.len() {
        1 => {}
        2 if args::is(&a[1], "ASYNC") || args::is(&a[1], "SYNC") => {}
        _ => return Err(CommandError::Syntax),
    }
    ctx.shared.flush()?;
    Ok(Reply::Ok)
}

/// `TIME`
pub fn time(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let us = ctx.shared.store.clock().now_us();
    Ok(Reply::Array(vec![
        Reply::text((us / 1_000_000).to_string()),
        Reply::text((us % 1_000_000).to_string()),
    ]))
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`: stops accepting, lets in-flight commands
/// reply, saves if persistence is on (unless NOSAVE), and exits. The caller gets no reply: its
/// connection closes, as with Redis.
pub fn shutdown(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let mut save = None;
    for opt in &a[1..] {
        if args::is(opt, "NOSAVE") {
            save = Some(false);
        } else if args::is(opt, "SAVE") {
            save = Some(true);
        } else if args::is(opt, "NOW") || args::is(opt, "FORCE") {
        } else if args::is(opt, "ABORT") {
            return Err(CommandError::err("No shutdown in progress."));
        } else {
            return Err(CommandError::Syntax);
        }
    }
    ctx.shared.request_shutdown(save);
    Ok(Flow::Close)
}
