//! The ways a request stream can be broken, each with Redis 7.0's wording.

use crate::protocol::split::UnbalancedQuotes;
use std::fmt;

/// A broken request stream. The connection answers `-ERR Protocol error: <this>` and closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// `invalid multibulk length`: the count is not an integer or is above `max_multibulk`.
    InvalidMultibulkLength,
    /// `invalid bulk length`: the length is not an integer, negative, or above `max_bulk`.
    InvalidBulkLength,
    /// `unauthenticated multibulk length`: more arguments than allowed before AUTH.
    UnauthenticatedMultibulkLength,
    /// `unauthenticated bulk length`: a bulk larger than allowed before AUTH.
    UnauthenticatedBulkLength,
    /// `expected '$', got 'x'`: an element of a command array that is not a bulk string.
    ExpectedDollar(u8),
    /// `too big inline request`: an inline line longer than `max_inline`.
    TooBigInline,
    /// `too big mbulk count string`: no `\r` within `max_inline` bytes of a `*` count line.
    TooBigMultibulkCount,
    /// `too big bulk count string`: no `\r` within `max_inline` bytes of a `$` length line.
    TooBigBulkCount,
    /// `unbalanced quotes in request`: an inline line that [`split_args`] refuses.
    ///
    /// [`split_args`]: crate::protocol::split::split_args
    UnbalancedQuotes,
    /// `client query buffer limit reached`: one command of more than `max_query_buffer` bytes.
    QueryBufferLimit,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ParseError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ParseError::UnauthenticatedMultibulkLength => {
                f.write_str("unauthenticated multibulk length")
            }
            ParseError::UnauthenticatedBulkLength => f.write_str("unauthenticated bulk length"),
            ParseError::ExpectedDollar(c) => write!(f, "expected '$', got '{}'", *c as char),
            ParseError::TooBigInline => f.write_str("too big inline request"),
            ParseError::TooBigMultibulkCount => f.write_str("too big mbulk count string"),
            ParseError::TooBigBulkCount => f.write_str("too big bulk count string"),
            ParseError::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            ParseError::QueryBufferLimit => f.write_str("client query buffer limit reached"),
        }
    }
}

impl std::error::Error for ParseError {}

impl From<UnbalancedQuotes> for ParseError {
    fn from(_: UnbalancedQuotes) -> Self {
        ParseError::UnbalancedQuotes
    }
}
