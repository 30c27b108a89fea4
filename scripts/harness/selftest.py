"""The harness's own tests (the `harness` suite): reading the runners' JUnit files, the rules
that turn exit statuses into failures, the closing-line parser and suite selection. Run in
process with unittest; each test is recorded as a case.
"""

from __future__ import annotations

import tempfile
import unittest
from pathlib import Path

from . import cli, junit, redis_src, redis_tcl
from .context import Context
from .results import Outcome, SuiteResult, closing_counts

NEXTEST = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="3" failures="1" errors="0">
  <testsuite name="llmcached::it" tests="3" failures="1">
    <testcase name="commands::set_get" classname="llmcached::it" time="0.1"/>
    <testcase name="commands::broken" classname="llmcached::it" time="0.1">
      <failure type="test failure" message="thread panicked at tests/it/commands.rs:9:5">long output</failure>
    </testcase>
    <testcase name="commands::ignored" classname="llmcached::it"><skipped/></testcase>
  </testsuite>
</testsuites>"""

PYTEST = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="0" tests="2">
  <testcase classname="tests.clients.test_commands" name="test_ping[resp2]" time="0.01"/>
  <testcase classname="" name="tests.clients.test_broken"><error message="collection failure">ImportError</error></testcase>
</testsuite></testsuites>"""

NODE = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="ioredis 6" tests="1" failures="1">
    <testcase name="answers PING" time="0.1" classname="test"><failure message="'PONG' !== 'PANG'"/></testcase>
  </testsuite>
</testsuites>"""


def _write(directory: str, text: str) -> Path:
    path = Path(directory) / "results.xml"
    path.write_text(text, encoding="utf-8")
    return path


class JUnitTests(unittest.TestCase):
    def test_nextest_names_cases_by_binary_and_test(self):
        with tempfile.TemporaryDirectory() as d:
            cases = junit.read(_write(d, NEXTEST))
        self.assertEqual(cases, [
            ("llmcached::it > commands::set_get", "passed", ""),
            ("llmcached::it > commands::broken", "failed", "thread panicked at tests/it/commands.rs:9:5"),
            ("llmcached::it > commands::ignored", "skipped", ""),
        ])

    def test_pytest_error_counts_as_failed(self):
        with tempfile.TemporaryDirectory() as d:
            cases = junit.read(_write(d, PYTEST))
        self.assertEqual(cases[0], ("tests.clients.test_commands::test_ping[resp2]", "passed", ""))
        self.assertEqual(cases[1][1:], ("failed", "collection failure"))

    def test_node_cases_are_named_by_their_describe_block(self):
        with tempfile.TemporaryDirectory() as d:
            cases = junit.read(_write(d, NODE))
        self.assertEqual(cases, [("ioredis 6 > answers PING", "failed", "'PONG' !== 'PANG'")])

    def test_written_file_reads_back(self):
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "out.xml"
            junit.write(out, "deploy", [("a <b>", "passed", ""), ("c", "failed", "why\nmore"),
                                        ("d", "skipped", "no tool")])
            self.assertEqual(junit.read(out), [
                ("a <b>", "passed", ""), ("c", "failed", "why"), ("d", "skipped", "no tool")])

    def test_truncated_file_is_unreadable(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(junit.Unreadable):
                junit.read(_write(d, NEXTEST[:200]))


class ExitStatusRules(unittest.TestCase):
    def test_missing_file_is_a_failure(self):
        result = SuiteResult("s")
        result.add_junit(Path("/nonexistent/junit.xml"), "cargo nextest", 101)
        self.assertEqual([c.name for c in result.failures], ["cargo nextest wrote no results"])

    def test_non_zero_status_without_a_failed_case_is_a_failure(self):
        with tempfile.TemporaryDirectory() as d:
            path = _write(d, NEXTEST.replace("<failure", "<skipped").replace("</failure>", "</skipped>"))
            result = SuiteResult("s")
            result.add_junit(path, "cargo nextest", 101)
        self.assertEqual([c.name for c in result.failures], ["cargo nextest exited with status 101"])

    def test_a_file_without_tests_is_a_failure(self):
        with tempfile.TemporaryDirectory() as d:
            result = SuiteResult("s")
            result.add_junit(_write(d, "<testsuites/>"), "node --test", 0)
        self.assertEqual(result.count(Outcome.FAILED), 1)

    def test_pytest_exit_5_is_a_failure(self):
        result = SuiteResult("s")
        result.add_pytest(Path("/nonexistent.xml"), 5)
        self.assertEqual([c.name for c in result.failures], ["pytest collected no tests"])


class ClosingLine(unittest.TestCase):
    def test_last_summary_line_wins(self):
        out = "1 passed, 0 failed\nnoise\n  3 passed, 2 failed, 1 skipped  \ntrailer\n"
        self.assertEqual(closing_counts(out), (3, 2, 1))

    def test_no_summary_line(self):
        self.assertIsNone(closing_counts("3 passed; 0 failed\n"))


class Selection(unittest.TestCase):
    def test_prefixes_select_groups_and_targets(self):
        self.assertTrue(cli._matches("integrations/node[redis]", ["integrations"]))
        self.assertTrue(cli._matches("clients[llmcached]", ["clients"]))
        self.assertTrue(cli._matches("clients[redis]", ["clients[redis]"]))
        self.assertFalse(cli._matches("clients[redis]", ["clients[llmcached]"]))
        self.assertFalse(cli._matches("rust", ["rus"]))


RUNTEST = """Testing unit/expire
[\x1b[0;32;49mok\x1b[0m]: EXPIRE - set timeouts multiple times (2 ms)
[\x1b[0;32;49mok\x1b[0m]: Same name twice (1 ms)
[\x1b[0;31;49merr\x1b[0m]: Same name twice in tests/unit/expire.tcl
Expected '1' to equal or match '0'
[\x1b[0;31;49merr\x1b[0m]: Redis should lazy expire keys in tests/unit/expire.tcl
ERR unknown command 'debug', with args beginning with: 'set-active-expire' '0'
[\x1b[0;31;49merr\x1b[0m]: ERR unknown command 'function', with args beginning with: 'flush'
[\x1b[0;36;49mignore\x1b[0m]: All TTL in commands are propagated as absolute timestamp: repl tag
[\x1b[0;31;49mTIMEOUT\x1b[0m]: clients state report follows.
sock55d0 => (IN PROGRESS) BLPOP that never wakes
*** [err]: Same name twice in tests/unit/expire.tcl
"""


class RedisTcl(unittest.TestCase):
    def test_runtest_output_read_per_test(self):
        run = redis_tcl.parse(RUNTEST, "unit/expire")
        self.assertEqual(run.passing(), ["EXPIRE - set timeouts multiple times"])
        self.assertEqual(run.state("Same name twice"), "failed")
        self.assertEqual(run.failed["Redis should lazy expire keys"],
                         "ERR unknown command 'debug', with args beginning with: 'set-active-expire' '0'")
        self.assertEqual(run.state("never reported"), "not run")
        self.assertEqual(len(run.block_errors), 1)
        self.assertIn("All TTL in commands are propagated as absolute timestamp", run.skipped)
        self.assertEqual(run.hung, "BLPOP that never wakes")
        self.assertIn("no progress", run.stopped)

    def test_expected_failures_lines(self):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "expected.txt"
            path.write_text("# comment\n\nunit/expire | A | DEBUG\n", encoding="utf-8")
            self.assertEqual(redis_tcl.load_expected(path), {("unit/expire", "A"): "DEBUG"})
            for bad in ("unit/expire | A\n", "unit/nope | A | why\n", "unit/expire | A | \n"):
                path.write_text(bad, encoding="utf-8")
                with self.assertRaises(ValueError):
                    redis_tcl.load_expected(path)

    def test_deb_src_mirrors_only_the_debian_archive(self):
        with tempfile.TemporaryDirectory() as d:
            apt = Path(d)
            (apt / "sources.list.d").mkdir()
            (apt / "sources.list").write_text(
                "deb [signed-by=/k.gpg] http://deb.debian.org/debian bookworm main contrib\n"
                "deb https://deb.nodesource.com/node_20.x nodistro main\n")
            (apt / "sources.list.d/debian.sources").write_text(
                "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n"
                "Components: main\n\nTypes: deb deb-src\nURIs: http://deb.debian.org/debian\n"
                "Suites: bookworm-updates\nComponents: main\n")
            installed = []
            wrote = redis_src._add_deb_src(apt, apt, lambda argv: installed.append(argv))
            self.assertTrue(wrote)
            text = (apt / redis_src.OUR_SOURCES).read_text()
            self.assertIn("URIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main contrib\n"
                          "Signed-By: /k.gpg", text)
            self.assertIn("URIs: http://deb.debian.org/debian-security\nSuites: bookworm-security", text)
            self.assertNotIn("nodesource", text)
            self.assertNotIn("bookworm-updates", text)  # it has its deb-src already
            self.assertEqual(installed[0][-1], str(apt / "sources.list.d" / redis_src.OUR_SOURCES))


class _Recorder(unittest.TestResult):
    """Records each test of the run as one case of the suite."""

    def __init__(self, result: SuiteResult):
        super().__init__()
        self.suite = result

    def addSuccess(self, test):
        self.suite.passed(test.id())

    def addFailure(self, test, err):
        self._failed(test, err)

    def addError(self, test, err):
        self._failed(test, err)

    def _failed(self, test, err):
        print(self._exc_info_to_string(err, test))
        self.suite.failed(test.id(), f"{err[0].__name__}: {err[1]}")

    def addSkip(self, test, reason):
        self.suite.skipped(test.id(), reason)


def run(_ctx: Context, result: SuiteResult, _target: str | None) -> None:
    tests = unittest.defaultTestLoader.loadTestsFromName(__name__)
    recorder = _Recorder(result)
    tests.run(recorder)
    for case in result.cases:
        print(f"  {'ok  ' if case.outcome is Outcome.PASSED else case.outcome.value} {case.name}")
