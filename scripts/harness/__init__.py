"""The test harness behind `scripts/test.sh`: every check of the project, run in order, counted
from the runners' own result files, summed up in one closing `N passed, N failed, N skipped` line.

Layout:
    registry.py      the suites, in the order they run: the one place to add one
    cli.py           arguments, selection, the run loop, the summary
    context.py       a Suite (one registry entry) and the Context of a run
    results.py       Case / SuiteResult, and reading a suite's result back (JUnit, exit status)
    junit.py         JUnit XML -> cases (nextest, pytest, node --test), and a writer for shell checks
    proc.py          running a command: streamed output, a log, a time limit, stdin closed
    deps.py          what the suites need installed (apt packages, Python venvs, npm ci), once per run
    servers.py       the server under test (llmcached or redis-server) on a loopback port
    cargo.py         fmt, clippy, the Rust tests (cargo-nextest, JUnit), doctests, the release build
    clients.py       redis-py, redis-cli and redis-benchmark against the server
    integrations.py  third-party clients and frameworks (Python, Node) and the examples
    scripts.py       a shell script as a suite (deploy checks, fuzz smoke run)
    selftest.py      the harness's own tests

Only the standard library: the harness is what installs everything else.
"""
