"""Semantic caches built on RediSearch, unmodified: RedisVL's SemanticCache, langchain-redis's
RedisSemanticCache and LiteLLM's `redis-semantic` cache, in RESP2 and RESP3.

They create an index (FT.CREATE ... VECTOR FLAT ... COSINE), check for it (FT.INFO, MODULE LIST),
store answers as hashes (HSET, EXPIRE) and look paraphrases up with a VECTOR_RANGE query. A
paraphrase of a cached prompt must be served without calling the model; another question must not.
The embedding is the deterministic fake in embedding.py (test_semantic_minilm.py runs a real
model). Plain redis-server has no search module, so these run against llmcached only.
"""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
import pytest  # noqa: E402
from conftest import async_wait_until, wait_until  # noqa: E402
from embedding import DIM, embed, embed_many  # noqa: E402
from fakes import CountingChatModel  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from litellm.caching.caching import Cache  # noqa: E402
from litellm.llms.custom_llm import CustomLLM  # noqa: E402
from litellm.types.utils import EmbeddingResponse  # noqa: E402
from redisvl.extensions.cache.llm import SemanticCache  # noqa: E402
from redisvl.query.filter import Tag  # noqa: E402
from redisvl.utils.vectorize import CustomTextVectorizer  # noqa: E402


@pytest.fixture(autouse=True)
def needs_search(target):
    if target == "redis":
        pytest.skip("redis-server has no search module (FT.CREATE / FT.SEARCH)")


def redisvl_cache(client, unique, **kw):
    return SemanticCache(
        name=f"svl-{unique}",
        redis_client=client,
        vectorizer=CustomTextVectorizer(embed=embed, embed_many=embed_many),
        distance_threshold=0.1,
        **kw,
    )


def test_redisvl_serves_a_paraphrase_and_not_another_question(client, unique):
    cache = redisvl_cache(client, unique)
    cache.store(prompt="What is RAG?", response="Retrieval-augmented generation.")
    hits = cache.check(prompt="Can you please explain RAG?")
    assert [h["response"] for h in hits] == ["Retrieval-augmented generation."]
    assert float(hits[0]["vector_distance"]) < 1e-5
    assert cache.check(prompt="How do I bake sourdough bread?") == []
    cache.delete()


def test_redisvl_filters_by_tag_and_reconnects_to_the_same_index(client, unique):
    cache = redisvl_cache(client, unique, filterable_fields=[{"name": "model", "type": "tag"}])
    cache.store(prompt="What is RAG?", response="for gpt-4o", filters={"model": "gpt-4o"})
    cache.store(prompt="What is RAG?", response="for claude", filters={"model": "claude-3.5"})
    hit = cache.check(prompt="explain RAG", filter_expression=Tag("model") == "gpt-4o")
    assert [h["response"] for h in hit] == ["for gpt-4o"]
    hit = cache.check(prompt="explain RAG", filter_expression=Tag("model") == "claude-3.5")
    assert [h["response"] for h in hit] == ["for claude"]
    # A second instance reads the index back with FT.INFO and must find the same schema.
    again = redisvl_cache(client, unique, filterable_fields=[{"name": "model", "type": "tag"}])
    assert len(again.check(prompt="what is rag", num_results=5)) == 2
    again.delete()


def test_redisvl_ttl_expires_entries(client, admin, unique):
    cache = redisvl_cache(client, unique, ttl=1)
    key = cache.store(prompt="What is RAG?", response="short-lived")
    assert 0 <= admin.ttl(key) <= 1
    wait_until(lambda: admin.exists(key) == 0)
    assert cache.check(prompt="What is RAG?") == []
    cache.delete()


class FakeEmbeddings(Embeddings):
    def embed_documents(self, texts):
        return embed_many(texts)

    def embed_query(self, text):
        return embed(text)


def test_langchain_redis_semantic_cache_serves_paraphrases(redis_url, unique):
    from langchain_redis import RedisSemanticCache

    cache = RedisSemanticCache(
        embeddings=FakeEmbeddings(), redis_url=redis_url, distance_threshold=0.1, name=f"lcr-{unique}"
    )
    model = CountingChatModel(cache=cache)
    first = model.invoke("What is RAG?")
    second = model.invoke("Could you explain RAG to me?")
    assert model.calls == 1
    assert second.content == first.content
    model.invoke("How do I bake sourdough bread?")
    assert model.calls == 2
    cache.clear()


class FakeEmbeddingProvider(CustomLLM):
    def _response(self, model, input, model_response):
        texts = input if isinstance(input, list) else [input]
        model_response.data = [
            {"object": "embedding", "index": i, "embedding": embed(str(t))} for i, t in enumerate(texts)
        ]
        model_response.model = model
        return model_response

    def embedding(self, model, input, model_response, *args, **kwargs) -> EmbeddingResponse:
        return self._response(model, input, model_response)

    async def aembedding(self, model, input, model_response, *args, **kwargs) -> EmbeddingResponse:
        return self._response(model, input, model_response)


@pytest.fixture
def litellm_cache(host, port, unique):
    litellm.custom_provider_map = [{"provider": "fakeembed", "custom_handler": FakeEmbeddingProvider()}]
    litellm.cache = Cache(
        type="redis-semantic",
        redis_url=f"redis://{host}:{port}",
        similarity_threshold=0.9,
        redis_semantic_cache_embedding_model="fakeembed/fake",
        redis_semantic_cache_index_name=f"llm-{unique}",
    )
    yield litellm.cache
    litellm.cache = None
    litellm.custom_provider_map = []


def messages(text):
    return [{"role": "user", "content": text}]


def test_litellm_semantic_cache_hits_on_a_paraphrase(litellm_cache, unique):
    first = litellm.completion(model="gpt-4o-mini", messages=messages("What is RAG?"), mock_response="first", caching=True)
    second = litellm.completion(model="gpt-4o-mini", messages=messages("Please explain RAG"), mock_response="second", caching=True)
    assert not first._hidden_params.get("cache_hit")
    assert second._hidden_params.get("cache_hit"), "the paraphrase was not served from the cache"
    assert second.choices[0].message.content == "first"
    other = litellm.completion(model="gpt-4o-mini", messages=messages("How do I bake bread?"), mock_response="bread", caching=True)
    assert other.choices[0].message.content == "bread"


async def test_litellm_async_semantic_cache_hits_on_a_paraphrase(litellm_cache, admin, unique):
    await litellm.acompletion(model="gpt-4o-mini", messages=messages("What is HNSW?"), mock_response="graph", caching=True)
    await async_wait_until(lambda: any(True for _ in admin.scan_iter(match=f"llm-{unique}*", count=1000)))
    again = await litellm.acompletion(model="gpt-4o-mini", messages=messages("explain HNSW"), mock_response="other", caching=True)
    assert again.choices[0].message.content == "graph"


def test_dimension_of_the_fake_is_what_the_indexes_declare(client, unique):
    cache = redisvl_cache(client, unique)
    info = client.ft(f"svl-{unique}").info()
    attrs = [a for a in info["attributes"] if b"VECTOR" in a or "VECTOR" in a]
    assert attrs and str(DIM) in str(attrs)
    cache.delete()
