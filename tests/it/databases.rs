//! Numbered databases through the real server, as an application that shares a Redis uses them:
//! a `redis://host:port/1` URL, blocking pops and scripts in their own database, keys that
//! survive a restart in the database they were written to.

use crate::support::{cmd, start_persistent, start_with, until_blocked};

/// A `redis` crate connection to database `db` of `addr` (the crate sends SELECT itself).
async fn conn_to(addr: std::net::SocketAddr, db: usize) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(format!("redis://{addr}/{db}")).unwrap();
    let cfg = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    client
        .get_multiplexed_async_connection_with_config(&cfg)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_with_a_database_number_sees_that_database_only() {
    let s = start_with(|_| {}).await;
    let mut zero = conn_to(s.addr, 0).await;
    let mut one = conn_to(s.addr, 1).await;
    assert_eq!(cmd(&mut zero, &["SET", "session:1", "web"]).await, "OK");
    assert_eq!(cmd(&mut one, &["GET", "session:1"]).await, "(nil)");
    assert_eq!(cmd(&mut one, &["SET", "session:1", "jobs"]).await, "OK");
    assert_eq!(cmd(&mut one, &["HSET", "h", "f", "v"]).await, "1");
    assert_eq!(cmd(&mut zero, &["GET", "session:1"]).await, "web");
    assert_eq!(cmd(&mut one, &["DBSIZE"]).await, "2");
    assert_eq!(cmd(&mut zero, &["DBSIZE"]).await, "1");
    assert_eq!(
        cmd(&mut one, &["SCAN", "0", "MATCH", "s*"]).await,
        "[0,[session:1]]"
    );
    let info = cmd(&mut zero, &["INFO", "keyspace"]).await;
    assert!(
        info.contains("db0:keys=1,") && info.contains("db1:keys=2,"),
        "{info}"
    );
    let id = cmd(&mut one, &["CLIENT", "ID"]).await;
    let list = cmd(&mut one, &["CLIENT", "LIST", "ID", &id]).await;
    assert!(list.contains(" db=1 "), "{list}");
    // FLUSHDB empties one database, FLUSHALL all of them.
    assert_eq!(cmd(&mut one, &["FLUSHDB"]).await, "OK");
    assert_eq!(cmd(&mut one, &["DBSIZE"]).await, "0");
    assert_eq!(cmd(&mut zero, &["GET", "session:1"]).await, "web");
    assert_eq!(cmd(&mut one, &["SET", "k", "v"]).await, "OK");
    assert_eq!(cmd(&mut zero, &["FLUSHALL"]).await, "OK");
    assert_eq!(cmd(&mut one, &["DBSIZE"]).await, "0");
    assert_eq!(cmd(&mut zero, &["DBSIZE"]).await, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_pops_scripts_and_lookups_work_in_their_own_database() {
    let s = start_with(|_| {}).await;
    let mut waiter = conn_to(s.addr, 2).await;
    let mut other = conn_to(s.addr, 0).await;
    let mut same = conn_to(s.addr, 2).await;
    let pop = tokio::spawn(async move { cmd(&mut waiter, &["BLPOP", "jobs", "10"]).await });
    until_blocked(&mut other, 1).await;
    // A push to the same name in another database does not serve it.
    assert_eq!(cmd(&mut other, &["RPUSH", "jobs", "elsewhere"]).await, "1");
    assert_eq!(cmd(&mut same, &["RPUSH", "jobs", "mine"]).await, "1");
    assert_eq!(pop.await.unwrap(), "[jobs,mine]");
    assert_eq!(cmd(&mut other, &["LLEN", "jobs"]).await, "1");

    // A script's keys are the caller's database; its SELECT changes only the script's.
    let script = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SELECT', 3); \
                  redis.call('SET', KEYS[1], 'three'); return redis.call('GET', KEYS[1])";
    assert_eq!(
        cmd(&mut same, &["EVAL", script, "1", "lock", "two"]).await,
        "three"
    );
    assert_eq!(cmd(&mut same, &["GET", "lock"]).await, "two");
    let mut three = conn_to(s.addr, 3).await;
    assert_eq!(cmd(&mut three, &["GET", "lock"]).await, "three");
    assert_eq!(cmd(&mut other, &["EXISTS", "lock"]).await, "0");

    // The LLM commands key the same request to the same name, and each database has its answer.
    let body = r#"{"model":"m","temperature":0,"messages":[{"role":"user","content":"hi"}]}"#;
    let key = cmd(&mut same, &["LLMKEY", body]).await;
    assert_eq!(cmd(&mut other, &["LLMKEY", body]).await, key);
    let miss = cmd(&mut same, &["LLMLOOKUP", body]).await;
    assert!(miss.starts_with(&format!("[{key},")), "{miss}");
    assert_eq!(cmd(&mut same, &["LLMSETNX", &key, "hello"]).await, "1");
    assert_eq!(cmd(&mut same, &["LLMGET", &key]).await, "hello");
    assert_eq!(cmd(&mut other, &["EXISTS", &key]).await, "0");
    assert_eq!(
        cmd(&mut same, &["FT.CREATE", "ix", "SCHEMA", "f", "TEXT"]).await,
        "ERROR:ERR Cannot create index on db != 0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_come_back_to_their_databases_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_persistent(dir.path()).await;
    let mut zero = conn_to(s.addr, 0).await;
    let mut five = conn_to(s.addr, 5).await;
    assert_eq!(cmd(&mut zero, &["SET", "k", "zero"]).await, "OK");
    assert_eq!(
        cmd(&mut five, &["SET", "k", "five", "EX", "3600"]).await,
        "OK"
    );
    assert_eq!(cmd(&mut five, &["RPUSH", "l", "a"]).await, "1");
    assert_eq!(cmd(&mut five, &["MOVE", "l", "6"]).await, "1");
    assert_eq!(cmd(&mut zero, &["SWAPDB", "0", "7"]).await, "OK");
    drop((zero, five));
    s.stop().await.unwrap();

    let s = start_persistent(dir.path()).await;
    let mut zero = conn_to(s.addr, 0).await;
    let mut five = conn_to(s.addr, 5).await;
    let mut six = conn_to(s.addr, 6).await;
    let mut seven = conn_to(s.addr, 7).await;
    assert_eq!(cmd(&mut zero, &["DBSIZE"]).await, "0");
    assert_eq!(cmd(&mut seven, &["GET", "k"]).await, "zero");
    assert_eq!(cmd(&mut five, &["GET", "k"]).await, "five");
    let ttl: i64 = cmd(&mut five, &["TTL", "k"]).await.parse().unwrap();
    assert!((3590..=3600).contains(&ttl), "ttl {ttl}");
    assert_eq!(cmd(&mut six, &["LRANGE", "l", "0", "-1"]).await, "[a]");
    assert_eq!(cmd(&mut five, &["EXISTS", "l"]).await, "0");
    s.stop().await.unwrap();
}
