"""Terms for the lexical index: Chinese words and English stems, scripts folded.

Traditional characters are folded to simplified before segmentation, so 運營 and 运营 are
one term and jieba (whose dictionary is simplified) segments both scripts alike.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: English words too common to help ranking. Short on purpose: BM25's idf already
#: discounts frequent words; this only drops the ones that match nearly every passage.
STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being "
    "it its this that these those there their they them he she his her you your we our i me my "
    "do does did doing have has had not no so than too very can will just what which who whom how "
    "why when where into about over under again further then once here all any both each few more "
    "most other some such only own same".split()
)
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_LATIN = re.compile(r"[0-9a-z]+(?:['’][a-z]+)?")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def terms(text: str) -> list[str]:
    """The index terms of ``text``: Chinese words (search-mode segmentation) and English stems."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _t2s().convert(text)
    out: list[str] = []
    position = 0
    for run in _CJK_RUN.finditer(text):
        out.extend(_latin_terms(text[position:run.start()]))
        out.extend(w for w in _jieba().cut_for_search(run.group()) if w.strip())
        position = run.end()
    out.extend(_latin_terms(text[position:]))
    return out


def _latin_terms(text: str) -> list[str]:
    words = [w.replace("’", "'").split("'")[0] for w in _LATIN.findall(text)]
    return _stemmer().stemWords([w for w in words if w not in STOPWORDS])


def fts_query(query_terms: list[str]) -> str:
    """An FTS5 MATCH expression that matches any of the terms (BM25 ranks the matches)."""
    unique = dict.fromkeys(t.replace('"', '""') for t in query_terms)
    return " OR ".join(f'"{t}"' for t in unique)
