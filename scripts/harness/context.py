"""The two shapes every other module shares: a `Suite` (one registry entry) and the `Context` of
a run (paths, dependencies, the release binary, arguments for the runners).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from .deps import Deps
from .results import SuiteResult

TARGETS = ("llmcached", "redis")


@dataclasses.dataclass
class Context:
    root: Path
    target_dir: Path
    deps: Deps
    # Extra arguments for every pytest the run starts (say `-k set`).
    pytest_args: list[str]
    # The release binary the server suites run, once built (or found); `release_missing` says why
    # it is None otherwise.
    release: Path | None = None
    release_missing: str = "the release build has not run"

    @property
    def results_dir(self) -> Path:
        return self.target_dir / "test-results"

    def out_dir(self, suite: str) -> Path:
        """An empty directory for one suite's result files and logs (kept after the run)."""
        path = self.results_dir / re.sub(r"[^A-Za-z0-9_.-]+", "-", suite).strip("-")
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def env(self, **extra: str) -> dict[str, str]:
        """Our environment for a child, plus `extra`."""
        return {**os.environ, "CARGO_TERM_COLOR": "never", **extra}


# A suite's body: records its cases into the result; `target` is the server it runs against
# ("llmcached" or "redis") for per-target suites, None for the others. It may raise
# deps.Unavailable or servers.StartFailed: the harness records that as a failure of the suite.
Runner = Callable[[Context, SuiteResult, "str | None"], None]


@dataclasses.dataclass(frozen=True)
class Suite:
    """One entry of the registry."""

    name: str
    # What it runs, for the stage header and `--list`.
    title: str
    run: Runner
    # Dependencies (names known to deps.Deps) prepared before the first suite runs.
    needs: tuple[str, ...] = ()
    # Runs once per server target (--target), as `name[target]`; against llmcached it needs the
    # release binary.
    per_target: bool = False
    # Needs the release binary whatever the target (it is not run if the build failed).
    needs_release: bool = False
    # Builds the release binary that later suites use.
    builds_release: bool = False
    # Present only when this file (relative to the repository) exists: suites still being written.
    only_if_file: str | None = None

    def instance_name(self, target: str | None) -> str:
        return f"{self.name}[{target}]" if self.per_target else self.name

    def wants_release(self, target: str | None) -> bool:
        return self.needs_release or (self.per_target and target == "llmcached")
