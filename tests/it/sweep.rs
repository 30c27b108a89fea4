//! The conformance sweep, driven by the command table: every command and subcommand row is
//! exercised by being in the table. A wrong argument count gets Redis's arity error and the
//! connection lives on (the trailing PONG proves it); the minimum argument count with junk
//! arguments gets a reply, never a panic or a hang.

use crate::support::{start, start_with, Raw};
use llmcached::cmd::{all_rows, CommandSpec};

/// A RESP request for `args`.
fn request(args: &[String]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// The words that name a row on the wire: `["GET"]` or `["CONFIG", "GET"]`.
fn name_words(row: &CommandSpec) -> Vec<String> {
    row.full_name
        .split('|')
        .map(|w| w.to_ascii_uppercase())
        .collect()
}

/// A command for `row` with `argc` words in all, the name's words first, then junk.
fn with_argc(row: &CommandSpec, argc: usize) -> Vec<String> {
    let mut args = name_words(row);
    while args.len() < argc {
        args.push("junk".into());
    }
    args
}

/// An argument count the row refuses, if there is one (a minimum of just the name has none).
fn wrong_argc(row: &CommandSpec) -> Option<usize> {
    let words = name_words(row).len();
    if row.arity > 0 {
        Some(row.arity as usize + 1)
    } else {
        let min = row.min_args();
        (min > words).then(|| min - 1)
    }
}

async fn ping_pong(raw: &mut Raw, what: &str) {
    raw.send(b"PING\r\n").await;
    assert_eq!(
        raw.read_reply().await,
        "+PONG\r\n",
        "{what}: connection died"
    );
}

#[tokio::test]
async fn every_row_refuses_a_wrong_argument_count_and_the_connection_lives() {
    let s = start().await;
    let mut raw = s.raw().await;
    let mut checked = 0;
    for row in all_rows() {
        let Some(argc) = wrong_argc(row) else {
            continue;
        };
        let args = with_argc(row, argc);
        raw.send(&request(&args)).await;
        let reply = raw.read_reply().await;
        assert_eq!(
            reply,
            format!(
                "-ERR wrong number of arguments for '{}' command\r\n",
                row.full_name
            ),
            "{args:?}"
        );
        ping_pong(&mut raw, row.full_name).await;
        checked += 1;
    }
    assert!(checked > 60, "only {checked} rows have a wrong arity");
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn every_row_answers_its_minimum_arguments_with_junk() {
    let s = start().await;
    for row in all_rows() {
        // SHUTDOWN would end the server the sweep runs on; it has its own tests.
        if row.full_name == "shutdown" {
            continue;
        }
        // A fresh connection per row: MULTI, QUIT and HELLO change the connection's state.
        let mut raw = s.raw().await;
        let args = with_argc(row, row.min_args().max(name_words(row).len()));
        raw.send(&request(&args)).await;
        let reply = raw.read_reply().await;
        assert!(!reply.is_empty(), "{args:?}: no reply");
        if row.full_name == "quit" {
            assert!(raw.closed().await, "QUIT did not close");
            continue;
        }
        if row.full_name == "multi" {
            raw.send(b"DISCARD\r\n").await;
            assert_eq!(raw.read_reply().await, "+OK\r\n");
        }
        // A monitor would get its own PING's line besides the PONG: RESET ends monitoring.
        if row.full_name == "monitor" {
            raw.send(b"RESET\r\n").await;
            assert_eq!(raw.read_reply().await, "+RESET\r\n");
        }
        ping_pong(&mut raw, row.full_name).await;
    }
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn every_container_lists_its_subcommands_in_help() {
    // In emulated cluster mode: without it CLUSTER HELP answers that cluster support is
    // disabled, as a standalone Redis does (tests/it/cluster.rs).
    let s = start_with(|c| c.scale.cluster_mode = llmcached::config::ClusterMode::Emulated).await;
    let mut raw = s.raw().await;
    for row in all_rows().filter(|r| !r.subcommands.is_empty()) {
        let args = vec![row.name.to_ascii_uppercase(), "HELP".into()];
        raw.send(&request(&args)).await;
        let reply = raw.read_reply().await;
        for sub in row.subcommands {
            assert!(
                reply.contains(&format!("+{}", sub.name.to_ascii_uppercase())),
                "{} HELP lacks {}: {reply}",
                row.name,
                sub.name
            );
        }
        let unknown = vec![row.name.to_ascii_uppercase(), "NOPE".into()];
        raw.send(&request(&unknown)).await;
        assert_eq!(
            raw.read_reply().await,
            format!(
                "-ERR unknown subcommand 'NOPE'. Try {} HELP.\r\n",
                row.name.to_ascii_uppercase()
            )
        );
    }
    s.stop().await.expect("stop");
}

/// The README's command list names exactly the table's commands and subcommands.
#[test]
fn readme_lists_exactly_the_table() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- commands -->")
        .expect("README has a <!-- commands --> block");
    let end = readme
        .find("<!-- /commands -->")
        .expect("README closes its commands block");
    let mut listed: Vec<String> = Vec::new();
    for line in readme[start..end].lines().filter(|l| l.starts_with("- ")) {
        // `- group: A, B, C (SUB1, SUB2), D`
        let Some((_, names)) = line.split_once(": ") else {
            continue;
        };
        let mut container = String::new();
        for item in names.split(", ") {
            let item = item.trim().trim_end_matches('.');
            if let Some((name, first_sub)) = item.split_once(" (") {
                listed.push(name.to_string());
                listed.push(format!("{name}|{}", first_sub.trim_end_matches(')')));
                if !first_sub.ends_with(')') {
                    container = name.to_string();
                }
            } else if !container.is_empty() {
                listed.push(format!("{container}|{}", item.trim_end_matches(')')));
                if item.ends_with(')') {
                    container.clear();
                }
            } else {
                listed.push(item.to_string());
            }
        }
    }
    let mut listed: Vec<String> = listed.iter().map(|n| n.to_ascii_lowercase()).collect();
    listed.sort();
    let mut table: Vec<String> = all_rows().map(|r| r.full_name.to_string()).collect();
    table.sort();
    assert_eq!(
        listed, table,
        "README's command list differs from the table"
    );
}
