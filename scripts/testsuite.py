#!/usr/bin/env python3
"""Runs every test of llmcached: `scripts/testsuite.py --help`, or `--list` for the suites.

The harness itself is the `harness` package next to this file (see harness/__init__.py).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
