"""LlamaIndex's RedisKVStore (llama-index-storage-kvstore-redis, which needs redis-py 5), the
store behind its docstore and index store: each collection is a hash of JSON documents, and
`get_all` walks it with HSCAN.
"""

import asyncio

import pytest
import redis
from llama_index.storage.kvstore.redis import RedisKVStore


@pytest.fixture
def store(redis_url):
    return RedisKVStore(redis_uri=redis_url)


@pytest.fixture
def admin(redis_url):
    """A plain client for assertions made behind the store's back."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def test_put_get_delete(store, admin, unique):
    collection = f"li:{unique}"
    store.put("doc-1", {"text": "hello", "n": 1}, collection=collection)
    assert store.get("doc-1", collection=collection) == {"text": "hello", "n": 1}
    assert admin.type(collection) == "hash"
    assert store.get("doc-absent", collection=collection) is None
    assert store.delete("doc-1", collection=collection) is True
    assert store.get("doc-1", collection=collection) is None
    assert store.delete("doc-1", collection=collection) is False


def test_get_all_walks_the_whole_collection(store, admin, unique):
    collection = f"li-all:{unique}"
    # Well past one HSCAN page (COUNT 10 by default), so the cursor has to come round again.
    docs = {f"doc-{i}": {"i": i, "text": "x" * (i % 7)} for i in range(250)}
    store.put_all(list(docs.items()), collection=collection)
    assert admin.hlen(collection) == 250
    assert store.get_all(collection=collection) == docs
    assert store.get_all(collection=f"li-empty:{unique}") == {}


def test_async_put_get_all_delete(store, unique):
    collection = f"li-async:{unique}"

    async def session():
        await store.aput("a", {"v": 1}, collection=collection)
        await store.aput("b", {"v": 2}, collection=collection)
        assert await store.aget("a", collection=collection) == {"v": 1}
        assert await store.aget_all(collection=collection) == {"a": {"v": 1}, "b": {"v": 2}}
        assert await store.adelete("a", collection=collection) is True
        assert await store.aget_all(collection=collection) == {"b": {"v": 2}}

    asyncio.run(session())
