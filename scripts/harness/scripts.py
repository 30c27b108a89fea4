"""A shell script as a suite (scripts/check-deploy.sh, scripts/fuzz-smoke.sh).

The script is told where to write a JUnit file (`JUNIT_XML`; scripts/lib/junit.sh does the
writing) and which server binary to check (`LLMCACHED_BIN`). Its result, in order of preference:
the JUnit file; else its closing `N passed, N failed[, N skipped]` line; else its exit status as
one check. A non-zero exit status with no failure counted is a failure of its own.
"""

from __future__ import annotations

from . import proc
from .context import Context, Runner
from .results import SuiteResult, closing_counts


def script(path: str, *, timeout: float) -> Runner:
    def run(ctx: Context, result: SuiteResult, _target: str | None) -> None:
        out = ctx.out_dir(result.name)
        junit = out / "junit.xml"
        extra = {"JUNIT_XML": str(junit)}
        if ctx.release:
            extra["LLMCACHED_BIN"] = str(ctx.release)
        done = proc.run(["bash", path], cwd=ctx.root, env=ctx.env(**extra), timeout=timeout,
                        log=out / "output.log")
        if junit.is_file():
            result.add_junit(junit, path, done.status)
            return
        counts = closing_counts(done.output)
        if counts is None:
            result.check(path, done.status == 0, f"exit status {done.status}")
            return
        passed, failed, skipped = counts
        for _ in range(passed):
            result.passed(path)
        for _ in range(failed):
            result.failed(f"{path}: a check (see its output)", "")
        for _ in range(skipped):
            result.skipped(path)
        if done.status != 0 and failed == 0:
            result.failed(f"{path} exited with status {done.status}", "its closing line counts no failure")

    return run
