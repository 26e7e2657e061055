"""kb.ask: extractive answers whose every sentence is a verbatim, correctly cited span."""
from __future__ import annotations

import re

import pytest

from index.evaluate import load_questions

from .conftest import ROOT

pytestmark = pytest.mark.slow

# Every third question of the evaluation set: 32 questions in all three languages, kept short for CI time.
QUESTIONS = [q.question for q in load_questions(ROOT / "bench" / "eval" / "questions.jsonl")][::3]


def check_answer(kb, answer):
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", answer.text)]
    first_use = list(dict.fromkeys(markers))
    assert first_use == list(range(1, len(answer.citations) + 1))  # 1, 2, 3 in order of first use
    assert len(markers) == len(answer.quotes)
    for quote in answer.quotes:
        cited = answer.citations[quote.citation - 1]
        assert quote.text in cited.text
        assert kb.article_text(quote.article_id)[quote.start:quote.end] == quote.text
        assert cited.start <= quote.start and quote.end <= cited.end and cited.article_id == quote.article_id
        assert f"{quote.text} [{quote.citation}]" in answer.text


def test_every_answer_over_the_evaluation_questions_is_exactly_cited(seeds_kb):
    found = 0
    for question in QUESTIONS:
        answer = seeds_kb.ask(question)
        assert answer.citations
        if answer.found:
            found += 1
            check_answer(seeds_kb, answer)
        else:
            assert answer.quotes == [] and "[" not in answer.text
    assert found >= len(QUESTIONS) // 2


def test_unanswerable_question_says_so_in_its_language(seeds_kb):
    english = seeds_kb.ask("How do I renew a passport at the embassy?")
    chinese = seeds_kb.ask("如何在大使馆续签护照?")
    assert not english.found and english.text.startswith("Nothing in the knowledge base")
    assert not chinese.found and chinese.text.startswith("知识库里没有")
    assert english.citations  # the nearest excerpts are still shown


def test_sentences_from_one_article_are_in_reading_order(seeds_kb):
    for question in QUESTIONS[:12]:
        answer = seeds_kb.ask(question)
        by_article = {}
        for quote in answer.quotes:
            by_article.setdefault(quote.article_id, []).append(quote.start)
        assert all(starts == sorted(starts) for starts in by_article.values())
