//! The llmcached binary: flags -> config, logging, bind, run until shutdown.

use llmcached::config::{Config, ConfigError, Loaded, LogFormat};
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

/// How long freed memory stays resident before mimalloc gives it back (its default is 1 s).
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (the same index in mimalloc 2 and 3);
/// libmimalloc-sys does not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Allocator settings for a server whose resident memory must follow its data (a container is
/// sized by `--maxmemory`). Measured with scripts/bench-memory.sh (docs/BENCHMARKS.md):
/// - Freed memory is purged after [`PURGE_DELAY_MS`]: under a write flood into a full cache,
///   memory freed by evictions was not reused before fresh memory was touched, and with the
///   default delay the peak of 640 MB of 64 KB values into `--maxmemory 64mb` was 1.49x the
///   budget instead of 1.20x.
/// - Transparent huge pages are off for this process, as Redis's `disable-thp yes` does: with
///   them, memory is made resident 2 MB at a time however little of it is used (about 5 MB
///   more at start). mimalloc is built not to ask for them (its `no_thp` feature, which also
///   covers what it allocates before `main`), and this turns them off where the system
///   default is `always`.
///
/// An operator's `MIMALLOC_PURGE_DELAY` or `MIMALLOC_ALLOW_THP` in the environment wins.
fn configure_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: reading and setting an option is allowed at any time; this runs before
        // the runtime's threads start.
        let current = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        // The defaults of mimalloc 3 and 2: anything else means the index names another option.
        if current == 1000 || current == 10 {
            unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
        } else {
            warn!("allocator: unexpected purge delay {current}; left as it is");
        }
    }
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes one integer argument and changes only this
        // process's memory policy.
        if unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } != 0 {
            warn!(
                "cannot disable transparent huge pages: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// mimalloc returns freed memory to the OS ("purges" it) only when some thread calls into it
/// after the purge delay: a server that goes quiet after a DEL of a big value would keep it
/// resident for good. A thread of its own asks every [`ALLOCATOR_COLLECT_EVERY`]; purging is
/// process-wide, and when nothing is due the call is a clock read.
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
    configure_allocator();
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
    let registry = tracing_subscriber::registry().with(filter);
    match config.observe.log_format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(std::io::stderr),
            )
            .init(),
        LogFormat::Text => registry
            .with(
                fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .init(),
    }
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
    if config.protected_mode
        && server.shared().acl.default_is_nopass()
        && !config.bind.is_loopback()
    {
        warn!(
            "protected mode is on and no password is set: clients from addresses other than 127.0.0.1 and ::1 are refused (-DENIED). Set --requirepass, or --protected-mode no behind a firewall."
        );
    }
    let shared = server.shared();
    if config.observe.metrics_port != 0 {
        let bind = config.observe.metrics_bind.unwrap_or(config.bind);
        let addr = std::net::SocketAddr::new(bind, config.observe.metrics_port);
        let metrics = llmcached::metrics::http::MetricsListener::bind(addr, shared.clone())
            .await
            .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
        info!("metrics on http://{}/metrics", metrics.local_addr()?);
        tokio::spawn(metrics.run());
    }
    tokio::spawn(llmcached::metrics::watch::run(shared.clone()));
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
