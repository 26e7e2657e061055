"""clean_text: artifact repair and chrome removal, on the seeds and on text built to differ from them."""
from __future__ import annotations

import pytest

from ingest import clean_text
from ingest.clean import PINYIN_ARTIFACT, clean

from .conftest import SEEDS


def seed(name: str) -> str:
    return clean_text(SEEDS[name].read_text(encoding="utf-8"))


# --- the seeds: no chrome, no lost body ----------------------------------------------------

def test_seed_000_keeps_body_and_drops_prev_next_and_teasers():
    text = seed("000")
    assert text.startswith("Do you know what operators fear the most?")
    assert "Go to the front line." in text
    assert text.endswith("Comments are welcome.")
    for chrome in ("<<:", ">>:", "Entrepreneurship has been repeatedly frustrated", "intel...", "&quo", "|"):
        assert chrome not in text


def test_seed_001_drops_duplicate_title_notice_ad_and_recommendations():
    text = seed("001")
    assert text.count("Operations = miscellaneous tasks? 90% of operators are going astray!") == 1
    assert "A few days ago, a colleague from my previous team" in text
    assert text.endswith("your leader will naturally consider letting you take charge.")
    for chrome in ("Qinggua Media", "Product promotion services", "<<:", "Recommend", "TikTok", "blind box"):
        assert chrome not in text


def test_seed_002_repairs_pinyin_and_drops_summary_tags_notices_and_tools():
    text = seed("002")
    assert not PINYIN_ARTIFACT.search(text)
    assert "(使用復雜和業務復雜)" in text  # a real parenthesis stays
    assert text.count("(chǎn)") == 1  # left only inside the mojibake span `規?;禺a(chǎn)出`
    assert "經過小一年的故事" in text and "新產品的運營" in text
    assert text.count("最近有點焦頭爛額") == 1  # the summary that repeats paragraphs 1-2 is gone
    assert "Tags:" not in text
    assert "勿貪功,方能有所成就!" in text and text.rstrip().endswith("《簡約,而不簡單》。")
    for chrome in ("本文授權轉載", "文章申明", "登錄後可以評論", "135編輯器", "熱門工具", "推薦文章", "分享到", "運營導航"):
        assert chrome not in text


def test_seed_002_mojibake_is_flagged():
    assert "mojibake" in clean(SEEDS["002"].read_text(encoding="utf-8")).flags
    assert clean(SEEDS["001"].read_text(encoding="utf-8")).flags == ()


def test_seed_003_cuts_the_notice_glued_to_the_last_body_line():
    text = seed("003")
    assert text.startswith("In the Internet space")
    assert "What is the difference between TO B operation and TO C operation?" in text
    assert text.endswith("to have pleasant exchanges...")
    for chrome in ("DecemberYue", "Qinggua", "Product promotion", ">>:", "App nat..."):
        assert chrome not in text


def test_seed_004_drops_seo_wrapper_gossip_teasers_and_site_footer():
    text = seed("004")
    assert text.startswith("五一小长假")
    assert "小丽只是挂了一个运营的牌子" in text
    assert text.endswith("以最终利益为核心。")
    for chrome in ("今天给大家分享", "小编", "[查看全文]", "4457人", "批发市场网", "客服QQ", "Copyright", "53货源网"):
        assert chrome not in text


# --- rules that generalise, on text unlike the seeds ---------------------------------------

def test_pinyin_rule_keeps_real_glosses():
    assert clean_text("我們要創造價值(value),而不是成本(cost)。") == "我們要創造價值(value),而不是成本(cost)。"
    assert clean_text("這是經(jīng)驗和產(chǎn)品。") == "這是經驗和產品。"


def test_whitespace_repairs():
    assert clean_text("Autohome , Maoyan and\u00a0Douyin .") == "Autohome, Maoyan and Douyin."
    assert clean_text("运营 工作 很重要") == "运营工作很重要"
    assert clean_text("a\r\nb\u200b") == "a\nb"


def test_chrome_suffix_in_another_shape():
    body = "\n\n".join(
        f"Paragraph {i} explains how a content team plans its weekly calendar, measures reach and "
        f"engagement, and decides which formats to keep for the next quarter of work." for i in range(6))
    page = body + "\n\nRelated articles\nHow to grow a newsletter...\nTen tips for webinars...\n" \
                  "Why your funnel leaks...\n© 2024 Example Media. All rights reserved."
    assert clean_text(page) == body


def test_chinese_chrome_suffix_in_another_shape():
    body = "\n".join(f"第{i}段:私域运营要先想清楚用户为什么留下来,再设计每周的内容节奏和活动,最后用数据检查留存是否真的提升了。" for i in range(8))
    page = body + "\n上一篇:如何做好社群运营\n下一篇:活动运营的三个误区\n相关推荐\n版权所有 © 2023 某某网 未经许可禁止转载"
    assert clean_text(page) == body


def test_a_notice_phrase_inside_the_body_is_kept():
    text = ("Copyright law matters to content teams. " * 3 + "\n") + "\n".join(
        "Content teams reuse material every day, so they must know what reprinting requires and when to ask." for _ in range(3))
    assert clean_text(text).startswith("Copyright law matters")


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "短", "...", "<<: x"])
def test_degenerate_input_does_not_raise(text):
    assert isinstance(clean_text(text), str)


def test_idempotent_on_seeds():
    for path in SEEDS.values():
        once = clean_text(path.read_text(encoding="utf-8"))
        assert clean_text(once) == once
