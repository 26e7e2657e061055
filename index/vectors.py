"""The ANN part: FAISS holds vectors and their int64 passage ids, nothing else.

Two index types, chosen by the number of vectors (:meth:`VectorIndex.build`, and again by
:meth:`VectorIndex.add` when an index grows past the threshold):

- **exact** up to :data:`EXACT_MAX` vectors: every vector compared (``IndexFlatIP``).
- **approximate** above it: an inverted file (IVF) of :func:`list_count` k-means lists,
  vectors stored as float16 (half the memory, cosines within 1e-3 of exact), searched in
  :data:`PROBES` lists. Recall@10 against exact search, on real queries over real embeddings
  of this project's encoder filled up with synthetic ones drawn along them: 0.996 at 100k
  vectors (1.2 ms a query) and 0.997 at 1M (3.4 ms; exact search takes 49 ms there, 85 ms
  while other processes keep both cores busy). ``bench/run.py`` measures it;
  ``bench/realdata.py`` says how the data are made.

Removal works with both: the IVF keeps a hash table from id to list, so ``remove`` deletes
in place (0.7 ms for 20 ids at 1M; no tombstones, no rebuild). HNSW, the other candidate,
cannot remove, builds 9x slower (126 s at 1M vectors against 14 s), takes 1.8 kB a vector
against 0.8 kB, in a graph read whole on open. (Its recall on our synthetic data, 0.80 at
1M with efSearch 128, understates it: dense synthetic data are harder for HNSW than real
ones, see ``bench/scale.py``'s fidelity check; it was not the reason.)

Files are memory-mapped on :meth:`VectorIndex.load`: opening a 1M-vector index takes 40 ms
and 42 MB of private memory (the id table) instead of 0.6-1.2 s and 820 MB; searches page in
only the lists they probe, as shared, reclaimable page cache. A mapped index is read-only to
FAISS; the first ``add``/``remove``/``save`` copies it into memory (:meth:`materialize`).
"""
from __future__ import annotations

import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import faiss
import numpy as np

from .errors import CorruptIndex

#: Similarity given to a passage whose vector an index lacks: a lexical candidate that another
#: process committed to the store, and whose vector this snapshot (or Milvus) has not got yet.
#: Neutral, so it ranks by its lexical score alone. (A search failed on such a passage with
#: FAISS's "key not found": a review, four searching threads and a writer in one process.)
MISSING_SIMILARITY = 0.0

#: Largest index searched exactly. Exact search costs 5.1 ms per query at 100k 384-d vectors
#: (13 ms median, 21 ms p95 while other processes keep both cores busy, as an ingest does),
#: and grows linearly past the 20 ms budget (49 ms at 1M, 85 ms busy). Below 100k the
#: approximate index must scan 40% or more of its lists (:data:`PROBES` of sqrt(n)), so it
#: saves at most 4 ms a query, for a 0.3% recall loss, a training step and rebuilds on
#: growth. Measured by ``bench/run.py --full`` (faiss 1.15.1, 2 cores, k=10).
EXACT_MAX = 100_000
#: IVF lists per square root of the vector count (1,000 lists at 1M). The build is what
#: this trades against: the knowledge base rebuilds the index at every 10% growth (language
#: centering refresh), and k-means plus assignment cost O(lists): 8 s at 1M with 1,024
#: lists, 21 s with 2,048 (idle machine), which would save only 1-2 ms of the 50 ms budget.
LISTS_PER_ROOT = 1.0
#: Lists scanned per query. Recall@10 (all real queries) and median latency at 1M vectors:
#: 64 probes 0.993, 1.8 ms; 128: 0.997, 3.2 ms; 256: 0.998, 6.9 ms; 512: 0.998, 13.5 ms.
#: 128 leaves a wide margin over 0.95 at a fifteenth of the latency budget. Even on
#: structureless data (Gaussian vectors with the real embeddings' covariance, the worst
#: case, which no text collection is) 128 probes give 0.87 and 256 give 0.95 at 1M:
#: raise it if recall on a real collection ever says so.
PROBES = 128
#: Vectors sampled per list to train the k-means (faiss warns under 39): 64 x 1,000 lists
#: trains in 3 s at 1M vectors.
TRAIN_PER_LIST = 64
#: An approximate index is rebuilt (re-trained) from its own vectors when it has grown to
#: this many times the size it was trained at: its lists then hold 4x the vectors, which
#: keeps recall (same share of the data scanned) but quadruples the search time.
REBUILD_GROWTH = 4.0
#: An approximate index that shrinks below this share of :data:`EXACT_MAX` goes back to
#: exact search; the gap between the two thresholds stops an index near one of them from
#: being rebuilt back and forth.
SHRINK_SHARE = 0.5
#: OpenMP threads for one query. FAISS parallelises even a single query's exact search, and
#: on 2 cores that made it slower: at 100k vectors 7.4 ms against 4.9 ms on one thread when
#: idle, 64 ms against 13 ms while two other processes kept both cores busy (the threads
#: wait for each other). The IVF search of one query runs on one thread anyway.
SEARCH_THREADS = 1
#: ``allowed`` ids are passed to FAISS as a bitmap when their largest id is under this many
#: times their number (a bitmap costs about 1 ns per id of its span, a hash set 110 ns per
#: id: measured at 53k and 530k ids), else as a hash set.
BITMAP_SPAN = 64
#: First four bytes of an exact index file (``IndexIDMap2``): how :meth:`VectorIndex.load`
#: tells the types apart before reading, since each needs its own memory-mapping flag.
_EXACT_FOURCC = b"IxM2"
EXACT, APPROXIMATE = "exact", "approximate"


def list_count(n: int) -> int:
    """IVF lists for ``n`` vectors: :data:`LISTS_PER_ROOT` x sqrt(n), at least 1."""
    return max(1, int(round(LISTS_PER_ROOT * math.sqrt(n))))


def kind_for(n: int) -> str:
    """The index type :meth:`VectorIndex.build` picks for ``n`` vectors."""
    return EXACT if n <= EXACT_MAX else APPROXIMATE


class VectorIndex:
    """Inner-product search over unit vectors (cosine), addressed by passage id.

    ``VectorIndex(dim)`` is an empty exact index; :meth:`build` picks the type for a whole
    set of vectors, :meth:`load` opens a saved one (either type, memory-mapped).
    """

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self._index = index if index is not None else _exact(dim)
        self._mapped = False
        #: Size the approximate index was trained at (0 for exact): drives re-training.
        self._trained_at = self._index.ntotal if _is_ivf(self._index) else 0

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, dim: int | None = None, *,
              kind: str | None = None) -> "VectorIndex":
        """An index over ``vectors`` (rows, unit length) with their ``ids``, of the type
        :func:`kind_for` their number (exact up to :data:`EXACT_MAX`, else approximate)
        unless ``kind`` forces one (benchmarks do). ``dim`` is needed only when there are no
        vectors."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.asarray(ids, dtype=np.int64)
        dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else dim
        if dim is None:
            raise ValueError("VectorIndex.build needs dim when there are no vectors")
        if (kind or kind_for(len(ids))) == EXACT or not len(ids):
            index = cls(dim)
            if len(ids):
                index._index.add_with_ids(vectors, ids)  # not add(): it would switch type past EXACT_MAX
            return index
        return cls(dim, _approximate(ids, vectors))

    @property
    def kind(self) -> str:
        """``"exact"`` or ``"approximate"``."""
        return APPROXIMATE if _is_ivf(self._index) else EXACT

    @property
    def mapped(self) -> bool:
        """True while the index reads its vectors from a memory-mapped file."""
        return self._mapped

    def __len__(self) -> int:
        return self._index.ntotal

    # --- changes --------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors with their ids. Crossing :data:`EXACT_MAX`, or growing an approximate
        index :data:`REBUILD_GROWTH`-fold, rebuilds it (a few seconds at 1M vectors)."""
        if not len(ids):
            return
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        total = len(self) + len(ids)
        outgrown = kind_for(total) == APPROXIMATE if self.kind == EXACT else total > REBUILD_GROWTH * self._trained_at
        if outgrown:
            old_ids, old_vectors = self.contents()
            self._replace(VectorIndex.build(np.concatenate([old_ids, ids]), np.vstack([old_vectors, vectors]), self.dim))
            return
        self.materialize()
        self._index.add_with_ids(vectors, ids)

    def remove(self, ids: list[int] | np.ndarray) -> None:
        """Remove the vectors of ``ids`` (unknown ids are ignored)."""
        if not len(ids):
            return
        self.materialize()
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        self._index.remove_ids(ids)
        if self.kind == APPROXIMATE and len(self) < SHRINK_SHARE * EXACT_MAX:
            self._replace(VectorIndex.build(*self.contents(), self.dim))

    def _replace(self, other: "VectorIndex") -> None:
        self._index, self._mapped, self._trained_at = other._index, other._mapped, other._trained_at

    # --- reading --------------------------------------------------------------------------
    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """``(id, cosine)`` of the ``k`` nearest vectors to one query, best first; only ids in
        ``allowed`` if it is given.

        The approximate index scans :data:`PROBES` lists, more when ``allowed`` keeps a small
        share of the vectors (``PROBES / share``, up to all lists: then the search is exact
        over the allowed ids), so a filter does not starve the result."""
        if len(self) == 0 or k <= 0 or (allowed is not None and not len(allowed)):
            return []
        selector = keep_alive = None
        if allowed is not None:
            allowed = np.ascontiguousarray(allowed, dtype=np.int64)
            selector, keep_alive = _selector(allowed)
        if self.kind == APPROXIMATE:
            share = 1.0 if allowed is None else min(1.0, len(allowed) / len(self))
            probes = min(self._index.nlist, math.ceil(PROBES / max(share, 1e-9)))
            params = faiss.SearchParametersIVF(nprobe=probes, sel=selector) if selector else \
                faiss.SearchParametersIVF(nprobe=probes)
        else:
            params = faiss.SearchParameters(sel=selector) if selector else None
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        with _threads(SEARCH_THREADS):
            scores, ids = self._index.search(query, min(k, len(self)), params=params)
        del keep_alive  # the bitmap the selector reads, alive until the search is done
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def similarity(self, query: np.ndarray, ids: list[int]) -> np.ndarray:
        """Inner products of one query with the stored vectors of ``ids``, in order;
        :data:`MISSING_SIMILARITY` for an id this index lacks."""
        if not len(ids):
            return np.zeros(0, dtype=np.float32)
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        try:
            return self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64)) @ query
        except RuntimeError:  # ("key not found") some are missing: one at a time
            found = np.full(len(ids), MISSING_SIMILARITY, dtype=np.float32)
            for at, one in enumerate(ids):
                try:
                    found[at] = self._index.reconstruct(int(one)) @ query
                except RuntimeError:
                    pass
            return found

    def ids(self) -> np.ndarray:
        """Every id in the index (int64, in no particular order), without reading vectors."""
        if self.kind == EXACT:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        lists = self._index.invlists
        parts = [faiss.rev_swig_ptr(lists.get_ids(n), lists.list_size(n)).copy()
                 for n in range(self._index.nlist) if lists.list_size(n)]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def contents(self) -> tuple[np.ndarray, np.ndarray]:
        """Every id and its vector (float32; decoded from float16 for the approximate type)."""
        if self.kind == EXACT:
            ids, flat = self.ids(), faiss.downcast_index(self._index.index)
            return ids, flat.reconstruct_n(0, flat.ntotal) if len(ids) else np.zeros((0, self.dim), np.float32)
        lists = self._index.invlists
        id_parts, code_parts = [], []
        for number in range(self._index.nlist):
            size = lists.list_size(number)
            if size:
                id_parts.append(faiss.rev_swig_ptr(lists.get_ids(number), size).copy())
                code_parts.append(faiss.rev_swig_ptr(lists.get_codes(number), size * lists.code_size).copy())
        if not id_parts:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        codes = np.concatenate(code_parts).reshape(-1, lists.code_size)
        return np.concatenate(id_parts).astype(np.int64), self._index.sq.decode(codes)

    # --- files ----------------------------------------------------------------------------
    def materialize(self) -> None:
        """Copy a memory-mapped index into memory, so it can change (no-op otherwise)."""
        if not self._mapped:
            return
        if self.kind == EXACT:
            # One copy of the vectors out of the mapping and one into a new index: 0.3 s at
            # 100k passages, against 1.0 s for serialize + deserialize (two copies and a parse).
            ids, matrix = self.contents()
            owned = _exact(self.dim)
            if len(ids):
                owned.add_with_ids(matrix, ids)
            self._index = owned
        else:
            mapped = self._index.invlists
            owned = faiss.ArrayInvertedLists(mapped.nlist, mapped.code_size)
            for number in range(mapped.nlist):
                size = mapped.list_size(number)
                if size:
                    owned.add_entries(number, size, mapped.get_ids(number), mapped.get_codes(number))
            self._index.replace_invlists(owned, True)
            owned.this.disown()  # the index owns it now
        self._mapped = False

    def save(self, path: Path) -> None:
        """Write atomically: a crash mid-write leaves the previous file intact."""
        self.materialize()  # FAISS writes a mapped IVF as a reference to its source file
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, dim: int, *, mmap: bool = True) -> "VectorIndex":
        """Open a saved index of either type. With ``mmap`` (the default) the vectors stay in
        the file, paged in as searches touch them; the file may be replaced or deleted
        meanwhile (the mapping keeps the old one), but must not be rewritten in place.

        Raises:
            CorruptIndex: the file is not a FAISS index, or holds vectors of another dimension.
        """
        try:
            with open(path, "rb") as handle:
                exact = handle.read(4) == _EXACT_FOURCC
            # Older FAISS (before IO_FLAG_MMAP_IFC) reads an exact index whole instead.
            flags = (getattr(faiss, "IO_FLAG_MMAP_IFC", 0) if exact else faiss.IO_FLAG_MMAP) if mmap else 0
            index = faiss.read_index(str(path), flags)
        except RuntimeError as exc:
            raise CorruptIndex(f"{path} is not a readable FAISS index ({exc})") from exc
        if index.d != dim:
            raise CorruptIndex(f"{path} holds {index.d}-d vectors, the store {dim}-d")
        if not isinstance(index, (faiss.IndexIDMap2, faiss.IndexIVF)):
            raise CorruptIndex(f"{path} holds a FAISS {type(index).__name__}, not an index this program writes")
        loaded = cls(dim, index)
        loaded._mapped = bool(flags)
        return loaded


@contextmanager
def _threads(count: int) -> Iterator[None]:
    """Run FAISS on ``count`` OpenMP threads in this thread (OpenMP keeps the setting per
    thread, so concurrent callers do not see it), then restore the setting."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _selector(allowed: np.ndarray) -> tuple[faiss.IDSelector, np.ndarray | None]:
    """A FAISS selector for ``allowed`` ids, and the array it reads (to keep alive).

    A bitmap over ids 0..max when the ids are dense enough (passage ids are consecutive
    integers), else a hash set: building the set costs about 110 ns per id (62 ms for
    530k ids, more than the 50 ms a whole search may take at 1M passages), the bitmap about
    1 ns per id of the span (0.5 ms)."""
    top = int(allowed.max())
    if int(allowed.min()) >= 0 and top < BITMAP_SPAN * len(allowed):
        mask = np.zeros(top + 1, dtype=bool)
        mask[allowed] = True
        bits = np.packbits(mask, bitorder="little")
        return faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits)), bits
    return faiss.IDSelectorBatch(allowed), None


def _exact(dim: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _is_ivf(index: faiss.Index) -> bool:
    return isinstance(index, faiss.IndexIVF)


def _approximate(ids: np.ndarray, vectors: np.ndarray) -> faiss.Index:
    """A trained IVF (float16 vectors, inner product) holding ``vectors`` with ``ids``."""
    n, dim = vectors.shape
    lists = list_count(n)
    # Not by residual: float16 keeps the vectors themselves precisely enough, and direct codes
    # are decoded without their list's centroid (``contents``).
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, lists, faiss.ScalarQuantizer.QT_fp16,
                                          faiss.METRIC_INNER_PRODUCT, False)
    sample = np.random.default_rng(0).choice(n, min(n, TRAIN_PER_LIST * lists), replace=False)
    index.train(vectors[np.sort(sample)])
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.add_with_ids(vectors, ids)
    return index
