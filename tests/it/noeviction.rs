//! `maxmemory-policy noeviction`, for the queues and locks an application keeps beside its
//! cache: past the budget nothing is evicted, the commands that would grow memory are refused
//! with Redis's `-OOM`, and reads, deletes and a raised budget work as in Redis.

use crate::support::{cmd, start_with};
use llmcached::cache::EvictionKind;

const OOM: &str = "ERROR:OOM command not allowed when used memory > 'maxmemory'.";

#[tokio::test]
async fn a_full_store_refuses_growth_and_keeps_every_key() {
    let s = start_with(|c| {
        c.maxmemory = 256 * 1024;
        c.eviction = EvictionKind::NoEviction;
    })
    .await;
    let mut c = s.conn(false).await;
    assert_eq!(
        cmd(&mut c, &["CONFIG", "GET", "maxmemory-policy"]).await,
        "[maxmemory-policy,noeviction]"
    );
    // Jobs pushed until the store refuses (the refusal follows the budget within moka's
    // maintenance, which this loop leaves time for: a bounded count, not a clock).
    let job = "x".repeat(4096);
    let mut stored = 0;
    let mut refused = None;
    for i in 0..2000 {
        let r = cmd(&mut c, &["RPUSH", "jobs", &job]).await;
        if r.starts_with("ERROR:") {
            refused = Some((i, r));
            break;
        }
        stored += 1;
    }
    let (at, reply) = refused.expect("the store never refused a write past its budget");
    assert_eq!(reply, OOM, "after {at} pushes");
    let info = cmd(&mut c, &["INFO", "stats"]).await;
    assert!(info.contains("evicted_keys:0"), "{info}");
    assert_eq!(cmd(&mut c, &["LLEN", "jobs"]).await, stored.to_string());
    assert!(cmd(&mut c, &["INFO", "memory"])
        .await
        .contains("maxmemory_policy:noeviction"));

    // Reads and deletes still run; so does an EXEC of reads only.
    assert_eq!(cmd(&mut c, &["LINDEX", "jobs", "0"]).await, job);
    assert_eq!(cmd(&mut c, &["SET", "lock", "me"]).await, OOM);
    assert_eq!(cmd(&mut c, &["DEL", "missing"]).await, "0");
    // Inside MULTI, queueing is growth too, except EXEC and DISCARD.
    assert_eq!(cmd(&mut c, &["MULTI"]).await, "OK");
    assert_eq!(cmd(&mut c, &["LLEN", "jobs"]).await, OOM);
    assert_eq!(cmd(&mut c, &["DISCARD"]).await, "OK");
    // A script that has not written may not grow memory; pcall hands the error back.
    assert!(
        cmd(&mut c, &["EVAL", "return redis.call('set', 'k', 'v')", "0"])
            .await
            .starts_with(OOM)
    );
    assert_eq!(
        cmd(
            &mut c,
            &["EVAL", "return redis.pcall('set', 'k', 'v')", "0"]
        )
        .await,
        OOM
    );
    assert_eq!(
        cmd(&mut c, &["EVAL", "return redis.call('llen', 'jobs')", "0"]).await,
        stored.to_string()
    );

    // A transaction queued before the budget shrank is aborted at EXEC, with the reason.
    let mut other = s.conn(false).await;
    assert_eq!(
        cmd(&mut other, &["CONFIG", "SET", "maxmemory", "64mb"]).await,
        "OK"
    );
    assert_eq!(cmd(&mut c, &["MULTI"]).await, "OK");
    assert_eq!(cmd(&mut c, &["SET", "lock", "me"]).await, "QUEUED");
    assert_eq!(
        cmd(&mut other, &["CONFIG", "SET", "maxmemory", "1"]).await,
        "OK"
    );
    assert_eq!(
        cmd(&mut c, &["EXEC"]).await,
        "ERROR:EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'."
    );
    assert_eq!(cmd(&mut c, &["GET", "lock"]).await, "(nil)");

    // A raised budget takes writes again; every job is still there.
    assert_eq!(
        cmd(&mut other, &["CONFIG", "SET", "maxmemory", "64mb"]).await,
        "OK"
    );
    assert_eq!(cmd(&mut c, &["SET", "lock", "me"]).await, "OK");
    assert_eq!(cmd(&mut c, &["LLEN", "jobs"]).await, stored.to_string());

    // Back to an evicting policy under a small budget: eviction brings the store under it.
    assert_eq!(
        cmd(&mut other, &["CONFIG", "SET", "maxmemory", "64kb"]).await,
        "OK"
    );
    assert_eq!(
        cmd(
            &mut other,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]
        )
        .await,
        "OK"
    );
    s.shared.store.run_maintenance();
    assert!(s.shared.store.used_bytes() <= 64 * 1024);
    assert!(!cmd(&mut c, &["INFO", "stats"])
        .await
        .contains("evicted_keys:0"));
}
