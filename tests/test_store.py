"""The SQLite store (index/store.py): what the lexicon reports as it changes."""
from __future__ import annotations

import re
import sqlite3

import numpy as np
import pytest

from index import KnowledgeBase
from index.bridge import bridge
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


def _assert_packed_postings_are_the_lexicons(store):
    """Every term's packed (and recent) postings are FTS5's own, once removed passages' pids
    (which only FTS5 lets go of) are left out."""
    live = store.passage_table()[0]
    held = {r[0] for r in store._db.execute("SELECT term FROM packed_postings UNION SELECT term FROM recent_postings")}
    assert store.vocabulary() <= held
    for term in held:
        pids, tfs = store.postings(term)
        assert (np.diff(pids) > 0).all(), term
        kept = np.isin(pids, live)
        expected = store.lexicon_postings(term)
        assert pids[kept].tolist() == expected[0].tolist() and tfs[kept].tolist() == expected[1].tolist(), term


def _zipf_texts(count: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    words = "retention growth community event salary funnel content budget 运营 用户 增长 活动 社群 复盘".split()
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return ["\n\n".join(" ".join(rng.choices(words, weights, k=rng.randint(2, 30))) + "." for _ in range(3))
            for _ in range(count)]


def test_packed_postings_are_the_lexicons_through_adds_folds_replacements_and_removes(tmp_path, monkeypatch):
    from index import store as store_module

    monkeypatch.setattr(store_module, "RECENT_MIN_ROWS", 4)  # folds after a few adds
    monkeypatch.setattr(store_module, "RECENT_SHARE", 0.25)
    texts = _zipf_texts(30, seed=5)
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        store = kb._store
        ids = []
        for number, text in enumerate(texts):
            ids.append(kb.add_text(text, title=f"a{number}").article.id)
            if number % 7 == 0:
                _assert_packed_postings_are_the_lexicons(store)
        folded = dict(store._db.execute("SELECT term, length(pids) / 4 FROM packed_postings"))
        assert len(folded) >= 5 and max(folded.values()) > 20
        # what stays recent is fewer rows than would be folded
        for term, recent in store._db.execute("SELECT term, count(*) FROM recent_postings GROUP BY term"):
            assert recent < max(4, 0.25 * folded.get(term, 0)), term
        for article_id in ids[::3]:
            kb.remove(article_id)
        source = tmp_path / "notes.txt"  # an article replaced by its new version
        source.write_text(texts[0], encoding="utf-8")
        kb.add(source)
        source.write_text(texts[1] + "\n\nretention retention 复盘.", encoding="utf-8")
        kb.add(source)
        for text in _zipf_texts(10, seed=6):
            kb.add_text(text)
        _assert_packed_postings_are_the_lexicons(store)
        assert store.pack_postings() > 0  # made again from the lexicon: removed passages' pids gone
        assert not store._db.execute("SELECT count(*) FROM recent_postings").fetchone()[0]
        _assert_packed_postings_are_the_lexicons(store)
        live = set(store.passage_table()[0].tolist())
        for term in store.vocabulary():
            assert set(store.postings(term)[0].tolist()) <= live


def test_a_base_without_packed_postings_gets_them_when_opened(tmp_path, caplog):
    from index import kb as kb_module

    folder = tmp_path / "kb"
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
        for text in _zipf_texts(12, seed=8):
            kb.add_text(text)
        kb._store._db.execute("DELETE FROM packed_postings")  # as an older program left it
        kb._store._db.execute("DELETE FROM recent_postings")
        kb._store._db.execute("DELETE FROM meta WHERE key = 'postings'")
        assert not kb._store.postings_packed()
        before = kb._lexical.score("retention 运营 复盘", "en", bridge())  # read from FTS5's postings
        assert before
    caplog.set_level("WARNING")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kb_module, "RETOKENIZE_NOTICE_PASSAGES", 1)
        with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
            assert kb._store.postings_packed()
            _assert_packed_postings_are_the_lexicons(kb._store)
            assert kb._lexical.score("retention 运营 复盘", "en", bridge()) == before
    assert re.search(r"kb: packing the postings of \d+ passages \(about 1 s, once\)", caplog.text)
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:  # once
        kb._store._db.execute("UPDATE meta SET value = '1' WHERE key = 'analyzer'")  # terms made by an older program
        kb._store._db.execute("DELETE FROM packed_postings")
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:  # made again, and packed again
        assert kb._store.get_meta("analyzer") == kb_module.lexical.ANALYZER
        _assert_packed_postings_are_the_lexicons(kb._store)
        assert kb._lexical.score("retention 运营 复盘", "en", bridge()) == before


def test_passages_an_older_program_added_are_searched_and_packed_on_the_next_open(tmp_path, monkeypatch):
    from index import store as store_module

    folder = tmp_path / "kb"
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
        kb.add_text("Retention dashboards for community managers.")
        with monkeypatch.context() as older:  # a program that keeps no packed postings
            older.setattr(store_module.Store, "_record_postings", lambda self, pids, passage_terms: None)
            kb.add_text("Churn surveys and retention cohorts for the growth team.")
        assert not kb._store.postings_packed()
        scores = kb._lexical.score("churn", "en", bridge())  # from FTS5's postings meanwhile
        assert len(scores) == 1
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
        assert kb._store.postings_packed()
        _assert_packed_postings_are_the_lexicons(kb._store)
        assert kb._lexical.score("churn", "en", bridge()) == scores
        kb.add_text("Churn again: the retention cohorts of the growth team lost more users this month.")
        assert kb._store.postings_packed() and len(kb._lexical.score("churn", "en", bridge())) == 2


def test_a_check_finds_packed_postings_that_are_not_the_lexicons_and_packs_them_again(tmp_path):
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        ids = [kb.add_text(text).article.id for text in _zipf_texts(8, seed=9)]
        kb.remove(ids[-1])  # its pids stay in the packed postings: not a problem
        assert kb.check() == []
        store = kb._store
        store.pack_postings()
        term = store._db.execute("SELECT term FROM packed_postings ORDER BY length(pids) DESC").fetchone()[0]
        pids, tfs = store.postings(term)
        store._pack(term, pids, tfs + 1)  # counts off by one
        store._pack("nowhere", np.array([int(pids[0])]), np.ones(1, np.float32))  # a term no passage has
        assert kb.check() == ["2 term(s) whose packed postings were not the lexicon's (packed again)"]
        assert kb.check() == []
        _assert_packed_postings_are_the_lexicons(store)


def test_an_empty_base_from_an_older_program_packs_what_it_is_given(tmp_path):
    folder = tmp_path / "kb"
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
        kb._store._db.execute("DELETE FROM meta WHERE key IN ('postings', 'analyzer')")  # as an older program left it
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
        kb.add_text("Retention dashboards for community managers.")
        assert kb._store.postings_packed()
        assert kb._store._db.execute("SELECT count(*) FROM recent_postings").fetchone()[0] > 0


def test_a_check_while_another_process_removes_an_article_sees_one_state(tmp_path):
    from index.kb import STORE_FILE
    from index.store import Store

    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        ids = [kb.add_text(text).article.id for text in _zipf_texts(6, seed=1)]
        other = Store(tmp_path / "kb" / STORE_FILE)  # another process's connection
        store, connection = kb._store, kb._store._db

        class CommitsMidway:  # the other process removes an article as soon as the check read the passages
            def __getattr__(self, name):
                return getattr(connection, name)

            def execute(self, sql, *args):
                cursor = connection.execute(sql, *args)
                if sql == "SELECT pid FROM passages":
                    rows = cursor.fetchall()
                    other.delete(ids[0])
                    return iter(rows)
                return cursor

        store._db = CommitsMidway()
        try:
            assert store.check(kb.encoder.dim) == []
        finally:
            store._db = connection
            other.close()
        assert not store.has_article(ids[0]) and kb.check() == []


def test_removed_passages_leave_the_packed_postings_when_a_quarter_of_the_base_went(tmp_path):
    folder = tmp_path / "kb"

    def dead_pids(store):
        live = set(store.passage_table()[0].tolist())
        return {pid for (blob,) in store._db.execute("SELECT pids FROM packed_postings")
                for pid in np.frombuffer(blob, dtype="<i4").tolist()} - live

    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
        kb._store.pack_postings()  # (what is added below lands in recent postings otherwise)
        ids = [kb.add_text(text).article.id for text in _zipf_texts(12, seed=4)]
        kb._store.pack_postings()
        kb.remove(ids[0])
        removed = kb._store.removed_since_packed()
        assert 0 < removed < 0.25 * kb._store.count_passages()
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:  # too few removed to pack again
        assert kb._store.removed_since_packed() == removed and dead_pids(kb._store)
        for article_id in ids[1:4]:
            kb.remove(article_id)
        assert kb._store.removed_since_packed() >= 0.25 * kb._store.count_passages()
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
        assert kb._store.removed_since_packed() == 0 and not dead_pids(kb._store)
        _assert_packed_postings_are_the_lexicons(kb._store)


def test_passage_ids_past_what_the_packed_postings_hold_are_refused_by_name(tmp_path):
    from index import CorruptIndex

    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        with pytest.raises(CorruptIndex, match=r"kb/store.sqlite: passage ids passed 2\^31.*ingest rebuild"):
            kb._store._pack("retent", np.array([5, 2**31], dtype=np.int64), np.ones(2, np.float32))


def test_scores_from_packed_postings_after_removals_are_fts5s_bit_for_bit(tmp_path, monkeypatch):
    from index import store as store_module
    from index.lexical import LexicalScorer

    monkeypatch.setattr(store_module, "RECENT_MIN_ROWS", 4)
    monkeypatch.setattr(store_module, "RECENT_SHARE", 0.25)
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        ids = [kb.add_text(text).article.id for text in _zipf_texts(16, seed=3)]
        gone = kb.add_text("Quokka retention surveys for the zebrafish community.").article.id
        for article_id in [gone, *ids[::4]]:
            kb.remove(article_id)
        store = kb._store
        quokka = terms("quokka")
        assert store.packed_terms(quokka) == set(quokka) and store.known_terms(quokka) == set()
        queries = [("quokka retention", "en"), ("quokka 运营 growth", "zh"), ("社群 复盘 event", "zh"),
                   ("budget funnel salary", "en")]
        packed = [LexicalScorer(store).rank(q, g, bridge())[1] for q, g in queries]
        monkeypatch.setattr(store_module, "POSTINGS_FORMAT", "none")  # as before the base is packed
        for (query, query_group), scores in zip(queries, packed):
            assert LexicalScorer(store).rank(query, query_group, bridge())[1].tobytes() == scores.tobytes(), query


def _remove_half(kb) -> None:
    """Add 8 articles to ``kb`` and remove 4: its postings are then due to be packed again."""
    ids = [kb.add_text(text).article.id for text in _zipf_texts(8, seed=2)]
    for article_id in ids[:4]:
        kb.remove(article_id)
    assert kb._repack_due()


def test_a_read_only_base_past_its_removals_share_is_searched_and_opened_quietly(tmp_path, caplog, monkeypatch):
    from index import kb as kb_module

    folder = tmp_path / "kb"
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
        _remove_half(kb)
    store_file = str(folder / kb_module.STORE_FILE)
    # (file modes do not stop root, who runs CI: the store says it cannot be written instead)
    real_access = kb_module.os.access
    monkeypatch.setattr(kb_module.os, "access", lambda path, mode: real_access(path, mode) and str(path) != store_file)
    monkeypatch.setattr(kb_module, "RETOKENIZE_NOTICE_PASSAGES", 1)
    caplog.set_level("WARNING")
    for _ in range(2):
        with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
            assert kb.search("retention 运营", 3) and kb._repack_due()
    assert "packing" not in caplog.text


def test_an_error_that_ended_a_read_transaction_is_the_error_raised(tmp_path, monkeypatch):
    from index.store import Store

    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        kb.add_text("Retention dashboards for community managers.")
        store = kb._store

        def failing(self):  # as SQLite does on an I/O error: the transaction is rolled back
            self._db.execute("ROLLBACK")
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(Store, "_postings_differing", failing)
        with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):  # not "cannot commit"
            store.check(kb.encoder.dim)


def test_a_read_that_reopens_the_store_leaves_packing_to_the_next_open(tmp_path):
    folder = tmp_path / "kb"
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
        _remove_half(kb)
        kb._follow_rebuild(reopen=True)  # as a search does after a disk I/O error
        assert kb._repack_due() and kb.search("retention 运营", 3)
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb:
        assert not kb._repack_due()
