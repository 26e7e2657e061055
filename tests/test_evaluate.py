"""The evaluation command's arithmetic, on a small base with the hashing encoder."""
from __future__ import annotations

import json
import time

import pytest

from index import KnowledgeBaseError
from index.evaluate import Question, evaluate, load_questions

from .conftest import ROOT

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


def test_the_cold_first_search_is_not_timed(kb, monkeypatch):
    # The first query of a process pays for loading the model and the index: stand in for
    # that with an encoder whose first call is slow.
    calls = []
    encode = kb.encoder.encode_queries

    def cold_then_warm(texts):
        calls.append(texts)
        if len(calls) == 1:
            time.sleep(0.5)
        return encode(texts)

    monkeypatch.setattr(kb.encoder, "encode_queries", cold_then_warm)
    report = evaluate(kb, [Question("moderators welcome members", ("Moderators welcome",), "community", "en"),
                           Question("社群活动 留存", ("每周的社群活动",), "private", "zh-Hans")])
    assert calls, "the stand-in encoder was not used"
    assert report.latency_ms()["p95"] < 250


def test_records_that_would_be_scored_silently_are_errors_naming_the_line(tmp_path):
    path = tmp_path / "q.jsonl"
    good = json.dumps({"question": "who welcomes members?", "article": "community", "answers": ["welcome"]})
    for bad, message in [
        ({"question": "who welcomes members?", "article": "community"}, "q.jsonl:2: no 'answers'"),
        ({"question": "who welcomes members?", "article": "community", "answers": []}, "q.jsonl:2: no 'answers'"),
        # One blank phrase among good ones made every passage a hit (a review: rank 1 for anything)
        ({"question": "who?", "article": "community", "answers": ["welcome", " "]}, "q.jsonl:2: an empty phrase"),
        ({"question": "who?", "article": None, "answers": [""]}, "q.jsonl:2: an empty phrase"),
        ({"question": "who?", "article": "community", "anwsers": ["welcome"]}, "q.jsonl:2: unknown key.*'anwsers'"),
        ({"question": "who?", "answers": ["welcome"]}, "q.jsonl:2: no 'article'"),
        ({"question": "who?", "article": "", "answers": ["welcome"]}, "q.jsonl:2: 'article' must be"),
    ]:
        path.write_text(good + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
        with pytest.raises(KnowledgeBaseError, match=message):
            load_questions(path)


def test_an_empty_questions_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "empty.jsonl"
    for text in ("", "\n  \n"):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(KnowledgeBaseError, match=r"empty\.jsonl: no questions"):
            load_questions(path)


def test_the_shipped_question_files_still_load():
    questions = load_questions(ROOT / "bench" / "eval" / "questions.jsonl")
    unanswerable = load_questions(ROOT / "bench" / "eval" / "unanswerable_extra.jsonl")
    assert all(q.answers for q in questions if q.article is not None)
    assert unanswerable and all(q.article is None for q in unanswerable)


def test_an_ambiguous_article_prefix_is_an_error_naming_the_matching_ids(fake_kb):
    # Seventeen ids in sixteen hex digits: two of them share their first digit.
    topics = ("newsletters", "coupons", "livestreams", "referrals", "webinars", "podcasts", "surveys",
              "badges", "contests", "forums", "meetups", "tutorials", "hotlines", "chatbots", "reviews",
              "bundles", "trials")
    ids = [fake_kb.add_text(f"Our team uses {t} to bring back quiet members every {t[:3]} season.",
                            title=t, source=f"/docs/{t}.txt").article.id for t in topics]
    assert len(set(ids)) == 17
    prefix = next(i[0] for i in ids if sum(j.startswith(i[0]) for j in ids) > 1)
    sharing = [i for i in ids if i.startswith(prefix)]
    with pytest.raises(KnowledgeBaseError, match=f"'{prefix}' is ambiguous") as raised:
        evaluate(fake_kb, [Question("moderators", ("moderators",), prefix, "en")])
    assert all(i in str(raised.value) for i in sharing)
    exact = evaluate(fake_kb, [Question("moderators", ("moderators",), sharing[0], "en")])
    assert exact.metrics()["n"] == 1
