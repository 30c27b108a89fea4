"""A deterministic fake embedding for the semantic-cache suites.

A text's vector is the normalised sum of one pseudo-random Gaussian vector per content word
(seeded by the word's MD5), after dropping the filler words paraphrases differ by ("what is",
"can you explain", "please", ...). So "What is RAG?" and "Can you explain RAG?" get the same vector
(distance 0), while texts about other things are nearly orthogonal (cosine distance near 1).
LangChain community embeds the prompt as serialised messages (`[{"lc": 1, "type": "constructor",
... "kwargs": {"content": ...}}]`); those structural words are filler too.
No model, no network, the same vectors on every machine.
"""

import hashlib
import random
import re

DIM = 32
FILLER = {
    "a", "about", "an", "ai", "can", "could", "define", "describe", "do", "does", "explain",
    "how", "i", "in", "is", "me", "meaning", "of", "please", "tell", "the", "to", "what",
    "whats", "you",
    # LangChain's message serialisation
    "1", "constructor", "content", "human", "humanmessage", "id", "kwargs", "langchain", "lc",
    "messages", "schema", "type",
}


def _word_vector(word: str) -> list[float]:
    seed = int(hashlib.md5(word.encode()).hexdigest()[:16], 16)
    rng = random.Random(seed)
    return [rng.gauss(0.0, 1.0) for _ in range(DIM)]


def embed(text: str) -> list[float]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    content = [w for w in words if w not in FILLER] or words or ["empty"]
    total = [0.0] * DIM
    for w in content:
        for i, x in enumerate(_word_vector(w)):
            total[i] += x
    norm = sum(x * x for x in total) ** 0.5 or 1.0
    return [x / norm for x in total]


def embed_many(texts: list[str]) -> list[list[float]]:
    return [embed(t) for t in texts]
