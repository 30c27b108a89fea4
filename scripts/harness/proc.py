"""Running one command for a suite: its output streamed to ours and kept in a log, stdin closed,
and a time limit after which its whole process group is killed, so a hung runner fails its suite
instead of hanging the run.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

# The status reported for a command that ran out of time (the same as coreutils' `timeout`).
TIMED_OUT = 124


@dataclasses.dataclass
class Finished:
    status: int
    output: str
    timed_out: bool = False


def run(
    argv: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float,
    log: Path | None = None,
    echo: bool = True,
) -> Finished:
    """Runs `argv` to completion (or until `timeout` seconds pass) and returns its status and
    output (stdout and stderr, interleaved as written).

    The command gets a session of its own, so the time limit can end it together with anything
    it started; on our own interruption (Ctrl-C) it is ended the same way.
    """
    print(f"$ {' '.join(argv)}", flush=True)
    try:
        child = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as err:
        message = f"cannot run {argv[0]}: {err}"
        print(message, flush=True)
        return Finished(127, message)
    fired = threading.Event()

    def expire() -> None:
        fired.set()
        _kill_group(child)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    chunks: list[bytes] = []
    sink = open(log, "wb") if log else None
    try:
        assert child.stdout is not None
        for line in child.stdout:
            chunks.append(line)
            if echo:
                sys.stdout.buffer.write(line)
                sys.stdout.flush()
            if sink:
                sink.write(line)
        status = child.wait()
    except BaseException:
        _kill_group(child)
        child.wait()
        raise
    finally:
        timer.cancel()
        if sink:
            sink.close()
    output = b"".join(chunks).decode("utf-8", errors="replace")
    if fired.is_set():
        print(f"!! {argv[0]} ran out of time ({timeout:.0f} s) and was stopped", flush=True)
        return Finished(TIMED_OUT, output, timed_out=True)
    return Finished(status if status >= 0 else 128 - status, output)


def _kill_group(child: subprocess.Popen) -> None:
    """SIGKILL to the child's process group (its pid, as it leads its own session)."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
