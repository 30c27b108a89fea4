//! The RESP wire protocol: requests in, replies out.
//!
//! - [`parse`]: a request parser with Redis's limits (RESP multibulk and inline commands).
//! - [`split`]: Redis's `sdssplitargs`, splitting a line into arguments (inline commands and
//!   redis.conf lines).
//! - [`printf`]: C's `%g`, as Redis prints doubles in text.
//! - [`reply`]: typed replies and their RESP2 / RESP3 encodings.
//! - [`args`]: helpers that turn raw arguments into typed values with Redis's error texts.

pub mod parse;
pub mod printf;
pub mod reply;
pub mod split;

pub use parse::{Limits, ParseError, RequestParser};
pub use reply::{Protocol, Reply};
