//! The embedding settings: the sentence-embedding model the server loads at start (see the
//! embed module), and how many threads run it. Neither changes while the server runs.

use super::super::values;
use super::Setting;
use std::path::PathBuf;

/// What the embedding rows set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EmbeddingConfig {
    /// The model directory (config.json, model.safetensors, tokenizer.json); `None` = no model.
    pub model: Option<PathBuf>,
    /// Threads that run the model, each taking a batch of the waiting requests.
    pub threads: usize,
}

pub const EMBEDDING_MODEL: Setting = Setting {
    name: "embedding-model",
    flag: true,
    env: "LLMCACHED_EMBEDDING_MODEL",
    value_name: "DIR",
    default: "",
    help: "Directory of a BERT sentence-embedding model (config.json, model.safetensors, tokenizer.json; all-MiniLM-L6-v2 for one) that LLMEMBED and LLMLOOKUP ... SEMANTIC space AUTO run in the server; empty = none.",
    mutable: false,
    apply: |c, v| {
        c.embedding.model = (!v.is_empty()).then(|| values::path(v));
        Ok(())
    },
    show: |c| c.embedding.model.as_deref().map_or_else(Vec::new, values::show_path),
};

pub const EMBEDDING_THREADS: Setting = Setting {
    name: "embedding-threads",
    flag: true,
    env: "LLMCACHED_EMBEDDING_THREADS",
    value_name: "N",
    default: "1",
    help: "Threads that run the embedding model, off the event loop; each runs the requests waiting as one batch.",
    mutable: false,
    apply: |c, v| {
        c.embedding.threads = values::int(v, 1, 64)?;
        Ok(())
    },
    show: |c| values::show(c.embedding.threads),
};
