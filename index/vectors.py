"""The ANN part: FAISS holds vectors and their int64 passage ids, nothing else."""
from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from .errors import CorruptIndex


class VectorIndex:
    """Exact inner-product search over unit vectors (cosine), addressed by passage id."""

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return self._index.ntotal

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int] | np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """``(id, cosine)`` of the ``k`` nearest vectors to one query, best first; only ids in
        ``allowed`` if it is given."""
        if len(self) == 0 or k <= 0 or (allowed is not None and not len(allowed)):
            return []
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(query, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def similarity(self, query: np.ndarray, ids: list[int]) -> np.ndarray:
        """Inner products of one query with the stored vectors of ``ids``."""
        if not ids:
            return np.zeros(0, dtype=np.float32)
        stored = np.vstack([self._index.reconstruct(int(i)) for i in ids])
        return stored @ np.asarray(query, dtype=np.float32).reshape(-1)

    def save(self, path: Path) -> None:
        """Write atomically: a crash mid-write leaves the previous file intact."""
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, dim: int) -> "VectorIndex":
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise CorruptIndex(f"{path} is not a readable FAISS index ({exc})") from exc
        if index.d != dim:
            raise CorruptIndex(f"{path} holds {index.d}-d vectors, the store {dim}-d")
        return cls(dim, index)
