//! redis.conf files -> settings on a [`Config`].
//!
//! `llmcached /etc/llmcached/redis.conf --port 7000` reads the file first, then lets flags (and
//! their environment variables) override it. The syntax is Redis's: one directive per line, a
//! `#` line is a comment, blank lines are skipped, directive names are case-insensitive, and
//! arguments are split as Redis splits them (`"double quotes"` with `\n \r \t \b \a \\ \" \xHH`
//! escapes, `'single quotes'` with `\'`, an empty argument is `""`).
//!
//! # What a directive does
//! - A setting llmcached has (see [`SETTINGS`]) goes through [`Config::set`]; a bad value is an
//!   error naming the file and the line, and the server does not start.
//! - `save` lines accumulate, as in Redis: the first one in the files replaces the default
//!   schedule, later ones add to it, and `save ""` clears it.
//! - `include path` reads another file at that point (relative paths are relative to the working
//!   directory, as in Redis).
//! - A Redis directive with no meaning here (see [`IGNORED`]) is accepted silently, so a stock
//!   redis.conf works. A few of them matter when given a value llmcached cannot honour
//!   (`daemonize yes`, `logfile <path>`, `unixsocket <path>`): those produce a warning.
//! - Directives that would leave the server less protected than the file asks if they were
//!   ignored (ACL `user` / `aclfile`, TLS ports) are errors.
//! - Anything else produces a warning (`unknown directive 'x' at line N of FILE: ignored`), where
//!   Redis would refuse to start: a newer redis.conf should not keep a cache from starting.

use crate::config::{Config, ConfigError};
use std::path::Path;

/// Directives applied with [`Config::set`], by their redis.conf name. The rest of a line (one
/// argument, or several joined by spaces for `bind`) is the value.
pub const SETTINGS: &[&str] = &[
    "bind",
    "port",
    "requirepass",
    "maxmemory",
    "maxmemory-policy",
    "maxclients",
    "timeout",
    "loglevel",
    "dir",
    "appendonly",
    "appendfsync",
    "aof-load-corrupt",
    "proto-max-bulk-len",
    "client-query-buffer-limit",
    "io-threads",
    "llm-lease-ms",
    "llm-wait-ms",
    "llm-default-ttl",
];

/// Redis directives accepted and ignored: they tune things llmcached does not have (RDB files,
/// replication, encodings of other types, the event loop) or that it does its own way.
pub const IGNORED: &[&str] = &[
    "activedefrag",
    "active-defrag-cycle-max",
    "active-defrag-cycle-min",
    "active-defrag-ignore-bytes",
    "active-defrag-max-scan-fields",
    "active-defrag-threshold-lower",
    "active-defrag-threshold-upper",
    "active-expire-effort",
    "activerehashing",
    "acllog-max-len",
    "always-show-logo",
    "aof-load-truncated",
    "aof-rewrite-incremental-fsync",
    "aof-timestamp-enabled",
    "aof-use-rdb-preamble",
    "appenddirname",
    "appendfilename",
    "auto-aof-rewrite-min-size",
    "auto-aof-rewrite-percentage",
    "busy-reply-threshold",
    "client-output-buffer-limit",
    "crash-log-enabled",
    "crash-memcheck-enabled",
    "databases",
    "dbfilename",
    "disable-thp",
    "dynamic-hz",
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "hash-max-ziplist-entries",
    "hash-max-ziplist-value",
    "hll-sparse-max-bytes",
    "hz",
    "io-threads-do-reads",
    "jemalloc-bg-thread",
    "latency-monitor-threshold",
    "latency-tracking",
    "latency-tracking-info-percentiles",
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
    "lfu-decay-time",
    "lfu-log-factor",
    "list-compress-depth",
    "list-max-listpack-size",
    "list-max-ziplist-size",
    "locale-collate",
    "lua-time-limit",
    "maxmemory-clients",
    "maxmemory-eviction-tenacity",
    "maxmemory-samples",
    "no-appendfsync-on-rewrite",
    "notify-keyspace-events",
    "oom-score-adj",
    "oom-score-adj-values",
    "pidfile",
    "proc-title-template",
    "protected-mode",
    "rdb-del-sync-files",
    "rdb-save-incremental-fsync",
    "rdbchecksum",
    "rdbcompression",
    "repl-backlog-size",
    "repl-backlog-ttl",
    "repl-disable-tcp-nodelay",
    "repl-diskless-load",
    "repl-diskless-sync",
    "repl-diskless-sync-delay",
    "repl-diskless-sync-max-replicas",
    "replica-lazy-flush",
    "replica-priority",
    "replica-read-only",
    "replica-serve-stale-data",
    "sanitize-dump-payload",
    "set-max-intset-entries",
    "set-max-listpack-entries",
    "set-max-listpack-value",
    "set-proc-title",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "stop-writes-on-bgsave-error",
    "stream-node-max-bytes",
    "stream-node-max-entries",
    "supervised",
    "syslog-enabled",
    "syslog-facility",
    "syslog-ident",
    "tcp-backlog",
    "tcp-keepalive",
    "tracking-table-max-keys",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
    "zset-max-ziplist-entries",
    "zset-max-ziplist-value",
];

/// How deep `include` may nest (a file including itself is an error, not a hang).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Reads `path` on top of the defaults. Returns the settings and the warnings to log.
pub fn load(path: &Path) -> Result<(Config, Vec<String>), ConfigError> {
    let mut config = Config::default();
    let warnings = apply_file(&mut config, path)?;
    Ok((config, warnings))
}

/// Applies the file at `path` to `config`. Returns the warnings to log.
pub fn apply_file(config: &mut Config, path: &Path) -> Result<Vec<String>, ConfigError> {
    let mut loader = Loader::new(config);
    loader.file(path, 0)?;
    loader.finish()
}

/// Applies redis.conf text to `config`; `file` names it in messages. Returns the warnings to log.
pub fn apply_str(config: &mut Config, text: &str, file: &str) -> Result<Vec<String>, ConfigError> {
    let mut loader = Loader::new(config);
    loader.text(text, file, 0)?;
    loader.finish()
}

struct Loader<'c> {
    config: &'c mut Config,
    warnings: Vec<String>,
    /// The `save` schedule read so far; `None` until a `save` line is seen (then the default
    /// schedule is replaced, not added to).
    save: Option<Vec<String>>,
}

impl<'c> Loader<'c> {
    fn new(config: &'c mut Config) -> Self {
        Loader {
            config,
            warnings: Vec::new(),
            save: None,
        }
    }

    fn file(&mut self, path: &Path, depth: usize) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        self.text(&text, &path.display().to_string(), depth)
    }

    fn text(&mut self, text: &str, file: &str, depth: usize) -> Result<(), ConfigError> {
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = At {
                file,
                line: n + 1,
                text: line,
            };
            let words = split_args(line).map_err(|why| at.error(why))?;
            let Some((name, values)) = words.split_first() else {
                continue;
            };
            self.directive(&name.to_ascii_lowercase(), values, &at, depth)?;
        }
        Ok(())
    }

    fn directive(
        &mut self,
        name: &str,
        values: &[String],
        at: &At<'_>,
        depth: usize,
    ) -> Result<(), ConfigError> {
        let one = || match values {
            [v] => Ok(v.as_str()),
            _ => Err(at.error("wrong number of arguments")),
        };
        match name {
            "save" => {
                let parts = match values {
                    [v] if v.is_empty() => Vec::new(),
                    [] => return Err(at.error("wrong number of arguments")),
                    _ => {
                        let joined = values.join(" ");
                        // Checked line by line so a mistake is reported where it is.
                        crate::config::parse_save(&joined)
                            .ok_or_else(|| at.error("save takes pairs of seconds and changes"))?;
                        values.to_vec()
                    }
                };
                match (&mut self.save, parts.is_empty()) {
                    (slot, true) => *slot = Some(Vec::new()),
                    (Some(acc), false) => acc.extend(parts),
                    (slot @ None, false) => *slot = Some(parts),
                }
            }
            "bind" if !values.is_empty() => self.set(name, &values.join(" "), at)?,
            "include" => {
                let path = one()?;
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(at.error("include nested too deeply"));
                }
                let text = std::fs::read_to_string(path)
                    .map_err(|e| at.error(&format!("cannot read {path}: {e}")))?;
                // Errors inside name the included file and its line.
                self.text(&text, path, depth + 1)?;
            }
            "user" | "aclfile" => {
                return Err(at.error(
                    "ACL users are not supported (use requirepass); refusing to start without the protection the file asks for",
                ))
            }
            "tls-port" | "tls-replication" | "tls-cluster" if values.iter().any(|v| v != "0" && v != "no") => {
                return Err(at.error("TLS is not supported; put a TLS proxy in front of llmcached"))
            }
            "daemonize" => self.unless(one()?, "no", at, "llmcached runs in the foreground"),
            "logfile" => self.unless(one()?, "", at, "llmcached logs to stderr"),
            "unixsocket" => self.unless(one()?, "", at, "llmcached listens on TCP only"),
            "unixsocketperm" => {}
            _ if SETTINGS.contains(&name) => self.set(name, one()?, at)?,
            _ if IGNORED.contains(&name) || name.starts_with("tls-") => {}
            _ => self.warnings.push(format!(
                "unknown directive '{name}' at line {} of {}: ignored",
                at.line, at.file
            )),
        }
        Ok(())
    }

    fn set(&mut self, name: &str, value: &str, at: &At<'_>) -> Result<(), ConfigError> {
        self.config.set(name, value).map_err(|e| at.error(&e.0))
    }

    /// Warns unless the directive has the one value llmcached behaves as.
    fn unless(&mut self, value: &str, expected: &str, at: &At<'_>, why: &str) {
        if !value.eq_ignore_ascii_case(expected) {
            self.warnings.push(format!(
                "'{}' at line {} of {} is not supported ({why}): ignored",
                at.text, at.line, at.file
            ));
        }
    }

    fn finish(self) -> Result<Vec<String>, ConfigError> {
        if let Some(save) = self.save {
            self.config
                .set("save", &save.join(" "))
                .map_err(|e| ConfigError(format!("save: {e}")))?;
        }
        Ok(self.warnings)
    }
}

/// Where a directive is, for messages.
struct At<'a> {
    file: &'a str,
    line: usize,
    text: &'a str,
}

impl At<'_> {
    fn error(&self, why: &str) -> ConfigError {
        ConfigError(format!(
            "{}:{}: {why} (in '{}')",
            self.file, self.line, self.text
        ))
    }
}

/// Splits a line into arguments as Redis's `sdssplitargs` does.
///
/// Whitespace separates arguments. A quote opens a quoted part, also in the middle of a word
/// (`a"b c"` is `ab c`): `"..."` takes the escapes `\n \r \t \b \a \\ \"` and `\xHH` (any
/// other `\c` is `c`); `'...'` takes `\'`. A closing quote ends the argument and must be followed
/// by whitespace or the end of the line.
pub fn split_args(line: &str) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut word = String::new();
        loop {
            match chars.next() {
                None => break,
                Some(c) if c.is_whitespace() => break,
                Some('"') => {
                    double_quoted(&mut chars, &mut word)?;
                    closing_quote_ends_word(chars.peek())?;
                    break;
                }
                Some('\'') => {
                    single_quoted(&mut chars, &mut word)?;
                    closing_quote_ends_word(chars.peek())?;
                    break;
                }
                Some(c) => word.push(c),
            }
        }
        out.push(word);
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Reads up to the closing `"`, resolving escapes.
fn double_quoted(chars: &mut Chars<'_>, word: &mut String) -> Result<(), &'static str> {
    loop {
        match chars.next() {
            None => return Err("unbalanced quotes"),
            Some('"') => return Ok(()),
            Some('\\') => match chars.next() {
                None => return Err("unbalanced quotes"),
                Some('x') => {
                    let hex: String = chars.clone().take(2).collect();
                    match u8::from_str_radix(&hex, 16) {
                        Ok(b) if hex.len() == 2 && hex.is_ascii() => {
                            chars.next();
                            chars.next();
                            word.push(char::from(b));
                        }
                        _ => word.push('x'),
                    }
                }
                Some('n') => word.push('\n'),
                Some('r') => word.push('\r'),
                Some('t') => word.push('\t'),
                Some('b') => word.push('\u{8}'),
                Some('a') => word.push('\u{7}'),
                Some(c) => word.push(c),
            },
            Some(c) => word.push(c),
        }
    }
}

/// Reads up to the closing `'`; only `\'` is an escape.
fn single_quoted(chars: &mut Chars<'_>, word: &mut String) -> Result<(), &'static str> {
    loop {
        match chars.next() {
            None => return Err("unbalanced quotes"),
            Some('\\') if chars.peek() == Some(&'\'') => {
                chars.next();
                word.push('\'');
            }
            Some('\'') => return Ok(()),
            Some(c) => word.push(c),
        }
    }
}

fn closing_quote_ends_word(next: Option<&char>) -> Result<(), &'static str> {
    match next {
        Some(c) if !c.is_whitespace() => Err("a closing quote must be followed by a space"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::EvictionKind;
    use std::time::Duration;

    fn load_str(text: &str) -> Result<(Config, Vec<String>), ConfigError> {
        let mut c = Config::default();
        let w = apply_str(&mut c, text, "test.conf")?;
        Ok((c, w))
    }

    #[test]
    fn arguments_split_like_redis() {
        assert_eq!(split_args("  port   6379 ").unwrap(), ["port", "6379"]);
        assert_eq!(split_args(r#"save """#).unwrap(), ["save", ""]);
        assert_eq!(
            split_args(r#"requirepass "a b\"c\x41\n""#).unwrap(),
            ["requirepass", "a b\"cA\n"]
        );
        assert_eq!(split_args(r"x 'it\'s' '\n'").unwrap(), ["x", "it's", "\\n"]);
        assert_eq!(split_args(r#"x "\xZZ""#).unwrap(), ["x", "xZZ"]);
        assert_eq!(
            split_args(r#"dir /a"b c" x"#).unwrap(),
            ["dir", "/ab c", "x"]
        );
        assert!(split_args(r#"x "open"#).is_err());
        assert!(split_args("x 'open").is_err());
        assert!(split_args(r#"x "a"b"#).is_err());
    }

    #[test]
    fn supported_directives_set_the_config() {
        let (c, warnings) = load_str(
            "# a comment\n\n\
             PORT 7001\n\
             bind 0.0.0.0 -::1\n\
             requirepass \"s3cret pass\"\n\
             maxmemory 64mb\n\
             maxmemory-policy allkeys-lru\n\
             timeout 30\n\
             maxclients 50\n\
             dir /tmp/llmcached-test\n\
             appendonly no\n\
             appendfsync always\n\
             loglevel warning\n\
             llm-lease-ms 5000\n\
             llm-default-ttl 0\n\
             io-threads 4\n",
        )
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.port, 7001);
        assert_eq!(c.bind.to_string(), "0.0.0.0");
        assert_eq!(c.requirepass.as_deref(), Some("s3cret pass"));
        assert_eq!(c.maxmemory, 64 << 20);
        assert_eq!(c.eviction, EvictionKind::Lru);
        assert_eq!(c.timeout, Some(Duration::from_secs(30)));
        assert_eq!(c.maxclients, 50);
        assert_eq!(c.dir.to_str(), Some("/tmp/llmcached-test"));
        assert!(!c.appendonly);
        assert_eq!(c.appendfsync.name(), "always");
        assert_eq!(c.loglevel, "warning");
        assert_eq!(c.llm_lease, Duration::from_millis(5000));
        assert_eq!(c.llm_default_ttl, None);
        assert_eq!(c.io_threads, 4);
    }

    #[test]
    fn every_listed_setting_is_known_to_config_set() {
        for name in SETTINGS {
            let err = Config::default().set(name, "\u{1}").err();
            let unknown = ConfigError(format!("unknown setting '{name}'"));
            assert_ne!(err, Some(unknown), "{name}");
        }
    }

    #[test]
    fn save_lines_accumulate_and_empty_resets() {
        let (c, _) = load_str("save 900 1\nsave 300 10 60 10000\n").unwrap();
        assert_eq!(c.save, vec![(900, 1), (300, 10), (60, 10000)]);
        let (c, _) = load_str("save 900 1\nsave \"\"\n").unwrap();
        assert!(c.save.is_empty());
        let (c, _) = load_str("save \"\"\nsave 10 1\n").unwrap();
        assert_eq!(c.save, vec![(10, 1)]);
        let (c, _) = load_str("port 1\n").unwrap();
        assert_eq!(
            c.save,
            Config::default().save,
            "no save line keeps the default"
        );
        let e = load_str("port 1\nsave 900\n").unwrap_err();
        assert!(e.0.starts_with("test.conf:2:"), "{e}");
    }

    #[test]
    fn harmless_redis_directives_are_ignored_quietly() {
        let (_, warnings) = load_str(
            "protected-mode yes\ndaemonize no\ndatabases 16\ntcp-keepalive 300\n\
             tcp-backlog 511\nlogfile \"\"\nsupervised no\npidfile /var/run/redis_6379.pid\n\
             always-show-logo no\nrdbcompression yes\ndbfilename dump.rdb\n",
        )
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn unknown_and_unhonoured_directives_warn() {
        let (c, warnings) = load_str("port 7002\nfrobnicate 3\ndaemonize yes\n").unwrap();
        assert_eq!(c.port, 7002);
        assert_eq!(
            warnings[0],
            "unknown directive 'frobnicate' at line 2 of test.conf: ignored"
        );
        assert!(
            warnings[1].contains("'daemonize yes' at line 3"),
            "{warnings:?}"
        );
        assert_eq!(warnings.len(), 2);
    }

    #[test]
    fn bad_values_name_the_file_and_line() {
        let e = load_str("port 1\n\nappendfsync sometimes\n").unwrap_err();
        assert!(
            e.0.starts_with("test.conf:3: invalid appendfsync 'sometimes'"),
            "{e}"
        );
        let e = load_str("port 1 2\n").unwrap_err();
        assert!(
            e.0.contains("test.conf:1: wrong number of arguments"),
            "{e}"
        );
        let e = load_str("requirepass \"unclosed\n").unwrap_err();
        assert!(e.0.contains("test.conf:1: unbalanced quotes"), "{e}");
    }

    #[test]
    fn settings_that_would_weaken_protection_are_refused() {
        assert!(load_str("user default on >pw ~* +@all\n").is_err());
        assert!(load_str("tls-port 6380\n").is_err());
        assert!(load_str("tls-port 0\ntls-cert-file x.crt\n").is_ok());
    }

    #[test]
    fn include_reads_another_file_and_save_spans_files() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("inner.conf");
        std::fs::write(&inner, "requirepass pw\nsave 10 1\n").unwrap();
        let outer = dir.path().join("outer.conf");
        std::fs::write(
            &outer,
            format!("save 20 2\ninclude {}\nport 7003\n", inner.display()),
        )
        .unwrap();
        let (c, warnings) = load(&outer).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(c.requirepass.as_deref(), Some("pw"));
        assert_eq!(c.port, 7003);
        assert_eq!(c.save, vec![(20, 2), (10, 1)]);
        let looping = dir.path().join("loop.conf");
        std::fs::write(&looping, format!("include {}\n", looping.display())).unwrap();
        assert!(load(&looping).unwrap_err().0.contains("nested too deeply"));
        assert!(load(&dir.path().join("missing.conf"))
            .unwrap_err()
            .0
            .contains("cannot read config file"));
    }
}
