//! Inline commands: one line of words, as a person types over telnet (`SET k "a b"`), split
//! with Redis's `sdssplitargs` rules.

use super::line::{self, Line, LineScan};
use super::{Limits, ParseError};
use crate::protocol::split::split_args;
use bytes::{Bytes, BytesMut};

/// Takes the inline command at the start of `buf`. `Ok(None)` while its line is incomplete;
/// an empty line gives an empty command, which the caller skips.
pub(super) fn next(
    buf: &mut BytesMut,
    limits: &Limits,
    scan: &mut LineScan,
) -> Result<Option<Vec<Bytes>>, ParseError> {
    match line::inline(buf, limits.max_inline, scan) {
        Line::Incomplete => Ok(None),
        Line::TooBig => Err(ParseError::TooBigInline),
        Line::Complete { content, next } => {
            let args = split_args(&buf[..content])?;
            scan.skip(buf, next);
            Ok(Some(args.into_iter().map(Bytes::from).collect()))
        }
    }
}
