//! Several llmcached nodes over one shared tier (a real redis-server, and a real three-master
//! Redis Cluster): one model call per hot miss fleet-wide, answers shared, deletions and purges
//! reaching every node, the tier lost and found again.

use crate::redis_peer::{RedisCluster, RedisServer};
use crate::support::{call, cmd, start_with, text, Proc, TestServer};
use redis::aio::MultiplexedConnection;
use redis::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A node on the tier at `urls`, once it is connected to it.
async fn node(urls: &str, cluster: bool) -> TestServer {
    let urls: Vec<String> = urls.split(',').map(str::to_owned).collect();
    let s = start_with(|c| {
        c.scale.shared_tier = urls;
        c.scale.shared_tier_cluster = cluster;
        c.scale.shared_poll = Duration::from_millis(100);
        c.scale.shared_retry = Duration::from_millis(100);
        c.scale.shared_timeout = Duration::from_millis(1000);
    })
    .await;
    up(&s, true).await;
    s
}

/// Waits until `s` sees the tier as up (or down).
async fn up(s: &TestServer, status: bool) {
    let tier = s.shared.tier.clone().expect("a tier");
    tokio::time::timeout(Duration::from_secs(20), tier.wait_status(status))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the tier never turned {}",
                if status { "up" } else { "down" }
            )
        });
}

fn info_field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

async fn shared_info(con: &mut MultiplexedConnection, name: &str) -> String {
    info_field(&cmd(con, &["INFO", "shared"]).await, name)
}

/// Polls `con`'s `GET key` until it is nil; how long that took.
async fn until_gone(con: &mut MultiplexedConnection, key: &str) -> Duration {
    let start = Instant::now();
    while call(con, &["GET", key]).await != Value::Nil {
        assert!(start.elapsed() < Duration::from_secs(5), "{key} never left");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    start.elapsed()
}

/// `callers` concurrent callers spread over `nodes`, each on its own connection: LLMGET, and
/// on nil the model call (counted) then LLMSETNX. Returns the model calls and the answers.
async fn stampede(nodes: &[&TestServer], key: &str, callers: usize) -> (usize, Vec<String>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..callers {
        let mut con = nodes[i % nodes.len()].conn(false).await;
        let (calls, key) = (calls.clone(), key.to_string());
        tasks.push(tokio::spawn(async move {
            match call(&mut con, &["LLMGET", &key, "WAIT", "20000"]).await {
                Value::Nil => {
                    calls.fetch_add(1, Ordering::SeqCst);
                    // The model's latency: long enough for every caller to be waiting.
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    cmd(&mut con, &["LLMSETNX", &key, "the answer", "EX", "600"]).await;
                    "the answer".to_string()
                }
                v => text(&v),
            }
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("caller"));
    }
    (calls.load(Ordering::SeqCst), answers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_callers_over_two_nodes_make_one_model_call() {
    let redis = RedisServer::start(&[]);
    let (a, b) = (
        node(&redis.url(), false).await,
        node(&redis.url(), false).await,
    );
    let (calls, answers) = stampede(&[&a, &b], "llm:v1:hot", 200).await;
    assert_eq!(calls, 1);
    assert!(answers.iter().all(|v| v == "the answer"), "{answers:?}");
    let mut ca = a.conn(false).await;
    let mut cb = b.conn(false).await;
    let follows: u64 = shared_info(&mut ca, "remote_follows")
        .await
        .parse()
        .unwrap_or(0)
        + shared_info(&mut cb, "remote_follows")
            .await
            .parse()
            .unwrap_or(0);
    assert!(follows >= 1, "one node followed the other's fill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_stored_on_one_node_is_a_hit_on_the_other_with_its_ttl() {
    let redis = RedisServer::start(&[]);
    let (a, b) = (
        node(&redis.url(), false).await,
        node(&redis.url(), false).await,
    );
    let (mut ca, mut cb) = (a.conn(false).await, b.conn(false).await);
    assert_eq!(call(&mut ca, &["LLMGET", "q"]).await, Value::Nil);
    assert_eq!(
        cmd(
            &mut ca,
            &["LLMSETNX", "q", "Paris", "EX", "100", "TOKENS", "12"]
        )
        .await,
        "1"
    );
    assert_eq!(cmd(&mut cb, &["LLMGET", "q"]).await, "Paris");
    let ttl: i64 = cmd(&mut cb, &["TTL", "q"]).await.parse().unwrap_or(-9);
    assert!(
        (95..=100).contains(&ttl),
        "the copy keeps the answer's expiry: {ttl}"
    );
    assert_eq!(shared_info(&mut cb, "shared_hits").await, "1");
    // The second read is served from B's own copy.
    assert_eq!(cmd(&mut cb, &["LLMGET", "q"]).await, "Paris");
    assert_eq!(shared_info(&mut cb, "near_hits").await, "1");
    // A second LLMSETNX elsewhere finds the fleet's answer: 0, and that answer stays.
    let (mut cb2, c) = (b.conn(false).await, node(&redis.url(), false).await);
    let mut cc = c.conn(false).await;
    assert_eq!(cmd(&mut cc, &["LLMSETNX", "q", "Lyon"]).await, "0");
    assert_eq!(cmd(&mut cc, &["GET", "q"]).await, "Paris");
    assert_eq!(cmd(&mut cb2, &["GET", "q"]).await, "Paris");
    // The tier holds the answer in its envelope, not as a plain string.
    assert!(redis.cli(&["GET", "q"]).starts_with('A'));
    // A read that may not lead reads the tier too, and misses only when nobody has the answer.
    let d = node(&redis.url(), false).await;
    let mut cd = d.conn(false).await;
    assert_eq!(cmd(&mut cd, &["LLMGET_RO", "q"]).await, "Paris");
    let miss = call(&mut cd, &["LLMGET_RO", "nowhere", "WAIT", "0"]).await;
    assert!(format!("{miss:?}").contains("MISS"), "{miss:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn del_purge_and_flushall_on_one_node_reach_the_other() {
    let redis = RedisServer::start(&[]);
    let (a, b) = (
        node(&redis.url(), false).await,
        node(&redis.url(), false).await,
    );
    let (mut ca, mut cb) = (a.conn(false).await, b.conn(false).await);
    for k in ["p:1", "p:2", "keep"] {
        assert_eq!(call(&mut ca, &["LLMGET", k]).await, Value::Nil);
        cmd(&mut ca, &["LLMSETNX", k, "v"]).await;
        assert_eq!(
            cmd(&mut cb, &["LLMGET", k]).await,
            "v",
            "{k} is a copy on B"
        );
    }
    // DEL on A: B's copy goes.
    assert_eq!(cmd(&mut ca, &["DEL", "p:1"]).await, "1");
    let took = until_gone(&mut cb, "p:1").await;
    println!("DEL on one node: the other's copy gone after {took:?}");
    assert!(took < Duration::from_secs(2));
    // LLMPURGE on B: A's copies go too, and the tier's keys.
    assert_eq!(cmd(&mut cb, &["LLMPURGE", "p:*"]).await, "1");
    let took = until_gone(&mut ca, "p:2").await;
    println!("LLMPURGE on one node: the other's copy gone after {took:?}");
    assert_eq!(redis.cli(&["EXISTS", "p:2"]).trim(), "0");
    assert_eq!(cmd(&mut ca, &["GET", "keep"]).await, "v");
    // FLUSHALL on A empties the tier and B's copies.
    assert_eq!(cmd(&mut ca, &["FLUSHALL"]).await, "OK");
    until_gone(&mut cb, "keep").await;
    assert_eq!(redis.cli(&["DBSIZE"]).trim(), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_tier_down_each_node_fills_alone_and_shares_again_after() {
    let mut redis = RedisServer::start(&[]);
    let (a, b) = (
        node(&redis.url(), false).await,
        node(&redis.url(), false).await,
    );
    let (mut ca, mut cb) = (a.conn(false).await, b.conn(false).await);
    assert_eq!(call(&mut ca, &["LLMGET", "old"]).await, Value::Nil);
    cmd(&mut ca, &["LLMSETNX", "old", "kept"]).await;
    assert_eq!(cmd(&mut cb, &["LLMGET", "old"]).await, "kept");
    redis.kill();
    up(&a, false).await;
    up(&b, false).await;
    assert_eq!(shared_info(&mut ca, "shared_tier_status").await, "down");
    // Copies are still served while the tier is away.
    assert_eq!(cmd(&mut cb, &["LLMGET", "old"]).await, "kept");
    // One model call per node, not per caller.
    let (calls, answers) = stampede(&[&a, &b], "new", 20).await;
    assert_eq!(calls, 2);
    assert!(answers.iter().all(|v| v == "the answer"));
    let refused = call(&mut ca, &["LLMPURGE", "*"]).await;
    assert!(
        format!("{refused:?}").contains("shared tier unavailable: LLMPURGE was not applied"),
        "{refused:?}"
    );
    redis.restart();
    up(&a, true).await;
    up(&b, true).await;
    // The answers kept alone were written back (one of the two won, with NX).
    let written: u64 = shared_info(&mut ca, "written_back")
        .await
        .parse()
        .unwrap_or(0)
        + shared_info(&mut cb, "written_back")
            .await
            .parse()
            .unwrap_or(0);
    assert_eq!(written, 2, "both nodes wrote their answer back");
    assert!(redis.cli(&["GET", "new"]).starts_with('A'));
    // Copies made before the tier was lost were dropped on recovery; the tier is read again.
    let c = node(&redis.url(), false).await;
    let mut cc = c.conn(false).await;
    assert_eq!(cmd(&mut cc, &["LLMGET", "new"]).await, "the answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_killed_hands_the_lease_to_exactly_one_caller_on_another_node() {
    let redis = RedisServer::start(&[]);
    let tier = redis.url();
    let a = Proc::start(&[
        "--shared-tier",
        &tier,
        "--llm-lease-ms",
        "1000",
        "--appendonly",
        "no",
        "--save",
        "",
    ]);
    let b = node(&tier, false).await;
    let mut ca = a.conn().await;
    // The node's process takes a moment to reach the tier: a lease granted before that would
    // be this node's alone.
    let deadline = Instant::now() + Duration::from_secs(20);
    while info_field(
        &cmd(&mut ca, &["INFO", "shared"]).await,
        "shared_tier_status",
    ) != "up"
    {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(call(&mut ca, &["LLMGET", "k"]).await, Value::Nil);
    let mut waiting = Vec::new();
    for _ in 0..5 {
        let mut c = b.conn(false).await;
        waiting.push(tokio::spawn(async move {
            match call(&mut c, &["LLMGET", "k", "WAIT", "15000"]).await {
                Value::Nil => {
                    cmd(&mut c, &["LLMSETNX", "k", "from b"]).await;
                    None
                }
                v => Some(text(&v)),
            }
        }));
    }
    let started = Instant::now();
    a.kill();
    let mut leads = 0;
    for w in waiting {
        match w.await.expect("caller") {
            None => leads += 1,
            Some(v) => assert_eq!(v, "from b"),
        }
    }
    assert_eq!(leads, 1, "exactly one caller took over");
    println!(
        "lease handed over {:?} after the leader's node died",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_over_a_redis_cluster_share_fills_hits_and_purges() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let (a, b) = (node(&urls, true).await, node(&urls, true).await);
    let (mut ca, mut cb) = (a.conn(false).await, b.conn(false).await);
    assert_eq!(shared_info(&mut ca, "shared_tier_masters").await, "3");
    let (calls, answers) = stampede(&[&a, &b], "llm:v1:cluster-hot", 100).await;
    assert_eq!(calls, 1);
    assert!(answers.iter().all(|v| v == "the answer"));
    // Keys on every master: stored on A, copies on B, purged from B.
    let keys: Vec<String> = (0..30).map(|i| format!("c:{i}")).collect();
    for k in &keys {
        assert_eq!(call(&mut ca, &["LLMGET", k]).await, Value::Nil);
        cmd(&mut ca, &["LLMSETNX", k, "v"]).await;
        assert_eq!(cmd(&mut cb, &["LLMGET", k]).await, "v");
    }
    let spread = cluster
        .nodes
        .iter()
        .filter(|n| n.cli(&["DBSIZE"]).trim() != "0")
        .count();
    assert_eq!(spread, 3, "the keys landed on every master");
    assert_eq!(cmd(&mut ca, &["DEL", "c:0"]).await, "1");
    until_gone(&mut cb, "c:0").await;
    assert_eq!(cmd(&mut cb, &["LLMPURGE", "c:*"]).await, "29");
    for k in &keys[1..] {
        until_gone(&mut ca, k).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_is_shared_once_it_ends_and_the_metrics_count_it() {
    let redis = RedisServer::start(&[]);
    let (a, b) = (
        node(&redis.url(), false).await,
        node(&redis.url(), false).await,
    );
    let (mut ca, mut cb) = (a.conn(false).await, b.conn(false).await);
    let meta = call(&mut ca, &["LLMGET", "s", "META"]).await;
    let Value::Array(fields) = meta else {
        panic!("{meta:?}")
    };
    let gen = fields
        .chunks(2)
        .find(|p| text(&p[0]) == "gen")
        .map(|p| text(&p[1]))
        .expect("gen");
    cmd(&mut ca, &["LLMAPPEND", "s", &gen, "Par"]).await;
    cmd(&mut ca, &["LLMAPPEND", "s", &gen, "is"]).await;
    assert_eq!(cmd(&mut ca, &["LLMEND", "s", &gen]).await, "1");
    assert_eq!(cmd(&mut cb, &["LLMGET", "s"]).await, "Paris");
    let scrape = llmcached::metrics::scrape(&b.shared, false);
    assert!(scrape.contains("llmcached_shared_tier_up 1"), "{scrape}");
    assert!(scrape.contains("llmcached_shared_hits_total 1"), "{scrape}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_followers_are_woken_by_the_tiers_invalidation_not_the_poll() {
    let redis = RedisServer::start(&[]);
    let a = node(&redis.url(), false).await;
    // B polls once a minute: its followers can only finish this test early if the tier's
    // invalidation of the key wakes them.
    let b = start_with(|c| {
        c.scale.shared_tier = vec![redis.url()];
        c.scale.shared_poll = Duration::from_secs(60);
    })
    .await;
    up(&b, true).await;
    let mut ca = a.conn(false).await;
    assert_eq!(call(&mut ca, &["LLMGET", "w"]).await, Value::Nil);
    let mut followers = Vec::new();
    for _ in 0..20 {
        let mut c = b.conn(false).await;
        followers.push(tokio::spawn(async move {
            let v = call(&mut c, &["LLMGET", "w", "WAIT", "30000"]).await;
            (text(&v), Instant::now())
        }));
    }
    // Every follower is registered: B's one remote follower holds its local lease, the rest
    // follow it locally.
    while b.shared.flights.followers_waiting() < 19 {
        tokio::task::yield_now().await;
    }
    let stored = Instant::now();
    assert_eq!(cmd(&mut ca, &["LLMSETNX", "w", "done"]).await, "1");
    let mut waits = Vec::new();
    for f in followers {
        let (v, at) = f.await.expect("follower");
        assert_eq!(v, "done");
        waits.push(at.saturating_duration_since(stored));
    }
    waits.sort();
    println!(
        "remote followers woken {:?} (median) {:?} (max) after the store",
        waits[10], waits[19]
    );
    assert!(
        waits[19] < Duration::from_secs(30),
        "woken before the poll could"
    );
}
