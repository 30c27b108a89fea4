//! Starting a server for a test, and talking to it.

use llmcached::config::Config;
use llmcached::server::Server;
use llmcached::state::Shared;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// A running server; shut down when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// An in-memory server on 127.0.0.1:0 with `tune` applied to its config.
pub async fn start_with(tune: impl FnOnce(&mut Config)) -> TestServer {
    let mut config = Config {
        port: 0,
        appendonly: false,
        save: llmcached::persistence::SaveSchedule::default(),
        ..Config::default()
    };
    tune(&mut config);
    let server = Server::bind(config).await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let shared = server.shared();
    let task = tokio::spawn(server.run());
    TestServer {
        addr,
        shared,
        task: Some(task),
    }
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

/// A server that logs every write to `dir` with `appendfsync always`, once it has loaded what
/// an earlier one left there.
pub async fn start_persistent(dir: &std::path::Path) -> TestServer {
    let s = start_with(|c| {
        c.dir = dir.to_path_buf();
        c.appendonly = true;
        c.appendfsync = llmcached::persistence::FsyncPolicy::Always;
    })
    .await;
    tokio::time::timeout(Duration::from_secs(30), s.shared.loaded())
        .await
        .expect("never finished loading");
    s
}

impl TestServer {
    pub fn url(&self, resp3: bool) -> String {
        let proto = if resp3 { "?protocol=resp3" } else { "" };
        format!("redis://{}/{}", self.addr, proto)
    }

    /// A `redis` crate connection without a response timeout (LLMGET may block).
    pub async fn conn(&self, resp3: bool) -> MultiplexedConnection {
        let client = Client::open(self.url(resp3)).expect("client");
        let cfg = AsyncConnectionConfig::new().set_response_timeout(None);
        client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .expect("connect")
    }

    pub async fn raw(&self) -> Raw {
        Raw(TcpStream::connect(self.addr).await.expect("connect"))
    }

    /// Stops the server and waits for `run` to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.shared.request_shutdown(Some(false));
        match self.task.take() {
            Some(t) => t.await.expect("server task"),
            None => Ok(()),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.request_shutdown(Some(false));
    }
}

/// Runs one command and returns the raw reply value (errors included).
pub async fn call(con: &mut MultiplexedConnection, args: &[&str]) -> Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query_async::<Value>(con).await {
        Ok(v) => v,
        Err(e) => match e.kind() {
            _ if e.code().is_some() || e.detail().is_some() => Value::SimpleString(format!(
                "ERROR:{} {}",
                e.code().unwrap_or(""),
                e.detail().unwrap_or("")
            )),
            _ => panic!("transport error: {e}"),
        },
    }
}

/// A reply as text, for short assertions: errors as `ERROR:CODE detail`.
pub fn text(v: &Value) -> String {
    match v {
        Value::Nil => "(nil)".into(),
        Value::Int(n) => n.to_string(),
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Double(d) => d.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::VerbatimString { text, .. } => text.clone(),
        Value::Array(items) | Value::Set(items) => {
            format!("[{}]", items.iter().map(text).collect::<Vec<_>>().join(","))
        }
        Value::Map(pairs) => format!(
            "{{{}}}",
            pairs
                .iter()
                .map(|(k, v)| format!("{}={}", text(k), text(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::ServerError(e) => format!("ERROR:{} {}", e.code(), e.details().unwrap_or("")),
        other => format!("{other:?}"),
    }
}

/// Waits until INFO reports `n` blocked clients (the event, not a sleep).
pub async fn until_blocked(c: &mut MultiplexedConnection, n: u64) {
    let want = format!("blocked_clients:{n}\r");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let info = cmd(c, &["INFO", "clients"]).await;
        if info.contains(&want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never {want}: {info}"
        );
        tokio::task::yield_now().await;
    }
}

pub async fn cmd(con: &mut MultiplexedConnection, args: &[&str]) -> String {
    text(&call(con, args).await)
}

/// A raw TCP connection for byte-level tests.
pub struct Raw(pub TcpStream);

impl Raw {
    pub async fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).await.expect("write");
    }

    /// Reads until `want` bytes arrived or the peer closed; fails after 10 s.
    pub async fn read_exact_text(&mut self, want: usize) -> String {
        let mut buf = vec![0u8; want];
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got < want {
            let n = tokio::time::timeout_at(deadline, self.0.read(&mut buf[got..]))
                .await
                .expect("reply within 10s")
                .expect("read");
            if n == 0 {
                break;
            }
            got += n;
        }
        String::from_utf8_lossy(&buf[..got]).into_owned()
    }

    /// Reads exactly one whole reply (RESP2 or RESP3), returned as its raw text.
    pub async fn read_reply(&mut self) -> String {
        use redis_protocol::resp3::decode::complete::decode;
        let mut buf = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            // RESP2 first: the RESP3 decoder does not know RESP2's nulls (`$-1`, `*-1`).
            let parsed = match redis_protocol::resp2::decode::decode(&buf) {
                Ok(found) => found.map(|(_, len)| len),
                Err(_) => decode(&buf)
                    .expect("a well-formed reply")
                    .map(|(_, len)| len),
            };
            if let Some(len) = parsed {
                assert_eq!(len, buf.len(), "one reply expected, got more bytes");
                return String::from_utf8_lossy(&buf).into_owned();
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout_at(deadline, self.0.read(&mut chunk))
                .await
                .expect("reply within 10s")
                .expect("read");
            assert!(n > 0, "closed before a whole reply");
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends `bytes` and returns exactly `expected.len()` bytes of reply.
    pub async fn roundtrip(&mut self, bytes: &[u8], expected: &str) -> String {
        self.send(bytes).await;
        self.read_exact_text(expected.len()).await
    }

    /// True once the server closed the connection (reads to EOF; fails after 10 s).
    pub async fn closed(&mut self) -> bool {
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.0.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

/// The real binary, started with `args` (plus `--port 0`), once it is ready to accept
/// connections. Killed (SIGKILL) when dropped unless stopped.
pub struct Proc {
    pub child: std::process::Child,
    pub addr: SocketAddr,
}

impl Proc {
    pub fn start(args: &[&str]) -> Proc {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_llmcached"))
            .args(["--port", "0", "--bind", "127.0.0.1"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn llmcached");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut addr = None;
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on ").nth(1) {
                    addr = rest
                        .split_whitespace()
                        .next()
                        .and_then(|a| a.parse::<SocketAddr>().ok());
                }
                if line.contains("Ready to accept connections") {
                    let _ = tx.send(addr);
                }
                log2.lock().unwrap().push(line);
            }
            let _ = tx.send(None);
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("llmcached did not become ready: {:?}", log.lock().unwrap()));
        Proc { child, addr }
    }

    pub async fn conn(&self) -> MultiplexedConnection {
        // No response timeout: under load (and `appendfsync always`) a reply can take longer
        // than the crate's default 500 ms, which would end a writer early.
        let client = Client::open(format!("redis://{}/", self.addr)).expect("client");
        let cfg = AsyncConnectionConfig::new().set_response_timeout(None);
        client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .expect("connect")
    }

    /// kill -9
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit; returns the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        self.child.wait().expect("wait")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
