//! Transactions: MULTI, EXEC, DISCARD.
//!
//! Between MULTI and EXEC the connection queues commands (see [`crate::connection`]): an unknown
//! command or a wrong argument count is answered at once and marks the transaction dirty, so EXEC
//! aborts it with `EXECABORT`, as in Redis. EXEC runs the queued commands one after the other
//! with nothing else in between (it holds the script gate's exclusive pass); a command that would block (LLMGET waiting
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
    // Nothing else runs while the transaction does (the script gate's exclusive pass).
    let shared = ctx.shared.clone();
    let Ok(_pass) = shared
        .scripts
        .gate
        .exclusive(|| shared.config().busy_reply_threshold)
    else {
        return Err(CommandError::Busy);
    };
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

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::protocol::Reply;

    const QUEUED: Reply = Reply::Simple("QUEUED");

    #[test]
    fn exec_runs_the_queue_in_order() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["MULTI"]), Reply::Ok);
        assert_eq!(c.run(&["SET", "a", "1"]), QUEUED);
        assert_eq!(c.run(&["INCR", "a"]), QUEUED);
        assert_eq!(c.run(&["HSET", "a", "f", "v"]), QUEUED);
        assert_eq!(c.run(&["GET", "a"]), QUEUED);
        // Nothing ran yet.
        assert_eq!(server.shared.store.len(), 0);
        assert_eq!(
            c.run(&["EXEC"]),
            Reply::Array(vec![
                Reply::Ok,
                Reply::Int(2),
                error("WRONGTYPE Operation against a key holding the wrong kind of value"),
                bulk("2"),
            ])
        );
        assert!(c.client.multi.is_none());
    }

    #[test]
    fn transaction_state_errors() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["EXEC"]), error("ERR EXEC without MULTI"));
        assert_eq!(c.run(&["DISCARD"]), error("ERR DISCARD without MULTI"));
        assert_eq!(c.run(&["MULTI"]), Reply::Ok);
        assert_eq!(
            c.run(&["MULTI"]),
            error("ERR MULTI calls can not be nested")
        );
        assert_eq!(c.run(&["SET", "a", "1"]), QUEUED);
        assert_eq!(c.run(&["DISCARD"]), Reply::Ok);
        assert_eq!(c.run(&["EXISTS", "a"]), Reply::Int(0));
        assert_eq!(c.run(&["EXEC"]), error("ERR EXEC without MULTI"));
    }

    #[test]
    fn a_command_refused_while_queueing_aborts_exec() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["MULTI"]);
        assert_eq!(c.run(&["SET", "a", "1"]), QUEUED);
        assert_eq!(
            c.run(&["SET", "a"]),
            error("ERR wrong number of arguments for 'set' command")
        );
        assert_eq!(
            c.run(&["EXEC"]),
            error("EXECABORT Transaction discarded because of previous errors.")
        );
        assert_eq!(c.run(&["EXISTS", "a"]), Reply::Int(0));
        c.run(&["MULTI"]);
        assert!(c.run(&["NOSUCH", "x"]).is_error());
        assert!(c.run(&["EXEC"]).is_error());
    }

    #[tokio::test]
    async fn a_blocking_command_does_not_block_inside_exec() {
        let server = TestServer::new();
        let (mut leader, mut c) = (server.client(), server.client());
        assert_eq!(leader.run(&["LLMGET", "k"]), Reply::Nil);
        c.run(&["MULTI"]);
        assert_eq!(c.run(&["LLMGET", "k"]), QUEUED);
        assert_eq!(c.run(&["PING"]), QUEUED);
        let Reply::Array(replies) = c.run(&["EXEC"]) else {
            panic!("EXEC answers an array")
        };
        assert!(
            matches!(&replies[0], Reply::Error(e) if e.starts_with("TRYAGAIN")),
            "{replies:?}"
        );
        assert_eq!(replies[1], Reply::Simple("PONG"));
        assert!(!c.client.in_exec);
    }
}
