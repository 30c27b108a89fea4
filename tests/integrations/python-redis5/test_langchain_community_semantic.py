"""LangChain community's RedisSemanticCache, unmodified, with redis-py 5.

It checks MODULE LIST for the `search` module, creates one index per model string
(FT.CREATE ... VECTOR FLAT ... COSINE, prefixes `doc:cache:...`), stores answers with HSET and
looks them up with a lower-case `$yield_distance_as` range query (`params`). A paraphrase must be
served without calling the model, another question must not; the embedding is the deterministic
fake in ../python/embedding.py.
"""

import pytest
from embedding import embed, embed_many
from fakes import CountingChatModel
from langchain_community.cache import RedisSemanticCache
from langchain_core.embeddings import Embeddings


@pytest.fixture(autouse=True)
def needs_search(target):
    if target == "redis":
        pytest.skip("redis-server has no search module")


class FakeEmbeddings(Embeddings):
    def embed_documents(self, texts):
        return embed_many(texts)

    def embed_query(self, text):
        return embed(text)


def test_paraphrase_is_served_from_the_cache(redis_url, unique):
    cache = RedisSemanticCache(redis_url=redis_url, embedding=FakeEmbeddings(), score_threshold=0.1)
    model = CountingChatModel(cache=cache)
    first = model.invoke(f"What is RAG {unique}?")
    second = model.invoke(f"Can you please explain RAG {unique}?")
    assert model.calls == 1
    assert second.content == first.content
    model.invoke(f"How do I bake sourdough bread {unique}?")
    assert model.calls == 2
    cache.clear(llm_string=model._get_llm_string())
