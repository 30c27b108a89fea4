//! THE settings table: every setting llmcached has, declared once.
//!
//! Each [`Setting`] row carries its Redis name (the redis.conf directive and the CONFIG GET / SET
//! parameter), the flag `--<name>`, the environment variable `LLMCACHED_<NAME>`, its default, its
//! help, how a value is applied to a [`Config`], how CONFIG GET shows it, and whether CONFIG SET
//! may change it while the server runs. The rows drive the command line and `--help`
//! (`cli`), the environment, redis.conf directives ([`super::file`]), CONFIG GET / SET
//! ([`Config::show`], [`Config::set`]) and the README's flag table (a test compares them).
//!
//! Adding a setting: a field on [`Config`] (and its `Default`), one row here, one README row.

use super::security;
pub use super::setting::Setting;
use super::values::{self, LogLevel, Password, Reason};
use super::Config;
use crate::cache::EvictionKind;
use crate::persistence::{FsyncPolicy, SaveSchedule};
use std::time::Duration;

mod compression;
mod databases;
mod embedding;
mod keying;
mod observe;
mod scale;
mod script;
pub use embedding::EmbeddingConfig;
pub use observe::{LogFormat, ObserveConfig};
pub use scale::{ClusterMode, ScaleConfig};

/// Redis's other names for settings: the alias, then the setting's name.
pub const ALIASES: &[(&str, &str)] = &[("lua-time-limit", "busy-reply-threshold")];

/// The row named `name` (or one of Redis's aliases of it), any case.
pub fn find(name: &str) -> Option<&'static Setting> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map_or(name, |(_, real)| real);
    SETTINGS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// Redis's bound for `long long` settings.
const LLONG_MAX: i128 = i64::MAX as i128;

const POLICIES: &[(&str, EvictionKind)] = &[
    ("allkeys-lfu", EvictionKind::TinyLfu),
    ("volatile-lfu", EvictionKind::TinyLfu),
    ("tinylfu", EvictionKind::TinyLfu),
    ("allkeys-lru", EvictionKind::Lru),
    ("volatile-lru", EvictionKind::Lru),
    ("lru", EvictionKind::Lru),
    ("noeviction", EvictionKind::NoEviction),
];

/// Every setting, in the order `--help`, CONFIG GET and the README list them.
pub static SETTINGS: &[Setting] = &[
    Setting {
        name: "port",
        flag: true,
        env: "LLMCACHED_PORT",
        value_name: "PORT",
        default: "6379",
        help: "TCP port to listen on; 0 picks a free port (the log line says which).",
        mutable: false,
        apply: |c, v| {
            c.port = values::int(v, 0, 65535)?;
            Ok(())
        },
        show: |c| values::show(c.port),
    },
    Setting {
        name: "bind",
        flag: true,
        env: "LLMCACHED_BIND",
        value_name: "ADDR",
        default: "127.0.0.1",
        help: "Address to listen on (0.0.0.0 in a container); of several, as redis.conf allows, the first is used.",
        mutable: false,
        apply: |c, v| {
            c.bind = values::ip(v)?;
            Ok(())
        },
        show: |c| values::show(c.bind),
    },
    Setting {
        name: "protected-mode",
        flag: true,
        env: "LLMCACHED_PROTECTED_MODE",
        value_name: "yes|no",
        default: "yes",
        help: "With yes and no password for the default user (requirepass, user default or the aclfile), only clients on the loopback interface are served, as in Redis.",
        mutable: true,
        apply: |c, v| {
            c.protected_mode = values::yes_no(v)?;
            Ok(())
        },
        show: |c| values::show_yes_no(c.protected_mode),
    },
    Setting {
        name: "requirepass",
        flag: true,
        env: "LLMCACHED_REQUIREPASS",
        value_name: "PASSWORD",
        default: "",
        help: "Password clients must send with AUTH (or HELLO ... AUTH) before other commands; empty means none.",
        mutable: true,
        apply: |c, v| {
            c.requirepass = (!v.is_empty()).then(|| Password::new(v));
            Ok(())
        },
        show: |c| c.requirepass.as_ref().map(|p| p.as_bytes().to_vec()).unwrap_or_default(),
    },
    Setting {
        name: "maxclients",
        flag: true,
        env: "LLMCACHED_MAXCLIENTS",
        value_name: "N",
        default: "10000",
        help: "Most clients connected at once; more get -ERR max number of clients reached.",
        mutable: true,
        apply: |c, v| {
            c.maxclients = values::int(v, 1, u32::MAX.into())?;
            Ok(())
        },
        show: |c| values::show(c.maxclients),
    },
    Setting {
        name: "timeout",
        flag: true,
        env: "LLMCACHED_TIMEOUT",
        value_name: "SECONDS",
        default: "0",
        help: "Close a client after this many idle seconds (0 = never).",
        mutable: true,
        apply: |c, v| {
            let t: u64 = values::int(v, 0, i32::MAX.into())?;
            c.timeout = (t > 0).then(|| Duration::from_secs(t));
            Ok(())
        },
        show: |c| values::show(c.timeout.map_or(0, |t| t.as_secs())),
    },
    Setting {
        name: "maxmemory",
        flag: true,
        env: "LLMCACHED_MAXMEMORY",
        value_name: "BYTES",
        default: "1gb",
        help: "Byte budget for keys, values and about 530 bytes of overhead per entry, e.g. 512mb or 2gb (k, m, g are powers of 1000, kb, mb, gb powers of 1024, as in redis.conf); 0 means the default.",
        mutable: true,
        apply: |c, v| {
            let n = values::memory(v)?;
            // 0 means "no limit" in Redis; a cache needs a bound, so it means the default budget.
            c.maxmemory = if n == 0 { Config::default().maxmemory } else { n };
            Ok(())
        },
        show: |c| values::show(c.maxmemory),
    },
    Setting {
        name: "maxmemory-policy",
        flag: true,
        env: "LLMCACHED_MAXMEMORY_POLICY",
        value_name: "POLICY",
        default: "allkeys-lfu",
        help: "Eviction when the budget is full: allkeys-lfu (TinyLFU: a burst of one-off keys cannot flush the hot set; a brand-new key may be refused when the cache is full of hotter ones) or allkeys-lru; volatile-lfu and volatile-lru act as these; noeviction keeps every key and refuses the commands that would grow memory with -OOM (for queues and locks that must not lose keys).",
        mutable: true,
        apply: |c, v| {
            c.eviction = values::one_of(
                v,
                POLICIES,
                "allkeys-lfu, allkeys-lru, volatile-lfu, volatile-lru, noeviction",
            )?;
            Ok(())
        },
        show: |c| {
            match c.eviction {
                EvictionKind::TinyLfu => "allkeys-lfu",
                EvictionKind::Lru => "allkeys-lru",
                EvictionKind::NoEviction => "noeviction",
            }
            .into()
        },
    },
    Setting {
        name: "loglevel",
        flag: true,
        env: "LLMCACHED_LOGLEVEL",
        value_name: "LEVEL",
        default: "notice",
        help: "Log level: debug, verbose, notice, warning or nothing; RUST_LOG overrides it.",
        mutable: true,
        apply: |c, v| {
            c.loglevel = values::one_of(
                v,
                LogLevel::CHOICES,
                "debug, verbose, notice, warning, nothing",
            )?;
            Ok(())
        },
        show: |c| c.loglevel.as_str().into(),
    },
    Setting {
        name: "dir",
        flag: true,
        env: "LLMCACHED_DIR",
        value_name: "PATH",
        default: "data",
        help: "Data directory for persistence files.",
        mutable: false,
        apply: |c, v| {
            c.dir = values::path(v);
            Ok(())
        },
        show: |c| values::show_path(&c.dir),
    },
    Setting {
        name: "appendonly",
        flag: true,
        env: "LLMCACHED_APPENDONLY",
        value_name: "yes|no",
        default: "yes",
        help: "Append-only log of every write.",
        mutable: false,
        apply: |c, v| {
            c.appendonly = values::yes_no(v)?;
            Ok(())
        },
        show: |c| values::show_yes_no(c.appendonly),
    },
    Setting {
        name: "appendfsync",
        flag: true,
        env: "LLMCACHED_APPENDFSYNC",
        value_name: "POLICY",
        default: "everysec",
        help: "When the log is fsynced: always (before each reply), everysec, or no (left to the OS).",
        mutable: true,
        apply: |c, v| {
            c.appendfsync = values::utf8(v).and_then(FsyncPolicy::parse).ok_or_else(|| {
                Reason::from("argument(s) must be one of the following: everysec, always, no")
            })?;
            Ok(())
        },
        show: |c| c.appendfsync.as_str().into(),
    },
    Setting {
        name: "save",
        flag: true,
        env: "LLMCACHED_SAVE",
        value_name: "SCHEDULE",
        default: crate::persistence::DEFAULT_SAVE,
        help: "Snapshot schedule, pairs of seconds and changes as in redis.conf; \"\" turns snapshots off.",
        mutable: true,
        apply: |c, v| {
            let text = values::utf8(v).ok_or_else(|| Reason::from("Invalid save parameters"))?;
            c.save = SaveSchedule::parse(text).map_err(|e| e.0)?;
            Ok(())
        },
        show: |c| values::show(&c.save),
    },
    Setting {
        name: "aof-load-corrupt",
        flag: true,
        env: "LLMCACHED_AOF_LOAD_CORRUPT",
        value_name: "yes|no",
        default: "no",
        help: "Load what is valid from a log that is corrupt in the middle instead of refusing to start.",
        mutable: false,
        apply: |c, v| {
            c.aof_load_corrupt = values::yes_no(v)?;
            Ok(())
        },
        show: |c| values::show_yes_no(c.aof_load_corrupt),
    },
    Setting {
        name: "io-threads",
        flag: true,
        env: "LLMCACHED_IO_THREADS",
        value_name: "N",
        default: "1",
        help: "Threads that serve clients; 1 runs every connection on one event loop, as Redis does.",
        mutable: false,
        apply: |c, v| {
            c.io_threads = values::int(v, 1, 128)?;
            Ok(())
        },
        show: |c| values::show(c.io_threads),
    },
    Setting {
        name: "proto-max-bulk-len",
        flag: true,
        env: "LLMCACHED_PROTO_MAX_BULK_LEN",
        value_name: "BYTES",
        default: "512mb",
        help: "Largest bulk string a client may send (at least 1mb).",
        mutable: true,
        apply: |c, v| {
            c.proto_max_bulk_len = values::protocol_limit(v)?;
            Ok(())
        },
        show: |c| values::show(c.proto_max_bulk_len),
    },
    Setting {
        name: "client-query-buffer-limit",
        flag: true,
        env: "LLMCACHED_CLIENT_QUERY_BUFFER_LIMIT",
        value_name: "BYTES",
        default: "1gb",
        help: "Most bytes one command may hold while it is received (at least 1mb).",
        mutable: true,
        apply: |c, v| {
            c.client_query_buffer_limit = values::protocol_limit(v)?;
            Ok(())
        },
        show: |c| values::show(c.client_query_buffer_limit),
    },
    Setting {
        name: "llm-lease-ms",
        flag: true,
        env: "LLMCACHED_LLM_LEASE_MS",
        value_name: "MS",
        default: "120000",
        help: "How long an LLMGET leader holds the fill lease before a waiting follower is promoted, in milliseconds (model calls take seconds to minutes).",
        mutable: true,
        apply: |c, v| {
            c.llm_lease = Duration::from_millis(values::int(v, 1, LLONG_MAX)?);
            Ok(())
        },
        show: |c| values::show(c.llm_lease.as_millis()),
    },
    Setting {
        name: "llm-wait-ms",
        flag: true,
        env: "LLMCACHED_LLM_WAIT_MS",
        value_name: "MS",
        default: "60000",
        help: "How long LLMGET waits for another caller's answer when no WAIT is given, in milliseconds; keep it under the client's read timeout.",
        mutable: true,
        apply: |c, v| {
            c.llm_wait = Duration::from_millis(values::int(v, 0, LLONG_MAX)?);
            Ok(())
        },
        show: |c| values::show(c.llm_wait.as_millis()),
    },
    Setting {
        name: "llm-default-ttl",
        flag: true,
        env: "LLMCACHED_LLM_DEFAULT_TTL",
        value_name: "SECONDS",
        default: "86400",
        help: "TTL in seconds of an LLMSETNX answer stored without EX or PX (0 = no TTL).",
        mutable: true,
        apply: |c, v| {
            // As EX: the TTL in milliseconds must fit a signed 64-bit number.
            let s: u64 = values::int(v, 0, LLONG_MAX / 1000)?;
            c.llm_default_ttl = (s > 0).then(|| Duration::from_secs(s));
            Ok(())
        },
        show: |c| values::show(c.llm_default_ttl.map_or(0, |t| t.as_secs())),
    },
    // ACL and TLS (declared in `security`).
    security::ACLFILE,
    security::ACLLOG_MAX_LEN,
    security::LLM_KEY_NAMESPACE,
    security::TLS_PORT,
    security::TLS_CERT_FILE,
    security::TLS_KEY_FILE,
    security::TLS_KEY_FILE_PASS,
    security::TLS_CA_CERT_FILE,
    security::TLS_CA_CERT_DIR,
    security::TLS_AUTH_CLIENTS,
    security::TLS_PROTOCOLS,
    security::TLS_CIPHERSUITES,
    Setting {
        name: "llm-stream-max-bytes",
        flag: true,
        env: "LLMCACHED_LLM_STREAM_MAX_BYTES",
        value_name: "BYTES",
        default: "16mb",
        help: "Most bytes one answer may hold while it is streamed with LLMAPPEND, e.g. 16mb (units as maxmemory).",
        mutable: true,
        apply: |c, v| {
            c.llm_stream_max_bytes = values::memory_in(v, 1, i64::MAX as u64)?;
            Ok(())
        },
        show: |c| values::show(c.llm_stream_max_bytes),
    },
    Setting {
        name: "llm-default-grace",
        flag: true,
        env: "LLMCACHED_LLM_DEFAULT_GRACE",
        value_name: "SECONDS",
        default: "0",
        help: "Seconds an answer stored without GRACE may still be served stale after its TTL, while one caller refreshes it (0 = never stale).",
        mutable: true,
        apply: |c, v| {
            c.llm_default_grace = Duration::from_secs(values::int(v, 0, LLONG_MAX / 1000)?);
            Ok(())
        },
        show: |c| values::show(c.llm_default_grace.as_secs()),
    },
    Setting {
        name: "llm-max-backoff-ms",
        flag: true,
        env: "LLMCACHED_LLM_MAX_BACKOFF_MS",
        value_name: "MS",
        default: "60000",
        help: "Longest window in milliseconds that LLMABORT ... BACKOFF may close a key's lease for; longer requests are cut to it.",
        mutable: true,
        apply: |c, v| {
            c.llm_max_backoff = Duration::from_millis(values::int(v, 0, LLONG_MAX)?);
            Ok(())
        },
        show: |c| values::show(c.llm_max_backoff.as_millis() as u64),
    },
    databases::DATABASES,
    observe::SLOWLOG_LOG_SLOWER_THAN,
    observe::SLOWLOG_MAX_LEN,
    observe::LATENCY_MONITOR_THRESHOLD,
    observe::LATENCY_TRACKING,
    observe::LATENCY_TRACKING_INFO_PERCENTILES,
    observe::METRICS_PORT,
    observe::METRICS_BIND,
    observe::METRICS_MAX_MODELS,
    observe::LOG_FORMAT,
    script::BUSY_REPLY_THRESHOLD,
    keying::LLM_KEY_OFFLOAD_BYTES,
    scale::SHARED_TIER,
    scale::SHARED_TIER_CLUSTER,
    scale::SHARED_TIMEOUT_MS,
    scale::SHARED_POLL_MS,
    scale::SHARED_NEAR_TTL,
    scale::SHARED_RETRY_MS,
    scale::CLUSTER_MODE,
    scale::CLUSTER_ANNOUNCE_IP,
    scale::CLUSTER_ANNOUNCE_PORT,
    compression::COMPRESSION,
    compression::COMPRESSION_MIN_BYTES,
    embedding::EMBEDDING_MODEL,
    embedding::EMBEDDING_THREADS,
];

#[cfg(test)]
mod tests;
