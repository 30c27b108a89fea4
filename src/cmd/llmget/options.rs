//! The options of LLMGET, LLMGET_RO, LLMLOOKUP and LLMLOOKUP_RO: WAIT, MAXAGE, MAXSTALE,
//! MODE and META, in any order, each at most once, keywords case-insensitive.

use crate::cache::fresh::Limits;
use crate::cmd::{args, CommandError};
use crate::state::Shared;
use bytes::Bytes;
use std::time::Duration;

/// What a read does with the cache (TensorZero's modes plus an explicit refresh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read, lease, wait, write.
    Default,
    /// Hit or servable stale, or wait for a running fill; never a lease (`-MISS` instead).
    ReadOnly,
    /// Ignore the stored answer: wait for a running fill or take the lease; the next store
    /// replaces the answer.
    Refresh,
    /// Touch nothing: `-BYPASS`.
    Bypass,
}

/// The options of one read.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub wait: Duration,
    pub limits: Limits,
    pub mode: Mode,
    pub meta: bool,
}

/// LLMLOOKUP's own options that take values, and how many (so that a value is never read as
/// one of ours): the keying options and SEMANTIC's space, vector and distance.
const LOOKUP_OPTIONS_WITH_VALUES: [(&str, usize); 5] = [
    ("DIALECT", 1),
    ("MODEL", 1),
    ("FORMAT", 1),
    ("NAMESPACE", 1),
    ("SEMANTIC", 3),
];

impl ReadOptions {
    /// Parses the options in `a[from..]`. `read_only`: LLMGET_RO (MODE READONLY, no MODE
    /// option). `rest`: LLMLOOKUP's keying options are collected there; without it an unknown
    /// option is a syntax error.
    pub fn parse(
        a: &[Bytes],
        from: usize,
        shared: &Shared,
        read_only: bool,
        mut rest: Option<&mut Vec<Bytes>>,
    ) -> Result<ReadOptions, CommandError> {
        let (mut wait, mut max_age, mut max_stale, mut mode, mut meta) =
            (None, None, None, None, false);
        let mut i = from;
        while i < a.len() {
            let opt = &a[i];
            let value = a.get(i + 1);
            let slot = if args::is(opt, "WAIT") {
                &mut wait
            } else if args::is(opt, "MAXAGE") {
                &mut max_age
            } else if args::is(opt, "MAXSTALE") {
                &mut max_stale
            } else if args::is(opt, "MODE") && !read_only {
                if mode.is_some() {
                    return Err(CommandError::Syntax);
                }
                mode = Some(parse_mode(value.ok_or(CommandError::Syntax)?)?);
                i += 2;
                continue;
            } else if args::is(opt, "META") {
                if meta {
                    return Err(CommandError::Syntax);
                }
                meta = true;
                i += 1;
                continue;
            } else if let Some(rest) = rest.as_deref_mut() {
                let values = LOOKUP_OPTIONS_WITH_VALUES
                    .iter()
                    .find(|(w, _)| args::is(opt, w))
                    .map_or(0, |(_, n)| *n);
                // Missing values are the keying parser's (or SEMANTIC's) syntax error.
                let end = (i + 1 + values).min(a.len());
                rest.extend(a[i..end].iter().cloned());
                i = end;
                continue;
            } else {
                return Err(CommandError::Syntax);
            };
            let v = value.ok_or(CommandError::Syntax)?;
            if slot.is_some() {
                return Err(CommandError::Syntax);
            }
            *slot = Some(v);
            i += 2;
        }
        let seconds = |v: Option<&Bytes>| -> Result<Option<u64>, CommandError> {
            v.map(|v| args::uint(v).map(|s| s.saturating_mul(1000)))
                .transpose()
        };
        Ok(ReadOptions {
            wait: match wait {
                Some(ms) => Duration::from_millis(args::uint(ms)?),
                None => shared.config().llm_wait,
            },
            limits: Limits {
                max_age_ms: seconds(max_age)?,
                max_stale_ms: seconds(max_stale)?,
            },
            mode: if read_only {
                Mode::ReadOnly
            } else {
                mode.unwrap_or(Mode::Default)
            },
            meta,
        })
    }
}

fn parse_mode(v: &[u8]) -> Result<Mode, CommandError> {
    Ok(match () {
        _ if args::is(v, "DEFAULT") => Mode::Default,
        _ if args::is(v, "READONLY") => Mode::ReadOnly,
        _ if args::is(v, "REFRESH") || args::is(v, "WRITEONLY") => Mode::Refresh,
        _ if args::is(v, "BYPASS") => Mode::Bypass,
        _ => return Err(CommandError::Syntax),
    })
}
