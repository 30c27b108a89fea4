"""Scripts through redis-py: its `Lock` (which releases and extends through Lua scripts) and
`register_script` (EVALSHA, then SCRIPT LOAD after NOSCRIPT), over RESP2 and RESP3.

These tests pass against a real redis-server 7.0.
"""

import pytest
import redis
from redis.exceptions import LockError, LockNotOwnedError, NoScriptError


def test_lock_acquire_release_extend(r, prefix):
    name = prefix + "lock"
    lock = r.lock(name, timeout=10, blocking=False)
    assert lock.acquire() is True
    assert lock.owned() is True
    # Another holder cannot take it while it is held.
    other = r.lock(name, timeout=10, blocking=False)
    assert other.acquire() is False
    with pytest.raises(LockError):
        with r.lock(name, timeout=10, blocking_timeout=0.1):
            pass
    # Extend runs LUA_EXTEND_SCRIPT: the TTL grows past the original timeout.
    assert lock.extend(20) is True
    assert r.pttl(name) > 10_000
    assert lock.reacquire() is True
    assert r.pttl(name) <= 10_000
    # Only the owner's token releases (LUA_RELEASE_SCRIPT compares it): a holder with another
    # token is told it does not own the lock, by the script's reply.
    other.local.token = b"another-holder"
    with pytest.raises(LockNotOwnedError):
        other.release()
    other.local.token = b"another-holder"  # release() forgot it
    with pytest.raises(LockNotOwnedError):
        other.extend(5)
    lock.release()
    assert r.exists(name) == 0
    # Released: now the other holder gets it.
    other.local.token = None
    assert other.acquire() is True
    other.release()


def test_lock_as_context_manager(r, prefix):
    name = prefix + "ctx"
    with r.lock(name, timeout=5) as held:
        assert held.locked() is True
        assert r.get(name) is not None
    assert r.exists(name) == 0


def test_register_script_loads_after_noscript(r, prefix):
    r.script_flush()
    body = "return redis.call('incrby', KEYS[1], ARGV[1])"
    incrby = r.register_script(body)
    key = prefix + "counter"
    with pytest.raises(NoScriptError):
        r.evalsha(incrby.sha, 1, key, 1)
    # The Script object sends EVALSHA, gets NOSCRIPT, loads the script and runs it.
    assert incrby(keys=[key], args=[5]) == 5
    assert r.script_exists(incrby.sha) == [True]
    assert incrby(keys=[key], args=[2]) == 7
    assert r.get(key) == "7"


def test_script_errors_reach_the_client(r, prefix):
    key = prefix + "s"
    r.set(key, "text")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.eval("return redis.call('incr', KEYS[1])", 1, key)
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed from read-only scripts"):
        r.eval_ro("return redis.call('set', KEYS[1], 'x')", 1, key)
    assert r.eval_ro("return redis.call('get', KEYS[1])", 1, key) == "text"
    assert r.eval("return {1, 'two', {ok='OK'}}", 0) == [1, "two", "OK"]
