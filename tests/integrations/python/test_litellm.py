"""LiteLLM's Redis cache, with `mock_response` so that no provider is ever called.

LiteLLM connects with redis-py (RESP3 handshake, INFO, PING), then reads with GET and writes with
`SET key value EX ttl`. It turns caching off silently when Redis misbehaves, so each test checks
both the `cache_hit` flag and which mock answer came back: a cached answer is the first call's.
"""

import os

# Keep LiteLLM from fetching its model price map over the network at import time.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
import pytest  # noqa: E402
from conftest import async_wait_until, wait_until  # noqa: E402
from litellm.caching.caching import Cache  # noqa: E402

MODEL = "gpt-4o-mini"


@pytest.fixture
def cache(host, port):
    litellm.cache = Cache(type="redis", host=host, port=str(port))
    yield litellm.cache
    litellm.cache = None


def messages(text: str):
    return [{"role": "user", "content": text}]


def is_hit(response) -> bool:
    return bool(response._hidden_params.get("cache_hit"))


def test_repeat_is_a_hit(cache, unique):
    first = litellm.completion(
        model=MODEL, messages=messages(f"hi {unique}"), mock_response="first", caching=True
    )
    second = litellm.completion(
        model=MODEL, messages=messages(f"hi {unique}"), mock_response="second", caching=True
    )
    assert not is_hit(first)
    assert is_hit(second), "the repeated request was not served from the cache"
    assert second.choices[0].message.content == "first"


def test_different_message_misses(cache, unique):
    litellm.completion(
        model=MODEL, messages=messages(f"a {unique}"), mock_response="a", caching=True
    )
    other = litellm.completion(
        model=MODEL, messages=messages(f"b {unique}"), mock_response="b", caching=True
    )
    assert not is_hit(other)
    assert other.choices[0].message.content == "b"


def test_ttl_is_honoured(cache, admin, unique):
    request = {"model": MODEL, "messages": messages(f"ttl {unique}")}
    litellm.completion(**request, mock_response="old", caching=True, cache={"ttl": 2})
    key = cache.get_cache_key(**request)
    assert admin.exists(key) == 1, f"LiteLLM did not store under {key!r}"
    assert 0 <= admin.ttl(key) <= 2
    wait_until(lambda: admin.exists(key) == 0)
    again = litellm.completion(**request, mock_response="new", caching=True, cache={"ttl": 2})
    assert not is_hit(again)
    assert again.choices[0].message.content == "new"


async def test_async_repeat_hit_and_miss(cache, admin, unique):
    request = {"model": MODEL, "messages": messages(f"async {unique}")}
    first = await litellm.acompletion(**request, mock_response="one", caching=True)
    # The async path writes the cache from a background task: wait for the key to land.
    key = cache.get_cache_key(**request)
    await async_wait_until(lambda: admin.exists(key) == 1)
    second = await litellm.acompletion(**request, mock_response="two", caching=True)
    other = await litellm.acompletion(
        model=MODEL, messages=messages(f"async other {unique}"), mock_response="three", caching=True
    )
    assert not is_hit(first)
    assert is_hit(second), "the repeated async request was not served from the cache"
    assert second.choices[0].message.content == "one"
    assert not is_hit(other)
    assert other.choices[0].message.content == "three"


async def test_async_ttl_is_honoured(cache, admin, unique):
    request = {"model": MODEL, "messages": messages(f"async ttl {unique}")}
    await litellm.acompletion(**request, mock_response="old", caching=True, cache={"ttl": 2})
    key = cache.get_cache_key(**request)
    await async_wait_until(lambda: admin.exists(key) == 1)
    assert 0 <= admin.ttl(key) <= 2
    await async_wait_until(lambda: admin.exists(key) == 0)
    again = await litellm.acompletion(
        **request, mock_response="new", caching=True, cache={"ttl": 2}
    )
    assert not is_hit(again)
    assert again.choices[0].message.content == "new"
