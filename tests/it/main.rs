//! Integration tests: the real server on an ephemeral loopback port, driven by real clients
//! (the `redis` crate, RESP2 and RESP3) and by raw bytes.

mod acl;
mod cluster;
mod coalescing;
mod commands;
mod compression;
mod config_set;
mod databases;
mod durability;
mod freshness;
mod hardening;
mod hardening_persistence;
mod hscan;
mod keyed;
mod lists;
mod monitor;
mod noeviction;
mod observability;
mod pause;
mod protocol;
mod redis_peer;
mod script;
mod search;
mod search_memory;
mod search_semantic;
mod server;
mod sets;
mod shared_tier;
mod stream;
mod support;
mod sweep;
mod tls;
mod types;
mod zsets;
