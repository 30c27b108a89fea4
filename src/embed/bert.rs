//! A BERT encoder with mean pooling and L2 normalisation, as sentence-transformers runs
//! all-MiniLM-L6-v2 (modules.json: Transformer, Pooling, Normalize), on candle's CPU tensors.
//!
//! What it reads from the model directory:
//! - `config.json`: layers, heads, hidden size, `layer_norm_eps`; `hidden_act` must be `gelu`
//!   (the erf form);
//! - `sentence_bert_config.json` (optional): `max_seq_length`, the truncation
//!   sentence-transformers applies (the tokenizer's own truncation and padding are replaced);
//! - `model.safetensors`: the weights, by their Hugging Face names (`embeddings.*`,
//!   `encoder.layer.N.*`, with or without a `bert.` prefix);
//! - `tokenizer.json`: the WordPiece tokenizer.
//!
//! A batch is padded to its longest text; padded positions are masked out of attention and out
//! of the mean, so each text's vector is the one it gets alone (to float rounding).

use candle_core::{DType, Device, Tensor};
use std::path::Path;
use tokenizers::Tokenizer;

type Res<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

struct Layer {
    query: Dense,
    key: Dense,
    value: Dense,
    attn_out: Dense,
    attn_norm: Norm,
    inter: Dense,
    out: Dense,
    out_norm: Norm,
}

/// A torch `Linear`: weight `[out, in]`, bias `[out]`.
struct Dense {
    weight_t: Tensor,
    bias: Tensor,
}

struct Norm {
    weight: Tensor,
    bias: Tensor,
}

pub struct Bert {
    tokenizer: Tokenizer,
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    emb_norm: Norm,
    layers: Vec<Layer>,
    heads: usize,
    hidden: usize,
    eps: f64,
    max_tokens: usize,
}

fn json(path: &Path) -> Res<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn usize_of(v: &serde_json::Value, name: &str) -> Res<usize> {
    v.get(name)
        .and_then(serde_json::Value::as_u64)
        .map(|n| n as usize)
        .ok_or_else(|| format!("config.json has no {name}"))
}

impl Bert {
    pub fn load(dir: &Path) -> Res<Bert> {
        let config = json(&dir.join("config.json"))?;
        let act = config.get("hidden_act").and_then(|a| a.as_str());
        if act != Some("gelu") {
            return Err(format!("hidden_act {act:?} is not supported (gelu only)"));
        }
        let layers = usize_of(&config, "num_hidden_layers")?;
        let heads = usize_of(&config, "num_attention_heads")?;
        let hidden = usize_of(&config, "hidden_size")?;
        let eps = config
            .get("layer_norm_eps")
            .and_then(|e| e.as_f64())
            .unwrap_or(1e-12);
        let positions = usize_of(&config, "max_position_embeddings")?;
        if heads == 0 || hidden % heads != 0 {
            return Err(format!(
                "hidden_size {hidden} is not a multiple of {heads} heads"
            ));
        }
        let max_tokens = match json(&dir.join("sentence_bert_config.json")) {
            Ok(st) => usize_of(&st, "max_seq_length")?,
            Err(_) => positions,
        }
        .min(positions);
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(err)?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(err)?;
        let path = dir.join("model.safetensors");
        let mut w = candle_core::safetensors::load(&path, &Device::Cpu)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut take = |name: &str| -> Res<Tensor> {
            let t = w
                .remove(name)
                .or_else(|| w.remove(&format!("bert.{name}")))
                .ok_or_else(|| format!("model.safetensors has no {name}"))?;
            t.to_dtype(DType::F32).map_err(err)
        };
        let word = take("embeddings.word_embeddings.weight")?;
        let position = take("embeddings.position_embeddings.weight")?;
        let token_type = take("embeddings.token_type_embeddings.weight")?;
        let emb_norm = norm(&mut take, "embeddings.LayerNorm")?;
        let mut all = Vec::with_capacity(layers);
        for i in 0..layers {
            let p = format!("encoder.layer.{i}");
            all.push(Layer {
                query: dense(&mut take, &format!("{p}.attention.self.query"))?,
                key: dense(&mut take, &format!("{p}.attention.self.key"))?,
                value: dense(&mut take, &format!("{p}.attention.self.value"))?,
                attn_out: dense(&mut take, &format!("{p}.attention.output.dense"))?,
                attn_norm: norm(&mut take, &format!("{p}.attention.output.LayerNorm"))?,
                inter: dense(&mut take, &format!("{p}.intermediate.dense"))?,
                out: dense(&mut take, &format!("{p}.output.dense"))?,
                out_norm: norm(&mut take, &format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Bert {
            tokenizer,
            word,
            position,
            token_type,
            emb_norm,
            layers: all,
            heads,
            hidden,
            eps,
            max_tokens,
        })
    }

    pub fn dim(&self) -> usize {
        self.hidden
    }

    /// The unit-length embedding of each text. Texts are run in groups of similar length (a
    /// group is padded to its longest, so a long text does not make short ones pay for its
    /// padding) of at most `BATCH_TEXTS`, which bounds the memory of one forward pass however
    /// many texts a request sends.
    pub fn embed(&self, texts: &[String]) -> Res<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(err)?;
        let mut order: Vec<usize> = (0..enc.len()).collect();
        order.sort_by_key(|&i| enc[i].get_ids().len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); enc.len()];
        let mut start = 0;
        while start < order.len() {
            let shortest = enc[order[start]].get_ids().len().max(1);
            let mut end = start + 1;
            while end < order.len()
                && end - start < super::BATCH_TEXTS
                && enc[order[end]].get_ids().len() <= 2 * shortest
            {
                end += 1;
            }
            let group: Vec<&tokenizers::Encoding> =
                order[start..end].iter().map(|&i| &enc[i]).collect();
            for (v, &i) in self.run(&group)?.into_iter().zip(&order[start..end]) {
                out[i] = v;
            }
            start = end;
        }
        Ok(out)
    }

    /// One forward pass over `enc`, padded to the longest of them.
    fn run(&self, enc: &[&tokenizers::Encoding]) -> Res<Vec<Vec<f32>>> {
        let batch = enc.len();
        let len = enc
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0)
            .clamp(1, self.max_tokens);
        let mut ids = vec![0u32; batch * len];
        let mut types = vec![0u32; batch * len];
        let mut mask = vec![0f32; batch * len];
        for (b, e) in enc.iter().enumerate() {
            for (t, (&id, &ty)) in e
                .get_ids()
                .iter()
                .zip(e.get_type_ids())
                .enumerate()
                .take(len)
            {
                ids[b * len + t] = id;
                types[b * len + t] = ty;
                mask[b * len + t] = 1.0;
            }
        }
        self.forward(&ids, &types, &mask, batch, len).map_err(err)
    }

    fn forward(
        &self,
        ids: &[u32],
        types: &[u32],
        mask: &[f32],
        batch: usize,
        len: usize,
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        let dev = Device::Cpu;
        let (h, d) = (self.heads, self.hidden / self.heads);
        let ids_t = Tensor::from_slice(ids, batch * len, &dev)?;
        let types_t = Tensor::from_slice(types, batch * len, &dev)?;
        let pos: Vec<u32> = (0..batch * len).map(|i| (i % len) as u32).collect();
        let pos_t = Tensor::from_slice(&pos, batch * len, &dev)?;
        // [batch * len, hidden]
        let x = (self.word.index_select(&ids_t, 0)? + self.position.index_select(&pos_t, 0)?)?
            .add(&self.token_type.index_select(&types_t, 0)?)?;
        let mut x = layer_norm(&x, &self.emb_norm, self.eps)?;
        let mask_t = Tensor::from_slice(mask, (batch, len), &dev)?;
        // 0 where a token is, a large negative where padding is: [batch, 1, 1, len].
        let bias = mask_t.affine(1e9, -1e9)?.reshape((batch, 1, 1, len))?;
        let scale = 1.0 / (d as f64).sqrt();
        let heads = |t: Tensor| -> candle_core::Result<Tensor> {
            t.reshape((batch, len, h, d))?.transpose(1, 2)?.contiguous()
        };
        for l in &self.layers {
            let q = heads(l.query.apply(&x)?)?;
            let k = heads(l.key.apply(&x)?)?;
            let v = heads(l.value.apply(&x)?)?;
            let scores = q
                .matmul(&k.transpose(2, 3)?.contiguous()?)?
                .affine(scale, 0.0)?
                .broadcast_add(&bias)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((batch * len, self.hidden))?;
            x = layer_norm(&(l.attn_out.apply(&ctx)? + &x)?, &l.attn_norm, self.eps)?;
            let inter = l.inter.apply(&x)?.gelu_erf()?;
            x = layer_norm(&(l.out.apply(&inter)? + &x)?, &l.out_norm, self.eps)?;
        }
        // Mean over the real tokens, then unit length.
        let x = x.reshape((batch, len, self.hidden))?;
        let m = mask_t.reshape((batch, len, 1))?;
        let summed = x.broadcast_mul(&m)?.sum(1)?;
        let counts = m.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        mean.broadcast_div(&norms)?.to_vec2::<f32>()
    }
}

impl Dense {
    fn apply(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.weight_t)?.broadcast_add(&self.bias)
    }
}

fn dense(take: &mut impl FnMut(&str) -> Res<Tensor>, name: &str) -> Res<Dense> {
    let weight = take(&format!("{name}.weight"))?;
    Ok(Dense {
        weight_t: weight.t().and_then(|t| t.contiguous()).map_err(err)?,
        bias: take(&format!("{name}.bias"))?,
    })
}

fn norm(take: &mut impl FnMut(&str) -> Res<Tensor>, name: &str) -> Res<Norm> {
    // Older checkpoints name them gamma and beta.
    let weight = take(&format!("{name}.weight")).or_else(|_| take(&format!("{name}.gamma")))?;
    let bias = take(&format!("{name}.bias")).or_else(|_| take(&format!("{name}.beta")))?;
    Ok(Norm { weight, bias })
}

/// LayerNorm over the last dimension of a `[rows, hidden]` tensor (candle's fused kernel).
fn layer_norm(x: &Tensor, n: &Norm, eps: f64) -> candle_core::Result<Tensor> {
    candle_nn::ops::layer_norm(x, &n.weight, &n.bias, eps as f32)
}
