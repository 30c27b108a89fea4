//! llmcached: a Redis-protocol cache server for LLM responses.
//!
//! Any Redis client is an llmcached client. Besides Redis's string, key, server and transaction
//! commands, llmcached offers single-flight fills (`LLMGET` / `LLMSETNX` / `LLMABORT`: on a miss
//! one caller is told to call the model while the others wait inside the server) and `LLMSTATS`.
//!
//! # Layout
//! - [`config`]: the settings table; flags, environment variables and redis.conf files -> a
//!   validated [`config::Config`].
//! - [`server`]: the accept loop, the client limit, graceful shutdown, and [`server::Shared`].
//! - [`connection`]: one client: read, parse, check, execute, batched replies (pipelining).
//! - [`client`]: per-connection state and the registry behind `CLIENT LIST`.
//! - [`protocol`]: request parsing with limits (RESP and inline), typed replies (RESP2 / RESP3).
//! - [`cmd`]: the command table and one file per family of commands.
//! - [`cache`]: the keyspace on moka (TTL, byte budget, eviction), single-flight leases, counters.
//! - [`keying`]: canonical request -> cache key (`LLMKEY`, `LLMLOOKUP`).
//! - [`glob`]: Redis glob patterns.
//! - [`metrics`]: INFO rendering.
//! - [`durability`]: the store's journal, loading at start, SAVE / BGSAVE / rewrites.
//! - [`persistence`]: append-only log and base snapshots, recovery, background rewrite.

#![deny(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod cache;
pub mod client;
pub mod cmd;
pub mod config;
pub mod connection;
pub mod durability;
pub mod glob;
pub mod keying;
pub mod metrics;
pub mod persistence;
pub mod protocol;
pub mod server;
pub mod state;
