//! The checks behind llmcached's fuzz targets, one module per target, plus the encoders that
//! build their seed inputs (`examples/seeds.rs`).
//!
//! Each target in `fuzz_targets/` is one line that hands libFuzzer's bytes to a `run` here, so
//! the harnesses can also be driven by ordinary code (the seed generator, a debugger).
//!
//! # Layout
//! - [`input`]: a cursor over the fuzzer's bytes (never fails: past the end it reads zeros).
//! - [`parser`]: the request parser under limits drawn by the fuzzer; the commands (or the error)
//!   must not depend on where reads end.
//! - [`dispatch`]: a few commands from the real command table run on an in-memory server state;
//!   nothing panics and every reply encodes to one well-formed RESP frame.
//! - [`keying`]: `LLMKEY`'s canonicaliser over arbitrary bytes and options; the key is
//!   deterministic, matches its material, and does not depend on how the JSON is spelled.
//! - [`recovery`]: persistence recovery from arbitrary `base.*` / `log.*` files on the simulated
//!   file system; recovery is idempotent, and a write after it survives the next recovery.
//! - [`resp`]: a RESP2 / RESP3 framing check used by [`dispatch`].
//!
//! # Input formats
//! Every harness decodes its bytes with [`input::Input`] and has an `encode` counterpart, so a
//! seed is written the way the harness reads it. The formats are documented in each module.

pub mod dispatch;
pub mod input;
pub mod keying;
pub mod parser;
pub mod recovery;
pub mod resp;

/// True when `LLMCACHED_FUZZ_TRACE` is set: harnesses print what they run (for replaying one
/// input by hand with `examples/replay.rs`; never set it while fuzzing).
pub fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("LLMCACHED_FUZZ_TRACE").is_some())
}

/// True when `LLMCACHED_FUZZ_STRICT` is set (to anything but `0`): known, recorded divergences
/// are then failures too (see [`parser`]).
pub fn strict() -> bool {
    static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STRICT.get_or_init(|| {
        std::env::var_os("LLMCACHED_FUZZ_STRICT").is_some_and(|v| !v.is_empty() && v != "0")
    })
}
