"""Where a question's words occur in a passage, for highlighting (either script, any case)."""
from __future__ import annotations

import re
import unicodedata

from . import lexical
from .lexical import _TO_B, _TO_C, STOPWORDS

#: English words shorter than this are not highlighted: "to", "B", "is" would light up
#: every line. Chinese words of one character are skipped for the same reason.
MIN_ENGLISH_CHARS = 3
MIN_CHINESE_CHARS = 2
#: Question words that carry no topic, on top of the lexical stopwords.
QUESTION_WORDS = frozenset("even though although also still ever every time times way ways thing things get got make "
                           "made should could would shall may might must need want like just really".split())
#: ... and their Chinese kin (simplified: questions are folded before they are segmented).
CHINESE_QUESTION_WORDS = frozenset("怎么 怎么样 怎样 什么 为什么 如何 哪些 哪个 哪里 是否 是不是 有没有".split())
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")


def _fold(text: str) -> str:
    """``text`` with full-width letters made plain (ＫＰＩ) and traditional characters simplified,
    one character for one, so that offsets into it are offsets into ``text``; only the
    full-width fold when simplifying would change the length."""
    plain = "".join(f if len(f := unicodedata.normalize("NFKC", c)) == 1 else c for c in text)
    simplified = lexical.simplified(plain)  # as lexical.terms folds
    return simplified if len(simplified) == len(plain) else plain


def highlight_terms(question: str) -> list[str]:
    """Words to look for, in the folded form :func:`highlight_spans` matches against: English
    words (matched as word prefixes, so "operator" also marks "operators") and Chinese words,
    simplified. The question is simplified before it is segmented: jieba cut the traditional
    "運營人員為什麼" into 人員為, which no text holds."""
    return _terms_of(_fold(question))


def _terms_of(folded: str) -> list[str]:
    found: list[str] = []
    for word in _WORD.findall(folded):
        if len(word) >= MIN_ENGLISH_CHARS and word.lower() not in STOPWORDS | QUESTION_WORDS:
            lowered = word.lower()
            # A plural's singular is a prefix of both forms: "operators" also finds "operator's",
            # and an acronym's, "KPIs" finds "KPI".
            plural = lowered.endswith("s") and (len(lowered) > MIN_ENGLISH_CHARS + 1 or word[:-1].isupper())
            found.append(lowered[:-1] if plural else lowered)  # not news -> new, less -> les (a review)
    for run in _CJK_RUN.findall(folded):
        found += [word for word in lexical._jieba().cut(run)
                  if len(word) >= MIN_CHINESE_CHARS and word not in CHINESE_QUESTION_WORDS]
    return list(dict.fromkeys(found))


def highlight_spans(text: str, question: str) -> list[tuple[int, int]]:
    """Non-overlapping ``(start, end)`` spans of ``text`` that match the question's words, in
    either script (台灣 and 台湾 for 臺灣) and either width."""
    folded = _fold(question)
    terms = _terms_of(folded)
    # Every spelling of To B (B端, B2B...) or To C when the question has one, as search matches them
    spellings = [form.pattern for form in (_TO_B, _TO_C) if form.search(folded)]
    if not terms and not spellings:
        return []
    english = [re.escape(t) + r"[A-Za-z0-9'’-]*" for t in terms if t.isascii()]  # \w ran on into 怎麼定
    chinese = [re.escape(t) for t in sorted((t for t in terms if not t.isascii()), key=len, reverse=True)]
    parts = spellings + ([r"\b(?:" + "|".join(english) + ")"] if english else []) + chinese
    pattern = re.compile("|".join(parts), re.IGNORECASE)
    return [(m.start(), m.end()) for m in pattern.finditer(_fold(text))]
