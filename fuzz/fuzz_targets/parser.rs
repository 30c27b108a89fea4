//! The request parser: results must not depend on read boundaries (see llmcached_fuzz::parser).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| llmcached_fuzz::parser::run(data));
