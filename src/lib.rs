//! llmcached: a Redis-protocol cache server for LLM responses.
//!
//! Any Redis client is an llmcached client. Besides Redis's string, key, server and transaction
//! commands, llmcached offers single-flight fills (`LLMGET` / `LLMSETNX` / `LLMABORT`: on a miss
//! one caller is told to call the model while the others wait inside the server) and `LLMSTATS`.
//!
//! # Layout
//! From the bottom layer up; a module imports only from layers below it.
//! - [`protocol`]: request parsing with limits (RESP and inline), the sdssplitargs splitter,
//!   typed replies (RESP2 / RESP3).
//! - [`glob`]: Redis glob patterns.
//! - [`acl`]: ACL users, their rules, the ACL log, aclfiles, tenant namespaces.
//! - [`types`]: the collection values (lists, sets, sorted sets) and the waits of blocked list
//!   pops.
//! - [`cache`]: the keyspace on moka (TTL, byte budget, eviction), single-flight leases, counters,
//!   transparent compression of long strings (zstd, a dictionary per key prefix).
//! - [`keying`]: canonical request -> cache key (`LLMKEY`, `LLMLOOKUP`).
//! - [`search`]: search indexes over hashes (FT.*): schema, query parser, FLAT and HNSW
//!   vectors; follows the keyspace as the store's observer.
//! - [`persistence`]: append-only log and base snapshots, recovery, background rewrite.
//! - [`config`]: the settings table -> flags, environment, redis.conf, CONFIG GET / SET; a
//!   validated [`config::Config`].
//! - [`script`]: Lua scripting (Lua 5.1): the sandbox, Redis's conversions, `cjson` and `bit`,
//!   the script cache, and the gate that makes a script or EXEC atomic.
//! - [`client`]: per-connection state and the registry behind `CLIENT LIST`.
//! - [`durability`]: the store's journal, loading at start, rewrites; takes the store.
//! - [`pause`]: CLIENT PAUSE's server-wide hold on client commands (all, or those that may write).
//! - [`observe`]: per-command latency histograms, the slow log, the latency monitor, error
//!   counts, LLM lookup timings (what SLOWLOG, LATENCY, INFO and `/metrics` read).
//! - [`state`]: [`state::Shared`], the state every command sees (below the commands).
//! - [`metrics`]: INFO rendering from the state.
//! - [`cmd`]: the command table, the checks before a command runs, one file per family.
//! - [`connection`]: one client: read, parse, execute, batched replies (pipelining).
//! - [`tls`]: the TLS port's rustls configuration, reloads, the TLS socket.
//! - [`server`]: the accept loop, the client limit, protected mode, graceful shutdown.

#![deny(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod acl;
pub mod cache;
pub mod client;
pub mod cmd;
pub mod config;
pub mod connection;
pub mod durability;
pub mod embed;
pub mod glob;
pub mod keying;
pub mod metrics;
pub mod observe;
pub mod pause;
pub mod persistence;
pub mod protocol;
pub mod script;
pub mod search;
pub mod server;
pub mod state;
pub mod tier;
pub mod tls;
pub mod types;
