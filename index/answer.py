"""Extractive answers: the sentences of the best passages that best match the question,
each followed by the number of the passage it comes from."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ingest import detect_language
from ingest.repair import mojibake_signs
from ingest.split import sentence_spans

from .results import Answer, Hit, Quote

if TYPE_CHECKING:
    from .kb import KnowledgeBase

#: Sentences in one answer at most: three sentences are a paragraph a reader takes in at
#: once; more repeats the first ones.
MAX_SENTENCES = 3
#: A passage contributes to the answer only if its fused score is within this share of
#: the best passage's (the fused score of the 3rd-ranked relevant passage on the
#: evaluation set is typically 0.9 of the 1st; off-topic ones fall below 0.8).
CITE_MIN_SHARE = 0.85
#: ... or within this share when it is from the best passage's article: the answer often
#: goes on in the next passage of the article the best one comes from (a review found 3 of 30
#: answers missing it: ratios 0.71-0.81). On the evaluation set (bench/quotes.py) answers
#: quoting an answer phrase 56 -> 58 of 76 and quotes from the answering article 83% -> 86%
#: (0.75: the same; a plain CITE_MIN_SHARE of 0.8: 58 and 81%, of 0.7: 59 and 74%).
SAME_ARTICLE_MIN_SHARE = 0.7
#: Quote two adjacent sentences when they match the question better than either alone: an
#: answer often comes as a sentence that sets it up and the one after. On the evaluation set
#: (bundled model, 76 of 79 answerable questions answered either way), answers with a quote
#: holding the question's answer phrase rose from 41 to 52; quotes grew from 124 to 168
#: characters on average (bench/quotes.py).
QUOTE_PAIRS = True
#: A quote may not end with a question. Articles ask the reader's question before they answer
#: it ("Do you know what operators fear the most?"), and that sentence is the closest to the
#: question, so it was quoted as the answer (5 of 24 questions in a review of the app). A
#: question followed by the sentence after it is still a quote. When every quote of a passage
#: ends with a question, they stay candidates. On the evaluation set (bench/quotes.py): answers
#: with a quote ending with a question 17 -> 0 of 76; answers quoting an answer phrase 52 -> 54
#: (53 -> 56 once list numbers stayed with their sentence, ingest.split.ENUMERATOR).
QUOTE_QUESTIONS = False
_QUESTION_END = re.compile(r"[?？][\s\"”’」』)）]*$")
#: Nor may a quote start or end with a heading: a paragraph of one sentence, shorter than
#: this, ending with a letter or a character ("三、完播率:前三秒决定一切", "Decide the metric
#: before you open the dashboard"; not a sentence a passage's end cut after a comma). A review
#: found 7 of 36 answers with a heading quoted alone, glued before the sentence after it, or
#: after the one before ("...members joining.\n\nDaily work"); with this rule, 0 of the 36.
#: The evaluation set's figures do not move (bench/quotes.py).
HEADING_MAX_CHARS = 80
#: The same limit for a line mostly in Chinese, where a character is about a word: the 40
#: headings of the evaluation base's 30 Chinese articles are 6-18 characters, while a sentence
#: a page left without its 。 is longer ("很多运营人每天都忙着拉新促活,却说不清自己的价值在哪里"
#: is 27 characters).
HEADING_MAX_HAN_CHARS = 24
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
#: A list number left alone at a passage's end ("Operators grow. 2.") counts as a heading.
_LIST_NUMBER = re.compile(r"\d{1,2}[.)、]")
#: Nor may a quote be a sentence about the article itself rather than its subject: "這篇文章整理
#: 了我們在會員日運營上的做法。", "Friends who are interested can take a look at...", "If you
#: don't know, you should pay attention to this article." They sit close to the question in
#: meaning, and a review found two of 36 answers opening with one.
_SIGNPOST = re.compile(
    r"^(?:in )?this (?:article|post|piece|guide)(?:,|\s+(?:will|we|i|explores?|introduces?|covers?|"
    r"shows? you|looks? at|describes?|discusses?|shares?|summari[sz]es?)(?![\w'’-]))|"
    r"\bpay attention to this (?:article|post)\b|^friends who are interested (?:can|may|should)\b|"
    r"^i hope (?:this|it) (?:helps|is helpful|was helpful)|"
    r"^(?:(?:这篇|這篇|本篇)(?:文章)?|本文)(?:将|將|会|會|主要|整理|分享|介绍|介紹|总结|總結|梳理|聊聊|谈谈|談談)|"
    r"^(?:下面|以下|接下来|接下來)(?:我们|我們|我|就)?(?:来|來)(?:看看|聊聊|说说|說說|分享|介绍|介紹|盘点|盤點)|"
    r"^(?:对|對)?.{0,12}(?:感兴趣|感興趣)的(?:朋友|小伙伴|同学|同學|读者|讀者)(?:可以|可)|"
    r"^希望(?:本文|这篇|這篇|以上(?:内容|內容)|对大家|對大家)|^今天(?:给|給)大家(?:分享|介绍|介紹|聊)",
    re.IGNORECASE)
#: ... but a sentence with a figure or a colon in it says something ("下面来看看具体数据：留存率
#: 从40%提升到52%。"): a review found 9 such sentences blocked by a first version.
_SAYS_SOMETHING = re.compile(r"[0-9０-９:：]")
#: Two sentences whose vectors are closer than this say the same thing; the second is dropped.
REDUNDANT_COSINE = 0.92
#: A sentence holding garbled text (:func:`ingest.repair.mojibake_signs`: a review's answer
#: quoted ``要規?;禺a(chǎn)出有價值內容``, a span the page lost bytes in) is quoted up to the
#: last clause break before it, if that keeps at least this many characters (a clause: the
#: seed's "無論在B端還是C端,運營的價值在于用最小的代價撬起最大的利益" is 30), else not at
#: all. Dropping such sentences whole cost that answer its phrase (bench/quotes.py: 58 -> 57).
GARBLED_KEEP_MIN_CHARS = 12
_CLAUSE_BREAK = re.compile(r"[,，;；:：、]")
_LINE_BREAKS = re.compile(r"\s*\n\s*")
#: A quote has a letter or a Han character in it, at least.
_WORD = re.compile(r"[^\W\d_]")
#: The base claims an answer when the best passage's confidence, its language-centred cosine
#: plus COVERAGE_WEIGHT x its query-term coverage (:meth:`KnowledgeBase.coverage`), reaches
#: FOUND_MIN_CONFIDENCE. The first design compared the fused score with 0.44, but that score
#: holds BM25's length and term-frequency statistics and moved with the base: the best threshold
#: was 0.48 on the evaluation base (seeds + distractors) and 0.37 on the seeds alone. Coverage
#: ignores them. Chosen on both bases at once (bench/retrieval_methods.py, bundled model; weights
#: 0.5 to 1 do alike, 0.75 has the best AUC on both, 0.955 / 0.971): at 0.31, 65% / 76% of the
#: unanswerable questions are refused with 3.8% / 3.8% of the answerable ones (the fused score at
#: the one threshold keeping both under 5%: 53% / 65%); on bases where one language holds 87-88%
#: of the passages, 68-73% refused with 5.5-5.7% of answerable ones (fused score >= 0.44: 8.5-8.7%).
COVERAGE_WEIGHT = 0.75
FOUND_MIN_CONFIDENCE = 0.31

NOT_FOUND = {
    "en": "Nothing in the knowledge base answers this question well. The nearest excerpts are below.",
    "zh-Hans": "知识库里没有能很好回答这个问题的内容。下面是最接近的摘录。",
    "zh-Hant": "知識庫裡沒有能很好回答這個問題的內容。下面是最接近的摘錄。",
}


def answer(kb: "KnowledgeBase", question: str, hits: list[Hit]) -> Answer:
    """Compose the answer to ``question`` from its search ``hits``."""
    if not hits or confidence(kb, question, hits[0]) < FOUND_MIN_CONFIDENCE:
        lang = detect_language(question)
        return Answer(NOT_FOUND.get(lang, NOT_FOUND["en"]), hits, found=False)
    best, article = hits[0].score, hits[0].article_id
    sources = [h for h in hits if h.score >= best * (SAME_ARTICLE_MIN_SHARE if h.article_id == article
                                                      else CITE_MIN_SHARE)]
    chosen = _choose_sentences(kb, question, sources)
    return _compose(chosen)


def confidence(kb: "KnowledgeBase", question: str, hit: Hit) -> float:
    """How surely ``hit`` answers ``question``: its centred cosine plus COVERAGE_WEIGHT times the
    share of the question's idf mass it holds (about -0.1 to 1.3; the base answers from
    FOUND_MIN_CONFIDENCE)."""
    return hit.similarity + COVERAGE_WEIGHT * kb.coverage(question, hit)


def _choose_sentences(kb: "KnowledgeBase", question: str, hits: list[Hit]) -> list[tuple[Hit, int, int]]:
    """The best quote of each relevant passage (one sentence, or two adjacent ones when
    :data:`QUOTE_PAIRS`), best passage first, without repeats. A heading, a question (see
    QUOTE_QUESTIONS) or garbled text (see GARBLED_KEEP_MIN_CHARS) is quoted only from a
    passage that has nothing else."""
    candidates: list[tuple[Hit, int, int]] = []
    owners: list[int] = []
    unquotable: list[bool] = []
    for n, hit in enumerate(hits):
        spans = list(sentence_spans(hit.text))
        garbled = mojibake_signs(hit.text)  # of the whole passage: a rule counts its commas
        heading = [_heading(hit.text, spans, i) or bool(_LIST_NUMBER.fullmatch(hit.text[s:e]))
                   for i, (s, e, _) in enumerate(spans)]
        signpost = [_signpost(hit.text[s:e].strip()) for s, e, _ in spans]
        for i, (start, end, _) in enumerate(spans):
            if not _WORD.search(hit.text, start, end):  # "! !" of "finding trouble! ! !" was a whole answer
                continue
            clean = _before_garbled(hit.text, garbled, start, end)
            candidates.append((hit, start, clean or end))
            owners.append(n)
            unquotable.append(heading[i] or clean is None or _asks(hit.text[start:clean]) or signpost[i])
            if QUOTE_PAIRS and i + 1 < len(spans):
                pair = hit.text[start:spans[i + 1][1]]
                candidates.append((hit, start, spans[i + 1][1]))
                owners.append(n)
                unquotable.append(heading[i] or heading[i + 1] or signpost[i] or signpost[i + 1] or _asks(pair)
                                  or _first(garbled, start, spans[i + 1][1]) is not None)
    if not candidates:
        return []
    vectors = kb.encoder.encode_passages([hit.text[s:e] for hit, s, e in candidates])
    scores = vectors @ kb.query_vector(question)
    chosen: list[int] = []
    for n in range(len(hits)):
        mine = [i for i, owner in enumerate(owners) if owner == n]
        mine = [i for i in mine if not unquotable[i]] or mine
        if not mine:  # a passage without a sentence (empty text)
            continue
        best = max(mine, key=lambda i: scores[i])
        if all(float(vectors[best] @ vectors[c]) < REDUNDANT_COSINE for c in chosen):
            chosen.append(best)
        if len(chosen) == MAX_SENTENCES:
            break
    return [candidates[i] for i in chosen]


def _before_garbled(text: str, garbled: list[int], start: int, end: int) -> int | None:
    """Where the quote of sentence ``text[start:end]`` ends: ``end``; or, if a sign of garbled
    text (offsets ``garbled``) is in it, the last clause break before the sign (None when under
    GARBLED_KEEP_MIN_CHARS would be left)."""
    sign = _first(garbled, start, end)
    if sign is None:
        return end
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text, start, sign)]
    return breaks[-1] if breaks and breaks[-1] - start >= GARBLED_KEEP_MIN_CHARS else None


def _first(offsets: list[int], start: int, end: int) -> int | None:
    """The first of the sorted ``offsets`` in ``[start, end)``, or None."""
    return next((o for o in offsets if start <= o < end), None)


def _signpost(sentence: str) -> bool:
    """True when ``sentence`` is about the article itself (see :data:`_SIGNPOST`)."""
    return bool(_SIGNPOST.search(sentence)) and not _SAYS_SOMETHING.search(sentence)


def _asks(quote: str) -> bool:
    """True when ``quote`` ends with a question (and QUOTE_QUESTIONS is off)."""
    return not QUOTE_QUESTIONS and bool(_QUESTION_END.search(quote))


def _heading(text: str, spans: list[tuple[int, int, bool]], i: int) -> bool:
    """True when sentence ``i`` of ``text`` is a heading (see HEADING_MAX_CHARS)."""
    start, end, opens = spans[i]
    alone = opens and (i + 1 == len(spans) or spans[i + 1][2])
    han = len(_HAN.findall(text, start, end))
    latin = len(_LATIN_LETTER.findall(text, start, end))
    limit = HEADING_MAX_HAN_CHARS if han > latin else HEADING_MAX_CHARS  # ("私域" in an English heading: Latin)
    return alone and end - start < limit and text[end - 1].isalnum()


def _compose(chosen: list[tuple[Hit, int, int]]) -> Answer:
    """Order sentences (articles by first appearance, reading order within one), number the
    passages in order of first use, and write the text."""
    first_seen: dict[str, int] = {}
    for hit, _, _ in chosen:
        first_seen.setdefault(hit.article_id, len(first_seen))
    ordered = sorted(chosen, key=lambda c: (first_seen[c[0].article_id], c[0].start + c[1]))
    citations: list[Hit] = []
    quotes: list[Quote] = []
    for hit, start, end in ordered:
        if hit not in citations:
            citations.append(hit)
        number = citations.index(hit) + 1
        quotes.append(Quote(hit.text[start:end], number, hit.article_id, hit.start + start, hit.start + end))
    # A quote of two sentences may span a paragraph break: the answer is one paragraph.
    text = " ".join(f"{_LINE_BREAKS.sub(' ', q.text)} [{q.citation}]" for q in quotes)
    return Answer(text, citations, found=True, quotes=quotes)
