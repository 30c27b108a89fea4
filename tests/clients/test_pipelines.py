"""Pipelines (plain and MULTI/EXEC) and a connection pool shared by 20 threads."""

import threading

import pytest
import redis
from conftest import make_client

THREADS = 20
OPS_PER_THREAD = 200


def test_pipeline_without_transaction(r, prefix):
    pipe = r.pipeline(transaction=False)
    pipe.set(prefix + "a", "1")
    pipe.get(prefix + "a")
    pipe.incr(prefix + "n")
    pipe.incr(prefix + "n")
    pipe.mget([prefix + "a", prefix + "missing"])
    pipe.exists(prefix + "a", prefix + "n")
    pipe.delete(prefix + "a")
    pipe.get(prefix + "a")
    assert pipe.execute() == [True, "1", 1, 2, ["1", None], 2, 1, None]


def test_pipeline_with_transaction(r, prefix):
    pipe = r.pipeline(transaction=True)
    pipe.set(prefix + "a", "1", ex=100)
    pipe.incr(prefix + "n")
    pipe.get(prefix + "a")
    pipe.ttl(prefix + "a")
    results = pipe.execute()
    assert results[:3] == [True, 1, "1"]
    assert 95 <= results[3] <= 100


def test_long_pipeline_keeps_order(r, prefix):
    pipe = r.pipeline(transaction=False)
    for i in range(2000):
        pipe.set(f"{prefix}{i}", str(i))
        pipe.get(f"{prefix}{i}")
    results = pipe.execute()
    assert results[0::2] == [True] * 2000
    assert results[1::2] == [str(i) for i in range(2000)]


def test_pipeline_error_stays_in_its_slot(r, prefix):
    r.set(prefix + "s", "text")
    pipe = r.pipeline(transaction=False)
    pipe.set(prefix + "a", "1")
    pipe.incr(prefix + "s")
    pipe.get(prefix + "a")
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], redis.ResponseError)
    assert "not an integer" in str(results[1])
    assert results[2] == "1"


def test_transaction_error_in_exec_does_not_roll_back(r, prefix):
    # Redis runs every queued command; a runtime error affects only its own reply.
    r.set(prefix + "s", "text")
    pipe = r.pipeline(transaction=True)
    pipe.set(prefix + "a", "1")
    pipe.incr(prefix + "s")
    pipe.set(prefix + "b", "2")
    with pytest.raises(redis.ResponseError):
        pipe.execute()
    assert r.mget([prefix + "a", prefix + "b"]) == ["1", "2"]


def test_pool_shared_by_20_threads(address, protocol, prefix):
    host, port = address
    pool = redis.ConnectionPool(
        host=host,
        port=port,
        protocol=protocol,
        decode_responses=True,
        max_connections=THREADS,
        socket_timeout=10,
    )
    client = redis.Redis(connection_pool=pool)
    start = threading.Barrier(THREADS, timeout=30)
    errors = []

    def worker(n):
        try:
            start.wait()
            for i in range(OPS_PER_THREAD):
                key = f"{prefix}t{n}:{i}"
                client.set(key, f"{n}:{i}")
                if client.get(key) != f"{n}:{i}":
                    errors.append(f"thread {n} read back a wrong value for {key}")
                client.incr(prefix + "counter")
        except Exception as exc:  # reported below, with the thread that saw it
            errors.append(f"thread {n}: {exc!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread is stuck"
    assert errors == []
    assert client.get(prefix + "counter") == str(THREADS * OPS_PER_THREAD)
    assert client.exists(*[f"{prefix}t{n}:{OPS_PER_THREAD - 1}" for n in range(THREADS)]) == THREADS
    pool.disconnect()


def test_watch_retries_a_check_and_set_until_no_one_else_wrote(r, address, protocol, prefix):
    # redis-py's optimistic locking: WATCH, read, MULTI ... EXEC, retried on WatchError.
    key = prefix + "balance"
    r.set(key, "100")
    other = make_client(address, protocol)
    attempts = []

    def withdraw(pipe):
        balance = int(pipe.get(key))
        if not attempts:
            # Another client writes between this client's WATCH and its EXEC.
            other.incrby(key, 50)
        attempts.append(balance)
        pipe.multi()
        pipe.set(key, balance - 30)

    r.transaction(withdraw, key)
    other.close()
    assert attempts == [100, 150], "the first EXEC must fail and the retry see the new value"
    assert r.get(key) == "120"


def test_watch_then_expiry_aborts_exec_and_unwatch_releases(r, prefix):
    key = prefix + "lease"
    r.set(key, "x", px=50)
    with r.pipeline() as pipe:
        pipe.watch(key)
        # Wait for the key's own expiry (the event), polling for it.
        while r.exists(key):
            pass
        pipe.multi()
        pipe.set(prefix + "done", "1")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get(prefix + "done") is None
    with r.pipeline() as pipe:
        pipe.watch(key)
        pipe.unwatch()
        r.set(key, "changed")
        pipe.multi()
        pipe.set(prefix + "done", "1")
        assert pipe.execute() == [True]
