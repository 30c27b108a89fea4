//! Persistence recovery from arbitrary files (see llmcached_fuzz::recovery).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| llmcached_fuzz::recovery::run(data));
