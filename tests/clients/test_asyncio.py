"""redis-py's asyncio client, over RESP2 and RESP3.

Each test drives its own event loop with asyncio.run, so no pytest plugin is needed.
"""

import asyncio

import redis.asyncio as aioredis

TIMEOUT = 10.0


def run(coro):
    """Runs a coroutine with an overall bound, so a silent server fails the test."""
    return asyncio.run(asyncio.wait_for(coro, timeout=60))


def client(address, protocol, **kwargs):
    host, port = address
    return aioredis.Redis(
        host=host,
        port=port,
        protocol=protocol,
        decode_responses=True,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
        **kwargs,
    )


def test_async_basic_commands(address, protocol, prefix):
    async def body():
        r = client(address, protocol)
        try:
            assert await r.ping() is True
            assert await r.set(prefix + "k", "v", ex=100) is True
            assert await r.get(prefix + "k") == "v"
            assert 95 <= await r.ttl(prefix + "k") <= 100
            assert await r.incr(prefix + "n") == 1
            assert await r.exists(prefix + "k", prefix + "n") == 2
            assert await r.mget([prefix + "k", prefix + "missing"]) == ["v", None]
            assert await r.delete(prefix + "k") == 1
            assert await r.get(prefix + "k") is None
        finally:
            await r.aclose()

    run(body())


def test_async_hello_and_client_name(address, protocol):
    async def body():
        r = client(address, protocol, client_name="async-client")
        try:
            assert await r.client_getname() == "async-client"
            reply = await r.execute_command("HELLO", str(protocol))
            fields = reply if isinstance(reply, dict) else dict(zip(reply[::2], reply[1::2]))
            assert fields["proto"] == protocol
        finally:
            await r.aclose()

    run(body())


def test_async_concurrent_requests(address, protocol, prefix):
    async def body():
        host, port = address
        # Twenty connections shared by hundreds of concurrent requests, which queue for them.
        pool = aioredis.BlockingConnectionPool(
            host=host,
            port=port,
            protocol=protocol,
            decode_responses=True,
            max_connections=20,
            timeout=TIMEOUT,
            socket_timeout=TIMEOUT,
        )
        r = aioredis.Redis(connection_pool=pool)
        try:

            async def one(i):
                await r.set(f"{prefix}{i}", str(i))
                return await r.get(f"{prefix}{i}")

            results = await asyncio.gather(*(one(i) for i in range(500)))
            assert results == [str(i) for i in range(500)]
            counters = await asyncio.gather(*(r.incr(prefix + "counter") for _ in range(300)))
            assert sorted(counters) == list(range(1, 301))
        finally:
            await r.aclose()
            await pool.aclose()

    run(body())


def test_async_pipelines(address, protocol, prefix):
    async def body():
        r = client(address, protocol)
        try:
            for transaction in (False, True):
                pipe = r.pipeline(transaction=transaction)
                pipe.set(prefix + "a", "1")
                pipe.incr(prefix + "n")
                pipe.get(prefix + "a")
                pipe.exists(prefix + "a", prefix + "missing")
                results = await pipe.execute()
                assert results[0] is True and results[2] == "1" and results[3] == 1
                assert results[1] == (2 if transaction else 1)
        finally:
            await r.aclose()

    run(body())


def test_async_scan(address, protocol, prefix):
    async def body():
        r = client(address, protocol)
        try:
            keys = {f"{prefix}{i}" for i in range(60)}
            await r.mset({k: "v" for k in keys})
            seen = {k async for k in r.scan_iter(match=prefix + "*", count=7)}
            assert seen == keys
        finally:
            await r.aclose()

    run(body())
