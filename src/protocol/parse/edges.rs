//! The inputs at and around every limit of the request parser (limit - 1, limit, limit + 1),
//! what each must give, and a harness that feeds an input in reads ending anywhere.

use super::*;

/// Everything a run over some input leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Outcome {
    pub(super) commands: Vec<Vec<Bytes>>,
    pub(super) error: Option<ParseError>,
    /// After an error these two depend on how much had arrived; they are left at zero.
    pub(super) in_progress: bool,
    pub(super) left: usize,
}

/// Parses `input` delivered as separate reads ending at each of `cuts` (any order, any
/// repeats, out-of-range ones ignored), calling the parser until it asks for more after each.
pub(super) fn run(input: &[u8], cuts: &[usize], limits: &Limits) -> Outcome {
    let mut ends: Vec<usize> = cuts.iter().copied().filter(|&c| c <= input.len()).collect();
    ends.push(input.len());
    ends.sort_unstable();
    let mut p = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut commands = Vec::new();
    let mut start = 0;
    for end in ends {
        buf.extend_from_slice(&input[start..end]);
        start = end;
        loop {
            match p.next(&mut buf, limits) {
                Ok(Some(cmd)) => commands.push(cmd),
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        commands,
                        error: Some(e),
                        in_progress: false,
                        left: 0,
                    }
                }
            }
        }
    }
    Outcome {
        commands,
        error: None,
        in_progress: p.in_progress(),
        left: buf.len(),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expect {
    /// This many commands and nothing left over.
    Commands(usize),
    /// No error, no command, and the parser waits for more.
    Waits,
    Fails(ParseError),
}

/// One input at one edge of one limit.
#[derive(Debug, Clone)]
pub(super) struct Edge {
    pub(super) what: String,
    pub(super) limits: Limits,
    pub(super) input: Vec<u8>,
    pub(super) expect: Expect,
    /// Where a read ending is most likely to matter (the limit, a `\r`, a `\n`).
    pub(super) hot: Vec<usize>,
}

/// Small limits, so that every edge is a few dozen bytes and can be split every way.
pub(super) fn tiny() -> Limits {
    Limits {
        max_bulk: 16,
        max_multibulk: 4,
        max_inline: 12,
        max_query_buffer: 64,
        pre_auth: None,
    }
}

pub(super) fn tiny_pre_auth() -> Limits {
    Limits {
        pre_auth: Some(PreAuthLimits {
            max_multibulk: 2,
            max_bulk: 8,
        }),
        ..tiny()
    }
}

pub(super) fn command(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `n` bytes of an inline line: a few words (`x y x y`), then one long one.
fn words(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            if i < 8 {
                [b'x', b' ', b'y', b' '][i % 4]
            } else {
                b'a'
            }
        })
        .collect()
}

/// `prefix` then `n - 1` digits: a line of `n` bytes whose number is `1000...`.
fn number_line(prefix: u8, n: usize) -> Vec<u8> {
    let mut line = vec![prefix];
    if n > 1 {
        line.push(b'1');
        line.resize(n, b'0');
    }
    line
}

pub(super) fn hot_bytes(input: &[u8]) -> Vec<usize> {
    let mut hot: Vec<usize> = (0..input.len())
        .filter(|&i| input[i] == b'\r' || input[i] == b'\n')
        .flat_map(|i| [i, i + 1])
        .collect();
    hot.push(input.len().saturating_sub(1));
    hot
}

/// What a complete count (`*`) or length (`$`) line announcing `value` leads to.
fn header_expect(prefix: u8, value: Option<i64>, limits: &Limits) -> Expect {
    let (max, capped, invalid, unauth) = match prefix {
        b'*' => (
            limits.max_multibulk,
            limits.pre_auth.map(|p| p.max_multibulk),
            ParseError::InvalidMultibulkLength,
            ParseError::UnauthenticatedMultibulkLength,
        ),
        _ => (
            limits.max_bulk,
            limits.pre_auth.map(|p| p.max_bulk),
            ParseError::InvalidBulkLength,
            ParseError::UnauthenticatedBulkLength,
        ),
    };
    match value {
        Some(v) if v >= 0 && v as u64 > max as u64 => Expect::Fails(invalid),
        Some(v) if capped.is_some_and(|c| v >= 0 && v as u64 > c as u64) => Expect::Fails(unauth),
        Some(v) if v >= 0 || prefix == b'*' => Expect::Waits,
        _ => Expect::Fails(invalid),
    }
}

/// The edges collected for one set of limits.
struct Edges {
    limits: Limits,
    out: Vec<Edge>,
}

impl Edges {
    fn add(&mut self, what: String, input: Vec<u8>, expect: Expect) {
        self.add_with(self.limits, what, input, expect, None);
    }

    /// Adds `input`, to be parsed under `limits`; `limit_at` is where in the input the limit
    /// is crossed, a place for reads to end.
    fn add_with(
        &mut self,
        limits: Limits,
        what: String,
        input: Vec<u8>,
        expect: Expect,
        limit_at: Option<usize>,
    ) {
        let mut hot = hot_bytes(&input);
        if let Some(at) = limit_at {
            hot.extend([at.saturating_sub(1), at, at + 1]);
        }
        self.out.push(Edge {
            what,
            limits,
            input,
            expect,
            hot,
        });
    }
}

/// What an input `d` past a limit gives: `ok` up to the limit, `too_big` past it.
fn past(d: i64, ok: Expect, too_big: ParseError) -> Expect {
    if d <= 0 {
        ok
    } else {
        Expect::Fails(too_big)
    }
}

/// The edges of every limit in `limits`, each at limit - 1, limit and limit + 1.
fn edges(limits: Limits) -> Vec<Edge> {
    let mut e = Edges {
        limits,
        out: Vec::new(),
    };
    for d in [-1i64, 0, 1] {
        let at = |limit: usize| (limit as i64 + d) as usize;

        // An inline line of `n` bytes, ended by `\r\n` or `\n`, alone or followed by a command,
        // and one whose `\n` has not arrived after its `\r`.
        let n = at(limits.max_inline);
        let one = if n == 0 { 0 } else { 1 };
        for end in [&b"\r\n"[..], b"\n"] {
            let mut line = words(n);
            line.extend_from_slice(end);
            let ok = if one == 0 {
                Expect::Waits
            } else {
                Expect::Commands(1)
            };
            let what = format!("inline {n} {end:?}");
            e.add_with(
                limits,
                what,
                line.clone(),
                past(d, ok, ParseError::TooBigInline),
                Some(n),
            );
            line.extend_from_slice(b"PING\r\n");
            let what = format!("inline {n} {end:?} then PING");
            let ok = Expect::Commands(one + 1);
            e.add_with(
                limits,
                what,
                line,
                past(d, ok, ParseError::TooBigInline),
                Some(n),
            );
        }
        let mut open = words(n);
        open.push(b'\r');
        let what = format!("inline {n} then cr");
        e.add(what, open, past(d, Expect::Waits, ParseError::TooBigInline));

        // Count and length lines with `n` bytes before their `\r`, complete and not.
        for (prefix, lead, too_big) in [
            (b'*', &b""[..], ParseError::TooBigMultibulkCount),
            (b'$', b"*1\r\n", ParseError::TooBigBulkCount),
        ] {
            let line = number_line(prefix, n);
            let value = parse_i64(&line[1..]);
            let mut open = lead.to_vec();
            open.extend_from_slice(&line);
            let mut complete = open.clone();
            complete.extend_from_slice(b"\r\n");
            let ok = header_expect(prefix, value, &limits);
            let at = Some(lead.len() + n);
            let what = format!("{} line {n} complete", prefix as char);
            e.add_with(limits, what, complete, past(d, ok, too_big.clone()), at);
            let what = format!("{} line {n} open", prefix as char);
            e.add_with(limits, what, open, past(d, Expect::Waits, too_big), at);
        }

        // The length of one bulk (given that the command's bytes are not the limit).
        let len = at(limits.max_bulk);
        if len <= 1 << 20 {
            let roomy = Limits {
                max_query_buffer: usize::MAX,
                ..limits
            };
            let input = command(&[vec![b'v'; len]]);
            // Before AUTH the smaller cap answers first, but only within the ordinary limit.
            let ok = match limits.pre_auth {
                Some(pre) if len > pre.max_bulk => {
                    Expect::Fails(ParseError::UnauthenticatedBulkLength)
                }
                _ => Expect::Commands(1),
            };
            let what = format!("bulk of {len}");
            e.add_with(
                roomy,
                what,
                input,
                past(d, ok, ParseError::InvalidBulkLength),
                None,
            );
        }

        // The argument count.
        let count = at(limits.max_multibulk);
        if count <= 64 {
            let input = command(&vec![b"a".to_vec(); count]);
            let ok = match limits.pre_auth {
                Some(pre) if count > pre.max_multibulk => {
                    Expect::Fails(ParseError::UnauthenticatedMultibulkLength)
                }
                _ => Expect::Commands(usize::from(count > 0)),
            };
            let what = format!("count of {count}");
            e.add(what, input, past(d, ok, ParseError::InvalidMultibulkLength));
        }

        // The caps before AUTH.
        if let Some(pre) = limits.pre_auth {
            let count = at(pre.max_multibulk);
            let input = command(&vec![b"a".to_vec(); count]);
            let ok = Expect::Commands(usize::from(count > 0));
            let what = format!("pre-auth count of {count}");
            e.add(
                what,
                input,
                past(d, ok, ParseError::UnauthenticatedMultibulkLength),
            );
            let len = at(pre.max_bulk);
            let input = command(&[vec![b'v'; len]]);
            let what = format!("pre-auth bulk of {len}");
            let ok = Expect::Commands(1);
            e.add(
                what,
                input,
                past(d, ok, ParseError::UnauthenticatedBulkLength),
            );
        }

        // The bytes of one command: `*1\r\n$<k>\r\n<k bytes>\r\n` of exactly the target size.
        let target = at(limits.max_query_buffer);
        let size = |k: usize| command(&[vec![b'q'; k]]).len();
        if target <= 1 << 20 {
            if let Some(k) = (0..target).find(|&k| size(k) == target) {
                let roomy = Limits {
                    max_bulk: usize::MAX,
                    pre_auth: None,
                    ..limits
                };
                let input = command(&[vec![b'q'; k]]);
                let what = format!("command of {target} bytes");
                let ok = Expect::Commands(1);
                let too_big = ParseError::QueryBufferLimit;
                e.add_with(roomy, what, input, past(d, ok, too_big), None);
            }
        }
    }
    e.out
}

/// Small limits, the same with the caps before AUTH, and the real defaults (whose bulk and
/// command limits are too large to build inputs for, and are skipped).
pub(super) fn all_edges() -> Vec<Edge> {
    let mut all = edges(tiny());
    all.extend(edges(tiny_pre_auth()));
    all.extend(edges(Limits::default().unauthenticated()));
    all
}

pub(super) static ALL_EDGES: std::sync::OnceLock<Vec<Edge>> = std::sync::OnceLock::new();

pub(super) fn check_expectation(edge: &Edge, got: &Outcome) {
    match &edge.expect {
        Expect::Commands(n) => {
            assert_eq!(got.error, None, "{}", edge.what);
            assert_eq!(got.commands.len(), *n, "{}", edge.what);
            assert!(!got.in_progress && got.left == 0, "{}", edge.what);
        }
        Expect::Waits => {
            assert_eq!(got.error, None, "{}", edge.what);
            assert!(got.commands.is_empty(), "{}", edge.what);
            assert!(got.in_progress || got.left > 0, "{}", edge.what);
        }
        Expect::Fails(e) => assert_eq!(got.error.as_ref(), Some(e), "{}", edge.what),
    }
}
