//! redis.conf files -> settings on a [`Config`].
//!
//! `llmcached /etc/llmcached/redis.conf --port 7000` reads the file first, then lets
//! environment variables and flags override it. The syntax is Redis's: one directive per line,
//! a `#` line is a comment, blank lines are skipped, directive names are case-insensitive, and
//! arguments are split as Redis's `sdssplitargs` splits them (`"double quotes"` with
//! `\n \r \t \b \a \\ \" \xHH` escapes, `\xHH` being one raw byte; `'single quotes'` with `\'`;
//! an empty argument is `""`). Values are bytes: `requirepass "\xff"` is the one byte 0xff, the
//! same password as on the wire.
//!
//! # What a directive does
//! - A setting in [`super::SETTINGS`] that can be given at start is applied through its row; a bad
//!   value is an error naming the file and the line, and the server does not start.
//! - `save` lines accumulate, as in Redis: the first one in the files replaces the default
//!   schedule, later ones add to it, and `save ""` clears it.
//! - `include path` reads another file at that point (relative paths are relative to the working
//!   directory, as in Redis).
//! - A Redis directive with no meaning here (see `IGNORED`) is accepted silently, so a stock
//!   redis.conf works. A few of them matter when given a value llmcached cannot honour
//!   (`daemonize yes`, `logfile <path>`, `unixsocket <path>`): those produce a warning.
//! - `user` lines are collected for the ACL (which refuses them together with `aclfile`);
//!   TLS directives with no rustls equivalent (`tls-ciphers`, `tls-dh-params-file`) warn.
//! - Anything else produces a warning (`unknown directive 'x' at line N of FILE: ignored`), where
//!   Redis would refuse to start: a newer redis.conf should not keep a cache from starting.

use super::ignored::IGNORED;
use super::{find, values, Config, ConfigError, SettingError};
use crate::protocol::split::split_args;
use std::path::Path;

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
pub fn apply_text(
    config: &mut Config,
    text: impl AsRef<[u8]>,
    file: &str,
) -> Result<Vec<String>, ConfigError> {
    let mut loader = Loader::new(config);
    loader.text(text.as_ref(), file, 0)?;
    loader.finish()
}

struct Loader<'c> {
    config: &'c mut Config,
    warnings: Vec<String>,
    /// The `save` arguments read so far; `None` until a `save` line is seen (then the default
    /// schedule is replaced, not added to).
    save: Option<Vec<Vec<u8>>>,
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
        let text = std::fs::read(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        self.text(&text, &path.display().to_string(), depth)
    }

    fn text(&mut self, text: &[u8], file: &str, depth: usize) -> Result<(), ConfigError> {
        for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = raw.trim_ascii();
            if line.is_empty() || line.starts_with(b"#") {
                continue;
            }
            let at = At {
                file,
                line: n + 1,
                text: &String::from_utf8_lossy(line),
            };
            let words =
                split_args(line).map_err(|_| at.error(ConfigError::Syntax("unbalanced quotes")))?;
            let Some((name, values)) = words.split_first() else {
                continue;
            };
            let name = String::from_utf8_lossy(name).to_ascii_lowercase();
            self.directive(&name, values, &at, depth)?;
        }
        Ok(())
    }

    fn directive(
        &mut self,
        name: &str,
        values: &[Vec<u8>],
        at: &At<'_>,
        depth: usize,
    ) -> Result<(), ConfigError> {
        let one = || match values {
            [v] => Ok(v.as_slice()),
            _ => Err(at.error(ConfigError::Syntax("wrong number of arguments"))),
        };
        match name {
            "save" => {
                let parts = match values {
                    [v] if v.is_empty() => Vec::new(),
                    [] => return Err(at.error(ConfigError::Syntax("wrong number of arguments"))),
                    _ => {
                        // Checked line by line so a mistake is reported where it is.
                        apply(&mut Config::default(), "save", &values.join(&b' ')).map_err(
                            |_| {
                                at.error(ConfigError::Syntax(
                                    "save takes pairs of seconds and changes",
                                ))
                            },
                        )?;
                        values.to_vec()
                    }
                };
                match (&mut self.save, parts.is_empty()) {
                    (slot, true) => *slot = Some(Vec::new()),
                    (Some(acc), false) => acc.extend(parts),
                    (slot @ None, false) => *slot = Some(parts),
                }
            }
            "bind" if !values.is_empty() => self.set(name, &values.join(&b' '), at)?,
            "include" => {
                let path = values::path(one()?);
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(at.error(ConfigError::Syntax("include nested too deeply")));
                }
                let text = std::fs::read(&path).map_err(|error| {
                    at.error(ConfigError::Read {
                        path: path.clone(),
                        error,
                    })
                })?;
                // Errors inside name the included file and its line.
                self.text(&text, &path.display().to_string(), depth + 1)?;
            }
            "user" => {
                if values.is_empty() {
                    return Err(at.error(ConfigError::Syntax("wrong number of arguments")));
                }
                self.config.acl.users.0.push(values.to_vec());
            }
            "tls-replication" | "tls-cluster" if values.iter().any(|v| v != b"no") => {
                self.warnings.push(format!(
                    "'{name}' at line {} of {} has no effect (no replication or cluster bus): ignored",
                    at.line, at.file
                ));
            }
            "tls-ciphers"
            | "tls-dh-params-file"
            | "tls-client-cert-file"
            | "tls-client-key-file" => {
                self.warnings.push(format!(
                    "'{name}' at line {} of {} is not supported with rustls: ignored",
                    at.line, at.file
                ));
            }
            "daemonize" => self.unless(one()?, "no", at, "llmcached runs in the foreground"),
            "logfile" => self.unless(one()?, "", at, "llmcached logs to stderr"),
            "unixsocket" => self.unless(one()?, "", at, "llmcached listens on TCP only"),
            "unixsocketperm" => {}
            _ if find(name).is_some_and(|s| s.flag) => self.set(name, one()?, at)?,
            _ if IGNORED.contains(&name) || name.starts_with("tls-") => {}
            _ => self.warnings.push(format!(
                "unknown directive '{name}' at line {} of {}: ignored",
                at.line, at.file
            )),
        }
        Ok(())
    }

    fn set(&mut self, name: &str, value: &[u8], at: &At<'_>) -> Result<(), ConfigError> {
        apply(self.config, name, value).map_err(|e| at.error(e))
    }

    /// Warns unless the directive has the one value llmcached behaves as.
    fn unless(&mut self, value: &[u8], expected: &str, at: &At<'_>, why: &str) {
        if !value.eq_ignore_ascii_case(expected.as_bytes()) {
            self.warnings.push(format!(
                "'{}' at line {} of {} is not supported ({why}): ignored",
                at.text, at.line, at.file
            ));
        }
    }

    fn finish(self) -> Result<Vec<String>, ConfigError> {
        if let Some(save) = self.save {
            apply(self.config, "save", &save.join(&b' '))?;
        }
        Ok(self.warnings)
    }
}

/// Applies the row `name` (known to exist: the directive matched it) to `config`.
fn apply(config: &mut Config, name: &str, value: &[u8]) -> Result<(), ConfigError> {
    let row = find(name).ok_or_else(|| SettingError::Unknown(name.to_string()));
    row.and_then(|s| s.apply(config, value))
        .map_err(|e| ConfigError::invalid(e, value))
}

/// Where a directive is, for messages.
struct At<'a> {
    file: &'a str,
    line: usize,
    text: &'a str,
}

impl At<'_> {
    fn error(&self, why: ConfigError) -> ConfigError {
        ConfigError::At {
            file: self.file.to_string(),
            line: self.line,
            text: self.text.to_string(),
            why: Box::new(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::EvictionKind;
    use crate::persistence::{FsyncPolicy, SaveSchedule};
    use std::time::Duration;

    fn load_str(text: &str) -> Result<(Config, Vec<String>), ConfigError> {
        load_bytes(text.as_bytes())
    }

    fn load_bytes(text: &[u8]) -> Result<(Config, Vec<String>), ConfigError> {
        let mut c = Config::default();
        let w = apply_text(&mut c, text, "test.conf")?;
        Ok((c, w))
    }

    fn schedule(s: &str) -> SaveSchedule {
        SaveSchedule::parse(s).unwrap()
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
             protected-mode no\n\
             llm-lease-ms 5000\n\
             llm-default-ttl 0\n\
             io-threads 4\r\n",
        )
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.port, 7001);
        assert_eq!(c.bind.to_string(), "0.0.0.0");
        assert_eq!(
            c.requirepass.as_ref().map(|p| p.as_bytes()),
            Some(b"s3cret pass".as_slice())
        );
        assert_eq!(c.maxmemory, 64 << 20);
        assert_eq!(c.eviction, EvictionKind::Lru);
        assert_eq!(c.timeout, Some(Duration::from_secs(30)));
        assert_eq!(c.maxclients, 50);
        assert_eq!(c.dir.to_str(), Some("/tmp/llmcached-test"));
        assert!(!c.appendonly);
        assert_eq!(c.appendfsync, FsyncPolicy::Always);
        assert_eq!(c.loglevel, "warning");
        assert!(!c.protected_mode);
        assert_eq!(c.llm_lease, Duration::from_millis(5000));
        assert_eq!(c.llm_default_ttl, None);
        assert_eq!(c.io_threads, 4);
    }

    #[test]
    fn every_flag_is_a_directive() {
        for s in super::super::SETTINGS.iter().filter(|s| s.flag) {
            let line = format!("{} \"{}\"\n", s.name, s.default);
            let (c, warnings) = load_str(&line).unwrap();
            assert!(warnings.is_empty(), "{}: {warnings:?}", s.name);
            assert_eq!(
                format!("{c:?}"),
                format!("{:?}", Config::default()),
                "{}",
                s.name
            );
            let e = load_str(&format!("{} \"\\x01\" \"\"\n", s.name)).unwrap_err();
            if s.name != "bind" && s.name != "save" {
                assert!(e.to_string().contains("wrong number of arguments"), "{e}");
            }
        }
    }

    #[test]
    fn config_file_hex_escape_is_one_raw_byte() {
        let (c, _) = load_str("requirepass \"\\xff\"\n").unwrap();
        assert_eq!(
            c.requirepass.as_ref().map(|p| p.as_bytes()),
            Some(b"\xff".as_slice()),
            "one byte 0xff, as sdssplitargs and the wire give it, not U+00FF in UTF-8"
        );
        let (c, _) = load_bytes(b"requirepass \xc3\xbf\xfe\n").unwrap();
        assert_eq!(
            c.requirepass.as_ref().map(|p| p.as_bytes()),
            Some(b"\xc3\xbf\xfe".as_slice()),
            "raw bytes in the file are kept as they are"
        );
    }

    #[test]
    fn save_lines_accumulate_and_empty_resets() {
        let (c, _) = load_str("save 900 1\nsave 300 10 60 10000\n").unwrap();
        assert_eq!(c.save, schedule("900 1 300 10 60 10000"));
        let (c, _) = load_str("save 900 1\nsave \"\"\n").unwrap();
        assert!(c.save.is_off());
        let (c, _) = load_str("save \"\"\nsave 10 1\n").unwrap();
        assert_eq!(c.save, schedule("10 1"));
        let (c, _) = load_str("port 1\n").unwrap();
        assert_eq!(
            c.save,
            Config::default().save,
            "no save line keeps the default"
        );
        let e = load_str("port 1\nsave 900\n").unwrap_err();
        assert!(e.to_string().starts_with("test.conf:2:"), "{e}");
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
            e.to_string()
                .starts_with("test.conf:3: invalid appendfsync 'sometimes'"),
            "{e}"
        );
        let e = load_str("port 1 2\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("test.conf:1: wrong number of arguments"),
            "{e}"
        );
        let e = load_str("requirepass \"unclosed\n").unwrap_err();
        assert!(
            e.to_string().contains("test.conf:1: unbalanced quotes"),
            "{e}"
        );
        let e = load_str("requirepass \"a\"b\n").unwrap_err();
        assert!(
            e.to_string().contains("test.conf:1: unbalanced quotes"),
            "{e}"
        );
    }

    #[test]
    fn user_lines_are_collected_and_tls_directives_read() {
        let (c, warnings) = load_str(
            "user default on >pw ~* +@all\nuser bob on\ntls-port 6380\ntls-ciphers DEFAULT\n",
        )
        .unwrap();
        assert_eq!(c.acl.users.0.len(), 2);
        assert_eq!(c.acl.users.0[1], [b"bob".to_vec(), b"on".to_vec()]);
        assert_eq!(c.tls.port, 6380);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(load_str("user\n").is_err());
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
        assert_eq!(
            c.requirepass.as_ref().map(|p| p.as_bytes()),
            Some(b"pw".as_slice())
        );
        assert_eq!(c.port, 7003);
        assert_eq!(c.save, schedule("20 2 10 1"));
        let looping = dir.path().join("loop.conf");
        std::fs::write(&looping, format!("include {}\n", looping.display())).unwrap();
        assert!(load(&looping)
            .unwrap_err()
            .to_string()
            .contains("nested too deeply"));
        assert!(load(&dir.path().join("missing.conf"))
            .unwrap_err()
            .to_string()
            .contains("cannot read config file"));
    }
}
