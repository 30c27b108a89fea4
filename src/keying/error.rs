//! Why a request got no key.
//!
//! `Display` gives the exact Redis error line without the leading `-`: the first word is the
//! error code (`ERR` or `NOTCACHEABLE`), so the command layer writes `-{error}\r\n` as is.
//! No line holds a raw CR or LF: every quoted piece of the request is escaped.

use std::fmt;

use super::dialect::Dialect;
use super::parse::ParseError;

/// A request that cannot be keyed, or arguments that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The body is not JSON, has a duplicate member name or a number with no canonical form.
    Json(ParseError),
    /// The body is JSON but not an object.
    NotAnObject,
    /// Neither the body nor the arguments name a model.
    NoModel(Dialect),
    /// The body's `model` is not a string.
    ModelNotString,
    /// The model is the empty string.
    EmptyModel,
    /// The model is `len` bytes long, more than `limit`.
    ModelTooLong { len: usize, limit: usize },
    /// The `MODEL` argument is not UTF-8.
    ModelNotUtf8,
    /// The `MODEL` argument and the body's `model` disagree.
    ModelMismatch { argument: String, body: String },
    /// `DIALECT` names no known dialect.
    UnknownDialect(String),
    /// `FORMAT` names no valid format (carries the name, cut and lossily decoded).
    InvalidFormat(String),
    /// The option words after the request are malformed.
    Syntax,
    /// Gemini: the two spellings of one field (`camel`, `snake`) are both present with
    /// different values in the object at `path` (a JSON Pointer).
    SpellingConflict {
        camel: String,
        snake: String,
        path: String,
    },
    /// The answer may change between two calls with this body, and the caller did not opt in.
    NotCacheable(NotCacheable),
}

/// Why the answer to a request may change between calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotCacheable {
    /// `temperature` is absent or null: the provider's default temperature samples.
    TemperatureNotSet,
    /// `temperature` is a number other than 0; carries its canonical text.
    Temperature(String),
    /// `temperature` is not a number; carries its canonical JSON.
    TemperatureNotNumber(String),
    /// A count of answers other than 1 (`n`, `candidateCount`); carries the field name and
    /// the value's canonical JSON.
    Count { field: &'static str, value: String },
    /// The answer depends on live data or on state the provider keeps; `what` names the part
    /// of the request (`tool "web_search"`, `conversation`).
    Live { what: String, why: LiveReason },
}

/// What kind of changing data a request reads (see [`NotCacheable::Live`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveReason {
    /// Searches the web.
    WebSearch,
    /// Fetches web pages by URL.
    WebFetch,
    /// Reads maps and places.
    Maps,
    /// Reads a store kept by the provider that can change (vector stores, search data stores).
    ProviderStore,
    /// Calls tools on remote servers (MCP).
    RemoteTool,
    /// Runs code in a provider-side container, or over files kept there.
    ProviderFiles,
    /// Continues a provider-side conversation, which grows on every call.
    Conversation,
    /// Names a stored prompt template without a version, so it follows the latest version.
    PromptTemplate,
    /// A model that searches the web on every call.
    SearchModel,
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
            KeyError::Json(e) => write!(f, "ERR {e}"),
            KeyError::NotAnObject => f.write_str("ERR request must be a JSON object"),
            KeyError::NoModel(Dialect::Gemini) => {
                f.write_str("ERR request has no model (Gemini puts it in the URL); pass MODEL name")
            }
            KeyError::NoModel(_) => f.write_str("ERR request has no model; pass MODEL name"),
            KeyError::ModelNotString => f.write_str("ERR request model must be a string"),
            KeyError::EmptyModel => f.write_str("ERR model must not be empty"),
            KeyError::ModelTooLong { len, limit } => {
                write!(f, "ERR model is {len} bytes long, the limit is {limit}")
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
            KeyError::InvalidFormat(name) => write!(
                f,
                "ERR invalid FORMAT name {name:?}: use 1 to 64 of A-Z a-z 0-9 . _ - + /"
            ),
            KeyError::Syntax => f.write_str("ERR syntax error"),
            KeyError::SpellingConflict { camel, snake, path } => {
                let at = if path.is_empty() {
                    "at the top level".to_owned()
                } else {
                    format!("in {path}")
                };
                write!(
                    f,
                    "ERR Gemini fields {camel:?} and {snake:?} are one field with two values \
                     {at}; send one spelling"
                )
            }
            KeyError::NotCacheable(why) => write!(f, "NOTCACHEABLE {why}"),
        }
    }
}

impl fmt::Display for NotCacheable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SAMPLED: &str = "pass SAMPLED to cache it anyway";
        const LIVE: &str = "pass LIVE to cache it anyway";
        match self {
            NotCacheable::TemperatureNotSet => write!(
                f,
                "temperature not set (provider default samples); {SAMPLED}"
            ),
            NotCacheable::Temperature(t) => write!(f, "temperature {t} samples; {SAMPLED}"),
            NotCacheable::TemperatureNotNumber(t) => {
                write!(f, "temperature {t} is not a number; {SAMPLED}")
            }
            NotCacheable::Count { field, value } => {
                write!(f, "{field} {value} asks for several answers; {SAMPLED}")
            }
            NotCacheable::Live { what, why } => write!(f, "{what} {why}; {LIVE}"),
        }
    }
}

impl fmt::Display for LiveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LiveReason::WebSearch => "searches the web (live data)",
            LiveReason::WebFetch => "fetches web pages (live data)",
            LiveReason::Maps => "reads live map data",
            LiveReason::ProviderStore => "reads a provider-side store that can change",
            LiveReason::RemoteTool => "calls tools on remote servers",
            LiveReason::ProviderFiles => "runs code over provider-side files or state",
            LiveReason::Conversation => {
                "continues a provider-side conversation that grows on every call"
            }
            LiveReason::PromptTemplate => {
                "names a stored prompt without a version (it follows the latest)"
            }
            LiveReason::SearchModel => "searches the web on every call",
        })
    }
}

impl std::error::Error for KeyError {}

impl From<ParseError> for KeyError {
    fn from(e: ParseError) -> Self {
        KeyError::Json(e)
    }
}
