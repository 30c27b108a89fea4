//! Single-flight: LLMGET / LLMSETNX / LLMABORT under concurrency, as clients would use them.

use crate::support::{cmd, start, start_with, TestServer};
use redis::aio::MultiplexedConnection;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

/// Waits until `n` followers are blocked in the server: the event the test needs before it goes
/// on, awaited on the server's own gauge (bounded: fails after 10 s).
async fn until_followers(s: &TestServer, n: u64) {
    tokio::time::timeout(
        Duration::from_secs(10),
        s.shared.flights.until_followers_waiting(n),
    )
    .await
    .unwrap_or_else(|_| panic!("followers never reached {n}"));
}

/// One LLMSTATS figure from its text: `{name=value,...}` (RESP3) or `[name,value,...]` (RESP2).
fn stat(stats: &str, name: &str) -> String {
    let body = stats.trim_matches(|c| c == '{' || c == '}' || c == '[' || c == ']');
    if stats.starts_with('{') {
        body.split(',')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} missing from {stats}"))
            .to_string()
    } else {
        let items: Vec<&str> = body.split(',').collect();
        let i = items
            .iter()
            .position(|k| *k == name)
            .unwrap_or_else(|| panic!("{name} missing from {stats}"));
        items[i + 1].to_string()
    }
}

async fn spawn_get(
    s: &TestServer,
    key: &str,
) -> tokio::task::JoinHandle<(MultiplexedConnection, String)> {
    let mut c = s.conn(false).await;
    let key = key.to_string();
    tokio::spawn(async move {
        let r = cmd(&mut c, &["LLMGET", &key, "WAIT", "30000"]).await;
        (c, r)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_misses_make_one_model_call() {
    let s = start().await;
    let n = 500;
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let mut c = s.conn(false).await;
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let r = cmd(&mut c, &["LLMGET", "q", "WAIT", "30000"]).await;
            (c, r)
        }));
    }
    // Exactly one caller is told to fill; find it among the finished tasks.
    until_followers(&s, (n - 1) as u64).await;
    let mut leader = None;
    let mut pending = Vec::new();
    for t in tasks {
        if t.is_finished() {
            let (c, r) = t.await.unwrap();
            assert_eq!(
                r, "(nil)",
                "only the leader returns before the answer is stored"
            );
            assert!(leader.replace(c).is_none(), "two leaders");
        } else {
            pending.push(t);
        }
    }
    let mut leader = leader.expect("one leader");
    assert_eq!(
        cmd(
            &mut leader,
            &["LLMSETNX", "q", "the answer", "TOKENS", "100"]
        )
        .await,
        "1"
    );
    for t in pending {
        assert_eq!(t.await.unwrap().1, "the answer");
    }
    let stats = cmd(&mut leader, &["LLMSTATS"]).await;
    assert_eq!(stat(&stats, "misses"), "1");
    assert_eq!(stat(&stats, "coalesced"), "499");
    assert_eq!(stat(&stats, "hits"), "0");
    assert_eq!(stat(&stats, "sets"), "1");
    assert_eq!(stat(&stats, "tokens_saved"), "49900");
    assert_eq!(stat(&stats, "stampede_rate"), "499");
    assert_eq!(stat(&stats, "followers_waiting"), "0");
    assert_eq!(stat(&stats, "leases_active"), "0");
}

/// The three ways a lease ends without an answer each promote exactly one follower, the one
/// that waited longest; the others keep waiting and get the final answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_leader_promotes_exactly_one_follower_each_time() {
    let s = start_with(|c| c.llm_lease = Duration::from_millis(300)).await;
    let mut leader = s.conn(false).await;
    assert_eq!(cmd(&mut leader, &["LLMGET", "k"]).await, "(nil)");
    let mut followers = Vec::new();
    for i in 0..4 {
        followers.push(spawn_get(&s, "k").await);
        until_followers(&s, i + 1).await;
    }
    // 1. The leader's connection drops.
    drop(leader);
    let (mut second, r) = followers.remove(0).await.unwrap();
    assert_eq!(r, "(nil)", "the oldest follower now holds the lease");
    until_followers(&s, 3).await;
    // 2. The new holder gives up.
    assert_eq!(cmd(&mut second, &["LLMABORT", "k"]).await, "1");
    assert_eq!(cmd(&mut second, &["LLMABORT", "no-lease-here"]).await, "0");
    let (_third, r) = followers.remove(0).await.unwrap();
    assert_eq!(r, "(nil)");
    until_followers(&s, 2).await;
    // 3. The third holder never answers: its lease runs out (300 ms here).
    let (mut fourth, r) = followers.remove(0).await.unwrap();
    assert_eq!(r, "(nil)");
    until_followers(&s, 1).await;
    assert_eq!(cmd(&mut fourth, &["LLMSETNX", "k", "finally"]).await, "1");
    let (mut last, r) = followers.remove(0).await.unwrap();
    assert_eq!(r, "finally");
    let stats = cmd(&mut last, &["LLMSTATS"]).await;
    assert_eq!(stat(&stats, "misses"), "1");
    assert_eq!(stat(&stats, "lease_promotions"), "3");
    assert_eq!(stat(&stats, "lease_expirations"), "1");
    assert_eq!(stat(&stats, "aborts"), "1");
    assert_eq!(stat(&stats, "coalesced"), "1");
    assert_eq!(stat(&stats, "followers_waiting"), "0");
    assert_eq!(stat(&stats, "leases_active"), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_that_runs_out_is_a_distinct_error() {
    let s = start().await;
    let mut leader = s.conn(false).await;
    let mut follower = s.conn(true).await;
    assert_eq!(cmd(&mut leader, &["LLMGET", "k"]).await, "(nil)");
    let r = cmd(&mut follower, &["LLMGET", "k", "WAIT", "50"]).await;
    assert!(r.starts_with("ERROR:TRYAGAIN"), "{r}");
    let r = cmd(&mut follower, &["LLMGET", "k", "WAIT", "0"]).await;
    assert!(r.starts_with("ERROR:TRYAGAIN"), "WAIT 0 never blocks: {r}");
    assert_eq!(
        cmd(&mut follower, &["LLMGET", "k", "WAIT", "x"]).await,
        "ERROR:ERR value is not an integer or out of range"
    );
    assert_eq!(
        cmd(&mut follower, &["LLMGET", "k", "LATER", "1"]).await,
        "ERROR:ERR syntax error"
    );
    let stats = cmd(&mut follower, &["LLMSTATS"]).await;
    assert_eq!(stat(&stats, "wait_timeouts"), "2");
    assert_eq!(stat(&stats, "followers_waiting"), "0");
    // The holder's own connection asking again waits like anyone (a pooled client's connection
    // may carry another thread's request): WAIT 0 answers TRYAGAIN at once.
    let r = cmd(&mut leader, &["LLMGET", "k", "WAIT", "0"]).await;
    assert!(r.starts_with("ERROR:TRYAGAIN"), "{r}");
    assert_eq!(
        stat(&cmd(&mut follower, &["LLMSTATS"]).await, "misses"),
        "1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_llmget_holds_up_only_its_own_pipeline() {
    let s = start().await;
    let mut leader = s.conn(false).await;
    assert_eq!(cmd(&mut leader, &["LLMGET", "k"]).await, "(nil)");
    let mut raw = s.raw().await;
    raw.send(b"SET before 1\r\nLLMGET k\r\nPING\r\n").await;
    // The reply before the blocked command arrives at once.
    assert_eq!(raw.read_exact_text(5).await, "+OK\r\n");
    until_followers(&s, 1).await;
    // Other connections are served meanwhile.
    let mut other = s.conn(false).await;
    assert_eq!(cmd(&mut other, &["PING"]).await, "PONG");
    assert_eq!(cmd(&mut other, &["GET", "before"]).await, "1");
    assert_eq!(
        cmd(&mut leader, &["LLMSETNX", "k", "v", "EX", "100"]).await,
        "1"
    );
    let want = "$1\r\nv\r\n+PONG\r\n";
    assert_eq!(raw.read_exact_text(want.len()).await, want);
    assert_eq!(cmd(&mut other, &["TTL", "k"]).await, "100");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_store_once_and_counters_are_exact() {
    let s = start().await;
    let mut c = s.conn(true).await;
    assert_eq!(cmd(&mut c, &["LLMGET", "llm:v1:gpt-4o:aa"]).await, "(nil)");
    assert_eq!(
        cmd(
            &mut c,
            &["LLMSETNX", "llm:v1:gpt-4o:aa", "first", "TOKENS", "30"]
        )
        .await,
        "1"
    );
    assert_eq!(
        cmd(&mut c, &["LLMSETNX", "llm:v1:gpt-4o:aa", "second"]).await,
        "0"
    );
    assert_eq!(cmd(&mut c, &["LLMGET", "llm:v1:gpt-4o:aa"]).await, "first");
    assert_eq!(cmd(&mut c, &["LLMGET", "llm:v1:gpt-4o:aa"]).await, "first");
    assert_eq!(
        cmd(&mut c, &["LLMSETNX", "x", "v", "EX", "0"]).await,
        "ERROR:ERR invalid expire time in 'llmsetnx' command"
    );
    assert_eq!(
        cmd(&mut c, &["LLMSETNX", "x", "v", "TOKENS", "-1"]).await,
        "ERROR:ERR value is not an integer or out of range"
    );
    assert_eq!(
        cmd(&mut c, &["LLMSETNX", "x", "v", "PX", "5000"]).await,
        "1"
    );
    assert_eq!(cmd(&mut c, &["TTL", "x"]).await, "5");
    let stats = cmd(&mut c, &["LLMSTATS"]).await;
    assert_eq!(stat(&stats, "hits"), "2");
    assert_eq!(stat(&stats, "misses"), "1");
    assert_eq!(stat(&stats, "sets"), "2");
    assert_eq!(stat(&stats, "sets_existing"), "1");
    assert_eq!(stat(&stats, "tokens_saved"), "60");
    assert_eq!(stat(&stats, "hit_rate"), "0.6667");
    assert_eq!(stat(&stats, "entries"), "2");
    assert!(
        stats.contains("gpt-4o={hits=2,misses=1,tokens_saved=60}"),
        "{stats}"
    );
    assert_eq!(cmd(&mut c, &["LLMSTATS", "RESET"]).await, "OK");
    assert_eq!(stat(&cmd(&mut c, &["LLMSTATS"]).await, "hits"), "0");
    // Answers are ordinary keys.
    assert_eq!(cmd(&mut c, &["DEL", "llm:v1:gpt-4o:aa"]).await, "1");
    assert_eq!(cmd(&mut c, &["LLMGET", "llm:v1:gpt-4o:aa"]).await, "(nil)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_and_shutdown_never_strand_a_follower() {
    let s = start().await;
    let mut leader = s.conn(false).await;
    assert_eq!(cmd(&mut leader, &["LLMGET", "k"]).await, "(nil)");
    let f = spawn_get(&s, "k").await;
    until_followers(&s, 1).await;
    assert_eq!(cmd(&mut leader, &["FLUSHDB"]).await, "OK");
    let r = f.await.unwrap().1;
    assert!(r.starts_with("ERROR:TRYAGAIN"), "{r}");
    assert_eq!(
        cmd(&mut leader, &["LLMGET", "k"]).await,
        "(nil)",
        "the flush ended the old lease"
    );
    let f = spawn_get(&s, "k").await;
    until_followers(&s, 1).await;
    s.shared.request_shutdown(Some(false));
    let r = f.await.unwrap().1;
    assert!(r.starts_with("ERROR:TRYAGAIN"), "{r}");
    s.stop().await.unwrap();
}
