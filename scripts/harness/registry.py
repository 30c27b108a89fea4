"""Every suite of the project, in the order they run. Adding a suite is adding one entry here.

Each entry names what it runs, what it needs installed (see deps.py), whether it runs once per
server target (`--target llmcached|redis`) and whether it needs the release binary. Every suite
runs even after an earlier one failed, except those that need a release binary that failed to
build: they fail with the reason instead.
"""

from __future__ import annotations

from . import cargo, clients, integrations, redis_tcl, scripts, selftest
from .context import Suite

SUITES: list[Suite] = [
    Suite("harness", "the test harness's own tests (scripts/harness/selftest.py)", selftest.run),
    Suite("fmt", "cargo fmt --all -- --check",
          cargo.command(["cargo", "fmt", "--all", "--", "--check"], "cargo fmt",
                        hint="run: cargo fmt --all", timeout=600),
          needs=("cargo",)),
    Suite("clippy", "cargo clippy --all-targets -- -D warnings",
          cargo.command(["cargo", "clippy", "--all-targets", "--", "-D", "warnings"], "cargo clippy"),
          needs=("cargo",)),
    Suite("rust", "the Rust tests: cargo nextest run --profile ci (JUnit); the shared-tier ones start redis-server",
          cargo.rust_tests, needs=("cargo", "promtool", "redis")),
    Suite("doctests", "cargo test --doc (nextest does not run doctests)",
          cargo.command(["cargo", "test", "--doc"], "cargo test --doc"), needs=("cargo",)),
    Suite("release", "cargo build --release", cargo.release_build, needs=("cargo",),
          builds_release=True),
    Suite("clients", "redis-py (pytest, JUnit), redis-cli and redis-benchmark against the server",
          clients.run, needs=("redis", "venv:clients"), per_target=True),
    Suite("integrations/python",
          "redis-py, LangChain, LiteLLM, RedisVL semantic caches; django-redis, aiocache, "
          "dogpile.cache, python-redis-lock (pytest, JUnit)",
          integrations.python_suites, needs=("redis", "venv:integrations"), per_target=True),
    Suite("integrations/python-redis5",
          "LangChain community's semantic cache, LlamaIndex's RedisKVStore on redis-py 5 (pytest, JUnit)",
          integrations.python_redis5_suites, needs=("redis", "venv:integrations-redis5"),
          per_target=True),
    Suite("integrations/node", "ioredis 6/5, node-redis 6/4 (node --test, JUnit)",
          integrations.node_suites, needs=("redis", "node", "npm:tests/integrations/node"),
          per_target=True),
    Suite("integrations/examples", "examples/ (python, node, rust) as self-tests, by exit status",
          integrations.examples,
          needs=("redis", "cargo", "venv:integrations", "node", "npm:examples/node"),
          per_target=True),
    Suite("redis-tcl",
          "Redis 7.0.15's own Tcl units, external-server mode, llmcached against redis-server",
          redis_tcl.run, needs=("redis", "redis-tcl-tests"), needs_release=True),
    Suite("deploy", "scripts/check-deploy.sh: deploy/ checked offline (JUnit)",
          scripts.script("scripts/check-deploy.sh", timeout=600),
          needs=("redis", "venv:deploy"), needs_release=True),
    Suite("fuzz-smoke", "scripts/fuzz-smoke.sh: a bounded fuzzing run",
          scripts.script("scripts/fuzz-smoke.sh", timeout=1200),
          needs=("cargo",), only_if_file="scripts/fuzz-smoke.sh"),
]
