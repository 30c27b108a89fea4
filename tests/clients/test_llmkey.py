"""Keys built by the server, through redis-py: the LLMLOOKUP / model / LLMSETNX loop.

An application that does not build keys itself sends the request body it is about to send to the
model API; the server answers the canonical key and the cached answer, or nil and the fill lease.
Against a server without these commands (a real redis-server) the module is skipped.
"""

import json
import uuid

import pytest
import redis

from conftest import make_client
from test_llm import reset_stats, stats


@pytest.fixture(scope="module", autouse=True)
def llmlookup_available(address):
    client = make_client(address, 3)
    try:
        client.execute_command("LLMKEY", json.dumps({"model": "m", "temperature": 0}))
    except redis.ResponseError as err:
        if "unknown command" in str(err).lower():
            pytest.skip(f"the server has no LLMKEY ({err})")
        raise
    finally:
        client.close()


def request(question, run):
    return {
        "model": "gpt-4o-mini",
        "temperature": 0,
        "messages": [
            {"role": "system", "content": f"run {run}"},
            {"role": "user", "content": question},
        ],
    }


def cached_call(client, body, model_calls):
    """What an application writes around its model call."""
    key, answer = client.execute_command("LLMLOOKUP", body, "WAIT", 10_000)
    if answer is not None:
        return answer
    model_calls.append(body)
    answer = f"answer to {json.loads(body)['messages'][-1]['content']}"
    assert client.execute_command("LLMSETNX", key, answer, "TOKENS", 40) == 1
    return answer


def test_lookup_loop_fills_each_request_once_and_counts_hits(r):
    run = uuid.uuid4().hex
    reset_stats(r)
    questions = [f"question {i}" for i in range(10)]
    calls = []
    first = [cached_call(r, json.dumps(request(q, run)), calls) for q in questions]
    assert len(calls) == 10
    # The same requests again, spelled differently: other key order, whitespace, 0.0 for 0 and
    # per-call fields. All hits.
    for q, want in zip(questions, first):
        body = request(q, run)
        body["temperature"] = 0.0
        body["user"] = "someone-else"
        body["stream"] = True
        respelled = json.dumps(dict(reversed(list(body.items()))), indent=2)
        assert cached_call(r, respelled, calls) == want
    assert len(calls) == 10, "a respelled request must hit"
    counters = stats(r)
    assert counters["misses"] == 10
    assert counters["hits"] == 10
    assert counters["sets"] == 10
    assert counters["tokens_saved"] == 400


def test_sampled_requests_are_refused_with_the_reason(r):
    body = request("q", uuid.uuid4().hex)
    body["temperature"] = 0.7
    with pytest.raises(redis.ResponseError) as err:
        r.execute_command("LLMLOOKUP", json.dumps(body))
    assert str(err.value).startswith("NOTCACHEABLE") and "SAMPLED" in str(err.value)
    key, answer = r.execute_command("LLMLOOKUP", json.dumps(body), "SAMPLED")
    assert answer is None and key.startswith("llm:v1:gpt-4o-mini:")
    assert r.execute_command("LLMABORT", key) == 1


def test_live_data_requests_are_refused_until_live_is_given(r):
    body = json.dumps({
        "model": "gpt-4.1-mini",
        "temperature": 0,
        "input": "What happened in the news today?",
        "tools": [{"type": "web_search"}],
    })
    with pytest.raises(redis.ResponseError) as err:
        r.execute_command("LLMKEY", body)
    assert str(err.value) == (
        'NOTCACHEABLE tool "web_search" searches the web (live data); pass LIVE to cache it anyway'
    )
    # SAMPLED is about sampling, not about live data.
    with pytest.raises(redis.ResponseError):
        r.execute_command("LLMKEY", body, "SAMPLED")
    assert r.execute_command("LLMKEY", body, "live").startswith("llm:v1:gpt-4.1-mini:")
    # previous_response_id names an immutable response: cacheable as it is.
    chained = json.loads(body)
    del chained["tools"]
    chained["previous_response_id"] = "resp_1"
    assert r.execute_command("LLMKEY", json.dumps(chained)).startswith("llm:v1:")


def test_format_keys_a_stream_apart_from_the_json_answer(r):
    body = json.dumps(request("q", uuid.uuid4().hex))
    plain = r.execute_command("LLMKEY", body)
    sse = r.execute_command("LLMKEY", body, "FORMAT", "sse")
    assert sse != plain and sse.startswith("llm:v1:gpt-4o-mini:")
    streamed = json.loads(body)
    streamed["stream"] = True
    assert r.execute_command("LLMKEY", json.dumps(streamed), "format", "sse") == sse
    key, answer = r.execute_command("LLMLOOKUP", body, "FORMAT", "sse", "WAIT", 1000)
    assert (key, answer) == (sse, None)
    assert r.execute_command("LLMABORT", key) == 1
    with pytest.raises(redis.ResponseError) as err:
        r.execute_command("LLMKEY", body, "FORMAT", "a b")
    assert str(err.value).startswith('invalid FORMAT name "a b"')


def test_documented_equivalent_forms_share_a_key_and_exact_integers_do_not(r):
    run = uuid.uuid4().hex
    body = request("q", run)
    blocks = request("q", run)
    blocks["messages"][1]["content"] = [{"type": "text", "text": "q"}]
    blocks["n"] = 1
    assert r.execute_command("LLMKEY", json.dumps(blocks)) == r.execute_command(
        "LLMKEY", json.dumps(body))
    seeds = [json.dumps(body)[:-1] + ', "seed": %s}' % s
             for s in ("9007199254740993", "9007199254740992")]
    assert r.execute_command("LLMKEY", seeds[0]) != r.execute_command("LLMKEY", seeds[1])
    for bad, why in ((json.dumps(body)[:-1] + ', "seed": 9007199254740993.0}', "beyond 2^53"),
                     (json.dumps(body)[:-1] + ', "temperature": 1}', "two members named")):
        with pytest.raises(redis.ResponseError) as err:
            r.execute_command("LLMKEY", bad)
        assert why in str(err.value)
