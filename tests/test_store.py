"""The SQLite store (index/store.py): what the lexicon reports as it changes."""
from __future__ import annotations

from index import KnowledgeBase
from index.lexical import terms

from .fakes import HashEncoder


def test_the_vocabulary_follows_adds_and_removes_and_writes_nothing(tmp_path):
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        first = kb.add_text("Retention dashboards for community managers.\n\n"
                            "Each week the team reads retention dashboards and plans events.").article.id
        kb.add_text("社群运营的复盘方法。\n\n每次活动之后都要复盘,看看哪些环节留住了用户。")
        store = kb._store
        generation = store.generation
        vocabulary = store.vocabulary()
        assert set(terms("Retention dashboards")) | {"复盘"} <= vocabulary
        assert store.generation == generation  # reading it is not a change
        kb.remove(first)
        after = kb._store.vocabulary()
        assert not set(terms("Retention dashboards")) & after and "复盘" in after
