"""Rebuild: re-clean, re-split and re-embed every stored article into a fresh base, then swap.

The swap is two renames (``kb`` -> ``kb.old``, ``kb.rebuild`` -> ``kb``). A process killed at
any point leaves one of these states, each repaired by :func:`recover` on the next open:
an unfinished ``kb.rebuild`` (no ``COMPLETE`` marker) is deleted; a finished one with ``kb``
gone is moved into place; a leftover ``kb.old`` is deleted once ``kb`` exists.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import ingest

from .store import Store

if TYPE_CHECKING:
    from .kb import KnowledgeBase

COMPLETE = "COMPLETE"


def _siblings(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + ".rebuild"), path.with_name(path.name + ".old")


def recover(path: Path) -> None:
    """Finish or undo a rebuild that was interrupted (see the module docstring)."""
    target, old = _siblings(path)
    if target.exists() and not (target / COMPLETE).exists():
        shutil.rmtree(target, ignore_errors=True)
    if not path.exists():
        if (target / COMPLETE).exists():
            target.rename(path)
        elif old.exists():
            old.rename(path)
    if path.exists():
        shutil.rmtree(old, ignore_errors=True)
        (path / COMPLETE).unlink(missing_ok=True)


def rebuild(kb: "KnowledgeBase", model, progress: Callable[[int, int], None] | None = None) -> int:
    from .kb import STORE_FILE, KnowledgeBase

    target, old = _siblings(kb.path)
    shutil.rmtree(target, ignore_errors=True)
    stored = list(kb._store.stored_articles())
    also_from = {a.id: a.also_from for a in kb.articles()}
    fresh = KnowledgeBase.open(target, model=model or kb.encoder)
    try:
        for done, row in enumerate(stored, 1):
            try:
                article = ingest.parse(row.raw, row.kind, source=row.source)
            except ingest.IngestError:
                # Today's cleaner rejects what an older one accepted: keep the stored text.
                article = ingest.Article(text=row.text, title=row.title, lang=row.lang, source=row.source,
                                         kind=row.kind, raw=row.raw, author=row.author, date=row.date)
            added = fresh.add_article(article)
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
        target.rename(kb.path)
        recover(kb.path)
        kb.encoder = fresh.encoder
        kb._attach(Store(kb.path / STORE_FILE))
    return len(stored)
