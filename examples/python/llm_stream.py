"""Share one streamed model call between every caller of the same request, with redis-py.

The pattern (sync `StreamCache` and asyncio `AsyncStreamCache` do the same):

- `LLMKEY request-json FORMAT sse` keys the request; FORMAT keeps streamed (SSE) answers apart
  from JSON ones of the same request.
- Loop `LLMREAD key FROM cursor WAIT ms`; the reply is `[state, cursor, data]`:
  `data` forward the bytes and read again from the new cursor; `done` forward the rest and stop;
  `lead` you hold the fill lease at the generation in the cursor (`<gen>-0`): call the model with
  stream=true, `LLMAPPEND key gen frame` each SSE frame as it arrives (and forward it), then
  `LLMEND key gen EX s`; on a model error `LLMABORT key gen`. `reset` means the attempt being read
  was abandoned: what was forwarded is void, the data restarts at offset 0.
- `-NOLEASE` on LLMAPPEND means this leader was replaced (its lease ran out): stop appending.

Here the consumer gets ("data", bytes) and ("reset", b"") events: an SSE relay forwards data and,
on reset, tells its own client to start over (or buffers until `done` if it cannot).

Run it as a self-test: `python llm_stream.py --host 127.0.0.1 --port 6379`; exit 0 passed,
1 failed, 77 skipped (the server does not know the streaming commands, as plain Redis does not).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from typing import AsyncIterator, Callable, Iterator, Optional

import redis
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

Event = tuple  # ("data", bytes) | ("reset", b"")


class StreamCache:
    """Streams a cached answer: from the cache, live from another caller's model call, or from
    this caller's own model call (which everyone else then reads live)."""

    def __init__(self, client: redis.Redis, *, ttl: int = 3600, wait_ms: int = 1000) -> None:
        self.client, self.ttl, self.wait_ms = client, ttl, wait_ms

    def key(self, request: dict) -> str:
        return _text(self.client.execute_command("LLMKEY", json.dumps(request), "FORMAT", "sse"))

    def stream(self, request: dict, model: Callable[[dict], Iterator[bytes]]) -> Iterator[Event]:
        key, cursor, forwarded = self.key(request), "0", False
        while True:
            state, cursor, data = self.client.execute_command(
                "LLMREAD", key, "FROM", cursor, "WAIT", self.wait_ms)
            state, cursor = _text(state), _text(cursor)
            if state == "lead":
                if forwarded:  # promoted after the attempt we relayed failed: start over
                    yield ("reset", b"")
                gen = cursor.split("-")[0]
                if (yield from self._lead(key, gen, request, model)):
                    return
                cursor = "0"  # replaced while leading: follow whoever leads now
                yield ("reset", b"")
                continue
            if state == "reset":
                yield ("reset", b"")
            if data:
                forwarded = True
                yield ("data", data)
            if state == "done":
                return

    def _lead(self, key: str, gen: str, request: dict, model) -> Iterator[Event]:
        try:
            for frame in model(request):
                try:
                    self.client.execute_command("LLMAPPEND", key, gen, frame)
                except ResponseError as err:
                    if str(err).startswith("NOLEASE"):
                        return False
                    raise
                yield ("data", frame)
        except BaseException:
            self.client.execute_command("LLMABORT", key, gen)
            raise
        try:
            self.client.execute_command("LLMEND", key, gen, "EX", self.ttl)
        except ResponseError as err:
            if str(err).startswith("NOLEASE"):
                return False
            raise
        return True


class AsyncStreamCache(StreamCache):
    """The same with redis.asyncio and an async model stream."""

    def __init__(self, client: aioredis.Redis, *, ttl: int = 3600, wait_ms: int = 1000) -> None:
        self.client, self.ttl, self.wait_ms = client, ttl, wait_ms

    async def stream(self, request: dict, model) -> AsyncIterator[Event]:
        key = _text(await self.client.execute_command(
            "LLMKEY", json.dumps(request), "FORMAT", "sse"))
        cursor, forwarded = "0", False
        while True:
            state, cursor, data = await self.client.execute_command(
                "LLMREAD", key, "FROM", cursor, "WAIT", self.wait_ms)
            state, cursor = _text(state), _text(cursor)
            if state == "lead":
                if forwarded:
                    yield ("reset", b"")
                gen, led = cursor.split("-")[0], True
                try:
                    async for frame in model(request):
                        try:
                            await self.client.execute_command("LLMAPPEND", key, gen, frame)
                        except ResponseError as err:
                            if not str(err).startswith("NOLEASE"):
                                raise
                            led = False
                            break
                        yield ("data", frame)
                except BaseException:
                    await self.client.execute_command("LLMABORT", key, gen)
                    raise
                if led:
                    await self.client.execute_command("LLMEND", key, gen, "EX", self.ttl)
                    return
                cursor = "0"
                yield ("reset", b"")
                continue
            if state == "reset":
                yield ("reset", b"")
            if data:
                forwarded = True
                yield ("data", data)
            if state == "done":
                return


def until_readers(client: redis.Redis, n: int) -> None:
    """Waits until `n` LLMREAD callers are blocked in the server (LLMSTATS readers_waiting)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = client.execute_command("LLMSTATS")
        if isinstance(stats, list):
            stats = dict(zip(stats[::2], stats[1::2]))
        if int(stats.get(b"readers_waiting", stats.get("readers_waiting", 0))) >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"{n} readers never blocked")


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def collect(events) -> bytes:
    """What a relay's client ends up with: data since the last reset."""
    out = bytearray()
    for kind, data in events:
        if kind == "reset":
            out.clear()
        out += data
    return bytes(out)


class FakeStreamingModel:
    """An OpenAI-style streaming model: SSE `chat.completion.chunk` frames, then `[DONE]`.
    `gate` holds it after the first frame until followers are in place; `fail_after` makes
    the next call fail after that many frames."""

    def __init__(self, words: int = 20) -> None:
        self.words, self.calls, self.fail_after = words, 0, None
        self.lock = threading.Lock()
        self.gate = threading.Event()

    def frames(self, request: dict) -> list[bytes]:
        text = request["messages"][-1]["content"]
        out = []
        for i in range(self.words):
            chunk = {"object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": {"content": f"{text}-{i} "}}]}
            out.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        return out + [b"data: [DONE]\n\n"]

    def __call__(self, request: dict) -> Iterator[bytes]:
        with self.lock:
            self.calls += 1
            fail, self.fail_after = self.fail_after, None
        for i, frame in enumerate(self.frames(request)):
            if fail is not None and i == fail:
                raise RuntimeError("provider dropped the stream")
            yield frame
            if i == 0:
                self.gate.wait(timeout=30)
            time.sleep(0.002)

    async def astream(self, request: dict) -> AsyncIterator[bytes]:
        with self.lock:
            self.calls += 1
        for i, frame in enumerate(self.frames(request)):
            yield frame
            await asyncio.sleep(0.002)


def chat(content: str) -> dict:
    return {"model": "fake-1", "temperature": 0, "stream": True,
            "messages": [{"role": "user", "content": content}]}


def run_burst(host: str, port: int, request: dict, model: FakeStreamingModel, n: int) -> list:
    results: list = [None] * n

    def worker(i: int) -> None:
        cache = StreamCache(redis.Redis(host=host, port=port), wait_ms=1000)
        try:
            results[i] = collect(cache.stream(request, model))
        except RuntimeError as err:  # the leader whose model failed
            results[i] = err

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads, results


def self_test(host: str, port: int) -> int:
    client = redis.Redis(host=host, port=port)
    try:
        client.execute_command("LLMREAD", "llm-stream-probe", "WAIT", 0)
        client.execute_command("LLMABORT", "llm-stream-probe")
    except ResponseError as err:
        if "unknown command" in str(err).lower():
            print(f"SKIP: the server does not know the streaming commands ({err})")
            return 77
        raise
    nonce = "-".join(map(str, client.execute_command("TIME")))
    cache = StreamCache(client)

    # Five concurrent callers of one streamed request: one model call, the same bytes for all.
    model = FakeStreamingModel()
    request = chat(f"burst {nonce}")
    threads, results = run_burst(host, port, request, model, 5)
    until_readers(client, 4)  # the followers wait on the leader's first frame
    model.gate.set()
    for t in threads:
        t.join(timeout=30)
    whole = b"".join(model.frames(request))
    assert results == [whole] * 5, results
    assert model.calls == 1, f"{model.calls} model calls"
    # A later caller, streaming or not, gets the stored answer at once.
    assert collect(cache.stream(request, model)) == whole and model.calls == 1
    assert client.execute_command("LLMGET", cache.key(request)) == whole

    # The leader's model fails mid-stream: the readers are reset, one of them leads the retry.
    model = FakeStreamingModel()
    model.fail_after = 5
    request = chat(f"flaky {nonce}")
    threads, results = run_burst(host, port, request, model, 4)
    until_readers(client, 3)
    model.gate.set()
    for t in threads:
        t.join(timeout=30)
    whole = b"".join(model.frames(request))
    failed = [r for r in results if isinstance(r, RuntimeError)]
    assert len(failed) == 1 and results.count(whole) == 3, results
    assert model.calls == 2, f"{model.calls} model calls"

    # asyncio: four tasks on one streamed request.
    async def main() -> None:
        amodel = FakeStreamingModel()
        areq = chat(f"async {nonce}")
        aclient = aioredis.Redis(host=host, port=port)

        async def one() -> bytes:
            out = bytearray()
            async for kind, data in AsyncStreamCache(aclient).stream(areq, amodel.astream):
                if kind == "reset":
                    out.clear()
                out += data
            return bytes(out)

        got = await asyncio.gather(*(one() for _ in range(4)))
        assert list(got) == [b"".join(amodel.frames(areq))] * 4, got
        assert amodel.calls == 1, f"{amodel.calls} model calls"
        await aclient.aclose()

    asyncio.run(main())
    print("ok: streamed answers shared live (sync, failure and retry, asyncio)")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6379)
    a = p.parse_args()
    try:
        sys.exit(self_test(a.host, a.port))
    except AssertionError as err:
        print(f"FAIL: {err}")
        sys.exit(1)
