//! ACL users against the real server: clients logging in as users, two tenants that try to
//! read, purge and scan each other's answers, connections closed by ACL DELUSER, aclfiles,
//! and a brute-force loop of wrong passwords that must not slow other clients.

use crate::support::{cmd, start_with, TestServer};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};
use std::time::{Duration, Instant};

const NOPERM_KEY: &str =
    "ERROR:NOPERM this user has no permissions to access one of the keys used as arguments";
const TENANT: &[&str] = &[
    "on",
    ">pw",
    "resetkeys",
    "-@all",
    "+@llm",
    "-@admin",
    "+@connection",
    "+get",
    "+exists",
    "+del",
    "+scan",
    "+flushall",
    "+acl|whoami",
];
const BODY: &str = r#"{"model":"m","temperature":0,"messages":[{"role":"user","content":"hi"}]}"#;

async fn login(server: &TestServer, user: &str, pass: &str, resp3: bool) -> MultiplexedConnection {
    let proto = if resp3 { "?protocol=resp3" } else { "" };
    let url = format!("redis://{user}:{pass}@{}/{proto}", server.addr);
    let cfg = AsyncConnectionConfig::new().set_response_timeout(None);
    Client::open(url)
        .expect("client")
        .get_multiplexed_async_connection_with_config(&cfg)
        .await
        .expect("log in")
}

async fn tenants(server: &TestServer) {
    let mut admin = server.conn(false).await;
    for t in ["a", "b"] {
        let mut rules = vec!["ACL", "SETUSER", t];
        let pattern = format!("~llm:ns:{t}:*");
        rules.extend(TENANT);
        rules.push(&pattern);
        assert_eq!(cmd(&mut admin, &rules).await, "OK");
    }
}

#[tokio::test]
async fn clients_log_in_as_users_with_auth_and_hello() {
    let server = start_with(|_| {}).await;
    tenants(&server).await;
    for resp3 in [false, true] {
        let mut a = login(&server, "a", "pw", resp3).await;
        assert_eq!(cmd(&mut a, &["ACL", "WHOAMI"]).await, "a");
        assert_eq!(
            cmd(&mut a, &["GET", "x"]).await,
            NOPERM_KEY,
            "resp3={resp3}"
        );
    }
    let url = format!("redis://a:wrong@{}/", server.addr);
    let e = Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await;
    assert!(e.is_err(), "a wrong password is refused");
    let mut admin = server.conn(false).await;
    let info = cmd(&mut admin, &["INFO", "stats"]).await;
    assert!(info.contains("acl_access_denied_auth:1"), "{info}");
}

#[tokio::test]
async fn tenants_cannot_read_purge_or_scan_each_others_answers() {
    let server = start_with(|c| c.acl.key_namespace_user = true).await;
    tenants(&server).await;
    let (mut a, mut b) = (
        login(&server, "a", "pw", false).await,
        login(&server, "b", "pw", false).await,
    );
    // A's lookup is keyed in A's namespace and A holds the lease.
    let got = cmd(&mut a, &["LLMLOOKUP", BODY]).await;
    let a_key = got
        .trim_start_matches('[')
        .split(',')
        .next()
        .unwrap()
        .to_string();
    assert!(a_key.starts_with("llm:ns:a:v1:m:"), "{got}");
    assert_eq!(cmd(&mut a, &["LLMSETNX", &a_key, "answer-a"]).await, "1");
    // A asking in B's namespace is refused before any lease is taken.
    assert_eq!(
        cmd(&mut a, &["LLMLOOKUP", BODY, "NAMESPACE", "b"]).await,
        NOPERM_KEY
    );
    let b_key = a_key.replacen("llm:ns:a:", "llm:ns:b:", 1);
    assert_eq!(
        cmd(&mut b, &["LLMLOOKUP", BODY]).await,
        format!("[{b_key},(nil)]")
    );
    assert_eq!(cmd(&mut b, &["LLMSETNX", &b_key, "answer-b"]).await, "1");
    assert_eq!(cmd(&mut a, &["LLMGET", &b_key]).await, NOPERM_KEY);
    assert_eq!(cmd(&mut a, &["GET", &b_key]).await, NOPERM_KEY);
    assert_eq!(
        cmd(&mut a, &["SCAN", "0", "COUNT", "100"]).await,
        format!("[0,[{a_key}]]")
    );
    assert_eq!(
        cmd(&mut a, &["FLUSHALL"]).await,
        "ERROR:NOPERM this user has no permissions to run the 'flushall' command"
    );
    assert_eq!(
        cmd(&mut a, &["LLMKEY", BODY, "NAMESPACE", "a:b"]).await,
        "ERROR:ERR invalid namespace 'a:b': use 1 to 64 of A-Z a-z 0-9 . _ -"
    );
    assert_eq!(cmd(&mut a, &["LLMPURGE", "*"]).await, "1");
    assert_eq!(cmd(&mut b, &["GET", &b_key]).await, "answer-b");
    assert_eq!(cmd(&mut a, &["EXISTS", &a_key]).await, "0");
}

#[tokio::test]
async fn deluser_closes_the_users_connections_and_off_keeps_them() {
    let server = start_with(|_| {}).await;
    tenants(&server).await;
    let mut admin = server.conn(false).await;
    let mut raw = server.raw().await;
    raw.send(b"AUTH a pw\r\n").await;
    assert_eq!(raw.read_reply().await, "+OK\r\n");
    assert_eq!(cmd(&mut admin, &["ACL", "SETUSER", "a", "off"]).await, "OK");
    raw.send(b"PING\r\n").await;
    assert_eq!(
        raw.read_reply().await,
        "+PONG\r\n",
        "off keeps open connections"
    );
    assert_eq!(cmd(&mut admin, &["ACL", "DELUSER", "a"]).await, "1");
    assert!(raw.closed().await, "DELUSER closes them");
    assert_eq!(cmd(&mut admin, &["PING"]).await, "PONG");
}

#[tokio::test]
async fn aclfile_is_loaded_saved_and_refused_with_user_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.acl");
    std::fs::write(&path, "user a on >pw ~a:* +get\n").unwrap();
    let p = path.clone();
    let server = start_with(move |c| c.acl.aclfile = Some(p)).await;
    let mut admin = server.conn(false).await;
    assert_eq!(
        cmd(
            &mut admin,
            &["ACL", "SETUSER", "b", "on", "nopass", "+ping"]
        )
        .await,
        "OK"
    );
    assert_eq!(cmd(&mut admin, &["ACL", "SAVE"]).await, "OK");
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.contains("user b on nopass resetchannels -@all +ping"),
        "{saved}"
    );
    std::fs::write(&path, "# a comment\nuser c on\n").unwrap();
    let e = cmd(&mut admin, &["ACL", "LOAD"]).await;
    assert!(
        e.contains(":1 should start with user keyword followed by the username."),
        "{e}"
    );
    assert_eq!(
        cmd(&mut admin, &["ACL", "USERS"]).await,
        "[a,b,default]",
        "nothing changed"
    );
    let p = path.clone();
    let both = llmcached::server::Server::bind(llmcached::config::Config {
        port: 0,
        acl: llmcached::config::AclSettings {
            aclfile: Some(p),
            users: llmcached::config::security::UserLines(vec![vec![b"x".to_vec()]]),
            ..Default::default()
        },
        ..llmcached::config::Config::default()
    })
    .await;
    let e = both.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.starts_with("Configuring Redis with users defined in redis.conf and at the same setting an ACL file"), "{e}");
}

/// Each wrong password costs one SHA-256 on the attacker's own connection: a client beside a
/// brute-force loop keeps its latency.
#[tokio::test]
async fn a_brute_force_loop_of_wrong_passwords_does_not_slow_other_clients() {
    let server = start_with(|c| c.requirepass = Some("right".into())).await;
    let mut attackers = Vec::new();
    for _ in 0..4 {
        let mut raw = server.raw().await;
        attackers.push(tokio::spawn(async move {
            for i in 0..500 {
                raw.send(format!("AUTH wrong{i}\r\n").as_bytes()).await;
                let r = raw.read_reply().await;
                assert!(r.starts_with("-WRONGPASS"), "{r}");
            }
        }));
    }
    let mut good = login(&server, "default", "right", false).await;
    let mut worst = Duration::ZERO;
    for _ in 0..200 {
        let t = Instant::now();
        assert_eq!(cmd(&mut good, &["PING"]).await, "PONG");
        worst = worst.max(t.elapsed());
    }
    for a in attackers {
        a.await.unwrap();
    }
    assert!(
        worst < Duration::from_millis(500),
        "slowest PING took {worst:?}"
    );
    let info = cmd(&mut good, &["INFO", "stats"]).await;
    assert!(info.contains("acl_access_denied_auth:2000"), "{info}");
}

/// redis-cli logs in as a user, as operators do (skipped where redis-cli is not installed).
#[tokio::test]
async fn redis_cli_logs_in_with_user_and_pass() {
    let Ok(_) = std::process::Command::new("redis-cli")
        .arg("--version")
        .output()
    else {
        eprintln!("redis-cli not installed: skipped");
        return;
    };
    let server = start_with(|_| {}).await;
    tenants(&server).await;
    let port = server.addr.port().to_string();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("redis-cli")
            .args([
                "-p",
                &port,
                "--user",
                "a",
                "--pass",
                "pw",
                "--no-auth-warning",
                "ACL",
                "WHOAMI",
            ])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "a");
}

/// FT.* as RediSearch governs it: the index name is the key the patterns see, and a search,
/// FT.INFO or FT.DROPINDEX also needs patterns covering every prefix of the index, so a tenant
/// cannot read another tenant's hashes through an index over them.
#[tokio::test]
async fn ft_search_needs_key_patterns_covering_the_index_prefixes() {
    const NOPERM_INDEX: &str =
        "ERROR:NOPERM User does not have the required permissions to query the index";
    let server = start_with(|_| {}).await;
    let mut admin = server.conn(false).await;
    let rules = ["ACL", "SETUSER", "a", "on", ">pw", "resetkeys", "-@all"];
    let mut rules = rules.to_vec();
    rules.extend([
        "+ft.create",
        "+ft.search",
        "+ft.info",
        "+ft.dropindex",
        "~llm:ns:a:*",
    ]);
    assert_eq!(cmd(&mut admin, &rules).await, "OK");
    for (key, owner) in [("llm:ns:a:doc:1", "a"), ("llm:ns:b:doc:1", "b")] {
        assert_eq!(cmd(&mut admin, &["HSET", key, "owner", owner]).await, "1");
    }
    let schema = ["SCHEMA", "owner", "TAG"];
    for (name, prefix) in [
        ("llm:ns:a:ix", "llm:ns:a:"),
        ("llm:ns:a:wide", "llm:ns:"),
        ("ix-b", "llm:ns:b:"),
    ] {
        let mut create = vec!["FT.CREATE", name, "ON", "HASH", "PREFIX", "1", prefix];
        create.extend(schema);
        assert_eq!(cmd(&mut admin, &create).await, "OK");
    }
    let mut a = login(&server, "a", "pw", false).await;
    // Its own index over its own prefix: searched as usual.
    assert_eq!(
        cmd(&mut a, &["FT.SEARCH", "llm:ns:a:ix", "*", "NOCONTENT"]).await,
        "[1,llm:ns:a:doc:1]"
    );
    // A name it may use over a prefix wider than its keys: refused, whatever the command.
    for c in [
        &["FT.SEARCH", "llm:ns:a:wide", "*"][..],
        &["FT.SEARCH", "llm:ns:a:wide", "@owner:{b}", "NOCONTENT"],
        &["FT.INFO", "llm:ns:a:wide"],
        &["FT.DROPINDEX", "llm:ns:a:wide", "DD"],
    ] {
        assert_eq!(cmd(&mut a, c).await, NOPERM_INDEX, "{c:?}");
    }
    // Another tenant's index name: refused by the key patterns, before anything else.
    assert_eq!(cmd(&mut a, &["FT.SEARCH", "ix-b", "*"]).await, NOPERM_KEY);
    assert_eq!(cmd(&mut a, &["FT.INFO", "ix-b"]).await, NOPERM_KEY);
    // Creating an index over B's keys is allowed (as in RediSearch) but it cannot be searched.
    let mut sneaky = vec!["FT.CREATE", "llm:ns:a:sneaky", "PREFIX", "1", "llm:ns:b:"];
    sneaky.extend(schema);
    assert_eq!(cmd(&mut a, &sneaky).await, "OK");
    assert_eq!(
        cmd(&mut a, &["FT.SEARCH", "llm:ns:a:sneaky", "*"]).await,
        NOPERM_INDEX
    );
    // Nothing of B's was touched, the refusals are in ACL LOG, and the default user sees all.
    assert_eq!(cmd(&mut admin, &["EXISTS", "llm:ns:b:doc:1"]).await, "1");
    let log = cmd(&mut admin, &["ACL", "LOG"]).await;
    assert!(
        log.contains("llm:ns:a:sneaky") && log.contains("ix-b"),
        "{log}"
    );
    let all = cmd(
        &mut admin,
        &["FT.SEARCH", "llm:ns:a:wide", "*", "NOCONTENT"],
    )
    .await;
    assert!(all.starts_with("[2,"), "{all}");
}
