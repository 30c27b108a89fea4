//! Regression tests for faults found by testing the server as an attacker and an operator
//! would; each is named after what broke.

use crate::support::{cmd, start, Raw};
use llmcached::server::PROTECTED_MODE_DENIED;
use std::net::SocketAddr;
use tokio::net::TcpSocket;

/// A connection to `server` from the loopback address `from` (127.0.0.2 is not 127.0.0.1, so
/// to the server it is another host).
async fn connect_from(from: [u8; 4], server: SocketAddr) -> Raw {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind the client address");
    Raw(socket.connect(server).await.expect("connect"))
}

#[tokio::test]
async fn protected_mode_denies_clients_from_other_addresses_without_a_password() {
    let s = start().await;
    let mut far = connect_from([127, 0, 0, 2], s.addr).await;
    assert_eq!(far.read_reply().await, PROTECTED_MODE_DENIED);
    assert!(far.closed().await, "a denied client stays connected");

    // Loopback itself is served.
    let mut near = s.raw().await;
    near.send(b"PING\r\n").await;
    assert_eq!(near.read_reply().await, "+PONG\r\n");

    // With a password, other addresses may connect (and must authenticate).
    let mut admin = s.conn(false).await;
    assert_eq!(
        cmd(&mut admin, &["CONFIG", "SET", "requirepass", "pw"]).await,
        "OK"
    );
    let mut far = connect_from([127, 0, 0, 2], s.addr).await;
    far.send(b"PING\r\n").await;
    assert_eq!(
        far.read_reply().await,
        "-NOAUTH Authentication required.\r\n"
    );

    // protected-mode no: served without a password.
    let mut admin = s.raw().await;
    admin
        .send(b"AUTH pw\r\nCONFIG SET protected-mode no\r\nCONFIG SET requirepass \"\"\r\n")
        .await;
    assert_eq!(admin.read_exact_text(15).await, "+OK\r\n+OK\r\n+OK\r\n");
    let mut far = connect_from([127, 0, 0, 2], s.addr).await;
    far.send(b"PING\r\n").await;
    assert_eq!(far.read_reply().await, "+PONG\r\n");
    let info = cmd(&mut s.conn(false).await, &["INFO", "stats"]).await;
    assert!(info.contains("rejected_connections:1"), "{info}");
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn http_header_lines_after_a_request_line_do_not_run_as_commands() {
    let s = start().await;
    let mut raw = s.raw().await;
    raw.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\nSET pwned 1\r\n")
        .await;
    // The request line is a (wrong) GET; the Host: line closes the connection, and nothing
    // after it runs.
    assert!(raw.closed().await, "the connection survived a Host: line");
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["EXISTS", "pwned"]).await, "0");

    // POST later in a connection closes it too.
    let mut raw = s.raw().await;
    raw.send(b"PING\r\n").await;
    assert_eq!(raw.read_reply().await, "+PONG\r\n");
    raw.send(b"POST / HTTP/1.1\r\nSET pwned 1\r\n").await;
    assert!(raw.closed().await, "the connection survived a POST line");
    assert_eq!(cmd(&mut c, &["EXISTS", "pwned"]).await, "0");
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn a_client_past_the_query_buffer_limit_is_closed_without_a_reply_as_in_redis() {
    let s = crate::support::start_with(|c| c.client_query_buffer_limit = 1 << 20).await;
    let mut raw = s.raw().await;
    raw.send(b"*1\r\n$1100000\r\n").await;
    // The write may fail once the server has closed; what matters is what comes back.
    let _ = tokio::io::AsyncWriteExt::write_all(&mut raw.0, &vec![b'x'; 1_100_000]).await;
    // Closed (EOF, or a reset since the rest was never read), with no reply bytes.
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::io::AsyncReadExt::read(&mut raw.0, &mut buf),
    )
    .await
    .expect("closed within 10 s");
    assert!(matches!(read, Ok(0) | Err(_)), "a reply was sent: {read:?}");
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["PING"]).await, "PONG");
    s.stop().await.expect("stop");
}
