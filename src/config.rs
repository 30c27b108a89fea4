//! Raw flags and a redis.conf file -> a validated [`Config`].
//!
//! Flags carry the names a Redis operator already knows (`--port`, `--maxmemory 1gb`, ...) and each
//! may also come from an environment variable (`LLMCACHED_PORT`, ...). Parsing is in two steps, as
//! in ripgrep: clap reads [`Flags`], and [`Config::from_flags`] validates them into the typed
//! settings the server runs on, so every mistake is reported before anything starts. A config
//! file given as the first argument is read first ([`crate::conffile`]); flags override it.

use crate::cache::EvictionKind;
use clap::Parser;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The command line.
#[derive(Debug, Parser, Clone)]
#[command(
    name = "llmcached",
    version,
    about = "A Redis-protocol cache server for LLM responses",
    long_about = "llmcached speaks the Redis protocol (RESP2 and RESP3), so any Redis client is an LLM cache \
client. Besides the usual string, key and server commands it offers LLMGET / LLMSETNX / LLMABORT \
(single-flight: one caller fills a missing answer while the others wait inside the server), LLMKEY \
(canonical cache keys built from the request body) and LLMSTATS."
)]
pub struct Flags {
    /// A redis.conf-style configuration file; flags given on the command line override it.
    #[arg(value_name = "CONFIG_FILE")]
    pub config_file: Option<PathBuf>,

    /// TCP port to listen on; 0 picks a free port (the log line says which).
    #[arg(long, env = "LLMCACHED_PORT")]
    pub port: Option<u16>,

    /// Address to listen on (default 127.0.0.1; use 0.0.0.0 in a container).
    #[arg(long, env = "LLMCACHED_BIND")]
    pub bind: Option<String>,

    /// Byte budget for keys, values and per-entry overhead, e.g. 512mb, 2gb (k/m/g are powers of
    /// 1000, kb/mb/gb powers of 1024, as in redis.conf).
    #[arg(long, env = "LLMCACHED_MAXMEMORY")]
    pub maxmemory: Option<String>,

    /// Eviction when the budget is full: allkeys-lfu (TinyLFU, default) or allkeys-lru.
    #[arg(long = "maxmemory-policy", env = "LLMCACHED_MAXMEMORY_POLICY")]
    pub maxmemory_policy: Option<String>,

    /// Password clients must send with AUTH (or HELLO ... AUTH) before other commands.
    #[arg(long, env = "LLMCACHED_REQUIREPASS")]
    pub requirepass: Option<String>,

    /// Most clients connected at once; more get "-ERR max number of clients reached".
    #[arg(long, env = "LLMCACHED_MAXCLIENTS")]
    pub maxclients: Option<usize>,

    /// Close a client after this many idle seconds (0 = never).
    #[arg(long, env = "LLMCACHED_TIMEOUT")]
    pub timeout: Option<u64>,

    /// Log level: debug, verbose, notice (default), warning; RUST_LOG overrides it.
    #[arg(long, env = "LLMCACHED_LOGLEVEL")]
    pub loglevel: Option<String>,

    /// Data directory for persistence files.
    #[arg(long, env = "LLMCACHED_DIR")]
    pub dir: Option<PathBuf>,

    /// Append-only log of every write: yes (default) or no.
    #[arg(long, env = "LLMCACHED_APPENDONLY")]
    pub appendonly: Option<String>,

    /// When the log is fsynced: always (before each reply), everysec (default) or no (the OS).
    #[arg(long, env = "LLMCACHED_APPENDFSYNC")]
    pub appendfsync: Option<String>,

    /// Snapshot schedule, Redis style: "3600 1 300 100 60 10000"; "" turns snapshots off.
    #[arg(long, env = "LLMCACHED_SAVE", allow_hyphen_values = true)]
    pub save: Option<String>,

    /// Load what is valid from a log that is corrupt in the middle instead of refusing to start:
    /// yes or no (default).
    #[arg(long = "aof-load-corrupt", env = "LLMCACHED_AOF_LOAD_CORRUPT")]
    pub aof_load_corrupt: Option<String>,

    /// Largest bulk string a client may send, e.g. 512mb (Redis's proto-max-bulk-len).
    #[arg(long = "proto-max-bulk-len")]
    pub proto_max_bulk_len: Option<String>,

    /// Most bytes one command may hold while it is received, e.g. 1gb.
    #[arg(long = "client-query-buffer-limit")]
    pub client_query_buffer_limit: Option<String>,

    /// Threads that serve clients (Redis's io-threads). 1 (the default) runs every connection
    /// on one event loop, as Redis does; more spread connections over that many threads.
    #[arg(long = "io-threads", env = "LLMCACHED_IO_THREADS")]
    pub io_threads: Option<usize>,

    /// How long an LLMGET leader holds the fill lease before a waiting follower is promoted, in
    /// milliseconds (default 120000: model calls take seconds to minutes).
    #[arg(long = "llm-lease-ms", env = "LLMCACHED_LLM_LEASE_MS")]
    pub llm_lease_ms: Option<u64>,

    /// How long LLMGET waits for another caller's answer when no WAIT is given, in milliseconds
    /// (default 60000). Keep it under the client's read timeout.
    #[arg(long = "llm-wait-ms", env = "LLMCACHED_LLM_WAIT_MS")]
    pub llm_wait_ms: Option<u64>,

    /// TTL of an LLMSETNX answer stored without EX/PX, in seconds (default 86400; 0 = no TTL).
    #[arg(long = "llm-default-ttl", env = "LLMCACHED_LLM_DEFAULT_TTL")]
    pub llm_default_ttl: Option<u64>,
}

/// When the append-only log is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendFsync {
    Always,
    EverySec,
    No,
}

impl AppendFsync {
    pub fn name(self) -> &'static str {
        match self {
            AppendFsync::Always => "always",
            AppendFsync::EverySec => "everysec",
            AppendFsync::No => "no",
        }
    }
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: IpAddr,
    pub port: u16,
    pub maxmemory: u64,
    pub eviction: EvictionKind,
    pub requirepass: Option<String>,
    pub maxclients: usize,
    /// `None` = never close idle clients.
    pub timeout: Option<Duration>,
    pub loglevel: String,
    pub dir: PathBuf,
    pub appendonly: bool,
    pub appendfsync: AppendFsync,
    /// `(seconds, changes)` pairs; empty = no snapshots.
    pub save: Vec<(u64, u64)>,
    pub aof_load_corrupt: bool,
    pub proto_max_bulk_len: usize,
    pub client_query_buffer_limit: usize,
    pub io_threads: usize,
    pub llm_lease: Duration,
    pub llm_wait: Duration,
    pub llm_default_ttl: Option<Duration>,
}

/// A setting that cannot be used, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 6379,
            maxmemory: 1024 * 1024 * 1024,
            eviction: EvictionKind::TinyLfu,
            requirepass: None,
            maxclients: 10_000,
            timeout: None,
            loglevel: "notice".into(),
            dir: PathBuf::from("data"),
            appendonly: true,
            appendfsync: AppendFsync::EverySec,
            save: vec![(3600, 1), (300, 100), (60, 10_000)],
            aof_load_corrupt: false,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            io_threads: 1,
            llm_lease: Duration::from_secs(120),
            llm_wait: Duration::from_secs(60),
            llm_default_ttl: Some(Duration::from_secs(86_400)),
        }
    }
}

impl Config {
    /// Validates flags on top of the config file, if one is given, on top of the defaults.
    /// Returns the settings and the warnings the file produced (for the log).
    pub fn from_flags(flags: &Flags) -> Result<(Config, Vec<String>), ConfigError> {
        let (mut c, warnings) = match &flags.config_file {
            Some(path) => crate::conffile::load(path)?,
            None => (Config::default(), Vec::new()),
        };
        if let Some(p) = flags.port {
            c.port = p;
        }
        if let Some(b) = &flags.bind {
            c.set("bind", b)?;
        }
        let pairs: [(&str, &Option<String>); 9] = [
            ("maxmemory", &flags.maxmemory),
            ("maxmemory-policy", &flags.maxmemory_policy),
            ("loglevel", &flags.loglevel),
            ("appendonly", &flags.appendonly),
            ("appendfsync", &flags.appendfsync),
            ("save", &flags.save),
            ("aof-load-corrupt", &flags.aof_load_corrupt),
            ("proto-max-bulk-len", &flags.proto_max_bulk_len),
            (
                "client-query-buffer-limit",
                &flags.client_query_buffer_limit,
            ),
        ];
        for (name, value) in pairs {
            if let Some(v) = value {
                c.set(name, v)?;
            }
        }
        if let Some(p) = &flags.requirepass {
            c.requirepass = (!p.is_empty()).then(|| p.clone());
        }
        if let Some(n) = flags.maxclients {
            if n == 0 {
                return Err(ConfigError("maxclients must be at least 1".into()));
            }
            c.maxclients = n;
        }
        if let Some(t) = flags.timeout {
            c.timeout = (t > 0).then(|| Duration::from_secs(t));
        }
        if let Some(d) = &flags.dir {
            c.dir = d.clone();
        }
        if let Some(n) = flags.io_threads {
            c.set("io-threads", &n.to_string())?;
        }
        if let Some(ms) = flags.llm_lease_ms {
            if ms == 0 {
                return Err(ConfigError("llm-lease-ms must be at least 1".into()));
            }
            c.llm_lease = Duration::from_millis(ms);
        }
        if let Some(ms) = flags.llm_wait_ms {
            c.llm_wait = Duration::from_millis(ms);
        }
        if let Some(s) = flags.llm_default_ttl {
            c.llm_default_ttl = (s > 0).then(|| Duration::from_secs(s));
        }
        Ok((c, warnings))
    }

    /// Sets one setting from its redis.conf / CONFIG SET spelling.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let bad = |why: &str| ConfigError(format!("invalid {name} '{value}': {why}"));
        match name {
            "bind" => {
                // redis.conf allows several addresses; the first one is used.
                let first = value.split_whitespace().next().unwrap_or("");
                let first = first.trim_start_matches('-');
                self.bind = match first {
                    "localhost" => IpAddr::from([127, 0, 0, 1]),
                    "*" => IpAddr::from([0, 0, 0, 0]),
                    other => other.parse().map_err(|_| bad("not an IP address"))?,
                };
            }
            "port" => self.port = value.parse().map_err(|_| bad("not a port number"))?,
            "maxmemory" => {
                let n = parse_memory(value).ok_or_else(|| bad("not a size"))?;
                // 0 means "no limit" in Redis; a cache needs a bound, so use the default budget.
                self.maxmemory = if n == 0 {
                    Config::default().maxmemory
                } else {
                    n
                };
            }
            "maxmemory-policy" => {
                self.eviction = match value.to_ascii_lowercase().as_str() {
                    "allkeys-lfu" | "volatile-lfu" | "tinylfu" => EvictionKind::TinyLfu,
                    "allkeys-lru" | "volatile-lru" | "lru" => EvictionKind::Lru,
                    _ => return Err(bad("use allkeys-lfu or allkeys-lru")),
                }
            }
            "requirepass" => self.requirepass = (!value.is_empty()).then(|| value.to_string()),
            "maxclients" => {
                self.maxclients = match value.parse() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(bad("not a positive number")),
                }
            }
            "timeout" => {
                let t: u64 = value.parse().map_err(|_| bad("not a number of seconds"))?;
                self.timeout = (t > 0).then(|| Duration::from_secs(t));
            }
            "loglevel" => {
                let l = value.to_ascii_lowercase();
                if !matches!(
                    l.as_str(),
                    "debug" | "verbose" | "notice" | "warning" | "nothing"
                ) {
                    return Err(bad("use debug, verbose, notice, warning or nothing"));
                }
                self.loglevel = l;
            }
            "dir" => self.dir = PathBuf::from(value),
            "io-threads" => {
                self.io_threads = match value.parse() {
                    Ok(n) if (1..=128).contains(&n) => n,
                    _ => return Err(bad("a number from 1 to 128")),
                }
            }
            "appendonly" => {
                self.appendonly = parse_yes_no(value).ok_or_else(|| bad("yes or no"))?
            }
            "aof-load-corrupt" => {
                self.aof_load_corrupt = parse_yes_no(value).ok_or_else(|| bad("yes or no"))?
            }
            "appendfsync" => {
                self.appendfsync = match value.to_ascii_lowercase().as_str() {
                    "always" => AppendFsync::Always,
                    "everysec" => AppendFsync::EverySec,
                    "no" => AppendFsync::No,
                    _ => return Err(bad("use always, everysec or no")),
                }
            }
            "save" => {
                self.save = parse_save(value).ok_or_else(|| bad("pairs of seconds and changes"))?
            }
            "proto-max-bulk-len" => {
                let n = parse_memory(value).ok_or_else(|| bad("not a size"))?;
                if n < 1024 * 1024 {
                    return Err(bad("must be at least 1mb"));
                }
                self.proto_max_bulk_len = usize::try_from(n).map_err(|_| bad("too large"))?;
            }
            "client-query-buffer-limit" => {
                let n = parse_memory(value).ok_or_else(|| bad("not a size"))?;
                if n < 1024 * 1024 {
                    return Err(bad("must be at least 1mb"));
                }
                self.client_query_buffer_limit =
                    usize::try_from(n).map_err(|_| bad("too large"))?;
            }
            "llm-lease-ms" => {
                self.llm_lease = match value.parse() {
                    Ok(ms) if ms > 0 => Duration::from_millis(ms),
                    _ => return Err(bad("a positive number of milliseconds")),
                }
            }
            "llm-wait-ms" => {
                let ms = value.parse().map_err(|_| bad("a number of milliseconds"))?;
                self.llm_wait = Duration::from_millis(ms);
            }
            "llm-default-ttl" => {
                let s: u64 = value.parse().map_err(|_| bad("a number of seconds"))?;
                self.llm_default_ttl = (s > 0).then(|| Duration::from_secs(s));
            }
            _ => return Err(ConfigError(format!("unknown setting '{name}'"))),
        }
        Ok(())
    }

    /// Whether a persistence engine is needed (a log, or snapshots).
    pub fn persists(&self) -> bool {
        self.appendonly || !self.save.is_empty()
    }

    /// Every setting CONFIG GET shows, with its value.
    pub fn values(&self) -> Vec<(&'static str, String)> {
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        vec![
            ("bind", self.bind.to_string()),
            ("port", self.port.to_string()),
            ("maxmemory", self.maxmemory.to_string()),
            (
                "maxmemory-policy",
                match self.eviction {
                    EvictionKind::TinyLfu => "allkeys-lfu",
                    EvictionKind::Lru => "allkeys-lru",
                }
                .to_string(),
            ),
            ("requirepass", self.requirepass.clone().unwrap_or_default()),
            ("maxclients", self.maxclients.to_string()),
            (
                "timeout",
                self.timeout.map_or(0, |t| t.as_secs()).to_string(),
            ),
            ("loglevel", self.loglevel.clone()),
            ("dir", self.dir.display().to_string()),
            ("appendonly", yes_no(self.appendonly)),
            ("appendfsync", self.appendfsync.name().to_string()),
            ("save", self.save_string()),
            ("aof-load-corrupt", yes_no(self.aof_load_corrupt)),
            ("databases", "1".to_string()),
            ("proto-max-bulk-len", self.proto_max_bulk_len.to_string()),
            (
                "client-query-buffer-limit",
                self.client_query_buffer_limit.to_string(),
            ),
            ("protected-mode", "no".to_string()),
            ("io-threads", self.io_threads.to_string()),
            ("llm-lease-ms", self.llm_lease.as_millis().to_string()),
            ("llm-wait-ms", self.llm_wait.as_millis().to_string()),
            (
                "llm-default-ttl",
                self.llm_default_ttl.map_or(0, |t| t.as_secs()).to_string(),
            ),
        ]
    }

    /// CONFIG SET of one setting, with Redis's error texts.
    pub fn set_at_runtime(&mut self, name: &str, value: &[u8]) -> Result<(), ConfigError> {
        const MUTABLE: &[&str] = &[
            "maxmemory",
            "maxmemory-policy",
            "timeout",
            "loglevel",
            "appendfsync",
            "save",
            "requirepass",
            "maxclients",
            "proto-max-bulk-len",
            "client-query-buffer-limit",
            "llm-lease-ms",
            "llm-wait-ms",
            "llm-default-ttl",
        ];
        if !self.values().iter().any(|(n, _)| *n == name) {
            return Err(ConfigError(format!(
                "Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        }
        if !MUTABLE.contains(&name) {
            return Err(ConfigError(format!(
                "CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
            )));
        }
        let value = String::from_utf8_lossy(value);
        self.set(name, &value).map_err(|e| {
            ConfigError(format!(
                "CONFIG SET failed (possibly related to argument '{name}') - {e}"
            ))
        })
    }

    /// The `tracing` filter for `loglevel`.
    pub fn tracing_filter(&self) -> &'static str {
        match self.loglevel.as_str() {
            "debug" => "debug",
            "verbose" => "info",
            "warning" => "warn",
            "nothing" => "off",
            _ => "info",
        }
    }

    /// The `save` setting as Redis prints it ("3600 1 300 100").
    pub fn save_string(&self) -> String {
        self.save
            .iter()
            .map(|(s, c)| format!("{s} {c}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Parses a memory size with Redis's units: `k`/`m`/`g` are powers of 1000, `kb`/`mb`/`gb` powers
/// of 1024, case-insensitive; a bare number is bytes.
pub fn parse_memory(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mul)
}

fn parse_yes_no(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// Parses Redis's `save` schedule: "" or pairs of `<seconds> <changes>`.
pub fn parse_save(s: &str) -> Option<Vec<(u64, u64)>> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if !parts.len().is_multiple_of(2) {
        return None;
    }
    parts
        .chunks(2)
        .map(|p| Some((p[0].parse().ok()?, p[1].parse().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_redis_conf() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("512MB"), Some(512 << 20));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("1tb"), None);
        assert_eq!(parse_memory("x"), None);
    }

    #[test]
    fn save_schedule() {
        assert_eq!(parse_save(""), Some(vec![]));
        assert_eq!(
            parse_save("3600 1 300 100"),
            Some(vec![(3600, 1), (300, 100)])
        );
        assert_eq!(parse_save("3600"), None);
    }

    #[test]
    fn flags_override_defaults_and_are_validated() {
        let flags = Flags::parse_from([
            "llmcached",
            "--port",
            "0",
            "--maxmemory",
            "64mb",
            "--appendonly",
            "no",
            "--save",
            "",
        ]);
        let (c, warnings) = Config::from_flags(&flags).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(c.port, 0);
        assert_eq!(c.maxmemory, 64 << 20);
        assert!(!c.appendonly);
        assert!(c.save.is_empty());
        let bad = Flags::parse_from(["llmcached", "--appendfsync", "sometimes"]);
        assert!(Config::from_flags(&bad).is_err());
    }
}
