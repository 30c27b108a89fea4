//! Redis commands through the `redis` crate, RESP2 and RESP3, as a user's session would run them.

use crate::support::{call, cmd, start, text};
use redis::Value;

#[tokio::test]
async fn set_and_get_with_every_option() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["FLUSHDB"]).await, "OK");
        assert_eq!(cmd(&mut c, &["SET", "k", "v1"]).await, "OK");
        assert_eq!(cmd(&mut c, &["GET", "k"]).await, "v1");
        assert_eq!(cmd(&mut c, &["SET", "k", "v2", "NX"]).await, "(nil)");
        assert_eq!(cmd(&mut c, &["SET", "k", "v2", "XX", "GET"]).await, "v1");
        assert_eq!(cmd(&mut c, &["SET", "new", "x", "XX"]).await, "(nil)");
        assert_eq!(cmd(&mut c, &["SET", "k", "v3", "EX", "100"]).await, "OK");
        assert_eq!(cmd(&mut c, &["TTL", "k"]).await, "100");
        assert_eq!(cmd(&mut c, &["SET", "k", "v4", "KEEPTTL"]).await, "OK");
        assert_eq!(cmd(&mut c, &["TTL", "k"]).await, "100");
        assert_eq!(cmd(&mut c, &["SET", "k", "v5"]).await, "OK");
        assert_eq!(cmd(&mut c, &["TTL", "k"]).await, "-1");
        assert_eq!(
            cmd(&mut c, &["SET", "k", "v", "EX", "0"]).await,
            "ERROR:ERR invalid expire time in 'set' command"
        );
        assert_eq!(
            cmd(&mut c, &["SET", "k", "v", "EX", "x"]).await,
            "ERROR:ERR value is not an integer or out of range"
        );
        assert_eq!(
            cmd(&mut c, &["SET", "k", "v", "NX", "XX"]).await,
            "ERROR:ERR syntax error"
        );
        assert_eq!(
            cmd(&mut c, &["SET", "k", "v", "EX", "10", "PX", "10"]).await,
            "ERROR:ERR syntax error"
        );
        assert_eq!(cmd(&mut c, &["SETNX", "k", "other"]).await, "0");
        assert_eq!(cmd(&mut c, &["SETNX", "fresh", "v"]).await, "1");
        assert_eq!(cmd(&mut c, &["SETEX", "se", "50", "v"]).await, "OK");
        assert_eq!(cmd(&mut c, &["TTL", "se"]).await, "50");
        assert_eq!(cmd(&mut c, &["PSETEX", "pse", "50000", "v"]).await, "OK");
        assert!(cmd(&mut c, &["PTTL", "pse"]).await.parse::<i64>().unwrap() > 49_000);
        assert_eq!(
            cmd(&mut c, &["SETEX", "se", "-1", "v"]).await,
            "ERROR:ERR invalid expire time in 'setex' command"
        );
        assert_eq!(cmd(&mut c, &["GETDEL", "fresh"]).await, "v");
        assert_eq!(cmd(&mut c, &["GET", "fresh"]).await, "(nil)");
        assert_eq!(cmd(&mut c, &["GETEX", "k", "PX", "5000"]).await, "v5");
        assert_eq!(cmd(&mut c, &["TTL", "k"]).await, "5");
        assert_eq!(cmd(&mut c, &["GETEX", "k", "PERSIST"]).await, "v5");
        assert_eq!(cmd(&mut c, &["TTL", "k"]).await, "-1");
        assert_eq!(cmd(&mut c, &["STRLEN", "k"]).await, "2");
        assert_eq!(cmd(&mut c, &["APPEND", "k", "abc"]).await, "5");
        assert_eq!(cmd(&mut c, &["MSET", "a", "1", "b", "2"]).await, "OK");
        assert_eq!(
            cmd(&mut c, &["MGET", "a", "nope", "b"]).await,
            "[1,(nil),2]"
        );
        assert_eq!(
            cmd(&mut c, &["MSET", "a"]).await,
            "ERROR:ERR wrong number of arguments for 'mset' command"
        );
    }
}

#[tokio::test]
async fn values_are_binary_safe() {
    let s = start().await;
    let mut c = s.conn(false).await;
    let value: Vec<u8> = (0..=255u8).chain(b"\r\n\0".iter().copied()).collect();
    let _: () = redis::cmd("SET")
        .arg("bin")
        .arg(&value)
        .query_async(&mut c)
        .await
        .unwrap();
    let got: Vec<u8> = redis::cmd("GET")
        .arg("bin")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(got, value);
}

#[tokio::test]
async fn counters() {
    let s = start().await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["INCR", "ping"]).await, "1");
    assert_eq!(cmd(&mut c, &["INCRBY", "ping", "10"]).await, "11");
    assert_eq!(cmd(&mut c, &["DECR", "ping"]).await, "10");
    assert_eq!(cmd(&mut c, &["DECRBY", "ping", "20"]).await, "-10");
    assert_eq!(cmd(&mut c, &["SET", "s", "abc"]).await, "OK");
    assert_eq!(
        cmd(&mut c, &["INCR", "s"]).await,
        "ERROR:ERR value is not an integer or out of range"
    );
    assert_eq!(
        cmd(&mut c, &["SET", "max", "9223372036854775807"]).await,
        "OK"
    );
    assert_eq!(
        cmd(&mut c, &["INCR", "max"]).await,
        "ERROR:ERR increment or decrement would overflow"
    );
    assert_eq!(cmd(&mut c, &["SET", "t", "5", "EX", "100"]).await, "OK");
    assert_eq!(cmd(&mut c, &["INCR", "t"]).await, "6");
    assert_eq!(
        cmd(&mut c, &["TTL", "t"]).await,
        "100",
        "INCR keeps the TTL"
    );
}

/// Expiry follows the store's clock, which the test moves instead of sleeping.
#[tokio::test]
async fn expiry_is_exact_to_the_millisecond() {
    let s = start().await;
    let clock = s.shared.store.clock().clone();
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["SET", "k", "v", "PX", "100"]).await, "OK");
    let pttl: i64 = cmd(&mut c, &["PTTL", "k"]).await.parse().unwrap();
    assert!((90..=100).contains(&pttl), "pttl {pttl}");
    clock.advance(50);
    let pttl: i64 = cmd(&mut c, &["PTTL", "k"]).await.parse().unwrap();
    assert!((40..=50).contains(&pttl), "pttl {pttl}");
    clock.advance(50);
    assert_eq!(cmd(&mut c, &["GET", "k"]).await, "(nil)");
    assert_eq!(cmd(&mut c, &["TTL", "k"]).await, "-2");
    assert_eq!(cmd(&mut c, &["EXISTS", "k"]).await, "0");

    // EXPIRE family and its conditions.
    assert_eq!(cmd(&mut c, &["SET", "e", "v"]).await, "OK");
    assert_eq!(cmd(&mut c, &["EXPIRE", "e", "100", "XX"]).await, "0");
    assert_eq!(cmd(&mut c, &["EXPIRE", "e", "100", "NX"]).await, "1");
    assert_eq!(cmd(&mut c, &["EXPIRE", "e", "50", "GT"]).await, "0");
    assert_eq!(cmd(&mut c, &["EXPIRE", "e", "200", "GT"]).await, "1");
    assert_eq!(cmd(&mut c, &["EXPIRE", "e", "50", "LT"]).await, "1");
    assert_eq!(cmd(&mut c, &["TTL", "e"]).await, "50");
    assert_eq!(
        cmd(&mut c, &["EXPIRE", "e", "50", "NX", "XX"]).await,
        "ERROR:ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(cmd(&mut c, &["PEXPIRE", "e", "5000"]).await, "1");
    assert_eq!(cmd(&mut c, &["TTL", "e"]).await, "5");
    let at = clock.now_ms() / 1000 + 1000;
    assert_eq!(cmd(&mut c, &["EXPIREAT", "e", &at.to_string()]).await, "1");
    assert_eq!(cmd(&mut c, &["EXPIRETIME", "e"]).await, at.to_string());
    assert_eq!(cmd(&mut c, &["PERSIST", "e"]).await, "1");
    assert_eq!(cmd(&mut c, &["PERSIST", "e"]).await, "0");
    assert_eq!(cmd(&mut c, &["TTL", "e"]).await, "-1");
    assert_eq!(cmd(&mut c, &["EXPIRE", "missing", "10"]).await, "0");
    // A time in the past deletes the key.
    assert_eq!(cmd(&mut c, &["EXPIRE", "e", "-1"]).await, "1");
    assert_eq!(cmd(&mut c, &["EXISTS", "e"]).await, "0");
    assert!(s.shared.store.stats().expired_keys.get() >= 1);
}

/// `SCAN 0 COUNT 4398046511104` reserved room for that many keys before looking at any, and the
/// failed allocation aborted the whole process (found by the dispatch fuzz target).
#[tokio::test]
async fn scan_with_a_huge_count_does_not_abort_the_server() {
    let s = start().await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["SET", "k", "v"]).await, "OK");
    for count in ["4398046511104", "9223372036854775807"] {
        let v = call(&mut c, &["SCAN", "0", "COUNT", count]).await;
        let Value::Array(parts) = v else {
            panic!("scan reply {v:?}")
        };
        assert_eq!(text(&parts[0]), "0");
        let Value::Array(keys) = &parts[1] else {
            panic!("scan keys {:?}", parts[1])
        };
        assert_eq!(keys.iter().map(text).collect::<Vec<_>>(), ["k"]);
    }
    assert_eq!(cmd(&mut c, &["PING"]).await, "PONG");
}

#[tokio::test]
async fn keys_scan_type_del_exists() {
    let s = start().await;
    let mut c = s.conn(false).await;
    for i in 0..250 {
        assert_eq!(cmd(&mut c, &["SET", &format!("user:{i}"), "x"]).await, "OK");
    }
    assert_eq!(cmd(&mut c, &["SET", "other", "x"]).await, "OK");
    assert_eq!(cmd(&mut c, &["DBSIZE"]).await, "251");
    assert_eq!(cmd(&mut c, &["TYPE", "other"]).await, "string");
    assert_eq!(cmd(&mut c, &["TYPE", "nope"]).await, "none");
    assert_eq!(
        cmd(&mut c, &["EXISTS", "other", "other", "nope"]).await,
        "2"
    );
    // A full SCAN returns every key exactly once.
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let v = call(&mut c, &["SCAN", &cursor, "MATCH", "user:*", "COUNT", "17"]).await;
        let Value::Array(parts) = v else {
            panic!("scan reply {v:?}")
        };
        cursor = text(&parts[0]);
        let Value::Array(keys) = &parts[1] else {
            panic!()
        };
        for k in keys {
            assert!(seen.insert(text(k)), "key returned twice");
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 250);
    assert_eq!(
        cmd(&mut c, &["SCAN", "abc"]).await,
        "ERROR:ERR invalid cursor"
    );
    let Value::Array(all) = call(&mut c, &["KEYS", "user:1?"]).await else {
        panic!()
    };
    assert_eq!(all.len(), 10);
    assert_eq!(cmd(&mut c, &["DEL", "other", "user:1", "nope"]).await, "2");
    assert_eq!(cmd(&mut c, &["UNLINK", "user:2"]).await, "1");
    assert_eq!(cmd(&mut c, &["DBSIZE"]).await, "248");
    assert_eq!(cmd(&mut c, &["FLUSHALL"]).await, "OK");
    assert_eq!(cmd(&mut c, &["DBSIZE"]).await, "0");
}

#[tokio::test]
async fn transactions() {
    let s = start().await;
    let mut c = s.conn(false).await;
    let mut raw = s.raw().await;
    let want = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:1\r\n";
    assert_eq!(
        raw.roundtrip(b"MULTI\r\nSET t 0\r\nINCR t\r\nEXEC\r\n", want)
            .await,
        want
    );
    let want = "+OK\r\n+QUEUED\r\n+OK\r\n";
    assert_eq!(
        raw.roundtrip(b"MULTI\r\nINCR t\r\nDISCARD\r\n", want).await,
        want
    );
    assert_eq!(cmd(&mut c, &["GET", "t"]).await, "1");
    // A command that cannot be queued aborts EXEC; a runtime error does not.
    let want = "+OK\r\n-ERR wrong number of arguments for 'get' command\r\n-EXECABORT Transaction discarded because of previous errors.\r\n";
    assert_eq!(raw.roundtrip(b"MULTI\r\nGET\r\nEXEC\r\n", want).await, want);
    let want = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n";
    assert_eq!(
        raw.roundtrip(b"MULTI\r\nSET s abc\r\nINCR s\r\nEXEC\r\n", want)
            .await,
        want
    );
    let want = "-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n";
    assert_eq!(raw.roundtrip(b"EXEC\r\nDISCARD\r\n", want).await, want);
    let want = "+OK\r\n-ERR MULTI calls can not be nested\r\n";
    assert_eq!(raw.roundtrip(b"MULTI\r\nMULTI\r\n", want).await, want);
    // Through the crate's atomic pipeline, as redis-py and others send it.
    let (a, b): (i64, i64) = redis::pipe()
        .atomic()
        .incr("n", 1)
        .incr("n", 2)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!((a, b), (1, 3));
}

#[tokio::test]
async fn connection_and_server_commands() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["PING"]).await, "PONG");
        assert_eq!(cmd(&mut c, &["PING", "hi"]).await, "hi");
        assert_eq!(cmd(&mut c, &["ECHO", "x y"]).await, "x y");
        assert_eq!(cmd(&mut c, &["SELECT", "0"]).await, "OK");
        assert_eq!(
            cmd(&mut c, &["SELECT", "16"]).await,
            "ERROR:ERR DB index is out of range"
        );
        assert_eq!(cmd(&mut c, &["CLIENT", "SETNAME", "worker-1"]).await, "OK");
        assert_eq!(cmd(&mut c, &["CLIENT", "GETNAME"]).await, "worker-1");
        assert_eq!(
            cmd(&mut c, &["CLIENT", "SETINFO", "LIB-NAME", "mylib"]).await,
            "OK"
        );
        let id = cmd(&mut c, &["CLIENT", "ID"]).await;
        let list = cmd(&mut c, &["CLIENT", "LIST"]).await;
        assert!(
            list.contains(&format!("id={id} "))
                && list.contains("name=worker-1")
                && list.contains("lib-name=mylib"),
            "{list}"
        );
        assert!(cmd(&mut c, &["CLIENT", "INFO"])
            .await
            .contains("name=worker-1"));
        assert_eq!(
            cmd(&mut c, &["CLIENT", "KILLALL"]).await,
            "ERROR:ERR unknown subcommand 'KILLALL'. Try CLIENT HELP."
        );
        let (eq, sep) = if resp3 { ("=", ",") } else { (",", ",") };
        let cfg = cmd(&mut c, &["CONFIG", "GET", "save"]).await;
        assert!(cfg.contains(&format!("save{eq}")), "{cfg}");
        let cfg = cmd(&mut c, &["CONFIG", "GET", "max*"]).await;
        assert!(
            cfg.contains(&format!("maxclients{eq}10000"))
                && cfg.contains(&format!("maxmemory{eq}1073741824{sep}")),
            "{cfg}"
        );
        assert!(cmd(&mut c, &["CONFIG", "GET", "appendonly"])
            .await
            .contains(&format!("appendonly{eq}no")));
        assert!(cmd(&mut c, &["CONFIG", "GET", "databases"])
            .await
            .contains(&format!("databases{eq}16")));
        let time = cmd(&mut c, &["TIME"]).await;
        assert!(time.starts_with('[') && time.contains(','), "{time}");
        let count: i64 = cmd(&mut c, &["COMMAND", "COUNT"]).await.parse().unwrap();
        assert!(count > 40);
        let docs = call(&mut c, &["COMMAND", "DOCS", "get"]).await;
        assert!(
            text(&docs).contains("summary")
                && text(&docs).contains("Returns the string value of a key."),
            "{docs:?}"
        );
        let info = call(&mut c, &["COMMAND", "INFO", "get"]).await;
        assert!(text(&info).starts_with("[[get,2,"), "{}", text(&info));
    }
}

#[tokio::test]
async fn info_reports_what_tools_read() {
    let s = start().await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["SET", "a", "1", "EX", "100"]).await, "OK");
    assert_eq!(cmd(&mut c, &["GET", "a"]).await, "1");
    assert_eq!(cmd(&mut c, &["GET", "b"]).await, "(nil)");
    let info = cmd(&mut c, &["INFO"]).await;
    for field in [
        "redis_version:7.",
        "loading:0",
        "role:master",
        "connected_clients:1",
        "keyspace_hits:1",
        "keyspace_misses:1",
        "db0:keys=1,expires=1",
        "used_memory:",
        "maxmemory:",
    ] {
        assert!(info.contains(field), "INFO lacks {field}:\n{info}");
    }
    assert!(info.contains("\r\n"), "fields end with CRLF");
    let all = cmd(&mut c, &["INFO", "commandstats"]).await;
    assert!(all.contains("cmdstat_set:calls=1,usec="), "{all}");
    assert!(all.contains("cmdstat_get:calls=2,"), "{all}");
    let server = cmd(&mut c, &["INFO", "server"]).await;
    assert!(server.starts_with("# Server") && !server.contains("# Clients"));
}

#[tokio::test]
async fn wrong_types_are_refused() {
    let s = start().await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["LLMSETNX", "h", "v"]).await, "1");
    assert_eq!(cmd(&mut c, &["GET", "h"]).await, "v");
    assert_eq!(
        cmd(&mut c, &["TTL", "h"]).await,
        "86400",
        "the default LLM answer TTL applies"
    );
}

#[tokio::test]
async fn client_kill_closes_the_named_connections_and_spares_the_rest() {
    let s = start().await;
    let mut admin = s.conn(false).await;
    let mut victim = s.raw().await;
    let mut bystander = s.raw().await;
    let id_of = |list: &str, name: &str| {
        list.lines()
            .find(|l| l.contains(&format!("name={name} ")))
            .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")))
            .map(str::to_string)
    };
    victim
        .roundtrip(b"CLIENT SETNAME victim\r\n", "+OK\r\n")
        .await;
    bystander
        .roundtrip(b"CLIENT SETNAME bystander\r\n", "+OK\r\n")
        .await;
    let list = cmd(&mut admin, &["CLIENT", "LIST"]).await;
    let Some(id) = id_of(&list, "victim") else {
        panic!("victim not listed: {list}")
    };
    assert_eq!(cmd(&mut admin, &["CLIENT", "KILL", "ID", &id]).await, "1");
    assert!(
        victim.closed().await,
        "the killed connection must be closed"
    );
    assert_eq!(
        bystander.roundtrip(b"PING\r\n", "+PONG\r\n").await,
        "+PONG\r\n"
    );
    assert_eq!(cmd(&mut admin, &["CLIENT", "KILL", "ID", &id]).await, "0");
    assert_eq!(
        cmd(&mut admin, &["CLIENT", "KILL", "1.2.3.4:5"]).await,
        "ERROR:ERR No such client"
    );
    assert_eq!(
        cmd(&mut admin, &["CLIENT", "KILL", "USER", "nobody"]).await,
        "ERROR:ERR No such user 'nobody'"
    );
    // SKIPME yes (the default) spares the caller; TYPE pubsub matches nobody here.
    assert_eq!(
        cmd(&mut admin, &["CLIENT", "KILL", "TYPE", "pubsub"]).await,
        "0"
    );
    assert_eq!(
        cmd(&mut admin, &["CLIENT", "KILL", "TYPE", "normal"]).await,
        "1"
    );
    assert!(bystander.closed().await);
    assert_eq!(cmd(&mut admin, &["PING"]).await, "PONG");
}
