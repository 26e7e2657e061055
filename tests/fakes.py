"""A fast stand-in encoder for unit tests of the knowledge base's bookkeeping.

Not a model: it hashes character trigrams into a fixed-size vector, so texts that share
words get similar vectors. Tests of search quality use the real bundled model instead.
"""
from __future__ import annotations

import hashlib

import numpy as np


class HashEncoder:
    id = "test:hash-trigrams"
    dim = 64
    max_tokens = 500

    def _one(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        text = f"  {text.lower()}  "
        for i in range(len(text) - 2):
            digest = hashlib.blake2b(text[i:i + 3].encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % self.dim] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def encode_queries(self, texts):
        return np.vstack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    encode_passages = encode_queries

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 3)


class OtherHashEncoder(HashEncoder):
    id = "test:other"
