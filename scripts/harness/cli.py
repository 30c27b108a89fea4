"""`scripts/test.sh` (= `python3 scripts/testsuite.py`): plan the suites, prepare what they need,
run them in order, print the summary. The last line is `N passed, N failed, N skipped`; the exit
status is 1 if anything failed, 2 for a usage error, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from . import cargo
from .context import TARGETS, Context, Suite
from .deps import Deps, Unavailable
from .registry import SUITES
from .results import Outcome, SuiteResult
from .servers import StartFailed

Planned = tuple[Suite, "str | None"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/test.sh",
        description="Runs every test of llmcached and ends with `N passed, N failed, N skipped`.",
        epilog="Arguments after `--` go to every pytest the run starts (say `-- -k hello`). "
               "Result files and logs are kept in target/test-results/.",
    )
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    parser.add_argument("--only", action="append", default=[], metavar="SUITE",
                        help="run only these suites (repeatable, or comma-separated); a prefix "
                             "such as `integrations` selects integrations/*")
    parser.add_argument("--skip", action="append", default=[], metavar="SUITE",
                        help="leave out these suites (same matching as --only)")
    parser.add_argument("--target", action="append", choices=TARGETS, default=None,
                        help="server(s) for the client and integration suites (repeatable; "
                             "default $CLIENT_TARGETS or llmcached); redis checks the tests themselves")
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    args.pytest_args = argv[cut + 1:]
    return args


class UsageError(Exception):
    pass


def _matches(name: str, patterns: list[str]) -> bool:
    """`clients` matches clients[llmcached]; `integrations` matches integrations/node[redis]."""
    base = name.split("[", 1)[0]
    return any(name == p or base == p or base.startswith(p.rstrip("/") + "/") for p in patterns)


def _split(values: list[str]) -> list[str]:
    return [v for value in values for v in value.split(",") if v]


def plan(root: Path, args: argparse.Namespace) -> list[Planned]:
    targets = args.target or os.environ.get("CLIENT_TARGETS", "llmcached").split() or ["llmcached"]
    targets = list(dict.fromkeys(targets))
    for target in targets:
        if target not in TARGETS:
            raise UsageError(f"unknown target {target!r} (from CLIENT_TARGETS): {', '.join(TARGETS)}")
    only, skip = _split(args.only), _split(args.skip)
    planned: list[Planned] = []
    for suite in SUITES:
        if suite.only_if_file and not (root / suite.only_if_file).is_file():
            print(f"({suite.name}: not part of this run, there is no {suite.only_if_file})")
            continue
        for target in targets if suite.per_target else [None]:
            name = suite.instance_name(target)
            if (only and not _matches(name, only)) or _matches(name, skip):
                continue
            planned.append((suite, target))
    for pattern in only + skip:
        if not any(_matches(s.instance_name(t), [pattern]) for s in SUITES for t in (None, *TARGETS)):
            raise UsageError(f"no suite is called {pattern!r}: see scripts/test.sh --list")
    return planned


def list_suites(root: Path) -> None:
    for suite in SUITES:
        flags = []
        if suite.per_target:
            flags.append("per target")
        if suite.only_if_file and not (root / suite.only_if_file).is_file():
            flags.append(f"absent: no {suite.only_if_file}")
        needs = ", ".join(suite.needs)
        print(f"{suite.name:24} {suite.title}")
        print(f"{'':24} needs: {needs or '-'}{'; ' + '; '.join(flags) if flags else ''}")


def run_suite(ctx: Context, suite: Suite, target: str | None, index: int, total: int) -> SuiteResult:
    result = SuiteResult(suite.instance_name(target))
    print(f"\n==> [{index}/{total}] {result.name}: {suite.title}", flush=True)
    started = time.monotonic()
    try:
        for need in suite.needs:
            ctx.deps.need(need)
        if suite.wants_release(target) and ctx.release is None:
            raise Unavailable(ctx.release_missing)
        suite.run(ctx, result, target)
    except (Unavailable, StartFailed) as err:
        result.failed("not run", str(err))
        print(f"!! not run: {err}", flush=True)
    except Exception:  # a bug in the harness fails the suite, not the whole run
        text = traceback.format_exc()
        print(text, flush=True)
        result.failed("harness error", text.strip().splitlines()[-1])
    result.seconds = time.monotonic() - started
    print(f"--> {result.name}: {_counts(result)} ({result.seconds:.0f} s)", flush=True)
    return result


def _counts(result: SuiteResult) -> str:
    p, f, s = (result.count(o) for o in (Outcome.PASSED, Outcome.FAILED, Outcome.SKIPPED))
    return f"{p} passed, {f} failed" + (f", {s} skipped" if s else "")


def summary(results: list[SuiteResult], seconds: float) -> bool:
    print("\n==> summary")
    width = max([len(r.name) for r in results] + [5])
    print(f"  {'suite':{width}}  {'passed':>6} {'failed':>6} {'skipped':>7} {'time':>6}")
    for r in results:
        print(f"  {r.name:{width}}  {r.count(Outcome.PASSED):6} {r.count(Outcome.FAILED):6} "
              f"{r.count(Outcome.SKIPPED):7} {r.seconds:5.0f}s")
    failures = [(r.name, case) for r in results for case in r.failures]
    if failures:
        print("failed:")
        # Cases of the same name (counts from a script's closing line) are listed once.
        seen: dict[tuple[str, str], int] = {}
        details: dict[tuple[str, str], str] = {}
        for suite, case in failures:
            key = (suite, case.name)
            seen[key] = seen.get(key, 0) + 1
            details.setdefault(key, case.detail)
        for (suite, name), n in seen.items():
            detail = details[(suite, name)].strip().splitlines()
            line = f"  {suite}: {name}" + (f" (x{n})" if n > 1 else "")
            if detail:
                line += f" -- {detail[0][:120]}"
            print(line)
    totals = [sum(r.count(o) for r in results) for o in (Outcome.PASSED, Outcome.FAILED, Outcome.SKIPPED)]
    print(f"({seconds:.0f} s; results in target/test-results/)")
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped", flush=True)
    return totals[1] == 0


def main(argv: list[str] | None = None) -> int:
    # Our lines and the runners' output interleave in the order they happened, also in a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    root = Path(__file__).resolve().parents[2]
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        list_suites(root)
        return 0
    try:
        planned = plan(root, args)
    except UsageError as err:
        print(f"scripts/test.sh: {err}", file=sys.stderr)
        return 2
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or root / "target")
    ctx = Context(root=root, target_dir=target_dir, deps=Deps(root, target_dir),
                  pytest_args=args.pytest_args)
    if not any(suite.builds_release for suite, _ in planned):
        cargo.existing_release(ctx)
    started = time.monotonic()
    results: list[SuiteResult] = []
    try:
        print("==> dependencies", flush=True)
        for need in dict.fromkeys(n for suite, _ in planned for n in suite.needs):
            try:
                ctx.deps.need(need)
            except Unavailable:
                pass  # reported once now; fails each suite that needs it
        print(f"--> dependencies ready ({time.monotonic() - started:.0f} s)", flush=True)
        for index, (suite, target) in enumerate(planned, 1):
            results.append(run_suite(ctx, suite, target, index, len(planned)))
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        summary(results, time.monotonic() - started)
        return 130
    return 0 if summary(results, time.monotonic() - started) else 1
