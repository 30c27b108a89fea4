"""django-redis as a Django project configures it: the cache in CACHES, used through
django.core.cache. Its `incr`/`decr` run a Lua script (EVAL) so a missing key is an error and
not a new counter; `cache.lock()` is redis-py's Lock, whose release is a script too (EVALSHA,
then SCRIPT LOAD after NOSCRIPT). The cache lives in database 1, as Django settings commonly put
it (`redis://host:6379/1`), beside whatever else shares the server in database 0.
"""

import threading

import django
import pytest
import redis
from django.conf import settings
from redis.exceptions import LockError, LockNotOwnedError


@pytest.fixture(scope="module")
def redis_url(host, port):
    return f"redis://{host}:{port}/1"


@pytest.fixture
def admin(host, port):
    """A plain client of database 1, for assertions behind django-redis's back."""
    client = redis.Redis(host=host, port=port, db=1, protocol=2, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def db0(host, port):
    client = redis.Redis(host=host, port=port, db=0, protocol=2, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def cache(redis_url):
    if not settings.configured:
        settings.configure(
            CACHES={
                "default": {
                    "BACKEND": "django_redis.cache.RedisCache",
                    "LOCATION": redis_url,
                    "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
                }
            },
            USE_TZ=True,
        )
        django.setup()
    from django.core.cache import caches

    yield caches["default"]
    caches["default"].close()


def test_set_get_delete_with_timeout(cache, admin, db0, unique):
    key = f"dj:{unique}"
    cache.set(key, {"answer": [1, 2, 3]}, timeout=120)
    assert cache.get(key) == {"answer": [1, 2, 3]}
    assert 0 < cache.ttl(key) <= 120
    # django-redis names keys `<prefix>:<version>:<key>`; the server holds one real key, in
    # database 1 only.
    assert admin.exists(f":1:{key}") == 1
    assert db0.exists(f":1:{key}") == 0
    assert cache.get(f"dj-missing:{unique}", default="fallback") == "fallback"
    assert cache.add(key, "other") is False
    assert cache.delete(key) is True
    assert cache.get(key) is None


def test_get_many_set_many(cache, unique):
    values = {f"dj:{unique}:{i}": i * 10 for i in range(5)}
    cache.set_many(values, timeout=60)
    assert cache.get_many([*values, f"dj:{unique}:absent"]) == values


def test_incr_decr_run_through_lua(cache, unique):
    key = f"dj-counter:{unique}"
    cache.set(key, 10)
    assert cache.incr(key) == 11
    assert cache.incr(key, 5) == 16
    assert cache.decr(key, 20) == -4
    assert cache.get(key) == -4
    with pytest.raises(ValueError):
        cache.incr(f"dj-counter-missing:{unique}")


def test_lock_excludes_a_second_holder_until_released(cache, admin, unique):
    name = f"dj-lock:{unique}"
    first = cache.lock(name, timeout=30)
    assert first.acquire(blocking=False) is True
    assert 0 < admin.pttl(f":1:{name}") <= 30_000

    second = cache.lock(name, timeout=30)
    assert second.acquire(blocking=False) is False
    # Release runs a script that deletes the key only if this holder's token is still there.
    first.release()
    assert admin.exists(f":1:{name}") == 0
    assert second.acquire(blocking=False) is True
    # The first holder's token is gone: it cannot release (delete) the second holder's lock.
    with pytest.raises(LockError):
        first.release()
    assert admin.exists(f":1:{name}") == 1
    second.release()


def test_lock_as_context_manager_hands_over_to_a_waiter(cache, unique):
    name = f"dj-lock-ctx:{unique}"
    held = threading.Event()
    release = threading.Event()
    got = []

    def holder():
        with cache.lock(name, timeout=30):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    waiter = cache.lock(name, timeout=30, blocking_timeout=0.2)
    with pytest.raises(LockError):
        with waiter:
            got.append("too early")
    release.set()
    thread.join(10)
    with cache.lock(name, timeout=30, blocking_timeout=5):
        got.append("after release")
    assert got == ["after release"]


def test_lock_release_and_extend_check_the_token(cache, admin, unique):
    """Release and extend are scripts that act only while the key holds this holder's token."""
    name = f"dj-lock-token:{unique}"
    lock = cache.lock(name, timeout=10)
    assert lock.acquire(blocking=False) is True
    assert lock.extend(50) is True
    assert 10 < admin.ttl(f":1:{name}") <= 60
    # The lease ran out and someone else took the key.
    admin.set(f":1:{name}", "someone else", ex=60)
    with pytest.raises(LockNotOwnedError):
        lock.release()
    assert admin.get(f":1:{name}") == "someone else"
