"""The dense side of the knowledge base: a FAISS index of language-centred vectors, derived
from the raw vectors in the store, persisted as ``vectors-<generation>.faiss``.

The store is the source of truth. The file name carries the generation of the store it was
built from, and the store's meta table points at the current file with its SHA-256 and the
language means used, all set in one transaction; so two processes saving at once can never
leave a file labelled with the wrong generation. A missing, stale or damaged file is rebuilt
from the stored vectors, without re-embedding.
"""
from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

import numpy as np

from .centering import Centering
from .errors import CorruptIndex
from .store import Store
from .vectors import VectorIndex

_FILE = re.compile(r"^vectors-(\d+)\.faiss$")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DenseIndex:
    def __init__(self, directory: Path, store: Store, dim: int) -> None:
        self.directory = directory
        self.store = store
        self.dim = dim
        self.centering = Centering({}, {})
        self._index: VectorIndex | None = None
        self._generation = -1
        self._dirty = False
        self._lock = threading.RLock()

    # --- reading --------------------------------------------------------------------------
    def current(self) -> VectorIndex:
        """The index, brought up to date with the store (reloaded if another process wrote)."""
        with self._lock:
            generation = self.store.generation
            if self._index is None or self._generation != generation:
                self._load(generation)
            return self._index

    def _load(self, generation: int) -> None:
        meta = self.store.meta_snapshot(("vectors_file", "vectors_sha256", "centering"))
        name = meta.get("vectors_file") or ""
        match = _FILE.match(name)
        path = self.directory / name
        if match and int(match.group(1)) == generation and path.exists() and meta.get("centering"):
            try:
                if _sha256(path) != meta.get("vectors_sha256"):
                    raise CorruptIndex(f"{path} does not match its checksum")
                self._index = VectorIndex.load(path, self.dim)
                self.centering = Centering.from_json(meta["centering"])
                self._generation = generation
                self._dirty = False
                return
            except (CorruptIndex, OSError):
                pass  # rebuilt below from the store, which holds every vector
        self.derive()

    def derive(self) -> None:
        """Re-centre every stored vector into a new index (no re-embedding)."""
        with self._lock:
            pids, langs, matrix, generation = self.store.vectors()
            self.centering = Centering.fit(langs, matrix)
            # build() picks the type for the whole set (approximate past EXACT_MAX); adding
            # to an empty exact index would build an exact one and then rebuild it.
            centred = self.centering.passages(matrix, langs) if len(pids) else np.zeros((0, self.dim), np.float32)
            index = VectorIndex.build(pids, centred, self.dim)
            self._index, self._generation, self._dirty = index, generation, True

    # --- this process's own changes -------------------------------------------------------
    def added(self, pids: list[int], vectors: np.ndarray, langs: list[str], before: int) -> None:
        self._apply(before, lambda index: index.add(np.asarray(pids), self.centering.passages(vectors, langs)))

    def removed(self, pids: list[int], before: int) -> None:
        self._apply(before, lambda index: index.remove(pids))

    def _apply(self, before: int, change) -> None:
        """Apply a change committed on generation ``before`` to the loaded index if it was
        current then; otherwise (another process wrote meanwhile) drop it, to reload lazily."""
        with self._lock:
            if self._index is None or self._generation != before:
                self._index, self._generation = None, -1
                return
            if self.centering.is_stale(self.store.lang_counts()):
                self.derive()
                return
            change(self._index)
            self._generation, self._dirty = before + 1, True

    # --- persistence ----------------------------------------------------------------------
    def save(self) -> None:
        """Write the index if it changed, point the store at it, and delete older files."""
        with self._lock:
            if not self._dirty or self._index is None:
                return
            path = self.directory / f"vectors-{self._generation}.faiss"
            self._index.save(path)
            self.store.point_to_vectors(path.name, self._generation, _sha256(path), self.centering.to_json())
            self._dirty = False
            keep = self.store.meta_snapshot(("vectors_file",)).get("vectors_file")
            for old in self.directory.glob("vectors-*.faiss"):
                match = _FILE.match(old.name)
                if match and old.name != keep and int(match.group(1)) < self._generation:
                    old.unlink(missing_ok=True)

    def reset(self, store: Store) -> None:
        with self._lock:
            self.store = store
            self._index, self._generation, self._dirty = None, -1, False
