"""Shared fixtures for the real-client tests.

The server under test is named by the environment, so the same tests run against llmcached and
against a real redis-server (run.sh starts either one):

    CLIENT_TEST_HOST   default 127.0.0.1
    CLIENT_TEST_PORT   required
    CLIENT_TEST_TARGET "llmcached" or "redis", only for messages

Every test works under its own key prefix, so tests never see each other's keys and need no FLUSHALL.
"""

import os
import uuid

import pytest
import redis

# Bounds every socket operation: a server that stops answering fails the test instead of hanging it.
SOCKET_TIMEOUT = 10.0


def _address():
    port = os.environ.get("CLIENT_TEST_PORT")
    if not port:
        raise pytest.UsageError("CLIENT_TEST_PORT is not set: run tests/clients/run.sh")
    return os.environ.get("CLIENT_TEST_HOST", "127.0.0.1"), int(port)


@pytest.fixture(scope="session")
def address():
    return _address()


@pytest.fixture(scope="session")
def target():
    return os.environ.get("CLIENT_TEST_TARGET", "unknown")


@pytest.fixture
def prefix():
    """A key prefix no other test uses."""
    return f"clienttest:{uuid.uuid4().hex}:"


def make_client(address, protocol, **kwargs):
    host, port = address
    kwargs.setdefault("socket_timeout", SOCKET_TIMEOUT)
    kwargs.setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
    kwargs.setdefault("decode_responses", True)
    return redis.Redis(host=host, port=port, protocol=protocol, **kwargs)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request):
    return request.param


@pytest.fixture
def r(address, protocol):
    """A synchronous client speaking the parametrised protocol."""
    client = make_client(address, protocol)
    yield client
    client.close()


def pytest_report_header(config):
    try:
        host, port = _address()
    except pytest.UsageError:
        return None
    target = os.environ.get("CLIENT_TEST_TARGET", "unknown")
    return f"server under test: {target} at {host}:{port}, redis-py {redis.__version__}"

