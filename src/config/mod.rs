//! Flags, environment variables and redis.conf files -> one validated [`Config`].
//!
//! Every setting is declared once, as a row of [`SETTINGS`]; the rows drive the command line,
//! `--help`, the `LLMCACHED_*` environment variables, the redis.conf directives, CONFIG GET / SET
//! and the README's flag table. Parsing is in two steps, as in ripgrep: raw values are collected
//! from each source, then each is applied through its row into a typed [`Config`], so every
//! mistake is reported before anything starts.
//!
//! # Precedence
//! Defaults, then the config file given as the first argument ([`mod@file`]), then environment
//! variables, then flags: a flag wins over its variable, both win over the file.
//!
//! # Layout
//! - [`settings`]: the table and [`Setting`].
//! - `error`: [`SettingError`] (CONFIG SET's error texts) and [`ConfigError`].
//! - [`values`]: value parsers (memory sizes, yes/no, ranges) and small value types.
//! - [`mod@file`]: redis.conf reading (`include`, `save` lines, ignored and refused directives);
//!   `ignored`: the Redis directives it accepts without effect.
//! - `cli`: the clap command built from the table.
//! - `checks`: settings valid alone but not together (emulated cluster mode's address).

mod checks;
mod cli;
mod error;
pub mod file;
mod ignored;
pub mod security;
mod setting;
pub mod settings;
pub mod values;

pub use error::{ConfigError, SettingError};
pub use security::{AclSettings, TlsAuth, TlsSettings};
pub use settings::{
    find, ClusterMode, EmbeddingConfig, LogFormat, ObserveConfig, ScaleConfig, Setting, ALIASES,
    SETTINGS,
};
pub use values::{LogLevel, Password};

use crate::cache::EvictionKind;
use crate::persistence::{FsyncPolicy, SaveSchedule, DEFAULT_SAVE};
use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Validated settings. Field by field, the meaning is the help of the row of the same name in
/// [`SETTINGS`]; `Config::default()` is what applying every row's default gives (tested).
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: IpAddr,
    pub port: u16,
    /// Redis's protected mode: with no password, serve loopback clients only.
    pub protected_mode: bool,
    pub requirepass: Option<Password>,
    pub maxclients: usize,
    /// `None` = never close idle clients.
    pub timeout: Option<Duration>,
    pub maxmemory: u64,
    pub eviction: EvictionKind,
    pub loglevel: LogLevel,
    pub dir: PathBuf,
    pub appendonly: bool,
    pub appendfsync: FsyncPolicy,
    /// Empty (`SaveSchedule::default()`) = no snapshots.
    pub save: SaveSchedule,
    pub aof_load_corrupt: bool,
    pub io_threads: usize,
    pub proto_max_bulk_len: usize,
    pub client_query_buffer_limit: usize,
    pub llm_lease: Duration,
    pub llm_wait: Duration,
    /// `None` = LLMSETNX answers without EX/PX do not expire.
    pub llm_default_ttl: Option<Duration>,
    /// Most bytes one streamed answer may hold while it is produced (LLMAPPEND).
    pub llm_stream_max_bytes: u64,
    /// How long an answer stored without GRACE may be served stale after its fresh life.
    pub llm_default_grace: Duration,
    /// The longest `LLMABORT ... BACKOFF ms` window; longer requests are cut to it.
    pub llm_max_backoff: Duration,
    /// LLMKEY bodies of at least this many bytes are keyed off the event loop; 0 = never.
    pub llm_key_offload_bytes: u64,
    /// SLOWLOG, LATENCY, the metrics endpoint and the log format.
    pub observe: ObserveConfig,
    /// The shared tier and emulated cluster mode.
    pub scale: ScaleConfig,
    /// Whether and from what length string values are stored compressed.
    pub compression: crate::cache::pack::Policy,
    /// The sentence-embedding model run in the server, if any.
    pub embedding: EmbeddingConfig,
    /// How long a script runs before other clients get `-BUSY` (busy-reply-threshold).
    pub busy_reply_threshold: Duration,
    /// How many numbered databases SELECT reaches (`databases`).
    pub databases: usize,
    /// ACL users and tenant namespaces ([`security`]).
    pub acl: AclSettings,
    /// The TLS port and its certificates ([`security`]).
    pub tls: TlsSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 6379,
            protected_mode: true,
            requirepass: None,
            maxclients: 10_000,
            timeout: None,
            maxmemory: 1024 * 1024 * 1024,
            eviction: EvictionKind::TinyLfu,
            loglevel: LogLevel::Notice,
            dir: PathBuf::from("data"),
            appendonly: true,
            appendfsync: FsyncPolicy::EverySec,
            save: SaveSchedule::parse(DEFAULT_SAVE).expect("the default schedule parses"),
            aof_load_corrupt: false,
            io_threads: 1,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            llm_lease: Duration::from_secs(120),
            llm_wait: Duration::from_secs(60),
            llm_default_ttl: Some(Duration::from_secs(86_400)),
            llm_stream_max_bytes: 16 * 1024 * 1024,
            llm_default_grace: Duration::ZERO,
            llm_max_backoff: Duration::from_secs(60),
            llm_key_offload_bytes: 64 * 1024,
            observe: ObserveConfig::default(),
            scale: ScaleConfig::default(),
            compression: crate::cache::pack::Policy::default(),
            embedding: EmbeddingConfig {
                model: None,
                threads: 1,
            },
            busy_reply_threshold: Duration::from_millis(5000),
            databases: 16,
            acl: AclSettings::default(),
            tls: TlsSettings::default(),
        }
    }
}

/// What the command line produced: the settings, the warnings the config file gave (for the
/// log, once logging is set up) and the file's path.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
    pub config_file: Option<PathBuf>,
}

impl Config {
    /// Reads the command line (`args[0]` is the program name) and the process environment:
    /// `llmcached [CONFIG_FILE] [--<setting> <value> ...]`.
    pub fn from_args<I, T>(args: I) -> Result<Loaded, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Config::from_args_env(args, |name| std::env::var_os(name))
    }

    /// [`Config::from_args`] with the environment given as a lookup (tests pass their own).
    pub fn from_args_env<I, T>(
        args: I,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Loaded, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let given = cli::parse(args).map_err(ConfigError::Args)?;
        let (mut config, warnings) = match &given.config_file {
            Some(path) => file::load(path)?,
            None => (Config::default(), Vec::new()),
        };
        for s in SETTINGS.iter().filter(|s| s.flag) {
            let value = match given.flags.iter().find(|(name, _)| *name == s.name) {
                Some((_, v)) => Some(v.clone()),
                None => env(s.env).map(|v| v.as_encoded_bytes().to_vec()),
            };
            if let Some(v) = value {
                s.apply(&mut config, &v)
                    .map_err(|e| ConfigError::invalid(e, &v))?;
            }
        }
        checks::check(&config)?;
        Ok(Loaded {
            config,
            warnings,
            config_file: given.config_file,
        })
    }

    /// CONFIG SET of one setting: `name` in any case, `value` as the client sent it. A setting
    /// that is not mutable is refused; on any error `self` is unchanged.
    ///
    /// This only changes the value; acting on it (resizing the store, ...) is the caller's job.
    pub fn set(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), SettingError> {
        let s = find(name).ok_or_else(|| SettingError::Unknown(name.to_string()))?;
        if !s.mutable {
            return Err(SettingError::Immutable(name.to_string()));
        }
        s.apply(self, value.as_ref())
    }

    /// CONFIG GET of one setting (any case), or `None` for a name that is not a setting.
    pub fn show(&self, name: &str) -> Option<Vec<u8>> {
        find(name).map(|s| s.show(self))
    }

    /// The `tracing` filter for `loglevel`.
    pub fn tracing_filter(&self) -> &'static str {
        self.loglevel.tracing_filter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    #[test]
    fn flags_override_defaults_and_are_validated() {
        let args = [
            "llmcached",
            "--port",
            "0",
            "--maxmemory",
            "64mb",
            "--appendonly",
            "no",
            "--save",
            "",
        ];
        let loaded = Config::from_args_env(args, no_env).unwrap();
        assert!(loaded.warnings.is_empty());
        assert!(loaded.config_file.is_none());
        let c = loaded.config;
        assert_eq!(c.port, 0);
        assert_eq!(c.maxmemory, 64 << 20);
        assert!(!c.appendonly);
        assert!(c.save.is_off());
        let e =
            Config::from_args_env(["llmcached", "--appendfsync", "sometimes"], no_env).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid appendfsync 'sometimes': argument(s) must be one of the following: everysec, always, no"
        );
    }

    #[test]
    fn environment_is_under_flags_and_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("redis.conf");
        std::fs::write(&conf, "port 7001\ntimeout 5\nmaxclients 7\n").unwrap();
        let env = |name: &str| match name {
            "LLMCACHED_PORT" => Some(OsString::from("7002")),
            "LLMCACHED_TIMEOUT" => Some(OsString::from("6")),
            _ => None,
        };
        let args = [
            OsString::from("llmcached"),
            conf.clone().into_os_string(),
            "--port".into(),
            "7003".into(),
        ];
        let loaded = Config::from_args_env(args, env).unwrap();
        assert_eq!(loaded.config_file.as_deref(), Some(conf.as_path()));
        let c = loaded.config;
        assert_eq!(c.port, 7003, "the flag wins");
        assert_eq!(
            c.timeout,
            Some(Duration::from_secs(6)),
            "the variable wins over the file"
        );
        assert_eq!(c.maxclients, 7, "the file wins over the default");
    }

    #[test]
    fn every_flag_is_read_from_its_environment_variable() {
        for s in SETTINGS.iter().filter(|s| s.flag) {
            // One control byte: refused by every setting but the free-text ones, which keep it.
            let env = |name: &str| (name == s.env).then(|| OsString::from("\u{1}"));
            match Config::from_args_env(["llmcached"], env) {
                Ok(loaded) => assert_eq!(s.show(&loaded.config), b"\x01", "{}", s.name),
                Err(ConfigError::Invalid {
                    error: SettingError::BadValue { name, .. },
                    ..
                }) => assert_eq!(name, s.name),
                Err(e) => panic!("{}: {e}", s.name),
            }
        }
    }

    #[test]
    fn non_utf8_flag_values_stay_raw_bytes() {
        use std::os::unix::ffi::OsStringExt;
        let args = [
            OsString::from("llmcached"),
            OsString::from("--requirepass"),
            OsString::from_vec(b"\xffpw".to_vec()),
        ];
        let c = Config::from_args_env(args, no_env).unwrap().config;
        assert_eq!(c.requirepass.unwrap().as_bytes(), b"\xffpw");
    }

    #[test]
    fn help_and_version_are_clap_errors_for_main_to_print() {
        for flag in ["--help", "--version"] {
            match Config::from_args_env(["llmcached", flag], no_env) {
                Err(ConfigError::Args(e)) => assert_eq!(e.exit_code(), 0, "{flag}"),
                other => panic!("{flag}: {other:?}"),
            }
        }
        match Config::from_args_env(["llmcached", "--frobnicate", "1"], no_env) {
            Err(ConfigError::Args(e)) => assert_eq!(e.exit_code(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn config_set_refuses_unknown_and_immutable_and_keeps_the_old_value() {
        let mut c = Config::default();
        assert_eq!(
            c.set("FROB", "1"),
            Err(SettingError::Unknown("FROB".into()))
        );
        assert_eq!(
            c.set("Port", "7000"),
            Err(SettingError::Immutable("Port".into()))
        );
        assert_eq!(
            c.set("databases", "8"),
            Err(SettingError::Immutable("databases".into()))
        );
        assert!(c.set("maxmemory", "lots").is_err());
        assert_eq!(c.show("maxmemory").unwrap(), b"1073741824");
        c.set("MAXMEMORY", "64mb").unwrap();
        assert_eq!(c.show("maxmemory").unwrap(), b"67108864");
        c.set("requirepass", b"\xff").unwrap();
        assert_eq!(c.show("requirepass").unwrap(), b"\xff");
        assert_eq!(c.show("databases").unwrap(), b"16");
        assert_eq!(c.show("nope"), None);
    }

    #[test]
    fn the_mutable_settings_are_the_ones_redis_lets_config_set_change() {
        let mutable: Vec<&str> = SETTINGS
            .iter()
            .filter(|s| s.mutable)
            .map(|s| s.name)
            .collect();
        assert_eq!(
            mutable,
            [
                "protected-mode",
                "requirepass",
                "maxclients",
                "timeout",
                "maxmemory",
                "maxmemory-policy",
                "loglevel",
                "appendfsync",
                "save",
                "proto-max-bulk-len",
                "client-query-buffer-limit",
                "llm-lease-ms",
                "llm-wait-ms",
                "llm-default-ttl",
                "acllog-max-len",
                "llm-key-namespace",
                "tls-cert-file",
                "tls-key-file",
                "tls-key-file-pass",
                "tls-ca-cert-file",
                "tls-ca-cert-dir",
                "tls-auth-clients",
                "tls-protocols",
                "tls-ciphersuites",
                "llm-stream-max-bytes",
                "llm-default-grace",
                "llm-max-backoff-ms",
                "slowlog-log-slower-than",
                "slowlog-max-len",
                "latency-monitor-threshold",
                "latency-tracking",
                "latency-tracking-info-percentiles",
                "metrics-max-models",
                "busy-reply-threshold",
                "llm-key-offload-bytes",
                "compression",
                "compression-min-bytes",
            ]
        );
    }

    /// Each row's own checks, with Redis 7.0's reasons for the same values.
    #[test]
    fn bad_values_get_redis_reasons() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("port", b"x", "argument couldn't be parsed into an integer"),
            ("port", b"70000", "argument must be between 0 and 65535 inclusive"),
            ("timeout", b"-1", "argument must be between 0 and 2147483647 inclusive"),
            ("maxclients", b"0", "argument must be between 1 and 4294967295 inclusive"),
            ("maxmemory", b"-1", "argument must be a memory value"),
            ("maxmemory-policy", b"allkeys-random", "argument(s) must be one of the following: allkeys-lfu, allkeys-lru, volatile-lfu, volatile-lru, noeviction"),
            ("loglevel", b"loud", "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"),
            ("appendfsync", b"sometimes", "argument(s) must be one of the following: everysec, always, no"),
            ("save", b"3600", "Invalid save parameters"),
            ("save", b"3600 x", "Invalid save parameters"),
            ("protected-mode", b"maybe", "argument must be 'yes' or 'no'"),
            ("appendonly", b"maybe", "argument must be 'yes' or 'no'"),
            ("proto-max-bulk-len", b"10", "argument must be between 1048576 and 9223372036854775807 inclusive"),
            ("client-query-buffer-limit", b"x", "argument must be a memory value"),
            ("io-threads", b"129", "argument must be between 1 and 128 inclusive"),
            ("llm-lease-ms", b"0", "argument must be between 1 and 9223372036854775807 inclusive"),
            ("bind", b"nowhere", "argument must be an IP address"),
        ];
        for (name, value, reason) in cases {
            let mut c = Config::default();
            let before = format!("{c:?}");
            let e = find(name).unwrap().apply(&mut c, value).unwrap_err();
            assert_eq!(
                e,
                SettingError::BadValue {
                    name: find(name).unwrap().name,
                    reason: reason.to_string()
                },
                "{name}"
            );
            assert_eq!(
                format!("{c:?}"),
                before,
                "{name}: a refused value changes nothing"
            );
        }
    }

    #[test]
    fn values_are_applied_and_shown() {
        let cases: &[(&str, &[u8], &[u8])] = &[
            ("maxmemory", b"64mb", b"67108864"),
            ("maxmemory", b"0", b"1073741824"),
            ("maxmemory-policy", b"VOLATILE-LRU", b"allkeys-lru"),
            ("timeout", b"30", b"30"),
            ("loglevel", b"WARNING", b"warning"),
            ("appendfsync", b"Always", b"always"),
            ("save", b"900 1  300 10", b"900 1 300 10"),
            ("save", b"", b""),
            ("requirepass", b"\xffpass", b"\xffpass"),
            ("bind", b"* -::1", b"0.0.0.0"),
            ("bind", b"localhost", b"127.0.0.1"),
            ("llm-default-ttl", b"0", b"0"),
            ("databases", b"4", b"4"),
        ];
        for (name, value, shown) in cases {
            let s = find(name).unwrap();
            let mut c = Config::default();
            s.apply(&mut c, value).unwrap();
            assert_eq!(s.show(&c), shown.to_vec(), "{name}");
        }
    }
}
