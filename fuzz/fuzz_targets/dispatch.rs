//! Commands from the real table on an in-memory server state (see llmcached_fuzz::dispatch).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| llmcached_fuzz::dispatch::run(data));
