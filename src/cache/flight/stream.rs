//! The bytes of a flight's current attempt and the three commands on them: reading from a
//! cursor (LLMREAD), appending (LLMAPPEND) and ending the attempt as the stored answer (LLMEND).
//!
//! A stream is bytes, not messages: chunk boundaries are not kept for readers (clients append
//! self-delimiting frames). Chunks are kept as the leader sent them, so a reader that is caught
//! up receives the newest chunk without a copy; a read spanning several chunks is joined.
//!
//! # Reading
//! A cursor is `(gen, offset)`: a byte offset into attempt `gen`. What a read answers, by what
//! the key holds (a running flight first; without one, the store, under the shard lock):
//! - a stored answer: `done` with its bytes from the offset when the cursor names the generation
//!   that produced it (remembered in memory only) or has offset 0; `reset` with the answer from
//!   0 when it names another generation with an offset above 0.
//! - a running attempt: `data` with the bytes from the offset when the cursor names it (or is
//!   [`Cursor::Start`]), or blocks when there are none yet; `reset` with the attempt from 0 when
//!   it names another generation.
//! - nothing: the reader leads a new flight.
//!
//! A LIMIT that cuts the rest of a finished answer gives `data` for every piece but the last.

use super::{Flight, Flights, Lease, Remembered, Shard, ENDED_FOR, ENDED_PER_SHARD};
use crate::cache::Entry;
use bytes::{Bytes, BytesMut};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// The bytes appended to one attempt.
#[derive(Default)]
pub(super) struct Stream {
    chunks: Vec<Bytes>,
    /// `ends[i]`: the offset just past `chunks[i]`.
    ends: Vec<u64>,
    /// Set by the first LLMAPPEND, even an empty one: the attempt is being streamed.
    started: bool,
}

impl Stream {
    pub(super) fn len(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    pub(super) fn started(&self) -> bool {
        self.started
    }

    fn push(&mut self, chunk: Bytes) {
        self.started = true;
        if !chunk.is_empty() {
            let end = self.len() + chunk.len() as u64;
            self.chunks.push(chunk);
            self.ends.push(end);
        }
    }

    /// Bytes `offset..` (at most `limit` of them); `offset` must be at most `len()`.
    fn slice(&self, offset: u64, limit: u64) -> Bytes {
        let end = self.len().min(offset.saturating_add(limit));
        if offset >= end {
            return Bytes::new();
        }
        let first = self.ends.partition_point(|&e| e <= offset);
        let start_of = |i: usize| if i == 0 { 0 } else { self.ends[i - 1] };
        if end <= self.ends[first] {
            let s = start_of(first);
            return self.chunks[first].slice((offset - s) as usize..(end - s) as usize);
        }
        let mut out = BytesMut::with_capacity((end - offset) as usize);
        let (mut pos, mut i) = (offset, first);
        while pos < end {
            let s = start_of(i);
            let upto = end.min(self.ends[i]);
            out.extend_from_slice(&self.chunks[i][(pos - s) as usize..(upto - s) as usize]);
            pos = upto;
            i += 1;
        }
        out.freeze()
    }

    /// The whole attempt as one value.
    fn concat(&self) -> Bytes {
        self.slice(0, u64::MAX)
    }

    pub(super) fn is_prefix_of(&self, value: &[u8]) -> bool {
        let mut pos = 0usize;
        for c in &self.chunks {
            match value.get(pos..pos + c.len()) {
                Some(part) if part == c.as_ref() => pos += c.len(),
                _ => return false,
            }
        }
        true
    }
}

/// Where a reader is: [`Cursor::Start`] (`0` or `0-0`: the start of whatever is current) or a
/// byte offset into one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    Start,
    At { gen: u64, offset: u64 },
}

impl Cursor {
    /// The byte offset it names (0 for [`Cursor::Start`]).
    pub fn offset(self) -> u64 {
        match self {
            Cursor::Start => 0,
            Cursor::At { offset, .. } => offset,
        }
    }
}

/// LLMREAD's reply states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadState {
    Data,
    Done,
    Lead,
    Reset,
}

impl ReadState {
    pub fn word(self) -> &'static str {
        match self {
            ReadState::Data => "data",
            ReadState::Done => "done",
            ReadState::Lead => "lead",
            ReadState::Reset => "reset",
        }
    }
}

/// One LLMREAD reply: the state, the cursor to continue from (`gen-offset`) and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReply {
    pub state: ReadState,
    pub gen: u64,
    pub offset: u64,
    pub data: Bytes,
    /// For `done`: what the answer cost (tokens saved).
    pub tokens: u64,
    /// For `lead` on a miss: the new flight, whose lease timer the caller starts. `None` when a
    /// promotion handed on a running flight's lease.
    pub new_flight: Option<u64>,
}

/// A stored answer as a read sees it.
pub struct Stored {
    pub entry: Arc<Entry>,
    pub value: Bytes,
}

/// What [`Flights::read`] decided.
pub enum ReadStep {
    Ready(ReadReply),
    /// Nothing new yet: await the guard, then read again with it.
    Pending(super::ReadWait),
}

/// Why LLMREAD, LLMAPPEND or LLMEND refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    /// `-ERR cursor offset is past the end of the answer`.
    PastEnd,
    /// `-NOLEASE ...`: `gen` is not the current attempt of a running flight.
    NoLease(u64),
    /// The append would grow the stream past the cap (in bytes).
    TooBig(u64),
    /// The append would grow open streams past the server's byte budget.
    OverBudget,
    /// The key is in the BACKOFF window of a failed fill: no lease is granted.
    Backoff(super::BackoffLeft),
}

/// A read's position and bound.
#[derive(Debug, Clone, Copy)]
pub struct Want {
    pub cursor: Cursor,
    pub limit: u64,
}

fn reply(state: ReadState, gen: u64, offset: u64, data: Bytes) -> ReadReply {
    ReadReply {
        state,
        gen,
        offset,
        data,
        tokens: 0,
        new_flight: None,
    }
}

impl Flights {
    /// LLMREAD: answers from the store or the running attempt, leads a new flight, or registers
    /// `client` as a blocked reader (which may be promoted to lead). `lookup` reads the store
    /// under the shard lock; its error (WRONGTYPE) is the read's.
    pub fn read<E: From<StreamError>>(
        &self,
        key: &Bytes,
        client: u64,
        want: Want,
        lookup: impl FnOnce() -> Result<Option<Stored>, E>,
    ) -> Result<ReadStep, E> {
        self.read_as(key, client, want, None, lookup)
    }

    /// Reads again for a reader that was woken (keeps its place in the promotion order).
    pub fn reread<E: From<StreamError>>(
        &self,
        wait: super::ReadWait,
        want: Want,
        lookup: impl FnOnce() -> Result<Option<Stored>, E>,
    ) -> Result<ReadStep, E> {
        let (key, client, seq) = wait.into_parts();
        self.read_as(&key, client, want, Some(seq), lookup)
    }

    fn read_as<E: From<StreamError>>(
        &self,
        key: &Bytes,
        client: u64,
        want: Want,
        seq: Option<u64>,
        lookup: impl FnOnce() -> Result<Option<Stored>, E>,
    ) -> Result<ReadStep, E> {
        let mut shard = self.shard(key);
        let step = self.decide(&mut shard, key, client, want, seq, lookup);
        if let (Some(seq), Ok(ReadStep::Ready(_)) | Err(_)) = (seq, &step) {
            // Not blocked any more: leaves the promotion order (a no-op if promoted).
            if let Some(f) = shard.flights.get_mut(key.as_ref()) {
                f.readers.remove(&seq);
            }
            self.readers_moved(false);
        }
        step
    }

    fn decide<E: From<StreamError>>(
        &self,
        shard: &mut Shard,
        key: &Bytes,
        client: u64,
        want: Want,
        seq: Option<u64>,
        lookup: impl FnOnce() -> Result<Option<Stored>, E>,
    ) -> Result<ReadStep, E> {
        // A running flight answers without a store lookup: its answer is written to the store
        // before the flight ends (under this lock, or just before it), and readers are woken
        // then and look again. This keeps a moka lookup off every read of a hot stream.
        if !shard.flights.contains_key(key.as_ref()) {
            if let Some(stored) = lookup()? {
                let answer_gen = remembered(shard, key, &stored.entry).unwrap_or(0);
                return Ok(ReadStep::Ready(read_stored(&stored, answer_gen, want)?));
            }
        }
        if !shard.flights.contains_key(key.as_ref()) {
            if let Some(left) = super::fresh::backoff_left(shard, key) {
                return Err(StreamError::Backoff(left).into());
            }
        }
        let Some(flight) = shard.flights.get_mut(key.as_ref()) else {
            let lease = self.open(shard, key, client);
            let mut r = reply(ReadState::Lead, lease.gen, 0, Bytes::new());
            r.new_flight = Some(lease.flight);
            return Ok(ReadStep::Ready(r));
        };
        if seq.is_some() && flight.promoted == seq {
            flight.promoted = None;
            return Ok(ReadStep::Ready(reply(
                ReadState::Lead,
                flight.gen,
                0,
                Bytes::new(),
            )));
        }
        let len = flight.stream.len();
        let offset = match want.cursor {
            Cursor::At { gen, offset } if gen == flight.gen => offset,
            Cursor::Start => 0,
            Cursor::At { .. } => {
                let data = flight.stream.slice(0, want.limit);
                let offset = data.len() as u64;
                return Ok(ReadStep::Ready(reply(
                    ReadState::Reset,
                    flight.gen,
                    offset,
                    data,
                )));
            }
        };
        if offset > len {
            return Err(StreamError::PastEnd.into());
        }
        if offset < len {
            let data = flight.stream.slice(offset, want.limit);
            let end = offset + data.len() as u64;
            return Ok(ReadStep::Ready(reply(
                ReadState::Data,
                flight.gen,
                end,
                data,
            )));
        }
        let seq = seq.unwrap_or_else(|| {
            self.readers_moved(true);
            self.next_id()
        });
        flight.readers.insert(seq, client);
        let rx = flight.signal.subscribe();
        Ok(ReadStep::Pending(super::ReadWait::new(
            self.clone(),
            key.clone(),
            client,
            seq,
            flight.gen,
            rx,
        )))
    }

    /// LLMAPPEND: adds `chunk` to the attempt `gen` of `key`'s flight and renews its lease.
    /// Returns the attempt's new length. `max` caps one stream; `budget` caps all open streams.
    pub fn append(
        &self,
        key: &[u8],
        gen: u64,
        chunk: Bytes,
        max: u64,
        budget: u64,
    ) -> Result<u64, StreamError> {
        let mut shard = self.shard(key);
        let flight = current(&mut shard, key, gen)?;
        let n = chunk.len() as u64;
        let len = flight.stream.len();
        if len + n > max {
            return Err(StreamError::TooBig(max));
        }
        let g = &self.inner.g;
        if n > 0 && g.stream_bytes.load(Ordering::Relaxed) + n > budget {
            return Err(StreamError::OverBudget);
        }
        if !flight.stream.started() {
            g.streams_active.fetch_add(1, Ordering::Relaxed);
        }
        flight.stream.push(chunk);
        g.stream_bytes.fetch_add(n, Ordering::Relaxed);
        flight.deadline = Instant::now() + self.lease();
        if n > 0 {
            // One broadcast wakes every blocked reader; a heartbeat has nothing to read.
            flight.signal.send_replace(None);
        }
        Ok(len + n)
    }

    /// LLMEND: makes attempt `gen`'s bytes the answer. `store(bytes, refreshing)` writes the
    /// store (under the shard lock, so no reader sees neither the attempt nor the answer;
    /// `refreshing`: the lease refreshes a stored answer, which it replaces) and returns LLMSETNX's reply,
    /// the answer now stored, its tokens and its entry. Readers then finish as after
    /// [`Flights::complete`].
    pub fn end<E: From<StreamError>>(
        &self,
        key: &[u8],
        gen: u64,
        store: impl FnOnce(Bytes, bool) -> Result<(i64, Bytes, u64, Option<Arc<Entry>>), E>,
    ) -> Result<i64, E> {
        let mut shard = self.shard(key);
        let flight = current(&mut shard, key, gen)?;
        let (value, refreshing) = (flight.stream.concat(), flight.refresh);
        let (stored, answer, tokens, entry) = store(value, refreshing)?;
        self.finish(&mut shard, key, &answer, tokens, entry.as_ref());
        Ok(stored)
    }

    /// Renews the lease `(key, gen)` without appending; false if it is not current.
    pub fn renew(&self, key: &[u8], gen: u64) -> bool {
        let mut shard = self.shard(key);
        let lease = self.lease();
        match current(&mut shard, key, gen) {
            Ok(f) => {
                f.deadline = Instant::now() + lease;
                true
            }
            Err(_) => false,
        }
    }

    /// Remembers that `key`'s stored `entry` came from attempt `gen` (a store made outside
    /// [`Flights::end`], e.g. after a restart); cursors of `gen` then continue into it.
    pub fn remember_answer(&self, key: &[u8], gen: u64, entry: &Arc<Entry>) {
        remember(&mut self.shard(key), key, gen, entry);
    }

    /// Whether `lease` is still the current attempt of its key.
    pub fn holds(&self, key: &[u8], lease: Lease) -> bool {
        matches!(self.shard(key).flights.get(key), Some(f) if f.id == lease.flight && f.gen == lease.gen && f.promoted.is_none())
    }
}

/// The running flight of `key` if `gen` is its current attempt and that attempt has a holder
/// (a promoted reader that has not claimed it yet does not count).
fn current<'a>(shard: &'a mut Shard, key: &[u8], gen: u64) -> Result<&'a mut Flight, StreamError> {
    match shard.flights.get_mut(key) {
        Some(f) if f.gen == gen && f.promoted.is_none() => Ok(f),
        _ => Err(StreamError::NoLease(gen)),
    }
}

/// The generation a stored `entry` of `key` was streamed at, if it is still remembered.
fn remembered(shard: &Shard, key: &[u8], entry: &Arc<Entry>) -> Option<u64> {
    let r = shard.ended.get(key)?;
    (r.entry.as_ptr() == Arc::as_ptr(Entry::stored_of(entry))).then_some(r.gen)
}

/// Records that `key`'s stored `entry` was streamed at `gen`, sweeping what is no longer needed.
pub(super) fn remember(shard: &mut Shard, key: &[u8], gen: u64, entry: &Arc<Entry>) {
    let now = Instant::now();
    if shard.ended.len() >= ENDED_PER_SHARD {
        shard
            .ended
            .retain(|_, r| r.entry.strong_count() > 0 && now.duration_since(r.at) < ENDED_FOR);
        if shard.ended.len() >= ENDED_PER_SHARD {
            // Forgetting only costs readers mid-stream a `reset` and a re-read from 0.
            shard.ended.clear();
        }
    }
    shard.ended.insert(
        Bytes::copy_from_slice(key),
        Remembered {
            gen,
            // The stored entry: a compressed answer reads as a new entry each time.
            entry: Arc::downgrade(Entry::stored_of(entry)),
            at: now,
        },
    );
}

/// A read of a stored answer produced by attempt `answer_gen` (0: not remembered).
fn read_stored(s: &Stored, answer_gen: u64, want: Want) -> Result<ReadReply, StreamError> {
    let len = s.value.len() as u64;
    let (state, from) = match want.cursor {
        Cursor::At { gen, offset } if gen == answer_gen => {
            if offset > len {
                return Err(StreamError::PastEnd);
            }
            (ReadState::Done, offset)
        }
        c if c.offset() == 0 => (ReadState::Done, 0),
        _ => (ReadState::Reset, 0),
    };
    let end = len.min(from.saturating_add(want.limit));
    let state = match state {
        ReadState::Done if end < len => ReadState::Data,
        s => s,
    };
    let data = s.value.slice(from as usize..end as usize);
    Ok(ReadReply {
        state,
        gen: answer_gen,
        offset: end,
        data,
        tokens: s.entry.tokens,
        new_flight: None,
    })
}

#[cfg(test)]
impl Stream {
    pub(super) fn push_for_tests(&mut self, chunk: Bytes) {
        self.push(chunk);
    }
}
