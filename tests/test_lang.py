"""Language tags on articles, passages and short questions (where langdetect alone fails)."""
from __future__ import annotations

import pytest

from ingest import detect_language

from .conftest import SEEDS


@pytest.mark.parametrize("name, lang", [("000", "en"), ("001", "en"), ("002", "zh-Hant"), ("003", "en"), ("004", "zh-Hans")])
def test_seed_articles(name, lang):
    assert detect_language(SEEDS[name].read_text(encoding="utf-8")) == lang


@pytest.mark.parametrize("text, lang", [
    ("運營指南", "zh-Hant"),               # langdetect says "ko"
    ("運營人員最怕什麼", "zh-Hant"),
    ("B端运营怎么做", "zh-Hans"),
    ("私域", "zh-Hans"),
    ("to B operations career growth", "en"),   # langdetect guesses from 24 letters
    ("KPI", "en"),
    ("運營 KPI 怎麼定", "zh-Hant"),
    ("运营人员的KPI应该怎么定", "zh-Hans"),
    ("コンテンツ運用の基本", "ja"),
    ("小紅書・KOC要怎麼篩選?", "zh-Hant"),     # ・ and ー are not kana: these were "ja"
    ("史蒂夫・乔布斯的产品运营思路", "zh-Hans"),
    ("・提前一周预热\n・准备满减券\n・社群同步通知", "zh-Hans"),
    ("콘텐츠 운영의 기본 원칙", "ko"),
    ("La vie est belle et nous sommes heureux ici ensemble.", "fr"),
    ("", "und"), ("1234 !!", "und"),
])
def test_short_texts(text, lang):
    assert detect_language(text) == lang


def test_traditional_with_simplified_leftovers_is_traditional():
    # The traditional seed is a machine conversion that kept 什么 and 干貨.
    assert detect_language("那么什么算作有價值的事情?查看更多干貨請關注") == "zh-Hant"


def test_a_caller_who_knows_the_latin_language_skips_langdetect(monkeypatch):
    from ingest import lang

    monkeypatch.setattr(lang, "_langdetect", lambda text: pytest.fail("langdetect was asked"))
    text = "Community operations keep members coming back every week with events and rituals."
    assert lang.detect_language(text, latin="en") == "en"
    assert lang.detect_language("社群運營讓成員每週都回來參加活動。", latin="en") == "zh-Hant"
