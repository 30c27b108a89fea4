"""LLM answers shaped as the seed's `cached_call` stores them, for memory benchmarks.

`cached_call` stores `json.dumps(result)` under `llmcache:v1:<sha256 hex>` with SETEX, where
`result` is `{"text", "usage": {"input", "output"}, "model", "stop_reason"}`. The text is prose
made by a word-trigram chain over the English of Python's own reference documentation
(`pydoc_data.topics`, shipped with every CPython): every answer is new text with the word
statistics of real technical prose, and the same seed gives the same answers on any machine
with the same Python minor version.

    python3 scripts/lib/answers.py COUNT [SIZE]   prints COUNT answers, one per line
"""
import hashlib
import json
import random
import re
import sys

MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "gpt-4o-mini", "gpt-4.1"]
STOPS = ["end_turn", "end_turn", "end_turn", "max_tokens", "stop_sequence"]


def _chain():
    from pydoc_data.topics import topics

    text = " ".join(topics[k] for k in sorted(topics))
    words = re.findall(r"[A-Za-z][A-Za-z'\-]*[.,;:?!]?|\d+[.,]?", text)
    chain = {}
    for a, b, c in zip(words, words[1:], words[2:]):
        chain.setdefault((a, b), []).append(c)
    starts = [k for k in chain if k[0][:1].isupper()]
    return chain, starts


class Answers:
    def __init__(self, seed=7, size=2048):
        self.rng = random.Random(seed)
        self.size = size
        self.chain, self.starts = _chain()

    def text(self, length):
        rng, out, n = self.rng, [], 0
        key = rng.choice(self.starts)
        out.extend(key)
        n = len(key[0]) + len(key[1]) + 1
        while n < length:
            nxt = self.chain.get(key)
            if not nxt or rng.random() < 0.01:
                key = rng.choice(self.starts)
                words = list(key)
            else:
                words = [rng.choice(nxt)]
                key = (key[1], words[0])
            for w in words:
                out.append(w)
                n += len(w) + 1
        return " ".join(out)[:length]

    def answer(self, i):
        """(key, value) of answer `i`: the value is about `size` bytes of JSON."""
        rng = self.rng
        model = MODELS[i % len(MODELS)]
        out_tokens = self.size // 4 + rng.randint(-40, 40)
        head = {
            "text": "",
            "usage": {"input": rng.randint(20, 4000), "output": out_tokens},
            "model": model,
            "stop_reason": rng.choice(STOPS),
        }
        room = self.size - len(json.dumps(head))
        head["text"] = self.text(max(room, 16))
        value = json.dumps(head).encode()
        prompt = f"prompt {i} for {model}".encode()
        key = b"llmcache:v1:" + hashlib.sha256(prompt).hexdigest().encode()
        return key, value


if __name__ == "__main__":
    count = int(sys.argv[1])
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
    a = Answers(size=size)
    for i in range(count):
        k, v = a.answer(i)
        sys.stdout.write(v.decode() + "\n")
