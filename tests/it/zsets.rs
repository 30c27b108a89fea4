//! Sorted sets through the `redis` crate: the sliding-window rate limiter LLM gateways keep for
//! token budgets (ZREMRANGEBYSCORE, ZADD, ZCARD in one MULTI), leaderboards in RESP2 and RESP3,
//! and sorted sets across a restart.

use crate::support::{call, cmd, start, start_with, text, until_blocked};
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

/// BZPOPMIN / BZPOPMAX / BZMPOP block like the list pops: served by a ZADD from another
/// connection, first come first served, and the set is empty when ZADD has replied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_sorted_set_pops_are_served_by_zadd_in_order() {
    let s = start().await;
    let mut r = s.conn(false).await;
    let mut first = s.conn(false).await;
    let mut second = s.conn(true).await;
    let a = tokio::spawn(async move { cmd(&mut first, &["BZPOPMIN", "q", "0"]).await });
    until_blocked(&mut r, 1).await;
    let b = tokio::spawn(async move {
        cmd(
            &mut second,
            &["BZMPOP", "0", "2", "x", "q", "MAX", "COUNT", "5"],
        )
        .await
    });
    until_blocked(&mut r, 2).await;
    assert_eq!(
        cmd(&mut r, &["ZADD", "q", "1", "a", "2", "b", "3", "c"]).await,
        "3"
    );
    assert_eq!(cmd(&mut r, &["EXISTS", "q"]).await, "0");
    assert_eq!(a.await.unwrap(), "[q,a,1]");
    assert_eq!(b.await.unwrap(), "[q,[[c,3],[b,2]]]");
    assert_eq!(cmd(&mut r, &["BZPOPMAX", "q", "0.01"]).await, "(nil)");
}

/// The algebra through a client, as a leaderboard merge uses it: weights, aggregates, a plain
/// set as an input, the STORE forms and ZINTERCARD, ZRANGESTORE and ZRANDMEMBER.
#[tokio::test]
async fn union_inter_diff_and_store_forms() {
    let s = start().await;
    let mut c = s.conn(false).await;
    cmd(&mut c, &["ZADD", "week1", "10", "ann", "20", "bob"]).await;
    cmd(&mut c, &["ZADD", "week2", "5", "bob", "7", "cat"]).await;
    cmd(&mut c, &["SADD", "vip", "ann", "cat"]).await;
    assert_eq!(
        cmd(&mut c, &["ZUNION", "2", "week1", "week2", "WITHSCORES"]).await,
        "[cat,7,ann,10,bob,25]"
    );
    assert_eq!(
        cmd(
            &mut c,
            &[
                "ZINTER",
                "2",
                "week1",
                "vip",
                "WEIGHTS",
                "1",
                "100",
                "WITHSCORES"
            ]
        )
        .await,
        "[ann,110]"
    );
    assert_eq!(
        cmd(
            &mut c,
            &[
                "ZUNIONSTORE",
                "all",
                "2",
                "week1",
                "week2",
                "AGGREGATE",
                "MAX"
            ]
        )
        .await,
        "3"
    );
    assert_eq!(
        cmd(&mut c, &["ZRANGE", "all", "0", "-1", "WITHSCORES"]).await,
        "[cat,7,ann,10,bob,20]"
    );
    assert_eq!(
        cmd(&mut c, &["ZDIFF", "2", "week1", "week2"]).await,
        "[ann]"
    );
    assert_eq!(
        cmd(&mut c, &["ZINTERCARD", "2", "week1", "week2", "LIMIT", "5"]).await,
        "1"
    );
    assert_eq!(
        cmd(&mut c, &["ZRANGESTORE", "top", "all", "0", "1", "REV"]).await,
        "2"
    );
    assert_eq!(
        cmd(&mut c, &["ZRANGE", "top", "0", "-1"]).await,
        "[ann,bob]"
    );
    assert_eq!(
        cmd(&mut c, &["ZRANDMEMBER", "top", "-3"])
            .await
            .matches(',')
            .count(),
        2
    );
    assert_eq!(cmd(&mut c, &["ZRANDMEMBER", "top", "5"]).await, "[bob,ann]");
    assert_eq!(
        cmd(&mut c, &["ZUNION", "0", "x"]).await,
        "ERROR:ERR at least 1 input key is needed for 'zunion' command"
    );
}
