//! Freshness through the real server: a herd on a stale answer, META over RESP2 and RESP3, and
//! the answer's metadata across a restart.

use crate::support::{cmd, start_persistent, start_with};
use llmcached::cache::Clock;
use llmcached::config::Config;
use llmcached::persistence::FsyncPolicy;
use llmcached::server::Server;
use std::time::Duration;

/// 200 readers of a stale answer at once: exactly one gets the refresh lease (nil), 199 get the
/// stale answer without waiting; once the refresher stores, everyone reads the new answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_herd_on_a_stale_answer_makes_one_refresh_and_nobody_waits() {
    let s = start_with(|_| {}).await;
    let mut c = s.conn(false).await;
    let r = cmd(
        &mut c,
        &["LLMSETNX", "k", "old", "EX", "10", "GRACE", "600"],
    )
    .await;
    assert_eq!(r, "1");
    s.shared.store.clock().advance(11_000);
    let mut readers = Vec::new();
    for _ in 0..200 {
        let conn = s.conn(false).await;
        readers.push(conn);
    }
    let tasks: Vec<_> = readers
        .into_iter()
        .map(|mut conn| {
            tokio::spawn(async move {
                let r = cmd(&mut conn, &["LLMGET", "k"]).await;
                (r, conn)
            })
        })
        .collect();
    let mut replies = Vec::new();
    let mut readers = Vec::new();
    for t in tasks {
        let (r, conn) = t.await.unwrap();
        replies.push(r);
        readers.push(conn);
    }
    let leads = replies.iter().filter(|r| *r == "(nil)").count();
    let stale = replies.iter().filter(|r| *r == "old").count();
    assert_eq!((leads, stale), (1, 199), "{replies:?}");
    // Nobody waited for the refresh: all 200 replies came before it was stored (a waiter
    // would have run into WAIT's default and answered -TRYAGAIN).
    let stats = cmd(&mut c, &["LLMSTATS"]).await;
    assert!(stats.contains("stale_served,199"), "{stats}");
    assert!(stats.contains("refreshes,1"), "{stats}");
    let r = cmd(&mut c, &["LLMSETNX", "k", "new", "EX", "3600"]).await;
    assert_eq!(r, "1", "the refresh replaces the stale answer");
    for c in readers.iter_mut().take(20) {
        assert_eq!(cmd(c, &["LLMGET", "k"]).await, "new");
    }
    assert_eq!(cmd(&mut c, &["TTL", "k"]).await, "3600");
}

#[tokio::test]
async fn meta_replies_are_a_map_in_resp3_and_pairs_in_resp2() {
    let s = start_with(|_| {}).await;
    let mut c2 = s.conn(false).await;
    let mut c3 = s.conn(true).await;
    cmd(&mut c2, &["LLMSETNX", "k", "v", "EX", "100", "TOKENS", "9"]).await;
    let r2 = cmd(&mut c2, &["LLMGET", "k", "META"]).await;
    assert!(
        r2.starts_with("[status,hit,value,v,age_ms,") && r2.ends_with(",gen,0,tokens,9]"),
        "{r2}"
    );
    let r3 = cmd(&mut c3, &["LLMGET", "k", "META"]).await;
    assert!(
        r3.starts_with("{status=hit,value=v,age_ms=") && r3.ends_with(",gen=0,tokens=9}"),
        "{r3}"
    );
    let lead = cmd(&mut c3, &["LLMGET", "absent", "META"]).await;
    assert!(
        lead.starts_with("{status=lead,value=(nil),age_ms=-1,fresh_ms=-1,gen="),
        "{lead}"
    );
}

/// The write time, grace and token count come back with the answer: two minutes after a
/// restart, an answer stored with EX 100 GRACE 50 is stale (by 20 s) but servable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answers_age_grace_and_tokens_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_persistent(dir.path()).await;
    let mut c = s.conn(false).await;
    let r = cmd(
        &mut c,
        &[
            "LLMSETNX", "k", "v", "EX", "100", "GRACE", "50", "TOKENS", "7",
        ],
    )
    .await;
    assert_eq!(r, "1");
    drop(c);
    s.stop().await.unwrap();

    let clock = Clock::new();
    clock.advance(120_000);
    let config = Config {
        port: 0,
        dir: dir.path().to_path_buf(),
        appendonly: true,
        appendfsync: FsyncPolicy::Always,
        ..Config::default()
    };
    let server = Server::bind_with_clock(config, clock).await.unwrap();
    let shared = server.shared();
    let addr = server.local_addr().unwrap();
    let task = tokio::spawn(server.run());
    tokio::time::timeout(Duration::from_secs(30), shared.loaded())
        .await
        .unwrap();
    let client = redis::Client::open(format!("redis://{addr}/")).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let m = cmd(&mut c, &["LLMGET", "k", "META"]).await;
    let field = |name: &str| -> i64 {
        let items: Vec<&str> = m
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .collect();
        let i = items.iter().position(|k| *k == name).unwrap();
        items[i + 1].parse().unwrap()
    };
    assert!(m.starts_with("[status,stale-lead,value,v,"), "{m}");
    assert!((120_000..125_000).contains(&field("age_ms")), "{m}");
    assert!((-25_000..=-20_000).contains(&field("fresh_ms")), "{m}");
    assert_eq!(field("tokens"), 7, "{m}");
    shared.request_shutdown(None);
    task.await.unwrap().unwrap();
}

/// A user who may only read answers replays them with LLMGET_RO; LLMGET, which can hand it a
/// fill lease, needs write access to the key.
#[tokio::test]
async fn a_read_only_user_replays_with_llmget_ro_but_takes_no_lease() {
    let s = start_with(|_| {}).await;
    let mut admin = s.conn(false).await;
    let r = cmd(
        &mut admin,
        &["ACL", "SETUSER", "replay", "on", ">pw", "%R~llm:*", "+@llm"],
    )
    .await;
    assert_eq!(r, "OK");
    cmd(&mut admin, &["LLMSETNX", "llm:recorded", "answer"]).await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["AUTH", "replay", "pw"]).await, "OK");
    assert_eq!(cmd(&mut c, &["LLMGET_RO", "llm:recorded"]).await, "answer");
    let miss = cmd(&mut c, &["LLMGET_RO", "llm:never"]).await;
    assert!(miss.starts_with("ERROR:MISS "), "{miss}");
    let denied = cmd(&mut c, &["LLMGET", "llm:never"]).await;
    assert_eq!(
        denied,
        "ERROR:NOPERM this user has no permissions to access one of the keys used as arguments"
    );
    let stats = cmd(&mut admin, &["LLMSTATS"]).await;
    assert!(stats.contains("leases_active,0"), "{stats}");
}
