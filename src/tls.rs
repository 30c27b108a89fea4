//! TLS for the `tls-port` listener, with rustls (ring provider) and Redis's settings.
//!
//! [`Tls`] holds the rustls server configuration built from `tls-cert-file`, `tls-key-file`,
//! `tls-ca-cert-file` / `tls-ca-cert-dir`, `tls-auth-clients`, `tls-protocols` and
//! `tls-ciphersuites`. [`Tls::reload`] (SIGHUP, CONFIG SET of a `tls-*` setting) builds a new
//! one from the files and swaps it in; connections already open keep the one they started
//! with, and a reload that fails changes nothing.
//!
//! rustls reads unencrypted PEM keys only: an encrypted key (`tls-key-file-pass`) is refused
//! with a message naming the file. As in Redis, a CA is required whenever client certificates
//! are checked (`tls-auth-clients yes|optional`), and the system's CAs are never used.
//!
//! [`TlsSocket`] is a TLS stream as the connection reads it: readiness, then a non-blocking
//! take of what was decrypted.

use crate::config::{TlsAuth, TlsSettings};
use crate::connection::Socket;
use arc_swap::ArcSwap;
use bytes::BytesMut;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS configuration in force for new connections.
pub struct Tls {
    config: ArcSwap<ServerConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {what} {}: {e}", path.display()))
}

fn certs_in(pem: &[u8], path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad PEM certificate in {}: {e}", path.display()))
}

fn roots(s: &TlsSettings) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let mut files = Vec::new();
    if let Some(f) = &s.ca_cert_file {
        files.push(f.clone());
    }
    if let Some(dir) = &s.ca_cert_dir {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read tls-ca-cert-dir {}: {e}", dir.display()))?;
        for e in entries.flatten() {
            if e.path().is_file() {
                files.push(e.path());
            }
        }
    }
    for f in files {
        let pem = read(&f, "tls-ca-cert-file")?;
        for cert in certs_in(&pem, &f)? {
            store
                .add(cert)
                .map_err(|e| format!("bad CA certificate in {}: {e}", f.display()))?;
        }
    }
    Ok(store)
}

/// Builds a rustls server configuration from the settings, reading every file now.
pub fn server_config(s: &TlsSettings) -> Result<Arc<ServerConfig>, String> {
    let cert_path = s
        .cert_file
        .as_deref()
        .ok_or("tls-port needs tls-cert-file")?;
    let key_path = s.key_file.as_deref().ok_or("tls-port needs tls-key-file")?;
    let certs = certs_in(&read(cert_path, "tls-cert-file")?, cert_path)?;
    if certs.is_empty() {
        return Err(format!(
            "no certificate in tls-cert-file {}",
            cert_path.display()
        ));
    }
    let key_pem = read(key_path, "tls-key-file")?;
    if key_pem.windows(9).any(|w| w == b"ENCRYPTED") {
        return Err(format!(
            "tls-key-file {} is encrypted: rustls reads unencrypted keys only, so tls-key-file-pass is not supported (decrypt it with: openssl pkey -in KEY -out KEY.plain)",
            key_path.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        format!(
            "no usable private key in tls-key-file {}: {e}",
            key_path.display()
        )
    })?;
    let mut provider = rustls::crypto::ring::default_provider();
    if !s.ciphersuites.is_empty() {
        provider.cipher_suites.retain(|cs| match cs {
            rustls::SupportedCipherSuite::Tls13(_) => {
                let name = format!("{:?}", cs.suite());
                s.ciphersuites.contains(&name)
            }
            _ => true,
        });
    }
    let provider = Arc::new(provider);
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if s.protocols.0 {
        versions.push(&rustls::version::TLS12);
    }
    if s.protocols.1 {
        versions.push(&rustls::version::TLS13);
    }
    let verifier = match s.auth_clients {
        TlsAuth::No => WebPkiClientVerifier::no_client_auth(),
        auth => {
            if s.ca_cert_file.is_none() && s.ca_cert_dir.is_none() {
                return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-auth-clients is yes or optional".into());
            }
            let b =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(s)?), provider.clone());
            let b = if auth == TlsAuth::Optional {
                b.allow_unauthenticated()
            } else {
                b
            };
            b.build()
                .map_err(|e| format!("cannot use the CA certificates: {e}"))?
        }
    };
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("tls-protocols: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| format!("tls-cert-file and tls-key-file do not make a usable pair: {e}"))?;
    Ok(Arc::new(config))
}

impl Tls {
    pub fn new(s: &TlsSettings) -> Result<Tls, String> {
        Ok(Tls {
            config: ArcSwap::new(server_config(s)?),
        })
    }

    /// Re-reads the files; on error the configuration in force stays.
    pub fn reload(&self, s: &TlsSettings) -> Result<(), String> {
        self.config.store(server_config(s)?);
        Ok(())
    }

    /// The handshake of one accepted connection, bounded by [`HANDSHAKE_TIMEOUT`]. A client
    /// that speaks plain RESP (or nothing) fails here and is dropped; nobody else waits on it.
    pub async fn accept(&self, socket: TcpStream) -> io::Result<TlsSocket> {
        let acceptor = TlsAcceptor::from(self.config.load_full());
        let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
        Ok(TlsSocket {
            stream,
            pending: BytesMut::new(),
            eof: false,
        })
    }
}

/// A TLS connection as [`crate::connection`] reads it.
pub struct TlsSocket {
    stream: TlsStream<TcpStream>,
    /// Decrypted bytes read while waiting for readiness, not yet taken.
    pending: BytesMut,
    eof: bool,
}

impl Socket for TlsSocket {
    /// Waits for decrypted bytes (or the end of the stream). Cancel-safe: rustls keeps what it
    /// has read from the socket, and the bytes are stored only once the read completes.
    async fn readable(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() || self.eof {
            return Ok(());
        }
        let mut buf = BytesMut::with_capacity(16 * 1024);
        match self.stream.read_buf(&mut buf).await? {
            0 => self.eof = true,
            _ => self.pending = buf,
        }
        Ok(())
    }

    fn try_read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        if !self.pending.is_empty() {
            let n = self.pending.len();
            buf.extend_from_slice(&self.pending);
            self.pending = BytesMut::new();
            return Ok(n);
        }
        if self.eof {
            return Ok(0);
        }
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl AsyncWrite for TlsSocket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
