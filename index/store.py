"""The metadata store: articles, passages, their vectors and lexical terms, in one SQLite file.

SQLite is the source of truth. A change commits in one transaction, so a crash leaves the
store as it was before or after, never between. The FAISS file is derived from the vectors
kept here and can always be rebuilt from them without re-embedding.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from typing import Callable, Collection, Iterable, Iterator

import numpy as np

from ingest import Article, Passage, fingerprint

from .errors import CorruptIndex

#: Bumped when the schema changes; a store from another version is refused on open.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT, lang TEXT NOT NULL, kind TEXT NOT NULL,
    text TEXT NOT NULL, raw TEXT NOT NULL, author TEXT, date TEXT, flags TEXT NOT NULL,
    added REAL NOT NULL, signature BLOB NOT NULL);
-- Other places the same article (or a near-duplicate copy of it) was added from.
CREATE TABLE IF NOT EXISTS sources (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE, source TEXT NOT NULL,
    PRIMARY KEY (article_id, source));
-- The journal of batch adds: a file (by size and modification time) or URL already stored,
-- so that running an interrupted `ingest add` again skips it without reading it.
CREATE TABLE IF NOT EXISTS stamps (
    source TEXT PRIMARY KEY, stamp TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS stamps_by_article ON stamps(article_id);
-- MinHash band keys, to find near-duplicate candidates without comparing every article.
CREATE TABLE IF NOT EXISTS bands (
    key INTEGER NOT NULL, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS bands_by_key ON bands(key);
CREATE INDEX IF NOT EXISTS bands_by_article ON bands(article_id);
-- Articles by source: adding a file or URL again with new content replaces what it gave before.
CREATE INDEX IF NOT EXISTS articles_by_source ON articles(source);
CREATE INDEX IF NOT EXISTS sources_by_source ON sources(source);
CREATE TABLE IF NOT EXISTS passages (
    pid INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, lang TEXT NOT NULL,
    nterms INTEGER NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS passages_by_article ON passages(article_id, seq);
-- Passages per language (Store.lang_counts, read on every add) from this index alone: a scan
-- of the table reads every vector blob (120k passages: 0.32 s; with the index: a few ms).
CREATE INDEX IF NOT EXISTS passages_by_lang ON passages(lang);
-- Lexical terms of each passage (rowid = pid), already segmented and stemmed by lexical.terms.
CREATE VIRTUAL TABLE IF NOT EXISTS lexicon USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0');
-- FTS5's postings (term, passage, position), from which packed_postings is made.
CREATE VIRTUAL TABLE IF NOT EXISTS lexicon_postings USING fts5vocab(lexicon, instance);
-- Each term's postings as BM25 reads them (Store.postings): the pids of the passages holding it,
-- ascending, as int32, and how often each holds it, as uint16: read in 0.9 ms for a word in 300k
-- passages of 1.07M, which FTS5 decodes from its own in 50 ms (0.17 us a posting).
CREATE TABLE IF NOT EXISTS packed_postings (
    term TEXT PRIMARY KEY, pids BLOB NOT NULL, tfs BLOB NOT NULL);
-- Postings of the passages added since their term was last packed (see RECENT_SHARE).
CREATE TABLE IF NOT EXISTS recent_postings (
    term TEXT NOT NULL, pid INTEGER NOT NULL, tf INTEGER NOT NULL, PRIMARY KEY (term, pid)) WITHOUT ROWID;
"""

#: The format of packed_postings. The meta table's "postings" says "<format>:<pid>" once the
#: postings of every passage up to that pid are there: a base from an older program has none
#: until KnowledgeBase.open packs them, and one that an older program added passages to since
#: is packed again then (see :func:`packed_upto`).
POSTINGS_FORMAT = "1"
#: A term's recent postings are folded into its packed row by the add that brings them to
#: RECENT_MIN_ROWS and this share of the packed rows. Reading a recent row costs about 0.19 us,
#: a packed one 0.003 (at 1.07M passages, bench base rep1m): at this share a common word's
#: recent rows cost at most twice its packed ones. A fold rewrites the term's packed row: 20 ms
#: for 的 (465k passages of 1.07M), once in every 14.5k new passages holding it.
RECENT_SHARE = 1 / 32
#: ... and this many rows: a rare word's few recent rows (256: 0.06 ms) are left unpacked.
RECENT_MIN_ROWS = 256
#: KnowledgeBase.open packs the postings again once the passages removed since they were last
#: packed pass this share of the base's: their pids stay in the packed rows, which a search
#: then reads that much more of, and a fold, which rewrites a term's row, keeps them.
REPACK_REMOVED_SHARE = 0.25


@dataclass(frozen=True)
class ArticleInfo:
    """An article in the knowledge base, without its text."""

    id: str
    title: str
    source: str | None
    lang: str
    kind: str
    chars: int
    passages: int
    added: float
    flags: tuple[str, ...] = ()
    #: Other sources the same content was added from (syndicated copies), besides ``source``.
    also_from: tuple[str, ...] = ()

    @property
    def site(self) -> str:
        """The host of the article's URL (``www.`` dropped), or ``"file"`` for files and text."""
        return site_of(self.source)


def site_of(source: str | None) -> str:
    host = urlsplit(source).hostname if source and "://" in source else None
    return host[4:] if host and host.startswith("www.") else host or "file"


@dataclass(frozen=True)
class StoredArticle:
    id: str
    raw: str
    kind: str
    source: str | None
    title: str
    author: str | None
    date: str | None
    text: str
    lang: str


@dataclass(frozen=True)
class PassageRow:
    pid: int
    passage: Passage
    title: str
    source: str | None


#: Opens of a store whose file another process swapped meanwhile, before keeping one.
OPEN_ATTEMPTS = 3


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


class Store:
    """SQLite file holding everything but the ANN index."""

    def __init__(self, path: Path) -> None:
        self.path = path
        for attempt in range(OPEN_ATTEMPTS):
            # The file's identity, for replaced(), must be the one the connection opened: a
            # rebuild in another process can swap a new file in between the open and the stat
            # (a reader then kept failing with "disk I/O error", its stat saying nothing changed).
            before = _identity(path)
            self._connect(path)
            self._identity = _identity(path)
            if before is None or before == self._identity or attempt == OPEN_ATTEMPTS - 1:
                break
            self._db.close()
        version = self.get_meta("schema_version")
        if version is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
            self.set_meta("postings", f"{POSTINGS_FORMAT}:0")  # (a new base: nothing to pack)
        elif int(version) != SCHEMA_VERSION:
            raise CorruptIndex(f"{path} has schema version {version}; this program reads version {SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def _connect(self, path: Path) -> None:
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise CorruptIndex(f"{path} is not a readable knowledge base store ({exc}); "
                               "move it away and re-add the articles") from exc

    def replaced(self) -> bool:
        """True when the file this store opened is no longer at its path: a rebuild in another
        process swapped a new base in (a stat, no SQL: the old file may be deleted already)."""
        found = _identity(self.path)
        return found is None or found != self._identity

    # --- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         (key, value))

    def meta_snapshot(self, keys: tuple[str, ...]) -> dict[str, str]:
        """Several meta values read at one instant (one read transaction)."""
        rows = self._db.execute(f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * len(keys))})", keys)
        return dict(rows.fetchall())

    def point_to_vectors(self, name: str, generation: int, sha256: str, centering: str,
                         max_pid: int | None = None) -> None:
        """Record the vector file for ``generation``, unless a newer one is recorded already.
        ``max_pid``: the highest passage id the file may hold (what a reader replays after)."""
        with self.transaction():
            current = self.get_meta("vectors_file") or ""
            digits = "".join(c for c in current if c.isdigit())
            if digits and int(digits) >= generation:
                return
            for key, value in (("vectors_file", name), ("vectors_sha256", sha256), ("centering", centering),
                               ("vectors_max_pid", "" if max_pid is None else str(max_pid))):
                self.set_meta(key, value)

    @property
    def generation(self) -> int:
        """Bumped by every committed change, so readers can tell their view is stale."""
        return int(self.get_meta("generation") or 0)

    def _bump(self) -> int:
        """Advance the generation (inside a transaction); the generation the change started from."""
        before = self.generation
        self.set_meta("generation", str(before + 1))
        return before

    # --- writes ---------------------------------------------------------------------------
    def has_article(self, article_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def insert(self, article: Article, passages: list[Passage], vectors: np.ndarray,
               passage_terms: list[list[str]], signature: np.ndarray) -> tuple[list[int], int]:
        """Store an article with its passages, vectors, terms and MinHash signature in one
        transaction; returns the new pids and the generation the change was made on.

        Raises sqlite3.IntegrityError if another process stored the same article first."""
        with self.transaction():
            pids = self._insert_rows(article, passages, vectors, passage_terms, signature)
            before = self._bump()
        return pids, before

    def replace(self, older: list[str], article: Article, passages: list[Passage], vectors: np.ndarray,
                passage_terms: list[list[str]], signature: np.ndarray) -> tuple[list[int], list[int], int]:
        """Store ``article`` as :meth:`insert` does and, in the same transaction, take its source
        off the ``older`` articles (the earlier versions from that source): one stored from it
        alone is deleted, one also stored from other sources keeps them. Returns the new pids,
        the deleted pids, and the generation the deletion was made on (the insertion is on the
        next one).

        Raises sqlite3.IntegrityError if another process stored the same article first."""
        with self.transaction():
            gone = [pid for old in older for pid in self._detach(old, article.source)]
            before = self._bump()
            pids = self._insert_rows(article, passages, vectors, passage_terms, signature)
            self._bump()
        return pids, gone, before

    def detach(self, older: list[str], source: str | None) -> tuple[list[int], int]:
        """Take ``source`` off the ``older`` articles in one transaction (see :meth:`replace`):
        the pids deleted with articles that had no other source, and the generation."""
        with self.transaction():
            gone = [pid for old in older for pid in self._detach(old, source)]
            before = self._bump()
        return gone, before

    def from_source(self, source: str | None, *, copies: bool = True) -> list[str]:
        """Ids of the articles stored from ``source``: those it was first added from, and with
        ``copies`` those that record it as another source (it held a near-duplicate copy)."""
        if not source:
            return []
        sql = "SELECT id FROM articles WHERE source = ?"
        if copies:
            sql += " UNION SELECT article_id FROM sources WHERE source = ?"
        return sorted(r[0] for r in self._db.execute(sql, (source, source) if copies else (source,)))

    def _detach(self, article_id: str, source: str | None) -> list[int]:
        """Take ``source`` off an article; delete the article if it had no other. The deleted pids."""
        row = self._db.execute("SELECT source FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return []
        others = [r[0] for r in self._db.execute("SELECT source FROM sources WHERE article_id = ? AND source != ? "
                                                 "ORDER BY rowid", (article_id, source))]
        if row[0] != source:  # one of its other sources
            self._db.execute("DELETE FROM sources WHERE article_id = ? AND source = ?", (article_id, source))
            return []
        if not others:
            return self._delete_rows(article_id)
        self._db.execute("UPDATE articles SET source = ? WHERE id = ?", (others[0], article_id))
        self._db.execute("DELETE FROM sources WHERE article_id = ? AND source = ?", (article_id, others[0]))
        return []

    def _insert_rows(self, article: Article, passages: list[Passage], vectors: np.ndarray,
                     passage_terms: list[list[str]], signature: np.ndarray) -> list[int]:
        pids: list[int] = []
        packed = self.postings_packed()  # (before the new passages, whose pids are past it)
        self._db.execute(
            "INSERT INTO articles(id, title, source, lang, kind, text, raw, author, date, flags, added, signature) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article.id, article.title, article.source, article.lang, article.kind, article.text, article.raw,
             article.author, article.date, json.dumps(list(article.flags)), time.time(),
             np.asarray(signature, dtype=np.uint32).tobytes()))
        self._db.executemany("INSERT INTO bands(key, article_id) VALUES (?, ?)",
                             [(key, article.id) for key in fingerprint.bands(signature)])
        for passage, vector, words in zip(passages, vectors, passage_terms, strict=True):
            cursor = self._db.execute(
                'INSERT INTO passages(article_id, seq, start, "end", lang, nterms, vector) VALUES (?, ?, ?, ?, ?, ?, ?)',
                (article.id, passage.seq, passage.start, passage.end, passage.lang, len(words),
                 np.asarray(vector, dtype=np.float32).tobytes()))
            pids.append(cursor.lastrowid)
            self._db.execute("INSERT INTO lexicon(rowid, terms) VALUES (?, ?)", (cursor.lastrowid, " ".join(words)))
        if packed:
            self._record_postings(pids, passage_terms)
        return pids

    def _record_postings(self, pids: list[int], passage_terms: list[list[str]]) -> None:
        """Add the postings of new passages (``pids``, larger than any before) to recent_postings,
        and fold the terms that have many there into their packed rows."""
        rows = [(term, pid, tf) for pid, words in zip(pids, passage_terms) for term, tf in Counter(words).items()]
        self._db.executemany("INSERT INTO recent_postings(term, pid, tf) VALUES (?, ?, ?)", rows)
        if pids:
            self.set_meta("postings", f"{POSTINGS_FORMAT}:{max(pids)}")
        # (length() reads a blob's size, not the blob: 0.5 ms for the 300 largest rows at 1.07M)
        due = [r[0] for r in self._db.execute(
            """SELECT r.term FROM (SELECT term, count(*) AS c FROM recent_postings
                                  WHERE term IN (SELECT value FROM json_each(?)) GROUP BY term) AS r
               LEFT JOIN packed_postings AS p ON p.term = r.term
               WHERE r.c >= max(?, ? * coalesce(length(p.pids) / 4, 0))""",
            (json.dumps(sorted({row[0] for row in rows})), RECENT_MIN_ROWS, RECENT_SHARE))]
        for term in due:
            self._pack(term, *self.postings(term))
            self._db.execute("DELETE FROM recent_postings WHERE term = ?", (term,))

    def _pack(self, term: str, pids: np.ndarray, tfs: np.ndarray) -> None:
        if len(pids) and pids[-1] > np.iinfo(np.int32).max:  # after 2^31 passages added in a base's life
            raise CorruptIndex(f"{self.path}: passage ids passed 2^31, more than the lexicon holds; "
                               "`ingest rebuild` numbers them again")
        self._db.execute("INSERT OR REPLACE INTO packed_postings(term, pids, tfs) VALUES (?, ?, ?)",
                         (term, pids.astype("<i4").tobytes(),
                          np.minimum(tfs, 65535).astype("<u2").tobytes()))

    def pack_postings(self) -> int:
        """Make packed_postings again from the lexicon, in one transaction: on a base from an
        older program, after its terms were made again, and to let go of removed passages'
        postings (a search skips them, but they stay in a term's packed row). The number of
        postings: 53M from 61M occurrences at 1.07M passages, in 12 s."""
        with self.transaction():
            return self._pack_all()

    def _pack_all(self) -> int:
        self._db.execute("DELETE FROM packed_postings")
        self._db.execute("DELETE FROM recent_postings")
        count = 0
        for term, pids, tfs in self._every_lexicon_postings():
            self._pack(term, pids, tfs)
            count += len(pids)
        self.set_meta("postings", f"{POSTINGS_FORMAT}:{self._top_pid()}")
        self.set_meta("postings_removed", "0")
        return count

    def removed_since_packed(self) -> int:
        """Passages removed since the postings were last packed from the lexicon: their pids
        stay in the packed postings, where a search skips them (see REPACK_REMOVED_SHARE)."""
        return int(self.get_meta("postings_removed") or "0")

    def postings_packed(self) -> bool:
        """True when packed_postings holds every passage's postings (see :meth:`postings`)."""
        return packed_upto(self.get_meta("postings")) >= self._top_pid()

    def _top_pid(self) -> int:
        return self._db.execute("SELECT coalesce(max(pid), 0) FROM passages").fetchone()[0]

    def retokenize(self, terms_of: Callable[[str], list[str]], analyzer: str) -> int:
        """Make every passage's lexical terms again with ``terms_of`` and record ``analyzer`` as
        their maker, in one transaction; the number of passages."""
        with self.transaction():
            rows = self.passages()
            self._db.execute("DELETE FROM lexicon")
            for row in rows:
                words = terms_of(row.passage.text)
                self._db.execute("INSERT INTO lexicon(rowid, terms) VALUES (?, ?)", (row.pid, " ".join(words)))
                self._db.execute("UPDATE passages SET nterms = ? WHERE pid = ?", (len(words), row.pid))
            self._pack_all()
            self.set_meta("analyzer", analyzer)
        return len(rows)

    def add_source(self, article_id: str, source: str | None) -> bool:
        """Record another source of an article; False if it was known already."""
        if not source:
            return False
        with self.transaction():
            primary = self._db.execute("SELECT source FROM articles WHERE id = ?", (article_id,)).fetchone()
            if primary is None or primary[0] == source:
                return False
            cursor = self._db.execute("INSERT OR IGNORE INTO sources(article_id, source) VALUES (?, ?)",
                                      (article_id, source))
            if cursor.rowcount:
                self._bump()
            return bool(cursor.rowcount)

    def stamped(self, source: str, stamp: str) -> str | None:
        """The article stored from ``source`` when it had ``stamp``, if that article is still here."""
        row = self._db.execute("SELECT s.article_id FROM stamps s JOIN articles a ON a.id = s.article_id "
                               "WHERE s.source = ? AND s.stamp = ?", (source, stamp)).fetchone()
        return row[0] if row else None

    def record_stamp(self, source: str, stamp: str, article_id: str) -> None:
        """Note that ``source`` with ``stamp`` is stored as ``article_id`` (see :meth:`stamped`)."""
        with self.transaction():
            if self._db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone():
                self._db.execute("INSERT OR REPLACE INTO stamps(source, stamp, article_id) VALUES (?, ?, ?)",
                                 (source, stamp, article_id))

    def near_duplicate(self, signature: np.ndarray, excluding: Collection[str] = ()) -> str | None:
        """The stored article most similar to ``signature``, if it is a near-duplicate; never one
        of the ``excluding`` ids."""
        keys = fingerprint.bands(signature)
        candidates = self._db.execute(
            f"SELECT DISTINCT a.id, a.signature FROM bands b JOIN articles a ON a.id = b.article_id "
            f"WHERE b.key IN ({','.join('?' * len(keys))})", keys).fetchall()
        best, best_id = 0.0, None
        for article_id, blob in candidates:
            if article_id in excluding:
                continue
            score = fingerprint.similarity(signature, np.frombuffer(blob, dtype=np.uint32))
            if score > best:
                best, best_id = score, article_id
        return best_id if best >= fingerprint.NEAR_DUPLICATE_JACCARD else None

    def delete(self, article_id: str) -> tuple[list[int], int]:
        """Remove an article, its passages and terms; the pids that went, and the generation
        the change was made on."""
        with self.transaction():
            pids = self._delete_rows(article_id)
            before = self._bump()
        return pids, before

    def _delete_rows(self, article_id: str) -> list[int]:
        pids = [r[0] for r in self._db.execute("SELECT pid FROM passages WHERE article_id = ?", (article_id,))]
        if pids and self.postings_packed():  # their pids stay in the packed postings: counted
            self.set_meta("postings_removed", str(self.removed_since_packed() + len(pids)))
        self._db.executemany("DELETE FROM lexicon WHERE rowid = ?", [(p,) for p in pids])
        self._db.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))
        self._db.execute("DELETE FROM sources WHERE article_id = ?", (article_id,))
        self._db.execute("DELETE FROM stamps WHERE article_id = ?", (article_id,))
        self._db.execute("DELETE FROM bands WHERE article_id = ?", (article_id,))
        self._db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return pids

    def transaction(self):
        """A context manager for one write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled
        back on any exception). The vector stores use it to read and update their records in the
        store's metadata in one step, with no other writer in between."""
        return _Transaction(self._db)

    # --- reads ----------------------------------------------------------------------------
    def articles(self, article_id: str | None = None) -> list[ArticleInfo]:
        """Every article, oldest first; or only the one with ``article_id``."""
        where, args = ("WHERE id = ?", (article_id,)) if article_id is not None else ("", ())
        also: dict[str, list[str]] = {}
        source_where = "WHERE article_id = ?" if article_id is not None else ""
        for owner, source in self._db.execute(f"SELECT article_id, source FROM sources {source_where} ORDER BY rowid",
                                              args):
            also.setdefault(owner, []).append(source)
        rows = self._db.execute(
            "SELECT a.id, a.title, a.source, a.lang, a.kind, length(a.text), "
            "(SELECT count(*) FROM passages p WHERE p.article_id = a.id), a.added, a.flags "
            f"FROM articles a {where} ORDER BY a.added, a.id", args)
        return [ArticleInfo(*row[:8], flags=tuple(json.loads(row[8])), also_from=tuple(also.get(row[0], ())))
                for row in rows]

    def article(self, article_id: str) -> tuple[ArticleInfo, str, str] | None:
        """Info, cleaned text and raw text of one article."""
        found = self.articles(article_id)
        if not found:
            return None
        info = found[0]
        text, raw = self._db.execute("SELECT text, raw FROM articles WHERE id = ?", (article_id,)).fetchone()
        return info, text, raw

    def stored_articles(self) -> Iterator[StoredArticle]:
        """Every article with its raw and cleaned text, oldest first, for a rebuild."""
        rows = self._db.execute("SELECT id, raw, kind, source, title, author, date, text, lang FROM articles "
                                "ORDER BY added, id").fetchall()
        yield from (StoredArticle(*row) for row in rows)

    def passages(self, pids: Iterable[int] | None = None) -> list[PassageRow]:
        """Passages by pid (in the order given), or all of them in reading order."""
        sql = ('SELECT p.pid, p.article_id, p.seq, substr(a.text, p.start + 1, p."end" - p.start), p.start, p."end", '
               "p.lang, a.title, a.source FROM passages p JOIN articles a ON a.id = p.article_id")
        if pids is None:
            rows = self._db.execute(sql + " ORDER BY a.added, a.id, p.seq").fetchall()
        else:
            pids = list(pids)
            by_pid = {r[0]: r for r in self._db.execute(
                sql + f" WHERE p.pid IN ({','.join('?' * len(pids))})", pids)} if pids else {}
            rows = [by_pid[p] for p in pids if p in by_pid]
        return [PassageRow(r[0], Passage(r[1], r[2], r[3], r[4], r[5], r[6]), r[7], r[8]) for r in rows]

    def changes_since(self, max_pid: int, held: int) -> tuple[np.ndarray | None, np.ndarray, list[str], np.ndarray, int]:
        """What a vector file holding ``held`` passages up to ``max_pid`` lacks: the ids of the
        passages up to ``max_pid`` still here, or ``None`` when there are still ``held`` of
        them (pids only grow, so none was removed: a count, not a list of a million ids);
        then the pids, languages and vectors of later passages, and the generation, read in
        one transaction. Both reads of ids use the language index, never the vector blobs."""
        self._db.execute("BEGIN")
        try:
            count = self._db.execute("SELECT count(*) FROM passages INDEXED BY passages_by_lang WHERE pid <= ?",
                                     (max_pid,)).fetchone()[0]
            kept = None if count == held else np.fromiter((r[0] for r in self._db.execute(
                "SELECT pid FROM passages INDEXED BY passages_by_lang WHERE pid <= ?", (max_pid,))), dtype=np.int64)
            rows = self._db.execute("SELECT pid, lang, vector FROM passages WHERE pid > ? ORDER BY pid",
                                    (max_pid,)).fetchall()
            generation = self.generation
        finally:
            if self._db.in_transaction:  # (SQLite may have rolled it back itself, on an I/O error)
                self._db.execute("COMMIT")
        pids = np.array([r[0] for r in rows], dtype=np.int64)
        matrix = (np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows]) if rows
                  else np.zeros((0, 0), dtype=np.float32))
        return None if kept is None else np.sort(kept), pids, [r[1] for r in rows], matrix, generation

    def vectors(self) -> tuple[np.ndarray, list[str], np.ndarray, int]:
        """All pids, their languages, their vectors as one matrix, and the generation they are
        of, read in one transaction."""
        self._db.execute("BEGIN")
        try:
            rows = self._db.execute("SELECT pid, lang, vector FROM passages ORDER BY pid").fetchall()
            generation = self.generation
        finally:
            if self._db.in_transaction:  # (SQLite may have rolled it back itself, on an I/O error)
                self._db.execute("COMMIT")
        if not rows:
            return np.zeros(0, dtype=np.int64), [], np.zeros((0, 0), dtype=np.float32), generation
        pids = np.array([r[0] for r in rows], dtype=np.int64)
        matrix = np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
        return pids, [r[1] for r in rows], matrix, generation

    def check(self, dim: int) -> list[str]:
        """Problems found in the store (empty when it is consistent)."""
        problems = [f"sqlite: {row[0]}" for row in self._db.execute("PRAGMA quick_check") if row[0] != "ok"]
        queries = {
            "passages without an article": "SELECT count(*) FROM passages p LEFT JOIN articles a ON a.id = p.article_id "
                                           "WHERE a.id IS NULL",
            "lexicon rows without a passage": "SELECT count(*) FROM lexicon l LEFT JOIN passages p ON p.pid = l.rowid "
                                              "WHERE p.pid IS NULL",
            "passages without lexicon terms": "SELECT count(*) FROM passages p LEFT JOIN lexicon l ON l.rowid = p.pid "
                                              "WHERE l.rowid IS NULL",
            "vectors of the wrong size": f"SELECT count(*) FROM passages WHERE length(vector) != {dim * 4}",
            "articles without passages": "SELECT count(*) FROM articles a WHERE NOT EXISTS "
                                         "(SELECT 1 FROM passages p WHERE p.article_id = a.id)",
        }
        for problem, sql in queries.items():
            count = self._db.execute(sql).fetchone()[0]
            if count:
                problems.append(f"{count} {problem}")
        self._db.execute("BEGIN")  # one snapshot: a writer's commit midway would look like a difference
        try:
            differing = self._postings_differing()
        finally:
            if self._db.in_transaction:  # (SQLite may have rolled it back itself, on an I/O error)
                self._db.execute("COMMIT")
        if differing:
            try:
                self.pack_postings()
                done = "packed again"
            except sqlite3.OperationalError as exc:  # a read-only base, a busy writer
                done = f"not packed again: {exc}"
            problems.append(f"{differing} term(s) whose packed postings were not the lexicon's ({done})")
        return problems

    def _postings_differing(self) -> int:
        """The terms whose packed postings, removed passages left out, are not FTS5's own."""
        if not self.postings_packed():  # read from FTS5's own until packed
            return 0
        live = np.array([r[0] for r in self._db.execute("SELECT pid FROM passages")], dtype=np.int64)
        alive = np.zeros(int(live.max(initial=0)) + 1, dtype=bool)
        alive[live] = True

        def kept(pids: np.ndarray) -> np.ndarray:  # (a removed passage's pid may pass them all)
            return alive[np.minimum(pids, len(alive) - 1)] & (pids < len(alive))

        held, differing = set(), 0
        for term, *expected in self._every_lexicon_postings():
            held.add(term)
            pids, tfs = self.postings(term)
            live_rows = kept(pids)
            differing += not (np.array_equal(pids[live_rows], expected[0]) and np.array_equal(tfs[live_rows], expected[1]))
        for (term,) in self._db.execute("SELECT term FROM packed_postings UNION SELECT term FROM recent_postings"):
            differing += term not in held and bool(kept(self.postings(term)[0]).any())
        return differing

    def lang_counts(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT lang, count(*) FROM passages GROUP BY lang").fetchall())

    def count_passages(self) -> int:
        return self._db.execute("SELECT count(*) FROM passages").fetchone()[0]

    def vocabulary(self) -> frozenset[str]:
        """Every term of the lexicon (12 ms at 4k passages, 450 ms and 260k terms at 100k)."""
        return frozenset(r[0] for r in self._db.execute(f"SELECT term FROM {self._terms_table()}"))

    def _terms_table(self) -> str:
        """The lexicon's terms as a table (fts5vocab). A temporary table belongs to this
        connection: nothing is written to the base."""
        self._db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.lexicon_terms USING fts5vocab(main, lexicon, row)")
        return "temp.lexicon_terms"

    def known_terms(self, terms: list[str]) -> set[str]:
        """Those of ``terms`` that some passage holds. A question's words and their dictionary
        translations are about 80 terms, of which about 30 occur in a base; a postings lookup
        costs 0.2 ms even for an absent term. This asks for all of them in one query, which
        stops at each term's first passage: 0.6 ms for a question's 79 terms at 1M passages,
        where asking fts5vocab, which counts every passage holding each, took 38 ms."""
        # FTS5 reads each as a phrase (a double-quoted string, "" for "), whose tokens are the
        # term itself for any term lexical.terms makes. Another string may be found by its
        # tokens ("^kpi" as "kpi"): its postings are then empty, which scores as absent.
        # (Filtering on Python's letters and digits first dropped 40 CJK code points SQLite's
        # tokenizer holds as letters, U+FA6E among them: a review.)
        return {r[0] for r in self._db.execute(
            """SELECT value FROM json_each(?) WHERE EXISTS (SELECT 1 FROM lexicon
               WHERE lexicon MATCH '"' || replace(value, '"', '""') || '"' LIMIT 1)""",
            (json.dumps(list(dict.fromkeys(terms))),))}

    def packed_terms(self, terms: list[str]) -> set[str]:
        """Those of ``terms`` with packed or recent postings: :meth:`known_terms` and the terms
        of removed passages, until packed again (their postings then hold no passage; BM25
        scores them as absent). At 1.03M passages, 0.07 ms for a question's terms (median of
        the 96 bench questions, 65 terms with translations), where :meth:`known_terms` took 6.1."""
        return {r[0] for r in self._db.execute(
            """SELECT value FROM json_each(?) WHERE EXISTS (SELECT 1 FROM packed_postings WHERE term = value)
               OR EXISTS (SELECT 1 FROM recent_postings WHERE term = value)""",
            (json.dumps(list(dict.fromkeys(terms))),))}

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The pids of the passages holding ``term`` (ascending) and how often each holds it,
        from packed_postings (see :meth:`postings_packed`). Removed passages' pids may be among
        them: callers look the pids up in :meth:`passage_table`."""
        # One statement, so one snapshot of both tables: a fold in another process between two
        # reads would move rows from one to the other.
        packed, tfs, recent, recent_tfs = self._db.execute(
            """SELECT (SELECT pids FROM packed_postings WHERE term = ?1), (SELECT tfs FROM packed_postings
               WHERE term = ?1), group_concat(pid), group_concat(tf) FROM recent_postings WHERE term = ?1""",
            (term,)).fetchone()
        pids = [np.frombuffer(packed or b"", dtype="<i4").astype(np.int64)]
        counts = [np.frombuffer(tfs or b"", dtype="<u2").astype(np.float32)]
        if recent:  # (newer passages than any packed: pids stay ascending)
            pids.append(np.fromstring(recent, dtype=np.int64, sep=","))
            counts.append(np.fromstring(recent_tfs, dtype=np.float32, sep=","))
        return np.concatenate(pids), np.concatenate(counts)

    def lexicon_postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`postings` from FTS5's own (no removed passages among them), for a base whose
        postings are not packed yet."""
        # One string of every occurrence's pid, parsed and counted in numpy: 1.3 ms a term where
        # a GROUP BY fetched as rows took 3.0-3.5 ms (60 query words, 225k postings, 80k
        # passages). For a term with 235k occurrences in 46k passages, SQLite takes 33 ms, and
        # split() with np.array took 33 ms more where np.fromstring takes 3.5; counting runs of
        # the sorted pids takes 0.6 ms where np.unique took 4.6.
        joined = self._db.execute("SELECT group_concat(doc) FROM lexicon_postings WHERE term = ?",
                                  (term,)).fetchone()[0]
        if not joined:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return _parsed(joined)

    def _every_lexicon_postings(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """:meth:`lexicon_postings` of every term, in one scan (fts5vocab gives them term by
        term, in pid order: no sort)."""
        for term, joined in self._db.execute("SELECT term, group_concat(doc) FROM lexicon_postings GROUP BY term"):
            yield term, *_parsed(joined)

    def pids_where(self, langs: list[str] | None, article_ids: list[str] | None) -> np.ndarray:
        """pids of the passages in one of ``langs`` and one of ``article_ids`` (None: any)."""
        sql, args = "SELECT pid FROM passages WHERE 1", []
        for column, values in (("lang", langs), ("article_id", article_ids)):
            if values is not None:
                sql += f" AND {column} IN ({','.join('?' * len(values))})"
                args += list(values)
        return np.array([r[0] for r in self._db.execute(sql, args)], dtype=np.int64)

    def passage_table(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """pids, their lengths in lexical terms, and their languages, by pid."""
        rows = self._db.execute("SELECT pid, nterms, lang FROM passages ORDER BY pid").fetchall()
        pids = np.array([r[0] for r in rows], dtype=np.int64)
        return pids, np.array([r[1] for r in rows], dtype=np.float32), [r[2] for r in rows]


def packed_upto(postings: str | None) -> int:
    """The pid up to which packed_postings holds every passage's postings, from the meta
    table's "postings" value; -1 if it holds none in this program's format."""
    made, _, upto = (postings or "").partition(":")
    return int(upto) if made == POSTINGS_FORMAT and upto.isdigit() else -1


def _parsed(joined: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`counted` of FTS5's postings of a term as group_concat gives them ("3,3,5,9")."""
    return counted(np.fromstring(joined, dtype=np.int64, sep=","))


def counted(occurrences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pids of ``occurrences`` (one pid per occurrence of a term), ascending, and
    how often each occurs."""
    if (occurrences[1:] < occurrences[:-1]).any():  # fts5vocab gives them in pid order
        occurrences = np.sort(occurrences)
    starts = np.flatnonzero(np.r_[True, occurrences[1:] != occurrences[:-1]])
    return occurrences[starts], np.diff(np.r_[starts, len(occurrences)]).astype(np.float32)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
