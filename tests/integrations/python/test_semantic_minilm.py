"""The semantic caches with a real embedding model: all-MiniLM-L6-v2 (minilm.py), in RESP2 and
RESP3, unmodified: RedisVL's SemanticCache, langchain-redis's RedisSemanticCache and LiteLLM's
`redis-semantic` cache.

The fake embedding of test_semantic.py puts paraphrases at distance 0; a real model does not
("What is RAG?" and "Can you explain RAG in AI?" are about 0.33 apart, unrelated questions 0.8 and
more), so these tests check that the distances the server computes and the thresholds the
libraries apply work out on real vectors: a paraphrase is a hit, another question a miss, and
every distance the server reports is numpy's cosine distance of the two embeddings.
"""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
import minilm  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from fakes import CountingChatModel  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from litellm.caching.caching import Cache  # noqa: E402
from litellm.llms.custom_llm import CustomLLM  # noqa: E402
from litellm.types.utils import EmbeddingResponse  # noqa: E402
from redisvl.extensions.cache.llm import SemanticCache  # noqa: E402
from redisvl.utils.vectorize import CustomTextVectorizer  # noqa: E402

# RedisVL reports distances as the server prints them (%.12g) from float32 vectors.
DISTANCE_TOLERANCE = 1e-5
RAG = "What is RAG?"
RAG_PARAPHRASE = "Can you explain RAG in AI?"
OTHER = "What is RLHF?"


@pytest.fixture(autouse=True)
def needs_search(target):
    if target == "redis":
        pytest.skip("redis-server has no search module (FT.CREATE / FT.SEARCH)")


def cosine_distance(a: str, b: str) -> float:
    x, y = (minilm.model().embed(t).astype(np.float64) for t in (a, b))
    return 1.0 - float(x @ y) / float(np.linalg.norm(x) * np.linalg.norm(y))


def redisvl_cache(client, unique, threshold):
    return SemanticCache(
        name=f"mini-{unique}",
        redis_client=client,
        vectorizer=CustomTextVectorizer(embed=minilm.embed, embed_many=minilm.embed_many),
        distance_threshold=threshold,
    )


def test_redisvl_real_embedding_hits_a_paraphrase_at_numpys_distance(client, unique):
    expected = cosine_distance(RAG, RAG_PARAPHRASE)
    assert 0.2 < expected < 0.4 < cosine_distance(RAG, OTHER)
    cache = redisvl_cache(client, unique, threshold=0.4)
    info = client.ft(f"mini-{unique}").info()
    assert str(minilm.DIM) in str([a for a in info["attributes"] if b"VECTOR" in a or "VECTOR" in a])
    cache.store(prompt=RAG, response="Retrieval-augmented generation.")
    hits = cache.check(prompt=RAG_PARAPHRASE)
    assert [h["response"] for h in hits] == ["Retrieval-augmented generation."]
    assert abs(float(hits[0]["vector_distance"]) - expected) < DISTANCE_TOLERANCE
    assert cache.check(prompt=OTHER) == []
    assert cache.check(prompt="How do I bake sourdough bread?") == []
    cache.delete()


def test_redisvl_real_embedding_ranks_every_entry_by_numpys_distance(client, unique):
    cache = redisvl_cache(client, unique, threshold=0.4)
    stored = [RAG, "What is HNSW?", OTHER, "How do I bake sourdough bread?"]
    for prompt in stored:
        cache.store(prompt=prompt, response=f"about {prompt}")
    query = "Could you explain RAG to me?"
    hits = cache.check(prompt=query, num_results=len(stored), distance_threshold=2.0)
    want = sorted((cosine_distance(query, p), f"about {p}") for p in stored)
    assert [h["response"] for h in hits] == [r for _, r in want]
    got = [float(h["vector_distance"]) for h in hits]
    assert np.abs(np.array(got) - np.array([d for d, _ in want])).max() < DISTANCE_TOLERANCE
    cache.delete()


class RecordingEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 for LangChain, remembering each text it embedded: LangChain embeds a chat
    prompt as its serialised messages, not the question alone."""

    def __init__(self):
        self.texts: list[str] = []

    def embed_documents(self, texts):
        self.texts.extend(texts)
        return minilm.embed_many(texts)

    def embed_query(self, text):
        self.texts.append(text)
        return minilm.embed(text)


def test_langchain_redis_real_embedding_serves_a_paraphrase(client, unique):
    from langchain_redis import RedisSemanticCache

    embeddings = RecordingEmbeddings()
    threshold = 0.1
    cache = RedisSemanticCache(
        embeddings=embeddings, redis_client=client, distance_threshold=threshold, name=f"mlc-{unique}"
    )
    model = CountingChatModel(cache=cache)
    first = model.invoke(RAG)
    second = model.invoke(RAG_PARAPHRASE)
    other = model.invoke("How do I bake sourdough bread?")
    # The serialised messages are what got embedded, and they sit on the right sides of the
    # threshold; so the calls below count what the server found, not what the model made of it.
    # (RedisVL's vectorizer first embeds a probe text to learn the dimension.)
    texts = list(dict.fromkeys(t for t in embeddings.texts if '"content"' in t))
    assert len(texts) == 3 and RAG in texts[0] and RAG_PARAPHRASE in texts[1]
    assert cosine_distance(texts[0], texts[1]) < threshold < cosine_distance(texts[0], texts[2])
    assert model.calls == 2, "the paraphrase reached the model, or the other question did not"
    assert second.content == first.content
    assert other.content != first.content
    cache.clear()


class MiniLMProvider(CustomLLM):
    def _response(self, model, input, model_response):
        texts = [str(t) for t in (input if isinstance(input, list) else [input])]
        model_response.data = [
            {"object": "embedding", "index": i, "embedding": v}
            for i, v in enumerate(minilm.embed_many(texts))
        ]
        model_response.model = model
        return model_response

    def embedding(self, model, input, model_response, *args, **kwargs) -> EmbeddingResponse:
        return self._response(model, input, model_response)

    async def aembedding(self, model, input, model_response, *args, **kwargs) -> EmbeddingResponse:
        return self._response(model, input, model_response)


def test_litellm_real_embedding_hits_a_paraphrase_and_misses_another_question(host, port, unique):
    paraphrase = "Please explain RAG"
    # LiteLLM's similarity_threshold is 1 - the distance threshold.
    assert cosine_distance(RAG, paraphrase) < 0.2 < cosine_distance(RAG, OTHER)
    litellm.custom_provider_map = [{"provider": "minilm", "custom_handler": MiniLMProvider()}]
    litellm.cache = Cache(
        type="redis-semantic",
        redis_url=f"redis://{host}:{port}",
        similarity_threshold=0.8,
        redis_semantic_cache_embedding_model="minilm/all-MiniLM-L6-v2",
        redis_semantic_cache_index_name=f"mll-{unique}",
    )
    try:
        def ask(text, answer):
            return litellm.completion(
                model="gpt-4o-mini", messages=[{"role": "user", "content": text}],
                mock_response=answer, caching=True,
            )

        first, second, other = ask(RAG, "first"), ask(paraphrase, "second"), ask(OTHER, "other")
        assert not first._hidden_params.get("cache_hit")
        assert second._hidden_params.get("cache_hit"), "the paraphrase was not served from the cache"
        assert second.choices[0].message.content == "first"
        assert other.choices[0].message.content == "other"
    finally:
        litellm.cache = None
        litellm.custom_provider_map = []
