//! Server commands: INFO, DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN (COMMAND and CONFIG are
//! [`super::command`] and [`super::config`]; SAVE and friends [`super::persist`]).

use super::args;
use super::{CommandError, Ctx, Flow};
use crate::protocol::Reply;
use bytes::Bytes;

/// Keys past which a count that walks the store (DBSIZE and INFO keyspace, once databases
/// other than 0 hold keys) runs on a blocking thread, so that other clients are not held up
/// for the walk (tens of milliseconds per million keys).
const WALK_OFF_LOOP: u64 = 100_000;

/// Runs `count` off the event loop if it walks a big store (see [`WALK_OFF_LOOP`]), at once
/// otherwise (and always inside EXEC or a script, which must not wait).
fn counted(ctx: &Ctx<'_>, count: impl FnOnce() -> Reply + Send + 'static) -> Flow {
    let store = &ctx.shared.store;
    if ctx.client.in_exec || !store.numbered() || store.approx_len() <= WALK_OFF_LOOP {
        return Flow::Reply(count());
    }
    Flow::Wait(Box::pin(async move {
        tokio::task::spawn_blocking(count)
            .await
            .unwrap_or_else(|_| Reply::err("the count failed"))
    }))
}

/// `INFO [section ...]`
pub fn info(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let sections: Vec<String> = a[1..]
        .iter()
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
        .collect();
    let shared = ctx.shared.clone();
    Ok(counted(ctx, move || {
        Reply::Verbatim(crate::metrics::info::render(&shared, &sections))
    }))
}

/// `DBSIZE`
pub fn dbsize(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Flow, CommandError> {
    let (shared, db) = (ctx.shared.clone(), ctx.client.db);
    Ok(counted(ctx, move || {
        Reply::Int(shared.store.len_db(db) as i64)
    }))
}

/// `FLUSHDB [ASYNC|SYNC]` (the selected database) and `FLUSHALL [ASYNC|SYNC]` (every one)
pub fn flushdb(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    match a.len() {
        1 => {}
        2 if args::is(&a[1], "ASYNC") || args::is(&a[1], "SYNC") => {}
        _ => return Err(CommandError::Syntax),
    }
    if args::is(&a[0], "FLUSHALL") {
        ctx.shared.flush()?;
    } else {
        ctx.shared.flush_db(ctx.client.db)?;
    }
    Ok(super::fleet::flushed(ctx))
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

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{error, TestServer};
    use crate::cmd::Flow;
    use crate::protocol::Reply;

    #[test]
    fn dbsize_and_flushdb() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["DBSIZE"]), Reply::Int(0));
        c.run(&["MSET", "a", "1", "b", "2"]);
        c.run(&["SET", "gone", "x", "PX", "10"]);
        assert_eq!(c.run(&["DBSIZE"]), Reply::Int(3));
        assert_eq!(c.run(&["FLUSHDB", "NOW"]), error("ERR syntax error"));
        assert_eq!(c.run(&["FLUSHDB", "async"]), Reply::Ok);
        assert_eq!(c.run(&["DBSIZE"]), Reply::Int(0));
        c.run(&["SET", "a", "1"]);
        assert_eq!(c.run(&["FLUSHALL"]), Reply::Ok);
        assert_eq!(c.run(&["EXISTS", "a"]), Reply::Int(0));
    }

    /// Once another database holds keys, a count walks the store: past `WALK_OFF_LOOP` keys
    /// it runs off the event loop (the command waits), and its answer is still exact.
    #[tokio::test]
    async fn counts_of_a_big_store_walk_it_off_the_event_loop() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SELECT", "1"]);
        c.run(&["SET", "one", "1"]);
        c.run(&["SELECT", "0"]);
        let n = super::WALK_OFF_LOOP as usize + 1;
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            let mut mset = vec!["MSET".to_string()];
            for i in chunk {
                mset.extend([format!("k{i}"), "v".to_string()]);
            }
            let words: Vec<&str> = mset.iter().map(String::as_str).collect();
            c.run(&words);
        }
        server.shared.store.run_maintenance();
        let Flow::Wait(count) = c.flow(&["DBSIZE"]) else {
            panic!("a walk of a big store should run off the loop")
        };
        assert_eq!(count.await, Reply::Int(n as i64));
        let Flow::Wait(info) = c.flow(&["INFO", "keyspace"]) else {
            panic!("INFO keyspace walks the store too")
        };
        let Reply::Verbatim(text) = info.await else {
            panic!("INFO answers text")
        };
        assert!(text.contains(&format!("db0:keys={n},")), "{text}");
        assert!(text.contains("db1:keys=1,"), "{text}");
    }

    #[tokio::test]
    async fn flushdb_wakes_followers_with_a_retry() {
        let server = TestServer::new();
        let (mut leader, mut follower) = (server.client(), server.client());
        leader.run(&["LLMGET", "k"]);
        let Flow::Wait(wait) = follower.flow(&["LLMGET", "k"]) else {
            panic!("the follower should wait")
        };
        assert_eq!(leader.run(&["FLUSHDB"]), Reply::Ok);
        assert!(
            matches!(wait.await, Reply::Error(e) if e.starts_with("TRYAGAIN")),
            "a flush ends every wait"
        );
    }

    #[test]
    fn time_follows_the_store_clock() {
        let server = TestServer::new();
        let mut c = server.client();
        let secs = |r: Reply| match r {
            Reply::Array(parts) => match &parts[0] {
                Reply::Bulk(b) => String::from_utf8_lossy(b).parse::<u64>().unwrap(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        let before = secs(c.run(&["TIME"]));
        server.clock.advance(3_600_000);
        let after = secs(c.run(&["TIME"]));
        assert!(
            (3_600..=3_601).contains(&(after - before)),
            "{before} {after}"
        );
    }

    #[test]
    fn info_renders_the_requested_sections() {
        let server = TestServer::new();
        let mut c = server.client();
        let Reply::Verbatim(all) = c.run(&["INFO"]) else {
            panic!("INFO is a verbatim string")
        };
        assert!(
            all.contains("# Server") && all.contains("redis_version:"),
            "{all}"
        );
        let Reply::Verbatim(keyspace) = c.run(&["info", "KEYSPACE"]) else {
            panic!("INFO is a verbatim string")
        };
        assert!(!keyspace.contains("# Server"), "{keyspace}");
        assert!(keyspace.contains("# Keyspace"), "{keyspace}");
    }

    #[test]
    fn shutdown_closes_and_records_what_was_asked() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(
            c.run(&["SHUTDOWN", "ABORT"]),
            error("ERR No shutdown in progress.")
        );
        assert_eq!(c.run(&["SHUTDOWN", "LATER"]), error("ERR syntax error"));
        assert!(!server.shared.shutdown_requested());
        assert!(matches!(
            c.flow(&["SHUTDOWN", "NOSAVE", "NOW"]),
            Flow::Close
        ));
        assert!(server.shared.shutdown_requested());
        assert_eq!(server.shared.shutdown_save(), Some(false));
    }
}
