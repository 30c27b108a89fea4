//! LLMEMBED: sentence embeddings computed by the server's model (`--embedding-model`), as
//! FLOAT32 blobs that FT.SEARCH's `$vec` and `LLMLOOKUP ... SEMANTIC` take.
//!
//! ```text
//! LLMEMBED text [text ...]   -> one blob per text: dim x FLOAT32, little-endian, unit length
//! ```
//! The model runs off the event loop (see the embed module); inside MULTI or a script, which
//! cannot wait, LLMEMBED is refused.

use super::{CommandError, Ctx, Flow};
use crate::embed::{to_blob, Embedder};
use crate::protocol::Reply;
use bytes::Bytes;
use std::sync::Arc;

/// The loaded model, or the error that says how to load one.
pub fn embedder(ctx: &Ctx<'_>) -> Result<Arc<Embedder>, CommandError> {
    if ctx.client.in_exec {
        return Err(CommandError::err(
            "server-side embeddings do not run inside MULTI or a script",
        ));
    }
    ctx.shared.embedder.get().cloned().ok_or_else(|| {
        CommandError::err(
            "no embedding model is loaded (start the server with --embedding-model DIR)",
        )
    })
}

/// `LLMEMBED text [text ...]`
pub fn llmembed(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let model = embedder(ctx)?;
    let texts: Vec<String> = a[1..]
        .iter()
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect();
    Ok(Flow::Wait(Box::pin(async move {
        match model.embed(texts).await {
            Ok(vectors) => Reply::Array(vectors.iter().map(|v| Reply::Bulk(to_blob(v))).collect()),
            Err(e) => CommandError::err(format!("embedding failed: {e}")).into(),
        }
    })))
}
