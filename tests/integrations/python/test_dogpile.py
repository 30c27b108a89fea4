"""dogpile.cache's Redis backend with `distributed_lock=True`: the dogpile lock that lets one
caller regenerate a value while the others wait is redis-py's Lock on the server, so it holds
across processes (two regions here stand for two processes). Its release is a Lua script.
"""

import threading

import pytest
from dogpile.cache import make_region
from dogpile.cache.api import NO_VALUE


def _region(host, port):
    return make_region().configure(
        "dogpile.cache.redis",
        expiration_time=300,
        arguments={
            "host": host,
            "port": port,
            "db": 0,
            "distributed_lock": True,
            # What dogpile asks for with a distributed lock: the lock token is not per thread.
            "thread_local_lock": False,
            "lock_timeout": 30,
            "redis_expiration_time": 600,
        },
    )


@pytest.fixture
def regions(host, port):
    return _region(host, port), _region(host, port)


def test_lock_is_held_on_the_server_while_creating(regions, admin, unique):
    one, two = regions
    key = f"dogpile:{unique}"
    seen = []

    def create():
        # The dogpile lock of this key is a key on the server while the value is made.
        seen.append(admin.exists(f"_lock{key}"))
        return {"answer": 42}

    assert one.get_or_create(key, create) == {"answer": 42}
    assert seen == [1]
    # Released by its script as soon as the value was stored, not left to its timeout.
    assert admin.exists(f"_lock{key}") == 0
    # The other "process" finds the value and does not create it again.
    assert two.get_or_create(key, lambda: pytest.fail("created twice")) == {"answer": 42}
    assert 0 < admin.ttl(key) <= 600


def test_concurrent_callers_create_once(regions, unique):
    key = f"dogpile-race:{unique}"
    calls = []
    start = threading.Barrier(4)
    results = []

    def create():
        calls.append(1)
        return "value"

    def caller(region):
        start.wait(10)
        results.append(region.get_or_create(key, create))

    threads = [threading.Thread(target=caller, args=(regions[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == ["value"] * 4
    assert len(calls) == 1


def test_set_get_delete(regions, unique):
    one, two = regions
    key = f"dogpile-plain:{unique}"
    assert one.get(key) is NO_VALUE
    one.set(key, [1, 2, 3])
    assert two.get(key) == [1, 2, 3]
    two.delete(key)
    assert one.get(key) is NO_VALUE
