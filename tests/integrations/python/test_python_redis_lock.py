"""python-redis-lock: the lock is a key set with SET NX EX; release is a Lua script that deletes
it and pushes a token onto a signal list, and a waiter blocks on that list with BLPOP instead of
polling. `extend` renews the expiry through another script.
"""

import threading
import time

import pytest
import redis
import redis_lock

from conftest import wait_until


@pytest.fixture
def conn(host, port):
    client = redis.Redis(host=host, port=port)
    yield client
    client.close()


def _blocked_clients(admin) -> int:
    return int(admin.info("clients")["blocked_clients"])


def test_acquire_release(conn, admin, unique):
    lock = redis_lock.Lock(conn, unique, expire=60)
    assert lock.acquire(blocking=False) is True
    assert lock.locked() is True
    assert 0 < admin.ttl(f"lock:{unique}") <= 60
    assert redis_lock.Lock(conn, unique).acquire(blocking=False) is False
    lock.release()
    assert lock.locked() is False
    assert admin.exists(f"lock:{unique}") == 0
    with pytest.raises(redis_lock.NotAcquired):
        lock.release()


def test_waiter_blocks_on_blpop_until_release(conn, host, port, admin, unique):
    holder = redis_lock.Lock(conn, unique, expire=60)
    assert holder.acquire(blocking=False)
    before = _blocked_clients(admin)
    outcome = {}

    def waiter():
        other = redis.Redis(host=host, port=port)
        try:
            started = time.monotonic()
            outcome["acquired"] = redis_lock.Lock(other, unique, expire=60).acquire(timeout=20)
            outcome["waited"] = time.monotonic() - started
        finally:
            other.close()

    thread = threading.Thread(target=waiter)
    thread.start()
    # The waiter is parked in BLPOP on the signal list (the server counts it as blocked).
    wait_until(lambda: _blocked_clients(admin) > before)
    assert "acquired" not in outcome
    holder.release()
    thread.join(20)
    assert outcome["acquired"] is True
    # Woken by the release's LPUSH, long before its 20 s timeout.
    assert outcome["waited"] < 10
    assert admin.exists(f"lock:{unique}") == 1


def test_acquire_times_out_while_held(conn, unique):
    holder = redis_lock.Lock(conn, unique, expire=60)
    assert holder.acquire()
    assert redis_lock.Lock(conn, unique, expire=60).acquire(timeout=1) is False
    holder.release()


def test_extend_renews_the_expiry(conn, admin, unique):
    lock = redis_lock.Lock(conn, unique, expire=10)
    assert lock.acquire()
    assert 0 < admin.ttl(f"lock:{unique}") <= 10
    lock.extend(expire=100)
    assert 10 < admin.ttl(f"lock:{unique}") <= 100
    # Another holder's Lock object cannot extend what it does not own.
    with pytest.raises(redis_lock.NotAcquired):
        redis_lock.Lock(conn, unique, expire=10).extend(expire=100)
    lock.release()


def test_expired_lock_can_be_taken(conn, admin, unique):
    old = redis_lock.Lock(conn, unique, expire=1)
    assert old.acquire()
    wait_until(lambda: admin.exists(f"lock:{unique}") == 0, timeout=5)
    new = redis_lock.Lock(conn, unique, expire=60)
    assert new.acquire(blocking=False) is True
    # The expired holder's release must not delete the new holder's lock.
    with pytest.raises(redis_lock.NotAcquired):
        old.release()
    assert new.locked() is True
    new.release()


def test_reset_all_clears_locks(conn, admin, unique):
    for i in range(3):
        assert redis_lock.Lock(conn, f"{unique}:{i}", expire=60).acquire()
    redis_lock.reset_all(conn)
    assert all(admin.exists(f"lock:{unique}:{i}") == 0 for i in range(3))
