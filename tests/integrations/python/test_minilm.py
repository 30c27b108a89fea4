"""minilm.py against sentence-transformers' own output for all-MiniLM-L6-v2.

minilm_reference.json was computed once with sentence-transformers and torch (see its "about");
neither is installed here. The numpy model must give the same token counts, the same leading
dimensions, the same pre-normalisation norms and the same cosine between every pair of sentences,
each within 1e-4. (When the fixture was made, the largest differences over its 21 sentences were
6e-8 in 1 - cosine to the reference vector, 1.4e-7 in any component and 4.8e-7 in a pairwise cosine.)
"""

import json
from pathlib import Path

import minilm
import numpy as np
import pytest

TOLERANCE = 1e-4
REFERENCE = json.loads((Path(__file__).parent / "minilm_reference.json").read_text())
TEXTS = [s["text"] for s in REFERENCE["sentences"]]


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return minilm.model().embed_many(TEXTS)


def test_token_counts_and_truncation_match_sentence_transformers():
    counts = [minilm.model().tokens(t) for t in TEXTS]
    assert counts == [s["tokens"] for s in REFERENCE["sentences"]]
    assert max(counts) == minilm.model().max_tokens == 256


def test_leading_dimensions_match_the_reference(vectors):
    want = np.array([s["first8"] for s in REFERENCE["sentences"]])
    assert np.abs(vectors[:, :8] - want).max() < TOLERANCE


def test_norms_before_normalisation_match_the_reference():
    got = np.array([np.linalg.norm(minilm.model().pooled(t)) for t in TEXTS[:-2]])
    want = np.array([s["pooled_norm"] for s in REFERENCE["sentences"][:-2]])
    assert np.abs(got / want - 1).max() < TOLERANCE


def test_every_pairwise_cosine_matches_the_reference(vectors):
    cos = vectors @ vectors.T
    worst = max(abs(float(cos[i, j]) - want) for i, j, want in REFERENCE["cosines"])
    assert worst < TOLERANCE


def test_embeddings_are_unit_length_float32_and_deterministic(vectors):
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), minilm.DIM)
    assert np.abs(np.linalg.norm(vectors, axis=1) - 1).max() < 1e-6
    again = minilm.MiniLM().embed(TEXTS[0])
    assert again.tobytes() == vectors[0].tobytes()


def test_text_past_256_tokens_is_truncated(vectors):
    # The last two texts repeat one sentence 30 and 40 times: the same first 256 tokens.
    assert vectors[-1].tobytes() == vectors[-2].tobytes()


def test_a_paraphrase_is_nearer_than_any_unrelated_question():
    m = minilm.model()
    rag, paraphrase = m.embed("What is RAG?"), m.embed("Can you explain RAG in AI?")
    unrelated = m.embed_many(["How do I bake sourdough bread?", "What is the capital of France?",
                              "Tell me a joke about cats.", "What's the weather like tomorrow in Berlin?"])
    assert float(rag @ paraphrase) > float((unrelated @ rag).max()) + 0.3
