"""Vector search, one build against another: the same clustered vectors (see bench-semantic.py)
are loaded into an HNSW index on one server per binary, then the query kinds run in rounds that
alternate the servers (A B A B), 2000 queries per kind and round from one client, and the
medians and the last binary's ratio to the first are printed.

Usage: python3 scripts/bench-semantic-ab.py [--dim 384] [--count 100000] [--rounds 3]
       [--kinds knn,knn_tag,range] BIN_A BIN_B [...]
Kinds: knn (KNN 10), knn_tag (KNN 10 with a TAG pre-filter), range (RedisVL's range query with a
TAG filter); `knn@16` runs KNN with EF_RUNTIME 16. Servers run on 127.0.0.1 and are stopped by PID.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import redis

SPEC = importlib.util.spec_from_file_location("bench_semantic", Path(__file__).with_name("bench-semantic.py"))
bs = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bs)

QUERIES = 2000


def start(binary: str, dim: int, x, tags) -> tuple[subprocess.Popen, redis.Redis]:
    port = bs.free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--appendonly", "no",
                               "--save", "", "--maxmemory", "8gb"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        try:
            r = redis.Redis(port=port, protocol=2, socket_timeout=120)
            r.ping()
            break
        except redis.ConnectionError:
            if time.time() > deadline:
                server.terminate()
                raise
            time.sleep(0.05)
    params = ["TYPE", "FLOAT32", "DIM", dim, "DISTANCE_METRIC", "COSINE", "M", 16, "EF_CONSTRUCTION", 200]
    r.execute_command("FT.CREATE", "bench", "ON", "HASH", "PREFIX", "1", "v:", "SCHEMA",
                      "model", "TAG", "vec", "VECTOR", "HNSW", len(params), *params)
    start_at = time.perf_counter()
    for lo in range(0, len(x), 1000):
        p = r.pipeline(transaction=False)
        for i in range(lo, min(len(x), lo + 1000)):
            p.hset(f"v:{i}", mapping={"vec": x[i].tobytes(), "model": bs.TAGS[tags[i]]})
        p.execute()
    while float(r.ft("bench").info()["percent_indexed"]) < 1.0:
        time.sleep(0.05)
    print(f"# {binary}: load {len(x) / (time.perf_counter() - start_at):,.0f} docs/s, "
          f"RSS {bs.rss(server.pid) / len(x):,.0f} B/vector (all of it, over the count)", flush=True)
    return server, r


def query(r: redis.Redis, kind: str, vector: bytes, tag: str):
    if kind.startswith("knn"):
        ef = f" EF_RUNTIME {kind.split('@')[1]}" if "@" in kind else ""
        pre = f"(@model:{{{tag}}})" if kind.startswith("knn_tag") else "*"
        return r.execute_command("FT.SEARCH", "bench", f"{pre}=>[KNN 10 @vec $q{ef} AS d]", "PARAMS", 2, "q",
                                 vector, "RETURN", 1, "d", "DIALECT", 2)
    q = f"@vec:[VECTOR_RANGE $r $q]=>{{$YIELD_DISTANCE_AS: d}} @model:{{{tag}}}"
    return r.execute_command("FT.SEARCH", "bench", q, "PARAMS", 4, "q", vector, "r", 0.1, "RETURN", 1, "d",
                             "SORTBY", "d", "ASC", "LIMIT", 0, 10, "DIALECT", 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kinds", default="knn,knn_tag,range")
    ap.add_argument("bins", nargs="+")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    centres, x, tags = bs.data(args.count, args.dim, rng)
    qx, qt = bs.queries(centres, QUERIES, args.dim, rng)
    kinds = args.kinds.split(",")
    servers, conns = [], []
    try:
        for b in args.bins:
            server, r = start(b, args.dim, x, tags)
            servers.append(server)
            conns.append(r)
        qps = {(k, b): [] for k in kinds for b in range(len(conns))}
        for _ in range(args.rounds):
            for k in kinds:
                for b, r in enumerate(conns):
                    t = time.perf_counter()
                    for i in range(QUERIES):
                        query(r, k, qx[i].tobytes(), bs.TAGS[qt[i]])
                    qps[(k, b)].append(QUERIES / (time.perf_counter() - t))
        print(f"# {args.dim}-d x {args.count:,}, {args.rounds} rounds, QPS from one client: median (rounds)")
        for k in kinds:
            meds = [statistics.median(qps[(k, b)]) for b in range(len(conns))]
            cells = " | ".join(f"{Path(args.bins[b]).name} {meds[b]:,.0f} ({', '.join(f'{v:,.0f}' for v in qps[(k, b)])})"
                               for b in range(len(conns)))
            print(f"{k}: {cells} | last/first {meds[-1] / meds[0]:.2f}", flush=True)
    finally:
        for s in servers:
            s.terminate()
            s.wait(timeout=30)


if __name__ == "__main__":
    main()
