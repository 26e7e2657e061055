"""The knowledge base: a facade over the store (SQLite), the vectors (FAISS) and an encoder."""
from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

import ingest
from ingest import Article, fingerprint
from ingest.fetch import is_url
from ingest.parallel import load_many

from . import lexical
from .bridge import bridge
from .centering import group
from .encoders import Encoder, encoder_for, encoder_from_id
from .errors import Busy, EncoderMismatch, KnowledgeBaseError, NoKnowledgeBase, NotFound
from .lock import WriterLock, writes
from .rebuild import recover
from .results import Added, Answer, Hit, Outcome
from .store import REPACK_REMOVED_SHARE, ArticleInfo, Store
from .vectorstore import Choice, choose, open_vector_store

DEFAULT_DIR = "kb"
STORE_FILE = "store.sqlite"
#: The source of an uploaded file: this prefix and the file's name.
UPLOAD_PREFIX = "upload:"
#: A base this large says on stderr that it is indexing its words again (see _retokenize).
RETOKENIZE_NOTICE_PASSAGES = 10_000
#: Candidates taken from each ranking before fusion. A passage outside the top 50 of both
#: rankings cannot reach the top 10 of their sum on the evaluation set; scoring 100
#: candidates costs well under a millisecond. A search for more than 50 takes k from each.
CANDIDATES = 50
#: Weight of the lexical score (0 to about 1) added to the dense one (language-centred
#: cosine, about -0.1 to 0.6). Chosen on bench/eval by leave-one-out: weight 1 won in 77 of
#: 79 folds; same-language hit@1 0.77, cross-language 0.80 (reciprocal rank fusion with plain
#: BM25, the first design, had cross-language hit@1 0.05).
LEXICAL_WEIGHT = 1.0


#: Passages :meth:`KnowledgeBase.add_many` embeds in one encoder call, across articles: the
#: first call takes ``EMBED_BATCH_FIRST``, each next one twice as many, up to
#: ``EMBED_BATCH_PASSAGES``. One call per article (about 12 passages) spent 62 s in FastE5 on
#: 1,866 passages where calls of 128 spent 46 s (bench/txtai_compare.py): passages are sorted
#: by length within a call, so more of them means less padding. Calls of 512 take 4% less
#: than calls of 128 (12.5 s against 13.0 s on those passages, bench/txtai_compare.py's), but
#: one is 4-8 s of work: starting small shows the first outcomes within a second or two.
EMBED_BATCH_FIRST = 64
EMBED_BATCH_PASSAGES = 512

#: The language of a question in the Latin script. The knowledge base is for English and
#: Chinese readers; asking langdetect costs about 5 ms a question (a third of a search on a
#: 5k-passage base) to tell English from other Latin-script languages it does not serve.
QUERY_LATIN_LANG = "en"


@lru_cache(maxsize=1024)
def query_language(query: str) -> str:
    """The language tag of a question (cached: search and ask both need it)."""
    return ingest.detect_language(query, latin=QUERY_LATIN_LANG)


class _BaseLock:
    """The base's re-entrant lock, which also knows whether the base is closed: entering it on
    a closed base raises, so no thread reads a store that :meth:`KnowledgeBase.close` closed
    while it waited (a check before taking the lock let one through)."""

    def __init__(self, path: Path) -> None:
        self._rlock = threading.RLock()
        self.path = path
        self.closed = False

    def __enter__(self) -> "_BaseLock":
        self._rlock.acquire()
        if self.closed:
            self._rlock.release()
            raise KnowledgeBaseError(f"the knowledge base in {self.path} was closed: open it again "
                                     "with KnowledgeBase.open")
        return self

    def __exit__(self, *exc) -> None:
        self._rlock.release()


def reads(method):
    """A read of the base: follow a rebuild another process finished, first. If SQLite fails
    while the method reads, read again once on a freshly opened store: a rebuild swapped in
    meanwhile deletes the old file under the open connection, and a connection can also lose
    its WAL index to another process's close ("disk I/O error" with the file unchanged, in 1
    of 30 runs of tests/test_lock.py's rebuild stress test). An error that persists is raised."""

    @functools.wraps(method)
    def reading(self, *args, **kwargs):
        self._follow_rebuild()
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if not self._store.replaced() and not _io_error(exc):
                raise
        self._follow_rebuild(reopen=True)
        return method(self, *args, **kwargs)

    return reading


def _io_error(exc: sqlite3.DatabaseError) -> bool:
    """SQLite's I/O error (SQLITE_IOERR and its extended codes), not a lock or a bad query."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (code & 0xFF) == sqlite3.SQLITE_IOERR if code is not None else "disk I/O error" in str(exc)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest positive ``scores``, best first, ties by index."""
    positive = scores > 0
    held = np.count_nonzero(positive)
    if held > k and held * 2 > len(scores):
        # Most passages match (a common word): partitioning all the scores, the k-th largest
        # is positive. At 1M scores, 1.2-1.8 ms where listing the positive ones first took
        # 2.7-8.8; with mostly zeros, partitioning them all took 18-27 ms.
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.flatnonzero(positive)  # a rare word matches a few passages of 100k
        if len(candidates) > k:  # partition first: sorting 100k scores costs 5 ms
            kth = np.partition(scores[candidates], len(candidates) - k)[len(candidates) - k]
            candidates = candidates[scores[candidates] >= kth]
    return candidates[np.argsort(-scores[candidates], kind="stable")][:k]


def _lookup(pids: np.ndarray, scores: np.ndarray, wanted: list[int]) -> list[float]:
    """The scores of the ``wanted`` pids in ``pids`` (ascending), 0.0 for those absent."""
    if not len(pids):
        return [0.0] * len(wanted)
    wanted = np.asarray(wanted, np.int64)
    rows = np.minimum(np.searchsorted(pids, wanted), len(pids) - 1)
    return np.where(pids[rows] == wanted, scores[rows], 0.0).tolist()


def passages_of(article: Article, encoder: Encoder) -> list[ingest.Passage]:
    """``article``'s passages, sized in ``encoder``'s tokens."""
    return ingest.split(article, max_tokens=encoder.max_tokens, count_tokens=encoder.count_tokens)


#: The stamp of every URL: stored once, it is not fetched again unless asked (``refetch``).
URL_STAMP = "url"


@dataclasses.dataclass(frozen=True)
class _Again:
    """A source given a second time in one :meth:`KnowledgeBase.add_many` call (the same path,
    or a URL that differs only by tracking parameters or a fragment): not read again."""

    source: str
    first: str


def _source_key(source: str) -> str:
    """What makes two given sources the same: a URL's canonical form, a file's real path."""
    from ingest.load import canonical_url

    try:
        return canonical_url(source) if is_url(source) else os.path.realpath(source)
    except ValueError:  # "http://[::1", a NUL byte: loading the source says what is wrong with it
        return source


def _stamp(source: str) -> str | None:
    """What tells that a source is unchanged since it was stored: a file's size and
    modification time; for a URL, its address alone (re-fetching is what resuming avoids)."""
    if is_url(source):
        return URL_STAMP
    try:
        stat = os.stat(source)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path (loading it says so)
        return None
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def default_path() -> Path:
    """``$KB_DIR`` if set, else ``./kb``."""
    return Path(os.environ.get("KB_DIR") or DEFAULT_DIR)


class KnowledgeBase:
    """Articles, their passages and vectors in a directory; search and extractive answers.

    Open with :meth:`open`; use as a context manager (or call :meth:`close`) so the vector
    file is saved. Nothing is lost without it: SQLite holds every vector and the FAISS file
    is rebuilt from it when stale.
    """

    def __init__(self, path: Path, store: Store, encoder: Encoder, choice: Choice | None = None) -> None:
        self.path = path
        self.encoder = encoder
        self._choice = choice
        self._dense = None
        self._lock = _BaseLock(path)
        #: One writer at a time in this directory (see :mod:`index.lock`); readers never take it.
        self.writer_lock = WriterLock(path)
        self._last_query: tuple = (None, None)
        self._helper: ThreadPoolExecutor | None = None
        self._attach(store)

    def _follow_rebuild(self, reopen: bool = False) -> None:
        """Reopen the store if another process rebuilt the base and swapped it in (or if
        ``reopen``)."""
        with self._lock:  # other threads must not use the store while it is replaced
            if reopen or self._superseded():
                self._store.close()
                recover(self.path)
                store = Store(self.path / STORE_FILE)
                built_with = store.get_meta("encoder")
                if built_with and built_with != self.encoder.id:  # rebuilt with another model
                    self.encoder = encoder_from_id(built_with)
                self._attach(store, reopening=True)

    def _superseded(self) -> bool:
        """True when the store was replaced by a rebuild, or marked superseded by one. A swap
        can land between the stat and the SQL: the old file is then gone under the connection,
        and the SQL fails ("disk I/O error": in 1 of 2 full test runs) where the stat would now see it."""
        if self._store.replaced():
            return True
        try:
            return bool(self._store.get_meta("superseded"))
        except sqlite3.DatabaseError as exc:
            if self._store.replaced() or _io_error(exc):  # see reads(): a fresh connection
                return True
            raise

    def _attach(self, store: Store, reopening: bool = False) -> None:
        """Use ``store`` (on open, or after a rebuild swapped a new one in: ``reopening``) with
        this base's vector store, as the store records it (a rebuild keeps the base's backend)."""
        if self._dense is not None:  # a rebuild swapped a new store in: the old one is gone
            self._dense.close(retire=True)
        self._store = store
        self._choice = choose(store, self._choice and self._choice.backend, self._choice and self._choice.milvus_uri)
        self._dense = open_vector_store(self._choice, self.path, store, self.encoder.dim)
        # (not when a read reopens the store: packing the postings, 14.5 s at 1M passages and
        # needed only for speed, would hold that read up; the next open does it)
        self._retokenize(repack=not reopening)
        self._lexical = lexical.LexicalScorer(store)

    def _retokenize(self, repack: bool = True) -> None:
        """Make the lexical terms again if another version of :func:`lexical.terms` made them (a
        base from an older program), so that queries and passages get the same terms: once, 1.3 s
        for 1,866 passages, 25.6 s for 84,582; or pack the postings again when they are not
        packed or many passages were removed since (:meth:`_repack_due`): 14.5 s for 1.03M
        passages. Said on stderr from RETOKENIZE_NOTICE_PASSAGES. Left for the next opener
        while another process writes."""
        made_by = self._store.get_meta("analyzer")
        if made_by is None and not self._store.count_passages():  # a new base (or an empty older one)
            self._store.set_meta("analyzer", lexical.ANALYZER)
            if not self._store.postings_packed():
                self._store.pack_postings()  # (nothing to pack: it records that)
            return
        if not self._stale_terms() and not (repack and self._repack_due()):
            return
        try:
            with self.writer_lock.hold(timeout=0):
                if not os.access(self._store.path, os.W_OK):  # (or it would say so on every open)
                    return
                stale = self._stale_terms()  # (done by another process meanwhile?)
                repack = not stale and repack and self._repack_due()  # (a retokenize packs too)
                count = self._store.count_passages()
                if count >= RETOKENIZE_NOTICE_PASSAGES and (stale or repack):
                    what = ("indexing the words of %d passages again for this version" if stale
                            else "packing the postings of %d passages")
                    seconds = count * (0.0003 if stale else 0.000012)
                    logging.getLogger(__name__).warning(  # a pause worth a word
                        "%s: " + what + " (about %d s, once)", self.path, count, round(seconds) + 1)
                if stale:
                    self._store.retokenize(lexical.terms, lexical.ANALYZER)
                elif repack:
                    self._store.pack_postings()
        except (Busy, OSError, sqlite3.OperationalError):  # another writer, a read-only base: searches still work
            pass

    def _repack_due(self) -> bool:
        """True if the postings are not packed (an older program made or wrote to the base), or
        many passages were removed since they were (:data:`store.REPACK_REMOVED_SHARE`)."""
        removed = self._store.removed_since_packed()
        return not self._store.postings_packed() or (
            removed > 0 and removed >= REPACK_REMOVED_SHARE * self._store.count_passages())

    def _stale_terms(self) -> bool:
        """True if an older :func:`lexical.terms` made the stored terms (a newer one's are left
        to it)."""
        return int(self._store.get_meta("analyzer") or "1") < int(lexical.ANALYZER)

    @property
    def is_new(self) -> bool:
        """True while nothing was ever stored in this base (no article added, not even one
        removed since): the app fills such a base from its sample corpus, and leaves a base
        its user emptied empty."""
        with self._lock:
            return self._store.generation == 0

    @property
    def vector_store(self) -> Choice:
        """The vector store in use: ``.backend`` (``"faiss"`` or ``"milvus"``), ``.milvus_uri``."""
        return self._choice

    # --- opening and closing --------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, model: "str | Encoder | None" = None,
             vector_store: str | None = None, milvus_uri: str | None = None,
             create: bool = True) -> "KnowledgeBase":
        """Open (or create) the knowledge base in ``path`` (default ``$KB_DIR`` or ``./kb``).

        Args:
            path: the directory; created if missing (when ``create``).
            model: the encoder: ``None`` means the one the base was built with, or for a new
                base ``$KB_MODEL`` or the bundled multilingual-e5-small (:class:`FastE5`). Any other string is a
                sentence-transformers model name or folder; an :class:`Encoder` object is used as is.
            vector_store: ``"faiss"`` (a file in ``path``) or ``"milvus"``; ``None`` means the one
                the base records, or for a base that records none ``$KB_VECTOR_STORE`` or
                ``"faiss"``. Naming another one than recorded switches the base to it (derived
                from the stored vectors, no re-embedding). See :mod:`index.vectorstore`.
            milvus_uri: where Milvus is: ``http://host:19530`` for a server or cluster, or a
                ``.db`` path for milvus-lite; ``None`` means the recorded one, else
                ``$KB_MILVUS_URI``, else milvus-lite in ``path/milvus.db``.
            create: False to refuse a directory that holds no knowledge base yet (a reader's
                mistyped path) instead of creating an empty one there. Default True.

        Raises:
            NoKnowledgeBase: ``create`` is False and ``path`` holds no knowledge base.
            KnowledgeBaseError: the directory cannot be created (the message names it).
            EncoderMismatch: ``model`` differs from the encoder that built a non-empty base.
            VectorStoreError: an unknown ``vector_store``, or Milvus cannot be reached.
        """
        path = Path(path) if path is not None else default_path()
        recover(path)
        if not create and not (path / STORE_FILE).is_file():
            raise NoKnowledgeBase(str(path))
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KnowledgeBaseError(f"cannot create the knowledge base directory {path}: "
                                     f"{exc.strerror or exc}") from exc
        store = Store(path / STORE_FILE)
        built_with = store.get_meta("encoder")
        asked = model or os.environ.get("KB_MODEL") or None
        if built_with and store.count_passages():
            wanted = encoder_for(asked) if asked is not None else None
            if wanted is not None and wanted.id != built_with:
                store.close()
                raise EncoderMismatch(str(path), built_with, wanted.id)
            encoder = wanted or encoder_from_id(built_with)
        else:
            encoder = encoder_for(asked)
            store.set_meta("encoder", encoder.id)
        try:
            return cls(path, store, encoder, choose(store, vector_store, milvus_uri))
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        """Save the vector file if it changed, and close the store.

        The save is skipped when another writer holds the lock (or the directory is
        read-only): nothing is lost, the next opener rebuilds the file from the store.
        A search running in another thread finishes first; any use afterwards raises
        :class:`KnowledgeBaseError`. Closing twice does nothing."""
        with self._lock._rlock:  # not during a read: closing SQLite under one crashed the interpreter
            if self._lock.closed:
                return
            try:
                if self._dense.dirty:
                    with self.writer_lock.hold(timeout=0):
                        self.save()
            except (Busy, OSError):
                pass
            self._lock.closed = True
            if self._helper is not None:
                self._helper.shutdown()
                self._helper = None
            self._dense.close()
            self._store.close()

    def _check_open(self) -> None:
        with self._lock:  # raises on a closed base
            pass

    def __enter__(self) -> "KnowledgeBase":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @writes
    def save(self) -> None:
        """Write the vector file if this process changed the index (also done by :meth:`close`)."""
        with self._lock:
            self._dense.save()

    # --- adding and removing --------------------------------------------------------------
    def add(self, source: str | os.PathLike, *, allow_private: bool = False) -> Added:
        """Load, clean, split, embed and store one file or URL. Re-adding the same content is free.

        Use :func:`ingest.discover` to turn directories into files. URLs on loopback, private
        or link-local addresses are refused unless ``allow_private`` (or
        ``KB_ALLOW_PRIVATE_URLS=1``). Raises :class:`ingest.IngestError` naming ``source``
        when it cannot be read.
        """
        return self.add_article(ingest.load(source, allow_private=allow_private))

    def add_text(self, text: str, *, title: str | None = None, source: str | None = None) -> Added:
        """Add an article given as text (cleaned like a ``.txt`` file)."""
        return self.add_article(ingest.parse(text, "text", source=source, title=title))

    def add_upload(self, name: str, data: bytes, *, replace: bool = False) -> Added:
        """Add an uploaded file (``.txt``, ``.md`` or ``.html`` by its ``name``) from its bytes.

        The article's source is ``upload:<name>``. With ``replace``, it replaces what an earlier
        upload of that name gave (an edited file uploaded again); by default it does not (two
        people's ``notes.txt`` are two articles). Raises :class:`ingest.IngestError` naming the
        file when it cannot be read.
        """
        import tempfile

        safe = Path(name).name or "upload.txt"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / safe
            path.write_bytes(data)
            try:
                article = ingest.load(path)
            except ingest.IngestError as exc:
                raise type(exc)(safe, exc.problem) from exc
        return self.add_article(dataclasses.replace(article, source=f"{UPLOAD_PREFIX}{safe}"), replace=replace)

    def add_many(self, sources: Iterable[str | os.PathLike | Article], *, workers: int | None = None,
                 allow_private: bool = False, refetch: bool = False, keep_copies: bool = False) -> Iterator[Outcome]:
        """Add many files, URLs or already cleaned :class:`~ingest.Article` objects, cleaning
        in ``workers`` processes while this one embeds several articles per encoder call;
        yield one :class:`Outcome` per source as it is stored, in the order given (for an
        Article, ``Outcome.source`` is its ``source``, else its id).

        Resumable: each stored source is noted with its size and modification time (URLs by
        address), committed as it goes, so running the same batch again after an
        interruption skips what was stored without reading it. A file that changed is read
        again (and its new text replaces the old: status ``"updated"``). One bad source is
        reported in its outcome and never stops the others.

        Args:
            sources: files, URLs (see :func:`ingest.discover` for directories) and Articles.
            workers: cleaning processes (default: the CPUs; small batches clean in-process).
            allow_private: fetch URLs on private networks too (see :mod:`ingest.fetch`).
            refetch: fetch URLs stored before again, so that a page that changed replaces its
                earlier text (files are read again whenever they changed). Default False.
            keep_copies: store an article even when a near-duplicate of it is stored (by
                default it is not: status ``"duplicate"``, with ``Outcome.not_stored`` the
                sentences it has that the stored copy lacks; such a URL needs ``refetch``
                too, since it is not fetched again otherwise). Default False.
        """
        self._check_open()
        plan = []  # (source, stamp, id of the article an earlier run stored from it, an Article, or _Again)
        first_of: dict[str, str] = {}  # a source's _source_key -> the source first given with it
        for source in sources:
            if isinstance(source, Article):
                plan.append((source.source or source.id, None, source))
                continue
            if (key := _source_key(str(source))) in first_of:  # given twice: read (fetched) once
                plan.append((str(source), None, _Again(str(source), first_of[key])))
                continue
            first_of[key] = str(source)
            stamp = _stamp(str(source))
            known = stamp is not None and not (refetch and stamp == URL_STAMP)
            with self._lock:
                plan.append((str(source), stamp, self._store.stamped(str(source), stamp) if known else None))
        done: dict[str, Outcome] = {}  # each source's outcome, for those given again
        loading = load_many([source for source, _, stored in plan if stored is None],
                            workers=workers, allow_private=allow_private)
        batch: list = []  # Outcomes, and articles split and waiting to be embedded, in order
        waiting = 0       # passages in the batch
        limit = EMBED_BATCH_FIRST  # passages that make a batch: this one doubles up to EMBED_BATCH_PASSAGES
        for source, stamp, stored in plan:
            if isinstance(stored, str):
                batch.append(Outcome(source, "skipped", self._info(stored)))
            elif isinstance(stored, _Again):
                batch.append(stored)
            else:
                loaded = stored if isinstance(stored, Article) else next(loading)[1]
                if isinstance(loaded, ingest.IngestError):
                    batch.append(Outcome(source, "failed", None, str(loaded)))
                elif (known := self._known(loaded, signature := fingerprint.minhash(loaded.text),
                                           dedupe=not keep_copies)) is not None:
                    batch.append(self._stamped(source, stamp, known))
                else:
                    passages = passages_of(loaded, self.encoder)
                    batch.append((source, stamp, loaded, passages, signature))
                    waiting += len(passages)
            if waiting == 0 or waiting >= limit:  # nothing to embed: report at once
                yield from self._flush(batch, done, not keep_copies)
                if waiting:
                    limit = min(2 * limit, EMBED_BATCH_PASSAGES)
                batch, waiting = [], 0
        yield from self._flush(batch, done, not keep_copies)

    def _flush(self, batch: list, done: dict[str, Outcome], dedupe: bool = True) -> Iterator[Outcome]:
        """Embed the waiting articles of ``batch`` in one encoder call, store them, and yield
        every outcome of the batch in order, noting each in ``done`` by source (a source given
        again, :class:`_Again`, gets its first outcome: "skipped", or "failed" as it did)."""
        for outcome in self._outcomes(batch, dedupe):
            if isinstance(outcome, _Again):
                first = done[outcome.first]
                outcome = (Outcome(outcome.source, "failed", None, first.error) if first.status == "failed"
                           else Outcome(outcome.source, "skipped", first.article))
            done[outcome.source] = outcome
            yield outcome

    def _outcomes(self, batch: list, dedupe: bool) -> Iterator[Outcome | _Again]:
        encoder = self.encoder
        texts = [p.text for entry in batch if isinstance(entry, tuple) for p in entry[3]]
        vectors = encoder.encode_passages(texts) if texts else None
        offset = 0
        for entry in batch:
            if isinstance(entry, (Outcome, _Again)):
                yield entry
                continue
            source, stamp, article, passages, signature = entry
            own = vectors[offset:offset + len(passages)]
            offset += len(passages)
            try:
                added = self._store_article(article, passages, own, encoder.id, signature, dedupe=dedupe)
            except KnowledgeBaseError as exc:
                yield Outcome(source, "failed", None, f"{source}: {exc}")
                continue
            yield self._stamped(source, stamp, added)

    def _stamped(self, source: str, stamp: str | None, added: Added) -> Outcome:
        """Note that ``source`` is stored (so a later run skips it) and say so. A file that is a
        copy whose own sentences were not stored is not noted: a later run reads it again, to
        say so again, or to store it with ``keep_copies`` (a URL is noted, since fetching again
        is what resuming avoids: ``refetch`` reads it again)."""
        if stamp is not None and (not added.not_stored or stamp == URL_STAMP):
            with self._lock:
                self._store.record_stamp(source, stamp, added.article.id)
        return Outcome(source, added.status, added.article, not_stored=added.not_stored)

    def add_article(self, article: Article, *, replace: bool = True) -> Added:
        """Add an article that is already cleaned (see :func:`ingest.load`).

        With ``replace`` (the default), an article its source (``article.source``) gave before
        is replaced by this one when the text differs (status ``"updated"``).

        Splitting and embedding run outside every lock, so searches (and other writers)
        are not held up by them; the store write holds the base's writer lock and raises
        :class:`~index.errors.Busy` when another writer held it for longer than
        ``writer_lock.timeout`` seconds (30, or ``$KB_LOCK_TIMEOUT``)."""
        return self._add(article, replace=replace)

    def _add(self, article: Article, *, replace: bool = True, dedupe: bool = True) -> Added:
        """:meth:`add_article`; a rebuild copies with neither ``replace`` nor ``dedupe`` (no
        near-duplicate folding), so that every stored article stays as it is."""
        signature = fingerprint.minhash(article.text)
        known = self._known(article, signature, replace, dedupe)
        if known is not None:
            return known
        encoder = self.encoder
        passages = passages_of(article, encoder)
        vectors = encoder.encode_passages([p.text for p in passages])
        return self._store_article(article, passages, vectors, encoder.id, signature, replace, dedupe)

    def _known(self, article: Article, signature: np.ndarray, replace: bool = True,
               dedupe: bool = True) -> Added | None:
        """What to answer without embedding: the article is stored already, or a near-duplicate
        copy of it is (its source is recorded on the stored copy); else None. An earlier
        version first added from the same source is no copy: the new one replaces it. When the
        source now gives another stored article, what it gave before goes (with ``replace``)."""
        self._follow_rebuild()
        with self._lock:
            if self._store.has_article(article.id):
                self._store.add_source(article.id, article.source)
                found = Added(self._info(article.id), "unchanged")
            else:
                earlier = self._earlier(article, copies=False) if replace else []
                copy_of = self._store.near_duplicate(signature, excluding=earlier) if dedupe else None
                if copy_of is None:
                    return None
                self._store.add_source(copy_of, article.source)
                lost = fingerprint.missing_sentences(article.text, self._store.article(copy_of)[1])
                found = Added(self._info(copy_of), "duplicate", tuple(lost))
            older = [a for a in self._earlier(article) if a != found.article.id] if replace else []
        if older:  # outside the base's lock: the writer lock is always taken first
            self._retire(article.source, older)
        return found

    @writes
    def _retire(self, source: str, older: list[str]) -> None:
        """Take ``source`` off the articles it gave before: it gives another stored one now."""
        with self._lock:
            self._dense.current()
            gone, before = self._store.detach(older, source)
            self._dense.removed(gone, before)

    def _earlier(self, article: Article, *, copies: bool = True) -> list[str]:
        """The articles ``article``'s source gave before (see :meth:`Store.from_source`), which
        it replaces."""
        if article.source is None:
            return []
        return [a for a in self._store.from_source(article.source, copies=copies) if a != article.id]

    @writes
    def _store_article(self, article: Article, passages: list[ingest.Passage], vectors: np.ndarray,
                       encoder_id: str, signature: np.ndarray, replace: bool = True,
                       dedupe: bool = True) -> Added:
        """The write half of :meth:`add_article`, under the writer lock: checks again what
        another writer may have stored meanwhile, then stores in one transaction."""
        known = self._known(article, signature, replace, dedupe)
        if known is not None:
            return known
        terms = [lexical.terms(p.text) for p in passages]  # outside the lock searches take
        with self._lock:
            if self.encoder.id != encoder_id:  # a rebuild with another model was swapped in meanwhile
                passages = passages_of(article, self.encoder)
                vectors = self.encoder.encode_passages([p.text for p in passages])
                terms = [lexical.terms(p.text) for p in passages]
            self._dense.current()
            older = self._earlier(article) if replace else []
            # "updated" when text first stored from this source is replaced; a source that was
            # only recorded on another's article (a near-copy, kept now) adds its own.
            replaced = replace and bool(self._earlier(article, copies=False))
            try:
                if older:  # the file or page changed since it was added: this version replaces that one
                    pids, gone, before = self._store.replace(older, article, passages, vectors, terms, signature)
                    self._dense.removed(gone, before)
                    before += 1
                else:
                    pids, before = self._store.insert(article, passages, vectors, terms, signature)
            except sqlite3.IntegrityError:  # another process stored the same article meanwhile
                return Added(self._info(article.id), "unchanged")
            self._dense.added(pids, vectors, [p.lang for p in passages], before)
            return Added(self._info(article.id), "updated" if replaced else "added")

    @writes
    def remove(self, article_id: str) -> ArticleInfo:
        """Remove an article and its passages; returns what was removed.

        Raises :class:`NotFound` for an unknown id, :class:`~index.errors.Busy` (see :meth:`add_article`)."""
        self._follow_rebuild()
        with self._lock:
            info = self._info(article_id)
            self._dense.current()
            pids, before = self._store.delete(article_id)
            self._dense.removed(pids, before)
            return info

    @writes
    def rebuild(self, model: str | None = None, *, progress=None) -> int:
        """Re-clean, re-split and re-embed every stored article, with ``model`` if given.

        Builds a new base beside this one and swaps it in, so a failure leaves this one
        intact. Returns the number of articles. ``progress(done, total)`` is called after each.
        """
        from .rebuild import rebuild

        self._check_open()
        return rebuild(self, model, progress=progress)

    # --- reading --------------------------------------------------------------------------
    @reads
    def articles(self) -> list[ArticleInfo]:
        """Every article, oldest first."""
        with self._lock:
            return self._store.articles()

    @reads
    def article_text(self, article_id: str) -> str:
        """The cleaned text of an article (passage offsets point into it)."""
        with self._lock:
            found = self._store.article(article_id)
        if found is None:
            raise NotFound(f"no article with id {article_id!r} in {self.path}")
        return found[1]

    @reads
    def passages(self, article_id: str | None = None) -> list[ingest.Passage]:
        """All passages in reading order, or those of one article."""
        with self._lock:
            rows = self._store.passages()
        return [r.passage for r in rows if article_id is None or r.passage.article_id == article_id]

    @reads
    def check(self) -> list[str]:
        """Problems found in the base (empty when the store and the indexes agree)."""
        with self._lock:
            problems = self._store.check(self.encoder.dim)
            problems += self._dense.verify()
            vectors, passages = len(self._dense.current()), self._store.count_passages()
        if vectors != passages:
            problems.append(f"the vector index holds {vectors} vectors for {passages} passages")
        return problems

    def _info(self, article_id: str) -> ArticleInfo:
        with self._lock:
            found = self._store.article(article_id)
        if found is None:
            raise NotFound(f"no article with id {article_id!r} in {self.path}")
        return found[0]

    # --- searching ------------------------------------------------------------------------
    @reads
    def search(self, query: str, k: int = 5, *, langs: Iterable[str] | None = None,
               sites: Iterable[str] | None = None) -> list[Hit]:
        """The ``k`` passages most relevant to ``query`` (any language), best first.

        Args:
            query: the question or keywords, in any language.
            k: how many passages (default 5).
            langs: only passages in these languages (``"en"``, ``"zh-Hans"``...); None: all.
            sites: only articles from these sites (``ArticleInfo.site``); None: all.

        ``Hit.score`` = dense + ``LEXICAL_WEIGHT`` x lexical, where dense is the cosine of
        language-centred vectors (``Hit.similarity``) and lexical is BM25 on the query's
        words for passages in its language, and on the words with their dictionary
        translations for passages in the other language, scaled to 0-1.
        """
        query = query.strip()
        if not query or k <= 0:
            return []
        with self._lock:
            vectors = self._dense.current()
            allowed = self._allowed(langs, sites)
            lang = query_language(query)
            # Words are scored in another thread while this one runs the model: the encoder
            # releases the GIL, so on a second core the lexical ranking (about 1 ms at 2k
            # passages) is free. The model stays on this thread since it is the longer task
            # (3 ms): handed to a thread, it started 0.4 ms late, waiting for the GIL.
            lexical = self._worker().submit(self._lexical_best, query, group(lang), max(k, CANDIDATES), allowed)
            try:
                qvec = self._dense.centering.query(self.query_vector(query), lang)
                dense = dict(vectors.search(qvec, max(k, CANDIDATES), allowed))
            finally:  # the worker reads the store: it must be done before the lock is let go
                wait([lexical])
            pids, lexical_scores, best_lexical = lexical.result()  # (or raise the worker's error)
            missing = [pid for pid in best_lexical if pid not in dense]
            dense.update(zip(missing, vectors.similarity(qvec, missing).tolist()))
            lexical_of = _lookup(pids, lexical_scores, list(dense))
            fused = {pid: cos + LEXICAL_WEIGHT * lex for (pid, cos), lex in zip(dense.items(), lexical_of)}
            top = sorted(fused, key=fused.get, reverse=True)[:k]
            return [Hit(r.passage.text, fused[r.pid], r.passage.article_id, r.title, r.source, r.passage.lang,
                        r.passage.start, r.passage.end, dense[r.pid])
                    for r in self._store.passages(top)]

    def _lexical_best(self, query: str, query_group: str, k: int,
                      allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """The lexical scores of every passage (pids, scores; 0 outside ``allowed``) and the
        pids of the ``k`` best. In the search's helper thread, beside the vector search: picking
        the best of a million scores takes 7 ms, when a common word matches most passages."""
        pids, scores = self._lexical.rank(query, query_group, bridge())
        if allowed is not None:
            scores = np.where(np.isin(pids, allowed), scores, 0.0)
        return pids, scores, pids[_top(scores, k)].tolist()

    def query_vector(self, query: str) -> np.ndarray:
        """The encoder's vector for ``query``; the last one is kept, since :meth:`ask` needs the
        vector its search just computed (one encoder call per question, not two)."""
        key = (self.encoder.id, query)
        if self._last_query[0] != key:
            self._last_query = (key, self.encoder.encode_queries([query])[0])
        return self._last_query[1]

    def _worker(self) -> ThreadPoolExecutor:
        """This base's helper thread (see :meth:`search`), started when first needed."""
        with self._lock:
            if self._helper is None:
                self._helper = ThreadPoolExecutor(1, thread_name_prefix="kb-search")
            return self._helper

    @reads
    def coverage(self, query: str, hit: Hit) -> float:
        """The share (0-1) of ``query``'s idf mass that ``hit``'s passage holds: its words for a
        passage in the query's language, their dictionary translations for one in the other
        (see :meth:`lexical.LexicalScorer.coverage`). :meth:`ask` uses it to decide ``found``."""
        with self._lock:
            lang = group(query_language(query.strip()))
            return self._lexical.coverage(query, lang, bridge(), hit.text, hit.lang)

    def _allowed(self, langs: Iterable[str] | None, sites: Iterable[str] | None) -> np.ndarray | None:
        if langs is None and sites is None:
            return None
        ids = None if sites is None else [a.id for a in self.articles() if a.site in set(sites)]
        return self._store.pids_where(None if langs is None else list(langs), ids)

    @reads
    def ask(self, question: str, k: int = 5, *, langs: Iterable[str] | None = None,
            sites: Iterable[str] | None = None) -> Answer:
        """An extractive answer to ``question`` with numbered citations (see :class:`Answer`),
        drawn from the ``k`` best passages; ``langs`` and ``sites`` filter as in :meth:`search`."""
        from .answer import answer

        question = question.strip()
        return answer(self, question, self.search(question, k, langs=langs, sites=sites))
