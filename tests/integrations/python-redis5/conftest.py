"""Fixtures for the suites that need redis-py 5 (LangChain community's Redis vector store
imports redis-py internals that redis-py 6 removed). The runner passes the server's address in
INTEGRATION_HOST / INTEGRATION_PORT and the kind of server in INTEGRATION_TARGET, as for
../python, whose fakes this suite shares.
"""

import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))


@pytest.fixture(scope="session")
def target() -> str:
    return os.environ.get("INTEGRATION_TARGET", "llmcached")


@pytest.fixture(scope="session")
def redis_url() -> str:
    host, port = os.environ.get("INTEGRATION_HOST"), os.environ.get("INTEGRATION_PORT")
    if not (host and port):
        pytest.exit("INTEGRATION_HOST / INTEGRATION_PORT are not set: run through the test harness", 2)
    return f"redis://{host}:{port}"


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex
