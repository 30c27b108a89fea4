//! The outcomes of the freshness design, walked on the test clock: fresh, stale within grace,
//! expired; plain and META replies; the modes; BACKOFF; option errors.

use crate::cmd::testing::{bulk, error, TestClient, TestServer};
use crate::cmd::Flow;
use crate::protocol::Reply;

/// The META map as (name, value) pairs.
fn meta(r: &Reply) -> Vec<(String, Reply)> {
    let Reply::Map(pairs) = r else {
        panic!("META is a map: {r:?}")
    };
    pairs
        .iter()
        .map(|(k, v)| {
            let Reply::Bulk(k) = k else { panic!("{k:?}") };
            (String::from_utf8_lossy(k).into_owned(), v.clone())
        })
        .collect()
}

fn field(r: &Reply, name: &str) -> Reply {
    meta(r)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {r:?}"))
}

fn within(r: &Reply, lo: i64, hi: i64) -> bool {
    matches!(r, Reply::Int(n) if (lo..=hi).contains(n))
}

fn status(r: &Reply) -> Reply {
    field(r, "status")
}

fn stat(c: &mut TestClient, name: &str) -> Reply {
    let r = c.run(&["LLMSTATS"]);
    let Reply::Map(pairs) = &r else { panic!() };
    pairs
        .iter()
        .find(|(k, _)| *k == bulk(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {name}"))
}

/// EX 10 GRACE 20: fresh for 10 s, then 20 s stale, then gone.
fn stored(server: &TestServer) -> TestClient {
    let mut c = server.client();
    let r = c.run(&[
        "LLMSETNX", "k", "v1", "EX", "10", "GRACE", "20", "TOKENS", "7",
    ]);
    assert_eq!(r, Reply::Int(1));
    c
}

#[tokio::test]
async fn an_answer_walks_from_fresh_through_stale_to_gone() {
    let server = TestServer::new();
    let mut c = stored(&server);
    // TTL is the whole life, fresh plus grace.
    assert_eq!(c.run(&["TTL", "k"]), Reply::Int(30));
    server.clock.advance(4_000);
    // The test clock runs on the wall clock too: a few ms may pass between two commands.
    let m = c.run(&["LLMGET", "k", "META"]);
    let names: Vec<String> = meta(&m).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        ["status", "value", "age_ms", "fresh_ms", "gen", "tokens"]
    );
    assert_eq!(status(&m), bulk("hit"));
    assert_eq!(field(&m, "value"), bulk("v1"));
    assert!(within(&field(&m, "age_ms"), 4_000, 4_500), "{m:?}");
    assert!(within(&field(&m, "fresh_ms"), 5_500, 6_000), "{m:?}");
    assert_eq!(field(&m, "gen"), Reply::Int(0));
    assert_eq!(field(&m, "tokens"), Reply::Int(7));
    assert_eq!(c.run(&["LLMGET", "k"]), bulk("v1"));

    // Stale: the first plain caller holds the refresh lease (nil), the next gets the value.
    server.clock.advance(7_000);
    let mut refresher = server.client();
    assert_eq!(refresher.run(&["LLMGET", "k"]), Reply::Nil);
    assert_eq!(c.run(&["LLMGET", "k"]), bulk("v1"));
    let m = c.run(&["LLMGET", "k", "META"]);
    assert_eq!(status(&m), bulk("stale"));
    assert!(within(&field(&m, "fresh_ms"), -1_500, -1_000), "{m:?}");
    // The refresher's store replaces the stale answer, with a new life.
    let r = refresher.run(&["LLMSETNX", "k", "v2", "EX", "100"]);
    assert_eq!(r, Reply::Int(1));
    assert_eq!(c.run(&["LLMGET", "k"]), bulk("v2"));
    assert_eq!(c.run(&["TTL", "k"]), Reply::Int(100));
    assert_eq!(stat(&mut c, "refreshes"), Reply::Int(1));
    assert_eq!(stat(&mut c, "refresh_replaced"), Reply::Int(1));
    assert_eq!(stat(&mut c, "stale_served"), Reply::Int(2));

    // Past the grace the answer is gone: an ordinary miss.
    server.clock.advance(101_000);
    assert_eq!(c.run(&["LLMGET", "k"]), Reply::Nil);
}

#[tokio::test]
async fn a_meta_caller_serves_stale_and_refreshes_in_the_background() {
    let server = TestServer::new();
    let mut c = stored(&server);
    server.clock.advance(12_000);
    let m = c.run(&["LLMGET", "k", "META"]);
    assert_eq!(status(&m), bulk("stale-lead"));
    assert_eq!(field(&m, "value"), bulk("v1"));
    let Reply::Int(gen) = field(&m, "gen") else {
        panic!()
    };
    assert!(gen > 0);
    // Exactly one lease: the next META caller is served stale without one.
    let mut other = server.client();
    assert_eq!(status(&other.run(&["LLMGET", "k", "META"])), bulk("stale"));
    assert_eq!(stat(&mut c, "leases_active"), Reply::Int(1));
}

#[tokio::test]
async fn max_age_and_max_stale_are_the_callers_own_limits() {
    let server = TestServer::new();
    let mut c = server.client();
    c.run(&["LLMSETNX", "k", "v", "EX", "3600"]);
    server.clock.advance(5_000);
    // Younger than 2 s wanted: this caller refreshes; others still get a hit.
    let mut picky = server.client();
    assert_eq!(picky.run(&["LLMGET", "k", "MAXAGE", "2"]), Reply::Nil);
    assert_eq!(c.run(&["LLMGET", "k"]), bulk("v"));
    // Never stale: waits behind the refresh instead of taking the stale answer.
    let mut strict = server.client();
    let Flow::Wait(wait) = strict.flow(&["LLMGET", "k", "MAXAGE", "2", "MAXSTALE", "0"]) else {
        panic!("a MAXSTALE 0 caller waits for the refresh")
    };
    drop(wait);
    // With MAXSTALE 0 and no refresh running, the stale answer is not shown (META `lead`).
    picky.run(&["LLMABORT", "k"]);
    let m = picky.run(&["LLMGET", "k", "MAXAGE", "2", "MAXSTALE", "0", "META"]);
    assert_eq!(status(&m), bulk("lead"));
    assert_eq!(field(&m, "value"), Reply::Nil);
}

#[tokio::test]
async fn readonly_never_leads_and_misses_loudly() {
    let server = TestServer::new();
    let mut c = server.client();
    let miss = error("MISS no answer is cached for this key and MODE READONLY grants no lease");
    assert_eq!(c.run(&["LLMGET_RO", "k"]), miss);
    assert_eq!(c.run(&["LLMGET", "k", "MODE", "READONLY"]), miss);
    assert_eq!(stat(&mut c, "readonly_misses"), Reply::Int(2));
    // A running fill: the READONLY caller waits and gets the answer.
    let mut leader = server.client();
    assert_eq!(leader.run(&["LLMGET", "k"]), Reply::Nil);
    let Flow::Wait(w) = c.flow(&["LLMGET_RO", "k"]) else {
        panic!("waits for the fill")
    };
    leader.run(&["LLMSETNX", "k", "v"]);
    assert_eq!(w.await, bulk("v"));
    // An abort with only READONLY waiters: they get -MISS, never the lease.
    assert_eq!(leader.run(&["LLMGET", "j"]), Reply::Nil);
    let Flow::Wait(w) = c.flow(&["LLMGET_RO", "j"]) else {
        panic!("waits for the fill")
    };
    assert_eq!(leader.run(&["LLMABORT", "j"]), Reply::Int(1));
    assert_eq!(w.await, miss);
    assert_eq!(stat(&mut c, "leases_active"), Reply::Int(0));
}

#[tokio::test]
async fn promotion_passes_over_readonly_waiters() {
    let server = TestServer::new();
    let (mut leader, mut ro, mut next) = (server.client(), server.client(), server.client());
    assert_eq!(leader.run(&["LLMGET", "k"]), Reply::Nil);
    let Flow::Wait(ro_wait) = ro.flow(&["LLMGET_RO", "k"]) else {
        panic!()
    };
    let Flow::Wait(next_wait) = next.flow(&["LLMGET", "k"]) else {
        panic!()
    };
    leader.run(&["LLMABORT", "k"]);
    assert_eq!(
        next_wait.await,
        Reply::Nil,
        "the DEFAULT caller is promoted"
    );
    next.run(&["LLMSETNX", "k", "v"]);
    assert_eq!(ro_wait.await, bulk("v"), "the READONLY caller kept waiting");
}

#[tokio::test]
async fn refresh_mode_takes_one_lease_and_replaces_the_answer() {
    let server = TestServer::new();
    let mut c = server.client();
    c.run(&["LLMSETNX", "k", "old"]);
    let m = c.run(&["LLMGET", "k", "MODE", "REFRESH", "META"]);
    assert_eq!(status(&m), bulk("refresh-lead"));
    assert_eq!(field(&m, "value"), bulk("old"));
    // A second REFRESH caller coalesces behind the first.
    let mut other = server.client();
    let Flow::Wait(w) = other.flow(&["LLMGET", "k", "MODE", "WRITEONLY"]) else {
        panic!("coalesces")
    };
    assert_eq!(c.run(&["LLMSETNX", "k", "new"]), Reply::Int(1));
    assert_eq!(w.await, bulk("new"));
    assert_eq!(c.run(&["GET", "k"]), bulk("new"));
    // Without an answer, REFRESH is an ordinary lead.
    let m = c.run(&["LLMGET", "none", "MODE", "REFRESH", "META"]);
    assert_eq!(status(&m), bulk("lead"));
}

#[tokio::test]
async fn bypass_touches_nothing() {
    let server = TestServer::new();
    let mut c = server.client();
    let r = c.run(&["LLMGET", "k", "MODE", "BYPASS"]);
    assert_eq!(
        r,
        error("BYPASS MODE BYPASS: call the model and do not store the answer")
    );
    assert_eq!(stat(&mut c, "bypasses"), Reply::Int(1));
    assert_eq!(stat(&mut c, "leases_active"), Reply::Int(0));
    assert_eq!(stat(&mut c, "misses"), Reply::Int(0));
}

#[tokio::test]
async fn backoff_serves_stale_or_rejects_until_the_window_ends() {
    let server = TestServer::new();
    let mut c = stored(&server);
    server.clock.advance(12_000);
    let mut refresher = server.client();
    assert_eq!(refresher.run(&["LLMGET", "k"]), Reply::Nil);
    let r = refresher.run(&["LLMABORT", "k", "BACKOFF", "60000"]);
    assert_eq!(r, Reply::Int(1));
    // stale-if-error: the stale answer, and no lease for anyone meanwhile.
    assert_eq!(c.run(&["LLMGET", "k"]), bulk("v1"));
    assert_eq!(c.run(&["LLMGET", "k"]), bulk("v1"));
    assert_eq!(stat(&mut c, "leases_active"), Reply::Int(0));
    assert_eq!(stat(&mut c, "backoffs"), Reply::Int(1));
    // In the window a plain LLMABORT has nothing to abort.
    assert_eq!(c.run(&["LLMABORT", "k"]), Reply::Int(0));

    // Nothing servable: -BACKOFF, whose two figures add up to the window.
    let mut leader = server.client();
    assert_eq!(leader.run(&["LLMGET", "fresh-miss"]), Reply::Nil);
    let Flow::Wait(w) = c.flow(&["LLMGET", "fresh-miss"]) else {
        panic!()
    };
    let r = leader.run(&["LLMABORT", "fresh-miss", "BACKOFF", "500"]);
    assert_eq!(r, Reply::Int(1));
    let text = |r: &Reply| match r {
        Reply::Error(e) => e.clone(),
        other => panic!("{other:?}"),
    };
    let blocked = text(&w.await);
    assert!(
        blocked.starts_with("BACKOFF the last fill of this key failed 0 ms ago; retry in 500 ms"),
        "{blocked}"
    );
    let later = text(&c.run(&["LLMGET", "fresh-miss"]));
    let nums: Vec<u64> = later
        .split(|ch: char| !ch.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(nums.iter().sum::<u64>(), 500, "{later}");
    assert!(stat(&mut c, "backoff_rejections") == Reply::Int(2));
}

#[tokio::test]
async fn backoff_is_capped_and_fenced_by_gen() {
    let server = TestServer::new();
    let mut c = server.client();
    assert_eq!(
        c.run(&["CONFIG", "SET", "llm-max-backoff-ms", "100"]),
        Reply::Ok
    );
    let m = c.run(&["LLMGET", "k", "META"]);
    let Reply::Int(gen) = field(&m, "gen") else {
        panic!()
    };
    let stale_gen = (gen + 1000).to_string();
    let r = c.run(&["LLMABORT", "k", &stale_gen, "BACKOFF", "5000"]);
    assert_eq!(r, Reply::Int(0));
    let r = c.run(&["LLMABORT", "k", &gen.to_string(), "BACKOFF", "5000"]);
    assert_eq!(r, Reply::Int(1));
    let Reply::Error(e) = c.run(&["LLMGET", "k"]) else {
        panic!()
    };
    assert!(e.ends_with("ms") && e.contains("retry in"), "{e}");
    let left: u64 = e
        .rsplit("retry in ")
        .next()
        .and_then(|s| s.trim_end_matches(" ms").parse().ok())
        .unwrap_or(u64::MAX);
    assert!(left <= 100, "capped at llm-max-backoff-ms: {e}");
}

#[tokio::test]
async fn option_errors() {
    let server = TestServer::new();
    let mut c = server.client();
    let syntax = error("ERR syntax error");
    let range = error("ERR value is not an integer or out of range");
    for bad in [
        &["LLMGET", "k", "WAIT", "1", "WAIT", "1"][..],
        &["LLMGET", "k", "MAXAGE", "1", "MAXAGE", "1"],
        &["LLMGET", "k", "MAXSTALE", "1", "MAXSTALE", "1"],
        &["LLMGET", "k", "MODE", "DEFAULT", "MODE", "DEFAULT"],
        &["LLMGET", "k", "META", "META"],
        &["LLMGET", "k", "MODE", "SOMETIMES"],
        &["LLMGET", "k", "MODE"],
        &["LLMGET", "k", "MAXAGE"],
        &["LLMGET_RO", "k", "MODE", "DEFAULT"],
        &["LLMABORT", "k", "1", "BACKOFF"],
        &["LLMSETNX", "k", "v", "GRACE", "1", "GRACE", "1"],
    ] {
        assert_eq!(c.run(bad), syntax, "{bad:?}");
    }
    for bad in [
        &["LLMGET", "k", "MAXAGE", "-1"][..],
        &["LLMGET", "k", "MAXSTALE", "x"],
        &["LLMABORT", "k", "BACKOFF", "-5"],
        // A lone BACKOFF is read as the generation.
        &["LLMABORT", "k", "BACKOFF"],
        &["LLMSETNX", "k", "v", "GRACE", "-1"],
    ] {
        assert_eq!(c.run(bad), range, "{bad:?}");
    }
    assert_eq!(c.run(&["LLMSETNX", "k", "v", "GRACE", "0"]), Reply::Int(1));
    // Keywords in any case and order; META with WAIT 0 on a hit.
    let m = c.run(&["llmget", "k", "meta", "wait", "0", "mode", "default"]);
    assert_eq!(status(&m), bulk("hit"));
}

#[tokio::test]
async fn the_default_grace_applies_to_answers_stored_without_one() {
    let server = TestServer::new();
    let mut c = server.client();
    c.run(&["CONFIG", "SET", "llm-default-grace", "50"]);
    c.run(&["LLMSETNX", "k", "v", "EX", "10"]);
    assert_eq!(c.run(&["TTL", "k"]), Reply::Int(60));
    server.clock.advance(30_000);
    assert_eq!(status(&c.run(&["LLMGET", "k", "META"])), bulk("stale-lead"));
}

#[tokio::test]
async fn llmlookup_takes_the_same_options_and_names_its_key() {
    let server = TestServer::new();
    let mut c = server.client();
    let body = r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0}"#;
    // A keying option's value is never read as one of LLMGET's options.
    let r = c.run(&["LLMLOOKUP_RO", body, "MODEL", "META"]);
    assert_eq!(
        r,
        error("ERR MODEL \"META\" does not match the request's model \"m\"")
    );
    let miss = c.run(&["LLMLOOKUP_RO", body]);
    assert!(
        matches!(&miss, Reply::Error(e) if e.starts_with("MISS ")),
        "{miss:?}"
    );
    let m = c.run(&["LLMLOOKUP", body, "META", "MODEL", "m"]);
    assert_eq!(meta(&m)[0].0, "key");
    assert_eq!(status(&m), bulk("lead"));
    let Reply::Bulk(key) = field(&m, "key") else {
        panic!()
    };
    let key = String::from_utf8_lossy(&key).into_owned();
    c.run(&["LLMSETNX", &key, "answer"]);
    let r = c.run(&["LLMLOOKUP_RO", body, "MODEL", "m"]);
    assert_eq!(r, Reply::Array(vec![bulk(&key), bulk("answer")]));
}
