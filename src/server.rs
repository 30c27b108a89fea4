//! The accept loop (the plain port and the TLS port, [`crate::tls`]), the connection limit,
//! protected mode, loading at start, TLS reloads on SIGHUP, and graceful shutdown. The state
//! every connection sees is [`crate::state::Shared`].
//!
//! # Shutdown
//! SIGINT, SIGTERM or SHUTDOWN: the listener closes, each connection finishes the batch of
//! commands it is executing and sends its replies, blocked LLMGET callers are answered with a
//! `TRYAGAIN` error, persistence is flushed, and [`Server::run`] returns.

use crate::cache::Clock;
use crate::client::ClientInfo;
use crate::config::Config;
use crate::durability;
use crate::state::Shared;
use crate::tls::Tls;
use crate::{cmd, connection};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

/// A bound server, ready to run.
pub struct Server {
    shared: Arc<Shared>,
    /// The plain port; none when only TLS is served (`port 0` with a `tls-port`).
    listener: Option<TcpListener>,
    tls: Option<(TcpListener, Arc<Tls>)>,
}

impl Server {
    /// Binds the configured address with a fresh clock.
    pub async fn bind(config: Config) -> io::Result<Server> {
        Server::bind_with_clock(config, Clock::new()).await
    }

    /// Binds the configured address; the store runs on `clock` (tests advance it).
    pub async fn bind_with_clock(config: Config, clock: Clock) -> io::Result<Server> {
        // As Redis: `port 0` with a TLS port means TLS only (without one, 0 picks a free port).
        let listener = if config.port == 0 && config.tls.port != 0 {
            None
        } else {
            Some(TcpListener::bind(SocketAddr::new(config.bind, config.port)).await?)
        };
        let tls = match config.tls.port {
            0 => None,
            port => {
                let tls = Tls::new(&config.tls).map_err(io::Error::other)?;
                let l = TcpListener::bind(SocketAddr::new(config.bind, port)).await?;
                Some((l, Arc::new(tls)))
            }
        };
        let embedding = config.embedding.clone();
        let shared = Arc::new(Shared::new(config, clock, cmd::row_names()));
        if let Some(dir) = embedding.model {
            let threads = embedding.threads;
            let loaded = tokio::task::spawn_blocking(move || {
                crate::embed::Embedder::load(&dir, threads)
                    .map_err(|e| format!("embedding-model {}: {e}", dir.display()))
            })
            .await
            .map_err(io::Error::other)?
            .map_err(io::Error::other)?;
            info!(dim = loaded.dim(), "embedding model loaded");
            let _ = shared.embedder.set(Arc::new(loaded));
        }
        for w in cmd::permit::install(&shared).map_err(io::Error::other)? {
            warn!("{w}");
        }
        if let Some((_, tls)) = &tls {
            let tls = tls.clone();
            shared.set_tls_reload_hook(Box::new(move |s| tls.reload(s)));
        }
        let server = Server {
            shared,
            listener,
            tls,
        };
        server.shared.set_port(server.local_addr()?.port());
        Ok(server)
    }

    /// The plain port's address, or the TLS port's when only TLS is served.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match (&self.listener, &self.tls) {
            (Some(l), _) => l.local_addr(),
            (None, Some((l, _))) => l.local_addr(),
            (None, None) => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// The TLS port's address, when TLS is on.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Accepts connections until shutdown, then drains them.
    pub async fn run(self) -> io::Result<()> {
        let Server {
            shared,
            listener,
            tls,
        } = self;
        let mut hangup = Hangup::new();
        if let Some(addr) = tls.as_ref().and_then(|(l, _)| l.local_addr().ok()) {
            info!("TLS on {addr}");
        }
        // Connected clients, counted here (not in the tasks) so the limit is exact at accept.
        let connected = Arc::new(AtomicUsize::new(0));
        let mut shutdown = shared.shutdown_receiver();
        let mut tasks = JoinSet::new();
        // Clients are accepted while the data set loads; they get -LOADING until it is done.
        let persistent = shared.is_loading();
        let loader_shared = shared.clone();
        let mut loading = tokio::task::spawn_blocking(move || {
            let config = loader_shared.config();
            let r = durability::open_and_load(&loader_shared.store, &config).map(|d| match d {
                Some(d) => {
                    let _ = loader_shared.durability.set(d);
                    loader_shared.finish_loading();
                    info!("Ready to accept connections");
                }
                None => {
                    loader_shared.finish_loading();
                    info!("Ready to accept connections (in memory: persistence is off)");
                }
            });
            r
        });
        let mut loaded = !persistent;
        let maintenance = tokio::spawn(maintenance(shared.clone()));
        if let Some(tier) = &shared.tier {
            tier.start(shared.shutdown_receiver());
        }
        let mut failure = None;
        loop {
            tokio::select! {
                done = &mut loading, if !loaded => {
                    loaded = true;
                    match done {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => { failure = Some(e); break; }
                        Err(e) => { failure = Some(format!("loading failed: {e}")); break; }
                    }
                }
                accepted = accept(listener.as_ref()) => {
                    admit(&shared, &connected, &mut tasks, accepted, None).await;
                }
                accepted = accept(tls.as_ref().map(|(l, _)| l)) => {
                    let with = tls.as_ref().map(|(_, t)| t.clone());
                    admit(&shared, &connected, &mut tasks, accepted, with).await;
                }
                () = hangup.recv() => {
                    if let Some((_, t)) = &tls {
                        match t.reload(&shared.config().tls) {
                            Ok(()) => info!("SIGHUP: TLS certificates reloaded"),
                            Err(e) => warn!("SIGHUP: TLS certificates not reloaded: {e}"),
                        }
                    }
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = shutdown.changed() => break,
            }
        }
        drop(listener);
        info!("shutting down: draining {} connections", tasks.len());
        shared.flights.close("TRYAGAIN server is shutting down");
        // Connections finish their current batch and close; a stuck peer cannot hold us forever.
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(10), drain)
            .await
            .is_err()
        {
            warn!("some connections did not close within 10s; closing them");
            tasks.abort_all();
        }
        maintenance.abort();
        shared.store.run_maintenance();
        if let Some(d) = shared.durability.get() {
            let waiting = d.clone();
            let _ = tokio::task::spawn_blocking(move || {
                waiting.finish_background(Duration::from_secs(20))
            })
            .await;
            let save = shared.shutdown_save();
            // As Redis: a snapshot on the way out when save points are configured (or SAVE was
            // asked for), unless NOSAVE. With the log on, flushing it is what matters.
            let config = shared.config();
            let snapshot = save.unwrap_or(!config.save.is_off() && !config.appendonly);
            // After a log write error only a base from memory keeps what the log missed.
            let snapshot = snapshot || d.needs_base();
            if snapshot {
                if let Err(e) = d.rewrite(&shared.store) {
                    warn!("final snapshot failed: {e}");
                }
            }
            if let Err(e) = d.shutdown() {
                warn!("persistence shutdown: {e}");
            }
        }
        if let Some(e) = failure {
            return Err(io::Error::other(e));
        }
        info!("bye");
        Ok(())
    }
}

/// Accepts on `listener`, or never when there is none.
async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// One accepted socket: the client limit, protected mode, then (for the TLS port, in the
/// connection's own task so that a slow or plain-text peer holds up nobody) the handshake,
/// then the connection.
async fn admit(
    shared: &Arc<Shared>,
    connected: &Arc<AtomicUsize>,
    tasks: &mut JoinSet<()>,
    accepted: io::Result<(TcpStream, SocketAddr)>,
    tls: Option<Arc<Tls>>,
) {
    let (mut socket, addr) = match accepted {
        Ok(a) => a,
        Err(e) => {
            // Out of file descriptors and the like: back off briefly, go on.
            warn!("accept failed: {e}");
            tokio::time::sleep(Duration::from_millis(10)).await;
            return;
        }
    };
    shared
        .stats
        .total_connections_received
        .fetch_add(1, Ordering::Relaxed);
    let refusal = if connected.load(Ordering::Relaxed) >= shared.config().maxclients {
        Some(&b"-ERR max number of clients reached\r\n"[..])
    } else if protected_mode_denies(shared, addr) {
        Some(PROTECTED_MODE_DENIED.as_bytes())
    } else {
        None
    };
    if let Some(line) = refusal {
        shared
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        tasks.spawn(async move {
            let _ = match tls {
                Some(t) => match t.accept(socket).await {
                    Ok(mut s) => s.write_all(line).await.and(s.flush().await),
                    Err(_) => Ok(()),
                },
                None => socket.write_all(line).await,
            };
        });
        return;
    }
    let slot = Admitted::new(connected);
    let _ = socket.set_nodelay(true);
    let laddr = socket.local_addr().unwrap_or(addr);
    let info = Arc::new(ClientInfo::new(shared.clients.next_id(), addr, laddr));
    let shared = shared.clone();
    tasks.spawn(async move {
        shared.clients.register(info.clone());
        match tls {
            None => connection::serve(shared.clone(), socket, info.clone()).await,
            Some(t) => match t.accept(socket).await {
                Ok(s) => connection::serve(shared.clone(), s, info.clone()).await,
                Err(e) => debug!(%addr, "TLS handshake failed: {e}"),
            },
        }
        shared.clients.unregister(info.id);
        drop(slot);
    });
}

/// SIGHUP, as a stream of events (never, where there are no signals).
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Hangup {
        Hangup {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok(),
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = self.signal.as_mut() {
            if s.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await
    }
}

/// Runs moka's maintenance and lease expiry in the background, so evictions and expirations are
/// counted promptly and expired leases promote a follower even when no command touches them.
async fn maintenance(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = shared.clone();
        // moka's maintenance can take a while on a big cache: keep it off the async workers.
        let _ = tokio::task::spawn_blocking(move || s.store.run_maintenance()).await;
        if let Some(d) = shared.durability.get() {
            if d.rewrite_due(shared.store.clock().now_ms()) {
                durability::spawn_rewrite(d, &shared.store);
            }
        }
    }
}

/// Redis 7.0.15's reply to a client refused by protected mode, word for word.
pub const PROTECTED_MODE_DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Redis 7's protected mode: with `protected-mode yes` and a default user that is `nopass`,
/// only clients whose address is 127.0.0.1 or ::1 are served.
pub fn protected_mode_denies(shared: &Shared, peer: SocketAddr) -> bool {
    if !shared.config().protected_mode || !shared.acl.default_is_nopass() {
        return false;
    }
    let ip = peer.ip().to_canonical();
    ip != std::net::IpAddr::from([127, 0, 0, 1]) && ip != std::net::Ipv6Addr::LOCALHOST
}

/// One admitted client: counted in `connected` until dropped (the connection's task ends).
struct Admitted(Arc<AtomicUsize>);

impl Admitted {
    fn new(connected: &Arc<AtomicUsize>) -> Admitted {
        connected.fetch_add(1, Ordering::Relaxed);
        Admitted(connected.clone())
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(config: Config) -> Shared {
        let s = Shared::new(config, Clock::new(), cmd::row_names());
        cmd::permit::install(&s).unwrap();
        s
    }

    /// The rule is Redis's: the default user is nopass, whatever made it so.
    #[test]
    fn protected_mode_follows_the_default_user() {
        let remote: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let open = shared(Config::default());
        assert!(protected_mode_denies(&open, remote));
        assert!(!protected_mode_denies(&open, local));
        let mut config = Config::default();
        config.acl.users.0 = vec![vec![b"default".to_vec(), b"on".to_vec(), b">pw".to_vec()]];
        assert!(
            !protected_mode_denies(&shared(config), remote),
            "a user line gave it a password"
        );
        open.acl.set_default_password(Some(b"pw"));
        assert!(
            !protected_mode_denies(&open, remote),
            "CONFIG SET requirepass"
        );
    }
}
