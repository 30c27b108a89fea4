"""Shared fixtures for the third-party client suites.

The runner (scripts/test-integrations.sh) starts the server under test and passes its address in
the environment:

- ``INTEGRATION_HOST`` / ``INTEGRATION_PORT``: where the server listens.
- ``INTEGRATION_TARGET``: ``llmcached`` or ``redis`` (Debian's redis-server, used to check that
  the tests themselves are right). Tests that need something plain Redis lacks (RedisJSON) skip
  when the target is ``redis``.

Every test uses fresh, random prompts and keys, so suites never depend on each other or on a
flushed database.
"""

import asyncio
import os
import time
import uuid

# numpy's OpenBLAS spins up a thread per core for each matrix product. The real-embedding tests
# (minilm.py) multiply many small matrices; on a busy 2-core machine the spinning threads made
# embedding a 6-token question take 2 s instead of 13 ms. Set before anything imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest
import redis


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run these tests through scripts/test-integrations.sh", 2)
    return value


@pytest.fixture(scope="session")
def target() -> str:
    return os.environ.get("INTEGRATION_TARGET", "llmcached")


@pytest.fixture(scope="session")
def host() -> str:
    return _env("INTEGRATION_HOST")


@pytest.fixture(scope="session")
def port() -> int:
    return int(_env("INTEGRATION_PORT"))


@pytest.fixture(scope="session")
def redis_url(host: str, port: int) -> str:
    return f"redis://{host}:{port}/0"


@pytest.fixture
def unique() -> str:
    """A random token to keep each test's prompts and keys apart."""
    return uuid.uuid4().hex


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request) -> int:
    return request.param


@pytest.fixture
def sync_client(host: str, port: int, protocol: int):
    client = redis.Redis(host=host, port=port, protocol=protocol, decode_responses=False)
    yield client
    client.close()


@pytest.fixture(params=[2, None], ids=["resp2", "resp3"])
def client(host, port, request):
    """RESP2, or redis-py 8's default: RESP3 on the wire, read back into the RESP2-era shapes
    RedisVL expects. (An explicit `protocol=3` makes redis-py hand FT.SEARCH's raw map to
    RedisVL, which it cannot read, whatever the server.)"""
    c = redis.Redis(host=host, port=port, protocol=request.param)
    if request.param is None:
        assert c.execute_command("HELLO")[b"proto"] == 3
    yield c
    c.close()


@pytest.fixture
def admin(host: str, port: int):
    """A plain RESP2 client for assertions made behind the library's back (TTL, EXISTS)."""
    client = redis.Redis(host=host, port=port, protocol=2, decode_responses=True)
    yield client
    client.close()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> None:
    """Poll `predicate` until it is true; fail the test if `timeout` seconds pass first.

    Used only to wait for a key's expiry, an event the server does not announce to clients.
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)


async def async_wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> None:
    """`wait_until` for async tests: yields to the event loop so background writes can land.

    LiteLLM's async path stores to the cache in a background task, so a test must wait for the
    key to appear before it can expect a hit.
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
