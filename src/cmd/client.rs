//! CLIENT and its subcommands: SETNAME, GETNAME, ID, SETINFO, INFO, LIST, KILL, PAUSE, UNPAUSE, UNBLOCK,
//! NO-EVICT (accepted: llmcached never evicts clients), NO-TOUCH, TRACKING (OFF only), HELP.

use super::args::{self, Args};
use super::connection::valid_name;
use super::spec::acl::{CONNECTION, DANGEROUS};
use super::spec::flag::*;
use super::{command, lossy, CommandError, CommandSpec, Ctx, Handler};
use crate::client::Unblocked;
use crate::protocol::Reply;
use crate::sub;
use bytes::Bytes;

/// `CLIENT`'s subcommand rows.
#[rustfmt::skip]
pub static SUBCOMMANDS: &[CommandSpec] = &[
    sub!("client", "getname", 2, LOADING | STALE, CONNECTION, "connection", "2.6.9", "", "Return the name of the current connection.", Handler::Sync(getname)),
    sub!("client", "id", 2, LOADING | STALE, CONNECTION, "connection", "5.0.0", "", "Return the ID of the current connection.", Handler::Sync(id)),
    sub!("client", "info", 2, LOADING | STALE, CONNECTION, "connection", "6.2.0", "", "Return information about the current client connection.", Handler::Sync(info)),
    sub!("client", "kill", -3, ADMIN | NO_SCRIPT | LOADING | STALE, CONNECTION | DANGEROUS, "connection", "2.4.0", "<ip:port> | <filter> <value> [<filter> <value> ...]", "Kill connections. Filters: ID, TYPE, USER, ADDR, LADDR, SKIPME.", Handler::Sync(kill)),
    sub!("client", "list", -2, ADMIN | LOADING | STALE, CONNECTION | DANGEROUS, "connection", "2.4.0", "[TYPE normal] [ID <id> [<id> ...]]", "Return information about client connections.", Handler::Sync(list)),
    sub!("client", "no-evict", 3, ADMIN | LOADING | STALE, CONNECTION | DANGEROUS, "connection", "7.0.0", "(ON|OFF)", "Protect current client connection from eviction (accepted; clients are never evicted).", Handler::Sync(on_off)),
    sub!("client", "no-touch", 3, LOADING | STALE, CONNECTION, "connection", "7.2.0", "(ON|OFF)", "Will not touch LRU/LFU stats when this mode is on (accepted; reads always count).", Handler::Sync(on_off)),
    sub!("client", "pause", -3, ADMIN | NO_SCRIPT | LOADING | STALE, CONNECTION | DANGEROUS, "connection", "3.0.0", "<timeout> [WRITE|ALL]", "Suspend all, or just write, clients for <timeout> milliseconds.", Handler::Sync(pause)),
    sub!("client", "unblock", -3, ADMIN | NO_SCRIPT | LOADING | STALE, CONNECTION | DANGEROUS, "connection", "5.0.0", "<clientid> [TIMEOUT|ERROR]", "Unblock the specified blocked client.", Handler::Sync(unblock)),
    sub!("client", "unpause", 2, ADMIN | NO_SCRIPT | LOADING | STALE, CONNECTION | DANGEROUS, "connection", "6.2.0", "", "Stop the current client pause, resuming traffic.", Handler::Sync(unpause)),
    sub!("client", "tracking", -3, NO_SCRIPT | LOADING | STALE, CONNECTION, "connection", "6.0.0", "(ON|OFF) [REDIRECT <id>] [PREFIX <prefix> ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]", "Control server assisted client side caching (OFF only: llmcached sends no invalidations).", Handler::Sync(tracking)),
    sub!("client", "setinfo", 4, LOADING | STALE, CONNECTION, "connection", "7.2.0", "<option> <value>", "Set client meta attr. Options are: LIB-NAME, LIB-VER.", Handler::Sync(setinfo)),
    sub!("client", "setname", 3, LOADING | STALE, CONNECTION, "connection", "2.6.9", "<name>", "Assign the name <name> to the current connection.", Handler::Sync(setname)),
    sub!("client", "help", 2, LOADING | STALE, CONNECTION, "connection", "5.0.0", "", "Show helpful text about the different subcommands.", Handler::Sync(command::help)),
];

/// `CLIENT UNBLOCK client-id [TIMEOUT|ERROR]`: 1 if that client waited in a blocking pop,
/// which then answers as at its timeout (TIMEOUT, the default) or with `-UNBLOCKED`; else 0.
fn unblock(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if a.len() > 4 {
        return Err(CommandError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            lossy(&a[1], 128)
        )));
    }
    let how = match a.get(3) {
        None => Unblocked::Timeout,
        Some(w) if args::is(w, "TIMEOUT") => Unblocked::Timeout,
        Some(w) if args::is(w, "ERROR") => Unblocked::Error,
        Some(_) => {
            return Err(CommandError::err(
                "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let id = args::int(&a[2])?;
    let done = u64::try_from(id)
        .ok()
        .and_then(|id| ctx.shared.clients.get(id))
        .is_some_and(|c| c.unblock(how));
    Ok(Reply::Int(done as i64))
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`: holds the clients' commands (all, or those that may
/// write) for `timeout` milliseconds; they wait, then run.
fn pause(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if a.len() > 4 {
        return Err(CommandError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            lossy(&a[1], 128)
        )));
    }
    let ms = match args::int(&a[2]) {
        Ok(n) if n < 0 => return Err(CommandError::err("timeout is negative")),
        Ok(n) => n as u64,
        Err(_) => {
            return Err(CommandError::err(
                "timeout is not an integer or out of range",
            ))
        }
    };
    let mode = match a.get(3) {
        None => crate::pause::Mode::All,
        Some(m) if args::is(m, "ALL") => crate::pause::Mode::All,
        Some(m) if args::is(m, "WRITE") => crate::pause::Mode::Write,
        Some(_) => return Err(CommandError::err("CLIENT PAUSE mode must be WRITE or ALL")),
    };
    ctx.shared.pause.pause(ms, mode);
    Ok(Reply::Ok)
}

/// `CLIENT UNPAUSE`
fn unpause(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    ctx.shared.pause.unpause();
    Ok(Reply::Ok)
}

/// `CLIENT TRACKING ON|OFF [...]`: OFF is accepted (tracking is always off); ON is refused
/// with a clear error, because llmcached does not send invalidation messages: a client that
/// believed tracking was on would serve stale entries from its local cache for ever.
fn tracking(_: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if args::is(&a[2], "OFF") {
        return Ok(Reply::Ok);
    }
    if args::is(&a[2], "ON") {
        return Err(CommandError::err(
            "CLIENT TRACKING is not supported: llmcached sends no invalidation messages, so client-side caching would serve stale values",
        ));
    }
    Err(CommandError::Syntax)
}

/// `CLIENT SETNAME name`
fn setname(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if !valid_name(&a[2]) {
        return Err(CommandError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    let n = String::from_utf8_lossy(&a[2]).into_owned();
    ctx.client.info.meta(|m| m.name = n);
    Ok(Reply::Ok)
}

/// `CLIENT GETNAME`
fn getname(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let n = ctx.client.info.meta(|m| m.name.clone());
    Ok(if n.is_empty() {
        Reply::Nil
    } else {
        Reply::text(n)
    })
}

/// `CLIENT ID`
fn id(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Int(ctx.client.id() as i64))
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER value`
fn setinfo(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if !valid_name(&a[3]) {
        return Err(CommandError::err(format!(
            "{} cannot contain spaces, newlines or special characters.",
            lossy(&a[2], 32).to_ascii_lowercase()
        )));
    }
    let v = String::from_utf8_lossy(&a[3]).into_owned();
    if args::is(&a[2], "LIB-NAME") {
        ctx.client.info.meta(|m| m.lib_name = v);
    } else if args::is(&a[2], "LIB-VER") {
        ctx.client.info.meta(|m| m.lib_ver = v);
    } else {
        return Err(CommandError::err(format!(
            "Unrecognized option '{}'",
            lossy(&a[2], 128)
        )));
    }
    Ok(Reply::Ok)
}

/// `CLIENT INFO`
fn info(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Verbatim(
        crate::metrics::info::client_line(ctx.shared, &ctx.client.info) + "\n",
    ))
}

/// `CLIENT NO-EVICT ON|OFF`, `CLIENT NO-TOUCH ON|OFF`
fn on_off(_: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if args::is(&a[2], "ON") || args::is(&a[2], "OFF") {
        Ok(Reply::Ok)
    } else {
        Err(CommandError::Syntax)
    }
}

/// `CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...]`
fn list(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let mut args = Args::after_subcommand(a);
    let mut ids: Option<Vec<u64>> = None;
    let mut only_normal = None;
    while let Some(opt) = args.peek() {
        args.next_bytes()?;
        if args::is(opt, "TYPE") {
            let t = String::from_utf8_lossy(args.next_bytes()?).to_ascii_lowercase();
            only_normal = match t.as_str() {
                "normal" => Some(true),
                "master" | "replica" | "slave" | "pubsub" => Some(false),
                _ => return Err(CommandError::err(format!("Unknown client type '{t}'"))),
            };
        } else if args::is(opt, "ID") {
            let mut v = Vec::new();
            while let Some(id) = args.peek() {
                match args::uint(id) {
                    Ok(n) if n > 0 => v.push(n),
                    _ => return Err(CommandError::err("Invalid client ID")),
                }
                args.next_bytes()?;
            }
            if v.is_empty() {
                return Err(CommandError::Syntax);
            }
            ids = Some(v);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let mut out = String::new();
    if only_normal != Some(false) {
        for c in ctx.shared.clients.all() {
            if ids.as_ref().is_some_and(|ids| !ids.contains(&c.id)) {
                continue;
            }
            out.push_str(&crate::metrics::info::client_line(ctx.shared, &c));
            out.push('\n');
        }
    }
    Ok(Reply::Verbatim(out))
}

/// Which connections `CLIENT KILL` closes: every given filter must match.
#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    /// `false`: a type no connection has here (replica, master, pubsub).
    normal: Option<bool>,
    user: Option<String>,
    addr: Option<String>,
    laddr: Option<String>,
    skip_me: bool,
}

impl KillFilter {
    fn parse(a: &[Bytes], ctx: &Ctx<'_>) -> Result<KillFilter, CommandError> {
        let mut f = KillFilter {
            skip_me: true,
            ..KillFilter::default()
        };
        let mut args = Args::after_subcommand(a);
        while let Some(opt) = args.peek() {
            args.next_bytes()?;
            let value = args.next_bytes()?;
            let text = || String::from_utf8_lossy(value).into_owned();
            if args::is(opt, "ID") {
                match args::uint(value) {
                    Ok(n) if n > 0 => f.id = Some(n),
                    _ => return Err(CommandError::err("client-id should be greater than 0")),
                }
            } else if args::is(opt, "TYPE") {
                let t = text().to_ascii_lowercase();
                f.normal = match t.as_str() {
                    "normal" => Some(true),
                    "master" | "replica" | "slave" | "pubsub" => Some(false),
                    _ => return Err(CommandError::err(format!("Unknown client type '{t}'"))),
                };
            } else if args::is(opt, "USER") {
                if ctx.shared.acl.user(value).is_none() {
                    return Err(CommandError::err(format!("No such user '{}'", text())));
                }
                f.user = Some(text());
            } else if args::is(opt, "ADDR") {
                f.addr = Some(text());
            } else if args::is(opt, "LADDR") {
                f.laddr = Some(text());
            } else if args::is(opt, "SKIPME") {
                f.skip_me = match value.to_ascii_lowercase().as_slice() {
                    b"yes" => true,
                    b"no" => false,
                    _ => return Err(CommandError::Syntax),
                };
            } else {
                return Err(CommandError::Syntax);
            }
        }
        Ok(f)
    }

    fn matches(&self, c: &crate::client::ClientInfo, me: u64) -> bool {
        self.normal != Some(false)
            && self.id.is_none_or(|id| c.id == id)
            && self.addr.as_ref().is_none_or(|a| c.addr.to_string() == *a)
            && self
                .laddr
                .as_ref()
                .is_none_or(|a| c.laddr.to_string() == *a)
            && self.user.as_ref().is_none_or(|u| c.meta(|m| m.user == *u))
            && !(self.skip_me && c.id == me)
    }
}

/// `CLIENT KILL ip:port` (OK, or `No such client`) or `CLIENT KILL filter value ...` (the
/// number closed). A connection that kills itself is closed once its reply is written.
fn kill(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let me = ctx.client.id();
    let (filter, old_form) = if a.len() == 3 {
        let addr = Some(String::from_utf8_lossy(&a[2]).into_owned());
        (
            KillFilter {
                addr,
                ..KillFilter::default()
            },
            true,
        )
    } else {
        (KillFilter::parse(a, ctx)?, false)
    };
    let mut killed = 0;
    for c in ctx.shared.clients.all() {
        if filter.matches(&c, me) {
            if c.id == me {
                ctx.client.close_after_reply = true;
            } else {
                c.kill();
            }
            killed += 1;
        }
    }
    match (old_form, killed) {
        (true, 0) => Err(CommandError::err("No such client")),
        (true, _) => Ok(Reply::Ok),
        (false, n) => Ok(Reply::Int(n)),
    }
}
