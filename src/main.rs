//! The llmcached binary: flags -> config, logging, bind, run until shutdown.

use llmcached::config::{Config, ConfigError, Loaded};
use llmcached::server::Server;
use llmcached::state::LogLevelHook;
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing::{error, info, warn};

/// mimalloc: the server allocates and frees a buffer or two per command from several threads,
/// which glibc's allocator handles markedly slower (measured: malloc/free were ~10% of a SET
/// benchmark's profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often the allocator is asked to give freed memory back to the OS.
const ALLOCATOR_COLLECT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// mimalloc returns freed memory to the OS ("purges" it) only after a delay and only when some
/// thread calls into it afterwards: a server that goes quiet after a DEL of a big value would
/// keep it resident for good. A thread of its own asks every [`ALLOCATOR_COLLECT_EVERY`];
/// purging is process-wide, and when nothing is due the call is a clock read.
fn spawn_allocator_collector() {
    let spawned = std::thread::Builder::new()
        .name("allocator-collect".into())
        .spawn(|| loop {
            std::thread::sleep(ALLOCATOR_COLLECT_EVERY);
            // SAFETY: mi_collect may be called from any thread at any time; `false` asks only
            // for what is due (no forced purge).
            unsafe { libmimalloc_sys::mi_collect(false) };
        });
    if let Err(e) = spawned {
        warn!("cannot start the allocator's collector thread: {e}");
    }
}

fn main() -> ExitCode {
    let Loaded {
        config,
        warnings,
        config_file,
    } = match Config::from_args(std::env::args_os()) {
        Ok(loaded) => loaded,
        // --help, --version and command-line mistakes: clap prints them and picks the code.
        Err(ConfigError::Args(e)) => e.exit(),
        Err(e) => {
            eprintln!("llmcached: {e}");
            return ExitCode::from(2);
        }
    };
    let log_level = init_logging(&config);
    spawn_allocator_collector();
    if let Some(path) = &config_file {
        info!("configuration read from {}", path.display());
    }
    for w in &warnings {
        warn!("{w}");
    }
    // One event loop by default, as Redis: on a small machine, cross-thread wakeups cost more
    // than a second core gains (measured with redis-benchmark on 2 cores); --io-threads N
    // spreads connections over N worker threads.
    let mut builder = if config.io_threads > 1 {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(config.io_threads);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            error!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config, log_level)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Raises the open-files limit so that `maxclients` connections fit (as Redis does at start), or
/// warns with the number of clients that do fit.
fn raise_fd_limit(maxclients: usize) {
    // Files besides client sockets: the listener, persistence files, the runtime's own.
    const RESERVED: u64 = 64;
    let want = maxclients as u64 + RESERVED;
    match rlimit::increase_nofile_limit(want) {
        Ok(got) if got < want => warn!(
            "open files limit is {got}: at most {} clients fit, not maxclients {maxclients}",
            got.saturating_sub(RESERVED)
        ),
        Ok(_) => {}
        Err(e) => warn!("cannot raise the open files limit: {e}"),
    }
}

/// Logs to stderr at `loglevel` (RUST_LOG overrides it). Returns the hook CONFIG SET loglevel
/// calls, or none when RUST_LOG fixed the filter.
fn init_logging(config: &Config) -> Option<LogLevelHook> {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{fmt, reload, EnvFilter};
    let from_env = EnvFilter::try_from_default_env().ok();
    let fixed = from_env.is_some();
    let filter = from_env.unwrap_or_else(|| EnvFilter::new(config.tracing_filter()));
    let (filter, handle) = reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .init();
    if fixed {
        return None;
    }
    Some(Box::new(move |directive: &str| {
        handle
            .reload(EnvFilter::new(directive))
            .map_err(|e| format!("cannot change the log level: {e}"))
    }))
}

async fn run(
    config: Config,
    log_level: Option<LogLevelHook>,
) -> Result<(), Box<dyn std::error::Error>> {
    raise_fd_limit(config.maxclients);
    let addr = std::net::SocketAddr::new(config.bind, config.port);
    let server = Server::bind(config.clone())
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = server.local_addr()?;
    info!(
        "llmcached {} listening on {local} (maxmemory {} bytes, maxclients {}, persistence {})",
        env!("CARGO_PKG_VERSION"),
        config.maxmemory,
        config.maxclients,
        persistence_summary(&config),
    );
    if config.protected_mode && config.requirepass.is_none() && !config.bind.is_loopback() {
        warn!(
            "protected mode is on and no password is set: clients from addresses other than 127.0.0.1 and ::1 are refused (-DENIED). Set --requirepass, or --protected-mode no behind a firewall."
        );
    }
    let shared = server.shared();
    if let Some(hook) = log_level {
        shared.set_log_level_hook(hook);
    }
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("signal received, shutting down");
        shared.request_shutdown(None);
    });
    server.run().await?;
    Ok(())
}

fn persistence_summary(c: &Config) -> String {
    match (c.appendonly, c.save.is_off()) {
        (false, true) => "off".into(),
        (true, _) => format!(
            "aof appendfsync {} in {}",
            c.appendfsync.as_str(),
            c.dir.display()
        ),
        (false, false) => format!("snapshots '{}' in {}", c.save, c.dir.display()),
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
