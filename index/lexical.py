"""Terms for the lexical index: Chinese words and English stems, scripts folded.

Traditional characters are folded to simplified before segmentation, so 運營 and 运营 are
one term and jieba (whose dictionary is simplified) segments both scripts alike.

A base records the :data:`ANALYZER` its terms were made with; a base opened by a program with
another one has its terms made again (:meth:`index.KnowledgeBase.open`), so that a query's
terms and the stored ones always come from the same :func:`terms`.
"""
from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

import numpy as np

from .centering import group
from .store import packed_upto

#: English words too common to help ranking. Short on purpose: BM25's idf already
#: discounts frequent words; this only drops the ones that match nearly every passage.
STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being "
    "it its this that these those there their they them he she his her you your we our i me my "
    "do does did doing have has had not no so than too very can will just what which who whom how "
    "why when where into about over under again further then once here all any both each few more "
    "most other some such only own same".split()
)
#: The version of :func:`terms`. Bumped whenever a text's terms change. 1: OpenCC t2s.
#: 2: 著 folded to 着 in Taiwan's words for 着; plural acronyms are singular (KPIs matched 3
#: passages of the evaluation base, KPI 8). OpenCC tw2sp (Taiwan words: 軟體 -> 软件) lost one
#: question from the top 5 and over-converts (資料 -> 数据), so it is not used.
#: 3: the ways this field writes "business-facing" and "consumer-facing" are one term each
#: (_TO_B): cross-language hit@1 .800 -> .825 on the evaluation set, the rest unchanged.
#: 4: jieba knows DOMAIN_WORDS.
#: 5: 著 by a word list, not OpenCC tw2s, which also made simplified 显著 显着 (a review).
#: 6: "IT" (the trade) is a term (_IT), not the pronoun "it", a stopword. 7: _IT looks only at
#: the words beside it, and takes "IT's". 8: Latin accents folded (résumé was "r" and "sum").
#: 9: Yijing hexagrams (U+4DC0-U+4DFF, symbols inside the CJK ranges) are not terms: FTS5
#: holds none, so packed postings had terms the lexicon lacks (a review).
ANALYZER = "9"
#: Operations words jieba's dictionary lacks, where its segmentation then cuts across them:
#: 直播带货运营 was 直播/带/货运/营有 (货运 is freight), 复购率 was 复/购率. Words it already
#: finds by itself (私域, 小红书, 种草, 拉新) are listed too, so that they do not hang on its
#: unknown-word guesses.
DOMAIN_WORDS = ("带货 直播带货 拉新 促活 私域 公域 种草 复盘 裂变 引流 变现 转化率 完播率 复购率 "
                "客单价 获客 小红书 视频号 公众号 企业微信 新媒体 短视频 达人").split()
#: Words where Taiwan writes 著 and the mainland 着 (隨著 / 随着): t2s keeps 著, which is right in
#: 显著, 著名, 土著. Only whole words, so simplified text (which writes 着 in them) is untouched.
ZHE_WORDS = ("紧接著 意味著 随著 接著 跟著 看著 本著 沿著 朝著 向著 藉著 借著 靠著 为著 穿著 试著 带著 拿著 "
             "等著 忙著 活著 笑著 说著 想著 听著 睡著 执著 衣著 著重 著手 著眼 著急 著迷").split()
_ZHE = re.compile("|".join(ZHE_WORDS))
#: An acronym's plural: KPIs, SKUs, KOLs, OKRs.
_ACRONYM_PLURAL = re.compile(r"\b([A-Z]{2,})s\b")
#: To B, ToB, to-B, B2B, B端, B-side, B-end (and the C forms): one term each, "tob" / "toc".
#: The sample corpus writes "TO B" 11 times and B端 3; the questions say "B2B" 6 times, and
#: "to" is a stopword, so "TO B operations" was ["b", "oper"] and B2B met none of them.
#: (Latin letters only around them: "做TO B运营" has no \b.)
#: Not "to C-suite" / "to C-level" (a letter after a hyphen). "from stage A to B" is folded:
#: leaving out a lone letter before "to" also left out "a to B content operator".
_TO_B = re.compile(r"(?<![a-z0-9])(?:to[\s-]?b|b2b|b[\s-](?:side|end)|b(?=端))(?![a-z0-9]|-[a-z])端?",
                   re.IGNORECASE)
_TO_C = re.compile(r"(?<![a-z0-9])(?:to[\s-]?c|b2c|c[\s-](?:side|end)|c(?=端))(?![a-z0-9]|-[a-z])端?",
                   re.IGNORECASE)
#: "IT" in capitals, a word of its own: the trade (IT运营, IT operations, IT's budget), which
#: lower case would make the stopword "it" ("What is IT?" had no terms at all). Not between
#: two words in capitals ("WHY IT MATTERS"), where it is the pronoun shouted; "IT'S" is too.
#: (A first version also looked at capitals 12 characters away, and dropped "KPI for the IT
#: team" and "SEO and the IT team": a review.)
_IT = re.compile(r"(?<![A-Za-z0-9])IT(?:['’]s)?(?![A-Za-z0-9]|['’][A-Z])")
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\s+$")
_WORD_AFTER = re.compile(r"^\s+([A-Za-z]+)")
#: The term _IT becomes: not an English word, so no other word stems to it.
IT_TERM = "infotech"
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN = re.compile(r"[0-9a-z]+(?:['’][a-z]+)?")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """``text`` in simplified characters, one for one (offsets stay): OpenCC t2s, then 著 -> 着
    in :data:`ZHE_WORDS`."""
    return _ZHE.sub(lambda m: m.group().replace("著", "着"), _t2s().convert(text))


@lru_cache(maxsize=1)
def _jieba():
    """A jieba tokenizer of our own (the module's global one is left as it was) that knows
    :data:`DOMAIN_WORDS`."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in DOMAIN_WORDS:
        tokenizer.add_word(word)  # with the frequency that makes jieba cut it whole
    return tokenizer


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def terms(text: str) -> list[str]:
    """The index terms of ``text``: Chinese words (search-mode segmentation) and English stems."""
    text = _ACRONYM_PLURAL.sub(r"\1", unicodedata.normalize("NFKC", text))
    text = _IT.sub(_it_term, text)
    text = _TO_C.sub(" toc ", _TO_B.sub(" tob ", text)).lower()
    text = simplified(text)
    out: list[str] = []
    position = 0
    for run in _CJK_RUN.finditer(text):
        out.extend(english_terms(text[position:run.start()]))
        out.extend(w for w in _jieba().cut_for_search(run.group()) if w.strip())
        position = run.end()
    out.extend(english_terms(text[position:]))
    return out


def _it_term(match: re.Match) -> str:
    """IT_TERM for the trade, or the match as it is for the pronoun shouted (see _IT)."""
    text, start, end = match.string, match.start(), match.end()
    # the words beside it, in windows of their own: a search back from the start of a long text
    # for every IT in it would read the text again each time
    before, after = _WORD_BEFORE.search(text[max(0, start - 40):start]), _WORD_AFTER.search(text[end:end + 40])
    shouted = all(word is not None and len(word[1]) > 1 and word[1].isupper() for word in (before, after))
    return match.group() if shouted else f" {IT_TERM} "


def english_terms(text: str) -> list[str]:
    """Stems of the Latin-script words of lower-cased ``text``, accents folded, stopwords dropped."""
    words = [w.replace("’", "'").split("'")[0] for w in _LATIN.findall(_unaccented(text))]
    return [_stem(w) for w in words if w not in STOPWORDS]


def _unaccented(text: str) -> str:
    """``text`` with Latin letters' accents taken off, and ß as ss: résumé -> resume, naïve ->
    naive, İstanbul -> istanbul. Only ASCII letters make words (_LATIN): "résumé" was the terms
    "r" and "sum", and a search for "resume" did not find it (a review)."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


#: Rows of postings kept in memory between searches, 8 bytes each (a 4-byte row number and
#: the 4-byte BM25 gain of a synonym set, or a word, there): 768 MB at most. Past it, the
#: least recently used are let go, to be read again when needed. After the 96 evaluation
#: questions, a 1.07M-passage base (the 107k base of bench/hybrid_scale.py ten times over)
#: keeps 58M rows; a question takes 12 ms there when its words are kept, 34 when read (82
#: from FTS5's own postings, before they were packed).
POSTINGS_KEPT_ROWS = 96_000_000
#: Rows of words' own postings kept (8 bytes each, 128 MB), to merge into synonym sets: a word
#: is in several sets of a question (its own, its translations'), and in later questions'.
TERM_POSTINGS_KEPT_ROWS = 16_000_000

#: A table of rows by pid is kept while pids run to at most this many times the passages
#: (4 bytes a pid).
ROW_TABLE_SPARSITY = 4
#: Synonym sets whose members' postings hold more rows than the base's passages over this are
#: merged by summing into an array over the whole base rather than by sorting their rows: at
#: 1.07M passages, 8.6 ms against np.unique's 10.3 for 390k rows, and np.unique's cost grows
#: with the rows where the sum's hardly does.
DENSE_UNION = 16

#: BM25 constants: FTS5's defaults, Robertson's usual values.
K1 = 1.2
B = 0.75


class LexicalScorer:
    """BM25 over the store's lexicon, where a query "term" may be a synonym set.

    A set (a word and its translations) counts as one term, as in Pirkola's structured
    queries: term frequencies are summed over its members and its document frequency is the
    number of passages holding any member. Without sets this is FTS5's ``bm25()``.

    Scores are divided by the query's idf mass (the sum of its sets' idf, a set absent from
    the base counting with the largest possible idf), which puts them on a 0-to-about-1 scale
    comparable across queries and with the cosine of the dense ranking.
    """

    def __init__(self, store) -> None:
        self._store = store
        self._generation: tuple | None = None
        self._forget_postings()

    def _refresh(self) -> None:
        # The analyzer too: another process may have made every term again (KnowledgeBase
        # ._retokenize), which changes no generation (a review: this one kept the old terms).
        # And whether the postings are packed: KnowledgeBase.open packs an older base's.
        meta = self._store.meta_snapshot(("generation", "analyzer", "postings"))
        generation = tuple(sorted(meta.items()))
        if generation == self._generation:
            return
        self._pids, lengths, langs = self._store.passage_table()
        # (FTS5's own postings until then: always right, slower at scale)
        packed = packed_upto(meta.get("postings")) >= (int(self._pids[-1]) if len(self._pids) else 0)
        self._postings = self._store.postings if packed else self._store.lexicon_postings
        self._known_terms = self._store.packed_terms if packed else self._store.known_terms
        self._norm = K1 * (1 - B + B * lengths / max(float(lengths.mean()) if len(lengths) else 1.0, 1.0))
        self._groups = np.array([group(lang) for lang in langs])
        self._masks: dict[str, np.ndarray] = {}
        # Rows by pid, so that a posting's pids become rows by a gather: searchsorted in the pids
        # took 20 ms a search at 1M passages. pids only grow (AUTOINCREMENT); a base whose
        # pids are mostly gone (removed articles) keeps searchsorted rather than a sparse table.
        top = int(self._pids[-1]) + 1 if len(self._pids) else 0
        self._row_of = None
        if top <= ROW_TABLE_SPARSITY * len(self._pids):
            self._row_of = np.full(top, -1, dtype=np.int32)
            self._row_of[self._pids] = np.arange(len(self._pids), dtype=np.int32)
        self._forget_postings()
        self._generation = generation

    def _prefetch(self, sets: list[list[str]]) -> None:
        """Mark the terms of ``sets`` the store has no postings of, in one question to it (0.07 ms
        for a question's 65 terms at 1.03M passages), so that only the others are looked up
        one by one. (Reading the whole vocabulary once per change instead took 450 ms at 100k
        passages.) On a packed base, the terms of removed passages count as held until packed
        again: their postings hold no passage, and score as absent."""
        unseen = [t for members in sets for t in members if t not in self._present and t not in self._absent]
        if not unseen:
            return
        known = self._known_terms(unseen)
        for term in unseen:
            (self._present if term in known else self._absent).add(term)

    def _forget_postings(self) -> None:
        self._kept = _Kept(POSTINGS_KEPT_ROWS)  # scored synonym sets (and words)
        self._terms_kept = _Kept(TERM_POSTINGS_KEPT_ROWS)  # words' postings, to merge into sets
        self._present: set[str] = set()  # terms with postings in the base (see _prefetch), or not
        self._absent: set[str] = set()

    def _term(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers (into this generation's passage table) holding ``term``, and term frequencies."""
        found = self._terms_kept.get(term)
        if found is None:
            if term in self._absent:
                return _NO_POSTINGS
            pids, tfs = self._postings(term)
            # (a pid missing from this generation's table: a removed passage's, which the packed
            # postings keep, or one written since by another process)
            if self._row_of is not None:
                rows = np.full(len(pids), -1, dtype=np.int32)
                inside = pids < len(self._row_of)
                rows[inside] = self._row_of[pids[inside]]
                keep = rows >= 0
            else:
                rows = np.searchsorted(self._pids, pids)
                keep = (rows < len(self._pids)) & (self._pids[np.minimum(rows, len(self._pids) - 1)] == pids)
            found = self._terms_kept.put(term, (rows[keep].astype(np.int32), tfs[keep]))
        return found

    def _scored(self, members: list[str]) -> tuple[np.ndarray, np.ndarray, float]:
        """The rows holding any of ``members`` (ascending), what each gains in BM25 from them,
        and their idf (0.0 if none is in the base). Kept for this generation: at 1M passages,
        merging a common word's postings with its translations' (np.unique over hundreds of
        thousands of rows) and the arithmetic per row took most of a search's lexical time."""
        key = tuple(members)
        found = self._kept.get(key)
        if found is None:
            parts = [self._term(t) for t in members]
            if len(parts) == 1:
                rows, tf = parts[0]
            else:
                rows = np.concatenate([p[0] for p in parts])
                weights = np.concatenate([p[1] for p in parts])
                if len(rows) * DENSE_UNION > len(self._pids):  # summed over the whole base, then read back
                    counts = np.zeros(len(self._pids), dtype=np.float32)  # (counts: exact in float32)
                    np.add.at(counts, rows, weights)
                    # (of a boolean array: 0.7-1.8 ms at 1.07M passages, 3-7 ms of the floats)
                    rows = np.flatnonzero(counts > 0).astype(np.int32)
                    tf = counts[rows]
                else:  # members may share passages
                    rows, at = np.unique(rows, return_inverse=True)
                    tf = np.bincount(at, weights=weights, minlength=len(rows)).astype(np.float32)
            n, df = len(self._pids), len(rows)
            idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6) if df else 0.0
            found = self._kept.put(key, (rows, idf * tf * (K1 + 1) / (tf + self._norm[rows]), idf))
        return found

    def bm25(self, sets: list[list[str]]) -> tuple[np.ndarray, float]:
        """BM25 of every passage (by row) for a structured query, and the query's idf mass."""
        n = len(self._pids)
        scores = np.zeros(n, dtype=np.float32)
        mass = 0.0
        max_idf = math.log((n + 0.5) / 0.5) if n else 1.0
        self._prefetch(sets)
        for members in sets:
            # Only the rows that hold a member: arrays over the whole base cost about 5 ms a set
            # at 1M passages, where a rare word's postings are a few rows.
            rows, gain, idf = self._scored(members)
            mass += idf if len(rows) else max_idf
            np.add.at(scores, rows, gain)  # 0.6 ms for 300k rows, where scores[rows] += took 1.5
        return scores, mass

    def rank(self, query: str, query_group: str, bridge) -> tuple[np.ndarray, np.ndarray]:
        """Lexical relevance of every passage, on the 0-1 scale: the pids (ascending) and their
        scores, 0 for a passage that matches nothing. Arrays, not a dict: a common word matches
        most of a base, and a dict of 1,800 entries cost more than all the scoring here.

        Passages in the query's own language group are scored on the query's own words;
        the others on synonym sets of each word with its translations (``bridge``), plus the
        translations of adjacent English word pairs ("front line" -> 一线).
        """
        self._refresh()
        words = list(dict.fromkeys(terms(query)))
        if not words or not len(self._pids):
            return self._pids, np.zeros(len(self._pids), np.float32)
        bridged = _bridged_sets(words, bridge)
        self._prefetch([words] + bridged)  # one store query for both rankings
        own, own_mass = self.bm25([[w] for w in words])
        other, other_mass = self.bm25(bridged)
        if query_group not in self._masks:  # the passages in other groups (1 ms at 1M passages)
            self._masks[query_group] = self._groups != query_group
        own /= own_mass  # in place: each array over a base of 1M passages costs about 1 ms
        other /= other_mass
        np.copyto(own, other, where=self._masks[query_group])
        return self._pids, own

    def score(self, query: str, query_group: str, bridge) -> dict[int, float]:
        """:meth:`rank` as a dict of the passages that match (pid -> score)."""
        pids, scores = self.rank(query, query_group, bridge)
        rows = np.flatnonzero(scores > 0)
        return dict(zip(pids[rows].tolist(), scores[rows].tolist()))

    def coverage(self, query: str, query_group: str, bridge, text: str, lang: str) -> float:
        """The share of the query's idf mass that the passage ``text`` (in ``lang``) holds at all:
        the idf of each query word it contains (passages in the query's language group) or of
        each synonym set it meets (other passages), over the idf of all of them, a word absent
        from the base counting with the largest idf. Unlike :meth:`score` it ignores how often
        and in how long a passage a word occurs, so it does not move with the base's passage
        lengths; 0 to 1."""
        self._refresh()
        words = list(dict.fromkeys(terms(query)))
        n = len(self._pids)
        if not words or not n:
            return 0.0
        sets = [[w] for w in words] if group(lang) == query_group else _bridged_sets(words, bridge)
        held = set(terms(text))
        max_idf = math.log((n + 0.5) / 0.5)
        mass = matched = 0.0
        self._prefetch(sets)
        for members in sets:
            df = len(self._scored(members)[0])
            idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6) if df else max_idf
            mass += idf
            if held.intersection(members):
                matched += idf
        return matched / mass


_NO_POSTINGS = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


class _Kept:
    """Arrays by key kept between searches, the least recently used let go first once they
    hold more than ``limit`` rows."""

    def __init__(self, limit: int) -> None:
        self._items: dict = {}  # in order of use, the oldest first
        self.rows = 0
        self.limit = limit

    def get(self, key) -> tuple | None:
        item = self._items.pop(key, None)
        if item is not None:
            self._items[key] = item
        return item

    def put(self, key, item: tuple):
        replaced = self._items.pop(key, None)
        self.rows += len(item[0]) - (len(replaced[0]) if replaced is not None else 0)
        self._items[key] = item
        while self.rows > self.limit and len(self._items) > 1:
            oldest = next(iter(self._items))
            self.rows -= len(self._items.pop(oldest)[0])
        return item


def _bridged_sets(words: list[str], bridge) -> list[list[str]]:
    """Each word with its dictionary translations as one synonym set, plus the translations of
    adjacent English word pairs ("front line" -> 一线)."""
    sets = [[w, *bridge.translations(w)] for w in words]
    return sets + [list(p) for a, b in zip(words, words[1:]) if (p := bridge.phrase(a, b))]
