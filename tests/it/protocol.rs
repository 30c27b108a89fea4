//! The wire: pipelining, inline commands, RESP3, and broken streams.

use crate::support::{cmd, start, start_with};

#[tokio::test]
async fn thousand_pipelined_commands_in_one_write_are_answered_in_order() {
    let s = start().await;
    let mut raw = s.raw().await;
    let mut req = Vec::new();
    let mut want = String::new();
    for i in 0..1000 {
        let v = i.to_string();
        req.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n{}\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
                v.len(),
                v
            )
            .as_bytes(),
        );
        want.push_str(&format!("+OK\r\n${}\r\n{}\r\n", v.len(), v));
    }
    raw.send(&req).await;
    assert_eq!(raw.read_exact_text(want.len()).await, want);
}

#[tokio::test]
async fn inline_commands_work_like_telnet() {
    let s = start().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
    assert_eq!(
        raw.roundtrip(
            b"set greeting \"hello world\"\r\nget greeting\n",
            "+OK\r\n$11\r\nhello world\r\n"
        )
        .await,
        "+OK\r\n$11\r\nhello world\r\n"
    );
    // An empty line is ignored.
    assert_eq!(
        raw.roundtrip(b"\r\nPING\r\n", "+PONG\r\n").await,
        "+PONG\r\n"
    );
}

#[tokio::test]
async fn a_frame_cut_short_waits_for_the_rest() {
    let s = start().await;
    let mut raw = s.raw().await;
    raw.send(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel").await;
    assert_eq!(
        raw.roundtrip(b"lo\r\n", "$5\r\nhello\r\n").await,
        "$5\r\nhello\r\n"
    );
}

#[tokio::test]
async fn empty_and_negative_multibulk_counts_are_ignored() {
    let s = start().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.roundtrip(b"*0\r\n*-5\r\n*1\r\n$4\r\nPING\r\n", "+PONG\r\n")
            .await,
        "+PONG\r\n"
    );
}

/// Each broken stream gets Redis's protocol error and a closed connection, while a fresh
/// connection still works and earlier keys survive.
#[tokio::test]
async fn malformed_input_closes_only_that_connection() {
    let s = start().await;
    let mut con = s.conn(false).await;
    assert_eq!(cmd(&mut con, &["SET", "survivor", "yes"]).await, "OK");
    let cases: &[(&[u8], &str)] = &[
        (
            b"*1\r\n$-5\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$10000000000\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$abc\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*99999999999\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n*1\r\n$4\r\nPING\r\n",
            "-ERR Protocol error: expected '$', got '*'\r\n",
        ),
        (
            b"*2\r\n$3\r\nGET\r\n:12\r\n",
            "-ERR Protocol error: expected '$', got ':'\r\n",
        ),
        (
            b"SET k \"unbalanced\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, want) in cases {
        let mut raw = s.raw().await;
        raw.send(input).await;
        assert_eq!(
            raw.read_exact_text(want.len()).await,
            *want,
            "input {:?}",
            String::from_utf8_lossy(input)
        );
        assert!(
            raw.closed().await,
            "connection closed after {:?}",
            String::from_utf8_lossy(input)
        );
        let mut fresh = s.raw().await;
        assert_eq!(fresh.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
    }
    // Garbage that is not RESP is read as an inline command: an unknown command, not a crash.
    let mut raw = s.raw().await;
    let reply = raw
        .roundtrip(b"\x00\x01\x02garbage\r\n", "-ERR unknown command")
        .await;
    assert_eq!(reply, "-ERR unknown command");
    // An inline line over 64 KB.
    let mut raw = s.raw().await;
    raw.send(&vec![b'a'; 70 * 1024]).await;
    let want = "-ERR Protocol error: too big inline request\r\n";
    assert_eq!(raw.read_exact_text(want.len()).await, want);
    assert!(raw.closed().await);
    assert_eq!(cmd(&mut con, &["GET", "survivor"]).await, "yes");
}

#[tokio::test]
async fn a_huge_but_legal_count_waits_without_allocating_for_it() {
    let s = start().await;
    let mut raw = s.raw().await;
    raw.send(b"*1000000000\r\n$4\r\nPING\r\n").await;
    // The server waits for more arguments; others are served meanwhile.
    let mut other = s.raw().await;
    assert_eq!(other.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
}

#[tokio::test]
async fn http_requests_are_dropped() {
    let s = start().await;
    let mut raw = s.raw().await;
    raw.send(b"POST / HTTP/1.1\r\nHost: example\r\n\r\n").await;
    assert!(raw.closed().await);
}

#[tokio::test]
async fn hello_switches_protocols_and_answers_like_redis() {
    let s = start().await;
    let mut raw = s.raw().await;
    raw.send(b"HELLO 3\r\n").await;
    let reply = raw.read_reply().await;
    assert!(
        reply.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n"),
        "{reply}"
    );
    assert!(reply.contains("$5\r\nproto\r\n:3\r\n"), "{reply}");
    assert!(reply.contains("$7\r\nmodules\r\n*0\r\n"), "{reply}");
    // RESP3 null for a missing key; back to RESP2 with HELLO 2.
    assert_eq!(raw.roundtrip(b"GET missing\r\n", "_\r\n").await, "_\r\n");
    raw.send(b"HELLO 2\r\n").await;
    let reply = raw.read_reply().await;
    assert!(reply.starts_with("*14\r\n$6\r\nserver\r\n"), "{reply}");
    assert!(reply.contains("$5\r\nproto\r\n:2\r\n"), "{reply}");
    let mut raw = s.raw().await;
    assert_eq!(
        raw.roundtrip(b"HELLO 4\r\n", "-NOPROTO unsupported protocol version\r\n")
            .await,
        "-NOPROTO unsupported protocol version\r\n"
    );
}

#[tokio::test]
async fn unknown_commands_and_wrong_arity_use_redis_wording() {
    let s = start().await;
    let mut raw = s.raw().await;
    let want = "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n";
    assert_eq!(raw.roundtrip(b"foo a b\r\n", want).await, want);
    let want = "-ERR wrong number of arguments for 'get' command\r\n";
    assert_eq!(raw.roundtrip(b"GET\r\n", want).await, want);
    // The connection lives on.
    assert_eq!(raw.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
}

#[tokio::test]
async fn reset_returns_a_connection_to_its_first_state_and_quit_closes_it() {
    let s = start().await;
    let mut raw = s.raw().await;
    raw.send(b"HELLO 3 SETNAME worker\r\n").await;
    let _ = raw.read_reply().await;
    let want = "+OK\r\n+QUEUED\r\n+RESET\r\n";
    assert_eq!(
        raw.roundtrip(b"MULTI\r\nSET k v\r\nRESET\r\n", want).await,
        want
    );
    // Back to RESP2 (null bulk, not `_`), no name, no transaction.
    let want = "$-1\r\n$-1\r\n-ERR EXEC without MULTI\r\n";
    assert_eq!(
        raw.roundtrip(b"GET k\r\nCLIENT GETNAME\r\nEXEC\r\n", want)
            .await,
        want
    );
    assert_eq!(raw.roundtrip(b"QUIT\r\n", "+OK\r\n").await, "+OK\r\n");
    assert!(raw.closed().await);
}

// Regressions, named after what broke.

/// An inline line of exactly 64 KB was refused with `too big inline request` when a read
/// ended between its `\r` and its `\n`. The `\n` is sent only once the PING before the line
/// is answered, by which time the server has most likely read up to the `\r`; the kernel
/// decides, so the parser's unit test of the same name is the one that splits for sure.
#[tokio::test]
async fn inline_line_of_the_maximum_length_is_accepted_when_a_read_ends_between_cr_and_lf() {
    let s = start().await;
    let mut raw = s.raw().await;
    let mut line = b"PING\r\nECHO ".to_vec();
    line.resize(6 + 64 * 1024, b'a');
    line.push(b'\r');
    assert_eq!(raw.roundtrip(&line, "+PONG\r\n").await, "+PONG\r\n");
    raw.send(b"\n").await;
    let want = format!("${}\r\n{}\r\n", 64 * 1024 - 5, "a".repeat(64 * 1024 - 5));
    assert_eq!(raw.read_exact_text(want.len()).await, want);
    assert_eq!(raw.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
}

/// An over-long `$` line was answered with the text Redis keeps for the `*` line.
#[tokio::test]
async fn too_big_bulk_count_string_is_named_for_the_bulk_length() {
    let s = start().await;
    let cases: [(&[u8], &str); 2] = [
        (b"*1\r\n$", "too big bulk count string"),
        (b"*", "too big mbulk count string"),
    ];
    for (start, text) in cases {
        let mut raw = s.raw().await;
        // A line (from its `*` or `$`) one byte past the limit and no more, so nothing is
        // left unread when the server closes (unread bytes would turn the close into a reset).
        let mut input = start.to_vec();
        input.resize(start.len() - 1 + 64 * 1024 + 1, b'1');
        raw.send(&input).await;
        let want = format!("-ERR Protocol error: {text}\r\n");
        assert_eq!(raw.read_exact_text(want.len()).await, want);
        assert!(raw.closed().await);
    }
}

/// Before AUTH, a count above `INT_MAX` or a length above `proto-max-bulk-len` is an invalid
/// length, as Redis checks the ordinary limits first; both were called unauthenticated.
#[tokio::test]
async fn unauthenticated_lengths_past_the_protocol_limits_are_invalid_not_unauthenticated() {
    let s = start_with(|c| c.requirepass = Some("s3cret".into())).await;
    let cases: [(&[u8], &str); 4] = [
        (b"*99999999999\r\n", "invalid multibulk length"),
        (b"*1\r\n$600000000\r\n", "invalid bulk length"),
        (b"*11\r\n", "unauthenticated multibulk length"),
        (b"*1\r\n$16385\r\n", "unauthenticated bulk length"),
    ];
    for (input, text) in cases {
        let mut raw = s.raw().await;
        let want = format!("-ERR Protocol error: {text}\r\n");
        assert_eq!(raw.roundtrip(input, &want).await, want);
        assert!(raw.closed().await);
    }
}

/// Redis ends a count or length line at its `\r` and skips the byte after it unseen.
#[tokio::test]
async fn count_lines_end_at_cr_as_in_redis() {
    let s = start().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.roundtrip(b"*1\rX$4\r\nPING\r\n", "+PONG\r\n").await,
        "+PONG\r\n"
    );
}

/// Between inline words Redis skips what C's `isspace` does, `\v` included.
#[tokio::test]
async fn vertical_tab_separates_inline_words() {
    let s = start().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.roundtrip(b"\x0bPING \x0b\r\n", "+PONG\r\n").await,
        "+PONG\r\n"
    );
}

/// `\xHH` inline is one raw byte, not the UTF-8 encoding of a character.
#[tokio::test]
async fn inline_hex_escape_is_one_raw_byte() {
    let s = start().await;
    let mut raw = s.raw().await;
    let want = "+OK\r\n:1\r\n";
    assert_eq!(
        raw.roundtrip(b"SET k \"\\xff\"\r\nSTRLEN k\r\n", want)
            .await,
        want
    );
}
