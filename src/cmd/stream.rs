//! Streaming single-flight: LLMREAD, LLMAPPEND, LLMEND.
//!
//! A leader streams the answer into the key's flight while any number of readers receive it
//! live; the finished bytes become the stored answer. Plain LLMGET callers of the same key keep
//! waiting for the complete answer, so streaming and non-streaming callers share one model call.
//!
//! # Format
//! ```text
//! LLMREAD key [FROM cursor] [WAIT ms] [LIMIT bytes]
//!     -> [state, cursor, data]     always three bulk strings; cursor is "<gen>-<offset>"
//!        data   the answer is being produced: the bytes from the cursor on (may be empty when
//!               WAIT ran out). Call again from the new cursor.
//!        done   the answer is stored: the rest of it. Stop.
//!        lead   this caller holds the fill lease at <gen>: stream with LLMAPPEND key <gen> ...
//!        reset  the attempt being read was abandoned or replaced: discard what was read;
//!               data is the current attempt from offset 0.
//!     FROM 0 (default; also 0-0) is the start of whatever is current. WAIT defaults to
//!     llm-wait-ms and 0 never blocks; inside MULTI it never blocks. LIMIT (1 to
//!     proto-max-bulk-len, the default) caps the bytes of one reply.
//! LLMAPPEND key gen chunk  -> (integer) the attempt's new length; renews the lease (an empty
//!                             chunk is a heartbeat). -NOLEASE when gen is not the current attempt.
//! LLMEND key gen [EX seconds | PX milliseconds] [TOKENS n] [GRACE seconds]
//!     -> 1 the streamed bytes are the stored answer, 0 an answer was already there (it stays).
//! ```

use super::args::{self, Args};
use super::keyspace::{owned, string_of};
use super::lease::spawn_lease_timer;
use super::llm::{parse_gen, store_answer, SetNx};
use super::{CommandError, Ctx, Flow};
use crate::cache::flight::stream::Want;
use crate::cache::flight::{Cursor, ReadReply, ReadState, ReadStep, Stored, StreamError, Woken};
use crate::cache::Store;
use crate::protocol::Reply;
use crate::state::Shared;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

impl From<StreamError> for CommandError {
    fn from(e: StreamError) -> CommandError {
        match e {
            StreamError::PastEnd => {
                CommandError::err("cursor offset is past the end of the answer")
            }
            StreamError::NoLease(gen) => CommandError::coded(format!(
                "NOLEASE no fill lease is held for this key at generation {gen}"
            )),
            StreamError::TooBig(max) => CommandError::err(format!(
                "LLMAPPEND would grow the stream past llm-stream-max-bytes ({max})"
            )),
            StreamError::OverBudget => {
                CommandError::coded("OOM command not allowed when used memory > 'maxmemory'.")
            }
            StreamError::Backoff(left) => super::llmget::backoff_error(left),
        }
    }
}

/// Parses a cursor: `0`, or `<u64>-<u64>` in plain decimal digits.
pub fn parse_cursor(arg: &[u8]) -> Result<Cursor, CommandError> {
    let invalid = || CommandError::err("invalid cursor");
    if arg == b"0" {
        return Ok(Cursor::Start);
    }
    let s = std::str::from_utf8(arg).map_err(|_| invalid())?;
    let (g, o) = s.split_once('-').ok_or_else(invalid)?;
    let num = |t: &str| -> Result<u64, CommandError> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        t.parse::<u64>().map_err(|_| invalid())
    };
    match (num(g)?, num(o)?) {
        (0, 0) => Ok(Cursor::Start),
        (gen, offset) => Ok(Cursor::At { gen, offset }),
    }
}

/// A parsed `LLMREAD key [FROM cursor] [WAIT ms] [LIMIT bytes]`; each option at most once, in
/// any order, keywords case-insensitive.
#[derive(Debug, Clone, Copy)]
struct ReadArgs {
    want: Want,
    wait: Duration,
}

impl ReadArgs {
    fn parse(a: &[Bytes], default_wait: Duration, max_limit: u64) -> Result<Self, CommandError> {
        let (mut from, mut wait, mut limit) = (None, None, None);
        let mut args = Args::new(a);
        args.next_bytes()?;
        while let Some(opt) = args.peek() {
            args.next_bytes()?;
            let val = args.next_bytes()?;
            if args::is(opt, "FROM") && from.is_none() {
                from = Some(val);
            } else if args::is(opt, "WAIT") && wait.is_none() {
                wait = Some(val);
            } else if args::is(opt, "LIMIT") && limit.is_none() {
                limit = Some(val);
            } else {
                return Err(CommandError::Syntax);
            }
        }
        // Numbers are read after the syntax, as Redis does: a syntax error wins.
        let wait = match wait {
            Some(w) => Duration::from_millis(args::uint(w)?),
            None => default_wait,
        };
        let limit = match limit {
            Some(l) => match args::uint(l)? {
                n if n >= 1 && n <= max_limit => n,
                _ => return Err(CommandError::NotInteger),
            },
            None => max_limit,
        };
        let cursor = from.map_or(Ok(Cursor::Start), |c| parse_cursor(c))?;
        Ok(ReadArgs {
            want: Want { cursor, limit },
            wait,
        })
    }
}

/// The key's stored answer for a read, `WRONGTYPE` for another type.
fn lookup(store: &Store, key: &[u8]) -> Result<Option<Stored>, CommandError> {
    match store.get(key) {
        Some(entry) => {
            let value = string_of(&entry)?.clone();
            Ok(Some(Stored { entry, value }))
        }
        None => Ok(None),
    }
}

fn array(state: ReadState, gen: u64, offset: u64, data: Bytes) -> Reply {
    Reply::Array(vec![
        Reply::from_static(state.word()),
        Reply::text(format!("{gen}-{offset}")),
        Reply::Bulk(data),
    ])
}

/// Turns a read's outcome into the reply, counting it and starting a new flight's lease timer.
fn answer(shared: &Arc<Shared>, key: &Bytes, r: ReadReply, from: Cursor) -> Reply {
    let stats = shared.store.stats();
    if !r.data.is_empty() {
        stats.stream_readers_served.incr();
    }
    match r.state {
        ReadState::Lead => {
            if let Some(flight) = r.new_flight {
                stats.llm_misses.incr();
                stats.record_model(key, false, 0);
                spawn_lease_timer(shared, key.clone(), flight);
            }
        }
        ReadState::Done => {
            // A read of a stored answer from its start is a hit; finishing a followed stream
            // is a coalesced wait. Either saves the answer's tokens once.
            if from == Cursor::Start {
                stats.llm_hits.incr();
            } else {
                stats.coalesced.incr();
            }
            stats.tokens_saved.add(r.tokens);
            stats.record_model(key, true, r.tokens);
        }
        ReadState::Data | ReadState::Reset => {}
    }
    array(r.state, r.gen, r.offset, r.data)
}

/// `LLMREAD key [FROM cursor] [WAIT ms] [LIMIT bytes]`
pub fn llmread(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let config = ctx.shared.config();
    let r = ReadArgs::parse(a, config.llm_wait, config.proto_max_bulk_len as u64)?;
    ctx.client.used_leases = true;
    let shared = ctx.shared.clone();
    let key = owned(&a[1]);
    let client = ctx.client.id();
    let step = shared
        .flights
        .read(&key, client, r.want, || lookup(&shared.store, &key))?;
    let mut wait = match step {
        ReadStep::Ready(reply) => {
            return Ok(Flow::Reply(answer(&shared, &key, reply, r.want.cursor)))
        }
        ReadStep::Pending(w) => w,
    };
    // Caught up: the cursor to give back when nothing new comes.
    let offset = r.want.cursor.offset();
    let same = move |gen: u64| array(ReadState::Data, gen, offset, Bytes::new());
    if ctx.client.in_exec || r.wait.is_zero() {
        return Ok(Flow::Reply(same(wait.gen())));
    }
    let deadline = tokio::time::Instant::now() + r.wait;
    Ok(Flow::Wait(Box::pin(async move {
        loop {
            match tokio::time::timeout_at(deadline, wait.changed()).await {
                Err(_) => return same(wait.gen()),
                Ok(Woken::Cancelled(msg)) => return Reply::Error(msg),
                Ok(Woken::Changed) => {}
            }
            let again = shared
                .flights
                .reread(wait, r.want, || lookup(&shared.store, &key));
            match again {
                Ok(ReadStep::Ready(reply)) => return answer(&shared, &key, reply, r.want.cursor),
                Ok(ReadStep::Pending(w)) => wait = w,
                Err(e) => return e.into(),
            }
        }
    })))
}

/// `LLMAPPEND key gen chunk`
pub fn llmappend(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<crate::protocol::Reply, CommandError> {
    let gen = parse_gen(&a[2])?;
    let shared = ctx.shared;
    let config = shared.config();
    let chunk = &a[3];
    let len = shared.flights.append(
        &a[1],
        gen,
        owned(chunk),
        config.llm_stream_max_bytes,
        shared.store.max_bytes(),
    )?;
    let stats = shared.store.stats();
    stats.stream_appends.incr();
    stats.stream_bytes_appended.add(chunk.len() as u64);
    Ok(Reply::Int(len as i64))
}

/// `LLMEND key gen [EX seconds | PX milliseconds] [TOKENS n] [GRACE seconds]`
pub fn llmend(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let gen = parse_gen(&a[2])?;
    let s = SetNx::parse(a, 3)?;
    let shared = ctx.shared;
    // Validated before the flight is touched: a bad EX leaves the stream as it was.
    s.entry(shared, Bytes::new(), "llmend")?;
    let key = &a[1];
    let tier = shared.tier.clone();
    let up = tier.as_ref().is_some_and(|t| t.is_up());
    let mut replace = false;
    let stored = shared.flights.end(key, gen, |value, refreshing| {
        replace = refreshing;
        let entry = s.entry(shared, value, "llmend")?;
        let entry = match &tier {
            Some(t) if up => entry.near_copy(t.near_until()),
            _ => entry,
        };
        store_answer(shared, key, entry, refreshing)
    })?;
    // The streamed answer goes to the tier like an LLMSETNX's (streams themselves stay local).
    Ok(super::fleet::stored(ctx, key, stored, up, replace))
}
