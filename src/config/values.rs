//! Value parsers shared by the settings: memory sizes with Redis's units, yes/no, integers in a
//! range, one-of-a-list words, and the typed values that have no better home (the log level, the
//! password).
//!
//! Every parser takes the raw bytes of a value (a flag, an environment variable, a redis.conf
//! argument or a CONFIG SET argument are all byte strings) and, on failure, returns the reason
//! Redis 7.0 gives for the same mistake in `CONFIG SET`, e.g. `argument must be a memory value`.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Why a value was refused, in Redis's words (the text after `CONFIG SET failed (...) - `).
pub type Reason = String;

/// Redis's `yesnotoi`: `yes` or `no`, any case.
pub fn yes_no(v: &[u8]) -> Result<bool, Reason> {
    if v.eq_ignore_ascii_case(b"yes") {
        Ok(true)
    } else if v.eq_ignore_ascii_case(b"no") {
        Ok(false)
    } else {
        Err("argument must be 'yes' or 'no'".into())
    }
}

/// `yes` / `no`, as CONFIG GET shows a boolean.
pub fn show_yes_no(b: bool) -> Vec<u8> {
    if b { "yes" } else { "no" }.into()
}

/// A memory size with Redis's units (see [`parse_memory`]).
pub fn memory(v: &[u8]) -> Result<u64, Reason> {
    std::str::from_utf8(v)
        .ok()
        .and_then(parse_memory)
        .ok_or_else(|| "argument must be a memory value".into())
}

/// A memory size within `min..=max` (Redis's bounds for the setting).
pub fn memory_in(v: &[u8], min: u64, max: u64) -> Result<u64, Reason> {
    let n = memory(v)?;
    if n < min || n > max {
        return Err(out_of_range(min, max));
    }
    Ok(n)
}

/// Parses a memory size with Redis's units: `k`/`m`/`g` are powers of 1000, `kb`/`mb`/`gb`
/// powers of 1024, case-insensitive; a bare number (or one ending in `b`) is bytes.
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

/// An integer within `min..=max`, as Redis's numeric configs check it.
pub fn integer(v: &[u8], min: i128, max: i128) -> Result<i128, Reason> {
    let n: i128 = std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Reason::from("argument couldn't be parsed into an integer"))?;
    if n < min || n > max {
        return Err(out_of_range(min, max));
    }
    Ok(n)
}

/// [`integer`] converted to the field's type; `T`'s range must hold `min..=max`.
pub fn int<T: TryFrom<i128>>(v: &[u8], min: i128, max: i128) -> Result<T, Reason> {
    let n = integer(v, min, max)?;
    T::try_from(n).map_err(|_| out_of_range(min, max))
}

fn out_of_range(min: impl fmt::Display, max: impl fmt::Display) -> Reason {
    format!("argument must be between {min} and {max} inclusive")
}

/// One of `choices` (case-insensitive), as Redis's enum configs; the reason lists the words
/// Redis would list, `listed`.
pub fn one_of<T: Copy>(v: &[u8], choices: &[(&str, T)], listed: &str) -> Result<T, Reason> {
    choices
        .iter()
        .find(|(word, _)| v.eq_ignore_ascii_case(word.as_bytes()))
        .map(|(_, t)| *t)
        .ok_or_else(|| format!("argument(s) must be one of the following: {listed}"))
}

/// The bytes of any `Display` value (CONFIG GET shows numbers as their decimal text).
pub fn show(v: impl fmt::Display) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// The value as text, when it is UTF-8.
pub fn utf8(v: &[u8]) -> Option<&str> {
    std::str::from_utf8(v).ok()
}

/// A memory setting that must fit a `usize`, from 1mb up (Redis's bounds for the protocol
/// limits).
pub fn protocol_limit(v: &[u8]) -> Result<usize, Reason> {
    let n = memory_in(v, 1 << 20, i64::MAX as u64)?;
    usize::try_from(n).map_err(|_| "argument must be a memory value".into())
}

/// An address for `bind`.
pub fn ip(v: &[u8]) -> Result<IpAddr, Reason> {
    // redis.conf allows several addresses, each optionally prefixed by `-`; the first is used.
    let first = utf8(v)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or("");
    match first.trim_start_matches('-') {
        "localhost" => Ok(IpAddr::from([127, 0, 0, 1])),
        "*" => Ok(IpAddr::from([0, 0, 0, 0])),
        other => other
            .parse()
            .map_err(|_| "argument must be an IP address".into()),
    }
}

/// A path from raw bytes (on Unix any bytes are a path; elsewhere they are read as UTF-8).
#[cfg(unix)]
pub fn path(v: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(v))
}

#[cfg(not(unix))]
pub fn path(v: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(v).into_owned())
}

/// The bytes of a path, as [`path`] would read them back.
#[cfg(unix)]
pub fn show_path(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
pub fn show_path(p: &Path) -> Vec<u8> {
    p.display().to_string().into_bytes()
}

/// Redis's `loglevel`, and what `tracing` makes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    /// Redis 7.2's "log nothing"; accepted here as it always was.
    Nothing,
}

impl LogLevel {
    pub const CHOICES: &'static [(&'static str, LogLevel)] = &[
        ("debug", LogLevel::Debug),
        ("verbose", LogLevel::Verbose),
        ("notice", LogLevel::Notice),
        ("warning", LogLevel::Warning),
        ("nothing", LogLevel::Nothing),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "verbose",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
            LogLevel::Nothing => "nothing",
        }
    }

    /// The `tracing` filter directive for this level.
    pub fn tracing_filter(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose | LogLevel::Notice => "info",
            LogLevel::Warning => "warn",
            LogLevel::Nothing => "off",
        }
    }
}

impl PartialEq<&str> for LogLevel {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The `requirepass` secret: any bytes (a config file's `"\xff"` is the byte 0xff, as on the
/// wire). Its `Debug` does not print it, so logging a [`super::Config`] leaks nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(Vec<u8>);

impl Password {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Password {
        Password(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Password {
        Password(s.as_bytes().to_vec())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
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
        assert_eq!(parse_memory("99999999999gb"), None, "overflow is refused");
    }

    #[test]
    fn reasons_are_redis_texts() {
        assert_eq!(
            memory(b"lots").unwrap_err(),
            "argument must be a memory value"
        );
        assert_eq!(
            memory(b"\xff").unwrap_err(),
            "argument must be a memory value"
        );
        assert_eq!(
            memory_in(b"10", 1 << 20, i64::MAX as u64).unwrap_err(),
            "argument must be between 1048576 and 9223372036854775807 inclusive"
        );
        assert_eq!(yes_no(b"YES"), Ok(true));
        assert_eq!(
            yes_no(b"maybe").unwrap_err(),
            "argument must be 'yes' or 'no'"
        );
        assert_eq!(
            int::<u16>(b"x", 0, 65535).unwrap_err(),
            "argument couldn't be parsed into an integer"
        );
        assert_eq!(
            int::<u16>(b"70000", 0, 65535).unwrap_err(),
            "argument must be between 0 and 65535 inclusive"
        );
        assert_eq!(int::<u16>(b"7000", 0, 65535), Ok(7000));
        assert_eq!(
            one_of(b"sometimes", &[("always", 1)], "always").unwrap_err(),
            "argument(s) must be one of the following: always"
        );
        assert_eq!(one_of(b"ALWAYS", &[("always", 1)], "always"), Ok(1));
    }

    #[test]
    fn log_levels_map_to_tracing() {
        for (word, level) in LogLevel::CHOICES {
            assert_eq!(level.as_str(), *word);
        }
        assert_eq!(LogLevel::Verbose.tracing_filter(), "info");
        assert_eq!(LogLevel::Warning.tracing_filter(), "warn");
        assert_eq!(LogLevel::Nothing.tracing_filter(), "off");
    }

    #[test]
    fn a_password_is_not_printed_by_debug() {
        let p = Password::new(b"s3cret\xff".to_vec());
        assert_eq!(p.as_bytes(), b"s3cret\xff");
        assert!(!format!("{p:?}").contains("s3cret"));
    }
}
