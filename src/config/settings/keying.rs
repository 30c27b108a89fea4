//! The keying setting: which request bodies LLMKEY and LLMLOOKUP key off the event loop.
//!
//! A row of `SETTINGS`. Keying costs about as much as reading the body a few times (parse,
//! canonical form, SHA-256: `docs/BENCHMARKS.md`, "Canonical keys"), so a 1 MB body holds an
//! event loop for milliseconds; from this size on the work goes to a blocking thread and the
//! loop serves other clients meanwhile. Below it the hop to a thread costs more than it saves.

use super::super::values;
use super::Setting;

pub const LLM_KEY_OFFLOAD_BYTES: Setting = Setting {
    name: "llm-key-offload-bytes",
    flag: true,
    env: "LLMCACHED_LLM_KEY_OFFLOAD_BYTES",
    value_name: "BYTES",
    default: "64kb",
    help: "LLMKEY and LLMLOOKUP key request bodies of at least this many bytes on a blocking thread, so the event loop serves other clients meanwhile; 0 keys every body on the event loop.",
    mutable: true,
    apply: |c, v| {
        c.llm_key_offload_bytes = values::memory_in(v, 0, i64::MAX as u64)?;
        Ok(())
    },
    show: |c| values::show(c.llm_key_offload_bytes),
};
