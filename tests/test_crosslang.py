"""Cross-language search with the real bundled model over the seeds."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def article_of(kb, lang):
    return {a.id for a in kb.articles() if a.lang == lang}


@pytest.mark.parametrize("question, lang, phrase", [
    ("Why does Xiaoli's salary stay low even though she helps users all the time?", "zh-Hans", "工资却还不到6k"),
    ("What is the value of operations according to the guide: solving problems the business must solve?",
     "zh-Hant", "而是現在業務中必須要解決的問題"),
])
def test_english_question_finds_chinese_passage(seeds_kb, question, lang, phrase):
    hits = seeds_kb.search(question, 5)
    chinese = [h for h in hits if h.lang == lang]
    assert chinese, [(h.lang, h.text[:40]) for h in hits]
    assert any(phrase in h.text for h in chinese)


@pytest.mark.parametrize("question, phrase", [
    ("To B运营和To C运营有什么区别?", "What is the difference between TO B operation and TO C operation?"),
    ("運營最怕什麼?", "Do you know what operators fear the most?"),
])
def test_chinese_question_finds_english_passage(seeds_kb, question, phrase):
    hits = seeds_kb.search(question, 5)
    assert any(h.lang == "en" and phrase in h.text for h in hits), [(h.lang, h.text[:40]) for h in hits]


def test_same_language_still_first(seeds_kb):
    hits = seeds_kb.search("小丽在一家互联网公司做运营,工资却不高", 3)
    assert hits[0].lang == "zh-Hans" and "小丽" in hits[0].text
