"""The Milvus backend of the vector store (see :mod:`index.vectorstore`).

Milvus holds, per passage, its id, its language and its language-centred vector, in one
collection per knowledge base and derivation, named ``<prefix>_g<generation>_<token>``:
the prefix is drawn once per base and kept in the store's meta (several bases can share a
Milvus cluster), the generation is the store's when the collection was derived. The store's
meta points at the collection in use, with the generation Milvus is known to match and the
language means the vectors were centred with, all set in one transaction.

Changes go to Milvus at once, by the process that committed them to the store (upsert and
delete by passage id, so applying one twice is harmless). Every process searches the same
collection, so nothing is reloaded when another process writes. The store is the source of
truth: on open, a collection that is missing, or whose recorded generation or row count
disagrees with the store (a writer died between its commit and its Milvus call), is derived
again from the stored vectors, without re-embedding; so is one whose language means have
drifted (:meth:`Centering.is_stale`), as the FAISS backend does. A Milvus call that fails
after the store committed makes the handle forget its collection, so its next read checks
(and derives) again without a reopen.

milvus-lite (a ``.db`` URI) keeps its data in a folder that one process holds at a time;
for several processes (the app and an ingest at once), use a Milvus server.
"""
from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

import numpy as np

from .centering import Centering
from .errors import VectorStoreError
from .store import Store
from .vectors import EXACT_MAX, MISSING_SIMILARITY

#: Store meta keys (see the module docstring).
META_PREFIX, META_COLLECTION, META_GENERATION, META_CENTERING = (
    "milvus_prefix", "milvus_collection", "milvus_generation", "milvus_centering")
#: Rows per insert call when a collection is derived: a 384-d row is about 8 kB as the
#: client sends it (floats as a list), so 2,000 rows keep a request near 16 MB, a quarter
#: of Milvus's default 64 MB gRPC message limit.
INSERT_BATCH = 2000
#: Longest language tag stored (BCP 47 tags this project writes are at most 7 characters).
LANG_MAX_CHARS = 32
#: Up to :data:`index.vectors.EXACT_MAX` rows a collection is searched exactly (``FLAT``),
#: as the FAISS backend does and for the same reason; above it Milvus picks its index
#: (``AUTOINDEX``: HNSW on milvus-lite and on a standalone server).
EXACT_INDEX, APPROXIMATE_INDEX = "FLAT", "AUTOINDEX"
#: Reads see every write acknowledged before them (search after remove never returns the
#: removed passage). Milvus's default, "Bounded", may lag by a second on a cluster.
CONSISTENCY = "Strong"
#: milvus-lite searches rows not yet flushed to a segment by brute force in Python: 0.125 ms
#: per row (2.5 s a query with 20k unflushed 384-d rows, 70 ms once flushed; measured on 2
#: cores, milvus-lite 3.2.2), and flushes by itself only at 128 MB. So this backend flushes
#: a milvus-lite collection once this many rows are unflushed (at most about 60 ms added to
#: a search), on close, and after a derivation (any Milvus: seals the bulk load so it is
#: indexed). A server searches unflushed rows natively and prefers few large segments.
LITE_FLUSH_ROWS = 500

_connections: dict[str, "_Connection"] = {}  # uri -> the connection this process shares
_connections_lock = threading.Lock()


def _folder(uri: str) -> tuple[int, int] | None:
    """Identity of milvus-lite's folder (None for a server, or a folder not there yet)."""
    try:
        stat = os.stat(uri) if uri.endswith(".db") else None
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino) if stat else None


class _Connection:
    """One ``MilvusClient`` per URI and process, shared by the bases open on it; the last
    :meth:`release` closes it (and stops milvus-lite's in-process server, freeing its folder)."""

    def __init__(self, uri: str) -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:
            raise VectorStoreError("the milvus vector store needs pymilvus: pip install 'pymilvus[milvus-lite]' "
                                   "(or this project's milvus extra)") from exc
        self.uri, self.users, self.registered = uri, 0, True
        try:
            self.client = MilvusClient(uri=uri)
        except Exception as exc:  # pymilvus raises its own types, none public for this
            local = " (a milvus-lite folder is held by one process at a time: is another one using it?)" \
                if uri.endswith(".db") else ""
            raise VectorStoreError(f"cannot connect to Milvus at {uri}{local}: {exc}") from exc
        self.folder = _folder(uri)

    @classmethod
    def get(cls, uri: str) -> "_Connection":
        with _connections_lock:
            known = _connections.get(uri)
            if known is not None and known.folder != _folder(uri):
                # The folder was replaced (a rebuild swapped the base directory): the server
                # serves the old one. Stop it; its users reconnect when they re-attach.
                known._stop()
                known = None
            if known is None:
                known = _connections[uri] = cls(uri)
            known.users += 1
            return known

    def release(self) -> None:
        with _connections_lock:
            self.users -= 1
            if self.users > 0:
                return
            if self.registered:
                self._stop()

    def _stop(self) -> None:
        """Close and unregister (called with the lock held)."""
        if _connections.get(self.uri) is self:
            del _connections[self.uri]
        self.registered = False
        try:
            self.client.close()
        finally:
            if self.uri.endswith(".db"):
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.uri)


class MilvusView:
    """The searchable state: one collection, searched with the language-centred query."""

    def __init__(self, owner: "MilvusIndex", collection: str) -> None:
        self._owner = owner
        self.collection = collection

    def _call(self, method: str, *args, **kwargs):
        """``client.<method>(collection, ...)``; if it fails because another process derived
        a new collection and dropped this one, once more on the new one (its language means
        moved by under 10%, so a query centred with the old ones is still close)."""
        try:
            return getattr(self._owner._client, method)(self.collection, *args, **kwargs)
        except Exception:  # noqa: BLE001 (pymilvus's own types)
            moved = self._owner.current().collection
            if moved == self.collection:
                raise
            self.collection = moved
            return getattr(self._owner._client, method)(moved, *args, **kwargs)

    def __len__(self) -> int:
        rows = self._call("query", filter="", output_fields=["count(*)"], consistency_level=CONSISTENCY)
        return int(rows[0]["count(*)"])

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """``(pid, cosine)`` of the ``k`` nearest passages, best first; only ``allowed`` pids."""
        if k <= 0 or (allowed is not None and not len(allowed)):
            return []
        found = self._call("search", data=[np.asarray(query, dtype=np.float32).reshape(-1).tolist()], limit=k,
                           anns_field="vector", search_params={"metric_type": "IP"}, output_fields=["id"],
                           filter=_id_filter(allowed), consistency_level=CONSISTENCY)
        return [(int(hit["id"]), float(hit["distance"])) for hit in found[0]]

    def similarity(self, query: np.ndarray, ids: list[int]) -> np.ndarray:
        """Cosines with the vectors of ``ids``, in order (:data:`MISSING_SIMILARITY` if absent)."""
        if not len(ids):
            return np.zeros(0, dtype=np.float32)
        rows = self._call("get", ids=[int(i) for i in ids], output_fields=["vector"])
        by_id = {int(row["id"]): row["vector"] for row in rows}
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        return np.array([float(np.dot(by_id[i], query)) if i in by_id else MISSING_SIMILARITY for i in ids],
                        dtype=np.float32)


def _id_filter(allowed: np.ndarray | None) -> str:
    # A literal list: milvus-lite does not take filter templates (``filter_params``).
    return "" if allowed is None else f"id in [{','.join(str(int(i)) for i in allowed)}]"


class MilvusIndex:
    """Passage vectors in a Milvus collection at ``uri``, kept in step with ``store``."""

    def __init__(self, directory: Path, store: Store, dim: int, uri: str) -> None:
        self.directory = directory
        self.store = store
        self.dim = dim
        self.uri = uri
        self.centering = Centering({}, {})
        self._connection = _Connection.get(uri)
        self._client = self._connection.client
        self._collection: str | None = None
        self._prefix_value = store.get_meta(META_PREFIX)  # kept: close(retire=True) needs it
        self._lock = threading.RLock()
        self._lite = uri.endswith(".db")
        self._unflushed = 0

    @property
    def dirty(self) -> bool:
        """Always False: changes reach Milvus at once, so there is never anything to save."""
        return False

    # --- reading --------------------------------------------------------------------------
    def current(self) -> MilvusView:
        """The collection in use; on first use, checked against the store (and derived again
        if it disagrees); later, followed when another process derived a new one."""
        with self._lock:
            meta = self._meta()
            name = meta.get(META_COLLECTION)
            if self._collection is None:
                if not self._agrees(meta):
                    self.derive()
                    return MilvusView(self, self._collection)
            elif name == self._collection or not name or not self._client.has_collection(name):
                return MilvusView(self, self._collection)
            self._client.load_collection(name)  # a server keeps collections released until asked
            self._collection = name
            self.centering = Centering.from_json(meta[META_CENTERING])
            return MilvusView(self, name)

    def _meta(self) -> dict[str, str]:
        return self.store.meta_snapshot((META_COLLECTION, META_GENERATION, META_CENTERING))

    def _agrees(self, meta: dict[str, str]) -> bool:
        """Does the recorded collection exist and match the store's generation and size?"""
        name = meta.get(META_COLLECTION)
        if not name or not meta.get(META_CENTERING) or not self._client.has_collection(name):
            return False
        if int(meta.get(META_GENERATION) or -1) != self.store.generation:
            return False
        self._client.load_collection(name)
        return self._count(name) == self.store.count_passages()

    def _count(self, name: str) -> int:
        rows = self._client.query(name, filter="", output_fields=["count(*)"], consistency_level=CONSISTENCY)
        return int(rows[0]["count(*)"])

    # --- deriving -------------------------------------------------------------------------
    def derive(self) -> None:
        """Centre every stored vector into a new collection, point the store at it, and drop
        this base's older collections."""
        with self._lock:
            pids, langs, matrix, generation = self.store.vectors()
            centering = Centering.fit(langs, matrix)
            name = f"{self._prefix()}_g{generation}_{secrets.token_hex(3)}"
            self._create(name, len(pids))
            if len(pids):
                centred = centering.passages(matrix, langs)
                for start in range(0, len(pids), INSERT_BATCH):
                    stop = start + INSERT_BATCH
                    self._client.insert(name, _rows(pids[start:stop], langs[start:stop], centred[start:stop]))
                self._client.flush(name)
            self._unflushed = 0
            with self.store.transaction():
                recorded = self._meta()
                if int(recorded.get(META_GENERATION) or -1) > generation and \
                        self._client.has_collection(recorded.get(META_COLLECTION) or ""):
                    winner = None  # another process derived from a newer store meanwhile
                else:
                    for key, value in ((META_COLLECTION, name), (META_GENERATION, str(generation)),
                                       (META_CENTERING, centering.to_json())):
                        self.store.set_meta(key, value)
                    winner = name
            if winner is None:
                self._client.drop_collection(name)
                self._collection = recorded[META_COLLECTION]
                self.centering = Centering.from_json(recorded[META_CENTERING])
            else:
                self._collection, self.centering = name, centering
            self._drop_collections(keep=self._collection)

    def _prefix(self) -> str:
        if not self._prefix_value:
            self._prefix_value = self.store.get_meta(META_PREFIX) or f"kb_{secrets.token_hex(4)}"
            self.store.set_meta(META_PREFIX, self._prefix_value)
        return self._prefix_value

    def _create(self, name: str, size: int) -> None:
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("lang", DataType.VARCHAR, max_length=LANG_MAX_CHARS)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        params = self._client.prepare_index_params()
        params.add_index(field_name="vector", metric_type="IP",
                         index_type=EXACT_INDEX if size <= EXACT_MAX else APPROXIMATE_INDEX)
        # Index and load apart: create_collection(index_params=...) waits for the index by
        # polling every 0.5 s, with a call milvus-lite does not implement (logged as errors).
        self._client.create_collection(name, schema=schema, consistency_level=CONSISTENCY)
        self._client.create_index(name, params, sync=False)
        self._client.load_collection(name)

    def _drop_collections(self, keep: str | None = None) -> None:
        """Drop this base's collections (older derivations), all but ``keep``."""
        prefix = self._prefix_value + "_g"
        for name in self._client.list_collections():
            if name.startswith(prefix) and name != keep:
                self._client.drop_collection(name)

    # --- this process's own changes -------------------------------------------------------
    def added(self, pids: list[int], vectors: np.ndarray, langs: list[str], before: int) -> None:
        with self._lock:
            if self._collection is None:
                self.current()
            if self.centering.is_stale(self.store.lang_counts()):
                self.derive()
                return
            self._send("upsert", _rows(pids, langs, self.centering.passages(vectors, langs)))
            self._advance(before)
            self._unflushed += len(pids)
            if self._lite and self._unflushed >= LITE_FLUSH_ROWS:
                self._flush()

    def _flush(self) -> None:
        if self._collection is not None and self._unflushed:
            self._client.flush(self._collection)
        self._unflushed = 0

    def removed(self, pids: list[int], before: int) -> None:
        with self._lock:
            if self._collection is None:
                self.current()
            if pids:
                self._send("delete", ids=[int(p) for p in pids])
            self._advance(before)

    def _send(self, method: str, *args, **kwargs) -> None:
        """``client.<method>`` on the collection in use, for a change the store has committed.
        If Milvus fails, the collection is forgotten, so that this handle's next read checks it
        against the store and derives it again (the store's generation is then ahead of the one
        Milvus is recorded to match); otherwise the handle would search the stale collection
        until reopened, as FAISS's handle does not (it reloads when the generations differ)."""
        try:
            getattr(self._client, method)(self._collection, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 (pymilvus's own types)
            self._collection = None
            raise VectorStoreError(f"the change is stored in {self.store.path}, but Milvus at {self.uri} failed "
                                   f"({exc}); its collection is derived again from the store at the next "
                                   f"search") from exc

    def _advance(self, before: int) -> None:
        """Record that Milvus now matches generation ``before + 1``, if it matched ``before``
        (else another process's change is not known to be there: the next open checks)."""
        with self.store.transaction():
            meta = self._meta()
            if meta.get(META_COLLECTION) == self._collection and meta.get(META_GENERATION) == str(before):
                self.store.set_meta(META_GENERATION, str(before + 1))

    # --- the rest of the interface --------------------------------------------------------
    def save(self) -> None:
        """Nothing to do: each change was sent to Milvus when it was made."""

    def verify(self) -> list[str]:
        """Problems: the collection in use is missing, or its row count differs from the
        store's passage count (then it is derived again at the next read)."""
        with self._lock:
            meta = self._meta()
            name = meta.get(META_COLLECTION)
            if not name or not self._client.has_collection(name):
                problems = [f"the Milvus collection {name or '(none)'} at {self.uri} is missing"]
            else:
                self._client.load_collection(name)
                rows, passages = self._count(name), self.store.count_passages()
                if rows == passages:
                    return []
                problems = [f"the Milvus collection {name} holds {rows} vectors for {passages} passages"]
            self._collection = None  # derived again, from the store, at the next read
            return problems

    def reset(self, store: Store) -> None:
        with self._lock:
            self.store, self._collection = store, None

    def close(self, retire: bool = False) -> None:
        """Release this base's connection (milvus-lite's server stops with its last user).
        With ``retire`` (a rebuild replaced the base) also drop this base's collections, unless
        they went with the old directory (milvus-lite's default folder inside it)."""
        with self._lock:
            if self._connection is None:
                return
            if self._lite and not retire:
                try:
                    self._flush()
                except Exception:  # noqa: BLE001 (pymilvus's own types) only speed is at stake:
                    pass           # unflushed rows are in milvus-lite's write-ahead log
            connection, self._connection = self._connection, None
            try:
                if retire and self._prefix_value and connection.folder == _folder(self.uri):
                    self._drop_collections()
            finally:
                connection.release()


def _rows(pids, langs, vectors: np.ndarray) -> list[dict]:
    return [{"id": int(pid), "lang": str(lang), "vector": vector.tolist()}
            for pid, lang, vector in zip(pids, langs, np.asarray(vectors, dtype=np.float32))]
