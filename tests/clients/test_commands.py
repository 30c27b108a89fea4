"""The basic commands through redis-py's synchronous client, over RESP2 and RESP3.

Replies and error texts are Redis 7's: these tests pass against a real redis-server.
"""

import pytest
import redis

from conftest import make_client


def test_ping(r):
    assert r.ping() is True
    assert r.echo("hello") == "hello"


def test_set_get(r, prefix):
    assert r.set(prefix + "k", "v") is True
    assert r.get(prefix + "k") == "v"
    assert r.get(prefix + "missing") is None
    assert r.set(prefix + "k", "w") is True
    assert r.get(prefix + "k") == "w"


def test_set_nx_xx(r, prefix):
    key = prefix + "k"
    assert r.set(key, "1", nx=True) is True
    assert r.set(key, "2", nx=True) is None
    assert r.get(key) == "1"
    assert r.set(prefix + "absent", "x", xx=True) is None
    assert r.set(key, "3", xx=True) is True
    assert r.get(key) == "3"


def test_values_are_binary_safe(address, protocol, prefix):
    client = make_client(address, protocol, decode_responses=False)
    try:
        value = bytes(range(256)) * 8 + b"\r\n$-1\r\n*3\r\n\x00"
        client.set(prefix + "bin", value)
        assert client.get(prefix + "bin") == value
        big = b"x" * (1 << 20)
        client.set(prefix + "big", big)
        assert client.get(prefix + "big") == big
        client.set(prefix + "empty", b"")
        assert client.get(prefix + "empty") == b""
    finally:
        client.close()


def test_ex_and_ttl(r, prefix):
    key = prefix + "k"
    assert r.set(key, "v", ex=100) is True
    assert 95 <= r.ttl(key) <= 100
    assert 95_000 <= r.pttl(key) <= 100_000
    r.set(prefix + "ms", "v", px=100_000)
    assert 95 <= r.ttl(prefix + "ms") <= 100
    assert r.execute_command("SETEX", prefix + "setex", 50, "v") is True
    assert 45 <= r.ttl(prefix + "setex") <= 50
    assert r.get(prefix + "setex") == "v"


def test_ttl_without_expiry_and_missing_key(r, prefix):
    r.set(prefix + "k", "v")
    assert r.ttl(prefix + "k") == -1
    assert r.ttl(prefix + "missing") == -2


def test_set_without_ex_clears_the_ttl(r, prefix):
    key = prefix + "k"
    r.set(key, "v", ex=100)
    r.set(key, "w")
    assert r.ttl(key) == -1


def test_invalid_expire_time(r, prefix):
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.set(prefix + "k", "v", ex=0)
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.execute_command("SET", prefix + "k", "v", "EX", "-5")
    assert r.exists(prefix + "k") == 0


def test_incr(r, prefix):
    key = prefix + "n"
    assert r.incr(key) == 1
    assert r.incr(key) == 2
    assert r.incrby(key, 40) == 42
    assert r.get(key) == "42"
    assert r.decr(key) == 41


def test_incr_keeps_the_ttl(r, prefix):
    key = prefix + "n"
    r.set(key, "10", ex=100)
    assert r.incr(key) == 11
    assert 95 <= r.ttl(key) <= 100


def test_incr_on_a_non_integer_is_an_error(r, prefix):
    r.set(prefix + "s", "abc")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.incr(prefix + "s")
    r.set(prefix + "max", str(2**63 - 1))
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.incr(prefix + "max")
    assert r.get(prefix + "s") == "abc"


def test_del_and_exists(r, prefix):
    a, b, c = prefix + "a", prefix + "b", prefix + "c"
    r.mset({a: "1", b: "2"})
    assert r.exists(a) == 1
    assert r.exists(a, b, c) == 2
    assert r.exists(a, a) == 2
    assert r.delete(a, c) == 1
    assert r.exists(a) == 0
    assert r.get(a) is None
    assert r.delete(a) == 0
    assert r.delete(b) == 1


def test_mset_mget(r, prefix):
    pairs = {prefix + str(i): f"value-{i}" for i in range(50)}
    assert r.mset(pairs) is True
    keys = list(pairs) + [prefix + "missing"]
    assert r.mget(keys) == list(pairs.values()) + [None]


def test_scan_finds_every_key_once(r, prefix):
    keys = {prefix + f"scan:{i}" for i in range(120)}
    r.mset({k: "v" for k in keys})
    seen = list(r.scan_iter(match=prefix + "scan:*", count=10))
    assert set(seen) == keys
    # Redis may return a key twice across pages only if the keyspace is rehashed mid-scan.
    assert len(seen) <= 2 * len(keys)


def test_scan_reply_shape(r, prefix):
    r.set(prefix + "one", "1")
    cursor, keys = r.scan(0, match=prefix + "*", count=1000)
    assert isinstance(cursor, int)
    assert isinstance(keys, list)
    while cursor != 0:
        cursor, more = r.scan(cursor, match=prefix + "*", count=1000)
        keys += more
    assert keys == [prefix + "one"]


def test_hello_resp3_is_a_map(address, prefix):
    client = make_client(address, 3)
    try:
        reply = client.execute_command("HELLO", "3")
        assert isinstance(reply, dict), reply
        assert reply["server"] == "redis"
        assert reply["proto"] == 3
        assert isinstance(reply["id"], int)
        assert reply["version"].startswith("7.")
        assert reply["mode"] == "standalone"
        assert reply["role"] == "master"
        assert reply["modules"] == []
        # The connection keeps working after HELLO.
        client.set(prefix + "k", "v")
        assert client.get(prefix + "k") == "v"
    finally:
        client.close()


def test_hello_resp2_is_a_flat_array(address):
    client = make_client(address, 2)
    try:
        reply = client.execute_command("HELLO", "2")
        if isinstance(reply, dict):  # some redis-py versions pair it up for us
            fields = reply
        else:
            assert isinstance(reply, list) and len(reply) == 14, reply
            fields = dict(zip(reply[::2], reply[1::2]))
        assert fields["server"] == "redis"
        assert fields["proto"] == 2
        assert fields["mode"] == "standalone"
        assert client.ping() is True
    finally:
        client.close()


def test_hello_unsupported_version(r):
    with pytest.raises(redis.ResponseError, match="unsupported protocol version"):
        r.execute_command("HELLO", "4")
    assert r.ping() is True


def test_client_setname(r):
    assert r.client_setname("tester-1") is True
    assert r.client_getname() == "tester-1"


def test_client_name_given_at_connect(address, protocol):
    client = make_client(address, protocol, client_name="named-at-connect")
    try:
        assert client.client_getname() == "named-at-connect"
    finally:
        client.close()


def test_info(r):
    info = r.info()
    assert isinstance(info, dict) and info
    server = r.info("server")
    assert "redis_version" in server
    assert r.info("replication")["role"] == "master"
    assert r.info("clients")["connected_clients"] >= 1


def test_unknown_command_keeps_the_connection(r):
    with pytest.raises(redis.ResponseError) as err:
        r.execute_command("NOSUCHCOMMAND", "a", "b")
    assert str(err.value) == "unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' 'b' "
    assert r.ping() is True


def test_wrong_number_of_arguments(r):
    with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'get' command$"):
        r.execute_command("GET")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SET", "k", "v", "EX", "10", "BOGUS")
    assert r.ping() is True


def test_lower_case_command_names(r, prefix):
    assert r.execute_command("set", prefix + "k", "v") is True
    assert r.execute_command("gEt", prefix + "k") == "v"
