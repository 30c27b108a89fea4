"""What a suite's run produced: one Case per test or check, and the rules that turn a runner's
exit status and result file into cases.

A runner's result file is the source of the counts; its exit status is checked against it, so a
runner that failed without saying which test failed (a build error, a crash, no tests collected)
still counts as a failure.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from pathlib import Path

from . import junit


class Outcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    outcome: Outcome
    detail: str = ""


@dataclasses.dataclass
class SuiteResult:
    """The cases of one suite, in the order they were recorded."""

    name: str
    cases: list[Case] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def add(self, name: str, outcome: Outcome, detail: str = "") -> None:
        self.cases.append(Case(name, outcome, detail))

    def passed(self, name: str) -> None:
        self.add(name, Outcome.PASSED)

    def failed(self, name: str, detail: str = "") -> None:
        self.add(name, Outcome.FAILED, detail)

    def skipped(self, name: str, detail: str = "") -> None:
        self.add(name, Outcome.SKIPPED, detail)

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        """One check decided by a boolean (usually an exit status)."""
        self.add(name, Outcome.PASSED if ok else Outcome.FAILED, "" if ok else detail)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for case in self.cases if case.outcome is outcome)

    @property
    def failures(self) -> list[Case]:
        return [case for case in self.cases if case.outcome is Outcome.FAILED]

    def add_junit(self, path: Path, runner: str, status: int, *, no_tests_ok: bool = False) -> None:
        """Adds the cases of the JUnit file `path` written by `runner`, which exited with `status`.

        Besides the file's own failures, one failed case is added when the file is missing or
        unreadable, when it holds no test at all (unless `no_tests_ok`), or when the runner
        failed although no test in the file did.
        """
        if not path.is_file():
            self.failed(f"{runner} wrote no results", f"exit status {status}, no {path}")
            return
        try:
            cases = junit.read(path)
        except junit.Unreadable as err:
            self.failed(f"{runner} wrote unreadable results", str(err))
            return
        for name, outcome, detail in cases:
            self.add(name, Outcome(outcome), detail)
        if not cases and not no_tests_ok:
            self.failed(f"{runner} ran no tests", f"exit status {status}")
        elif status != 0 and not any(outcome == "failed" for _, outcome, _ in cases):
            self.failed(f"{runner} exited with status {status}", "no failing test in its results")

    def add_pytest(self, path: Path, status: int) -> None:
        """`add_junit` for pytest, whose exit status 5 (no tests collected: a broken filter, a
        renamed directory) is a failure of the suite."""
        if status == 5:
            self.failed("pytest collected no tests", "exit status 5")
            return
        self.add_junit(path, "pytest", status)


# `N passed, N failed` or `N passed, N failed, N skipped`, alone on a line: the closing line of a
# script that keeps its own counts (and of this harness).
SUMMARY_LINE = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$")


def closing_counts(output: str) -> tuple[int, int, int] | None:
    """The counts of the last summary line of a script's output, if it printed one."""
    for line in reversed(output.splitlines()):
        match = SUMMARY_LINE.match(line.strip())
        if match:
            return int(match[1]), int(match[2]), int(match[3] or 0)
    return None
