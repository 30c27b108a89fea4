//! CONFIG SET as an operator uses it: mutable settings change the running server, the rest are
//! refused with Redis's texts, and a failing call changes nothing.

use crate::support::{cmd, start, start_with};

#[tokio::test]
async fn config_set_refuses_unknown_immutable_and_bad_values_with_redis_texts() {
    let s = start().await;
    let mut c = s.conn(false).await;
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "nope", "1"]).await,
        "ERROR:ERR Unknown option or number of arguments for CONFIG SET - 'nope'"
    );
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "port", "1"]).await,
        "ERROR:ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"
    );
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "maxmemory", "lots"]).await,
        "ERROR:ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "timeout", "5", "timeout", "6"]).await,
        "ERROR:ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter"
    );
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn config_set_is_all_or_nothing() {
    let s = start().await;
    let mut c = s.conn(false).await;
    let before = cmd(&mut c, &["CONFIG", "GET", "llm-wait-ms"]).await;
    let r = cmd(
        &mut c,
        &["CONFIG", "SET", "llm-wait-ms", "5", "maxmemory", "lots"],
    )
    .await;
    assert!(r.starts_with("ERROR:"), "{r}");
    assert_eq!(cmd(&mut c, &["CONFIG", "GET", "llm-wait-ms"]).await, before);
    assert_eq!(
        cmd(
            &mut c,
            &["CONFIG", "SET", "llm-wait-ms", "5", "llm-lease-ms", "7000"]
        )
        .await,
        "OK"
    );
    assert_eq!(
        cmd(&mut c, &["CONFIG", "GET", "llm-*-ms"]).await,
        "[llm-lease-ms,7000,llm-wait-ms,5,llm-max-backoff-ms,60000]"
    );
    assert_eq!(s.shared.flights.lease().as_millis(), 7000);
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn config_set_maxmemory_shrinks_the_store_and_evicts() {
    // The values are counted at their full size: stored as they came.
    let s = start_with(|c| c.compression.enabled = false).await;
    let mut c = s.conn(false).await;
    let value = "x".repeat(10_000);
    for i in 0..200 {
        assert_eq!(cmd(&mut c, &["SET", &format!("k{i}"), &value]).await, "OK");
    }
    assert_eq!(cmd(&mut c, &["DBSIZE"]).await, "200");
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "maxmemory", "500kb"]).await,
        "OK"
    );
    assert_eq!(
        cmd(&mut c, &["CONFIG", "GET", "maxmemory"]).await,
        "[maxmemory,512000]"
    );
    s.shared.store.run_maintenance();
    assert!(s.shared.store.used_bytes() <= 512_000);
    let keys: u64 = cmd(&mut c, &["DBSIZE"]).await.parse().expect("a count");
    assert!(keys < 200 && keys > 0, "{keys} keys left");
    let info = cmd(&mut c, &["INFO", "memory"]).await;
    assert!(info.contains("maxmemory:512000"), "{info}");
    // Writes go on under the new budget; the policy can change as well.
    assert_eq!(cmd(&mut c, &["SET", "after", "v"]).await, "OK");
    assert_eq!(
        cmd(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]
        )
        .await,
        "OK"
    );
    assert_eq!(cmd(&mut c, &["GET", "after"]).await, "v");
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn config_set_requirepass_and_maxclients_apply_to_new_connections() {
    let s = start().await;
    let mut admin = s.conn(false).await;
    assert_eq!(
        cmd(&mut admin, &["CONFIG", "SET", "requirepass", "s3cret"]).await,
        "OK"
    );
    let mut raw = s.raw().await;
    raw.send(b"GET k\r\n").await;
    assert_eq!(
        raw.read_reply().await,
        "-NOAUTH Authentication required.\r\n"
    );
    raw.send(b"AUTH s3cret\r\n").await;
    assert_eq!(raw.read_reply().await, "+OK\r\n");
    assert_eq!(
        cmd(&mut admin, &["CONFIG", "SET", "maxclients", "2"]).await,
        "OK"
    );
    let mut third = s.raw().await;
    assert_eq!(
        third.read_reply().await,
        "-ERR max number of clients reached\r\n"
    );
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn config_set_timeout_closes_idle_clients() {
    let s = start_with(|c| c.timeout = None).await;
    let mut admin = s.conn(false).await;
    assert_eq!(
        cmd(&mut admin, &["CONFIG", "SET", "timeout", "1"]).await,
        "OK"
    );
    let mut idle = s.raw().await;
    idle.send(b"PING\r\n").await;
    assert_eq!(idle.read_reply().await, "+PONG\r\n");
    assert!(
        idle.closed().await,
        "an idle client outlived the new timeout"
    );
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn config_set_appendfsync_and_save_reach_the_persistence_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_path_buf();
    let s = start_with(move |c| {
        c.dir = d;
        c.appendonly = true;
    })
    .await;
    tokio::time::timeout(std::time::Duration::from_secs(30), s.shared.loaded())
        .await
        .expect("loaded");
    let mut c = s.conn(false).await;
    assert_eq!(
        cmd(
            &mut c,
            &["CONFIG", "SET", "appendfsync", "always", "save", ""]
        )
        .await,
        "OK"
    );
    assert_eq!(
        cmd(&mut c, &["CONFIG", "GET", "appendfsync"]).await,
        "[appendfsync,always]"
    );
    // Under `always` the reply waits for the fsync; the write is acknowledged once durable.
    assert_eq!(cmd(&mut c, &["SET", "k", "v"]).await, "OK");
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn config_set_save_is_refused_when_persistence_was_off_at_start() {
    let s = start().await;
    let mut c = s.conn(false).await;
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "save", "60 1"]).await,
        "ERROR:ERR CONFIG SET failed - persistence was off at start (appendonly no, save \"\"): restart with --save to take snapshots"
    );
    assert_eq!(cmd(&mut c, &["CONFIG", "GET", "save"]).await, "[save,]");
    s.stop().await.expect("stop");
}
