"""The `langchain-redis` package's RedisCache, which stores answers with RedisJSON.

It sends `JSON.GET key .` to look up and `JSON.SET key . <json>` plus `EXPIRE` to store, and it
raises Redis errors. Plain redis-server has no JSON module, so these tests run against llmcached
only.
"""

import pytest
from conftest import wait_until
from fakes import CountingChatModel
from langchain_redis import RedisCache


@pytest.fixture(autouse=True)
def needs_json(target):
    if target == "redis":
        pytest.skip("redis-server has no RedisJSON module (JSON.GET / JSON.SET)")


class SpyRedisCache(RedisCache):
    last_key = None

    def update(self, prompt, llm_string, return_val):
        self.last_key = self._key(prompt, llm_string)
        super().update(prompt, llm_string, return_val)


def test_second_identical_call_is_served_from_cache(redis_url, unique):
    model = CountingChatModel(cache=RedisCache(redis_url=redis_url, prefix=f"lc-{unique}"))
    first = model.invoke(f"Explain caching {unique}")
    second = model.invoke(f"Explain caching {unique}")
    assert model.calls == 1
    assert second.content == first.content


def test_different_prompt_misses(redis_url, unique):
    model = CountingChatModel(cache=RedisCache(redis_url=redis_url, prefix=f"lc-{unique}"))
    model.invoke(f"one {unique}")
    model.invoke(f"two {unique}")
    assert model.calls == 2


def test_ttl_is_set_and_entry_expires(redis_url, admin, unique):
    cache = SpyRedisCache(redis_url=redis_url, ttl=2, prefix=f"lc-{unique}")
    model = CountingChatModel(cache=cache)
    model.invoke(f"short-lived {unique}")
    assert cache.last_key is not None and cache.last_key.startswith(f"lc-{unique}:")
    assert 0 <= admin.ttl(cache.last_key) <= 2
    wait_until(lambda: admin.exists(cache.last_key) == 0)
    model.invoke(f"short-lived {unique}")
    assert model.calls == 2
