"""The SQLite store (index/store.py): what the lexicon reports as it changes."""
from __future__ import annotations

import sqlite3

import numpy as np

from index import KnowledgeBase
from index.lexical import terms

from .fakes import HashEncoder


def test_known_terms_and_vocabulary_follow_adds_and_removes_and_reading_them_writes_nothing(tmp_path):
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        first = kb.add_text("Retention dashboards for community managers.\n\n"
                            "Each week the team reads retention dashboards and plans events.").article.id
        kb.add_text("社群运营的复盘方法。\n\n每次活动之后都要复盘,看看哪些环节留住了用户。")
        store = kb._store
        generation = store.generation
        asked = [*terms("Retention dashboards"), "复盘", "kubernet", "复盘"]
        assert store.known_terms(asked) == {*terms("Retention dashboards"), "复盘"}
        assert {*terms("Retention dashboards"), "复盘"} <= store.vocabulary() and "kubernet" not in store.vocabulary()
        assert store.known_terms([]) == set()
        # FTS5 syntax is read as text, and a lone quote does not fail
        assert store.known_terms(['NEAR(', 'AND', '"', "", "*", "复盘"]) == {"复盘"}
        assert store.generation == generation  # reading them is not a change
        kb.remove(first)
        assert kb._store.known_terms(asked) == {"复盘"}
        assert not set(terms("Retention dashboards")) & kb._store.vocabulary()


def test_known_terms_takes_more_terms_than_sqlite_binds_at_once(tmp_path):
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        kb.add_text("社群运营的复盘方法。\n\n每次活动之后都要复盘,看看哪些环节留住了用户。")
        limit = kb._store._db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        many = [f"absent{i}" for i in range(limit)] + ["复盘"]  # one more than a statement may bind
        assert kb._store.known_terms(many) == {"复盘"}


def test_postings_count_each_passages_occurrences_of_a_term(tmp_path):
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        kb.add_text("Retention matters. Retention dashboards show retention by week.\n\n"
                    "Campaigns need budgets and a calendar of events for the whole quarter.")
        kb.add_text("Community managers read retention figures every Monday morning.")
        rows = {r.passage.text: r.pid for r in kb._store.passages()}
        texts = [t for t in rows if "etention" in t]
        pids, counts = kb._store.postings(terms("retention")[0])
        expected = sorted((rows[t], t.lower().count("retention")) for t in texts)
        assert list(zip(pids.tolist(), counts.tolist())) == expected and 3 in counts
        none = kb._store.postings("kubernet")
        assert len(none[0]) == 0 and len(none[1]) == 0


def test_a_store_opened_while_its_file_is_swapped_knows_which_file_it_has(tmp_path, monkeypatch):
    # A rebuild in another process swaps a new base in (kb -> kb.old, kb.rebuild -> kb) just
    # after this process connects: the store must not take the new file's identity for the
    # one it opened (its reads then failed with "disk I/O error" while replaced() said
    # nothing had changed).
    import index.store
    from index.store import Store

    live, fresh = tmp_path / "kb", tmp_path / "kb.rebuild"
    for folder, which in ((live, "old"), (fresh, "new")):
        folder.mkdir()
        store = Store(folder / "store.sqlite")
        store.set_meta("which", which)
        store.close()
    real_connect, swaps = sqlite3.connect, []

    def connect_then_swap(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        if not swaps:
            swaps.append(True)
            live.rename(tmp_path / "kb.old")
            fresh.rename(live)
        return db

    monkeypatch.setattr(index.store.sqlite3, "connect", connect_then_swap)
    store = Store(live / "store.sqlite")
    monkeypatch.undo()
    assert swaps and not store.replaced()
    assert store.get_meta("which") == "new"  # the file at the path, as replaced() assumes
    store.close()


def test_a_failed_replace_keeps_the_earlier_version(tmp_path):
    import numpy as np
    import pytest

    from index.store import Store
    from ingest import fingerprint, parse, split

    store = Store(tmp_path / "store.sqlite")
    old = parse("Old notes about weekly community events and their hosts.", "text", source="s.txt")
    new = parse("New notes about monthly community events and their hosts.", "text", source="s.txt")
    for article in (old, new):
        passages = split(article)
        store.insert(article, passages, np.ones((len(passages), 4), np.float32), [["x"]] * len(passages),
                     fingerprint.minhash(article.text))
    passages = split(new)
    with pytest.raises(sqlite3.IntegrityError):  # `new` is stored already: the insert half fails
        store.replace([old.id], new, passages, np.ones((len(passages), 4), np.float32), [["x"]] * len(passages),
                      fingerprint.minhash(new.text))
    assert store.has_article(old.id) and store.from_source("s.txt") == sorted([old.id, new.id])


def test_occurrences_are_counted_per_passage_in_any_order():
    from index.store import counted

    for occurrences in ([3, 3, 5, 9, 9, 9], [9, 3, 9, 5, 3, 9]):
        pids, counts = counted(np.array(occurrences, dtype=np.int64))
        assert pids.tolist() == [3, 5, 9] and counts.tolist() == [2.0, 1.0, 3.0] and counts.dtype == np.float32
    assert counted(np.array([7], dtype=np.int64))[0].tolist() == [7]


def test_known_terms_finds_every_character_the_lexicon_holds_as_a_word(tmp_path):
    # U+FA6E is unassigned in Python's Unicode tables and a letter to SQLite's tokenizer: a
    # filter on Python's letters reported it absent (a review)
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        kb.add_text("运营\ufa6e的复盘方法。KPI 5G gpt4 IT运营。")
        held = set(kb._store.vocabulary())
        assert "\ufa6e" in held and kb._store.known_terms(sorted(held) + ["kubernet"]) == held
