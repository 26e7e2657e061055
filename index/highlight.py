"""Where a question's words occur in a passage, for highlighting (either script, any case)."""
from __future__ import annotations

import re
from functools import lru_cache

from .lexical import STOPWORDS

#: English words shorter than this are not highlighted: "to", "B", "is" would light up
#: every line. Chinese words of one character are skipped for the same reason.
MIN_ENGLISH_CHARS = 3
MIN_CHINESE_CHARS = 2
#: Question words that carry no topic, on top of the lexical stopwords.
QUESTION_WORDS = frozenset("even though although also still ever every time times way ways thing things get got make "
                           "made should could would shall may might must need want like just really".split())
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")


@lru_cache(maxsize=2)
def _convert(config: str):
    import opencc

    return opencc.OpenCC(config)


def _jieba():
    from .lexical import _jieba

    return _jieba()


def highlight_terms(question: str) -> list[str]:
    """Surface forms to look for: English words (matched as word prefixes, so "operator"
    also marks "operators") and Chinese words in both scripts."""
    found: list[str] = []
    for word in _WORD.findall(question):
        if len(word) >= MIN_ENGLISH_CHARS and word.lower() not in STOPWORDS | QUESTION_WORDS:
            lowered = word.lower()
            # A plural's singular is a prefix of both forms: "operators" also finds "operator's".
            found.append(lowered[:-1] if lowered.endswith("s") and len(lowered) > MIN_ENGLISH_CHARS + 1 else lowered)
    for run in _CJK_RUN.findall(question):
        for word in _jieba().cut(run):
            if len(word) >= MIN_CHINESE_CHARS:
                found += [word, _convert("t2s").convert(word), _convert("s2t").convert(word)]
    return list(dict.fromkeys(found))


def highlight_spans(text: str, question: str) -> list[tuple[int, int]]:
    """Non-overlapping ``(start, end)`` spans of ``text`` that match the question's words."""
    terms = highlight_terms(question)
    if not terms:
        return []
    english = [re.escape(t) + r"[\w'’-]*" for t in terms if t.isascii()]
    chinese = [re.escape(t) for t in sorted((t for t in terms if not t.isascii()), key=len, reverse=True)]
    parts = ([r"\b(?:" + "|".join(english) + ")"] if english else []) + chinese
    pattern = re.compile("|".join(parts), re.IGNORECASE)
    return [(m.start(), m.end()) for m in pattern.finditer(text)]
