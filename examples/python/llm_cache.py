"""Cache LLM answers in llmcached with redis-py, calling the model once per distinct request.

How the commands fit together:

- `LLMLOOKUP request-json [WAIT ms] [SAMPLED]` turns a request body into its canonical key on the
  server and looks it up in one round trip, replying `[key, answer]`. A nil answer means this
  client now holds the fill lease for the key: it must call the model and then store the answer
  with `LLMSETNX key answer [EX s] [TOKENS n]`, or release the lease with `LLMABORT key` if the
  model failed. While another client holds the lease the server blocks the lookup and replies
  with the answer as soon as it is stored, so concurrent identical requests cost one model call.
- A wait that runs out is an error starting with `TRYAGAIN`: the lease holder is slow or gone,
  and looking up again either waits some more or takes over the lease.
- Only requests whose answer sampling cannot change (temperature 0, one choice) get a key. Others
  get an error starting with `NOTCACHEABLE`; this wrapper then calls the model uncached. Pass
  `sampled=True` (the `SAMPLED` flag) to cache one sampled answer and serve it to everyone.
- `LLMKEY request-json [SAMPLED]` only computes the key (`llm:v1:<model>:<sha256>`), and
  `LLMGET key [WAIT ms]` looks up a key computed earlier.

Run it as a self-test against a server: `python llm_cache.py --host 127.0.0.1 --port 6379`.
It exits 0 when every check passes, 1 when one fails, and 77 (skipped) when the server does not
know the LLM commands (plain Redis, for instance).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any, Callable, Optional

import redis
from redis.exceptions import ResponseError, TryAgainError

Model = Callable[[dict], str]


class LLMCache:
    """A cached, single-flight wrapper around a model call.

    `ttl` (seconds) bounds how long an answer is kept; `wait_ms` bounds how long one lookup
    waits for another client's fill before the server answers `TRYAGAIN`.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl: Optional[int] = 3600,
        wait_ms: int = 30_000,
        max_tries: int = 3,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.wait_ms = wait_ms
        self.max_tries = max_tries

    def key(self, request: dict, *, sampled: bool = False) -> str:
        """The server's canonical key for `request` (field order and spacing do not matter)."""
        args = ["LLMKEY", json.dumps(request)] + (["SAMPLED"] if sampled else [])
        return _text(self.client.execute_command(*args))

    def call(self, request: dict, model: Model, *, sampled: bool = False) -> str:
        """Returns the cached answer to `request`, calling `model` only on a miss.

        A request the server will not key (sampled, without `sampled=True`) goes to the model
        every time.
        """
        body = json.dumps(request)
        for attempt in range(1, self.max_tries + 1):
            args: list[Any] = ["LLMLOOKUP", body, "WAIT", self.wait_ms]
            if sampled:
                args.append("SAMPLED")
            try:
                key, answer = self.client.execute_command(*args)
            except TryAgainError:
                # The lease holder did not finish in time; the next lookup waits again or
                # inherits the lease if the holder is gone.
                if attempt == self.max_tries:
                    raise
                continue
            except ResponseError as err:
                if not str(err).startswith("NOTCACHEABLE"):
                    raise
                return model(request)
            if answer is not None:
                return _text(answer)
            return self._fill(_text(key), request, model)
        raise AssertionError("unreachable: the loop returns or raises")

    def _fill(self, key: str, request: dict, model: Model) -> str:
        """We hold the lease for `key`: call the model, then store or abort."""
        try:
            answer = model(request)
        except BaseException:
            # Release the lease so that waiting clients are not held until it times out.
            self.client.execute_command("LLMABORT", key)
            raise
        args: list[Any] = ["LLMSETNX", key, answer]
        if self.ttl is not None:
            args += ["EX", self.ttl]
        self.client.execute_command(*args)
        return answer


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class FakeModel:
    """Stands in for a provider: answers from the prompt and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.release.set()
        self.fail_next = False

    def __call__(self, request: dict) -> str:
        with self.lock:
            self.calls += 1
            fail, self.fail_next = self.fail_next, False
        self.release.wait(timeout=30)
        if fail:
            raise RuntimeError("provider unavailable")
        return "echo: " + request["messages"][-1]["content"]


def chat(content: str, temperature: float = 0) -> dict:
    """An OpenAI-style chat request; temperature 0 makes it cacheable."""
    return {
        "model": "fake-1",
        "temperature": temperature,
        "messages": [{"role": "user", "content": content}],
    }


def self_test(host: str, port: int) -> int:
    client = redis.Redis(host=host, port=port, decode_responses=True)
    cache = LLMCache(client, ttl=60, wait_ms=10_000)
    nonce = json.dumps(client.execute_command("TIME"))
    request = chat(f"hello {nonce}")

    try:
        key = cache.key(request)
    except ResponseError as err:
        if "unknown command" in str(err).lower():
            print(f"SKIP: the server does not know the LLM commands yet ({err})")
            return 77
        raise

    # Field order does not change the key.
    assert key.startswith("llm:v1:fake-1:"), key
    assert cache.key(dict(reversed(list(request.items())))) == key

    model = FakeModel()
    first = cache.call(request, model)
    second = cache.call(request, model)
    assert (first, second, model.calls) == (f"echo: hello {nonce}", first, 1), (first, second)
    assert _text(client.execute_command("LLMGET", key)) == first

    # Concurrent identical requests: one model call, everyone gets its answer.
    model = FakeModel()
    model.release.clear()
    burst = chat(f"burst {nonce}")
    started = threading.Barrier(5)
    answers: list[str] = []

    def worker() -> None:
        own = LLMCache(redis.Redis(host=host, port=port, decode_responses=True), wait_ms=10_000)
        started.wait()
        answers.append(own.call(burst, model))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait()
    model.release.set()
    for t in threads:
        t.join(timeout=30)
    assert len(answers) == 4 and set(answers) == {f"echo: burst {nonce}"}, answers
    assert model.calls == 1, f"{model.calls} model calls for one burst"

    # A failed model call releases the lease: the next caller fills the key.
    model = FakeModel()
    model.fail_next = True
    flaky = chat(f"flaky {nonce}")
    try:
        cache.call(flaky, model)
        raise AssertionError("the model's error was swallowed")
    except RuntimeError:
        pass
    assert cache.call(flaky, model) == f"echo: flaky {nonce}"
    assert model.calls == 2

    # A sampled request is not cached unless asked for with SAMPLED.
    model = FakeModel()
    creative = chat(f"a poem {nonce}", temperature=0.9)
    cache.call(creative, model)
    cache.call(creative, model)
    assert model.calls == 2, "a sampled request was cached without SAMPLED"
    cache.call(creative, model, sampled=True)
    cache.call(creative, model, sampled=True)
    assert model.calls == 3, "SAMPLED did not cache the sampled request"

    print("llm_cache.py: all checks passed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    args = parser.parse_args()
    try:
        return self_test(args.host, args.port)
    except AssertionError as err:
        print(f"FAILED: {err!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
