//! The TLS port against real TLS clients: a throwaway CA made with openssl at test time,
//! handshakes with and without client certificates, TLS only and TLS beside plain TCP,
//! plain text on the TLS port and TLS on the plain port refused without harm to others,
//! certificates reloaded by CONFIG SET, and redis-cli --tls where it is installed.

use llmcached::config::{Config, TlsAuth};
use llmcached::server::Server;
use llmcached::state::Shared;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A CA, a server certificate for 127.0.0.1 / localhost and a client certificate.
struct Pki {
    dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec![
            "req",
            "-x509",
            "-days",
            "2",
            "-subj",
            "/CN=llmcached test CA",
        ];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=keyCertSign,cRLSign",
        ]);
        openssl(d, &ca);
        Pki::leaf(
            d,
            "server",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
            &ec,
        );
        Pki::leaf(
            d,
            "server2",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
            &ec,
        );
        Pki::leaf(d, "client", "extendedKeyUsage=clientAuth\n", &ec);
        Pki { dir }
    }

    fn leaf(d: &Path, name: &str, ext: &str, ec: &[&str]) {
        std::fs::write(d.join(format!("{name}.ext")), ext).unwrap();
        let (key, csr, crt, extf) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
            format!("{name}.ext"),
        );
        let subj = format!("/CN={name}");
        let mut req = vec!["req", "-subj", &subj, "-keyout", &key, "-out", &csr];
        req.extend(ec);
        openssl(d, &req);
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-set_serial",
                "7",
                "-days",
                "2",
                "-out",
                &crt,
                "-extfile",
                &extf,
            ],
        );
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    fn settings(&self, c: &mut Config, tls_port: u16, auth: TlsAuth) {
        c.tls.port = tls_port;
        c.tls.cert_file = Some(self.path("server.crt"));
        c.tls.key_file = Some(self.path("server.key"));
        c.tls.ca_cert_file = Some(self.path("ca.crt"));
        c.tls.auth_clients = auth;
    }

    fn connector(&self, with_cert: bool) -> TlsConnector {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(self.path("ca.crt")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let b = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = if with_cert {
            let certs = CertificateDer::pem_file_iter(self.path("client.crt"))
                .unwrap()
                .map(|c| c.unwrap())
                .collect();
            let key = PrivateKeyDer::from_pem_file(self.path("client.key")).unwrap();
            b.with_client_auth_cert(certs, key).unwrap()
        } else {
            b.with_no_client_auth()
        };
        TlsConnector::from(Arc::new(config))
    }
}

/// A port that was free a moment ago (the TLS port cannot be 0: 0 turns TLS off, as in Redis).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Running {
    plain: Option<SocketAddr>,
    tls: SocketAddr,
    shared: Arc<Shared>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shared.request_shutdown(Some(false));
    }
}

async fn start(pki: &Pki, plain: bool, auth: TlsAuth) -> Running {
    // Without a plain port, `port 0` (TLS only); with one, a free port for it too.
    let mut config = Config {
        port: if plain { free_port() } else { 0 },
        appendonly: false,
        save: llmcached::persistence::SaveSchedule::default(),
        ..Config::default()
    };
    pki.settings(&mut config, free_port(), auth);
    let server = Server::bind(config).await.expect("bind");
    let tls = server.tls_addr().expect("TLS is on");
    let plain = plain.then(|| server.local_addr().unwrap());
    let shared = server.shared();
    tokio::spawn(server.run());
    Running { plain, tls, shared }
}

/// PING over TLS; the error text when the handshake or the first read fails.
async fn tls_ping(addr: SocketAddr, connector: &TlsConnector) -> Result<String, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut s = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    s.write_all(b"PING\r\n").await.map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .map_err(|_| "no reply".to_string())?
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[tokio::test]
async fn tls_only_requires_a_client_certificate_by_default() {
    let pki = Pki::new();
    let server = start(&pki, false, TlsAuth::Yes).await;
    assert!(
        server.plain.is_none(),
        "port 0 with a tls-port serves TLS only"
    );
    assert_eq!(
        tls_ping(server.tls, &pki.connector(true)).await,
        Ok("+PONG\r\n".into())
    );
    let refused = tls_ping(server.tls, &pki.connector(false)).await;
    assert!(
        refused.is_err() || refused == Ok(String::new()),
        "{refused:?}"
    );
}

#[tokio::test]
async fn optional_and_no_client_auth_accept_clients_without_certificates() {
    let pki = Pki::new();
    for auth in [TlsAuth::Optional, TlsAuth::No] {
        let server = start(&pki, false, auth).await;
        assert_eq!(
            tls_ping(server.tls, &pki.connector(false)).await,
            Ok("+PONG\r\n".into()),
            "{auth:?}"
        );
    }
}

#[tokio::test]
async fn plain_text_on_the_tls_port_and_tls_on_the_plain_port_harm_nobody() {
    let pki = Pki::new();
    let server = start(&pki, true, TlsAuth::Optional).await;
    let plain = server.plain.expect("both ports");
    // RESP on the TLS port: the handshake fails and the connection is dropped.
    let mut raw = TcpStream::connect(server.tls).await.unwrap();
    raw.write_all(b"PING\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), raw.read(&mut buf))
        .await
        .expect("closed");
    assert!(
        !matches!(n, Ok(n) if n > 0 && buf.starts_with(b"+PONG")),
        "no RESP reply on the TLS port"
    );
    // A TLS handshake on the plain port gets no TLS server: it fails (or stalls) alone.
    let stalled = tokio::time::timeout(
        Duration::from_millis(300),
        tls_ping(plain, &pki.connector(true)),
    )
    .await;
    assert!(
        !matches!(stalled, Ok(Ok(ref r)) if r.starts_with("+PONG")),
        "{stalled:?}"
    );
    // Meanwhile both ports serve everyone else.
    assert_eq!(
        tls_ping(server.tls, &pki.connector(true)).await,
        Ok("+PONG\r\n".into())
    );
    let mut p = TcpStream::connect(plain).await.unwrap();
    p.write_all(b"PING\r\n").await.unwrap();
    let n = p.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"+PONG\r\n");
}

#[tokio::test]
async fn config_set_reloads_the_certificate_for_new_connections() {
    let pki = Pki::new();
    let server = start(&pki, true, TlsAuth::No).await;
    let peer_cert = |addr| {
        let connector = pki.connector(false);
        async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let s = connector
                .connect(ServerName::try_from("localhost").unwrap(), tcp)
                .await
                .unwrap();
            s.get_ref().1.peer_certificates().unwrap()[0].to_vec()
        }
    };
    let first = peer_cert(server.tls).await;
    let mut admin = redis::Client::open(format!("redis://{}/", server.plain.unwrap()))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let set = |k: &str, v: PathBuf| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg(k)
            .arg(v.to_str().unwrap())
            .clone()
    };
    let bad: redis::RedisResult<()> = set("tls-cert-file", pki.path("missing.crt"))
        .query_async(&mut admin)
        .await;
    assert!(bad.is_err(), "a reload that fails is refused");
    assert_eq!(peer_cert(server.tls).await, first, "and changes nothing");
    let mut both = redis::cmd("CONFIG");
    both.arg("SET")
        .arg("tls-cert-file")
        .arg(pki.path("server2.crt").to_str().unwrap())
        .arg("tls-key-file")
        .arg(pki.path("server2.key").to_str().unwrap());
    let () = both.query_async(&mut admin).await.unwrap();
    assert_ne!(
        peer_cert(server.tls).await,
        first,
        "new connections get the new certificate"
    );
}

#[tokio::test]
async fn redis_cli_speaks_tls_with_a_client_certificate() {
    if Command::new("redis-cli").arg("--version").output().is_err() {
        eprintln!("redis-cli not installed: skipped");
        return;
    }
    let pki = Pki::new();
    let server = start(&pki, false, TlsAuth::Yes).await;
    let port = server.tls.port().to_string();
    let (ca, cert, key) = (
        pki.path("ca.crt"),
        pki.path("client.crt"),
        pki.path("client.key"),
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port, "--tls", "--cacert"])
            .arg(ca)
            .arg("--cert")
            .arg(cert)
            .arg("--key")
            .arg(key)
            .arg("PING")
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "PONG",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
