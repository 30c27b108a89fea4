"""LangChain's community RedisCache and AsyncRedisCache, over RESP2 and RESP3.

These caches store each answer as a hash: `HGETALL key` to look up, then a MULTI/EXEC transaction
of `HSET key 0 <json>` and `EXPIRE key ttl` to store. They log Redis errors instead of raising,
so every assertion is made on the number of real model calls.
"""

import redis
import redis.asyncio
from conftest import wait_until
from fakes import CountingChatModel
from langchain_community.cache import AsyncRedisCache, RedisCache


class SpyRedisCache(RedisCache):
    """Remembers the last key written, to check its TTL on the server."""

    last_key = None

    def update(self, prompt, llm_string, return_val):
        self.last_key = self._key(prompt, llm_string)
        super().update(prompt, llm_string, return_val)


class SpyAsyncRedisCache(AsyncRedisCache):
    last_key = None

    async def aupdate(self, prompt, llm_string, return_val):
        self.last_key = self._key(prompt, llm_string)
        await super().aupdate(prompt, llm_string, return_val)


def test_second_identical_call_is_served_from_cache(sync_client, unique):
    model = CountingChatModel(cache=RedisCache(sync_client))
    first = model.invoke(f"What is llmcached? {unique}")
    second = model.invoke(f"What is llmcached? {unique}")
    assert model.calls == 1, "the second identical call reached the model"
    assert second.content == first.content


def test_different_prompt_misses(sync_client, unique):
    model = CountingChatModel(cache=RedisCache(sync_client))
    model.invoke(f"first prompt {unique}")
    other = model.invoke(f"second prompt {unique}")
    assert model.calls == 2
    assert other.content.endswith(f"second prompt {unique}")


def test_cache_is_shared_between_clients(sync_client, host, port, unique):
    """A value stored through one connection is a hit for a new client on another."""
    CountingChatModel(cache=RedisCache(sync_client)).invoke(f"shared {unique}")
    other_client = redis.Redis(host=host, port=port, protocol=2)
    try:
        reader = CountingChatModel(cache=RedisCache(other_client))
        answer = reader.invoke(f"shared {unique}")
    finally:
        other_client.close()
    assert reader.calls == 0
    assert answer.content == f"answer #1: shared {unique}"


def test_ttl_is_set_and_entry_expires(sync_client, admin, unique):
    cache = SpyRedisCache(sync_client, ttl=2)
    model = CountingChatModel(cache=cache)
    model.invoke(f"short-lived {unique}")
    assert cache.last_key is not None
    assert admin.hgetall(cache.last_key), "the answer was not stored as a hash"
    ttl = admin.ttl(cache.last_key)
    assert 0 <= ttl <= 2, f"TTL after EXPIRE 2 was {ttl}"
    wait_until(lambda: admin.exists(cache.last_key) == 0)
    model.invoke(f"short-lived {unique}")
    assert model.calls == 2, "an expired entry was still served"


async def test_async_cache_hit_and_miss(host, port, protocol, unique):
    client = redis.asyncio.Redis(host=host, port=port, protocol=protocol)
    try:
        model = CountingChatModel(cache=AsyncRedisCache(client))
        first = await model.ainvoke(f"async question {unique}")
        second = await model.ainvoke(f"async question {unique}")
        assert model.calls == 1
        assert second.content == first.content
        await model.ainvoke(f"another async question {unique}")
        assert model.calls == 2
    finally:
        await client.aclose()


async def test_async_cache_ttl(host, port, protocol, admin, unique):
    client = redis.asyncio.Redis(host=host, port=port, protocol=protocol)
    try:
        cache = SpyAsyncRedisCache(client, ttl=2)
        model = CountingChatModel(cache=cache)
        await model.ainvoke(f"async short-lived {unique}")
        assert cache.last_key is not None
        assert 0 <= admin.ttl(cache.last_key) <= 2
        wait_until(lambda: admin.exists(cache.last_key) == 0)
        await model.ainvoke(f"async short-lived {unique}")
        assert model.calls == 2
    finally:
        await client.aclose()
