//! Why a request got no key.
//!
//! `Display` gives the exact Redis error line without the leading `-`: the first word is the
//! error code (`ERR` or `NOTCACHEABLE`), so the command layer writes `-{error}\r\n` as is.

use std::fmt;

use super::canonical::CanonicalError;
use super::dialect::Dialect;
use super::model::MAX_MODEL_LEN;

/// A request that cannot be keyed, or arguments that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The body is not JSON; carries the parser's message.
    InvalidJson(String),
    /// The body is JSON but not an object.
    NotAnObject,
    /// A number in the body has no canonical form.
    Canonical(CanonicalError),
    /// Neither the body nor the arguments name a model.
    NoModel(Dialect),
    /// The body's `model` is not a string.
    ModelNotString,
    /// The model is the empty string.
    EmptyModel,
    /// The model is longer than [`MAX_MODEL_LEN`] bytes.
    ModelTooLong(usize),
    /// The `MODEL` argument is not UTF-8.
    ModelNotUtf8,
    /// The `MODEL` argument and the body's `model` disagree.
    ModelMismatch { argument: String, body: String },
    /// `DIALECT` names no known dialect.
    UnknownDialect(String),
    /// The option words after the request are malformed.
    Syntax,
    /// Sampling could change the answer and the caller did not opt in with `SAMPLED`.
    NotCacheable(NotCacheable),
}

/// Why sampling could change the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotCacheable {
    /// `temperature` is absent or null: the provider's default temperature samples.
    TemperatureNotSet,
    /// `temperature` is a number other than 0; carries its canonical text.
    Temperature(String),
    /// `temperature` is not a number; carries its canonical JSON.
    TemperatureNotNumber(String),
    /// A count of answers other than 1 (`n`, `candidateCount`); carries the field name as the
    /// request spelled it and the value's canonical JSON.
    Count { field: &'static str, value: String },
}

impl KeyError {
    /// The error code, i.e. the first word of the Redis error line.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::NotCacheable(_) => "NOTCACHEABLE",
            _ => "ERR",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::InvalidJson(msg) => write!(f, "ERR request is not valid JSON: {msg}"),
            KeyError::NotAnObject => f.write_str("ERR request must be a JSON object"),
            KeyError::Canonical(e) => write!(f, "ERR {e}"),
            KeyError::NoModel(Dialect::Gemini) => {
                f.write_str("ERR request has no model (Gemini puts it in the URL); pass MODEL name")
            }
            KeyError::NoModel(_) => f.write_str("ERR request has no model; pass MODEL name"),
            KeyError::ModelNotString => f.write_str("ERR request model must be a string"),
            KeyError::EmptyModel => f.write_str("ERR model must not be empty"),
            KeyError::ModelTooLong(len) => {
                write!(
                    f,
                    "ERR model is {len} bytes long, the limit is {MAX_MODEL_LEN}"
                )
            }
            KeyError::ModelNotUtf8 => f.write_str("ERR MODEL must be valid UTF-8"),
            KeyError::ModelMismatch { argument, body } => write!(
                f,
                "ERR MODEL {argument:?} does not match the request's model {body:?}"
            ),
            KeyError::UnknownDialect(name) => write!(
                f,
                "ERR unknown dialect {name:?}; expected openai-chat, openai-responses, \
                 anthropic, gemini or generic"
            ),
            KeyError::Syntax => f.write_str("ERR syntax error"),
            KeyError::NotCacheable(why) => write!(f, "NOTCACHEABLE {why}"),
        }
    }
}

impl fmt::Display for NotCacheable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const OPT_IN: &str = "pass SAMPLED to cache it anyway";
        match self {
            NotCacheable::TemperatureNotSet => write!(
                f,
                "temperature not set (provider default samples); {OPT_IN}"
            ),
            NotCacheable::Temperature(t) => write!(f, "temperature {t} samples; {OPT_IN}"),
            NotCacheable::TemperatureNotNumber(t) => {
                write!(f, "temperature {t} is not a number; {OPT_IN}")
            }
            NotCacheable::Count { field, value } => {
                write!(f, "{field} {value} asks for several answers; {OPT_IN}")
            }
        }
    }
}

impl std::error::Error for KeyError {}

impl From<CanonicalError> for KeyError {
    fn from(e: CanonicalError) -> Self {
        KeyError::Canonical(e)
    }
}
