//! Emulated cluster mode (`--cluster-mode emulated`) and its absence: CLUSTER's subcommands,
//! READONLY / READWRITE / ASKING, HELLO's `mode` and INFO's `# Cluster`, compared byte for byte
//! with what redis-server 7.0.15 sends (a one-node cluster after `CLUSTER ADDSLOTSRANGE 0 16383`;
//! a standalone server for `cluster-mode no`).

use crate::support::{start, start_with, Raw, TestServer};
use llmcached::cmd::{lookup, row};
use llmcached::config::ClusterMode;
use std::net::IpAddr;

async fn emulated() -> TestServer {
    start_with(|c| c.scale.cluster_mode = ClusterMode::Emulated).await
}

/// Sends one command as a RESP array and reads its one reply.
async fn send(raw: &mut Raw, args: &[&str]) -> String {
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    raw.send(out.as_bytes()).await;
    raw.read_reply().await
}

/// A connection switched to RESP3.
async fn resp3(s: &TestServer) -> Raw {
    let mut raw = s.raw().await;
    let hello = send(&mut raw, &["HELLO", "3"]).await;
    assert!(hello.starts_with("%7\r\n"), "{hello}");
    raw
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

#[tokio::test]
async fn emulated_cluster_slots_nodes_shards_are_redis_bytes() {
    let s = emulated().await;
    let id = s.shared.run_id.clone();
    assert_eq!(id.len(), 40);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let port = s.addr.port();
    let mut raw = s.raw().await;
    let mut raw3 = resp3(&s).await;

    let node = format!("*4\r\n{}:{port}\r\n{}", bulk("127.0.0.1"), bulk(&id));
    let slots = format!("*1\r\n*3\r\n:0\r\n:16383\r\n{node}");
    assert_eq!(
        send(&mut raw, &["CLUSTER", "SLOTS"]).await,
        format!("{slots}*0\r\n")
    );
    assert_eq!(
        send(&mut raw3, &["cluster", "slots"]).await,
        format!("{slots}%0\r\n")
    );

    let line = format!(
        "{id} 127.0.0.1:{port}@{} myself,master - 0 0 0 connected 0-16383\n",
        port.checked_add(10000).unwrap_or(0)
    );
    assert_eq!(send(&mut raw, &["CLUSTER", "NODES"]).await, bulk(&line));
    assert_eq!(
        send(&mut raw3, &["CLUSTER", "NODES"]).await,
        format!("={}\r\ntxt:{line}\r\n", line.len() + 4)
    );

    let fields = format!(
        "{}{}{}{}{}{}{}",
        bulk("id"),
        bulk(&id),
        format_args!("{}:{port}\r\n", bulk("port")),
        bulk("ip") + &bulk("127.0.0.1"),
        bulk("endpoint") + &bulk("127.0.0.1"),
        bulk("role") + &bulk("master"),
        bulk("replication-offset") + ":0\r\n" + &bulk("health") + &bulk("online"),
    );
    let shard = format!(
        "{}*2\r\n:0\r\n:16383\r\n{}*1\r\n",
        bulk("slots"),
        bulk("nodes")
    );
    assert_eq!(
        send(&mut raw, &["CLUSTER", "SHARDS"]).await,
        format!("*1\r\n*4\r\n{shard}*14\r\n{fields}")
    );
    assert_eq!(
        send(&mut raw3, &["CLUSTER", "SHARDS"]).await,
        format!("*1\r\n%2\r\n{shard}%7\r\n{fields}")
    );
    assert_eq!(send(&mut raw, &["CLUSTER", "MYID"]).await, bulk(&id));
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn emulated_cluster_info_is_a_verbatim_string_in_resp3() {
    let s = emulated().await;
    let text = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n\
        cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:1\r\ncluster_size:1\r\n\
        cluster_current_epoch:0\r\ncluster_my_epoch:0\r\ncluster_stats_messages_sent:0\r\n\
        cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n";
    // Redis 7.0.15's lengths for this text: $312 and =316.
    assert_eq!(text.len(), 312);
    let mut raw = s.raw().await;
    assert_eq!(send(&mut raw, &["CLUSTER", "INFO"]).await, bulk(text));
    let mut raw3 = resp3(&s).await;
    assert_eq!(
        send(&mut raw3, &["CLUSTER", "INFO"]).await,
        format!("=316\r\ntxt:{text}\r\n")
    );
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn emulated_cluster_keyslot_and_keys_in_slot() {
    let s = emulated().await;
    let mut raw = s.raw().await;
    // Slots as redis-server 7.0.15 computes them.
    for (key, slot) in [
        ("foo", 12182),
        ("{user1}.a", 8106),
        ("{}a", 10875),
        ("a{}b{c}", 7353),
    ] {
        assert_eq!(
            send(&mut raw, &["CLUSTER", "KEYSLOT", key]).await,
            format!(":{slot}\r\n")
        );
    }
    for k in ["foo", "{foo}x", "{foo}y", "bar"] {
        assert_eq!(send(&mut raw, &["SET", k, "v"]).await, "+OK\r\n");
    }
    assert_eq!(
        send(&mut raw, &["CLUSTER", "COUNTKEYSINSLOT", "12182"]).await,
        ":3\r\n"
    );
    assert_eq!(
        send(&mut raw, &["CLUSTER", "COUNTKEYSINSLOT", "0"]).await,
        ":0\r\n"
    );
    assert_eq!(
        send(&mut raw, &["CLUSTER", "GETKEYSINSLOT", "12182", "2"]).await,
        format!("*2\r\n{}{}", bulk("foo"), bulk("{foo}x"))
    );
    assert_eq!(
        send(&mut raw, &["CLUSTER", "GETKEYSINSLOT", "12182", "0"]).await,
        "*0\r\n"
    );
    // Redis 7.0.15's errors.
    let not_int = "-ERR value is not an integer or out of range\r\n";
    let bad_slot = "-ERR Invalid slot\r\n";
    let bad_pair = "-ERR Invalid slot or number of keys\r\n";
    for (args, want) in [
        (&["CLUSTER", "COUNTKEYSINSLOT", "abc"][..], not_int),
        (&["CLUSTER", "COUNTKEYSINSLOT", "-1"], bad_slot),
        (&["CLUSTER", "COUNTKEYSINSLOT", "16384"], bad_slot),
        (&["CLUSTER", "GETKEYSINSLOT", "abc", "1"], not_int),
        (&["CLUSTER", "GETKEYSINSLOT", "1", "abc"], not_int),
        (&["CLUSTER", "GETKEYSINSLOT", "16384", "1"], bad_pair),
        (&["CLUSTER", "GETKEYSINSLOT", "1", "-1"], bad_pair),
        (
            &["CLUSTER", "KEYSLOT", "a", "b"],
            "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n",
        ),
        (
            &["CLUSTER", "NOPE"],
            "-ERR unknown subcommand 'NOPE'. Try CLUSTER HELP.\r\n",
        ),
    ] {
        assert_eq!(send(&mut raw, args).await, want, "{args:?}");
    }
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn emulated_cluster_mode_shows_in_hello_info_and_role_commands() {
    let s = emulated().await;
    let mut raw = s.raw().await;
    for c in ["READONLY", "READWRITE", "ASKING"] {
        assert_eq!(send(&mut raw, &[c]).await, "+OK\r\n", "{c}");
    }
    let info = send(&mut raw, &["INFO", "cluster"]).await;
    assert!(
        info.contains("# Cluster\r\ncluster_enabled:1\r\n"),
        "{info}"
    );
    let server = send(&mut raw, &["INFO", "server"]).await;
    assert!(server.contains("redis_mode:cluster\r\n"), "{server}");
    let hello = send(&mut raw, &["HELLO", "3"]).await;
    assert!(
        hello.contains(&(bulk("mode") + &bulk("cluster"))),
        "{hello}"
    );
    // SELECT as a cluster node answers it.
    assert_eq!(send(&mut raw, &["SELECT", "0"]).await, "+OK\r\n");
    assert_eq!(
        send(&mut raw, &["SELECT", "1"]).await,
        "-ERR SELECT is not allowed in cluster mode\r\n"
    );
    assert_eq!(
        send(&mut raw, &["SELECT", "x"]).await,
        "-ERR value is not an integer or out of range\r\n"
    );
    let help = send(&mut raw, &["CLUSTER", "HELP"]).await;
    assert!(
        help.contains("+SLOTS\r\n") && help.contains("+KEYSLOT <key>\r\n"),
        "{help}"
    );
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn emulated_cluster_has_no_peers_and_a_fixed_topology() {
    let s = emulated().await;
    let id = s.shared.run_id.clone();
    let mut raw = s.raw().await;
    // As a one-node redis-server 7.0.15 cluster answers them.
    assert_eq!(send(&mut raw, &["CLUSTER", "LINKS"]).await, "*0\r\n");
    for sub in ["REPLICAS", "SLAVES"] {
        assert_eq!(send(&mut raw, &["CLUSTER", sub, &id]).await, "*0\r\n");
        assert_eq!(
            send(&mut raw, &["CLUSTER", sub, "abc"]).await,
            "-ERR Unknown node abc\r\n"
        );
    }
    assert_eq!(
        send(&mut raw, &["CLUSTER", "COUNT-FAILURE-REPORTS", &id]).await,
        ":0\r\n"
    );
    assert_eq!(send(&mut raw, &["CLUSTER", "SAVECONFIG"]).await, "+OK\r\n");
    // Whatever would change the topology is refused, and the slot map stays whole.
    let fixed =
        "-ERR The emulated cluster's topology is fixed: one master that owns every slot\r\n";
    for args in [
        &["CLUSTER", "ADDSLOTS", "1"][..],
        &["CLUSTER", "DELSLOTS", "1"],
        &["CLUSTER", "DELSLOTSRANGE", "0", "16383"],
        &["CLUSTER", "FLUSHSLOTS"],
        &["CLUSTER", "SETSLOT", "1", "STABLE"],
        &["CLUSTER", "MEET", "127.0.0.1", "7000"],
        &["CLUSTER", "FORGET", &id],
        &["CLUSTER", "REPLICATE", &id],
        &["CLUSTER", "FAILOVER"],
        &["CLUSTER", "RESET", "HARD"],
        &["CLUSTER", "BUMPEPOCH"],
        &["CLUSTER", "SET-CONFIG-EPOCH", "1"],
    ] {
        assert_eq!(send(&mut raw, args).await, fixed, "{args:?}");
    }
    let info = send(&mut raw, &["CLUSTER", "INFO"]).await;
    assert!(info.contains("cluster_slots_assigned:16384\r\n"), "{info}");
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn emulated_cluster_announces_the_configured_address() {
    let s = start_with(|c| {
        c.scale.cluster_mode = ClusterMode::Emulated;
        c.scale.cluster_announce_ip = Some("10.1.2.3".parse::<IpAddr>().expect("ip"));
        c.scale.cluster_announce_port = 7000;
    })
    .await;
    let mut raw = s.raw().await;
    let slots = send(&mut raw, &["CLUSTER", "SLOTS"]).await;
    assert!(slots.contains(&(bulk("10.1.2.3") + ":7000\r\n")), "{slots}");
    let nodes = send(&mut raw, &["CLUSTER", "NODES"]).await;
    assert!(
        nodes.contains(" 10.1.2.3:7000@17000 myself,master "),
        "{nodes}"
    );
    s.stop().await.expect("stop");
}

/// With `cluster-mode no`, every CLUSTER subcommand, READONLY, READWRITE and ASKING answer as
/// redis-server 7.0.15 standalone: the disabled error once the arity is right, the arity error
/// otherwise. Driven by the table, so a new CLUSTER row is covered by being added.
#[tokio::test]
async fn standalone_answers_every_cluster_command_with_support_disabled() {
    let s = start().await;
    let mut raw = s.raw().await;
    let disabled = "-ERR This instance has cluster support disabled\r\n";
    let cluster = lookup(b"cluster").and_then(row).expect("CLUSTER row");
    assert!(cluster.subcommands.len() >= 27);
    for sub in cluster.subcommands {
        let mut args = vec!["CLUSTER".to_string(), sub.name.to_ascii_uppercase()];
        while args.len() < sub.arity.unsigned_abs() as usize {
            args.push("1".into());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(send(&mut raw, &refs).await, disabled, "{args:?}");
    }
    for c in ["READONLY", "READWRITE", "ASKING"] {
        assert_eq!(send(&mut raw, &[c]).await, disabled, "{c}");
    }
    assert_eq!(
        send(&mut raw, &["READONLY", "x"]).await,
        "-ERR wrong number of arguments for 'readonly' command\r\n"
    );
    assert_eq!(
        send(&mut raw, &["CLUSTER"]).await,
        "-ERR wrong number of arguments for 'cluster' command\r\n"
    );
    assert_eq!(
        send(&mut raw, &["CLUSTER", "KEYSLOT"]).await,
        "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n"
    );
    let info = send(&mut raw, &["INFO", "cluster"]).await;
    assert!(
        info.contains("# Cluster\r\ncluster_enabled:0\r\n"),
        "{info}"
    );
    let hello = send(&mut raw, &["HELLO", "3"]).await;
    assert!(
        hello.contains(&(bulk("mode") + &bulk("standalone"))),
        "{hello}"
    );
    // The connection lives on after every refusal.
    assert_eq!(send(&mut raw, &["PING"]).await, "+PONG\r\n");
    s.stop().await.expect("stop");
}

/// `--cluster-mode emulated --bind 0.0.0.0` without `--cluster-announce-ip` would tell clients
/// to connect to 0.0.0.0: the binary refuses to start, says why, and exits with status 2.
#[test]
fn emulated_cluster_on_a_wildcard_bind_without_announce_ip_is_refused_at_start() {
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_llmcached"))
            .args(["--port", "0", "--appendonly", "no", "--save", ""])
            .args(["--cluster-mode", "emulated"])
            .args(extra)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run llmcached")
    };
    for bind in ["0.0.0.0", "::"] {
        let out = run(&["--bind", bind]);
        assert_eq!(out.status.code(), Some(2), "bind {bind}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cluster-mode emulated with bind 0.0.0.0 or :: needs cluster-announce-ip"),
            "{err}"
        );
    }
}

/// GETKEYSINSLOT names only keys the user may read, as SCAN and KEYS do; COUNTKEYSINSLOT counts
/// every key (a number gives no name away).
#[tokio::test]
async fn getkeysinslot_shows_only_keys_the_user_may_read() {
    let s = emulated().await;
    let mut admin = s.raw().await;
    // Same hash tag, so the same slot.
    for k in ["{t}open:1", "{t}secret:1", "{t}open:2"] {
        assert_eq!(send(&mut admin, &["SET", k, "v"]).await, "+OK\r\n");
    }
    let acl = [
        "ACL",
        "SETUSER",
        "reader",
        "on",
        ">pw",
        "~{t}open:*",
        "+@all",
    ];
    assert_eq!(send(&mut admin, &acl).await, "+OK\r\n");
    let slot = send(&mut admin, &["CLUSTER", "KEYSLOT", "{t}x"]).await;
    let slot = slot.trim_start_matches(':').trim_end().to_string();
    let mut reader = s.raw().await;
    assert_eq!(
        send(&mut reader, &["AUTH", "reader", "pw"]).await,
        "+OK\r\n"
    );
    assert_eq!(
        send(&mut reader, &["CLUSTER", "GETKEYSINSLOT", &slot, "10"]).await,
        format!("*2\r\n{}{}", bulk("{t}open:1"), bulk("{t}open:2"))
    );
    assert_eq!(
        send(&mut admin, &["CLUSTER", "GETKEYSINSLOT", &slot, "10"]).await,
        format!(
            "*3\r\n{}{}{}",
            bulk("{t}open:1"),
            bulk("{t}open:2"),
            bulk("{t}secret:1")
        )
    );
    assert_eq!(
        send(&mut reader, &["CLUSTER", "COUNTKEYSINSLOT", &slot]).await,
        ":3\r\n"
    );
    s.stop().await.expect("stop");
}
