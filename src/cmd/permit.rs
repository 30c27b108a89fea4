//! The ACL check every command passes: may this connection's user run this row, on these keys?
//!
//! The row's categories and key positions come from the command table. A key is read, written
//! or both as the row uses it (a `readonly` row reads; a `write` row reads and writes, except
//! the rows in [`WRITE_ONLY`]; the rows in [`NO_ACCESS`] only look at a key's existence or
//! metadata, so any pattern that matches the key will do, as Redis's key specs without
//! `access`). Commands that reach the whole keyspace at once need `allkeys` ([`ALL_KEYS`]);
//! SCAN and KEYS filter instead, with [`key_filter`].
//!
//! # Cost
//! A user with every command and every key (the `default` user as shipped) passes after one
//! lock-free load of its cell and two flag tests: nothing is allocated.

use super::spec::acl as cat;
use super::spec::flag::NO_AUTH;
use super::{all_rows, CommandError, CommandSpec, Ctx};
use crate::acl::catalogue::{Catalogue, Row};
use crate::acl::log::{now_ms, Entry, Reason};
use crate::acl::{file, namespace, User, UserCell, READ, WRITE};
use crate::protocol::Reply;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Write rows that do not read the key they write (Redis's `OW` / `RM` key specs).
const WRITE_ONLY: &[&str] = &[
    "set", "setnx", "setex", "psetex", "mset", "del", "unlink", "llmsetnx", "llmabort",
];
/// Read rows that use only a key's existence, type or TTL.
const NO_ACCESS: &[&str] = &[
    "exists",
    "type",
    "ttl",
    "pttl",
    "expiretime",
    "pexpiretime",
    "strlen",
    "hexists",
    "hlen",
    "hstrlen",
];
/// Read rows that may grant the caller the key's fill lease, which it then fills: they need
/// write access too. Their read-only twins (LLMGET_RO, LLMLOOKUP_RO) need only read access.
const LEASING: &[&str] = &["llmget", "llmread"];
/// Rows that reach every key at once: only a user with `allkeys` may run them.
const ALL_KEYS: &[&str] = &["flushdb", "flushall", "randomkey", "swapdb"];

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    Command,
    Key(Bytes),
}

/// `NOPERM` for a command, in Redis 7.0.15's words.
pub fn noperm_command(name: &str) -> Reply {
    Reply::error(format!(
        "NOPERM this user has no permissions to run the '{name}' command"
    ))
}

/// `NOPERM` for a key, in Redis 7.0.15's words.
pub fn noperm_key() -> Reply {
    Reply::error(NOPERM_KEY)
}

const NOPERM_KEY: &str =
    "NOPERM this user has no permissions to access one of the keys used as arguments";

/// The access `spec` needs to its keys when called with `args`.
fn key_perm(spec: &CommandSpec, args: &[Bytes]) -> u8 {
    let name = spec.full_name;
    if spec.has(super::flag::WRITE) {
        let reads = name == "set" && args.iter().skip(3).any(|a| super::args::is(a, "GET"));
        if WRITE_ONLY.contains(&name) && !reads {
            WRITE
        } else {
            READ | WRITE
        }
    } else if NO_ACCESS.contains(&name) {
        0
    } else if LEASING.contains(&name) {
        READ | WRITE
    } else {
        READ
    }
}

/// The key arguments of `args` by the row's (first, last, step).
fn keys<'a>(spec: &CommandSpec, args: &'a [Bytes]) -> impl Iterator<Item = &'a Bytes> {
    let (first, last, step) = spec.keys;
    let argc = args.len() as i64;
    let last = if last < 0 {
        argc + last as i64
    } else {
        last as i64
    };
    let step = step.max(1) as usize;
    let range = if first <= 0 {
        0..0
    } else {
        (first as usize)..(last.min(argc - 1) + 1).max(first as i64) as usize
    };
    range.step_by(step).filter_map(|i| args.get(i))
}

/// Checks `user` against the row `index` called as `args` (without side effects).
pub fn check(user: &User, index: usize, spec: &CommandSpec, args: &[Bytes]) -> Result<(), Denial> {
    if user.all_commands && user.all_keys {
        return Ok(());
    }
    if spec.has(NO_AUTH) {
        return Ok(());
    }
    if !user.may_run(index) || (ALL_KEYS.contains(&spec.full_name) && !user.all_keys) {
        return Err(Denial::Command);
    }
    if user.all_keys {
        return Ok(());
    }
    let perm = key_perm(spec, args);
    match keys(spec, args).find(|k| !user.may_access(k, perm)) {
        Some(k) => Err(Denial::Key(k.clone())),
        None => Ok(()),
    }
}

/// The connection's user cell (the default user until AUTH).
pub fn cell(ctx: &Ctx<'_>) -> Arc<UserCell> {
    match &ctx.client.user {
        Some(c) => c.clone(),
        None => ctx.shared.acl.default_cell(),
    }
}

/// Runs [`check`] for this connection; a refusal is counted, logged in ACL LOG and answered
/// with `NOPERM`.
pub fn admit(
    ctx: &mut Ctx<'_>,
    index: usize,
    spec: &CommandSpec,
    args: &[Bytes],
) -> Result<(), Reply> {
    let checked = match &ctx.client.user {
        Some(c) => check(&c.load(), index, spec, args),
        None => check(&ctx.shared.acl.default_ref().load(), index, spec, args),
    };
    let Err(denial) = checked else {
        return Ok(());
    };
    let (reason, object, reply) = match denial {
        Denial::Command => {
            ctx.shared.acl.denied.cmd.fetch_add(1, Ordering::Relaxed);
            (
                Reason::Command,
                spec.full_name.to_string(),
                noperm_command(spec.full_name),
            )
        }
        Denial::Key(k) => {
            ctx.shared.acl.denied.key.fetch_add(1, Ordering::Relaxed);
            (
                Reason::Key,
                String::from_utf8_lossy(&k).into_owned(),
                noperm_key(),
            )
        }
    };
    log(ctx, reason, object);
    Err(reply)
}

/// Checks a key the server computed (LLMLOOKUP's) against the user's patterns: `Err` is the
/// `NOPERM` reply, counted and logged as a denied key.
pub fn admit_key(ctx: &mut Ctx<'_>, key: &[u8], perm: u8) -> Result<(), CommandError> {
    let ok = cell(ctx).load().may_access(key, perm);
    if ok {
        return Ok(());
    }
    ctx.shared.acl.denied.key.fetch_add(1, Ordering::Relaxed);
    log(ctx, Reason::Key, String::from_utf8_lossy(key).into_owned());
    Err(CommandError::coded(NOPERM_KEY))
}

/// Checks that the user may access, with `perm`, every key under the prefixes of the index
/// `name` (RediSearch 8's rule for FT.SEARCH, FT.INFO and FT.DROPINDEX): a search can return
/// any hash under them, so the index name passing the key patterns is not enough. `Err` is
/// RediSearch's `NOPERM` reply, counted and logged as a denied key (the index name).
pub fn admit_index(
    ctx: &mut Ctx<'_>,
    name: &[u8],
    prefixes: &[Bytes],
    perm: u8,
) -> Result<(), CommandError> {
    let cell = cell(ctx);
    let user = cell.load();
    let ok = if prefixes.is_empty() {
        crate::acl::may_access_prefix(&user, b"", perm)
    } else {
        prefixes
            .iter()
            .all(|p| crate::acl::may_access_prefix(&user, p, perm))
    };
    drop(user);
    if ok {
        return Ok(());
    }
    ctx.shared.acl.denied.key.fetch_add(1, Ordering::Relaxed);
    log(ctx, Reason::Key, String::from_utf8_lossy(name).into_owned());
    Err(CommandError::coded(NOPERM_INDEX))
}

/// RediSearch's words when the user's key patterns do not cover an index's prefixes.
const NOPERM_INDEX: &str = "NOPERM User does not have the required permissions to query the index";

/// A predicate for keys this connection's user may access with `perm` (SCAN, KEYS, LLMPURGE).
/// `None` when every key is allowed, so callers skip the test.
pub fn key_filter(ctx: &Ctx<'_>, perm: u8) -> Option<impl Fn(&[u8]) -> bool + Send + 'static> {
    let user = cell(ctx).load_full();
    (!user.all_keys).then_some(move |k: &[u8]| user.may_access(k, perm))
}

/// The namespace options of LLMKEY / LLMLOOKUP: takes `NAMESPACE ns` out of `options` and
/// returns the namespace to key in (the given one, or the user's with `llm-key-namespace user`)
/// with the remaining options. The error is the whole reply line.
pub fn llm_namespace(
    ctx: &Ctx<'_>,
    options: &[Bytes],
) -> Result<(Option<Bytes>, Vec<Bytes>), CommandError> {
    let (given, rest) = namespace::take(options).map_err(CommandError::coded)?;
    if given.is_some() || !ctx.shared.config().acl.key_namespace_user {
        return Ok((given, rest));
    }
    let ns = ctx
        .client
        .info
        .meta(|m| namespace::resolve(None, true, &m.user));
    Ok((ns, rest))
}

/// Records a denied attempt of the connection's user in ACL LOG.
pub fn log(ctx: &Ctx<'_>, reason: Reason, object: String) {
    let user = ctx.client.info.meta(|m| m.user.clone());
    log_as(ctx, reason, object, user);
}

/// Records a denied attempt of `username` in ACL LOG.
pub fn log_as(ctx: &Ctx<'_>, reason: Reason, object: String, username: String) {
    let context = if ctx.client.in_exec || ctx.client.multi.is_some() {
        "multi"
    } else {
        "toplevel"
    };
    ctx.shared.acl.log.add(Entry {
        count: 1,
        reason,
        context,
        object,
        username,
        at_ms: now_ms(),
        client_info: crate::metrics::info::client_line(ctx.shared, &ctx.client.info),
    });
}

/// The command table as the ACL rules see it, and Redis's categories in `ACL CAT` order.
pub fn catalogue() -> Catalogue {
    let mut rows: Vec<Row> = Vec::new();
    let mut parent = None;
    let mut left = 0;
    for spec in all_rows() {
        let i = rows.len();
        let this_parent = if left > 0 {
            left -= 1;
            parent
        } else {
            None
        };
        if let Some(p) = this_parent {
            let row: &mut Row = &mut rows[p];
            row.children.push(i);
        }
        rows.push(Row {
            name: spec.full_name,
            categories: spec.acl(),
            parent: this_parent,
            children: Vec::new(),
        });
        if !spec.subcommands.is_empty() {
            parent = Some(i);
            left = spec.subcommands.len();
        }
    }
    let categories = vec![
        ("keyspace", cat::KEYSPACE),
        ("read", cat::READ),
        ("write", cat::WRITE),
        ("set", cat::SET),
        ("sortedset", cat::SORTEDSET),
        ("list", cat::LIST),
        ("hash", cat::HASH),
        ("string", cat::STRING),
        ("bitmap", cat::BITMAP),
        ("hyperloglog", 0),
        ("geo", 0),
        ("stream", 0),
        ("pubsub", 0),
        ("admin", cat::ADMIN),
        ("fast", cat::FAST),
        ("slow", cat::SLOW),
        ("blocking", cat::BLOCKING),
        ("dangerous", cat::DANGEROUS),
        ("connection", cat::CONNECTION),
        ("transaction", cat::TRANSACTION),
        ("scripting", cat::SCRIPTING),
        ("json", cat::JSON),
        ("llm", cat::LLM),
    ];
    Catalogue { rows, categories }
}

/// Installs the command table's catalogue and the configured users (`user` lines or the
/// aclfile) into the state. Errors are Redis's start-up messages; the warnings are for the log.
pub fn install(shared: &crate::state::Shared) -> Result<Vec<String>, String> {
    let config = shared.config();
    let catalogue = Arc::new(catalogue());
    let mut warnings = Vec::new();
    let requirepass = config.requirepass.as_ref().map(|p| p.as_bytes());
    let users = match &config.acl.aclfile {
        Some(_) if !config.acl.users.0.is_empty() => {
            return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
        }
        Some(path) => {
            if requirepass.is_some() {
                warnings.push("requirepass is ignored: the aclfile defines the users".into());
            }
            file::load(path, &catalogue)
                .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?
        }
        None => file::from_config_lines(&config.acl.users.0, &catalogue)?,
    };
    let requirepass = if config.acl.aclfile.is_some() {
        None
    } else {
        requirepass
    };
    shared.acl.install(catalogue, requirepass, users);
    shared.acl.log.set_max_len(config.acl.log_max_len);
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::{lookup, row};

    fn spec(name: &str) -> &'static CommandSpec {
        row(lookup(name.as_bytes()).unwrap()).unwrap()
    }

    fn words(w: &[&str]) -> Vec<Bytes> {
        w.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn key_positions_follow_the_table() {
        let mset = words(&["mset", "a", "1", "b", "2"]);
        assert_eq!(
            keys(spec("mset"), &mset).collect::<Vec<_>>(),
            [&mset[1], &mset[3]]
        );
        let mget = words(&["json.mget", "a", "b", "$"]);
        assert_eq!(keys(spec("json.mget"), &mget).count(), 2);
        assert_eq!(keys(spec("ping"), &words(&["ping"])).count(), 0);
    }

    #[test]
    fn key_access_follows_what_the_command_does() {
        assert_eq!(key_perm(spec("get"), &words(&["get", "k"])), READ);
        assert_eq!(key_perm(spec("set"), &words(&["set", "k", "v"])), WRITE);
        assert_eq!(
            key_perm(spec("set"), &words(&["set", "k", "v", "GET"])),
            READ | WRITE
        );
        assert_eq!(key_perm(spec("incr"), &words(&["incr", "k"])), READ | WRITE);
        // A %R~ user may replay answers with LLMGET_RO but not take fill leases.
        assert_eq!(
            key_perm(spec("llmget"), &words(&["llmget", "k"])),
            READ | WRITE
        );
        assert_eq!(
            key_perm(spec("llmget_ro"), &words(&["llmget_ro", "k"])),
            READ
        );
        assert_eq!(key_perm(spec("exists"), &words(&["exists", "k"])), 0);
    }

    #[test]
    fn catalogue_links_subcommands_to_their_container() {
        let c = catalogue();
        let client = c.find(b"client").unwrap();
        let list = c.find(b"CLIENT|LIST").unwrap();
        assert_eq!(c.rows[list].parent, Some(client));
        assert!(c.rows[client].children.contains(&list));
        assert_eq!(c.rows.len(), all_rows().count());
    }
}
