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
    Ok(Reply::Int(ctx.shared.store.len_db(ctx.client.db) as i64))
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

    /// Each database's count stays exact through what adds, replaces and removes keys.
    #[test]
    fn counts_per_database_follow_every_write() {
        let server = TestServer::new();
        let mut c = server.client();
        let walked = |server: &TestServer, db: usize| server.shared.store.iter_db(db).count();
        c.run(&["MSET", "a", "1", "b", "2"]);
        c.run(&["SELECT", "1"]);
        c.run(&["MSET", "a", "1", "b", "2", "c", "3"]);
        c.run(&["SET", "a", "again", "EX", "100"]);
        c.run(&["SET", "gone", "x", "PX", "1"]);
        c.run(&["DEL", "b"]);
        c.run(&["MOVE", "c", "2"]);
        server.clock.advance(10);
        c.run(&["GET", "gone"]);
        assert_eq!(c.run(&["DBSIZE"]), Reply::Int(1));
        let Reply::Verbatim(info) = c.run(&["INFO", "keyspace"]) else {
            panic!("INFO answers text")
        };
        assert!(info.contains("db0:keys=2,expires=0,"), "{info}");
        assert!(info.contains("db1:keys=1,expires=1,"), "{info}");
        assert!(info.contains("db2:keys=1,expires=0,"), "{info}");
        c.run(&["SWAPDB", "0", "2"]);
        for db in 0..3 {
            c.run(&["SELECT", &db.to_string()]);
            assert_eq!(
                c.run(&["DBSIZE"]),
                Reply::Int(walked(&server, db) as i64),
                "db {db}"
            );
        }
        assert_eq!(c.run(&["DBSIZE"]), Reply::Int(2));
        c.run(&["FLUSHALL"]);
        for db in 0..3 {
            c.run(&["SELECT", &db.to_string()]);
            assert_eq!(c.run(&["DBSIZE"]), Reply::Int(0), "db {db}");
        }
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
