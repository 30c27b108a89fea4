//! The size limits a request must keep to, with Redis 7's defaults.

/// Size limits applied while parsing. Defaults are Redis 7's.
///
/// Every limit is a property of the bytes of one command, never of how they were split into
/// reads: the same bytes meet or break a limit however they arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk string (`proto-max-bulk-len`, 512 MB); a longer one is `invalid bulk length`.
    pub max_bulk: usize,
    /// Largest argument count of one command (Redis accepts up to `INT_MAX`; so do we, and since
    /// nothing is reserved for the count, memory is bounded by `max_query_buffer` instead).
    pub max_multibulk: usize,
    /// Longest inline command line, line terminator not counted (`PROTO_INLINE_MAX_SIZE`,
    /// 64 KB). Redis uses the same figure for the count and length lines of a RESP request: at
    /// most this many bytes, prefix included, may come before their `\r`.
    pub max_inline: usize,
    /// Most bytes one RESP command may take on the wire, count line included
    /// (`client-query-buffer-limit`, 1 GB).
    pub max_query_buffer: usize,
    /// The caps of a client that has not authenticated yet; `None` once it has, or when the
    /// server has no password.
    pub pre_auth: Option<PreAuthLimits>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk: 512 * 1024 * 1024,
            max_multibulk: i32::MAX as usize,
            max_inline: 64 * 1024,
            max_query_buffer: 1024 * 1024 * 1024,
            pre_auth: None,
        }
    }
}

impl Limits {
    /// These limits with Redis's much smaller caps for a client that has not authenticated, so
    /// that an unauthenticated peer cannot make the server buffer large requests.
    pub fn unauthenticated(self) -> Limits {
        Limits {
            pre_auth: Some(PreAuthLimits::default()),
            ..self
        }
    }
}

/// What Redis allows a client before it authenticates (`authRequired` in `networking.c`).
///
/// These are checked after the ordinary limits, as Redis does: a count above `INT_MAX` is an
/// `invalid multibulk length` even before AUTH, and a count of 11 is an `unauthenticated
/// multibulk length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreAuthLimits {
    /// Most arguments in one command (10).
    pub max_multibulk: usize,
    /// Largest bulk string (16 KB).
    pub max_bulk: usize,
}

impl Default for PreAuthLimits {
    fn default() -> Self {
        PreAuthLimits {
            max_multibulk: 10,
            max_bulk: 16 * 1024,
        }
    }
}
