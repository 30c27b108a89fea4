"""Vector search benchmark: FLAT and HNSW indexes of clustered vectors on a fresh llmcached.

For each size (dimension x count) and algorithm: load time (HSET pipelines of 1000 until every
document is indexed), resident bytes per vector (VmRSS after load minus before, over the count),
QPS and p99 latency of KNN 10, KNN 10 with a TAG pre-filter and RedisVL's range query with a TAG
filter, from one client and from eight, and recall@10 of both KNN kinds against numpy brute force.

Data: CENTRES centres on the unit sphere plus Gaussian noise of norm about --noise (0.3; per
coordinate sigma = noise / sqrt(dim)), then normalised; a TAG `model` of 10 values; queries are fresh points around random centres.
Everything runs on 127.0.0.1 against a server this script starts (and stops by PID); every
request has a timeout.

Usage: python3 scripts/bench-semantic.py [--sizes 384:20000,1536:5000] [--queries 500]
       [--algos FLAT,HNSW] [--bin target/release/llmcached]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import threading
import time

import numpy as np
import redis

CENTRES = 1000
TAGS = [f"model-{i}" for i in range(10)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


NOISE = 0.3


def data(n: int, dim: int, rng: np.random.Generator):
    centres = rng.normal(size=(CENTRES, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    which = rng.integers(0, CENTRES, size=n)
    x = centres[which] + rng.normal(scale=NOISE / dim**0.5, size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    tags = rng.integers(0, len(TAGS), size=n)
    return centres, x.astype(np.float32), tags


def queries(centres, q: int, dim: int, rng):
    which = rng.integers(0, CENTRES, size=q)
    x = centres[which] + rng.normal(scale=NOISE / dim**0.5, size=(q, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), rng.integers(0, len(TAGS), size=q)


def timed(client_count: int, work, items):
    """Runs work(conn, item) over items from `client_count` threads; (qps, p99 ms, results)."""
    lat = [0.0] * len(items)
    res = [None] * len(items)
    chunks = [list(range(i, len(items), client_count)) for i in range(client_count)]

    def run(idx):
        conn = make_conn()
        for i in idx:
            t = time.perf_counter()
            res[i] = work(conn, items[i])
            lat[i] = time.perf_counter() - t
        conn.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return len(items) / wall, float(np.percentile(lat, 99) * 1000), res


PORT = 0


def make_conn():
    return redis.Redis(port=PORT, protocol=2, socket_timeout=120)


def bench(args, dim: int, n: int, algo: str, pid: int, rng) -> dict:
    r = make_conn()
    r.flushall()
    try:
        r.execute_command("FT.DROPINDEX", "bench")
    except redis.ResponseError:
        pass
    params = ["TYPE", "FLOAT32", "DIM", dim, "DISTANCE_METRIC", "COSINE"]
    if algo == "HNSW":
        params += ["M", 16, "EF_CONSTRUCTION", 200]
    r.execute_command("FT.CREATE", "bench", "ON", "HASH", "PREFIX", "1", "v:", "SCHEMA",
                      "model", "TAG", "vec", "VECTOR", algo, len(params), *params)
    centres, x, tags = data(n, dim, rng)
    before = rss(pid)
    start = time.perf_counter()
    for lo in range(0, n, 1000):
        p = r.pipeline(transaction=False)
        for i in range(lo, min(n, lo + 1000)):
            p.hset(f"v:{i}", mapping={"vec": x[i].tobytes(), "model": TAGS[tags[i]]})
        p.execute()
    while float(r.ft("bench").info()["percent_indexed"]) < 1.0:
        time.sleep(0.05)
    load = time.perf_counter() - start
    per_vector = (rss(pid) - before) / n
    qx, qt = queries(centres, args.queries, dim, rng)
    items = list(range(args.queries))
    out = {"dim": dim, "n": n, "algo": algo, "load": n / load, "bytes": per_vector}

    def knn(conn, i):
        res = conn.execute_command("FT.SEARCH", "bench", "*=>[KNN 10 @vec $q AS d]", "PARAMS", 2, "q",
                                   qx[i].tobytes(), "RETURN", 1, "d", "DIALECT", 2)
        return [res[j] for j in range(1, len(res), 2)]

    def knn_tag(conn, i):
        res = conn.execute_command("FT.SEARCH", "bench", f"(@model:{{{TAGS[qt[i]]}}})=>[KNN 10 @vec $q AS d]",
                                   "PARAMS", 2, "q", qx[i].tobytes(), "RETURN", 1, "d", "DIALECT", 2)
        return [res[j] for j in range(1, len(res), 2)]

    def rng_tag(conn, i):
        q = ("@vec:[VECTOR_RANGE $r $q]=>{$YIELD_DISTANCE_AS: d} "
             f"@model:{{{TAGS[qt[i]]}}}")
        return conn.execute_command("FT.SEARCH", "bench", q, "PARAMS", 4, "q", qx[i].tobytes(), "r", 0.1,
                                    "RETURN", 1, "d", "SORTBY", "d", "ASC", "LIMIT", 0, 10, "DIALECT", 2)

    sims = qx @ x.T
    for name, work, tagged in (("knn", knn, False), ("knn_tag", knn_tag, True), ("range", rng_tag, None)):
        qps1, p99, res = timed(1, work, items)
        qps8, _, _ = timed(8, work, items)
        out[name] = (qps1, qps8, p99)
        if tagged is None:
            continue
        hits = 0
        for i, got in enumerate(res):
            s = sims[i].copy()
            if tagged:
                s[tags != qt[i]] = -np.inf
            want = {f"v:{j}".encode() for j in np.argsort(-s)[:10]}
            hits += len(want & set(got))
        out[name + "_recall"] = hits / (10 * len(items))
    r.close()
    return out


def main():
    global PORT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="384:20000,1536:5000")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--algos", default="FLAT,HNSW")
    ap.add_argument("--bin", default="target/release/llmcached")
    ap.add_argument("--noise", type=float, default=0.3)
    args = ap.parse_args()
    global NOISE
    NOISE = args.noise
    rng = np.random.default_rng(7)
    print(f"# {os.cpu_count()} cores; {args.queries} queries per kind; noise {NOISE}; "
          "one client (eight in brackets); a fresh server per index")
    print("| index | load docs/s | RSS B/vector | KNN 10 QPS | KNN recall@10 | KNN+TAG QPS (recall) "
          "| range+TAG QPS (p99 ms) |")
    print("|---|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        dim, n = (int(v) for v in size.split(":"))
        for algo in args.algos.split(","):
            # A fresh server per index: memory freed by the one before would be reused and
            # hide part of this one's growth.
            PORT = free_port()
            server = subprocess.Popen([args.bin, "--port", str(PORT), "--bind", "127.0.0.1", "--appendonly",
                                       "no", "--save", "", "--maxmemory", "8gb"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.time() + 30
                while True:
                    try:
                        make_conn().ping()
                        break
                    except redis.ConnectionError:
                        if time.time() > deadline:
                            raise
                        time.sleep(0.05)
                o = bench(args, dim, n, algo, server.pid, rng)
            finally:
                server.terminate()
                server.wait(timeout=30)
            k, kt, rg = o["knn"], o["knn_tag"], o["range"]
            print(f"| {algo} {dim}-d, {n // 1000}k | {o['load']:,.0f} | {o['bytes']:,.0f} "
                  f"| {k[0]:,.0f} ({k[1]:,.0f}) | {o['knn_recall']:.2f} "
                  f"| {kt[0]:,.0f} ({kt[1]:,.0f}) ({o['knn_tag_recall']:.2f}) "
                  f"| {rg[0]:,.0f} ({rg[1]:,.0f}) ({rg[2]:.2f}) |", flush=True)


if __name__ == "__main__":
    main()
