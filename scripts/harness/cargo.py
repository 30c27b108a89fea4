"""The cargo stages: formatting, lints, the Rust tests, doctests and the release build.

The Rust tests run under cargo-nextest with the `ci` profile of .config/nextest.toml (every test
runs, none is retried, a hung one is killed), whose JUnit file gives one case per test. nextest
does not run doctests, hence `cargo test --doc` as a stage of its own. Without cargo-nextest the
tests fall back to `cargo test`, counted as one check by its exit status.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from . import proc
from .context import Context, Runner
from .results import SuiteResult

# Bounds for a cold build on a small machine; nextest's own slow-timeout ends a hung test sooner.
BUILD_TIMEOUT = 3600


def command(argv: list[str], case: str, *, hint: str = "", timeout: float = BUILD_TIMEOUT) -> Runner:
    """A suite of one check: `argv`, run at the repository root, passes when it exits 0."""

    def run(ctx: Context, result: SuiteResult, _target: str | None) -> None:
        done = proc.run(argv, cwd=ctx.root, env=ctx.env(), timeout=timeout)
        detail = f"exit status {done.status}" + (f"; {hint}" if hint else "")
        result.check(case, done.status == 0, detail)

    return run


def nextest_available(ctx: Context) -> bool:
    try:
        probe = subprocess.run(
            ["cargo", "nextest", "--version"], cwd=ctx.root, capture_output=True,
            stdin=subprocess.DEVNULL, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def rust_tests(ctx: Context, result: SuiteResult, _target: str | None) -> None:
    if not nextest_available(ctx):
        print("cargo-nextest is not installed: running cargo test, counted as one check", flush=True)
        done = proc.run(["cargo", "test", "--no-fail-fast"], cwd=ctx.root, env=ctx.env(),
                        timeout=BUILD_TIMEOUT)
        result.check("cargo test (without cargo-nextest)", done.status == 0,
                     f"exit status {done.status}")
        return
    junit = ctx.target_dir / "nextest/ci/junit.xml"
    # A stale file from an earlier run must not stand in for a run that failed to build.
    junit.unlink(missing_ok=True)
    done = proc.run(["cargo", "nextest", "run", "--profile", "ci", "--no-tests=fail"],
                    cwd=ctx.root, env=ctx.env(), timeout=BUILD_TIMEOUT)
    result.add_junit(junit, "cargo nextest", done.status)
    if junit.is_file():
        shutil.copy(junit, ctx.out_dir(result.name) / "junit.xml")


def release_build(ctx: Context, result: SuiteResult, _target: str | None) -> None:
    done = proc.run(["cargo", "build", "--release"], cwd=ctx.root, env=ctx.env(), timeout=BUILD_TIMEOUT)
    result.check("cargo build --release", done.status == 0, f"exit status {done.status}")
    if done.status == 0:
        ctx.release = ctx.target_dir / "release/llmcached"
    else:
        ctx.release = None
        ctx.release_missing = "the release build failed"


def existing_release(ctx: Context) -> None:
    """When the release stage is not selected: the binary already there ($LLMCACHED_BIN or
    target/release/llmcached), if any."""
    binary = Path(os.environ.get("LLMCACHED_BIN") or ctx.target_dir / "release/llmcached")
    if os.access(binary, os.X_OK):
        ctx.release = binary
    else:
        ctx.release = None
        ctx.release_missing = f"no llmcached binary at {binary} (run cargo build --release)"
