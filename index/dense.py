"""The dense side of the knowledge base: a FAISS index of language-centred vectors, derived
from the raw vectors in the store, persisted as ``vectors-<generation>.faiss``.

The store is the source of truth. The file name carries the generation of the store it was
built from, and the store's meta table points at the current file with its SHA-256 and the
language means used, all set in one transaction; so two processes saving at once can never
leave a file labelled with the wrong generation. A missing, stale or damaged file is rebuilt
from the stored vectors, without re-embedding.

Opening does not hash the whole file (0.5-1.9 s at 1M passages). A stamp beside it,
``vectors-<generation>.faiss.check``, written when the file was saved or last verified,
holds the file's SHA-256, size, mtime, inode and a hash of its header and sampled blocks;
a file whose stamp names the store's SHA-256 and whose current stat and samples match it is
trusted. Anything else (no stamp, file rewritten, copied, or bytes changed where sampled)
gets the full SHA-256, and a mismatch there means a rebuild. Damage that keeps size, mtime
and inode and misses every sample is caught by :meth:`DenseIndex.verify` (``ingest check``),
which always hashes the whole file.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path

import numpy as np

from .centering import Centering
from .errors import CorruptIndex
from .store import Store
from .vectors import VectorIndex

_FILE = re.compile(r"^vectors-(\d+)\.faiss$")
#: Suffix of the stamp file beside a vector file (see the module docstring).
STAMP_SUFFIX = ".check"
#: Bytes at the start of a vector file always hashed by the cheap check: the FAISS header
#: (type, dimension, counts, IVF centroids of a 1M index: 1,000 x 384 floats = 1.5 MB lie
#: after it, sampled like the rest).
HEAD_BYTES = 1 << 16
#: Blocks of :data:`SAMPLE_BYTES` hashed at evenly spaced offsets by the cheap check, besides
#: the head and the last block: 330 KB read of a 790 MB file (1M passages): 0.8 ms with the
#: file in the page cache, against 1.9 s for its full SHA-256 (0.5-0.8 s on an idle machine);
#: a whole open went from 2.0 s to 0.2 s (``bench/scale.py --open-check``, both cores busy).
SAMPLES = 64
SAMPLE_BYTES = 4096
#: From this many passages, :meth:`DenseIndex.save` leaves the file as it is while the
#: changes since it was written are at most :data:`DEFERRED_SHARE` of the index: the next
#: reader replays them from the store (``Store.changes_since``: reads the later passages'
#: vectors and the ids of the others from an index, never the whole table). Rewriting the
#: file is O(size): 0.1 s at 10k passages, 0.8-1.0 s at 120k, seconds at 1M
#: (bench/incremental.py), against a few ms to replay a few thousand passages; so adding one
#: article to a big base no longer costs a rewrite of everything.
DEFER_SAVES_FROM = 20_000
DEFERRED_SHARE = 0.05


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(path: Path) -> dict:
    """Size, mtime (ns), inode and a SHA-256 of the head, :data:`SAMPLES` evenly spaced blocks
    and the tail of ``path``: what the cheap open check compares (whole file if it is small)."""
    stat = os.stat(path)
    digest = hashlib.sha256(str(stat.st_size).encode())
    with open(path, "rb") as handle:
        if stat.st_size <= HEAD_BYTES + (SAMPLES + 1) * SAMPLE_BYTES:
            digest.update(handle.read())
        else:
            digest.update(handle.read(HEAD_BYTES))
            span = stat.st_size - HEAD_BYTES - SAMPLE_BYTES
            for number in range(SAMPLES + 1):  # the last sample is the tail
                handle.seek(HEAD_BYTES + span * number // SAMPLES)
                digest.update(handle.read(SAMPLE_BYTES))
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino, "sample": digest.hexdigest()}


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + STAMP_SUFFIX)


def write_stamp(path: Path, sha256: str) -> None:
    """Record that ``path``, as it is now, has the SHA-256 ``sha256`` (atomic replace)."""
    tmp = path.with_name(f"{path.name}{STAMP_SUFFIX}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"sha256": sha256, **fingerprint(path)}))
    os.replace(tmp, _stamp_path(path))


def matches(path: Path, sha256: str) -> bool:
    """Does ``path`` have the SHA-256 ``sha256``? Cheaply, by its stamp, when the stamp names
    that SHA-256 and the file's stat and samples are unchanged since; else by hashing the
    whole file (and then stamping it, so the next open is cheap)."""
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        if stamp.pop("sha256") == sha256 and stamp == fingerprint(path):
            return True
    except (OSError, ValueError, KeyError, AttributeError):
        pass  # no stamp, or an unreadable one: hash the file
    if _sha256(path) != sha256:
        return False
    try:
        write_stamp(path, sha256)
    except OSError:
        pass  # a read-only directory: the next open hashes again
    return True


class DenseIndex:
    """The FAISS backend of :class:`index.vectorstore.VectorStore`: a file per generation."""

    def __init__(self, directory: Path, store: Store, dim: int) -> None:
        self.directory = directory
        self.store = store
        self.dim = dim
        self.centering = Centering({}, {})
        self._index: VectorIndex | None = None
        self._generation = -1
        self._dirty = False
        #: Passages added or removed since the recorded file was written (see :meth:`save`).
        self._unsaved = 0
        self._lock = threading.RLock()

    @property
    def dirty(self) -> bool:
        """True while this process holds changes :meth:`save` has not written."""
        return self._dirty

    def close(self, retire: bool = False) -> None:
        """Nothing to release: the index is in this process's memory (or a mapped file), and
        a retired base's files went with its directory."""

    # --- reading --------------------------------------------------------------------------
    def current(self) -> VectorIndex:
        """The index, brought up to date with the store (reloaded if another process wrote)."""
        with self._lock:
            generation = self.store.generation
            if self._index is None or self._generation != generation:
                self._load(generation)
            return self._index

    def _load(self, generation: int) -> None:
        meta = self.store.meta_snapshot(("vectors_file", "vectors_sha256", "centering", "vectors_max_pid"))
        name = meta.get("vectors_file") or ""
        match = _FILE.match(name)
        path = self.directory / name
        saved = int(match.group(1)) if match else -1
        # An older file is caught up from the store when it records the last passage it may hold.
        usable = saved == generation or (0 <= saved < generation and (meta.get("vectors_max_pid") or "").isdigit())
        if usable and path.exists() and meta.get("centering"):
            try:
                if not matches(path, meta.get("vectors_sha256") or ""):
                    self._drop(path)
                    raise CorruptIndex(f"{path} does not match its checksum")
                index = VectorIndex.load(path, self.dim)
                centering = Centering.from_json(meta["centering"])
                if saved == generation:
                    self._index, self.centering, self._generation = index, centering, generation
                    self._dirty, self._unsaved = False, 0
                    return
                if self._catch_up(index, centering, int(meta["vectors_max_pid"])):
                    return
            except (CorruptIndex, OSError):
                pass  # rebuilt below from the store, which holds every vector
        self.derive()

    def _catch_up(self, index: VectorIndex, centering: Centering, max_pid: int) -> bool:
        """Bring a file saved before the store's latest changes up to date by replaying them
        (passages added after ``max_pid``, passages up to it that are gone); False when the
        language means moved too far since (then everything is re-centred)."""
        if centering.is_stale(self.store.lang_counts()):
            return False
        kept, pids, langs, matrix, generation = self.store.changes_since(max_pid, len(index))
        if kept is None:  # as many passages up to max_pid as the file holds: none was removed
            gone = np.zeros(0, dtype=np.int64)
        else:
            held = index.ids()
            gone = np.setdiff1d(held, kept, assume_unique=True)
            if len(held) - len(gone) != len(kept):
                return False  # the file lacks passages it should hold: not a file this store wrote
        if len(gone) or len(pids):
            index.materialize()
        if len(gone):
            index.remove(gone)
        if len(pids):
            index.add(pids, centering.passages(matrix, langs))
        self._index, self.centering, self._generation = index, centering, generation
        self._unsaved = len(gone) + len(pids)
        self._dirty = self._unsaved > 0
        return True

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
            self._unsaved = len(pids) + 1  # re-centred: the whole file must be written

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
            size = len(self._index)
            change(self._index)
            self._unsaved += abs(len(self._index) - size) or 1
            self._generation, self._dirty = before + 1, True

    # --- persistence ----------------------------------------------------------------------
    def save(self) -> None:
        """Write the index if it changed, point the store at it, and delete older files.

        From :data:`DEFER_SAVES_FROM` passages, a few changes (at most :data:`DEFERRED_SHARE`
        of the index) are not written: readers replay them from the store."""
        with self._lock:
            if not self._dirty or self._index is None:
                return
            meta = self.store.meta_snapshot(("vectors_file", "vectors_max_pid", "centering"))
            recorded = _FILE.match(meta.get("vectors_file") or "")
            exists = bool(recorded) and (self.directory / recorded.group(0)).exists()
            if exists and int(recorded.group(1)) >= self._generation:
                # Another handle saved this generation (or a newer one): rewriting its file
                # would leave the recorded checksum describing other bytes. (A recorded file
                # that is gone was damaged and dropped on load: this handle replaces it.)
                self._dirty = False
                return
            if (exists and (meta.get("vectors_max_pid") or "").isdigit()
                    and meta.get("centering") == self.centering.to_json()
                    and len(self._index) >= DEFER_SAVES_FROM
                    and self._unsaved <= DEFERRED_SHARE * len(self._index)):
                self._dirty = False  # replayed from the store by the next reader
                return
            path = self.directory / f"vectors-{self._generation}.faiss"
            ids = self._index.ids()
            self._index.save(path)
            sha256 = _sha256(path)
            write_stamp(path, sha256)
            self.store.point_to_vectors(path.name, self._generation, sha256, self.centering.to_json(),
                                        max_pid=int(ids.max()) if len(ids) else 0)
            self._dirty, self._unsaved = False, 0
            keep = self.store.meta_snapshot(("vectors_file",)).get("vectors_file")
            for old in self.directory.glob("vectors-*.faiss"):
                match = _FILE.match(old.name)
                if match and old.name != keep and int(match.group(1)) < self._generation:
                    old.unlink(missing_ok=True)
                    _stamp_path(old).unlink(missing_ok=True)

    def _drop(self, path: Path) -> None:
        """Delete a damaged vector file and unrecord it, so that a save of the same
        generation replaces it (the store refuses to record a generation twice)."""
        with self.store.transaction():
            if self.store.get_meta("vectors_file") == path.name:
                self.store.set_meta("vectors_file", "")
        _stamp_path(path).unlink(missing_ok=True)
        path.unlink(missing_ok=True)

    def verify(self) -> list[str]:
        """Problems with the recorded vector file, found by hashing all of it (the open check
        samples it); a damaged file is dropped, so the next read rebuilds it from the store."""
        with self._lock:
            meta = self.store.meta_snapshot(("vectors_file", "vectors_sha256"))
            name = meta.get("vectors_file")
            if not name or not (self.directory / name).exists():
                return []  # nothing saved yet, or deleted: rebuilt from the store when read
            path = self.directory / name
            if _sha256(path) == meta.get("vectors_sha256"):
                return []
            self._drop(path)
            if self._index is not None and not self._dirty:
                self._index, self._generation = None, -1
            return [f"the vector file {name} does not match its checksum (removed; rebuilt from the store)"]

    def reset(self, store: Store) -> None:
        with self._lock:
            self.store = store
            self._index, self._generation, self._dirty = None, -1, False
