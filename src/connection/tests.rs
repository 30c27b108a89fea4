//! Tests of one connection served by hand: which buffers it keeps, how a big bulk is received
//! and stored, and big replies written from shared bytes.

use super::*;
use crate::cache::Clock;
use crate::config::Config;
use std::io::{Read, Write};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A connection served by hand, and the client's end of its socket (a plain blocking
/// socket, so that the client's reads and writes are real system calls that do not depend
/// on the runtime having polled anything).
async fn pair() -> (
    Connection<tokio::net::TcpStream>,
    std::net::TcpStream,
    watch::Receiver<bool>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (socket, addr) = listener.accept().await.unwrap();
    let shared = Arc::new(Shared::new(
        Config::default(),
        Clock::new(),
        cmd::row_names(),
    ));
    shared.finish_loading();
    let shutdown = shared.shutdown_receiver();
    let info = Arc::new(ClientInfo::new(1, addr, addr));
    (Connection::new(shared, socket, info), client, shutdown)
}

/// Waits until the socket is readable, reads, and serves what is complete.
async fn step(conn: &mut Connection<tokio::net::TcpStream>, shutdown: &mut watch::Receiver<bool>) {
    conn.socket.readable().await.unwrap();
    conn.read().unwrap();
    assert!(conn.serve_batch(shutdown).await.unwrap());
}

/// Serves until the client has `want` bytes of replies, checking after every batch that
/// no buffer is kept that holds nothing. Every reply to what the client sent is written
/// by the batch that read its command, so the client's read after a batch sees it.
async fn serve_until(
    conn: &mut Connection<tokio::net::TcpStream>,
    client: &mut std::net::TcpStream,
    shutdown: &mut watch::Receiver<bool>,
    want: usize,
) -> Vec<u8> {
    client.set_nonblocking(true).unwrap();
    let mut got = Vec::new();
    while got.len() < want {
        step(conn, shutdown).await;
        if conn.rbuf.is_empty() {
            assert_eq!(conn.rbuf.capacity(), 0, "an empty read buffer is kept");
        }
        assert_eq!(conn.out.buffer_capacity(), 0, "the write buffer is kept");
        let mut chunk = [0u8; 4096];
        while let Ok(n) = client.read(&mut chunk) {
            assert!(n > 0, "closed");
            got.extend_from_slice(&chunk[..n]);
        }
    }
    client.set_nonblocking(false).unwrap();
    got
}

#[tokio::test]
async fn buffers_are_released_after_a_batch() {
    let (mut conn, mut client, mut shutdown) = pair().await;
    let set = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    client.write_all(set).unwrap();
    let got = serve_until(&mut conn, &mut client, &mut shutdown, 16).await;
    assert_eq!(got, b"+OK\r\n$5\r\nhello\r\n");
    assert_eq!(conn.rbuf.capacity(), 0);
    assert_eq!(conn.out.buffer_capacity(), 0);

    // Part of a command keeps its buffer until the rest arrives, and no longer.
    client.write_all(b"*1\r\n$4\r\nPI").unwrap();
    while !conn.parser.in_progress() || conn.rbuf.is_empty() {
        step(&mut conn, &mut shutdown).await;
    }
    assert!(conn.rbuf.capacity() > 0);
    client.write_all(b"NG\r\n").unwrap();
    let got = serve_until(&mut conn, &mut client, &mut shutdown, 7).await;
    assert_eq!(got, b"+PONG\r\n");
    assert_eq!(conn.rbuf.capacity(), 0);
}

#[tokio::test]
async fn a_big_value_is_received_into_its_own_buffer_and_stored_without_a_copy() {
    let (mut conn, client, mut shutdown) = pair().await;
    let len = 300_000;
    // Bytes zstd cannot shrink: a compressible value is stored compressed (a new buffer).
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let value: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let mut request = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${len}\r\n").into_bytes();
    request.extend_from_slice(&value);
    request.extend_from_slice(b"\r\n");
    let writer = std::thread::spawn(move || {
        let mut client = client;
        client.write_all(&request).unwrap();
        client
    });
    let mut dedicated = None;
    while conn.shared.store.get(b"big").is_none() {
        conn.socket.readable().await.unwrap();
        conn.make_room();
        if let Some(awaited) = conn.parser.awaited_bulk() {
            assert_eq!(awaited, len);
            assert!(conn.rbuf.capacity() <= len, "{}", conn.rbuf.capacity());
            if conn.rbuf.capacity() == len {
                dedicated = Some(conn.rbuf.as_ptr());
            }
        }
        conn.read().unwrap();
        assert!(conn.serve_batch(&mut shutdown).await.unwrap());
    }
    let mut client = writer.join().unwrap();
    let entry = conn.shared.store.get(b"big").unwrap();
    let stored = entry.as_str().unwrap();
    assert_eq!(stored.as_ref(), &value[..]);
    assert_eq!(Some(stored.as_ptr()), dedicated, "the value was copied");
    drop(entry);
    let mut got = vec![0u8; 5];
    client.read_exact(&mut got).unwrap();
    assert_eq!(got, b"+OK\r\n");
}

#[tokio::test]
async fn an_announced_big_bulk_costs_only_what_arrives() {
    let (mut conn, mut client, mut shutdown) = pair().await;
    client
        .write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\nabc")
        .unwrap();
    while conn.parser.awaited_bulk().is_none() || conn.rbuf.len() < 3 {
        step(&mut conn, &mut shutdown).await;
    }
    conn.make_room();
    assert!(conn.rbuf.capacity() <= BIG_BULK_FIRST);
    assert_eq!(&conn.rbuf[..], b"abc");
}

fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn bulk(b: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", b.len()).into_bytes();
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
    out
}

/// Big values in and out of a pipeline with small commands around them, through [`serve`]:
/// replies come back complete and in order, whatever the vectored writes' partial counts.
#[tokio::test]
async fn big_values_round_trip_through_a_pipeline_with_small_commands() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = Arc::new(Shared::new(
        Config::default(),
        Clock::new(),
        cmd::row_names(),
    ));
    shared.finish_loading();
    let a: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    let b: Vec<u8> = (0..40_000u32).map(|i| (i % 7) as u8 + b'a').collect();
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for (args, reply) in [
        (vec![&b"SET"[..], b"a", &a], b"+OK\r\n".to_vec()),
        (vec![&b"SET"[..], b"b", &b], b"+OK\r\n".to_vec()),
        (vec![&b"GET"[..], b"a"], bulk(&a)),
        (vec![&b"PING"[..]], b"+PONG\r\n".to_vec()),
        (
            vec![&b"MGET"[..], b"a", b"missing", b"b", b"a"],
            [
                b"*4\r\n".to_vec(),
                bulk(&a),
                b"$-1\r\n".to_vec(),
                bulk(&b),
                bulk(&a),
            ]
            .concat(),
        ),
        (vec![&b"DEL"[..], b"a"], b":1\r\n".to_vec()),
        (vec![&b"GET"[..], b"a"], b"$-1\r\n".to_vec()),
        (vec![&b"GET"[..], b"b"], bulk(&b)),
    ] {
        request.extend(command(&args));
        expected.extend(reply);
    }
    let want = expected.len();
    // The client writes and reads at once, from threads of its own: the replies are far
    // bigger than the sockets' buffers, so the server's writes are partial.
    let client = std::thread::spawn(move || {
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        let mut reader = socket.try_clone().unwrap();
        let writer = std::thread::spawn(move || socket.write_all(&request).unwrap());
        let mut got = vec![0u8; want];
        reader.read_exact(&mut got).unwrap();
        writer.join().unwrap();
        got
    });
    let (socket, peer) = listener.accept().await.unwrap();
    let info = Arc::new(ClientInfo::new(1, peer, peer));
    let served = tokio::spawn(serve(shared.clone(), socket, info));
    let got = tokio::task::spawn_blocking(move || client.join().unwrap())
        .await
        .unwrap();
    assert!(got == expected, "the replies differ from what was sent");
    served.await.unwrap();
}
