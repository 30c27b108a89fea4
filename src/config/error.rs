//! The two error types: [`SettingError`], why CONFIG SET refuses a value (Redis 7.0's texts),
//! and [`ConfigError`], why the server cannot start with what it was given.

use super::values::Reason;
use std::fmt;
use std::path::PathBuf;

/// Why CONFIG SET (or a start-up source) refused a setting. `Display` gives Redis 7.0's text
/// without the `ERR ` prefix, as `Reply::err` adds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingError {
    /// No such setting; carries the name as the client spelled it.
    Unknown(String),
    /// The setting exists but is fixed at start; carries the name as the client spelled it.
    Immutable(String),
    /// The value was refused; `name` is the setting's own name, `reason` Redis's words.
    BadValue { name: &'static str, reason: Reason },
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingError::Unknown(name) => write!(
                f,
                "Unknown option or number of arguments for CONFIG SET - '{name}'"
            ),
            SettingError::Immutable(name) => write!(
                f,
                "CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
            ),
            SettingError::BadValue { name, reason } => write!(
                f,
                "CONFIG SET failed (possibly related to argument '{name}') - {reason}"
            ),
        }
    }
}

impl std::error::Error for SettingError {}

/// Why the server cannot start with the given settings.
#[derive(Debug)]
pub enum ConfigError {
    /// The command line is not understood, or asks for `--help` / `--version`: clap prints
    /// these and picks the exit code ([`clap::Error::exit`]).
    Args(clap::Error),
    /// A flag, environment variable or directive gave a value its setting refuses.
    Invalid {
        error: SettingError,
        /// The value as given (lossily shown when it is not UTF-8).
        value: String,
    },
    /// A config file cannot be read.
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A line of a config file is wrong; `why` says how.
    At {
        file: String,
        line: usize,
        text: String,
        why: Box<ConfigError>,
    },
    /// A malformed directive: `wrong number of arguments`, `unbalanced quotes`, ...
    Syntax(&'static str),
    /// A directive llmcached will not run with, as ignoring it would weaken what the file asks.
    Refused(&'static str),
    /// Settings each valid alone that cannot work together; the text names them and says why.
    Conflict(&'static str),
}

impl ConfigError {
    pub(super) fn invalid(error: SettingError, value: &[u8]) -> ConfigError {
        ConfigError::Invalid {
            error,
            value: String::from_utf8_lossy(value).into_owned(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Args(e) => write!(f, "{e}"),
            ConfigError::Invalid {
                error: SettingError::BadValue { name, reason },
                value,
            } => write!(f, "invalid {name} '{value}': {reason}"),
            ConfigError::Invalid { error, .. } => write!(f, "{error}"),
            ConfigError::Read { path, error } => {
                write!(f, "cannot read config file {}: {error}", path.display())
            }
            ConfigError::At {
                file,
                line,
                text,
                why,
            } => write!(f, "{file}:{line}: {why} (in '{text}')"),
            ConfigError::Syntax(why) | ConfigError::Refused(why) | ConfigError::Conflict(why) => {
                f.write_str(why)
            }
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{find, Config};

    #[test]
    fn errors_display_redis_texts() {
        assert_eq!(
            SettingError::Unknown("FROB".into()).to_string(),
            "Unknown option or number of arguments for CONFIG SET - 'FROB'"
        );
        assert_eq!(
            SettingError::Immutable("IO-THREADS".into()).to_string(),
            "CONFIG SET failed (possibly related to argument 'IO-THREADS') - can't set immutable config"
        );
        let mut c = Config::default();
        let e = find("maxmemory")
            .unwrap()
            .apply(&mut c, b"lots")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
        );
    }
}
