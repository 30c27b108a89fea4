//! The compression settings: whether long string values are stored compressed, and from what
//! length (see `cache::pack`). Both may change while the server runs; a change applies to the
//! values written after it (what is stored stays as it is, and reads the same either way).

use super::super::values;
use super::Setting;

pub const COMPRESSION: Setting = Setting {
    name: "compression",
    flag: true,
    env: "LLMCACHED_COMPRESSION",
    value_name: "yes|no",
    default: "no",
    help: "Store long string values (SET, SETEX, LLMSETNX...) compressed with zstd, with a dictionary trained per key prefix; readers see the original bytes, and the byte budget counts the compressed size (about half the memory per LLM answer, for a few microseconds more per read).",
    mutable: true,
    apply: |c, v| {
        c.compression.enabled = values::yes_no(v)?;
        Ok(())
    },
    show: |c| values::show_yes_no(c.compression.enabled),
};

pub const COMPRESSION_MIN_BYTES: Setting = Setting {
    name: "compression-min-bytes",
    flag: true,
    env: "LLMCACHED_COMPRESSION_MIN_BYTES",
    value_name: "BYTES",
    default: "256",
    help: "Shortest string value compression is tried on; a value is kept compressed only if that saves at least an eighth of it.",
    mutable: true,
    apply: |c, v| {
        c.compression.min_bytes = values::memory_in(v, 1, i64::MAX as u64)? as usize;
        Ok(())
    },
    show: |c| values::show(c.compression.min_bytes),
};
