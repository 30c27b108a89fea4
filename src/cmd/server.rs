//! Server commands: COMMAND, CONFIG, INFO, DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN.

use super::{flag, sub_name, unknown_subcommand, wrong_arity, CommandSpec, Ctx, Flow, COMMANDS};
use crate::glob;
use crate::protocol::args;
use crate::protocol::Reply;
use bytes::Bytes;

pub const COMMAND_SUBCOMMANDS: &[&str] = &["count", "docs", "info", "list", "help"];

fn info_entry(c: &CommandSpec) -> Reply {
    let flags = flag::NAMES
        .iter()
        .filter(|(f, _)| c.has(*f))
        .map(|(_, n)| Reply::Simple(n))
        .collect();
    let subs = c
        .subcommands
        .iter()
        .map(|s| {
            Reply::Array(vec![
                Reply::text(format!("{}|{}", c.name, s)),
                Reply::Int(-2),
                Reply::Set(vec![]),
                Reply::Int(0),
                Reply::Int(0),
                Reply::Int(0),
                Reply::Set(vec![]),
                Reply::Set(vec![]),
                Reply::Array(vec![]),
                Reply::Array(vec![]),
            ])
        })
        .collect();
    Reply::Array(vec![
        Reply::from_static(c.name),
        Reply::Int(c.arity as i64),
        Reply::Set(flags),
        Reply::Int(c.keys.0 as i64),
        Reply::Int(c.keys.1 as i64),
        Reply::Int(c.keys.2 as i64),
        Reply::Set(vec![Reply::Simple(acl_category(c.group))]),
        Reply::Set(vec![]),
        Reply::Array(vec![]),
        Reply::Array(subs),
    ])
}

fn acl_category(group: &str) -> &'static str {
    match group {
        "string" => "@string",
        "generic" => "@keyspace",
        "connection" => "@connection",
        "transactions" => "@transaction",
        "hash" => "@hash",
        "json" => "@json",
        "llm" => "@llm",
        _ => "@admin",
    }
}

fn docs_entry(c: &CommandSpec) -> Reply {
    let mut m = vec![
        ("summary", Reply::from_static(c.summary)),
        ("since", Reply::from_static(c.since)),
        ("group", Reply::from_static(c.group)),
    ];
    if !c.subcommands.is_empty() {
        m.push((
            "subcommands",
            Reply::Map(
                c.subcommands
                    .iter()
                    .map(|s| {
                        (
                            Reply::text(format!("{}|{}", c.name, s)),
                            Reply::map([
                                ("summary", Reply::text(format!("{} {}", c.name, s))),
                                ("since", Reply::from_static(c.since)),
                                ("group", Reply::from_static(c.group)),
                            ]),
                        )
                    })
                    .collect(),
            ),
        ));
    }
    Reply::map(m)
}

fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    super::lookup(name).map(|i| &COMMANDS[i])
}

/// `COMMAND [COUNT | DOCS [name ...] | INFO [name ...] | LIST | HELP]`
pub fn command(_: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if a.len() == 1 {
        return Reply::Array(COMMANDS.iter().map(info_entry).collect());
    }
    match sub_name(a).as_str() {
        "count" if a.len() == 2 => Reply::Int(COMMANDS.len() as i64),
        "list" => Reply::Array(
            COMMANDS
                .iter()
                .map(|c| Reply::from_static(c.name))
                .collect(),
        ),
        "info" if a.len() == 2 => Reply::Array(COMMANDS.iter().map(info_entry).collect()),
        "info" => Reply::Array(
            a[2..]
                .iter()
                .map(|n| find(n).map_or(Reply::NilArray, info_entry))
                .collect(),
        ),
        "docs" if a.len() == 2 => Reply::Map(
            COMMANDS
                .iter()
                .map(|c| (Reply::from_static(c.name), docs_entry(c)))
                .collect(),
        ),
        "docs" => Reply::Map(
            a[2..]
                .iter()
                .filter_map(|n| find(n).map(|c| (Reply::from_static(c.name), docs_entry(c))))
                .collect(),
        ),
        "help" => Reply::Array(
            [
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)",
                "    Return details about all commands.",
                "COUNT",
                "    Return the total number of commands in this server.",
                "LIST",
                "    Return a list of all commands in this server.",
                "INFO [<command-name> ...]",
                "    Return details about multiple commands.",
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple commands.",
                "HELP",
                "    Print this help.",
            ]
            .iter()
            .map(|s| Reply::Simple(s))
            .collect(),
        ),
        "count" => wrong_arity("command|count"),
        _ => unknown_subcommand("command", &a[1]),
    }
}

pub const CONFIG_SUBCOMMANDS: &[&str] = &["get", "set", "resetstat", "rewrite", "help"];

/// The settings CONFIG GET knows, with their current values.
fn config_values(ctx: &Ctx<'_>) -> Vec<(&'static str, Vec<u8>)> {
    let c = &ctx.shared.config;
    crate::config::SETTINGS
        .iter()
        .map(|s| match s.name {
            // The port actually bound (differs from the configured one when that was 0).
            "port" => (s.name, ctx.shared.port().to_string().into_bytes()),
            _ => (s.name, s.show(c)),
        })
        .collect()
}

/// `CONFIG GET pattern [pattern ...] | SET | RESETSTAT | REWRITE | HELP`
pub fn config(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let sub = sub_name(a);
    match sub.as_str() {
        "get" if a.len() >= 3 => {
            let values = config_values(ctx);
            let mut out = Vec::new();
            for (name, value) in values {
                if a[2..]
                    .iter()
                    .any(|p| glob::matches(p, name.as_bytes(), true))
                {
                    out.push((Reply::from_static(name), Reply::bulk(value)));
                }
            }
            Reply::Map(out)
        }
        "set" if a.len() >= 4 && a.len().is_multiple_of(2) => {
            let name = String::from_utf8_lossy(&a[2]).to_ascii_lowercase();
            if config_values(ctx).iter().any(|(n, _)| *n == name) {
                Reply::err(format!(
                    "CONFIG SET failed (possibly related to argument '{name}') - this setting is fixed at start; restart with --{name}"
                ))
            } else {
                Reply::err(format!(
                    "Unknown option or number of arguments for CONFIG SET - '{name}'"
                ))
            }
        }
        "resetstat" if a.len() == 2 => {
            ctx.shared.reset_stats();
            Reply::Ok
        }
        "rewrite" if a.len() == 2 => Reply::err(
            "CONFIG REWRITE is not supported: edit the config file or the flags and restart",
        ),
        "help" => Reply::Array(
            [
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "HELP",
                "    Print this help.",
            ]
            .iter()
            .map(|s| Reply::Simple(s))
            .collect(),
        ),
        "get" | "set" | "resetstat" | "rewrite" => wrong_arity(&format!("config|{sub}")),
        _ => unknown_subcommand("config", &a[1]),
    }
}

/// `INFO [section ...]`
pub fn info(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let sections: Vec<String> = a[1..]
        .iter()
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
        .collect();
    Reply::Verbatim(crate::metrics::info::render(ctx.shared, &sections))
}

/// `DBSIZE`
pub fn dbsize(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Reply {
    Reply::Int(ctx.shared.store.len() as i64)
}

/// `FLUSHDB [ASYNC|SYNC]` and `FLUSHALL [ASYNC|SYNC]`
pub fn flushdb(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match a.len() {
        1 => {}
        2 if args::is(&a[1], "ASYNC") || args::is(&a[1], "SYNC") => {}
        _ => return args::syntax_error(),
    }
    match ctx.shared.flush() {
        Ok(()) => Reply::Ok,
        Err(e) => e.into(),
    }
}

/// `TIME`
pub fn time(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Reply {
    let us = ctx.shared.store.clock().now_us();
    Reply::Array(vec![
        Reply::text((us / 1_000_000).to_string()),
        Reply::text((us % 1_000_000).to_string()),
    ])
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`: stops accepting, lets in-flight commands
/// reply, saves if persistence is on (unless NOSAVE), and exits. The caller gets no reply: its
/// connection closes, as with Redis.
pub fn shutdown(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Flow {
    let mut save = None;
    for opt in &a[1..] {
        if args::is(opt, "NOSAVE") {
            save = Some(false);
        } else if args::is(opt, "SAVE") {
            save = Some(true);
        } else if args::is(opt, "NOW") || args::is(opt, "FORCE") {
        } else if args::is(opt, "ABORT") {
            return Flow::Reply(Reply::err("No shutdown in progress."));
        } else {
            return Flow::Reply(args::syntax_error());
        }
    }
    ctx.shared.request_shutdown(save);
    Flow::Close
}
