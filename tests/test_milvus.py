"""The same scenarios on both vector stores (FAISS and Milvus, the latter on milvus-lite):
add, search, remove, search after remove, reopen, switch, re-derive, rebuild, and with the
real model: answer found / not found and a cross-language hit."""
from __future__ import annotations

import importlib.util

import pytest

from index import KnowledgeBase
from index.vectorstore import VectorStoreError

from .conftest import SEEDS
from .fakes import HashEncoder

HAVE_MILVUS = importlib.util.find_spec("pymilvus") is not None and importlib.util.find_spec("milvus_lite") is not None
NEEDS_MILVUS = pytest.mark.skipif(not HAVE_MILVUS, reason="pymilvus[milvus-lite] is not installed "
                                                          "(pip install -e '.[milvus]')")
BACKENDS = ["faiss", pytest.param("milvus", marks=NEEDS_MILVUS)]

EN = ("Community operations keep members active. Moderators welcome new members every day. "
      "A weekly event gives people a reason to come back.")
ZH = "社群运营的核心是让成员保持活跃。每天欢迎新成员加入。每周的活动让大家有理由回来。"


def hits_of(kb, query, k=5):
    return [(h.article_id, h.start) for h in kb.search(query, k)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_add_search_remove_reopen(tmp_path, backend):
    path = tmp_path / "kb"
    with KnowledgeBase.open(path, model=HashEncoder(), vector_store=backend) as kb:
        assert kb.vector_store.backend == backend
        keep = kb.add_text(ZH, title="社群").article
        gone = kb.add_text(EN, title="Community").article
        for source in SEEDS.values():
            kb.add(source)
        assert any(h.article_id == gone.id for h in kb.search("weekly event members", 5))
        kb.remove(gone.id)
        after = kb.search("weekly event members", 5)
        assert after and all(h.article_id != gone.id for h in after)
        assert len(kb._dense.current()) == len(kb.passages())
        assert kb.check() == []
        before = hits_of(kb, "運營 B端")
        filtered = kb.search("members 社群 operators", 10, langs=["zh-Hans"])
        assert filtered and {h.lang for h in filtered} == {"zh-Hans"}
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:  # the choice is recorded
        assert kb.vector_store.backend == backend
        assert hits_of(kb, "運營 B端") == before
        assert {a.id for a in kb.articles()} >= {keep.id} and gone.id not in {a.id for a in kb.articles()}
        assert kb.check() == []


@NEEDS_MILVUS
def test_both_backends_rank_alike_and_a_base_can_switch(tmp_path):
    path = tmp_path / "kb"
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        for source in SEEDS.values():
            kb.add(source)
        assert kb.vector_store.backend == "faiss"
        on_faiss = {q: kb.search(q, 8) for q in ("運營 B端", "operators fear", "小丽 工资")}
    with KnowledgeBase.open(path, model=HashEncoder(), vector_store="milvus") as kb:  # derived from the store
        for query, expected in on_faiss.items():
            got = kb.search(query, 8)
            assert [(h.article_id, h.start) for h in got] == [(h.article_id, h.start) for h in expected]
            assert [h.similarity for h in got] == pytest.approx([h.similarity for h in expected], abs=1e-5)
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        assert kb.vector_store.backend == "milvus"


@NEEDS_MILVUS
def test_a_collection_that_disagrees_with_the_store_is_derived_again_on_open(tmp_path):
    path = tmp_path / "kb"
    with KnowledgeBase.open(path, model=HashEncoder(), vector_store="milvus") as kb:
        kb.add(SEEDS["001"])
        expected = hits_of(kb, "operators career", 3)
        # A writer that died between its store commit and its Milvus call: rows missing.
        view = kb._dense.current()
        kb._dense._client.delete(view.collection, ids=[pid for pid, _ in view.search(kb._dense.centering.query(
            kb.query_vector("operators career"), "en"), 3)])
        assert len(view) == len(kb.passages()) - 3
        assert len(kb.check()) == 1  # counted and reported; derived again at the next read
        assert len(kb._dense.current()) == len(kb.passages())
        kb._dense._client.drop_collection(kb._dense.current().collection)  # and a lost collection
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        assert hits_of(kb, "operators career", 3) == expected
        assert kb.check() == []
        assert [c for c in kb._dense._client.list_collections()] == [kb._dense.current().collection]


@NEEDS_MILVUS
@pytest.mark.parametrize("method", ["upsert", "delete"])
def test_a_failed_milvus_call_is_mended_in_the_same_handle(tmp_path, monkeypatch, method):
    path = tmp_path / "kb"
    with KnowledgeBase.open(path, model=HashEncoder(), vector_store="milvus") as kb:
        kb.add(SEEDS["001"])
        zh = kb.add_text(ZH, title="社群").article
        real = getattr(kb._dense._client, method)

        def down(*args, **kwargs):  # Milvus fails once, after the store has committed
            monkeypatch.setattr(kb._dense._client, method, real)
            raise ConnectionError("Milvus went away")

        monkeypatch.setattr(kb._dense._client, method, down)
        with pytest.raises(VectorStoreError, match=r"store\.sqlite.*Milvus at .*failed.*Milvus went away"):
            if method == "upsert":
                kb.add_text(EN, title="Community")
            else:
                kb.remove(zh.id)
        # The store has the change; the collection this handle searches must have it too, with
        # no reopen: vectors of removed passages gone, those of added ones searchable.
        view = kb._dense.current()
        assert len(view) == len(kb.passages())
        assert kb.check() == []
        if method == "upsert":
            assert any(h.title == "Community" for h in kb.search("weekly event members", 3))
        else:
            assert zh.id not in {a.id for a in kb.articles()}


@NEEDS_MILVUS
def test_two_bases_in_one_process_share_the_collection(tmp_path):
    path = tmp_path / "kb"
    reader = KnowledgeBase.open(path, model=HashEncoder(), vector_store="milvus")
    reader.add_text(EN, title="Community")
    with KnowledgeBase.open(path, model=HashEncoder()) as writer:
        new = writer.add_text(ZH, title="社群").article
    assert any(h.article_id == new.id for h in reader.search("社群运营 成员 活跃", 5))
    view = reader._dense.current()
    with KnowledgeBase.open(path, model=HashEncoder()) as writer:
        writer._dense.derive()  # a new collection; the one the reader holds is dropped
    assert view.collection not in writer._dense._client.list_collections()
    assert view.search(reader._dense.centering.query(reader.query_vector("members"), "en"), 3)
    assert len(view) == len(reader.passages()) and view.collection == reader._dense.current().collection
    reader.close()


@NEEDS_MILVUS
def test_rebuild_keeps_the_milvus_backend(tmp_path):
    path = tmp_path / "kb"
    with KnowledgeBase.open(path, model=HashEncoder(), vector_store="milvus") as kb:
        ids = {kb.add(s).article.id for s in (SEEDS["001"], SEEDS["004"])}
        assert kb.rebuild() == 2
        assert kb.vector_store.backend == "milvus" and {a.id for a in kb.articles()} == ids
        assert any(h.lang == "zh-Hans" for h in kb.search("小丽 运营", 3))
        assert kb.check() == []
        assert not list(path.glob("*.faiss"))  # built on Milvus, not on FAISS and then derived
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        assert kb.vector_store.backend == "milvus" and kb.check() == []


def test_the_choice_comes_from_the_environment_for_a_new_base(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_VECTOR_STORE", "chroma")
    with pytest.raises(VectorStoreError, match="'chroma'.*faiss, milvus"):
        KnowledgeBase.open(tmp_path / "kb", model=HashEncoder())
    monkeypatch.setenv("KB_VECTOR_STORE", "faiss")
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        assert kb.vector_store.backend == "faiss"


@NEEDS_MILVUS
def test_milvus_from_the_environment_with_its_uri(tmp_path, monkeypatch):
    uri = str(tmp_path / "elsewhere.db")
    monkeypatch.setenv("KB_VECTOR_STORE", "milvus")
    monkeypatch.setenv("KB_MILVUS_URI", uri)
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        kb.add_text(EN, title="Community")
        assert kb.vector_store.milvus_uri == uri and kb.search("members", 1)
    assert (tmp_path / "elsewhere.db").is_dir() and not (tmp_path / "kb" / "milvus.db").exists()
    monkeypatch.delenv("KB_VECTOR_STORE")
    monkeypatch.delenv("KB_MILVUS_URI")
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:  # recorded, not from the env
        assert kb.vector_store.milvus_uri == uri and kb.search("members", 1)
        kb.rebuild()  # the old base's collections are dropped from the shared Milvus
        assert kb.vector_store.milvus_uri == uri and kb.search("members", 1)
        assert kb._dense._client.list_collections() == [kb._dense.current().collection]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_answers_and_cross_language_hits_with_the_real_model(seeds_kb_copy, backend):
    with KnowledgeBase.open(seeds_kb_copy, vector_store=backend) as kb:
        found = kb.ask("What do operators fear the most?")
        assert found.found and found.citations
        missing = kb.ask("How do I renew a passport at the embassy?")
        assert not missing.found and missing.text.startswith("Nothing in the knowledge base")
        hits = kb.search("Why does Xiaoli's salary stay low even though she helps users all the time?", 5)
        assert any(h.lang == "zh-Hans" and "工资却还不到6k" in h.text for h in hits)
        hits = kb.search("運營最怕什麼?", 5)
        assert any(h.lang == "en" and "Do you know what operators fear the most?" in h.text for h in hits)


@NEEDS_MILVUS
def test_a_second_process_on_a_milvus_lite_folder_is_told_why(tmp_path):
    import subprocess
    import sys

    from .conftest import ROOT

    path = tmp_path / "kb"
    with KnowledgeBase.open(path, model=HashEncoder(), vector_store="milvus") as kb:
        kb.add_text(EN, title="Community")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from index import KnowledgeBase\nfrom tests.fakes import HashEncoder\n"
         f"kb = KnowledgeBase.open({str(path)!r}, model=HashEncoder())\nkb.search('members', 1)\n"
         "print('holding', flush=True)\nsys.stdin.read()\n"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(VectorStoreError, match=r"milvus\.db.*held by one process"):
            KnowledgeBase.open(path, model=HashEncoder())
    finally:
        holder.stdin.close()  # the holder exits, releasing the folder
        holder.wait(timeout=60)
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        assert kb.search("members", 1)
