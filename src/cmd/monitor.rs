//! MONITOR: this connection receives every command the server runs (see the observe module's
//! monitor file for what is shown and how), and from now on refuses commands that touch the
//! keyspace, as Redis refuses them from a replica (`Replica can't interact with the keyspace`).
//! RESET (or QUIT) ends it.
//!
//! # Format
//! ```text
//! MONITOR -> +OK, then +<unix.micros> [<db> <addr>] "cmd" "arg" ... per command
//! ```

use super::{flag, CommandError, CommandSpec, Ctx};
use crate::acl::is_secret_command;
use crate::protocol::Reply;
use bytes::Bytes;

/// Whether a monitor sees this command: not the administrative ones (MONITOR itself among
/// them), not `ACL SETUSER`.
pub(super) fn shown(spec: &CommandSpec, args: &[Bytes]) -> bool {
    !spec.has(flag::ADMIN) && !is_secret_command(args)
}

/// Sends `args`, as this client runs them, to every monitor.
pub(super) fn feed(ctx: &Ctx<'_>, args: &[Bytes]) {
    let addr = if ctx.client.script {
        "lua".to_string()
    } else {
        ctx.client.info.addr.to_string()
    };
    ctx.shared.observe.monitors.feed(ctx.client.db, &addr, args);
}

/// A monitor may not run commands that read or write keys (nor scripts, which may).
pub(super) fn refused(ctx: &Ctx<'_>, spec: &CommandSpec) -> Option<CommandError> {
    let keyspace = spec.has(flag::READONLY)
        || spec.has(flag::WRITE)
        || matches!(spec.full_name, "eval" | "evalsha");
    (ctx.client.monitor.is_some() && keyspace)
        .then(|| CommandError::err("Replica can't interact with the keyspace"))
}

/// `MONITOR`
pub fn monitor(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    if ctx.client.in_exec {
        return Err(CommandError::err(
            "MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    if ctx.client.monitor.is_none() {
        let rx = ctx.shared.observe.monitors.attach(ctx.client.id());
        ctx.client.monitor = Some(rx);
    }
    Ok(Reply::Ok)
}
