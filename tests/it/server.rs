//! Server-wide behaviour: authentication, the client limit, eviction, shutdown.

use crate::support::{cmd, start_with};

#[tokio::test]
async fn auth_is_required_when_a_password_is_set() {
    let s = start_with(|c| c.requirepass = Some("s3cret".into())).await;
    let mut raw = s.raw().await;
    let want = "-NOAUTH Authentication required.\r\n";
    assert_eq!(raw.roundtrip(b"GET k\r\n", want).await, want);
    // Unknown commands and arity are checked before authentication, as in Redis.
    let want = "-ERR wrong number of arguments for 'get' command\r\n";
    assert_eq!(raw.roundtrip(b"GET\r\n", want).await, want);
    let want = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    assert_eq!(raw.roundtrip(b"AUTH nope\r\n", want).await, want);
    assert_eq!(
        raw.roundtrip(b"AUTH default s3cret\r\n", "+OK\r\n").await,
        "+OK\r\n"
    );
    assert_eq!(raw.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
    // HELLO with AUTH, as redis-py 8 and node-redis connect.
    let mut raw = s.raw().await;
    raw.send(b"HELLO 3 AUTH default s3cret SETNAME app\r\n")
        .await;
    let reply = raw.read_exact_text(4).await;
    assert_eq!(reply, "%7\r\n");
    let mut raw = s.raw().await;
    let reply = raw
        .roundtrip(b"HELLO 3\r\n", "-NOAUTH HELLO must be called")
        .await;
    assert_eq!(reply, "-NOAUTH HELLO must be called");
    // Before AUTH, requests are capped small.
    let mut raw = s.raw().await;
    let want = "-ERR Protocol error: unauthenticated multibulk length\r\n";
    assert_eq!(raw.roundtrip(b"*100\r\n", want).await, want);
    // Through the crate, with the password in the URL.
    let client = redis::Client::open(format!("redis://:s3cret@{}/", s.addr)).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    assert_eq!(cmd(&mut c, &["SET", "k", "v"]).await, "OK");
}

#[tokio::test]
async fn auth_without_a_password_configured_is_an_error() {
    let s = start_with(|_| {}).await;
    let mut raw = s.raw().await;
    let want = "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n";
    assert_eq!(raw.roundtrip(b"AUTH x\r\n", want).await, want);
}

#[tokio::test]
async fn clients_over_the_limit_are_refused_politely() {
    let s = start_with(|c| c.maxclients = 2).await;
    let mut a = s.raw().await;
    let mut b = s.raw().await;
    assert_eq!(a.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
    assert_eq!(b.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
    let mut c = s.raw().await;
    let want = "-ERR max number of clients reached\r\n";
    assert_eq!(c.read_exact_text(want.len()).await, want);
    assert!(c.closed().await);
    drop(a);
    // Once a slot frees up, new clients get in (the server notices the close asynchronously).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut d = s.raw().await;
        d.send(b"PING\r\n").await;
        if d.read_exact_text(7).await == "+PONG\r\n" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "slot never freed");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn the_byte_budget_evicts_and_counts_unread_entries() {
    let s = start_with(|c| {
        c.maxmemory = 256 * 1024;
        c.eviction = llmcached::cache::EvictionKind::Lru;
        // The values are counted at their full size: stored as they came.
        c.compression.enabled = false;
    })
    .await;
    let mut c = s.conn(false).await;
    let value = "x".repeat(2000);
    for i in 0..1000 {
        assert_eq!(cmd(&mut c, &["SET", &format!("k{i}"), &value]).await, "OK");
    }
    s.shared.store.run_maintenance();
    let used = s.shared.store.used_bytes();
    assert!(used <= 256 * 1024, "used {used} over budget");
    let stats = s.shared.store.stats();
    assert!(
        stats.evicted_keys.get() > 800,
        "evicted {}",
        stats.evicted_keys.get()
    );
    assert_eq!(stats.evicted_unread.get(), stats.evicted_keys.get());
    assert_eq!(cmd(&mut c, &["GET", "k999"]).await, value);
}

#[tokio::test]
async fn shutdown_lets_inflight_replies_out_and_returns() {
    let s = start_with(|_| {}).await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["SET", "k", "v"]).await, "OK");
    let mut raw = s.raw().await;
    raw.send(b"SET a 1\r\nSHUTDOWN NOSAVE\r\n").await;
    assert_eq!(raw.read_exact_text(5).await, "+OK\r\n");
    assert!(raw.closed().await);
    s.stop().await.unwrap();
}

#[tokio::test]
async fn idle_clients_are_closed_after_timeout_and_busy_ones_are_not() {
    let s = start_with(|c| c.timeout = Some(std::time::Duration::from_millis(300))).await;
    let mut idle = s.raw().await;
    assert_eq!(idle.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
    // The server closes the idle connection by itself (the read sees EOF).
    assert!(idle.closed().await);
    let mut fresh = s.raw().await;
    assert_eq!(fresh.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
}
