//! [`CommandError`]: every error a command can answer with, spelled once.
//!
//! Handlers return `Result<Reply, CommandError>`; the connection encodes an error as one error
//! line. The texts are Redis 7's, word for word, so clients that match on them (redis-py's
//! exception mapping, test suites) behave as with Redis. A text that only one command uses is
//! still written at that command ([`CommandError::err`]); a text used twice belongs here.

use crate::cache::WriteError;
use crate::protocol::Reply;
use std::borrow::Cow;
use std::fmt;

/// An error reply, with Redis's exact text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// `ERR syntax error`
    Syntax,
    /// `ERR value is not an integer or out of range`
    NotInteger,
    /// `ERR value is not a valid float`
    NotFloat,
    /// `ERR increment or decrement would overflow`
    Overflow,
    /// `ERR invalid expire time in '<command>' command`
    InvalidExpire(&'static str),
    /// `ERR wrong number of arguments for '<command>' command` (`config|get` for a subcommand)
    WrongArity(&'static str),
    /// `ERR unknown subcommand '<sub>'. Try <CONTAINER> HELP.`
    UnknownSubcommand {
        container: &'static str,
        sub: String,
    },
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`
    WrongType,
    /// `NOAUTH Authentication required.`
    NoAuth,
    /// `WRONGPASS invalid username-password pair or user is disabled.`
    WrongPass,
    /// `LOADING Redis is loading the dataset in memory`
    Loading,
    /// `BUSY Redis is busy running a script. ...`
    Busy,
    /// `OOM command not allowed when used memory > 'maxmemory'.` (under `noeviction`)
    Oom,
    /// `NOSCRIPT No matching script. Please use EVAL.`
    NoScript,
    /// `ERR This instance has cluster support disabled` (CLUSTER, READONLY, ... with
    /// `cluster-mode no`)
    ClusterDisabled,
    /// `ERR <text>`: a text only one command uses.
    Err(Cow<'static, str>),
    /// A whole error line with its own code (`MISCONF ...`, `TRYAGAIN ...`, `NOTCACHEABLE ...`).
    Coded(Cow<'static, str>),
}

impl CommandError {
    /// `ERR <text>`
    pub fn err(text: impl Into<Cow<'static, str>>) -> CommandError {
        CommandError::Err(text.into())
    }

    /// A whole error line, code first (`TRYAGAIN the wait ran out`).
    pub fn coded(line: impl Into<Cow<'static, str>>) -> CommandError {
        CommandError::Coded(line.into())
    }

    /// The unknown-subcommand error for `container` (lower case) and the argument as sent.
    pub fn unknown_subcommand(container: &'static str, sub: &[u8]) -> CommandError {
        CommandError::UnknownSubcommand {
            container,
            sub: lossy(sub, 128),
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Syntax => f.write_str("ERR syntax error"),
            CommandError::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            CommandError::NotFloat => f.write_str("ERR value is not a valid float"),
            CommandError::Overflow => f.write_str("ERR increment or decrement would overflow"),
            CommandError::InvalidExpire(cmd) => {
                write!(f, "ERR invalid expire time in '{cmd}' command")
            }
            CommandError::WrongArity(cmd) => {
                write!(f, "ERR wrong number of arguments for '{cmd}' command")
            }
            CommandError::UnknownSubcommand { container, sub } => write!(
                f,
                "ERR unknown subcommand '{sub}'. Try {} HELP.",
                container.to_ascii_uppercase()
            ),
            CommandError::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CommandError::NoAuth => f.write_str("NOAUTH Authentication required."),
            CommandError::WrongPass => {
                f.write_str("WRONGPASS invalid username-password pair or user is disabled.")
            }
            CommandError::Loading => f.write_str("LOADING Redis is loading the dataset in memory"),
            CommandError::Busy => f.write_str(
                "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
            ),
            CommandError::Oom => {
                f.write_str("OOM command not allowed when used memory > 'maxmemory'.")
            }
            CommandError::NoScript => f.write_str("NOSCRIPT No matching script. Please use EVAL."),
            CommandError::ClusterDisabled => {
                f.write_str("ERR This instance has cluster support disabled")
            }
            CommandError::Err(text) => write!(f, "ERR {text}"),
            CommandError::Coded(line) => f.write_str(line),
        }
    }
}

impl std::error::Error for CommandError {}

impl From<CommandError> for Reply {
    fn from(e: CommandError) -> Reply {
        Reply::Error(e.to_string())
    }
}

impl From<WriteError> for CommandError {
    fn from(e: WriteError) -> CommandError {
        match e {
            // The journal words the whole error line (MISCONF ..., LOADING ...).
            WriteError::NotDurable(line) => CommandError::coded(line),
        }
    }
}

/// Text of an argument for an error message: at most `max` bytes, invalid UTF-8 replaced, and no
/// line breaks.
pub fn lossy(b: &[u8], max: usize) -> String {
    let cut = &b[..b.len().min(max)];
    String::from_utf8_lossy(cut).replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_redis_texts() {
        let cases = [
            (CommandError::Syntax, "ERR syntax error"),
            (
                CommandError::InvalidExpire("set"),
                "ERR invalid expire time in 'set' command",
            ),
            (
                CommandError::WrongArity("config|get"),
                "ERR wrong number of arguments for 'config|get' command",
            ),
            (
                CommandError::unknown_subcommand("client", b"nope\r\n"),
                "ERR unknown subcommand 'nope  '. Try CLIENT HELP.",
            ),
            (CommandError::coded("TRYAGAIN later"), "TRYAGAIN later"),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
            assert_eq!(Reply::from(e), Reply::Error(text.into()));
        }
    }
}
