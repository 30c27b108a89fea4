//! Sentence embeddings computed in the server (`--embedding-model DIR`), so that any Redis
//! client gets semantic caching by sending the request alone: `LLMEMBED text ...` and
//! `LLMLOOKUP ... SEMANTIC space AUTO max-distance`.
//!
//! The model runs on its own threads, never on the event loop. Requests queue on a channel;
//! a worker takes every request waiting (up to [`BATCH_TEXTS`] texts) and runs them as one
//! batch, so concurrent callers share a forward pass. The vectors are sentence-transformers'
//! for the same model (mean pooling and normalisation, see the bert module).

#[cfg(feature = "embeddings")]
mod bert;
#[cfg(not(feature = "embeddings"))]
use absent::Model;
#[cfg(feature = "embeddings")]
use bert::Bert as Model;

use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The most texts one forward pass takes (a batch is padded to its longest text).
pub const BATCH_TEXTS: usize = 32;

struct Job {
    texts: Vec<String>,
    done: oneshot::Sender<Result<Vec<Vec<f32>>, String>>,
}

/// A loaded model and the workers that run it.
pub struct Embedder {
    queue: Mutex<mpsc::Sender<Job>>,
    dim: usize,
}

impl Embedder {
    /// Loads the model in `dir` and starts `threads` workers (at least one).
    pub fn load(dir: &Path, threads: usize) -> Result<Embedder, String> {
        let model = Arc::new(Model::load(dir)?);
        let dim = model.dim();
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let (model, rx) = (model.clone(), rx.clone());
            std::thread::Builder::new()
                .name(format!("embed-{i}"))
                .spawn(move || work(&model, &rx))
                .map_err(|e| format!("cannot start an embedding thread: {e}"))?;
        }
        Ok(Embedder {
            queue: Mutex::new(tx),
            dim,
        })
    }

    /// The length of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The unit-length embedding of each text, computed off the event loop.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
        let (done, wait) = oneshot::channel();
        {
            let q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.send(Job { texts, done })
                .map_err(|_| "the embedding workers stopped".to_string())?;
        }
        wait.await
            .map_err(|_| "the embedding workers stopped".to_string())?
    }
}

/// One worker: takes a job, then every job already waiting up to the batch size, runs them
/// as one batch and hands each its vectors.
fn work(model: &Model, rx: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let mut jobs = Vec::new();
        {
            let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
            let Ok(first) = rx.recv() else { return };
            let mut n = first.texts.len();
            jobs.push(first);
            while n < BATCH_TEXTS {
                match rx.try_recv() {
                    Ok(j) => {
                        n += j.texts.len();
                        jobs.push(j);
                    }
                    Err(_) => break,
                }
            }
        }
        let texts: Vec<String> = jobs.iter().flat_map(|j| j.texts.iter().cloned()).collect();
        let mut out = model.embed(&texts).map(|v| v.into_iter());
        for job in jobs {
            let reply = match &mut out {
                Ok(vectors) => Ok(vectors.by_ref().take(job.texts.len()).collect()),
                Err(e) => Err(e.clone()),
            };
            let _ = job.done.send(reply);
        }
    }
}

/// A vector as the FLOAT32 little-endian bytes FT.SEARCH and SEMANTIC take.
pub fn to_blob(v: &[f32]) -> bytes::Bytes {
    v.iter()
        .flat_map(|x| x.to_le_bytes())
        .collect::<Vec<u8>>()
        .into()
}

/// A build without the `embeddings` feature (the fuzz targets): loading a model fails.
#[cfg(not(feature = "embeddings"))]
mod absent {
    pub struct Model;

    impl Model {
        pub fn load(_: &std::path::Path) -> Result<Model, String> {
            Err("this build has no embedding support (cargo feature `embeddings`)".into())
        }

        pub fn dim(&self) -> usize {
            0
        }

        pub fn embed(&self, _: &[String]) -> Result<Vec<Vec<f32>>, String> {
            Err("this build has no embedding support".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "embeddings")]
    #[test]
    fn a_directory_without_a_model_is_refused_with_the_file_it_lacks() {
        let dir = std::env::temp_dir().join(format!("no-model-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let e = Embedder::load(&dir, 1).err().unwrap_or_default();
        assert!(e.contains("config.json"), "{e}");
        std::fs::write(dir.join("config.json"), r#"{"hidden_act":"relu"}"#).ok();
        let e = Embedder::load(&dir, 1).err().unwrap_or_default();
        assert!(e.contains("gelu only"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn blobs_are_little_endian_float32() {
        assert_eq!(&to_blob(&[1.0, -2.5])[..], &[0, 0, 128, 63, 0, 0, 32, 192]);
    }
}
