"""redis-py itself, over RESP2 and RESP3: the calls the cache libraries above are built on.

RESP3 clients open with `HELLO 3` and refuse to go on unless the reply carries `proto` = 3; the
RESP2 client sends `CLIENT SETINFO` and tolerates errors to it.
"""

import redis
import redis.asyncio


def test_connect_and_ping(sync_client, protocol):
    assert sync_client.ping() is True
    conn = sync_client.connection_pool.get_connection()
    try:
        assert int(conn.protocol) == protocol
    finally:
        sync_client.connection_pool.release(conn)
    # The server agrees on the protocol in use.
    assert sync_client.client_info()["resp"] == str(protocol)


def test_set_ex_get_ttl(sync_client, unique):
    assert sync_client.set(f"k:{unique}", b"value", ex=100) is True
    assert sync_client.get(f"k:{unique}") == b"value"
    assert 0 < sync_client.ttl(f"k:{unique}") <= 100
    assert sync_client.get(f"missing:{unique}") is None


def test_hset_hgetall(sync_client, unique):
    assert sync_client.hset(f"h:{unique}", mapping={"0": "a", "1": "b"}) == 2
    assert sync_client.hgetall(f"h:{unique}") == {b"0": b"a", b"1": b"b"}
    assert sync_client.hgetall(f"h-missing:{unique}") == {}


def test_transaction_pipeline(sync_client, unique):
    """redis-py's default pipeline is MULTI ... EXEC, as LangChain's RedisCache uses it."""
    with sync_client.pipeline() as pipe:
        pipe.hset(f"t:{unique}", mapping={"0": "json"})
        pipe.expire(f"t:{unique}", 60)
        assert pipe.execute() == [1, True]
    assert 0 < sync_client.ttl(f"t:{unique}") <= 60


def test_plain_pipeline(sync_client, unique):
    with sync_client.pipeline(transaction=False) as pipe:
        for i in range(10):
            pipe.set(f"p:{unique}:{i}", i)
        for i in range(10):
            pipe.get(f"p:{unique}:{i}")
        replies = pipe.execute()
    assert replies[:10] == [True] * 10
    assert replies[10:] == [str(i).encode() for i in range(10)]


def test_unknown_command_keeps_connection(sync_client):
    try:
        sync_client.execute_command("NO-SUCH-COMMAND", "a")
    except redis.ResponseError as err:
        assert str(err).startswith("unknown command 'NO-SUCH-COMMAND'")
    else:
        raise AssertionError("an unknown command did not fail")
    assert sync_client.ping() is True


async def test_async_client(host, port, protocol, unique):
    client = redis.asyncio.Redis(host=host, port=port, protocol=protocol)
    try:
        assert await client.set(f"a:{unique}", "v", ex=30) is True
        assert await client.get(f"a:{unique}") == b"v"
        async with client.pipeline() as pipe:
            pipe.set(f"a2:{unique}", "w").get(f"a2:{unique}")
            assert await pipe.execute() == [True, b"w"]
    finally:
        await client.aclose()
