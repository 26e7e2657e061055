"""Artifact repair: what it changes, what it must leave alone, and the mojibake signs."""
from __future__ import annotations

import pytest

from ingest.repair import has_mojibake, repaired


@pytest.mark.parametrize("raw, fixed", [
    ("這是經(jīng)驗和產(chǎn)品。", "這是經驗和產品。"),
    ("創造價值(value)和成本(cost)", "創造價值(value)和成本(cost)"),      # real glosses stay
    ("拼音(pinyin)不是(shì)註音", "拼音(pinyin)不是註音"),              # only toned syllables go
    ("經（jīng）過一段時間，長（zhǎng）期來看", "經過一段時間，長期來看"),     # full-width parentheses too
    ("創造價值（value）和方案（a）與（KPI）", "創造價值（value）和方案（a）與（KPI）"),  # full-width glosses stay
    ("經(jīng）過", "經(jīng）過"),                                        # mismatched widths are no annotation
    ("Tom &amp; Jerry&nbsp;said &#8220;hi&#8221;", "Tom & Jerry said “hi”"),
    ("&amp;amp;", "&"),                                                  # nested entities, to a fixed point
    ("the word “ operation ” is ( here )", "the word “operation” is (here)"),
    ("in the ’90s", "in the ’90s"),
    ("运营 工作 很重要", "运营工作很重要"),
    ("首页 国内 国际 财经 科技", "首页 国内 国际 财经 科技"),              # a menu keeps its spaces
    ("e\u0301\r\nx\u200by", "é\nxy"),
])
def test_repairs(raw, fixed):
    assert repaired(raw) == fixed


def test_repaired_is_a_fixed_point():
    for text in ("&amp;amp;lt;", "經(jīng) 驗 ,", " a \u00a0 b "):
        assert repaired(repaired(text)) == repaired(text)


def test_mojibake_signs():
    assert has_mojibake("私域\ue1ea运营") and has_mojibake("运营\ufffd")
    assert has_mojibake("锟斤拷") and has_mojibake("Ã©tÃ©")
    assert not has_mojibake("一个运营?运营工作,用户,内容,活动,数据")


def test_the_first_mojibake_sign_is_where_it_starts():
    from ingest.repair import mojibake_signs

    assert mojibake_signs("利益,要規?;\ue1ea禺a出")[0] == 4  # 規 of the cut sequence 規?;
    assert mojibake_signs("ok Ã© and \ufffd")[0] == 3
    assert mojibake_signs("一个运营?运营工作") == []
    wide = "，".join(["运营"] * 6)
    assert mojibake_signs(f"{wide}用户?内容")[0] == len(wide) + 1  # full-width text: a lone ? is a lost character


def test_mojibake_signs_are_every_sign_in_order():
    from ingest.repair import mojibake_signs

    wide = "，".join(["运营"] * 6)
    assert mojibake_signs(f"{wide}。用户?内容。Ã©\ufffd") == [len(wide) + 2, len(wide) + 7, len(wide) + 9]
    assert mojibake_signs("一个运营?运营工作") == []
