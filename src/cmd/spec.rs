//! One row of the command table: [`CommandSpec`], its flags and its ACL categories.
//!
//! Flags are what `COMMAND INFO` lists and what dispatch checks (auth, loading, MULTI). ACL
//! categories are derived as Redis derives them (`write` -> `@write`, `readonly` -> `@read`,
//! `admin` -> `@admin @dangerous`, `fast` -> `@fast` else `@slow`, `blocking` -> `@blocking`),
//! plus the row's own (`@string`, `@keyspace`, `@dangerous`, `@llm`, ...).

use super::{CommandError, Ctx, Flow};
use crate::protocol::Reply;
use bytes::Bytes;

/// How a row runs.
#[derive(Clone, Copy)]
pub enum Handler {
    Sync(fn(&mut Ctx<'_>, &[Bytes]) -> Result<Reply, CommandError>),
    /// May block (a [`Flow::Wait`]) or close the connection.
    Flow(fn(&mut Ctx<'_>, &[Bytes]) -> Result<Flow, CommandError>),
}

/// Command flags, as `COMMAND INFO` names them.
pub mod flag {
    pub const WRITE: u32 = 1;
    pub const READONLY: u32 = 1 << 1;
    pub const FAST: u32 = 1 << 2;
    /// Allowed before AUTH.
    pub const NO_AUTH: u32 = 1 << 3;
    /// Allowed while the data set is loading.
    pub const LOADING: u32 = 1 << 4;
    /// Refused inside MULTI (`Command not allowed inside a transaction`): SAVE, SHUTDOWN.
    pub const NO_MULTI: u32 = 1 << 5;
    pub const ADMIN: u32 = 1 << 6;
    pub const BLOCKING: u32 = 1 << 7;
    pub const DENY_OOM: u32 = 1 << 8;
    pub const STALE: u32 = 1 << 9;
    /// Refused inside a script (`redis.call`).
    pub const NO_SCRIPT: u32 = 1 << 10;
    /// Runs while a script is busy, without passing the script gate (it touches no data).
    pub const ALLOW_BUSY: u32 = 1 << 11;
    /// Takes the script gate's exclusive pass itself (EVAL and its kin, EXEC); not a Redis flag.
    pub const EXCLUSIVE: u32 = 1 << 12;

    pub const NAMES: [(u32, &str); 12] = [
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENY_OOM, "denyoom"),
        (ADMIN, "admin"),
        (NO_AUTH, "no_auth"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (FAST, "fast"),
        (BLOCKING, "blocking"),
        (NO_MULTI, "no_multi"),
        (NO_SCRIPT, "noscript"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories, in the order Redis lists them, then llmcached's own.
pub mod acl {
    pub const KEYSPACE: u32 = 1;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const HASH: u32 = 1 << 3;
    pub const STRING: u32 = 1 << 4;
    pub const ADMIN: u32 = 1 << 5;
    pub const FAST: u32 = 1 << 6;
    pub const SLOW: u32 = 1 << 7;
    pub const BLOCKING: u32 = 1 << 8;
    pub const DANGEROUS: u32 = 1 << 9;
    pub const CONNECTION: u32 = 1 << 10;
    pub const TRANSACTION: u32 = 1 << 11;
    pub const JSON: u32 = 1 << 12;
    pub const LLM: u32 = 1 << 13;
    pub const LIST: u32 = 1 << 14;
    pub const SET: u32 = 1 << 15;
    pub const SORTEDSET: u32 = 1 << 16;
    pub const BITMAP: u32 = 1 << 17;
    pub const SCRIPTING: u32 = 1 << 18;

    /// In Redis's order (`COMMAND INFO` lists a row's categories so).
    pub const NAMES: [(u32, &str); 19] = [
        (KEYSPACE, "@keyspace"),
        (READ, "@read"),
        (WRITE, "@write"),
        (SET, "@set"),
        (SORTEDSET, "@sortedset"),
        (LIST, "@list"),
        (HASH, "@hash"),
        (STRING, "@string"),
        (BITMAP, "@bitmap"),
        (ADMIN, "@admin"),
        (FAST, "@fast"),
        (SLOW, "@slow"),
        (BLOCKING, "@blocking"),
        (DANGEROUS, "@dangerous"),
        (CONNECTION, "@connection"),
        (TRANSACTION, "@transaction"),
        (SCRIPTING, "@scripting"),
        (JSON, "@json"),
        (LLM, "@llm"),
    ];
}

/// One row of the command table: a command, a container, or a container's subcommand.
pub struct CommandSpec {
    /// Lower-case name: `get`; for a subcommand its own word, `get` of `config get`.
    pub name: &'static str,
    /// `get`, or `config|get` for a subcommand: the name in errors, stats and COMMAND INFO.
    pub full_name: &'static str,
    /// Redis's convention, counting the name (and a subcommand's container).
    pub arity: i32,
    pub flags: u32,
    /// Categories of the row's own ([`acl`]); those implied by `flags` are added by [`Self::acl`].
    pub acl: u32,
    /// Key positions: first, last (negative counts from the end), step; 0,0,0 for none.
    pub keys: (i32, i32, i32),
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    /// The arguments after the name, as HELP shows them (`<pattern> [<pattern> ...]`).
    pub syntax: &'static str,
    pub handler: Handler,
    /// A container's subcommands; empty for a plain command.
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// The smallest argument count that passes the arity check.
    pub fn min_args(&self) -> usize {
        self.arity.unsigned_abs() as usize
    }

    /// Every ACL category of the row: its own plus those its flags imply.
    pub fn acl(&self) -> u32 {
        let mut a = self.acl;
        if self.has(flag::WRITE) {
            a |= acl::WRITE;
        }
        if self.has(flag::READONLY) {
            a |= acl::READ;
        }
        if self.has(flag::ADMIN) {
            a |= acl::ADMIN | acl::DANGEROUS;
        }
        if self.has(flag::BLOCKING) {
            a |= acl::BLOCKING;
        }
        a |= if self.has(flag::FAST) {
            acl::FAST
        } else {
            acl::SLOW
        };
        a
    }

    /// The row's ACL category names, in Redis's order.
    pub fn acl_names(&self) -> impl Iterator<Item = &'static str> {
        let a = self.acl();
        acl::NAMES
            .into_iter()
            .filter(move |(bit, _)| a & bit != 0)
            .map(|(_, n)| n)
    }
}

/// A row of the table. Forms:
/// `row!(name, arity, flags, acl, keys, group, since, syntax, summary, handler)` and, for a
/// container, the same followed by its subcommand rows (`subs: SUBS`).
#[macro_export]
macro_rules! row {
    ($name:literal, $arity:expr, $flags:expr, $acl:expr, $keys:expr, $group:literal, $since:literal, $syntax:literal, $summary:literal, $h:expr) => {
        $crate::row!($name, $arity, $flags, $acl, $keys, $group, $since, $syntax, $summary, $h, subs: &[])
    };
    ($name:literal, $arity:expr, $flags:expr, $acl:expr, $keys:expr, $group:literal, $since:literal, $syntax:literal, $summary:literal, $h:expr, subs: $subs:expr) => {
        $crate::cmd::CommandSpec {
            name: $name,
            full_name: $name,
            arity: $arity,
            flags: $flags,
            acl: $acl,
            keys: $keys,
            group: $group,
            since: $since,
            summary: $summary,
            syntax: $syntax,
            handler: $h,
            subcommands: $subs,
        }
    };
}

/// A subcommand row: `sub!("config", "get", arity, flags, acl, group, since, syntax, summary, handler)`,
/// with `keys: (first, last, step)` at the end for a subcommand that names keys (`OBJECT ENCODING key`).
#[macro_export]
macro_rules! sub {
    ($container:literal, $name:literal, $arity:expr, $flags:expr, $acl:expr, $group:literal, $since:literal, $syntax:literal, $summary:literal, $h:expr) => {
        $crate::sub!($container, $name, $arity, $flags, $acl, $group, $since, $syntax, $summary, $h, keys: (0, 0, 0))
    };
    ($container:literal, $name:literal, $arity:expr, $flags:expr, $acl:expr, $group:literal, $since:literal, $syntax:literal, $summary:literal, $h:expr, keys: $keys:expr) => {
        $crate::cmd::CommandSpec {
            name: $name,
            full_name: concat!($container, "|", $name),
            arity: $arity,
            flags: $flags,
            acl: $acl,
            keys: $keys,
            group: $group,
            since: $since,
            summary: $summary,
            syntax: $syntax,
            handler: $h,
            subcommands: &[],
        }
    };
}
