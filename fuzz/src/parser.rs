//! The request parser: the same bytes give the same commands (or the same protocol error)
//! however the reads that deliver them are split.
//!
//! # Input
//! ```text
//! byte 0       limits: low 2 bits 0 = Redis's defaults, 1 = the unauthenticated ones,
//!              2 or 3 = small limits from the next 4 bytes
//! [4 bytes]    (small limits only) max_inline = 1 + b0, max_bulk = b1, max_multibulk = b2,
//!              max_query_buffer = 1 + 4 * b3
//! byte         n = number of read sizes (mod 9), then n u16 read sizes, each 1 + v, cycled;
//!              with n = 0 every read is one byte
//! byte         padding: 0 = none; else a run of the next byte, 1 + u16 + 65536 * (bit 0)
//!              long, inserted into the wire at offset u16 (mod the wire's length + 1)
//! rest         the bytes a client sends
//! ```
//! Small limits put the edges of every limit within reach of short inputs; the padding run
//! reaches the default limits (64 KB inline lines and count lines) with short inputs too. On a
//! wire of more than 4 KB, reads are at least 1/32 of it, so feeding stays fast (the parser
//! rescans an unfinished line on every read).
//!
//! # Checks
//! - Fed in reads of the drawn sizes, the parser yields exactly the commands it yields when fed
//!   everything at once, then the same error; without an error, it is left in the same state
//!   (command in progress or not, same unconsumed bytes).
//! - Every command, encoded back as a RESP multibulk, parses to itself.
//!
//! # Known divergences
//! None. The two this target found (an inline line of exactly `max_inline` bytes with a read
//! ending between its `\r` and `\n`; count lines over 64 KB whose `\n` came in a later read)
//! are fixed; their inputs stay in `fuzz/regressions/parser/`, replayed by the smoke run.

use crate::input::Input;
use bytes::{Bytes, BytesMut};
use llmcached::protocol::{Limits, ParseError, RequestParser};

/// What the parser made of a whole stream. Two outcomes agree when their commands, error and
/// final state do ([`Outcome::agrees`]).
#[derive(Debug)]
struct Outcome {
    commands: Vec<Vec<Bytes>>,
    error: Option<ParseError>,
    /// After the last read, when there was no error: a command in progress, and the bytes left
    /// in the read buffer.
    rest: Option<(bool, Vec<u8>)>,
}

impl Outcome {
    fn agrees(&self, other: &Outcome) -> bool {
        self.commands == other.commands && self.error == other.error && self.rest == other.rest
    }
}

/// Reads on a wire longer than this are at least 1/32 of it.
const SHORT_WIRE: usize = 4096;

/// Decodes the limits part of an input.
pub fn limits(input: &mut Input<'_>) -> Limits {
    match input.byte() & 3 {
        0 => Limits::default(),
        1 => Limits::default().unauthenticated(),
        _ => Limits {
            max_inline: 1 + input.byte() as usize,
            max_bulk: input.byte() as usize,
            max_multibulk: input.byte() as usize,
            max_query_buffer: 1 + 4 * input.byte() as usize,
            pre_auth: None,
        },
    }
}

pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let limits = limits(&mut input);
    let n = input.byte() as usize % 9;
    let mut sizes: Vec<usize> = (0..n).map(|_| 1 + input.u16() as usize).collect();
    let pad = input.byte();
    let wire = if pad == 0 {
        input.rest().to_vec()
    } else {
        let len = 1 + input.u16() as usize + (usize::from(pad & 1) << 16);
        let byte = input.byte();
        let at = input.u16() as usize;
        let rest = input.rest();
        let at = at % (rest.len() + 1);
        let mut wire = Vec::with_capacity(rest.len() + len);
        wire.extend_from_slice(&rest[..at]);
        wire.resize(at + len, byte);
        wire.extend_from_slice(&rest[at..]);
        wire
    };
    if sizes.is_empty() {
        sizes.push(1);
    }
    if wire.len() > SHORT_WIRE {
        let least = wire.len() / 32;
        for s in &mut sizes {
            *s = (*s).max(least);
        }
    }

    let whole = feed(&wire, &[wire.len().max(1)], &limits);
    let split = feed(&wire, &sizes, &limits);
    if !whole.agrees(&split) {
        let known = known_divergence(&whole, &split);
        if crate::strict() || known.is_none() {
            let show = |o: &Outcome| {
                let mut o = format!("{o:?}");
                if o.len() > 4000 {
                    let mut cut = 4000;
                    while !o.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    o.truncate(cut);
                    o.push_str("...");
                }
                o
            };
            panic!(
                "read boundaries changed the result (known: {known:?})\nlimits: {limits:?}\n\
                 reads: {sizes:?}\nwhole: {}\nsplit: {}",
                show(&whole),
                show(&split)
            );
        }
    }
    for cmd in &whole.commands {
        assert_eq!(
            &reparse(cmd),
            cmd,
            "a command encoded as RESP parses to something else"
        );
    }
}

/// Feeds `wire` to a fresh parser in reads of `sizes` (cycled), executing every complete
/// command at once as a connection does.
fn feed(wire: &[u8], sizes: &[usize], limits: &Limits) -> Outcome {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut commands = Vec::new();
    let mut at = 0;
    for &size in sizes.iter().cycle() {
        if at >= wire.len() {
            break;
        }
        let end = (at + size).min(wire.len());
        buf.extend_from_slice(&wire[at..end]);
        at = end;
        loop {
            match parser.next(&mut buf, limits) {
                Ok(Some(cmd)) => {
                    assert!(!cmd.is_empty(), "the parser yielded an empty command");
                    commands.push(cmd);
                }
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        commands,
                        error: Some(e),
                        rest: None,
                    }
                }
            }
        }
    }
    Outcome {
        commands,
        error: None,
        rest: Some((parser.in_progress(), buf.to_vec())),
    }
}

/// Which known divergence explains `split` differing from `whole`: none is known since the
/// parser's limits became independent of read boundaries (the inline line of exactly
/// `max_inline` bytes, and count lines over 64 KB, both now decided by the bytes alone).
fn known_divergence(_whole: &Outcome, _split: &Outcome) -> Option<&'static str> {
    None
}

/// Encodes `cmd` as a RESP multibulk and parses it back with Redis's default limits.
fn reparse(cmd: &[Bytes]) -> Vec<Bytes> {
    let wire = encode_command(cmd);
    let mut buf = BytesMut::from(&wire[..]);
    let limits = Limits::default();
    match RequestParser::new().next(&mut buf, &limits) {
        Ok(Some(back)) if buf.is_empty() => back,
        other => panic!("re-encoded command {cmd:?} parsed as {other:?}, {buf:?} left"),
    }
}

/// A command as a client library sends it: `*<n>\r\n` then `$<len>\r\n<arg>\r\n` per argument.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// How a seed sets its limits.
#[derive(Debug, Clone, Copy)]
pub enum SeedLimits {
    Default,
    Unauthenticated,
    /// max_inline - 1, max_bulk, max_multibulk, (max_query_buffer - 1) / 4, as the input's bytes.
    Small([u8; 4]),
}

/// A run of one byte inserted into a seed's wire: length (1..=131072), byte, offset.
pub type SeedPad = Option<(usize, u8, u16)>;

/// Builds an input for [`run`].
pub fn encode(limits: SeedLimits, reads: &[u16], pad: SeedPad, wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match limits {
        SeedLimits::Default => out.push(0),
        SeedLimits::Unauthenticated => out.push(1),
        SeedLimits::Small(b) => {
            out.push(2);
            out.extend_from_slice(&b);
        }
    }
    let reads = &reads[..reads.len().min(8)];
    out.push(reads.len() as u8);
    for r in reads {
        out.extend_from_slice(&r.saturating_sub(1).to_le_bytes());
    }
    match pad {
        None => out.push(0),
        Some((len, byte, at)) => {
            let len = len.clamp(1, 1 << 17) - 1;
            // Any non-zero byte pads; its bit 0 is bit 16 of the length.
            out.push(if len >= 1 << 16 { 1 } else { 2 });
            out.extend_from_slice(&((len & 0xFFFF) as u16).to_le_bytes());
            out.push(byte);
            out.extend_from_slice(&at.to_le_bytes());
        }
    }
    out.extend_from_slice(wire);
    out
}
