"""aiocache's RedisCache (redis-py asyncio underneath) and its two locks: RedLock takes the key
with SET NX PX and releases it with a Lua script that checks the holder's token; OptimisticLock
watches a value and writes it back only if nobody changed it (a check-and-set script).
"""

import asyncio

import pytest
from aiocache import RedisCache
from aiocache.lock import OptimisticLock, OptimisticLockError, RedLock
from aiocache.serializers import JsonSerializer


@pytest.fixture
async def cache(host, port, unique):
    cache = RedisCache(endpoint=host, port=port, namespace=f"aio:{unique}", serializer=JsonSerializer())
    yield cache
    await cache.close()


async def test_set_get_ttl_delete(cache, admin, unique):
    assert await cache.set("answer", {"text": "42"}, ttl=60) is True
    assert await cache.get("answer") == {"text": "42"}
    assert 0 < admin.ttl(f"aio:{unique}:answer") <= 60
    assert await cache.exists("answer") is True
    with pytest.raises(ValueError):
        await cache.add("answer", "other")
    assert await cache.delete("answer") == 1
    assert await cache.get("answer") is None


async def test_multi_set_get_and_increment(cache):
    assert await cache.multi_set([("a", 1), ("b", 2)]) is True
    assert await cache.multi_get(["a", "b", "c"]) == [1, 2, None]
    assert await cache.increment("n", 5) == 5
    assert await cache.increment("n", -2) == 3


async def test_redlock_excludes_and_releases(cache, admin, unique):
    lock_key = f"aio:{unique}:job-lock"
    order = []
    inside = asyncio.Event()
    leave = asyncio.Event()

    async def first():
        async with RedLock(cache, "job", lease=20):
            order.append("first in")
            inside.set()
            await leave.wait()
            order.append("first out")

    task = asyncio.create_task(first())
    await inside.wait()
    assert admin.exists(lock_key) == 1
    # A second RedLock on the same key waits for the release (aiocache waits on an in-process
    # event, then on the key's lease); start it, let the first go, and it must come after.
    second = asyncio.create_task(_locked(cache, order))
    leave.set()
    await asyncio.wait_for(asyncio.gather(task, second), 20)
    assert order == ["first in", "first out", "second in"]
    # The release script deleted the key (it would stay until the lease ran out otherwise).
    assert admin.exists(lock_key) == 0


async def _locked(cache, order):
    async with RedLock(cache, "job", lease=20):
        order.append("second in")


async def test_redlock_release_after_lease_lost_leaves_new_holder(cache, admin, unique):
    """The release script deletes the key only if it still holds this lock's token."""
    lock = RedLock(cache, "lease", lease=20)
    await lock.__aenter__()
    key = f"aio:{unique}:lease-lock"
    admin.set(key, "someone else", px=20_000)
    await lock.__aexit__(None, None, None)
    assert admin.get(key) == "someone else"


async def test_optimistic_lock_writes_when_unchanged(cache):
    await cache.set("doc", {"v": 1})
    async with OptimisticLock(cache, "doc") as lock:
        current = await cache.get("doc")
        await lock.cas({"v": current["v"] + 1})
    assert await cache.get("doc") == {"v": 2}


async def test_optimistic_lock_refuses_when_changed(cache):
    await cache.set("doc", {"v": 1})
    with pytest.raises(OptimisticLockError):
        async with OptimisticLock(cache, "doc") as lock:
            await cache.set("doc", {"v": 100})
            await lock.cas({"v": 2})
    assert await cache.get("doc") == {"v": 100}
