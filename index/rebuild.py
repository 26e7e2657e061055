"""Rebuild: re-clean, re-split and re-embed every stored article into a fresh base, then swap.

The swap is two renames (``kb`` -> ``kb.old``, ``kb.rebuild`` -> ``kb``). A process killed at
any point leaves one of these states, each repaired by :func:`recover` on the next open:
an unfinished ``kb.rebuild`` (no ``COMPLETE`` marker) is deleted; a finished one with ``kb``
gone is moved into place; a leftover ``kb.old`` is deleted once ``kb`` exists.

A rebuild holds the writer lock of ``kb`` throughout, so no add is lost to the copy, and
:func:`recover` deletes leftovers only while it can take that lock: a rebuild running in
another process is never mistaken for an interrupted one.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import ingest

from .errors import Busy
from .lock import WriterLock
from .store import Store, StoredArticle

if TYPE_CHECKING:
    from .kb import KnowledgeBase

COMPLETE = "COMPLETE"


def _siblings(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + ".rebuild"), path.with_name(path.name + ".old")


def recover(path: Path) -> None:
    """Finish or undo a rebuild that was interrupted (see the module docstring)."""
    target, old = _siblings(path)
    if not path.exists():  # killed (or still) between the two renames: finish the swap
        if (target / COMPLETE).exists():
            _rename(target, path)
        elif old.exists():
            _rename(old, path)
    if path.exists() and (target.exists() or old.exists() or (path / COMPLETE).exists()):
        try:
            with WriterLock(path).hold(timeout=0):
                _clean(path)
        except Busy:
            pass  # a writer, perhaps a rebuild, is at work: leave its files alone


def _rename(source: Path, destination: Path) -> None:
    """Rename, unless another process did the same rename first."""
    try:
        source.rename(destination)
    except OSError:
        if not destination.exists():
            raise


def _clean(path: Path) -> None:
    """Delete what an interrupted rebuild left beside ``path`` (the writer lock held)."""
    target, old = _siblings(path)
    shutil.rmtree(target, ignore_errors=True)  # kb exists, so kb is the live base
    shutil.rmtree(old, ignore_errors=True)
    (path / COMPLETE).unlink(missing_ok=True)
    from .kb import STORE_FILE

    if (path / STORE_FILE).exists():  # killed after marking kb superseded, before the swap
        store = Store(path / STORE_FILE)
        if store.get_meta("superseded"):
            store.set_meta("superseded", "")
        store.close()


def _reparse(row: StoredArticle) -> ingest.Article:
    """Clean a stored article's raw text again, as it was first added."""
    try:
        article = ingest.parse(row.raw, row.kind, source=row.source)
        if article.title != row.title and row.kind != "html":  # the title was given (add_text)
            article = ingest.parse(row.raw, row.kind, source=row.source, title=row.title,
                                   author=row.author, date=row.date)
        return article
    except ingest.IngestError:
        # Today's cleaner rejects what an older one accepted: keep the stored text.
        return ingest.Article(text=row.text, title=row.title, lang=row.lang, source=row.source,
                              kind=row.kind, raw=row.raw, author=row.author, date=row.date)


def rebuild(kb: "KnowledgeBase", model, progress: Callable[[int, int], None] | None = None) -> int:
    from .kb import STORE_FILE, KnowledgeBase

    target, old = _siblings(kb.path)
    shutil.rmtree(target, ignore_errors=True)
    stored = list(kb._store.stored_articles())
    also_from = {a.id: a.also_from for a in kb.articles()}
    fresh = KnowledgeBase.open(target, model=model or kb.encoder, vector_store=kb.vector_store.backend,
                               milvus_uri=kb.vector_store.milvus_uri)
    try:
        for done, row in enumerate(stored, 1):
            added = fresh._add(_reparse(row), replace=False, dedupe=False)  # a copy: every stored article stays
            for other in also_from.get(row.id, ()):
                fresh._store.add_source(added.article.id, other)
            if progress:
                progress(done, len(stored))
        fresh.close()
        (target / COMPLETE).touch()
    except BaseException:
        fresh.close()
        shutil.rmtree(target, ignore_errors=True)
        raise
    with kb._lock:
        kb._store.set_meta("superseded", "1")  # readers in other processes reopen
        kb._store.close()
        shutil.rmtree(old, ignore_errors=True)
        kb.path.rename(old)
        _rename(target, kb.path)  # a reader may have finished the swap
        _clean(kb.path)
        kb.encoder = fresh.encoder
        kb._attach(Store(kb.path / STORE_FILE))
    return len(stored)
