//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Between MULTI and EXEC the connection queues commands (see [`crate::connection`]): an unknown
//! command or a wrong argument count is answered at once and marks the transaction dirty, so EXEC
//! aborts it with `EXECABORT`, as in Redis. EXEC runs the queued commands one after the other
//! with nothing else in between (it holds the script gate's exclusive pass); a command that would block (LLMGET waiting
//! on another caller's fill) does not block inside EXEC, as Redis's blocking commands do not.
//!
//! WATCH makes the next EXEC conditional: if a watched key was changed by anyone (this
//! connection included), or was live when watched and has expired since, EXEC runs nothing and
//! answers a nil array. EXEC and DISCARD end the watch either way, as UNWATCH does.

use super::{call, CommandError, Ctx, Flow};
use crate::cache::watch::Watching;
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
    ctx.client.watching = None;
    ctx.client.info.meta(|m| m.multi = -1);
    Ok(Reply::Ok)
}

/// `EXEC`
pub fn exec(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Flow, CommandError> {
    let Some(multi) = ctx.client.multi.take() else {
        return Err(CommandError::err("EXEC without MULTI"));
    };
    ctx.client.info.meta(|m| m.multi = -1);
    let watching = ctx.client.watching.take();
    // Nothing else runs while the transaction does (the script gate's exclusive pass). A
    // script past the busy threshold aborts the transaction, as Redis rejects EXEC itself
    // then (with that reason, before looking at the queue).
    let shared = ctx.shared.clone();
    let Ok(_pass) = shared
        .scripts
        .gate
        .exclusive(|| shared.config().busy_reply_threshold)
    else {
        return Err(CommandError::coded(format!(
            "EXECABORT Transaction discarded because of: {}",
            CommandError::Busy
        )));
    };
    if multi.dirty {
        return Err(CommandError::coded(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let now = ctx.shared.store.clock().now_ms();
    if watching.is_some_and(|w| w.is_dirty(now)) {
        return Ok(Flow::Reply(Reply::NilArray));
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

/// `WATCH key [key ...]`
pub fn watch(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("WATCH inside MULTI is not allowed"));
    }
    let store = &ctx.shared.store;
    let w = ctx
        .client
        .watching
        .get_or_insert_with(|| Watching::new(ctx.shared.watches.clone()));
    for key in &a[1..] {
        store.with_locked(key, |current| w.add(key, current.as_deref()));
    }
    Ok(Reply::Ok)
}

/// `UNWATCH`
pub fn unwatch(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    ctx.client.watching = None;
    Ok(Reply::Ok)
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

    #[test]
    fn watch_aborts_exec_when_another_client_changes_the_key() {
        let server = TestServer::new();
        let (mut c, mut other) = (server.client(), server.client());
        c.run(&["SET", "balance", "10"]);
        assert_eq!(c.run(&["WATCH", "balance", "absent"]), Reply::Ok);
        other.run(&["INCR", "balance"]);
        c.run(&["MULTI"]);
        assert_eq!(c.run(&["SET", "balance", "0"]), QUEUED);
        assert_eq!(c.run(&["EXEC"]), Reply::NilArray);
        assert_eq!(c.run(&["GET", "balance"]), bulk("11"));
        // The watch ended with that EXEC: the next transaction runs.
        c.run(&["MULTI"]);
        c.run(&["SET", "balance", "0"]);
        assert_eq!(c.run(&["EXEC"]), Reply::Array(vec![Reply::Ok]));
        assert_eq!(server.shared.watches.watched_keys(), 0);
    }

    #[test]
    fn watch_sees_own_writes_deletes_and_expiry_but_not_reads() {
        let server = TestServer::new();
        let mut c = server.client();
        let exec_one = |c: &mut crate::cmd::testing::TestClient| {
            c.run(&["MULTI"]);
            c.run(&["PING"]);
            c.run(&["EXEC"])
        };
        let ran = Reply::Array(vec![Reply::Simple("PONG")]);
        c.run(&["SET", "k", "v"]);
        c.run(&["WATCH", "k"]);
        c.run(&["GET", "k"]);
        c.run(&["EXISTS", "k"]);
        assert_eq!(exec_one(&mut c), ran);
        c.run(&["WATCH", "k"]);
        c.run(&["SET", "k", "w"]);
        assert_eq!(exec_one(&mut c), Reply::NilArray);
        c.run(&["WATCH", "k"]);
        c.run(&["DEL", "k"]);
        assert_eq!(exec_one(&mut c), Reply::NilArray);
        c.run(&["SET", "k", "v", "PX", "100"]);
        c.run(&["WATCH", "k"]);
        server.shared.store.clock().advance(101);
        assert_eq!(exec_one(&mut c), Reply::NilArray);
        // A key already gone at WATCH time: its absence is not a change.
        c.run(&["WATCH", "k"]);
        assert_eq!(exec_one(&mut c), ran);
    }

    #[test]
    fn watch_inside_multi_is_refused_and_unwatch_discard_and_flush_behave_as_redis() {
        let server = TestServer::new();
        let (mut c, mut other) = (server.client(), server.client());
        c.run(&["MULTI"]);
        assert_eq!(
            c.run(&["WATCH", "k"]),
            error("ERR WATCH inside MULTI is not allowed")
        );
        assert_eq!(c.run(&["UNWATCH"]), QUEUED);
        assert_eq!(c.run(&["EXEC"]), Reply::Array(vec![Reply::Ok]));
        c.run(&["WATCH", "k"]);
        c.run(&["UNWATCH"]);
        other.run(&["SET", "k", "1"]);
        c.run(&["MULTI"]);
        assert_eq!(c.run(&["EXEC"]), Reply::Array(vec![]));
        c.run(&["WATCH", "k"]);
        c.run(&["MULTI"]);
        c.run(&["DISCARD"]);
        other.run(&["SET", "k", "2"]);
        c.run(&["MULTI"]);
        assert_eq!(c.run(&["EXEC"]), Reply::Array(vec![]));
        // FLUSHALL touches the watched keys it removes, not the absent ones.
        c.run(&["WATCH", "k", "nothing"]);
        other.run(&["FLUSHALL"]);
        c.run(&["MULTI"]);
        assert_eq!(c.run(&["EXEC"]), Reply::NilArray);
        c.run(&["WATCH", "nothing"]);
        other.run(&["FLUSHALL"]);
        c.run(&["MULTI"]);
        assert_eq!(c.run(&["EXEC"]), Reply::Array(vec![]));
    }
}
