"""LLMEMBED against client-side embeddings of the same model (sentence-transformers when the
Python running this has it, and the numpy model of the tests), alternating A B A B.

Starts a release llmcached with --embedding-model (the integration venv's all-MiniLM-L6-v2) on a
free loopback port, then per round: every text through LLMEMBED from C concurrent clients (one
text per call, as a cache client embeds a prompt), and the same texts through minilm.py on C
threads; for C in 1 and 8. Prints texts/s and p50/p99 latency per run, then medians and ratios.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests/integrations/python"))

import minilm  # noqa: E402
import redis  # noqa: E402

PROMPTS = [
    "What is the capital of France?", "How do I reverse a list in Python?",
    "Explain retrieval-augmented generation in two sentences.",
    "Write a haiku about autumn leaves falling on a quiet lake.",
    "Convert 5 miles to kilometers.", "Which sweets do not contain gelatin?",
    "Summarise the plot of Hamlet for a ten-year-old, keeping the ghost and the duel.",
    "What are the trade-offs between B-trees and LSM trees for a write-heavy workload?",
]


def texts(n):
    return [f"{PROMPTS[i % len(PROMPTS)]} (case {i})" for i in range(n)]


def run(name, items, clients, embed_one):
    lat, lock = [], threading.Lock()
    chunks = [items[i::clients] for i in range(clients)]
    start = threading.Barrier(clients + 1)

    def worker(chunk):
        f = embed_one()
        start.wait()
        for t in chunk:
            t0 = time.perf_counter()
            f(t)
            d = time.perf_counter() - t0
            with lock:
                lat.append(d)

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for th in threads:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    lat.sort()
    return {"rate": len(items) / wall, "p50": lat[len(lat) // 2] * 1000,
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--texts", type=int, default=200)
    args = ap.parse_args()
    items = texts(args.texts)
    model = minilm.model()
    data = tempfile.mkdtemp(prefix="bench-embed.")
    server = subprocess.Popen(
        [str(ROOT / "target/release/llmcached"), "--port", "0", "--appendonly", "no", "--save", "",
         "--dir", data, "--embedding-model", str(minilm.model_dir())],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={"NO_COLOR": "1"})
    try:
        port = None
        for line in server.stdout:
            if "listening on 127.0.0.1:" in line:
                port = int(line.split("listening on 127.0.0.1:")[1].split()[0])
                break
        assert port, "the server did not start"

        def remote():
            c = redis.Redis(port=port)
            return lambda t: c.execute_command("LLMEMBED", t)

        def local():
            return model.embed

        contenders = [("llmcached", remote), ("numpy", local)]
        try:
            from sentence_transformers import SentenceTransformer

            st = SentenceTransformer(str(minilm.model_dir()), device="cpu")
            contenders.append(("sentence-transformers", lambda: st.encode))
        except ImportError:
            print("sentence-transformers is not installed in this Python: left out")
        names = [n for n, _ in contenders]
        results = {}
        for r in range(args.rounds):
            for clients in (1, 8):
                for name, f in contenders:
                    res = run(name, items, clients, f)
                    results.setdefault((name, clients), []).append(res)
                    print(f"round {r + 1} {name:21} x{clients}: {res['rate']:7.1f} texts/s, "
                          f"p50 {res['p50']:6.1f} ms, p99 {res['p99']:6.1f} ms", flush=True)
        print("\nmedians")
        for clients in (1, 8):
            med = {n: {k: statistics.median(x[k] for x in results[(n, clients)])
                       for k in ("rate", "p50", "p99")} for n in names}
            ours = med["llmcached"]
            line = ", ".join(f"{n} {m['rate']:.1f} texts/s p99 {m['p99']:.1f} ms"
                             for n, m in med.items())
            ratios = ", ".join(f"{ours['rate'] / m['rate']:.2f}x {n}"
                               for n, m in med.items() if n != "llmcached")
            print(f"  x{clients}: {line}; llmcached throughput {ratios}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
