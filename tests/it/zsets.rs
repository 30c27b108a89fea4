//! Sorted sets through the `redis` crate: the sliding-window rate limiter LLM gateways keep for
//! token budgets (ZREMRANGEBYSCORE, ZADD, ZCARD in one MULTI), leaderboards in RESP2 and RESP3,
//! and sorted sets across a restart.

use crate::support::{call, cmd, start, start_with, text};
use llmcached::persistence::FsyncPolicy;
use redis::aio::MultiplexedConnection;
use redis::Value;

/// One request through a window of `window_ms` allowing `limit` requests: drop what left the
/// window, record this request, count. Returns whether it is allowed.
async fn allowed(c: &mut MultiplexedConnection, now_ms: u64, id: &str, limit: i64) -> bool {
    let window_ms = 1_000;
    let (now, start) = (now_ms.to_string(), format!("({}", now_ms - window_ms));
    assert_eq!(cmd(c, &["MULTI"]).await, "OK");
    for args in [
        &["ZREMRANGEBYSCORE", "rl:user", "-inf", &start][..],
        &["ZADD", "rl:user", &now, id],
        &["ZCARD", "rl:user"],
        &["PEXPIRE", "rl:user", "1000"],
    ] {
        assert_eq!(cmd(c, args).await, "QUEUED");
    }
    let Value::Array(replies) = call(c, &["EXEC"]).await else {
        panic!("EXEC answers an array")
    };
    assert_eq!(text(&replies[1]), "1", "the request was recorded");
    let count: i64 = text(&replies[2]).parse().unwrap();
    count <= limit
}

#[tokio::test]
async fn a_sliding_window_rate_limiter_in_one_multi() {
    let s = start().await;
    let mut c = s.conn(false).await;
    let base = 1_700_000_000_000u64;
    // Three requests per second: the fourth within the second is refused...
    for (i, ok) in [true, true, true, false].into_iter().enumerate() {
        let at = base + 100 * i as u64;
        assert_eq!(
            allowed(&mut c, at, &format!("r{i}"), 3).await,
            ok,
            "request {i}"
        );
    }
    // ...and once the first ones slid out of the window, requests pass again.
    assert!(allowed(&mut c, base + 1_150, "r4", 3).await);
    assert_eq!(
        cmd(&mut c, &["ZRANGE", "rl:user", "0", "-1"]).await,
        "[r2,r3,r4]"
    );
    let ttl: i64 = cmd(&mut c, &["PTTL", "rl:user"]).await.parse().unwrap();
    assert!((0..=1000).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn a_leaderboard_in_both_protocols() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["FLUSHDB"]).await, "OK");
        assert_eq!(
            cmd(
                &mut c,
                &["ZADD", "lb", "10", "ann", "20", "bob", "15", "cy"]
            )
            .await,
            "3"
        );
        assert_eq!(cmd(&mut c, &["ZINCRBY", "lb", "0.1", "ann"]).await, "10.1");
        let top = call(&mut c, &["ZREVRANGE", "lb", "0", "1", "WITHSCORES"]).await;
        if resp3 {
            assert_eq!(text(&top), "[[bob,20],[cy,15]]");
        } else {
            assert_eq!(text(&top), "[bob,20,cy,15]");
        }
        assert_eq!(cmd(&mut c, &["ZRANK", "lb", "ann"]).await, "0");
        assert_eq!(cmd(&mut c, &["ZCOUNT", "lb", "(10.1", "+inf"]).await, "2");
        assert_eq!(cmd(&mut c, &["ZSCORE", "lb", "ann"]).await, "10.1");
        assert_eq!(cmd(&mut c, &["ZADD", "f", "0.1", "x"]).await, "1");
        if !resp3 {
            // RESP2 scores are %.17g text, as Redis 7.0 writes them.
            assert_eq!(
                cmd(&mut c, &["ZSCORE", "f", "x"]).await,
                "0.10000000000000001"
            );
        }
        assert_eq!(cmd(&mut c, &["TYPE", "lb"]).await, "zset");
        assert_eq!(
            cmd(&mut c, &["ZADD", "lb", "NX", "XX", "1", "a"]).await,
            "ERROR:ERR XX and NX options at the same time are not compatible"
        );
        assert_eq!(cmd(&mut c, &["SET", "s", "v"]).await, "OK");
        assert_eq!(
            cmd(&mut c, &["ZADD", "s", "1", "a"]).await,
            "ERROR:WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        assert_eq!(
            cmd(&mut c, &["ZPOPMIN", "lb", "3"])
                .await
                .matches(',')
                .count(),
            5
        );
        assert_eq!(cmd(&mut c, &["EXISTS", "lb"]).await, "0");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorted_sets_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let tune = |p: std::path::PathBuf| {
        move |c: &mut llmcached::config::Config| {
            c.dir = p;
            c.appendonly = true;
            c.appendfsync = FsyncPolicy::Always;
        }
    };
    let s = start_with(tune(dir.path().to_path_buf())).await;
    s.shared.loaded().await;
    let mut c = s.conn(false).await;
    assert_eq!(
        cmd(
            &mut c,
            &["ZADD", "z", "-inf", "lo", "0.1", "x", "inf", "hi"]
        )
        .await,
        "3"
    );
    assert_eq!(
        cmd(&mut c, &["ZINCRBY", "z", "2", "x"]).await,
        "2.1000000000000001"
    );
    assert_eq!(cmd(&mut c, &["SAVE"]).await, "OK");
    assert_eq!(cmd(&mut c, &["ZREM", "z", "lo"]).await, "1");
    drop(c);
    s.stop().await.unwrap();
    let s = start_with(tune(dir.path().to_path_buf())).await;
    s.shared.loaded().await;
    let mut c = s.conn(false).await;
    assert_eq!(
        cmd(&mut c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]).await,
        "[x,2.1000000000000001,hi,inf]"
    );
}
