"""The `redis-tcl` suite: Redis 7.0.15's own Tcl units in external-server mode, against the
release llmcached and against a real redis-server, compared case by case.

Each unit runs on a fresh server of each target (units leave configs, scripts and keys behind
that would spill into the next one), bounded by UNIT_TIMEOUT, with
`runtest --host 127.0.0.1 --port P --durable --tags -needs:repl --single UNIT` (so the units
run in database 9, as Redis's own CI runs them, and their MOVE / SWAPDB / SELECT cases run too):
`--durable` so that an error outside an
assertion (an unknown command) fails its test instead of ending the whole run. A test that hangs
(a reply that never comes) trips runtest's own `--timeout` (PROGRESS_TIMEOUT without progress);
it is counted as failed and the unit runs again on a fresh server with a `--skipfile` naming
every test already reported, so the tests after it still run (at most RERUNS times). The two targets run
side by side, each in its own copy of the tree (runtest empties tests/tmp when it starts) and
with its own `--baseport` (runtest's test server picks its port from there). redis-server gets
`--enable-debug-command yes`, so its cases that need DEBUG pass and show up as llmcached's gaps.

runtest of Redis 7.0 writes no result file, so its output is the record: one `[ok]: NAME (N ms)`,
`[err]: NAME in tests/UNIT.tcl` (then the reason), `[skip]: NAME` or `[ignore]: NAME: why` line
per test, `[exception]: ...` when the run itself stopped.

A case is one test name of one unit that passed on Redis (a name may repeat: it passes if every
run of it passed). It passes if it passed on llmcached too, is skipped if it did not but
tests/redis-tcl/expected-failures.txt lists it with a reason, and fails otherwise. Cases that do
not pass on Redis in this mode are not cases. The table of counts per unit is printed at the end
and kept in target/test-results/redis-tcl/summary.txt; `unlisted.txt` there holds the failures
in the list's own format, their first error line as the draft reason.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import threading
import time
from pathlib import Path

from . import proc, servers
from .context import Context
from .results import SuiteResult

UNITS = (
    "unit/type/string", "unit/expire", "unit/keyspace", "unit/protocol", "unit/multi", "unit/scan",
    "unit/type/list", "unit/type/set", "unit/type/zset", "unit/type/hash", "unit/type/incr",
)
TARGETS = ("redis", "llmcached")
# Seconds for one run of a unit on one target; the slowest (zset on Redis) takes about 20 s on
# an idle 2-core machine, 40 s on a loaded one.
UNIT_TIMEOUT = 240
# Seconds runtest waits for a test to report before it gives up on the run (its `--timeout`). The
# slowest single test on Redis ("SCAN regression test for issue #4906") takes 5 s on an idle
# 2-core machine and over 30 s on a loaded one.
PROGRESS_TIMEOUT = 60
RERUNS = 3
EXPECTED = Path("tests/redis-tcl/expected-failures.txt")
# Apart, so the two runs side by side never race for the same test-server port.
BASEPORT = {"redis": 21111, "llmcached": 24111}
SEPARATOR = " | "

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LINE = re.compile(r"^\[(ok|err|skip|ignore|exception)\]: (.*)$")
_ELAPSED = re.compile(r" \(\d+ ms\)$")
# runtest's report when a test made no progress: each client's task, `sock... => (IN PROGRESS) NAME`.
_IN_PROGRESS = re.compile(r"=> \(IN PROGRESS\) (.*)$")


@dataclasses.dataclass
class UnitRun:
    """What one unit did on one target."""

    passed: dict[str, int] = dataclasses.field(default_factory=dict)
    # Test name -> its first error line.
    failed: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: set[str] = dataclasses.field(default_factory=set)
    # Errors of a whole start_server block (its remaining tests did not run), first lines.
    block_errors: list[str] = dataclasses.field(default_factory=list)
    # Why the run stopped early (an exception, the time limit, a server that did not start).
    stopped: str = ""
    # The test in progress when runtest gave up on the run (PROGRESS_TIMEOUT), if it said.
    hung: str = ""
    server_alive: bool = True
    server_tail: str = ""
    seconds: float = 0.0

    def state(self, name: str) -> str:
        if name in self.failed:
            return "failed"
        return "passed" if name in self.passed else "not run"

    def passing(self) -> list[str]:
        return [name for name in self.passed if name not in self.failed]


def parse(output: str, unit: str) -> UnitRun:
    """The runtest output of one unit (ANSI colours and all) as a UnitRun."""
    run = UnitRun()
    lines = [_ANSI.sub("", line) for line in output.splitlines()]
    suffix = f" in tests/{unit}.tcl"
    for index, line in enumerate(lines):
        if line.startswith("[TIMEOUT]:"):
            run.stopped = f"runtest saw no progress for {PROGRESS_TIMEOUT} s"
            continue
        hung = _IN_PROGRESS.search(line)
        if hung and run.stopped and not run.hung:
            run.hung = hung[1]
            continue
        match = _LINE.match(line)
        if not match:
            continue
        status, data = match[1], match[2]
        if status == "ok":
            name = _ELAPSED.sub("", data)
            run.passed[name] = run.passed.get(name, 0) + 1
        elif status == "err":
            reason = _first_text(lines[index + 1:index + 4])
            if data.endswith(suffix):
                run.failed.setdefault(data[: -len(suffix)], reason)
            else:
                run.block_errors.append(data)
        elif status == "skip":
            run.skipped.add(data)
        elif status == "ignore":
            run.skipped.add(data.split(": ", 1)[0])
        else:
            run.stopped = f"exception: {data}"
    return run


def _first_text(lines: list[str]) -> str:
    for line in lines:
        if line.strip() and not _LINE.match(line):
            return line.strip()[:200]
    return ""


def load_expected(path: Path) -> dict[tuple[str, str], str]:
    """(unit, test name) -> reason, from lines `UNIT | TEST NAME | REASON` ('#' starts a comment)."""
    expected: dict[tuple[str, str], str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(SEPARATOR)
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ValueError(f"{path}:{number}: want `unit | test name | reason`, got {line!r}")
        # The name is kept as written: a few of Redis's test names end in a space.
        unit, name, reason = parts[0].strip(), parts[1], parts[2].strip()
        if unit not in UNITS:
            raise ValueError(f"{path}:{number}: {unit!r} is not one of the units run")
        expected[(unit, name)] = reason
    return expected


def run(ctx: Context, result: SuiteResult, _target: str | None) -> None:
    tree = Path(str(ctx.deps.need("redis-tcl-tests")))
    expected = load_expected(ctx.root / EXPECTED)
    out = ctx.out_dir(result.name)
    runs: dict[str, dict[str, UnitRun]] = {}
    crashed: dict[str, BaseException] = {}

    def one_target(target: str) -> None:
        try:
            runs[target] = _run_target(ctx, tree, out, target)
        except BaseException as err:  # re-raised below, in the suite's own thread
            crashed[target] = err

    threads = [threading.Thread(target=one_target, args=(t,), name=f"redis-tcl-{t}") for t in TARGETS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for err in crashed.values():
        raise err
    _second_chance(ctx, out, runs, expected)
    _record(result, runs, expected, out)


def _unlisted(redis: UnitRun, mine: UnitRun, unit: str, expected: dict[tuple[str, str], str]) -> list[str]:
    return [name for name in redis.passing()
            if mine.state(name) != "passed" and (unit, name) not in expected]


def _second_chance(ctx: Context, out: Path, runs: dict[str, dict[str, UnitRun]],
                   expected: dict[tuple[str, str], str]) -> None:
    """Runs again, on fresh servers, each unit where a case passed on Redis and failed on
    llmcached without being listed: several cases depend on timing (two cores shared by both
    servers and the test clients), so a case counts as failing only if it fails twice."""
    copy = out / "tree-llmcached"
    for unit in UNITS:
        mine = runs["llmcached"][unit]
        if not _unlisted(runs["redis"][unit], mine, unit, expected):
            continue
        second = out / unit.replace("/", "-") / "second"
        second.mkdir(parents=True, exist_ok=True)
        again = _run_unit(ctx, copy, second, "llmcached", unit)
        for name in again.passing():
            if mine.state(name) != "passed":
                mine.failed.pop(name, None)
                mine.passed[name] = mine.passed.get(name, 0) + 1
        print(f"  llmcached {unit:18} run again: "
              f"{len(_unlisted(runs['redis'][unit], mine, unit, expected))} unlisted failures left",
              flush=True)


def _run_target(ctx: Context, tree: Path, out: Path, target: str) -> dict[str, UnitRun]:
    copy = out / f"tree-{target}"
    shutil.copytree(tree, copy, symlinks=True)
    units: dict[str, UnitRun] = {}
    for unit in UNITS:
        unit_out = out / unit.replace("/", "-")
        unit_out.mkdir(exist_ok=True)
        started = time.monotonic()
        parsed = _run_unit(ctx, copy, unit_out, target, unit)
        parsed.seconds = time.monotonic() - started
        units[unit] = parsed
        print(f"  {target:9} {unit:18} {len(parsed.passing()):4} passed {len(parsed.failed):4} failed"
              f" ({parsed.seconds:.0f} s){'  stopped: ' + parsed.stopped[:80] if parsed.stopped else ''}",
              flush=True)
    return units


def _run_unit(ctx: Context, copy: Path, unit_out: Path, target: str, unit: str) -> UnitRun:
    """One unit on fresh servers of `target`: run again past a hung test, results merged."""
    merged = UnitRun()
    skip: list[str] = []
    for attempt in range(1 + RERUNS):
        run = _run_once(ctx, copy, unit_out / f"{target}{f'.{attempt}' if attempt else ''}.out",
                        target, unit, skip)
        for name, n in run.passed.items():
            merged.passed[name] = merged.passed.get(name, 0) + n
        for name, why in run.failed.items():
            merged.failed.setdefault(name, why)
        merged.skipped |= run.skipped - set(skip)
        merged.block_errors += run.block_errors
        merged.server_alive = merged.server_alive and run.server_alive
        merged.server_tail = merged.server_tail or run.server_tail
        if not run.hung or run.hung in merged.failed or attempt == RERUNS:
            merged.stopped = run.stopped
            break
        merged.failed[run.hung] = (f"no reply for {PROGRESS_TIMEOUT} s (the unit went on "
                                   "without it, on a fresh server)")
        skip = sorted(set(merged.passed) | set(merged.failed) | merged.skipped)
    return merged


def _run_once(ctx: Context, copy: Path, log: Path, target: str, unit: str, skip: list[str]) -> UnitRun:
    try:
        # llmcached gets Redis's default eviction policy, which the units assume (a write
        # past maxmemory is refused with -OOM, nothing is evicted).
        with servers.running(target, ctx.release, log.parent,
                             redis_args=("--enable-debug-command", "yes"),
                             llmcached_args=("--maxmemory-policy", "noeviction")) as server:
            argv = ["./runtest", "--host", "127.0.0.1", "--port", str(server.port),
                    "--durable", "--tags", "-needs:repl", "--single", unit,
                    "--clients", "1", "--baseport", str(BASEPORT[target]),
                    "--timeout", str(PROGRESS_TIMEOUT)]
            if skip:
                skipfile = log.with_suffix(".skip")
                skipfile.write_text("".join(f"{name}\n" for name in skip))
                argv += ["--skipfile", str(skipfile)]
            done = proc.run(argv, cwd=copy, env=ctx.env(), timeout=UNIT_TIMEOUT, log=log, echo=False)
            parsed = parse(done.output, unit)
            if done.timed_out:
                parsed.stopped = f"ran out of time ({UNIT_TIMEOUT} s)"
            elif not (parsed.passed or parsed.failed or parsed.stopped or skip):
                parsed.stopped = f"runtest exited {done.status} with no test run"
            parsed.server_alive = server.alive()
            if not parsed.server_alive:
                parsed.server_tail = server.tail()
            return parsed
    except servers.StartFailed as err:
        return UnitRun(stopped=f"server did not start: {err}")


def _record(result: SuiteResult, runs: dict[str, dict[str, UnitRun]],
            expected: dict[tuple[str, str], str], out: Path) -> None:
    redis, ours = runs["redis"], runs["llmcached"]
    rows = []
    unlisted: list[str] = []
    fixed: list[str] = []
    for unit in UNITS:
        base, mine = redis[unit], ours[unit]
        if base.stopped or not base.passing():
            result.failed(f"{unit} on redis-server", base.stopped or "no case passed")
        result.check(f"{unit}: llmcached stayed up", mine.server_alive, mine.server_tail)
        listed = missing = 0
        for name in base.passing():
            case = f"{unit}: {name}"
            state = mine.state(name)
            if state == "passed":
                result.passed(case)
                if (unit, name) in expected:
                    fixed.append(f"{unit}{SEPARATOR}{name}")
            elif (unit, name) in expected:
                listed += 1
                result.skipped(case, f"expected failure: {expected[(unit, name)]}")
            else:
                missing += 1
                why = mine.failed.get(name) or mine.stopped or "not reached"
                result.failed(case, f"passes on Redis, {state} on llmcached: {why}")
                unlisted.append(f"{unit}{SEPARATOR}{name}{SEPARATOR}{why.replace(SEPARATOR, ' / ')}")
        rows.append((unit, len(base.passing()), len(base.failed), len(mine.passing()), len(mine.failed),
                     listed, missing, base.seconds, mine.seconds))
    table = _table(rows)
    print(table, flush=True)
    if fixed:
        print("listed in tests/redis-tcl/expected-failures.txt but passed on llmcached (remove them):")
        print("\n".join(f"  {line}" for line in fixed), flush=True)
    (out / "summary.txt").write_text(table + "\n")
    (out / "unlisted.txt").write_text("".join(f"{line}\n" for line in unlisted))


def _table(rows: list[tuple]) -> str:
    head = (f"  {'unit':18} {'redis':>11} {'llmcached':>11} {'redis-only':>10} {'listed':>6} "
            f"{'unlisted':>8} {'time':>9}")
    lines = ["==> redis-tcl: cases passed/failed per unit (redis-only: pass on Redis, not on llmcached)",
             head]
    totals = [0] * 7
    for unit, rp, rf, mp, mf, listed, missing, rs, ms in rows:
        only = listed + missing
        for i, value in enumerate((rp, rf, mp, mf, only, listed, missing)):
            totals[i] += value
        lines.append(f"  {unit:18} {rp:5}/{rf:<5} {mp:5}/{mf:<5} {only:10} {listed:6} {missing:8} "
                     f"{rs:3.0f}s/{ms:3.0f}s")
    rp, rf, mp, mf, only, listed, missing = totals
    lines.append(f"  {'total':18} {rp:5}/{rf:<5} {mp:5}/{mf:<5} {only:10} {listed:6} {missing:8}")
    return "\n".join(lines)
