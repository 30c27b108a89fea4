//! CLUSTER and its subcommands (INFO, SLOTS, SHARDS, NODES, MYID, KEYSLOT, COUNTKEYSINSLOT,
//! GETKEYSINSLOT, LINKS, REPLICAS, COUNT-FAILURE-REPORTS, SAVECONFIG, HELP, and the ones that
//! would change a real cluster's topology), and READONLY, READWRITE, ASKING: emulated cluster
//! mode.
//!
//! With `cluster-mode emulated` the node answers as a one-node Redis Cluster that owns all
//! 16384 slots ([`topology`]), so cluster-aware clients (redis-py `RedisCluster`, ioredis
//! `Cluster`, `redis-cli -c`) can be pointed at it: they read the slot map once (CLUSTER SLOTS,
//! and CLUSTER INFO for `cluster_state:ok`), find every slot on this node and never see a
//! redirection. No CROSSSLOT check is made: one node holds every key. The topology is fixed:
//! ADDSLOTS, DELSLOTS, SETSLOT, MEET, FORGET, REPLICATE, FAILOVER, RESET, BUMPEPOCH and
//! SET-CONFIG-EPOCH are refused with one error.
//!
//! With `cluster-mode no` (the default) every one of these commands that passes the arity
//! check answers `ERR This instance has cluster support disabled`, as a standalone Redis
//! 7.0.15 does (an unknown subcommand and a wrong arity are still caught first, by dispatch).

pub mod slot;
pub mod topology;

use super::args;
use super::spec::flag::*;
use super::{command, lossy, permit, CommandError, CommandSpec, Ctx, Handler};
use crate::acl::READ;
use crate::config::ClusterMode;
use crate::protocol::Reply;
use crate::sub;
use bytes::Bytes;
use slot::{key_slot, SLOTS};
use topology::Myself;

/// `CLUSTER`'s subcommand rows (Redis 7.0.15's arities and flags).
#[rustfmt::skip]
pub static SUBCOMMANDS: &[CommandSpec] = &[
    sub!("cluster", "countkeysinslot", 3, STALE, 0, "cluster", "3.0.0", "<slot>", "Return the number of keys in <slot>.", Handler::Sync(countkeysinslot)),
    sub!("cluster", "getkeysinslot", 4, STALE, 0, "cluster", "3.0.0", "<slot> <count>", "Return key names stored by current node in a slot.", Handler::Sync(getkeysinslot)),
    sub!("cluster", "info", 2, STALE, 0, "cluster", "3.0.0", "", "Return information about the cluster.", Handler::Sync(info)),
    sub!("cluster", "keyslot", 3, STALE, 0, "cluster", "3.0.0", "<key>", "Return the hash slot for <key>.", Handler::Sync(keyslot)),
    sub!("cluster", "myid", 2, STALE, 0, "cluster", "3.0.0", "", "Return the node id.", Handler::Sync(myid)),
    sub!("cluster", "nodes", 2, STALE, 0, "cluster", "3.0.0", "", "Return cluster configuration seen by node (one line: this node, master of 0-16383).", Handler::Sync(nodes)),
    sub!("cluster", "shards", 2, STALE, 0, "cluster", "7.0.0", "", "Return information about slot range mappings and the nodes associated with them.", Handler::Sync(shards)),
    sub!("cluster", "slots", 2, STALE, 0, "cluster", "3.0.0", "", "Return information about slots range mappings.", Handler::Sync(slots)),
    sub!("cluster", "links", 2, STALE, 0, "cluster", "7.0.0", "", "Return information about all network links between this node and its peers (none).", Handler::Sync(links)),
    sub!("cluster", "replicas", 3, ADMIN | STALE, 0, "cluster", "5.0.0", "<node-id>", "Return <node-id> replicas (this node has none).", Handler::Sync(replicas)),
    sub!("cluster", "slaves", 3, ADMIN | STALE, 0, "cluster", "3.0.0", "<node-id>", "Return <node-id> replicas (this node has none).", Handler::Sync(replicas)),
    sub!("cluster", "count-failure-reports", 3, ADMIN | STALE, 0, "cluster", "3.0.0", "<node-id>", "Return number of failure reports for <node-id> (always 0).", Handler::Sync(count_failure_reports)),
    sub!("cluster", "saveconfig", 2, ADMIN | STALE, 0, "cluster", "3.0.0", "", "Force saving cluster configuration on disk (there is none to save).", Handler::Sync(saveconfig)),
    sub!("cluster", "addslots", -3, ADMIN | STALE, 0, "cluster", "3.0.0", "<slot> [<slot> ...]", "Refused: the emulated node owns every slot.", Handler::Sync(fixed)),
    sub!("cluster", "addslotsrange", -4, ADMIN | STALE, 0, "cluster", "7.0.0", "<start slot> <end slot> [<start slot> <end slot> ...]", "Refused: the emulated node owns every slot.", Handler::Sync(fixed)),
    sub!("cluster", "bumpepoch", 2, ADMIN | STALE, 0, "cluster", "3.0.0", "", "Refused: the emulated cluster's epochs stay 0.", Handler::Sync(fixed)),
    sub!("cluster", "delslots", -3, ADMIN | STALE, 0, "cluster", "3.0.0", "<slot> [<slot> ...]", "Refused: the emulated node owns every slot.", Handler::Sync(fixed)),
    sub!("cluster", "delslotsrange", -4, ADMIN | STALE, 0, "cluster", "7.0.0", "<start slot> <end slot> [<start slot> <end slot> ...]", "Refused: the emulated node owns every slot.", Handler::Sync(fixed)),
    sub!("cluster", "failover", -2, ADMIN | STALE, 0, "cluster", "3.0.0", "[FORCE|TAKEOVER]", "Refused: the emulated node is the only master.", Handler::Sync(fixed)),
    sub!("cluster", "flushslots", 2, ADMIN | STALE, 0, "cluster", "3.0.0", "", "Refused: the emulated node owns every slot.", Handler::Sync(fixed)),
    sub!("cluster", "forget", 3, ADMIN | STALE, 0, "cluster", "3.0.0", "<node-id>", "Refused: the emulated cluster has one node.", Handler::Sync(fixed)),
    sub!("cluster", "meet", -4, ADMIN | STALE, 0, "cluster", "3.0.0", "<ip> <port> [<bus-port>]", "Refused: the emulated cluster has one node.", Handler::Sync(fixed)),
    sub!("cluster", "replicate", 3, ADMIN | STALE, 0, "cluster", "3.0.0", "<node-id>", "Refused: the emulated node is the only master.", Handler::Sync(fixed)),
    sub!("cluster", "reset", -2, ADMIN | NO_SCRIPT | STALE, 0, "cluster", "3.0.0", "[HARD|SOFT]", "Refused: the emulated cluster's topology is fixed.", Handler::Sync(fixed)),
    sub!("cluster", "set-config-epoch", 3, ADMIN | STALE, 0, "cluster", "3.0.0", "<epoch>", "Refused: the emulated cluster's epochs stay 0.", Handler::Sync(fixed)),
    sub!("cluster", "setslot", -4, ADMIN | STALE, 0, "cluster", "3.0.0", "<slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)", "Refused: the emulated node owns every slot.", Handler::Sync(fixed)),
    sub!("cluster", "help", 2, LOADING | STALE, 0, "cluster", "5.0.0", "", "Show helpful text about the different subcommands.", Handler::Sync(help)),
];

/// What the subcommands that would change a real cluster's topology answer in emulated mode.
const FIXED: &str = "The emulated cluster's topology is fixed: one master that owns every slot";

/// This node as emulated mode announces it, or the standalone error.
///
/// The address is `cluster-announce-ip`, else the bind address; a wildcard bind without an
/// announce address is refused at start (the configuration's start-up checks), and shows as
/// the empty address should a server be built from a `Config` that skipped them. The port is
/// `cluster-announce-port`, else the port served.
fn myself(ctx: &Ctx<'_>) -> Result<Myself, CommandError> {
    let config = ctx.shared.config();
    let scale = &config.scale;
    if scale.cluster_mode != ClusterMode::Emulated {
        return Err(CommandError::ClusterDisabled);
    }
    let ip = match scale.cluster_announce_ip {
        Some(ip) => ip.to_string(),
        None if config.bind.is_unspecified() => String::new(),
        None => config.bind.to_string(),
    };
    let port = match scale.cluster_announce_port {
        0 => ctx.shared.port(),
        p => p,
    };
    Ok(Myself {
        id: ctx.shared.run_id.clone(),
        ip,
        port,
    })
}

/// `CLUSTER INFO`
fn info(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(myself(ctx)?.info())
}

/// `CLUSTER NODES`
fn nodes(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(myself(ctx)?.nodes())
}

/// `CLUSTER SLOTS`
fn slots(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(myself(ctx)?.slots())
}

/// `CLUSTER SHARDS`
fn shards(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(myself(ctx)?.shards())
}

/// `CLUSTER MYID`
fn myid(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(myself(ctx)?.myid())
}

/// `CLUSTER KEYSLOT key`
fn keyslot(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    myself(ctx)?;
    Ok(Reply::Int(key_slot(&a[2]) as i64))
}

/// A slot argument: an integer (else `ERR value is not an integer or out of range`), `None`
/// when it is outside `0..16384`.
fn slot_arg(arg: &[u8]) -> Result<Option<u16>, CommandError> {
    let n = args::int(arg)?;
    Ok(u16::try_from(n).ok().filter(|s| *s < SLOTS))
}

/// `CLUSTER COUNTKEYSINSLOT slot`: walks the whole keyspace (there is no per-slot index; the
/// emulated node owns every slot, so clients only ask this when inspecting it).
fn countkeysinslot(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    myself(ctx)?;
    let slot = slot_arg(&a[2])?.ok_or(CommandError::err("Invalid slot"))?;
    let n = ctx
        .shared
        .store
        .iter()
        .filter(|(k, _)| key_slot(k) == slot)
        .count();
    Ok(Reply::Int(n as i64))
}

/// `CLUSTER GETKEYSINSLOT slot count`: at most `count` key names of the slot, in byte order,
/// only those the user may read (as SCAN and KEYS filter them). Walks the whole keyspace.
fn getkeysinslot(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    myself(ctx)?;
    let slot = slot_arg(&a[2])?;
    let count = args::int(&a[3])?;
    let (Some(slot), Ok(count)) = (slot, usize::try_from(count)) else {
        return Err(CommandError::err("Invalid slot or number of keys"));
    };
    let allowed = permit::key_filter(ctx, READ);
    let mut keys: Vec<Bytes> = ctx
        .shared
        .store
        .iter()
        .filter(|(k, _)| key_slot(k) == slot && allowed.as_ref().is_none_or(|f| f(k)))
        .map(|(k, _)| Bytes::copy_from_slice(&k))
        .collect();
    keys.sort_unstable();
    keys.truncate(count);
    Ok(Reply::Array(keys.into_iter().map(Reply::Bulk).collect()))
}

/// `CLUSTER LINKS`: no peers, so no links (an empty array, as a one-node Redis Cluster).
fn links(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    myself(ctx)?;
    Ok(Reply::Array(Vec::new()))
}

/// `ERR Unknown node <id>` unless `id` is this node's.
fn known_node(me: &Myself, id: &[u8]) -> Result<(), CommandError> {
    if id == me.id.as_bytes() {
        Ok(())
    } else {
        Err(CommandError::err(format!(
            "Unknown node {}",
            lossy(id, 128)
        )))
    }
}

/// `CLUSTER REPLICAS node-id`, `CLUSTER SLAVES node-id`: this node has no replicas.
fn replicas(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    known_node(&myself(ctx)?, &a[2])?;
    Ok(Reply::Array(Vec::new()))
}

/// `CLUSTER COUNT-FAILURE-REPORTS node-id`: no peer ever reports a failure.
fn count_failure_reports(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    known_node(&myself(ctx)?, &a[2])?;
    Ok(Reply::Int(0))
}

/// `CLUSTER SAVECONFIG`: OK; the emulated cluster has no nodes file (its state is fixed).
fn saveconfig(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    myself(ctx)?;
    Ok(Reply::Ok)
}

/// ADDSLOTS, DELSLOTS, SETSLOT, MEET, FORGET, REPLICATE, FAILOVER, RESET, ... : the standalone
/// error with `cluster-mode no`; in emulated mode refused, since the topology cannot change.
fn fixed(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    myself(ctx)?;
    Err(CommandError::err(FIXED))
}

/// `CLUSTER HELP`: the table's text, in emulated mode only (a standalone Redis refuses it too).
fn help(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    myself(ctx)?;
    command::help(ctx, a)
}

/// `READONLY`, `READWRITE`, `ASKING`: OK in emulated mode (this node is the master of every
/// slot, so reads need no replica permission and no slot is ever being imported).
pub fn ok_when_emulated(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    myself(ctx)?;
    Ok(Reply::Ok)
}
