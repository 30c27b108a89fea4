"""The real-client pass: redis-py (sync and asyncio, RESP2 and RESP3, tests/clients under
pytest), then redis-cli and redis-benchmark, against one server started for the suite.

The redis-cli and redis-benchmark checks are here rather than in pytest because they test the
command-line tools' own behaviour (their exit status and what they print).
"""

from __future__ import annotations

import re
import subprocess

from . import proc, servers
from .context import Context
from .results import SuiteResult

PYTEST_TIMEOUT = 600


def run(ctx: Context, result: SuiteResult, target: str | None) -> None:
    assert target
    python = ctx.deps.python("venv:clients")
    out = ctx.out_dir(result.name)
    with servers.running(target, ctx.release, out) as server:
        junit = out / "pytest.xml"
        # LLMCACHED_BIN: for the tests that start a node of their own (emulated cluster mode).
        binary = {"LLMCACHED_BIN": str(ctx.release)} if ctx.release else {}
        env = ctx.env(
            PYTHONDONTWRITEBYTECODE="1",
            CLIENT_TEST_HOST="127.0.0.1",
            CLIENT_TEST_PORT=str(server.port),
            CLIENT_TEST_TARGET=target,
            **binary,
        )
        argv = [str(python), "-m", "pytest", "tests/clients", "-p", "no:cacheprovider", "-q",
                "-rfEs", f"--junitxml={junit}", *ctx.pytest_args]
        done = proc.run(argv, cwd=ctx.root, env=env, timeout=PYTEST_TIMEOUT)
        result.add_pytest(junit, done.status)

        tools = Tools(server.port)
        for name, check in CHECKS:
            try:
                check(tools)
            except CheckFailed as err:
                print(f"  FAIL {name}: {err}", flush=True)
                result.failed(name, str(err))
            else:
                print(f"  ok   {name}", flush=True)
                result.passed(name)
        result.check(f"the {target} server stayed up", server.alive(), server.tail())


class CheckFailed(Exception):
    pass


class Tools:
    """redis-cli and redis-benchmark pointed at the server, each call bounded in time."""

    def __init__(self, port: int):
        self.address = ["-h", "127.0.0.1", "-p", str(port)]

    def run(self, tool: str, *args: str, stdin: bytes | None = None, timeout: float = 30) -> str:
        try:
            done = subprocess.run(
                [tool, *self.address, *args], input=stdin if stdin is not None else b"",
                capture_output=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"{tool} {' '.join(args)}: no answer after {timeout:.0f} s")
        except OSError as err:
            raise CheckFailed(f"cannot run {tool}: {err}")
        out = done.stdout.decode("utf-8", "replace")
        if done.returncode != 0:
            raise CheckFailed(f"{tool} {' '.join(args)} exited {done.returncode}: {out}"
                              f"{done.stderr.decode('utf-8', 'replace')}")
        return out

    def cli(self, *args: str) -> str:
        return self.run("redis-cli", *args).rstrip("\n")


def expect(got: str, want: str, what: str) -> None:
    if got != want:
        raise CheckFailed(f"{what} printed {got!r}, want {want!r}")


def cli_ping(t: Tools) -> None:
    expect(t.cli("ping"), "PONG", "ping")


def cli_set_get(t: Tools) -> None:
    expect(t.cli("set", "clitest:k", "hello world"), "OK", "set")
    expect(t.cli("get", "clitest:k"), "hello world", "get")
    expect(t.cli("--no-raw", "get", "clitest:missing"), "(nil)", "get of a missing key")
    expect(t.cli("--raw", "incr", "clitest:ping"), "1", "--raw incr")


def cli_pipe_10000(t: Tools) -> None:
    # 10,000 SETs in RESP; redis-cli adds an ECHO of its own to find the last reply.
    commands = []
    for i in range(10000):
        key, value = f"clitest:pipe:{i}", f"value-{i}"
        commands.append(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n${len(value)}\r\n{value}\r\n")
    out = t.run("redis-cli", "--pipe", stdin="".join(commands).encode(), timeout=60)
    if not re.search(r"^errors: 0, replies: 10000$", out, re.M):
        raise CheckFailed(f"want 'errors: 0, replies: 10000' in: {out}")
    expect(t.cli("get", "clitest:pipe:9999"), "value-9999", "get clitest:pipe:9999")


def cli_resp3(t: Tools) -> None:
    out = t.cli("-3", "--no-raw", "HELLO", "3")
    for want in ('"server" => "redis"', '"proto" => (integer) 3', '"mode" => "standalone"',
                 '"modules" => (empty array)'):
        if want not in out:
            raise CheckFailed(f"no {want} in HELLO 3: {out}")
    expect(t.cli("-3", "PING"), "PONG", "-3 PING")
    expect(t.cli("-3", "SET", "clitest:r3", "v3"), "OK", "-3 SET")
    expect(t.cli("-3", "GET", "clitest:r3"), "v3", "-3 GET")
    expect(t.cli("-3", "--no-raw", "GET", "clitest:missing"), "(nil)", "-3 GET of a missing key")


def benchmark(t: Tools) -> None:
    out = t.run("redis-benchmark", "-t", "ping,set,get,incr", "-n", "20000", "-q", timeout=300)
    # -q redraws a progress line with \r; keep the final figures only.
    lines = [line for line in out.replace("\r", "\n").splitlines() if line.strip() and "rps=" not in line]
    final = "\n".join(lines)
    print("\n".join(f"      {line}" for line in lines), flush=True)
    if "error" in final.lower():
        raise CheckFailed(f"redis-benchmark reported an error: {final}")
    for test in ("PING_INLINE", "PING_MBULK", "SET", "GET", "INCR"):
        if not re.search(rf"^ *{test}: [0-9.]+ requests per second", final, re.M):
            raise CheckFailed(f"no result line for {test} in: {final}")


CHECKS = [
    ("redis-cli ping prints PONG", cli_ping),
    ("redis-cli set/get/incr", cli_set_get),
    ("redis-cli --pipe of 10000 commands", cli_pipe_10000),
    ("redis-cli -3 (RESP3) HELLO/PING/SET/GET", cli_resp3),
    ("redis-benchmark -t ping,set,get,incr -n 20000", benchmark),
]
