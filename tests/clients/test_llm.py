"""The LLM commands through redis-py, used the way an application would use them.

The pattern under test (single flight across processes):

    value = LLMGET key WAIT ms     # a value: a hit, or the answer another caller just stored
    if value is nil:               # nil: this caller holds the lease for key
        value = call_model()
        LLMSETNX key value EX s TOKENS n   # stores it and wakes every waiter
        (or LLMABORT key if the model call failed: the lease passes on)

The stampede tests run twice: threads sharing one client over redis-py's connection pool (how
applications use redis-py, so a lease must not depend on which pooled connection carries the next
command) and threads with a connection each.

These commands are llmcached's own: against a server that answers `unknown command` to LLMGET (a real
redis-server) the whole module is skipped.
"""

import threading
import time
import uuid

import pytest
import redis

from conftest import make_client

FOLLOWERS_WAIT_MS = 30_000
# Longer than the WAIT, so the server, not the socket, ends a wait.
SOCKET_TIMEOUT = 40
TOKENS = 250


@pytest.fixture(scope="module", autouse=True)
def llm_commands_available(address):
    client = make_client(address, 3)
    probe = f"llmtest:probe:{uuid.uuid4().hex}"
    try:
        reply = client.execute_command("LLMGET", probe)
    except redis.ResponseError as err:
        if "unknown command" in str(err).lower():
            pytest.skip(f"the server has no LLMGET ({err})")
        raise
    if reply is None:  # the probe took the lease: give it back
        client.execute_command("LLMABORT", probe)
    client.close()


def stats(client):
    """LLMSTATS as {name: int}, from a RESP3 map or a RESP2 flat array of name, value pairs."""
    reply = client.execute_command("LLMSTATS")
    if isinstance(reply, dict):
        pairs = reply.items()
    else:
        assert isinstance(reply, list) and len(reply) % 2 == 0, reply
        pairs = zip(reply[0::2], reply[1::2])
    out = {}
    for name, value in pairs:
        name = name.decode() if isinstance(name, bytes) else name
        try:
            out[name] = int(value)
        except (TypeError, ValueError):
            out[name] = value
    return out


def reset_stats(client):
    assert client.execute_command("LLMSTATS", "RESET") in (True, "OK", b"OK")
    counters = stats(client)
    for name in ("hits", "misses", "coalesced", "sets", "tokens_saved"):
        assert counters[name] == 0, counters


def cached_completion(client, key, call_model, ex=3600, tokens=TOKENS):
    """What an application writes: returns (answer, whether this caller ran the model)."""
    value = client.execute_command("LLMGET", key, "WAIT", FOLLOWERS_WAIT_MS)
    if value is not None:
        return value, False
    try:
        value = call_model()
    except Exception:
        client.execute_command("LLMABORT", key)
        raise
    stored = client.execute_command("LLMSETNX", key, value, "EX", ex, "TOKENS", tokens)
    assert stored == 1, f"LLMSETNX by the lease holder returned {stored!r}"
    return value, True


class FakeModel:
    """Counts calls. Call n returns only once the server reports `callers - n` followers waiting.

    Waiting on the server's own gauge (LLMSTATS followers_waiting) makes the stampede real and the
    counters exact: every other caller is blocked in LLMGET before the answer exists. The wait is
    bounded, so a server that never blocks them fails the test instead of hanging it.
    """

    def __init__(self, address, protocol, callers, fail_first=False):
        self.admin = make_client(address, protocol)
        self.callers = callers
        self.fail_first = fail_first
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
            n = self.calls
        want = self.callers - n
        deadline = time.monotonic() + 15
        while (waiting := stats(self.admin)["followers_waiting"]) != want:
            assert time.monotonic() < deadline, f"{waiting} followers waiting, want {want}"
            time.sleep(0.01)  # polling the gauge: the event is the server's count reaching `want`
        if self.fail_first and n == 1:
            raise RuntimeError("model call failed")
        return f"answer #{n}"

    def close(self):
        self.admin.close()


@pytest.fixture(params=["shared-pool", "own-connection"])
def sharing(request):
    """How the callers' threads reach the server.

    shared-pool: one redis.Redis over a connection pool, shared by every thread: how applications
    use redis-py. A thread's LLMGET and its LLMSETNX / LLMABORT may go out on different pooled
    connections, and another thread may borrow the connection a lease was granted on.
    own-connection: each thread has a connection of its own for the whole exchange.
    """
    return request.param


def stampede(address, protocol, key, model, callers, sharing):
    """`callers` threads run cached_completion on one key at once; returns their results."""
    host, port = address
    pool = redis.ConnectionPool(
        host=host,
        port=port,
        protocol=protocol,
        decode_responses=True,
        max_connections=callers,
        socket_timeout=SOCKET_TIMEOUT,
    )
    shared = redis.Redis(connection_pool=pool)
    start = threading.Barrier(callers, timeout=30)
    results = [None] * callers

    def caller(i):
        if sharing == "shared-pool":
            client = shared
        else:
            client = redis.Redis(connection_pool=pool, single_connection_client=True)
        try:
            start.wait()
            results[i] = cached_completion(client, key, model)
        except Exception as exc:  # kept for the assertions
            results[i] = exc
        finally:
            if client is not shared:
                client.close()

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a caller is still blocked"
    pool.disconnect()
    return results


def test_stampede_of_50_calls_the_model_once(address, protocol, sharing):
    admin = make_client(address, protocol)
    reset_stats(admin)
    key = f"llmtest:{uuid.uuid4().hex}"
    model = FakeModel(address, protocol, callers=50)

    results = stampede(address, protocol, key, model, callers=50, sharing=sharing)
    model.close()

    assert model.calls == 1
    assert results.count(("answer #1", True)) == 1, results
    assert results.count(("answer #1", False)) == 49, results
    counters = stats(admin)
    assert counters["misses"] == 1, counters
    assert counters["coalesced"] == 49, counters
    assert counters["hits"] == 0, counters
    assert counters["sets"] == 1, counters
    assert counters["tokens_saved"] == 49 * TOKENS, counters
    assert counters["entries"] >= 1, counters
    # No lease and no waiter is left behind.
    assert counters["leases_active"] == 0, counters
    assert counters["followers_waiting"] == 0, counters

    # Later callers are plain hits.
    for _ in range(10):
        assert cached_completion(admin, key, model) == ("answer #1", False)
    after = stats(admin)
    assert after["hits"] == 10, after
    assert after["misses"] == 1 and after["sets"] == 1 and after["coalesced"] == 49, after
    assert after["tokens_saved"] == 59 * TOKENS, after
    admin.close()


def test_abort_passes_the_lease_to_one_waiter(address, protocol, sharing):
    admin = make_client(address, protocol)
    reset_stats(admin)
    key = f"llmtest:{uuid.uuid4().hex}"
    model = FakeModel(address, protocol, callers=20, fail_first=True)

    results = stampede(address, protocol, key, model, callers=20, sharing=sharing)
    model.close()

    failed = [r for r in results if isinstance(r, Exception)]
    assert [str(e) for e in failed] == ["model call failed"], results
    assert model.calls == 2
    assert results.count(("answer #2", True)) == 1, results
    assert results.count(("answer #2", False)) == 18, results
    counters = stats(admin)
    assert counters["misses"] == 1, counters
    assert counters["aborts"] == 1, counters
    assert counters["lease_promotions"] == 1, counters
    assert counters["coalesced"] == 18, counters
    assert counters["sets"] == 1, counters
    assert counters["leases_active"] == 0 and counters["followers_waiting"] == 0, counters
    admin.close()


def test_stats_counters_are_exact_without_concurrency(address, protocol):
    r = make_client(address, protocol)
    reset_stats(r)
    key = f"llmtest:{uuid.uuid4().hex}"
    assert r.execute_command("LLMGET", key) is None  # miss: lease taken
    assert r.execute_command("LLMSETNX", key, "the answer", "PX", 100_000, "TOKENS", 7) == 1
    for _ in range(3):
        assert r.execute_command("LLMGET", key) == "the answer"
    counters = stats(r)
    assert counters["misses"] == 1, counters
    assert counters["hits"] == 3, counters
    assert counters["coalesced"] == 0, counters
    assert counters["sets"] == 1, counters
    assert counters["tokens_saved"] == 21, counters
    r.close()


def test_abort_frees_the_lease(address, protocol):
    r = make_client(address, protocol)
    key = f"llmtest:{uuid.uuid4().hex}"
    assert r.execute_command("LLMGET", key) is None
    r.execute_command("LLMABORT", key)
    # The lease is free again: the next caller gets nil (and holds it) without waiting.
    started = time.monotonic()
    assert r.execute_command("LLMGET", key, "WAIT", 5000) is None
    assert time.monotonic() - started < 4
    r.execute_command("LLMABORT", key)
    r.close()


def test_setnx_does_not_replace_a_value(address, protocol):
    r = make_client(address, protocol)
    key = f"llmtest:{uuid.uuid4().hex}"
    assert r.execute_command("LLMGET", key) is None
    assert r.execute_command("LLMSETNX", key, "first", "EX", 100) == 1
    assert r.execute_command("LLMSETNX", key, "second", "EX", 100) == 0
    assert r.execute_command("LLMGET", key) == "first"
    r.close()


def test_setnx_ex_sets_a_ttl(address, protocol):
    r = make_client(address, protocol)
    key = f"llmtest:{uuid.uuid4().hex}"
    assert r.execute_command("LLMGET", key) is None
    r.execute_command("LLMSETNX", key, "v", "EX", 100)
    assert 95 <= r.ttl(key) <= 100
    r.close()


def test_wait_that_runs_out_is_tryagain(address, protocol):
    leader, follower = make_client(address, protocol), make_client(address, protocol)
    key = f"llmtest:{uuid.uuid4().hex}"
    assert leader.execute_command("LLMGET", key) is None
    started = time.monotonic()
    # redis-py turns a `-TRYAGAIN ...` reply into TryAgainError.
    with pytest.raises(redis.exceptions.TryAgainError):
        follower.execute_command("LLMGET", key, "WAIT", 200)
    assert 0.15 <= time.monotonic() - started < 5
    with pytest.raises(redis.exceptions.TryAgainError):
        follower.execute_command("LLMGET", key, "WAIT", 0)  # WAIT 0 never blocks
    assert follower.ping() is True
    assert leader.execute_command("LLMABORT", key) == 1
    assert leader.execute_command("LLMABORT", key) == 0  # no lease left to give up
    leader.close()
    follower.close()


def test_follower_that_disconnects_is_not_left_waiting(address, protocol):
    admin = make_client(address, protocol)
    key = f"llmtest:{uuid.uuid4().hex}"
    assert admin.execute_command("LLMGET", key) is None
    impatient = make_client(address, protocol, socket_timeout=0.3)
    with pytest.raises(redis.TimeoutError):
        impatient.execute_command("LLMGET", key, "WAIT", 30_000)
    impatient.close()  # the server sees the socket close while the follower waits
    deadline = time.monotonic() + 10
    while stats(admin)["followers_waiting"] != 0:
        assert time.monotonic() < deadline, "the closed follower is still counted as waiting"
        time.sleep(0.01)
    assert admin.execute_command("LLMSETNX", key, "v", "EX", 100) == 1
    assert admin.get(key) == "v"  # answers live in the ordinary keyspace
    admin.close()
