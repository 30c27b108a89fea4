"""JUnit XML, the result format the runners share: cargo-nextest, pytest (`--junitxml`) and
node's test runner (`--test-reporter=junit`) write it, and shell checks write it through this file.

Reading: every <testcase> is one case; a <failure> or <error> child makes it failed, a <skipped>
child skipped, anything else passed. A case is named by the suites around it and its class, so
names stay unique across the runners' different habits (see `_cases`).

Writing, for shell scripts (scripts/check-deploy.sh through scripts/lib/junit.sh):
    python3 scripts/harness/junit.py write OUT.xml SUITE RECORDS_DIR
where each file in RECORDS_DIR, taken in name order, is one case: its first line `passed`,
`failed` or `skipped`, its second the case's name, the rest the output to attach.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

OUTCOMES = ("passed", "failed", "skipped")

# Suite and class names that carry no information: pytest's single suite is always "pytest", and
# node's runner gives every case the class "test". A suite named like the whole file (as `write`
# names it) is left out too.
_NOISE = {"", "pytest", "test"}


class Unreadable(Exception):
    """The file is not JUnit XML we can read (missing, truncated, not XML)."""


def read(path: Path) -> list[tuple[str, str, str]]:
    """(name, outcome, detail) for every test case in the file, in document order."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        raise Unreadable(f"{path}: {err}") from err
    return list(_cases(root, [], {root.get("name", "")} | _NOISE))


def _cases(node: ET.Element, trail: list[str], noise: set[str], suite: str = ""):
    for child in node:
        if child.tag == "testsuite":
            name = child.get("name", "")
            yield from _cases(child, trail + ([name] if name not in noise else []), noise, name)
        elif child.tag == "testcase":
            yield _name(child, trail, suite), *_outcome(child)
        else:
            yield from _cases(child, trail, noise, suite)


def _name(case: ET.Element, trail: list[str], suite: str) -> str:
    # nextest (and `write`) repeat the suite as the class; pytest has one suite and puts the
    # module (and class) there.
    cls = case.get("classname", "")
    leaf = case.get("name", "?")
    if cls not in _NOISE and cls != suite:
        leaf = f"{cls}::{leaf}"
    return " > ".join(trail + [leaf])


def _outcome(case: ET.Element) -> tuple[str, str]:
    for tag, outcome in (("failure", "failed"), ("error", "failed"), ("skipped", "skipped")):
        found = case.find(tag)
        if found is not None:
            detail = found.get("message") or (found.text or "").strip()
            return outcome, detail.splitlines()[0] if detail else ""
    return "passed", ""


def write(out: Path, suite: str, cases: list[tuple[str, str, str]]) -> None:
    """Writes `cases` as (name, outcome, output) into one <testsuite> named `suite`."""
    failures = sum(1 for _, outcome, _ in cases if outcome == "failed")
    skipped = sum(1 for _, outcome, _ in cases if outcome == "skipped")
    root = ET.Element("testsuites", name=suite)
    element = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(cases)),
        failures=str(failures),
        skipped=str(skipped),
        errors="0",
    )
    for name, outcome, output in cases:
        case = ET.SubElement(element, "testcase", name=name, classname=suite)
        if outcome == "failed":
            first = output.strip().splitlines()[0] if output.strip() else "failed"
            ET.SubElement(case, "failure", message=first).text = output
        elif outcome == "skipped":
            ET.SubElement(case, "skipped", message=output.strip())
        elif output:
            ET.SubElement(case, "system-out").text = output
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)


def _records(directory: Path) -> list[tuple[str, str, str]]:
    cases = []
    for path in sorted(directory.iterdir()):
        outcome, _, rest = path.read_text(encoding="utf-8", errors="replace").partition("\n")
        name, _, output = rest.partition("\n")
        if outcome not in OUTCOMES:
            raise SystemExit(f"{path}: first line must be one of {OUTCOMES}, not {outcome!r}")
        cases.append((name, outcome, output))
    return cases


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "write":
        print("usage: junit.py write OUT.xml SUITE RECORDS_DIR", file=sys.stderr)
        return 2
    out, suite, directory = Path(argv[1]), argv[2], Path(argv[3])
    write(out, suite, _records(directory) if directory.is_dir() else [])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
