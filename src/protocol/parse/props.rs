//! Property tests of the request parser: the same bytes give the same commands and the same
//! error however they are split into reads, in general and exactly at every limit's edges
//! (limit - 1, limit, limit + 1): inline line, count and length lines, bulk length, argument
//! count, query buffer, and the caps before AUTH.

use super::edges::{
    all_edges, check_expectation, command, hot_bytes, run, tiny, tiny_pre_auth, ALL_EDGES,
};
use super::*;
use proptest::prelude::*;

/// Every edge, read whole, read byte by byte, and cut once at every position (the inputs of
/// the real 64 KB limit are cut only at and around their lines' ends and the limit).
#[test]
fn every_limit_edge_gives_one_answer_however_it_is_split() {
    for edge in all_edges() {
        let whole = run(&edge.input, &[], &edge.limits);
        check_expectation(&edge, &whole);
        let every: Vec<usize> = (0..edge.input.len()).collect();
        assert_eq!(
            run(&edge.input, &every, &edge.limits),
            whole,
            "{} byte by byte",
            edge.what
        );
        let mut cuts: Vec<usize> = if edge.input.len() <= 4096 {
            every
        } else {
            edge.hot
                .iter()
                .flat_map(|&h| h.saturating_sub(2)..h + 3)
                .collect()
        };
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            assert_eq!(
                run(&edge.input, &[cut], &edge.limits),
                whole,
                "{} cut at {cut}",
                edge.what
            );
        }
    }
}

/// Bytes that tend to form requests, so that arbitrary sequences reach every state.
fn protocolish() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(&b"*"[..]),
        Just(&b"$"[..]),
        Just(&b"\r"[..]),
        Just(&b"\n"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"1"[..]),
        Just(&b"2"[..]),
        Just(&b"0"[..]),
        Just(&b"-1"[..]),
        Just(&b"16"[..]),
        Just(&b"x"[..]),
        Just(&b" "[..]),
        Just(&b"\""[..]),
        Just(&b"'"[..]),
        Just(&b"\\"[..]),
        Just(&b"PING"[..]),
        Just(&b"*1\r\n$4\r\nPING\r\n"[..]),
        Just(&b"aaaaaaaaaaaa"[..]),
        Just(&b"\x00"[..]),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|ts| ts.concat())
}

/// Read endings: anywhere, or at and around the points of `hot`.
fn cuts_for(len: usize, hot: &[usize], picks: &[(bool, usize, i8)]) -> Vec<usize> {
    picks
        .iter()
        .map(|&(near, at, off)| {
            if near && !hot.is_empty() {
                (hot[at % hot.len()] as i64 + off as i64).clamp(0, len as i64) as usize
            } else {
                at % (len + 1)
            }
        })
        .collect()
}

fn picks() -> impl Strategy<Value = Vec<(bool, usize, i8)>> {
    proptest::collection::vec((any::<bool>(), any::<usize>(), -2i8..=2), 0..8)
}

proptest! {
    /// Nothing a client sends makes the parser panic or loop: it yields commands, asks
    /// for more, or reports a protocol error.
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&data[..]);
        let limits = Limits::default();
        for _ in 0..data.len() + 1 {
            match p.next(&mut buf, &limits) {
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => break,
            }
        }
    }

    /// A command split at any point across two reads parses to the same arguments.
    #[test]
    fn split_reads_give_the_same_command(
        args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..6),
        cut in 0usize..10_000,
    ) {
        let wire = command(&args);
        let got = run(&wire, &[cut % (wire.len() + 1)], &Limits::default());
        let got: Vec<Vec<u8>> = got.commands[0].iter().map(|b| b.to_vec()).collect();
        prop_assert_eq!(got, args);
    }

    /// Any input near the small limits, cut into reads anywhere: the same outcome as in one
    /// read.
    #[test]
    fn arbitrary_input_gives_one_answer_however_it_is_split(
        input in protocolish(),
        picks in picks(),
        pre_auth in any::<bool>(),
    ) {
        let limits = if pre_auth { tiny_pre_auth() } else { tiny() };
        let hot = hot_bytes(&input);
        let cuts = cuts_for(input.len(), &hot, &picks);
        prop_assert_eq!(run(&input, &cuts, &limits), run(&input, &[], &limits));
    }

    /// Every limit's edge, cut into several reads anywhere (often close to where the line
    /// ends or the limit lies), behind a pipelined command or not.
    #[test]
    fn limit_edges_give_one_answer_however_they_are_split(
        which in any::<usize>(),
        picks in picks(),
        behind_ping in any::<bool>(),
    ) {
        let all = ALL_EDGES.get_or_init(all_edges);
        let edge = &all[which % all.len()];
        let (input, hot) = if behind_ping {
            let mut input = b"PING\r\n".to_vec();
            input.extend_from_slice(&edge.input);
            (input, edge.hot.iter().map(|h| h + 6).collect())
        } else {
            (edge.input.clone(), edge.hot.clone())
        };
        let cuts = cuts_for(input.len(), &hot, &picks);
        let whole = run(&input, &[], &edge.limits);
        prop_assert_eq!(run(&input, &cuts, &edge.limits), whole.clone());
        let mut alone = whole;
        if behind_ping {
            prop_assert!(!alone.commands.is_empty(), "{}", edge.what);
            alone.commands.remove(0);
        }
        check_expectation(edge, &alone);
    }
}
