"""Streamed answers (LLMREAD / LLMAPPEND / LLMEND) through redis-py and redis-cli.

A leader streams chunks while followers read them live from offset 0; the last reply is `done`
and the stored answer is the concatenation. Run in RESP2 and RESP3, sync and asyncio. The module
is skipped against a server without LLMREAD (a real redis-server).
"""

import asyncio
import shutil
import subprocess
import threading
import uuid

import pytest
import redis
import redis.asyncio as aioredis

from conftest import SOCKET_TIMEOUT, make_client


@pytest.fixture(scope="module", autouse=True)
def stream_commands_available(address):
    client = make_client(address, 3)
    probe = f"streamtest:probe:{uuid.uuid4().hex}"
    try:
        client.execute_command("LLMREAD", probe, "WAIT", 0)
    except redis.ResponseError as err:
        if "unknown command" in str(err).lower():
            pytest.skip(f"the server has no LLMREAD ({err})")
        raise
    client.execute_command("LLMABORT", probe)
    client.close()


def read(client, key, cursor, wait=5000):
    state, cursor, data = client.execute_command("LLMREAD", key, "FROM", cursor, "WAIT", wait)
    return state, cursor, data


def until_readers(client, n):
    """Waits until n LLMREAD callers are blocked in the server (LLMSTATS readers_waiting)."""
    for _ in range(1000):
        reply = client.execute_command("LLMSTATS")
        pairs = reply.items() if isinstance(reply, dict) else zip(reply[0::2], reply[1::2])
        if dict(pairs).get("readers_waiting", 0) >= n:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"{n} readers never blocked")


def follow(client, key):
    out, cursor, calls = "", "0", 0
    while True:
        state, cursor, data = read(client, key, cursor)
        calls += 1
        if state == "reset":
            out = ""
        out += data
        if state == "done":
            return out, calls


def test_followers_receive_the_leaders_chunks_live(address, protocol, prefix):
    key = prefix + "k"
    leader = make_client(address, protocol)
    state, cursor, data = read(leader, key, "0", wait=0)
    assert (state, data) == ("lead", "") and cursor.endswith("-0")
    gen = cursor.split("-")[0]
    results = []

    def worker():
        results.append(follow(make_client(address, protocol), key))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    until_readers(leader, 3)
    chunks = [f"data: {{\"i\": {i}}}\n\n" for i in range(20)]
    for i, c in enumerate(chunks):
        assert leader.execute_command("LLMAPPEND", key, gen, c) == len("".join(chunks[: i + 1]))
    assert leader.execute_command("LLMEND", key, gen, "EX", 60) == 1
    for t in threads:
        t.join(timeout=SOCKET_TIMEOUT)
    whole = "".join(chunks)
    assert [r[0] for r in results] == [whole] * 3
    assert all(calls <= len(chunks) + 5 for _, calls in results), results
    assert leader.execute_command("LLMGET", key) == whole
    with pytest.raises(redis.ResponseError, match="no fill lease is held for this key"):
        leader.execute_command("LLMAPPEND", key, gen, "late")


def test_asyncio_followers_and_abort_reset(address, protocol, prefix):
    key = prefix + "a"
    host, port = address

    async def main():
        leader = aioredis.Redis(host=host, port=port, protocol=protocol, decode_responses=True)
        _, cursor, _ = await leader.execute_command("LLMREAD", key, "WAIT", 0)
        gen = cursor.split("-")[0]
        await leader.execute_command("LLMAPPEND", key, gen, "doomed ")

        async def one():
            c = aioredis.Redis(host=host, port=port, protocol=protocol, decode_responses=True)
            out, cursor, led = "", "0", None
            while True:
                state, cursor, data = await c.execute_command(
                    "LLMREAD", key, "FROM", cursor, "WAIT", 5000)
                if state == "lead":
                    led, out = cursor.split("-")[0], ""
                    await c.execute_command("LLMAPPEND", key, led, "kept")
                    await c.execute_command("LLMEND", key, led)
                    continue
                if state == "reset":
                    out = ""
                out += data
                if state == "done":
                    await c.aclose()
                    return out, led

        tasks = [asyncio.create_task(one()) for _ in range(3)]
        await asyncio.sleep(0)
        await asyncio.to_thread(until_readers, make_client(address, protocol), 3)
        assert await leader.execute_command("LLMABORT", key, gen) == 1
        got = await asyncio.gather(*tasks)
        await leader.aclose()
        return got

    got = asyncio.run(main())
    assert [out for out, _ in got] == ["kept"] * 3
    assert sum(1 for _, led in got if led) == 1, "exactly one follower was promoted"


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="no redis-cli")
def test_redis_cli_reads_a_stream(address, protocol, prefix):
    host, port = address
    key = prefix + "cli"
    c = make_client(address, protocol)
    _, cursor, _ = read(c, key, "0", wait=0)
    gen = cursor.split("-")[0]
    c.execute_command("LLMAPPEND", key, gen, "hello")
    flags = ["-3"] if protocol == 3 else []
    cli = ["redis-cli", "-h", host, "-p", str(port), *flags, "--no-raw"]
    out = subprocess.run([*cli, "LLMREAD", key, "FROM", "0", "WAIT", "1000"],
                         capture_output=True, text=True, timeout=SOCKET_TIMEOUT).stdout
    assert out.splitlines() == ['1) "data"', f'2) "{gen}-5"', '3) "hello"'], out
    c.execute_command("LLMEND", key, gen)
    out = subprocess.run([*cli, "LLMREAD", key, "FROM", f"{gen}-5", "WAIT", "1000"],
                         capture_output=True, text=True, timeout=SOCKET_TIMEOUT).stdout
    assert out.splitlines() == ['1) "done"', f'2) "{gen}-5"', '3) ""'], out
