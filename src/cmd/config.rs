//! CONFIG and its subcommands: GET, SET, RESETSTAT, REWRITE, HELP.
//!
//! CONFIG SET applies every pair to a copy of the settings in force, validates the whole copy,
//! and only then installs it ([`crate::state::Shared::apply_config`]): a failing pair leaves
//! every setting as it was, as in Redis 7.

use super::spec::acl::DANGEROUS;
use super::spec::flag::*;
use super::{command, lossy, CommandError, CommandSpec, Ctx, Handler};
use crate::config::{find, Config, ALIASES, SETTINGS};
use crate::glob;
use crate::protocol::Reply;
use crate::sub;
use bytes::Bytes;

/// `CONFIG`'s subcommand rows.
#[rustfmt::skip]
pub static SUBCOMMANDS: &[CommandSpec] = &[
    sub!("config", "get", -3, ADMIN | LOADING | STALE, DANGEROUS, "server", "2.0.0", "<pattern>", "Return parameters matching the glob-like <pattern> and their values.", Handler::Sync(get)),
    sub!("config", "set", -4, ADMIN | LOADING | STALE, DANGEROUS, "server", "2.0.0", "<directive> <value> [<directive> <value> ...]", "Set the configuration <directive> to <value>.", Handler::Sync(set)),
    sub!("config", "resetstat", 2, ADMIN | LOADING | STALE, DANGEROUS, "server", "2.0.0", "", "Reset statistics reported by the INFO command.", Handler::Sync(resetstat)),
    sub!("config", "rewrite", 2, ADMIN | LOADING | STALE, DANGEROUS, "server", "2.8.0", "", "Rewrite the configuration file (not supported: settings come from flags and the file).", Handler::Sync(rewrite)),
    sub!("config", "help", 2, LOADING | STALE, 0, "server", "5.0.0", "", "Returns helpful text about the different subcommands.", Handler::Sync(command::help)),
];

/// `CONFIG GET pattern [pattern ...]`
fn get(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let config = ctx.shared.config();
    let mut out = Vec::new();
    for s in SETTINGS {
        if a[2..]
            .iter()
            .any(|p| glob::matches(p, s.name.as_bytes(), true))
        {
            // The port actually bound, which differs from the setting when it was 0.
            let value = if s.name == "port" {
                ctx.shared.port().to_string().into_bytes()
            } else {
                s.show(&config)
            };
            out.push((Reply::from_static(s.name), Reply::bulk(value)));
        }
    }
    // Redis answers an alias under the name asked for (`lua-time-limit`).
    for (alias, name) in ALIASES {
        let asked = a[2..]
            .iter()
            .any(|p| glob::matches(p, alias.as_bytes(), true));
        if let (true, Some(s)) = (asked, find(name)) {
            out.push((Reply::from_static(alias), Reply::bulk(s.show(&config))));
        }
    }
    Ok(Reply::Map(out))
}

/// `CONFIG SET name value [name value ...]`: all or nothing.
fn set(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if !a.len().is_multiple_of(2) {
        return Err(CommandError::err(format!(
            "Unknown option or number of arguments for CONFIG SET - '{}'",
            lossy(&a[a.len() - 1], 128)
        )));
    }
    let mut next: Config = (*ctx.shared.config()).clone();
    let mut seen: Vec<&'static str> = Vec::new();
    for pair in a[2..].chunks(2) {
        let name = String::from_utf8_lossy(&pair[0]);
        next.set(&name, &pair[1])
            .map_err(|e| CommandError::err(e.to_string()))?;
        // `set` succeeded, so the name is a setting.
        let canonical = find(&name).map_or("", |s| s.name);
        if seen.contains(&canonical) {
            return Err(CommandError::err(format!(
                "CONFIG SET failed (possibly related to argument '{canonical}') - duplicate parameter"
            )));
        }
        seen.push(canonical);
    }
    ctx.shared
        .apply_config(next)
        .map_err(|e| CommandError::err(format!("CONFIG SET failed - {e}")))?;
    Ok(Reply::Ok)
}

/// `CONFIG RESETSTAT`
fn resetstat(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    ctx.shared.reset_stats();
    Ok(Reply::Ok)
}

/// `CONFIG REWRITE`
fn rewrite(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Err(CommandError::err(
        "CONFIG REWRITE is not supported: edit the config file or the flags and restart",
    ))
}
