"""The vector-store interface the knowledge base searches through, and how one is chosen.

Two backends keep the language-centred passage vectors, addressed by passage id:

- ``"faiss"`` (default): :class:`index.dense.DenseIndex`, a FAISS file in the knowledge base
  directory, loaded (memory-mapped) by each process.
- ``"milvus"``: :class:`index.milvus.MilvusIndex`, a collection in Milvus: milvus-lite in a
  local ``milvus.db`` folder of the knowledge base directory (one process at a time), or a
  Milvus server or cluster (``http://host:19530``) that every process shares.

Either way the SQLite store stays the source of truth: it holds every raw vector, and a
backend that disagrees with it (missing, stale or damaged) is re-derived from it without
re-embedding. The choice is recorded in the store's meta, so reopening uses the same one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .centering import Centering
from .errors import VectorStoreError
from .store import Store

FAISS, MILVUS = "faiss", "milvus"
BACKENDS = (FAISS, MILVUS)
#: milvus-lite's data folder in the knowledge base directory, when no URI is given.
MILVUS_LITE_FILE = "milvus.db"
#: Store meta keys of the choice (``milvus_uri`` only when one was given explicitly: the
#: default is relative to the directory, so it follows the base when it moves or is rebuilt).
META_BACKEND, META_URI = "vector_store", "milvus_uri"


class VectorView(Protocol):
    """The searchable state of a vector store (what :meth:`VectorStore.current` returns)."""

    def __len__(self) -> int: ...

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """``(pid, cosine)`` of the ``k`` nearest passages, best first; only pids in ``allowed``."""

    def similarity(self, query: np.ndarray, ids: list[int]) -> np.ndarray:
        """Cosines of ``query`` with the passages ``ids``, in that order
        (:data:`index.vectors.MISSING_SIMILARITY` for one the backend lacks)."""


class VectorStore(Protocol):
    """What :class:`index.kb.KnowledgeBase` needs of a backend.

    ``added``/``removed`` are called after the store committed the change on generation
    ``before``; a backend that missed other changes reloads or re-derives lazily.
    """

    centering: Centering

    def current(self) -> VectorView: ...

    def added(self, pids: list[int], vectors: np.ndarray, langs: list[str], before: int) -> None: ...

    def removed(self, pids: list[int], before: int) -> None: ...

    def derive(self) -> None:
        """Re-centre every stored vector into a fresh index (no re-embedding)."""

    def save(self) -> None:
        """Persist what this process changed (a no-op where changes are written at once)."""

    def verify(self) -> list[str]:
        """Problems found by a thorough check (``ingest check``); empty when sound."""

    def reset(self, store: Store) -> None: ...

    def close(self, retire: bool = False) -> None:
        """Release connections; ``retire``: a rebuild replaced this base, drop what only it used."""

    @property
    def dirty(self) -> bool:
        """True while this process holds changes :meth:`save` has not written."""


@dataclass(frozen=True)
class Choice:
    """Which backend a knowledge base uses, and where Milvus is (``None``: the local file)."""

    backend: str
    milvus_uri: str | None = None

    def uri_for(self, directory: Path) -> str:
        """The Milvus URI: the given one, or milvus-lite's folder in ``directory``."""
        return self.milvus_uri or str(Path(directory).resolve() / MILVUS_LITE_FILE)


def choose(store: Store, backend: str | None, milvus_uri: str | None) -> Choice:
    """The backend for a base: ``backend``/``milvus_uri`` if given (recorded, so a base can
    be switched: the new backend is derived from the store); else what the store records;
    else, for a base that records none, ``$KB_VECTOR_STORE`` / ``$KB_MILVUS_URI`` or FAISS.

    Raises:
        VectorStoreError: ``backend`` (or ``$KB_VECTOR_STORE``) names no known backend.
    """
    recorded, recorded_uri = store.get_meta(META_BACKEND), store.get_meta(META_URI) or None
    backend = backend or recorded or os.environ.get("KB_VECTOR_STORE") or FAISS
    if backend not in BACKENDS:
        raise VectorStoreError(f"unknown vector store {backend!r} (from the argument or $KB_VECTOR_STORE); "
                               f"choose one of {', '.join(BACKENDS)}")
    if backend == MILVUS and milvus_uri is None:
        milvus_uri = recorded_uri if recorded == MILVUS else os.environ.get("KB_MILVUS_URI") or None
    if backend != MILVUS:
        milvus_uri = None
    if recorded != backend:
        store.set_meta(META_BACKEND, backend)
    if recorded_uri != milvus_uri:
        store.set_meta(META_URI, milvus_uri or "")
    return Choice(backend, milvus_uri)


def open_vector_store(choice: Choice, directory: Path, store: Store, dim: int) -> VectorStore:
    """The backend of ``choice`` for the base in ``directory``."""
    if choice.backend == MILVUS:
        from .milvus import MilvusIndex

        return MilvusIndex(directory, store, dim, choice.uri_for(directory))
    from .dense import DenseIndex

    return DenseIndex(directory, store, dim)
