"""Fresh, stale and replayed LLM answers in llmcached with redis-py.

Three patterns on top of the cached call of `llm_cache.py`:

- **Stale-while-revalidate.** Store answers with `LLMSETNX key answer EX fresh GRACE stale`.
  After `fresh` seconds an answer is stale for `stale` more seconds. `LLMGET key META` then
  answers at once with the stale value; exactly one caller gets status `stale-lead`, which
  means it holds the refresh lease: it serves the stale value now and refreshes in the
  background (its `LLMSETNX` replaces the answer). Everyone else gets status `stale`.
- **Stale on error.** If the refresh (or any fill) fails because the provider is down, the
  holder calls `LLMABORT key gen BACKOFF ms`: for ms nobody is given the lease, readers get the
  stale answer if there is one, else `-BACKOFF ...`, instead of all hammering the provider.
- **Replay for evals.** An eval suite in CI runs with `LLMGET_RO` (MODE READONLY): recorded
  answers are served, and a request that was never recorded fails loudly with `-MISS` instead
  of calling the model.

Run it as a self-test against a server: `python llm_fresh.py --host 127.0.0.1 --port 6379`.
It exits 0 when every check passes, 1 when one fails, and 77 (skipped) when the server does not
know these commands (plain Redis, or an llmcached without freshness).
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any, Callable, Optional

import redis
from redis.exceptions import ResponseError

Model = Callable[[str], str]


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _meta(reply: Any) -> dict:
    """The META reply as a dict: a map in RESP3, a flat [name, value, ...] list in RESP2."""
    if isinstance(reply, dict):
        return {_text(k): v for k, v in reply.items()}
    return {_text(reply[i]): reply[i + 1] for i in range(0, len(reply), 2)}


class FreshCache:
    """Serves answers at once, stale or not, refreshing each stale one with one model call.

    `fresh` and `stale` are seconds; `backoff_ms` is how long a failed refresh keeps anyone
    from retrying it (the stale answer is served meanwhile).
    """

    def __init__(
        self, client: redis.Redis, *, fresh: int, stale: int, backoff_ms: int = 5_000
    ) -> None:
        self.client = client
        self.fresh = fresh
        self.stale = stale
        self.backoff_ms = backoff_ms
        self.refreshers: list[threading.Thread] = []

    def get(self, key: str, model: Model, prompt: str) -> str:
        meta = _meta(self.client.execute_command("LLMGET", key, "META", "WAIT", 30_000))
        status, value = _text(meta["status"]), _text(meta["value"])
        if status in ("hit", "stale"):
            return value or ""
        gen = int(meta["gen"])
        if status == "stale-lead":
            # Serve the stale answer now; refresh it in the background.
            t = threading.Thread(target=self._fill, args=(key, gen, model, prompt, True))
            t.start()
            self.refreshers.append(t)
            return value or ""
        # `lead` / `refresh-lead`: nothing to serve, we call the model now.
        return self._fill(key, gen, model, prompt, False)

    def _fill(self, key: str, gen: int, model: Model, prompt: str, background: bool) -> str:
        try:
            answer = model(prompt)
        except Exception:
            # Stale on error: nobody retries for backoff_ms; readers keep the stale answer.
            self.client.execute_command("LLMABORT", key, gen, "BACKOFF", self.backoff_ms)
            if background:
                return ""
            raise
        self.client.execute_command(
            "LLMSETNX", key, answer, "EX", self.fresh, "GRACE", self.stale
        )
        return answer

    def join(self) -> None:
        for t in self.refreshers:
            t.join(timeout=30)
        self.refreshers.clear()


def replay(client: redis.Redis, key: str) -> str:
    """An eval run's lookup: a recorded answer, or an error. Never a model call."""
    return _text(client.execute_command("LLMGET_RO", key)) or ""


class FakeModel:
    """Answers with a version number it bumps per call, or fails while `down` is set."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = False
        self.lock = threading.Lock()
        # Cleared to hold calls until the test lets them answer.
        self.release = threading.Event()
        self.release.set()

    def __call__(self, prompt: str) -> str:
        with self.lock:
            self.calls += 1
            n = self.calls
        self.release.wait(timeout=30)
        if self.down:
            raise RuntimeError("provider unavailable (429)")
        return f"{prompt} v{n}"


def self_test(host: str, port: int) -> int:
    client = redis.Redis(host=host, port=port)
    nonce = _text(client.execute_command("TIME")[0])
    key = f"example:fresh:{nonce}"
    try:
        client.execute_command("LLMGET_RO", "example:fresh:probe")
    except ResponseError as err:
        if "unknown command" in str(err).lower():
            print(f"SKIP: the server does not know LLMGET_RO ({err})")
            return 77
        if not str(err).startswith("MISS"):
            raise

    # Fresh for an hour, then stale for another.
    model = FakeModel()
    cache = FreshCache(client, fresh=3600, stale=3600, backoff_ms=60_000)
    first = cache.get(key, model, "answer")
    assert first == "answer v1", first
    assert cache.get(key, model, "answer") == first and model.calls == 1

    # A stale answer without waiting long: one whose fresh life is a millisecond (PX 1,
    # GRACE 3600), as if it had been stored an hour ago.
    client.delete(key)
    client.execute_command("LLMSETNX", key, "old answer", "PX", 1, "GRACE", 3600)
    while _text(_meta(client.execute_command("LLMGET_RO", key, "META"))["status"]) != "stale":
        pass  # a millisecond at most
    # Several readers while the refresh runs: all are served the stale answer at once, and
    # only the first refreshes it.
    model.release.clear()
    served = [cache.get(key, model, "answer") for _ in range(5)]
    assert served == ["old answer"] * 5, served
    model.release.set()
    cache.join()
    assert model.calls == 2, f"{model.calls - 1} refreshes for one stale answer"
    assert cache.get(key, model, "answer") == "answer v2"

    # Stale on error: a failed refresh keeps serving the stale answer and stops retries.
    client.delete(key)
    client.execute_command("LLMSETNX", key, "old answer", "PX", 1, "GRACE", 3600)
    while _text(_meta(client.execute_command("LLMGET_RO", key, "META"))["status"]) != "stale":
        pass
    model.down = True
    calls = model.calls
    assert cache.get(key, model, "answer") == "old answer"
    cache.join()
    assert model.calls == calls + 1
    assert [cache.get(key, model, "answer") for _ in range(3)] == ["old answer"] * 3
    assert model.calls == calls + 1, "no retry during the backoff window"

    # Replay: recorded answers are served, an unrecorded request fails loudly.
    assert replay(client, key) == "old answer"
    try:
        replay(client, f"{key}:never-recorded")
        raise AssertionError("an unrecorded request was answered")
    except ResponseError as err:
        assert str(err).startswith("MISS"), err

    client.delete(key)
    print("ok: stale-while-revalidate, stale on error and READONLY replay")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    args = parser.parse_args()
    try:
        return self_test(args.host, args.port)
    except AssertionError as err:
        print(f"FAIL: {err}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
