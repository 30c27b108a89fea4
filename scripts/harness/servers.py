"""The server under test, started for one suite and stopped after it: llmcached (the release
binary) or Debian's redis-server, on 127.0.0.1, persistence off, data dir in a fresh temp dir.

Readiness is the server's own line on its stdout (`listening on 127.0.0.1:PORT`, `Ready to accept
connections`), read as it is written; the whole output also goes to a log file in the suite's
result directory. Servers are stopped by their PID: TERM, then KILL after 10 s.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class StartFailed(Exception):
    """The server exited, or said nothing about being ready, before the time limit."""


class Server:
    """A running server process whose output is pumped into `log` by a thread of its own."""

    def __init__(self, target: str, argv: list[str], ready: re.Pattern[str], log: Path, env=None):
        self.target = target
        self.log = log
        self.port = 0
        self._ready = ready
        self._events: queue.Queue[re.Match[str] | None] = queue.Queue()
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        )
        self._pump = threading.Thread(target=self._copy_output, daemon=True)
        self._pump.start()

    def _copy_output(self) -> None:
        # Posts the first ready match, then None at end of output (the server exited).
        seen = False
        assert self.process.stdout is not None
        with open(self.log, "ab") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                if not seen:
                    match = self._ready.search(_ANSI.sub("", line.decode("utf-8", "replace")))
                    if match:
                        seen = True
                        self._events.put(match)
        self._events.put(None)

    def wait_ready(self) -> re.Match[str]:
        try:
            match = self._events.get(timeout=START_TIMEOUT)
        except queue.Empty:
            raise StartFailed(f"{self.target}: not ready after {START_TIMEOUT:.0f} s; {self.tail()}")
        if match is None:
            raise StartFailed(f"{self.target}: exited with status {self.process.wait()}; {self.tail()}")
        return match

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "no log"
        return "end of its log:\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                print(f"!! {self.target} (pid {self.process.pid}) ignored SIGTERM; sending SIGKILL")
                self.process.kill()
                self.process.wait()
        self._pump.join(timeout=STOP_TIMEOUT)


def free_port() -> int:
    """A TCP port that was free a moment ago (the OS picked it for a socket we then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(target: str, binary: Path | None, out_dir: Path,
            redis_args: tuple[str, ...] = (),
            llmcached_args: tuple[str, ...] = ()) -> Iterator[Server]:
    """A started `target` ("llmcached", the `binary`, or "redis") for the duration of the block;
    `redis_args` and `llmcached_args` are extra arguments for that server (say
    `--enable-debug-command yes`)."""
    data = Path(tempfile.mkdtemp(prefix=f"{target}-test."))
    log = out_dir / f"{target}.log"
    log.unlink(missing_ok=True)
    server = None
    try:
        server = (_start_llmcached(binary, data, log, llmcached_args) if target == "llmcached"
                  else _start_redis(data, log, redis_args))
        print(f"{target} listening on 127.0.0.1:{server.port} (pid {server.process.pid}, log {log})")
        yield server
    finally:
        if server:
            server.stop()
        shutil.rmtree(data, ignore_errors=True)


def _start_llmcached(binary: Path | None, data: Path, log: Path,
                     extra: tuple[str, ...] = ()) -> Server:
    if binary is None or not os.access(binary, os.X_OK):
        raise StartFailed(f"no llmcached binary at {binary} (cargo build --release)")
    argv = [str(binary), "--port", "0", "--bind", "127.0.0.1", "--appendonly", "no",
            "--save", "", "--dir", str(data), *extra]
    # NO_COLOR: the ready line is read, so keep ANSI escapes out of it.
    server = Server("llmcached", argv, re.compile(r"listening on 127\.0\.0\.1:(\d+)"), log,
                    env={**os.environ, "NO_COLOR": "1"})
    try:
        server.port = int(server.wait_ready()[1])
    except StartFailed:
        server.stop()
        raise
    return server


def _start_redis(data: Path, log: Path, extra: tuple[str, ...] = ()) -> Server:
    if not shutil.which("redis-server"):
        raise StartFailed("redis-server is not installed")
    # redis-server cannot listen on port 0 (0 disables TCP): it gets a port the OS just handed
    # out, and another one if that was taken in between.
    error = None
    for _ in range(3):
        port = free_port()
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(data), "--daemonize", "no", "--logfile", "", *extra]
        server = Server("redis", argv, re.compile("Ready to accept connections"), log)
        try:
            server.wait_ready()
        except StartFailed as err:
            server.stop()
            error = err
            continue
        server.port = port
        return server
    raise StartFailed(f"redis-server did not start in 3 attempts: {error}")
