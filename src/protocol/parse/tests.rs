//! Unit tests of the request parser: the forms, the errors, and regressions named after what
//! broke.

use super::*;

fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ParseError> {
    parse_all_with(input, &Limits::default())
}

fn parse_all_with(input: &[u8], limits: &Limits) -> Result<Vec<Vec<Bytes>>, ParseError> {
    let mut p = RequestParser::new();
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    while let Some(cmd) = p.next(&mut buf, limits)? {
        out.push(cmd);
    }
    Ok(out)
}

/// Feeds `reads` one after another, as separate reads; returns every command and the first
/// error's text.
fn feed(reads: &[&[u8]], limits: &Limits) -> (Vec<Vec<Bytes>>, Option<String>) {
    let mut p = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for read in reads {
        buf.extend_from_slice(read);
        loop {
            match p.next(&mut buf, limits) {
                Ok(Some(cmd)) => out.push(cmd),
                Ok(None) => break,
                Err(e) => return (out, Some(e.to_string())),
            }
        }
    }
    (out, None)
}

#[test]
fn multibulk_and_pipelining() {
    let cmds = parse_all(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").unwrap();
    assert_eq!(cmds.len(), 2);
    assert_eq!(cmds[1], vec![Bytes::from("GET"), Bytes::from("k")]);
}

#[test]
fn byte_by_byte_gives_the_same_command() {
    let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n";
    let reads: Vec<&[u8]> = input.chunks(1).collect();
    let (cmds, err) = feed(&reads, &Limits::default());
    assert_eq!(err, None);
    assert_eq!(cmds.len(), 1);
    assert_eq!(cmds[0][2], Bytes::from_static(b"va\r\nl"));
}

#[test]
fn empty_and_negative_counts_are_ignored() {
    let cmds = parse_all(b"*0\r\n*-5\r\n*1\r\n$4\r\nPING\r\n").unwrap();
    assert_eq!(cmds.len(), 1);
}

#[test]
fn bad_lengths_are_protocol_errors() {
    let cases: &[(&[u8], ParseError)] = &[
        (b"*abc\r\n", ParseError::InvalidMultibulkLength),
        (b"*99999999999\r\n", ParseError::InvalidMultibulkLength),
        (b"*2147483648\r\n", ParseError::InvalidMultibulkLength),
        (b"*+1\r\n", ParseError::InvalidMultibulkLength),
        (b"*\r\n", ParseError::InvalidMultibulkLength),
        (b"*1\r\n$-5\r\n", ParseError::InvalidBulkLength),
        (b"*1\r\n$\r\n", ParseError::InvalidBulkLength),
        (b"*1\r\n$10000000000\r\n", ParseError::InvalidBulkLength),
        (b"*1\r\n$536870913\r\n", ParseError::InvalidBulkLength),
        (b"*1\r\n*1\r\n", ParseError::ExpectedDollar(b'*')),
    ];
    for (input, want) in cases {
        assert_eq!(parse_all(input).as_ref(), Err(want), "{input:?}");
    }
}

#[test]
fn huge_legal_count_waits_without_allocating() {
    let mut p = RequestParser::new();
    let mut buf = BytesMut::from(&b"*1000000000\r\n$4\r\nPING\r\n"[..]);
    assert_eq!(p.next(&mut buf, &Limits::default()), Ok(None));
    assert!(p.in_progress());
}

#[test]
fn inline_commands_and_quotes() {
    let cmds = parse_all(b"PING\r\nset k \"a b\\x41\\n\"\r\n\r\nget 'it\\'s'\n").unwrap();
    assert_eq!(cmds[0], vec![Bytes::from("PING")]);
    assert_eq!(cmds[1][2], Bytes::from_static(b"a bA\n"));
    assert_eq!(cmds[2][1], Bytes::from("it's"));
    assert_eq!(
        parse_all(b"set k \"abc\r\n"),
        Err(ParseError::UnbalancedQuotes)
    );
    assert_eq!(
        parse_all(b"set k \"abc\"x\r\n"),
        Err(ParseError::UnbalancedQuotes)
    );
}

#[test]
fn inline_hex_escape_is_one_raw_byte() {
    let cmds = parse_all(b"set k \"\\xff\"\r\n").unwrap();
    assert_eq!(cmds[0][2], Bytes::from_static(b"\xff"));
}

#[test]
fn nul_bytes_inline_terminate_instead_of_looping() {
    let cmds = parse_all(b"\x00\x01garbage\x00x\r\n").unwrap();
    assert_eq!(
        cmds[0],
        vec![Bytes::from_static(b"\x01garbage"), Bytes::from("x")]
    );
}

#[test]
fn long_inline_is_rejected() {
    let line = vec![b'a'; 70 * 1024];
    assert_eq!(parse_all(&line), Err(ParseError::TooBigInline));
}

#[test]
fn unauthenticated_limits() {
    let limits = Limits::default().unauthenticated();
    assert_eq!(
        parse_all_with(b"*11\r\n", &limits),
        Err(ParseError::UnauthenticatedMultibulkLength)
    );
    assert_eq!(
        parse_all_with(b"*1\r\n$16385\r\n", &limits),
        Err(ParseError::UnauthenticatedBulkLength)
    );
    // At the caps, the command is accepted.
    let mut ten = b"*10\r\n".to_vec();
    for _ in 0..10 {
        ten.extend_from_slice(b"$1\r\nx\r\n");
    }
    assert_eq!(parse_all_with(&ten, &limits).map(|c| c.len()), Ok(1));
    let mut big = b"*1\r\n$16384\r\n".to_vec();
    big.extend_from_slice(&[b'x'; 16384]);
    big.extend_from_slice(b"\r\n");
    assert_eq!(parse_all_with(&big, &limits).map(|c| c.len()), Ok(1));
}

#[test]
fn query_buffer_limit_counts_the_whole_command() {
    // `*1\r\n` (4) + `$3\r\n` (4) + `abc\r\n` (5) = 13 bytes.
    let limits = |max| Limits {
        max_query_buffer: max,
        ..Limits::default()
    };
    assert_eq!(
        parse_all_with(b"*1\r\n$3\r\nabc\r\n", &limits(13)).map(|c| c.len()),
        Ok(1)
    );
    assert_eq!(
        parse_all_with(b"*1\r\n$3\r\nabc\r\n", &limits(12)),
        Err(ParseError::QueryBufferLimit)
    );
}

// Regressions, named after what broke.

/// A read ending between `\r` and `\n` of an inline line of exactly the maximum length used to
/// be refused with `too big inline request`; the same bytes in one read were accepted.
#[test]
fn inline_line_of_the_maximum_length_is_accepted_when_a_read_ends_between_cr_and_lf() {
    let mut line = b"ECHO ".to_vec();
    line.resize(64 * 1024, b'a');
    line.push(b'\r');
    let (split, err) = feed(&[&line, b"\n"], &Limits::default());
    assert_eq!(err, None);
    assert_eq!(split.len(), 1);
    line.push(b'\n');
    let (whole, err) = feed(&[&line], &Limits::default());
    assert_eq!(err, None);
    assert_eq!(split, whole);
}

/// An over-long `$` line was called `too big mbulk count string`, Redis's text for the `*` line.
#[test]
fn too_big_bulk_count_string_is_named_for_the_bulk_length() {
    let mut input = b"*1\r\n$".to_vec();
    input.resize(70 * 1024, b'1');
    let (_, err) = feed(&[&input], &Limits::default());
    assert_eq!(err.as_deref(), Some("too big bulk count string"));
    let mut input = b"*".to_vec();
    input.resize(70 * 1024, b'1');
    let (_, err) = feed(&[&input], &Limits::default());
    assert_eq!(err.as_deref(), Some("too big mbulk count string"));
}

/// A count line too long to wait for used to be `invalid multibulk length` when its `\r\n`
/// arrived in the same read, and `too big mbulk count string` when it did not.
#[test]
fn count_line_over_the_limit_is_too_big_even_when_its_end_arrived_with_it() {
    let mut line = b"*".to_vec();
    line.resize(64 * 1024 + 1, b'1');
    line.extend_from_slice(b"\r\n");
    let (_, whole) = feed(&[&line], &Limits::default());
    assert_eq!(whole.as_deref(), Some("too big mbulk count string"));
    let reads: Vec<&[u8]> = line.chunks(4096).collect();
    assert_eq!(feed(&reads, &Limits::default()).1, whole);
}

/// Redis ends a count or length line at its `\r` and skips the next byte unseen; a bare `\n`
/// does not end one. Lines used to end at `\n`.
#[test]
fn count_lines_end_at_cr_as_in_redis() {
    let cmds = parse_all(b"*1\rX$4\r\nPING\r\n").unwrap();
    assert_eq!(cmds, vec![vec![Bytes::from("PING")]]);
    let mut p = RequestParser::new();
    let mut buf = BytesMut::from(&b"*1\n$4\nPING\n"[..]);
    assert_eq!(p.next(&mut buf, &Limits::default()), Ok(None));
}

/// Redis looks at the first byte of an element only once its line has arrived (`*1\r\n:12`
/// waits); the error came before the line was there.
#[test]
fn expected_dollar_waits_for_the_whole_line_like_redis() {
    let (cmds, err) = feed(&[b"*1\r\n:12"], &Limits::default());
    assert!(cmds.is_empty());
    assert_eq!(err, None);
    let (_, err) = feed(&[b"*1\r\n:12", b"\r\n"], &Limits::default());
    assert_eq!(err.as_deref(), Some("expected '$', got ':'"));
}

/// Before AUTH, a count above `INT_MAX` or a length above `proto-max-bulk-len` is an invalid
/// length, as in Redis; both used to be called unauthenticated.
#[test]
fn unauthenticated_lengths_past_the_protocol_limits_are_invalid_not_unauthenticated() {
    let limits = Limits::default().unauthenticated();
    let (_, err) = feed(&[b"*99999999999\r\n"], &limits);
    assert_eq!(err.as_deref(), Some("invalid multibulk length"));
    let (_, err) = feed(&[b"*1\r\n$600000000\r\n"], &limits);
    assert_eq!(err.as_deref(), Some("invalid bulk length"));
}

/// C's `isspace`, which Redis uses between words, includes `\v`; a leading `\v` used to be part
/// of the command name.
#[test]
fn vertical_tab_separates_inline_words() {
    let cmds = parse_all(b"\x0bPING \x0b\r\n").unwrap();
    assert_eq!(cmds, vec![vec![Bytes::from("PING")]]);
}
