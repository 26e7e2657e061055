"""Rebuild: re-clean, re-split and re-embed every stored article into a fresh base, then swap."""
from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Callable

import ingest

from .lexical import LexicalScorer
from .store import Store

if TYPE_CHECKING:
    from .kb import KnowledgeBase


def rebuild(kb: "KnowledgeBase", model: str | None, progress: Callable[[int, int], None] | None = None) -> int:
    from .kb import STORE_FILE, KnowledgeBase

    target = kb.path.with_name(kb.path.name + ".rebuild")
    shutil.rmtree(target, ignore_errors=True)
    stored = list(kb._store.stored_articles())
    also_from = {a.source: a.also_from for a in kb.articles()}
    fresh = KnowledgeBase.open(target, model=model or kb.encoder)
    try:
        for done, (raw, kind, source, _title, _author, _date) in enumerate(stored, 1):
            added = fresh.add_article(ingest.parse(raw, kind, source=source))
            for other in also_from.get(source, ()):
                fresh._store.add_source(added.article.id, other)
            if progress:
                progress(done, len(stored))
    except BaseException:
        fresh.close()
        shutil.rmtree(target, ignore_errors=True)
        raise
    fresh.close()
    with kb._lock:
        kb._store.close()
        old = kb.path.with_name(kb.path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        kb.path.rename(old)
        target.rename(kb.path)
        shutil.rmtree(old, ignore_errors=True)
        kb._store = Store(kb.path / STORE_FILE)
        kb._lexical = LexicalScorer(kb._store)
        kb.encoder = fresh.encoder
        kb._vectors = None
        kb._vectors_generation = -1
        kb._dirty = False
    return len(stored)
