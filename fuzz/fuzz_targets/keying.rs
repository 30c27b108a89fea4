//! LLMKEY's canonicaliser over arbitrary bodies and options (see llmcached_fuzz::keying).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| llmcached_fuzz::keying::run(data));
