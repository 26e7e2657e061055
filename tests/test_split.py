"""Passage splitting: whole sentences, exact offsets, token limits, both languages."""
from __future__ import annotations

import pytest

from ingest import Article, load, split
from ingest.split import MAX_TOKENS, TARGET_TOKENS, estimate_tokens, sentence_spans

from .conftest import SEEDS


def sentences(text):
    return [text[s:e] for s, e, _ in sentence_spans(text)]


def test_english_sentences_respect_abbreviations_and_decimals():
    text = "Dr. Li met Mr. Wang at 3.5 p.m. today. They talked about growth! Did it work? Yes."
    assert sentences(text) == ["Dr. Li met Mr. Wang at 3.5 p.m. today.", "They talked about growth!", "Did it work?", "Yes."]


def test_a_list_number_opens_its_sentence_instead_of_being_one():
    text = "The tasks fall into four groups. 1. Product operation covers the product. 2. Market insight.\n3. Business."
    assert sentences(text) == ["The tasks fall into four groups.", "1. Product operation covers the product.",
                               "2. Market insight.", "3. Business."]
    assert sentences("It rose 12. Then it fell.") == ["It rose 12.", "Then it fell."]  # a number ending a sentence


def test_chinese_sentences_end_at_full_width_marks_and_keep_quotes():
    text = "他说:“运营是什么?”我不知道。真的吗!好吧;继续"
    assert sentences(text) == ["他说:“运营是什么?”", "我不知道。", "真的吗!", "好吧;继续"]  # ASCII ; is a clause mark


def test_paragraph_breaks_are_sentence_breaks():
    spans = list(sentence_spans("First line without a stop\nSecond line."))
    assert [(s, e, p) for s, e, p in spans] == [(0, 25, True), (26, 38, True)]


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_passages_are_exact_whole_sentences_within_limits(name):
    article = load(SEEDS[name])
    passages = split(article)
    assert passages and [p.seq for p in passages] == list(range(len(passages)))
    boundaries = {e for _, e, _ in sentence_spans(article.text)}
    for p in passages:
        assert article.text[p.start:p.end] == p.text
        assert p.end in boundaries  # no sentence cut: every passage ends where a sentence does
        assert estimate_tokens(p.text) <= 500
        assert p.lang == article.lang
    covered = "".join(p.text for p in passages).replace("\n", "").replace(" ", "")
    assert covered == article.text.replace("\n", "").replace(" ", "")  # nothing lost between passages
    sizes = [estimate_tokens(p.text) for p in passages]
    assert max(sizes) <= 2 * TARGET_TOKENS


def test_a_sentence_longer_than_the_limit_is_cut_at_clauses_then_characters():
    long_zh = "，".join(["运营需要长期投入资源"] * 80) + "。"
    article = Article(text=long_zh, title="t", lang="zh-Hans")
    passages = split(article, max_tokens=60)
    assert len(passages) > 1
    assert all(estimate_tokens(p.text) <= 60 for p in passages)
    assert "".join(p.text for p in passages) == long_zh
    no_marks = "运" * 400
    passages = split(Article(text=no_marks, title="t", lang="zh-Hans"), max_tokens=50)
    assert all(estimate_tokens(p.text) <= 50 for p in passages) and "".join(p.text for p in passages) == no_marks


def test_counter_from_the_encoder_is_used():
    article = load(SEEDS["000"])
    few = split(article, count_tokens=lambda s: len(s.split()) * 10)  # a counter that sees long texts
    many = split(article)
    assert len(few) > len(many)


def test_mixed_article_passages_are_tagged_per_passage():
    en = "Operations teams measure retention every week and report it to the whole company. " * 6
    zh = "运营团队每周都要衡量留存率，并向整个公司汇报结果，这样大家才知道产品是否真的变好了。" * 6
    article = Article(text=en.strip() + "\n\n" + zh, title="mixed", lang="en")
    langs = {p.lang for p in split(article)}
    assert langs == {"en", "zh-Hans"}


def test_a_heading_stays_with_a_long_sentence_after_it():
    long_sentence = ("冷启动阶段我们保持每天一更连续三十天不断线,因为算法需要足够多的样本来判断账号的标签和受众,"
                     "而且发布时间固定在晚上七点到九点之间,这个时段用户刷短视频的时间最长,互动也最集中。") * 2
    text = ("选题要从用户的真实问题出发,不要自嗨。" * 6 + "\n\n二、完播率:前三秒决定一切\n\n"
            + long_sentence.replace("。", ",", 1) + "\n\n" + "每天固定时间发布,让粉丝形成习惯。" * 8)
    passages = split(Article(text, "抖音", "zh-Hans"))
    assert all(estimate_tokens(p.text) > 20 for p in passages), [p.text[:20] for p in passages]
    assert any(p.text.startswith("二、完播率:前三秒决定一切\n\n冷启动") for p in passages)
    assert all(estimate_tokens(p.text) <= MAX_TOKENS for p in passages)


def test_no_and_to_b_end_sentences_where_the_next_word_says_so():
    assert sentences("Mr. Wang said no. Dr. Li agreed. See No. 5 first.") == [
        "Mr. Wang said no.", "Dr. Li agreed.", "See No. 5 first."]
    assert sentences("We track the No. of active days per user.") == ["We track the No. of active days per user."]
    assert sentences("We moved to To B. Our clients pay. J. K. Rowling wrote. Plan B. Done.") == [
        "We moved to To B.", "Our clients pay.", "J. K. Rowling wrote.", "Plan B.", "Done."]
