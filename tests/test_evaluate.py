"""The evaluation command's arithmetic, on a small base with the hashing encoder."""
from __future__ import annotations

import json

import pytest

from index import KnowledgeBaseError
from index.evaluate import Question, evaluate, load_questions

EN = "Community operations keep members active. Moderators welcome new members every day."
ZH = "私域流量运营的核心是用户关系。每周的社群活动提升留存。"


@pytest.fixture
def kb(fake_kb):
    fake_kb.add_text(EN, title="Community", source="/docs/community.txt")
    fake_kb.add_text(ZH, title="私域", source="/docs/private.txt")
    return fake_kb


def test_ranks_and_language_split(kb):
    report = evaluate(kb, [
        Question("moderators welcome members", ("Moderators welcome new members",), "community", "en"),
        Question("社群活动 留存", ("每周的社群活动",), "private", "zh-Hans"),
        Question("社群 moderators", ("Moderators welcome",), "community", "zh-Hans"),
        Question("quantum chromodynamics", (), None, "en"),
    ])
    same, cross = report.metrics(False), report.metrics(True)
    assert same["n"] == 2 and cross["n"] == 1
    assert same["hit@5"] == 1.0
    assert report.no_answer()["n"] == 1
    summary = report.summary()
    assert set(summary) == {"same", "cross", "all", "no_answer", "latency_ms"}
    assert "same-lang" in report.table() and "cross-lang" in report.table()


def test_mrr_counts_reciprocal_rank(kb):
    report = evaluate(kb, [Question("members", ("no such phrase anywhere",), "community", "en")])
    assert report.metrics()["hit@5"] == 0.0 and report.metrics()["mrr@10"] == 0.0


def test_unknown_article_and_bad_file_are_errors(kb, tmp_path):
    with pytest.raises(KnowledgeBaseError, match="nowhere"):
        evaluate(kb, [Question("x", ("x",), "nowhere", "en")])
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": "a", "answers": ["b"], "article": None}) + "\n\n" + '{"answers": []}\n',
                    encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="q.jsonl:3"):
        load_questions(path)
