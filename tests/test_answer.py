"""kb.ask: extractive answers whose every sentence is a verbatim, correctly cited span."""
from __future__ import annotations

import re

import pytest

from index.evaluate import load_questions
from ingest.split import sentence_spans

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
        one_line = re.sub(r"\s*\n\s*", " ", quote.text)  # the answer is one paragraph
        assert f"{one_line} [{quote.citation}]" in answer.text


@pytest.fixture
def fake_kb(tmp_path, monkeypatch):
    """A base on the fake encoder, whose scores are not calibrated: every question is answered."""
    from index import KnowledgeBase, answer

    from .fakes import HashEncoder

    monkeypatch.setattr(answer, "FOUND_MIN_CONFIDENCE", -1.0)
    with KnowledgeBase.open(tmp_path / "kb", model=HashEncoder()) as kb:
        yield kb


def hit(text, score=1.0, article="a"):
    """A search hit over a whole one-passage article, for answer.answer called directly."""
    from index.results import Hit

    return Hit(text, score, article, article, None, "en", 0, len(text))


def answer_from(kb, monkeypatch, question, hits):
    """answer.answer over hand-made ``hits``, each taken as relevant."""
    from index import answer

    monkeypatch.setattr(answer, "confidence", lambda kb, question, hit: 1.0)
    return answer.answer(kb, question, hits)


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


def test_no_answer_decision_on_the_evaluation_questions(seeds_kb):
    """On the seeds alone the rule refuses 3 of the 79 answerable questions (at most 5%, as the
    issue asks; the first design's fused-score rule refused 4) and 13 of the 17 unanswerable
    ones (one fewer is allowed: the nearest is 0.002 above the threshold)."""
    from index.answer import FOUND_MIN_CONFIDENCE, confidence

    refused = {True: 0, False: 0}
    total = {True: 0, False: 0}
    for q in load_questions(ROOT / "bench" / "eval" / "questions.jsonl"):
        answerable = q.article is not None
        hits = seeds_kb.search(q.question, 5)
        total[answerable] += 1
        refused[answerable] += confidence(seeds_kb, q.question, hits[0]) < FOUND_MIN_CONFIDENCE
    assert refused[True] <= 3 and refused[False] >= 12, refused


def test_confidence_is_the_cosine_plus_weighted_coverage(seeds_kb):
    from index.answer import COVERAGE_WEIGHT, confidence

    question = "運營能力可以拆成哪幾個方面"
    hit = seeds_kb.search(question, 1)[0]
    coverage = seeds_kb.coverage(question, hit)
    assert 0 < coverage <= 1
    assert confidence(seeds_kb, question, hit) == pytest.approx(hit.similarity + COVERAGE_WEIGHT * coverage)


def test_a_two_part_answer_is_quoted_as_two_adjacent_sentences(fake_kb, monkeypatch):
    from index import answer

    fake_kb.add_text("Event notes\n\nThe spring fair had a poster. The campaign warm-up lasts two weeks. "
                     "The finance lead approves the budget. Volunteers wore green shirts.")
    question = "How long does the campaign warm-up last, and who approves the budget?"
    quoted = " ".join(q.text for q in fake_kb.ask(question).quotes)
    assert "warm-up lasts two weeks. The finance lead approves the budget." in quoted
    monkeypatch.setattr(answer, "QUOTE_PAIRS", False)
    single = " ".join(q.text for q in fake_kb.ask(question).quotes)
    assert not ("two weeks" in single and "approves the budget" in single)  # one sentence: half the answer


def test_a_quote_does_not_end_with_the_articles_own_question(seeds_kb, monkeypatch):
    from index import answer

    question = "What do operators fear the most?"  # the seed asks "Do you know what operators fear the most?"
    quotes = seeds_kb.ask(question).quotes
    assert quotes and not any(re.search(r"[?？]\W*$", q.text) for q in quotes)
    monkeypatch.setattr(answer, "QUOTE_QUESTIONS", True)  # the rule off: the question is quoted
    assert any(q.text.endswith("?") for q in seeds_kb.ask(question).quotes)


def test_a_question_is_quoted_with_the_sentence_that_answers_it_or_alone_if_nothing_else(fake_kb):
    fake_kb.add_text("Fears\n\nDo you know what community operators fear? They fear the group going quiet.")
    quoted = [q.text for q in fake_kb.ask("what do community operators fear").quotes]
    assert quoted == ["Do you know what community operators fear? They fear the group going quiet."]
    fake_kb.add_text("Questions only\n\nWhat is a retention cohort?")
    quoted = [q.text for q in fake_kb.ask("what is a retention cohort").quotes]
    assert "What is a retention cohort?" in quoted


def test_a_quote_does_not_end_with_the_next_sections_heading(fake_kb, monkeypatch):
    from index import answer

    fake_kb.add_text("Community\n\nHosts welcome new members.\n\nDaily work routines\n\n"
                     "Each morning a question is posted to the group.")
    question = "hosts welcome new members daily work routines"
    assert [q.text for q in fake_kb.ask(question).quotes] == ["Hosts welcome new members."]
    monkeypatch.setattr(answer, "HEADING_MAX_CHARS", 0)  # the rule off: the heading is quoted
    assert any(q.text.endswith("Daily work routines") for q in fake_kb.ask(question).quotes)


def test_a_heading_is_not_quoted_before_the_sentence_after_it_nor_alone(fake_kb):
    fake_kb.add_text("Video notes\n\n三、完播率:前三秒决定一切\n\n短视频的完播率和前三秒的留存高度相关,开头直接抛出结论。\n\n"
                     "Decide the metric before you open the dashboard\n\nWe pick one metric per test.")
    quoted = [q.text for q in fake_kb.ask("完播率 前三秒").quotes]
    assert quoted and not any("三、完播率" in q for q in quoted)
    quoted = [q.text for q in fake_kb.ask("decide the metric before you open the dashboard").quotes]
    assert quoted and not any(q.startswith("Decide the metric") for q in quoted)


def test_a_chinese_word_in_an_english_heading_keeps_it_a_heading():
    from index.answer import _heading

    for heading in ("Private domain playbook for small retail teams", "Private domain (私域) playbook for small retail teams"):
        text = heading + "\n\nHosts welcome new members every week at the store."
        assert _heading(text, list(sentence_spans(text)), 0), heading


def test_a_chinese_sentence_left_without_its_full_stop_is_not_a_heading(fake_kb, monkeypatch):
    from index import answer

    fake_kb.add_text("私域笔记\n\n很多运营人每天都忙着拉新促活,却说不清自己的价值在哪里\n\n"
                     "活动预算由财务负责人审批。门店导购每周复盘一次。")
    question = "运营人 拉新促活 价值在哪里"
    assert any("说不清自己的价值" in q.text for q in fake_kb.ask(question).quotes)
    monkeypatch.setattr(answer, "HEADING_MAX_HAN_CHARS", answer.HEADING_MAX_CHARS)  # Latin's limit: a heading
    assert not any("说不清自己的价值" in q.text for q in fake_kb.ask(question).quotes)


def test_garbled_text_is_not_quoted(fake_kb, monkeypatch):
    from index import answer

    question = "運營的價值在于規模化產出有價值內容"
    # No clause before the garbled span: the sentence is not quoted, though it is the closest.
    first = fake_kb.add_text("B端笔记\n\n運營的價值在于要規?;\ue1ea禺a(chǎn)出有價值內容。運營的價值在于撬起最大的利益。")
    assert [q.text for q in fake_kb.ask(question).quotes] == ["運營的價值在于撬起最大的利益。"]
    monkeypatch.setattr(answer, "mojibake_signs", lambda text: [])  # the rule off: garbled quotes
    assert any("禺" in q.text for q in fake_kb.ask(question).quotes)
    monkeypatch.undo()
    # A clause before it: quoted up to there.
    fake_kb.remove(first.article.id)
    fake_kb.add_text("B端笔记\n\n活動預算由財務審批。無論在B端還是C端,運營的價值在于用最小的代價撬起最大的利益,"
                     "要規?;\ue1ea禺a(chǎn)出內容。")
    assert [q.text for q in fake_kb.ask(question).quotes] == ["無論在B端還是C端,運營的價值在于用最小的代價撬起最大的利益"]


def test_a_lost_character_is_told_by_the_whole_passages_punctuation(fake_kb):
    # Full-width commas make a lone ? between characters a lost character; one sentence has
    # too few of them to tell (a review found this quoted after the rule above).
    fake_kb.add_text("B端笔记\n\n私域运营，社群运营，内容运营，活动运营，用户运营，都是运营的一部分。"
                     "运营的价值在于要规?模化产出有价值的内容。活动预算由财务负责人审批。")
    quoted = [q.text for q in fake_kb.ask("运营的价值在于规模化产出有价值的内容").quotes]
    assert quoted and not any("规?模" in q for q in quoted)


def test_an_answer_is_one_paragraph_when_a_quote_spans_a_paragraph_break(fake_kb):
    fake_kb.add_text("Budget\n\nWho approves the event budget?\n\nThe finance lead approves the event budget.")
    answer = fake_kb.ask("who approves the event budget")
    assert any("\n" in q.text for q in answer.quotes)  # the question and the sentence answering it
    assert "\n" not in answer.text and "budget? The finance lead" in answer.text


def test_the_next_passage_of_the_best_article_is_cited_within_a_wider_share(fake_kb, monkeypatch):
    hits = [hit("Member day needs a clear offer for each tier.", 1.0, "a"),
            hit("Coupons for lapsed members work poorly on member day.", 0.8, "b"),
            hit("The second reason was that the offer was the same for every tier.", 0.72, "a")]
    cited = [c.text for c in answer_from(fake_kb, monkeypatch, "why did member day fail for each tier", hits).citations]
    assert cited == [hits[0].text, hits[2].text]  # b is below CITE_MIN_SHARE, a's 0.72 is within 0.7


def test_a_hit_without_text_does_not_break_the_answer(fake_kb, monkeypatch):
    hits = [hit("Hosts rehearse the day before the webinar."), hit("", 0.95, "b")]
    assert [q.text for q in answer_from(fake_kb, monkeypatch, "when do hosts rehearse", hits).quotes] == [hits[0].text]


def test_a_bare_list_number_is_not_quoted(fake_kb, monkeypatch):
    quotes = answer_from(fake_kb, monkeypatch, "how do operators grow", [hit("Operators grow by owning a metric. 2.")]).quotes
    assert [q.text for q in quotes] == ["Operators grow by owning a metric."]


def test_punctuation_alone_is_never_a_quote(fake_kb):
    # "finding trouble! ! !" split into "!" sentences, and "! ! [1]" was a whole answer (a review)
    fake_kb.add_text("Trouble\n\nTo B operators keep finding trouble! ! ! Clients call at night.")
    for question in ("! !", "To B operators finding trouble"):
        answer = fake_kb.ask(question)
        assert answer.quotes and all(re.search(r"[A-Za-z]", q.text) for q in answer.quotes), answer.text


def test_a_sentence_about_the_article_itself_is_not_quoted(fake_kb, monkeypatch):
    # A review found "這篇文章整理了我們在會員日運營上的做法。" and "Friends who are interested
    # can take a look at..." quoted as answers: close to the question, about nothing.
    from index import answer

    fake_kb.add_text("會員日\n\n這篇文章整理了我們在會員日運營上的做法。\n\n會員日每月舉辦一次,高頻會員可以免費升級飲品。")
    fake_kb.add_text("Copy\n\nFriends who are interested can take a look at my notes on copywriting.\n\n"
                     "Good copy names the reader's problem in its first line.")
    for question, signpost in (("這篇文章整理了我們在會員日運營上的做法", "這篇文章"),
                               ("friends who are interested can take a look at my notes on copywriting", "Friends")):
        quoted = [q.text for q in fake_kb.ask(question).quotes]
        assert quoted and not any(q.startswith(signpost) for q in quoted), quoted
        with monkeypatch.context() as rule_off:  # without the rule, it is quoted
            rule_off.setattr(answer, "_SIGNPOST", re.compile("(?!)"))
            assert any(q.text.startswith(signpost) for q in fake_kb.ask(question).quotes)


def test_a_sentence_that_says_something_is_not_taken_for_a_signpost():
    from index.answer import _signpost

    # a review: the first version blocked these, so they could not be quoted
    for sentence in ("本来的计划是每周发两篇。", "本會計年度營收成長20%。", "本主要依靠自然流量的账号,后来开始投放。",
                     "下面来看看具体数据：留存率从40%提升到52%。", "以下介绍的方法使转化率提升了一倍。",
                     "对这个话题感兴趣的朋友越来越多,社群人数已经破万。", "This guide's checklist has five steps.",
                     "This post reached 50,000 views in two days.", "In this post-launch phase, retention matters more.",
                     "This article's main finding is that retention rose."):
        assert not _signpost(sentence), sentence
    for sentence in ("本文将介绍三种方法。", "下面我们来聊聊社群。", "In this article we compare three tools.",
                     "感兴趣的朋友可以看看我之前写的笔记。", "希望对大家有所帮助。"):
        assert _signpost(sentence), sentence
