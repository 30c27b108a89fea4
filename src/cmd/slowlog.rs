//! SLOWLOG and its subcommands, with Redis 7.0's reply shapes and texts.
//!
//! # Format
//! ```text
//! SLOWLOG GET [count]   -> newest first, count 10 by default, -1 for all; each entry
//!                          [id, unix-time, microseconds, [arg ...], "ip:port", client-name]
//! SLOWLOG LEN           -> integer
//! SLOWLOG RESET         -> OK (entry ids keep counting; RESET itself may be logged)
//! SLOWLOG HELP          -> lines
//! ```
//! What is logged, and how arguments are cut and redacted: [`crate::observe::slowlog`].

use super::spec::flag::*;
use super::{CommandError, CommandSpec, Ctx, Handler};
use crate::protocol::Reply;
use crate::sub;
use bytes::Bytes;

/// `SLOWLOG`'s subcommand rows.
#[rustfmt::skip]
pub static SUBCOMMANDS: &[CommandSpec] = &[
    sub!("slowlog", "get", -2, ADMIN | LOADING | STALE, 0, "server", "2.2.12", "[count]", "Returns the slow log's entries.", Handler::Sync(get)),
    sub!("slowlog", "len", 2, ADMIN | LOADING | STALE, 0, "server", "2.2.12", "", "Returns the number of entries in the slow log.", Handler::Sync(len)),
    sub!("slowlog", "reset", 2, ADMIN | LOADING | STALE, 0, "server", "2.2.12", "", "Clears all entries from the slow log.", Handler::Sync(reset)),
    sub!("slowlog", "help", 2, LOADING | STALE, 0, "server", "6.2.0", "", "Show helpful text about the different subcommands", Handler::Sync(help)),
];

/// Redis 7.0.15's `SLOWLOG HELP`, word for word.
const HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// `SLOWLOG GET [count]`
fn get(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let count = match a.len() {
        2 => 10,
        3 => {
            let bad = || CommandError::err("count should be greater than or equal to -1");
            match super::args::int(&a[2]).map_err(|_| bad())? {
                -1 => usize::MAX,
                n if n < -1 => return Err(bad()),
                n => usize::try_from(n).unwrap_or(usize::MAX),
            }
        }
        _ => {
            // Redis names the subcommand as the client spelled it.
            return Err(CommandError::err(format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try SLOWLOG HELP.",
                super::lossy(&a[1], 128)
            )));
        }
    };
    let entries = ctx.shared.observe.slowlog.newest(count);
    Ok(Reply::Array(
        entries
            .into_iter()
            .map(|e| {
                Reply::Array(vec![
                    Reply::Int(e.id as i64),
                    Reply::Int(e.time as i64),
                    Reply::Int(e.duration_us as i64),
                    Reply::Array(e.args.into_iter().map(Reply::Bulk).collect()),
                    Reply::text(e.peer),
                    Reply::text(e.client_name),
                ])
            })
            .collect(),
    ))
}

/// `SLOWLOG LEN`
fn len(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Int(ctx.shared.observe.slowlog.len() as i64))
}

/// `SLOWLOG RESET`
fn reset(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    ctx.shared.observe.slowlog.reset();
    Ok(Reply::Ok)
}

/// `SLOWLOG HELP`
fn help(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Array(
        HELP.iter().map(|l| Reply::Simple(l)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{error, TestServer};
    use crate::protocol::Reply;

    #[test]
    fn every_command_is_logged_at_threshold_zero_and_reset_logs_itself() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(
            c.run(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
            Reply::Ok
        );
        c.run(&["SET", "k", "v"]);
        assert_eq!(c.run(&["SLOWLOG", "RESET"]), Reply::Ok);
        assert_eq!(c.run(&["SLOWLOG", "LEN"]), Reply::Int(1));
        let Reply::Array(entries) = c.run(&["SLOWLOG", "GET", "1"]) else {
            panic!("not an array")
        };
        let Reply::Array(fields) = &entries[0] else {
            panic!("not an entry")
        };
        assert_eq!(fields.len(), 6);
        assert_eq!(
            fields[3],
            Reply::Array(vec![Reply::text("SLOWLOG"), Reply::text("LEN")])
        );
    }

    #[test]
    fn get_checks_its_count_as_redis() {
        let server = TestServer::new();
        let mut c = server.client();
        let bad = error("ERR count should be greater than or equal to -1");
        assert_eq!(c.run(&["SLOWLOG", "GET", "-2"]), bad);
        assert_eq!(c.run(&["SLOWLOG", "GET", "x"]), bad);
        assert_eq!(
            c.run(&["SLOWLOG", "Get", "1", "2"]),
            error(
                "ERR unknown subcommand or wrong number of arguments for 'Get'. Try SLOWLOG HELP."
            )
        );
        assert_eq!(c.run(&["SLOWLOG", "GET", "-1"]), Reply::Array(vec![]));
    }
}
