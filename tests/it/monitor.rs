//! MONITOR over raw bytes, compared with what Redis 7.0.15 prints: the line format and quoting,
//! passwords redacted, administrative commands hidden, EXEC after the commands it ran, script
//! commands from `lua`, and a monitor refusing keyspace commands until RESET.

use crate::support::{cmd, start, Raw};

fn resp(words: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for w in words {
        out.extend_from_slice(format!("${}\r\n{w}\r\n", w.len()).as_bytes());
    }
    out
}

/// Reads monitor lines until one ends with `last`, and returns them without their timestamps:
/// `[0 addr] "cmd" ...`.
async fn lines_until(m: &mut Raw, last: &str) -> Vec<String> {
    let mut text = String::new();
    loop {
        text.push_str(&m.read_exact_text(1).await);
        if text.ends_with("\r\n") && text.trim_end().ends_with(last) {
            break;
        }
    }
    text.lines()
        .map(|l| {
            let l = l.strip_prefix('+').expect("a status line");
            let (stamp, rest) = l.split_once(' ').expect("stamp and rest");
            let (secs, micros) = stamp.split_once('.').expect("seconds.micros");
            assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{stamp}");
            rest.to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_prints_commands_as_redis_7_0_15() {
    let s = start().await;
    // The client connects (and says hello) before the monitor starts.
    let mut c = s.conn(false).await;
    let me = cmd(&mut c, &["CLIENT", "INFO"]).await;
    let addr = me
        .split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .expect("addr")
        .to_string();
    let mut m = s.raw().await;
    assert_eq!(m.roundtrip(&resp(&["MONITOR"]), "+OK\r\n").await, "+OK\r\n");
    cmd(&mut c, &["SET", "k", "a b\"c\\\n\u{1}"]).await;
    cmd(&mut c, &["AUTH", "u", "pw"]).await;
    cmd(
        &mut c,
        &["HELLO", "2", "AUTH", "default", "x", "SETNAME", "n"],
    )
    .await;
    cmd(&mut c, &["ACL", "SETUSER", "bob", "on", ">pw"]).await;
    cmd(&mut c, &["CONFIG", "GET", "maxmemory"]).await;
    cmd(&mut c, &["GETX"]).await;
    cmd(&mut c, &["EVAL", "return redis.call('get','k')", "0"]).await;
    let mut pipe = redis::pipe();
    pipe.atomic().cmd("INCR").arg("n").cmd("GET").arg("n");
    let _: redis::Value = pipe.query_async(&mut c).await.unwrap();
    cmd(&mut c, &["ECHO", "end"]).await;
    let got = lines_until(&mut m, "\"ECHO\" \"end\"").await;
    let at = |rest: &str| format!("[0 {addr}] {rest}");
    let want = vec![
        at("\"SET\" \"k\" \"a b\\\"c\\\\\\n\\x01\""),
        at("\"AUTH\" \"(redacted)\" \"(redacted)\""),
        at("\"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"n\""),
        at("\"EVAL\" \"return redis.call('get','k')\" \"0\""),
        "[0 lua] \"get\" \"k\"".to_string(),
        at("\"MULTI\""),
        at("\"INCR\" \"n\""),
        at("\"GET\" \"n\""),
        at("\"EXEC\""),
        at("\"ECHO\" \"end\""),
    ];
    assert_eq!(got, want);

    // The monitor itself: keyspace commands are refused, others run (and are shown), RESET
    // ends monitoring.
    assert_eq!(
        m.roundtrip(
            &resp(&["GET", "k"]),
            "-ERR Replica can't interact with the keyspace\r\n"
        )
        .await,
        "-ERR Replica can't interact with the keyspace\r\n"
    );
    m.send(&resp(&["PING"])).await;
    let pong = m.read_exact_text("+PONG\r\n".len()).await;
    assert_eq!(pong, "+PONG\r\n");
    let own = lines_until(&mut m, "\"PING\"").await;
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(
        m.roundtrip(&resp(&["RESET"]), "+RESET\r\n").await,
        "+RESET\r\n"
    );
    assert_eq!(s.shared.observe.monitors.count(), 0);
    let value = "$8\r\na b\"c\\\n\u{1}\r\n";
    assert_eq!(m.roundtrip(&resp(&["GET", "k"]), value).await, value);
}
