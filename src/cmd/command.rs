//! COMMAND and its subcommands (COUNT, DOCS, INFO, LIST, HELP), and the HELP of every
//! container, all generated from the table's rows.

use super::flag::*;
use super::spec::acl::CONNECTION;
use super::{lookup, row, CommandError, CommandSpec, Ctx, Handler};
use crate::protocol::Reply;
use crate::sub;
use bytes::Bytes;
use std::sync::OnceLock;

/// `COMMAND`'s subcommand rows.
#[rustfmt::skip]
pub static SUBCOMMANDS: &[CommandSpec] = &[
    sub!("command", "count", 2, LOADING | STALE, CONNECTION, "server", "2.8.13", "", "Returns a count of commands.", Handler::Sync(count)),
    sub!("command", "docs", -2, LOADING | STALE, CONNECTION, "server", "7.0.0", "[<command-name> ...]", "Returns documentary information about one, multiple or all commands.", Handler::Sync(docs)),
    sub!("command", "info", -2, LOADING | STALE, CONNECTION, "server", "2.8.13", "[<command-name> ...]", "Returns information about one, multiple or all commands.", Handler::Sync(info)),
    sub!("command", "list", -2, LOADING | STALE, CONNECTION, "server", "7.0.0", "", "Returns a list of command names.", Handler::Sync(list)),
    sub!("command", "help", 2, LOADING | STALE, CONNECTION, "server", "5.0.0", "", "Returns helpful text about the different subcommands.", Handler::Sync(help)),
];

/// The `COMMAND INFO` entry of one row (a container's entry nests its subcommands').
fn info_entry(c: &CommandSpec) -> Reply {
    let flags = NAMES
        .iter()
        .filter(|(f, _)| c.has(*f))
        .map(|(_, n)| Reply::Simple(n))
        .collect();
    Reply::Array(vec![
        Reply::from_static(c.full_name),
        Reply::Int(c.arity as i64),
        Reply::Set(flags),
        Reply::Int(c.keys.0 as i64),
        Reply::Int(c.keys.1 as i64),
        Reply::Int(c.keys.2 as i64),
        Reply::Set(c.acl_names().map(Reply::Simple).collect()),
        Reply::Set(vec![]),
        Reply::Array(vec![]),
        Reply::Array(c.subcommands.iter().map(info_entry).collect()),
    ])
}

/// The `COMMAND DOCS` entry of one row.
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
                    .map(|s| (Reply::from_static(s.full_name), docs_entry(s)))
                    .collect(),
            ),
        ));
    }
    Reply::map(m)
}

fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    lookup(name).and_then(row)
}

/// `COMMAND`: every command's INFO entry.
pub fn all(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Array(
        super::commands().iter().map(info_entry).collect(),
    ))
}

/// `COMMAND COUNT`
fn count(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Int(super::commands().len() as i64))
}

/// `COMMAND LIST`
fn list(_: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if a.len() > 2 {
        // FILTERBY is not offered: say so rather than ignore it.
        return Err(CommandError::Syntax);
    }
    Ok(Reply::Array(
        super::commands()
            .iter()
            .map(|c| Reply::from_static(c.name))
            .collect(),
    ))
}

/// `COMMAND INFO [name ...]`
fn info(_: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if a.len() == 2 {
        return Ok(Reply::Array(
            super::commands().iter().map(info_entry).collect(),
        ));
    }
    Ok(Reply::Array(
        a[2..]
            .iter()
            .map(|n| find(n).map_or(Reply::NilArray, info_entry))
            .collect(),
    ))
}

/// `COMMAND DOCS [name ...]`
fn docs(_: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let pick: Vec<&CommandSpec> = if a.len() == 2 {
        super::commands().iter().collect()
    } else {
        a[2..].iter().filter_map(|n| find(n)).collect()
    };
    Ok(Reply::Map(
        pick.into_iter()
            .map(|c| (Reply::from_static(c.name), docs_entry(c)))
            .collect(),
    ))
}

/// The HELP text of a container, in Redis's layout: a title line, then per subcommand its
/// syntax line and its summary indented by four spaces; HELP itself last.
pub fn help_lines(container: &CommandSpec) -> Vec<String> {
    let upper = container.name.to_ascii_uppercase();
    let mut out = vec![format!(
        "{upper} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )];
    if container.arity == -1 {
        out.push("(no subcommand)".into());
        out.push(format!("    {}", container.summary));
    }
    let (helps, rest): (Vec<_>, Vec<_>) =
        container.subcommands.iter().partition(|s| s.name == "help");
    for s in rest.into_iter().chain(helps) {
        let name = s.name.to_ascii_uppercase();
        out.push(if s.syntax.is_empty() {
            name
        } else {
            format!("{name} {}", s.syntax)
        });
        let text = if s.name == "help" {
            "Print this help."
        } else {
            s.summary
        };
        out.push(format!("    {text}"));
    }
    out
}

/// `<CONTAINER> HELP`, for every container: status lines, as Redis sends them.
pub fn help(_: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    // Each container's text is built once; status replies need `'static` text, and the few
    // containers' texts are kept for the life of the process.
    static TEXTS: OnceLock<Vec<(&'static str, Vec<&'static str>)>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        super::commands()
            .iter()
            .filter(|c| !c.subcommands.is_empty())
            .map(|c| {
                let lines = help_lines(c)
                    .into_iter()
                    .map(|l| &*Box::leak(l.into_boxed_str()))
                    .collect();
                (c.name, lines)
            })
            .collect()
    });
    let container = find(&a[0]).ok_or(CommandError::Syntax)?;
    let lines = texts
        .iter()
        .find(|(n, _)| *n == container.name)
        .map(|(_, l)| l.as_slice())
        .unwrap_or_default();
    Ok(Reply::Array(
        lines.iter().map(|l| Reply::Simple(l)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_subcommand_with_help_last() {
        let config = find(b"config").unwrap();
        let lines = help_lines(config);
        assert_eq!(
            lines[0],
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
        );
        assert_eq!(lines.len(), 1 + 2 * config.subcommands.len());
        assert_eq!(&lines[lines.len() - 2..], ["HELP", "    Print this help."]);
        let command = find(b"command").unwrap();
        assert_eq!(help_lines(command)[1], "(no subcommand)");
    }

    #[test]
    fn acl_categories_follow_redis() {
        let names = |n: &[u8]| find(n).unwrap().acl_names().collect::<Vec<_>>();
        assert_eq!(names(b"get"), ["@read", "@string", "@fast"]);
        assert_eq!(names(b"set"), ["@write", "@string", "@slow"]);
        assert_eq!(
            names(b"flushall"),
            ["@keyspace", "@write", "@slow", "@dangerous"]
        );
        assert_eq!(names(b"ping"), ["@fast", "@connection"]);
    }
}
