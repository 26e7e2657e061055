"""Overlapping passages and neighbour-context scoring, measured on bench/eval.

Builds one evaluation base (corpus/ + bench/eval/distractors/) per splitting variant, with the
bundled encoder, times the ingest, and runs index/evaluate.py's questions through it; prints
hit@1 / hit@5 / MRR@10 for same- and cross-language questions, the no-answer figures, the
passage count and ingest seconds, and which questions flipped against the baseline. It also
checks, for every answered question, that each quote is an exact span of its article
(``article_text[q.start:q.end] == q.text``) and whether a quote holds an answer phrase.

Splitting variants (post-processing of ``ingest.split``'s passages, so they keep its sentence
and paragraph alignment):

- ``base``: the passages as they are.
- ``prev1``: each passage also starts with the last sentence of the passage before it.
- ``next1``: each passage also ends with the first sentence of the passage after it.
- ``half``: sliding windows of whole sentences, about TARGET_TOKENS long, a new one every
  TARGET_TOKENS / 2 tokens (stride half the target: about twice the passages).

Search-time variants (on the base split; ``search`` re-implemented here, index/ untouched):

- ``smooth_max``: score = max(own fused score, mean of own and next passage's fused score).
- ``smooth_f``: score = own + f x mean of the neighbours' fused scores (f = 0.25).
- ``smooth_prevmax``: score = max(own, mean of own and the previous passage's fused score).
- ``smooth_prevf``: score = own + f x the previous passage's fused score (f = 0.25).

Usage::

    python bench/split_overlap.py --out /tmp/ov [--variants base,prev1,next1,half,smooth_max]

Timings are noisy on a shared 2-core machine; variants are built one after another.

Measured 2026-12-02 (bundled FastE5; 39 same-, 40 cross-language, 17 + 18 unanswerable):
one-sentence overlap (prev1 / next1) turns 3 net same-language misses into hits at rank 1
(0.769 -> 0.846; the split answers q001, q002 move to rank 1) but loses 2 cross-language ones
(0.800 -> 0.750) and refuses 2 fewer unanswerable questions (11 -> 9 of 17, 13 -> 11 of the
18 held-out ones); the no-answer AUC falls (0.955 -> 0.945 / 0.929), so it is not only the
threshold. Half-stride windows: 2.4x passages, same 0.795, cross 0.825, unanswerable refused
5 of 17. Neighbour smoothing moves at most one question. Quotes stay exact spans in every
variant, but for the split answers the quote is still the setup sentence (answer.py picks the
sentence most like the question). Not adopted: split.py is unchanged.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ingest  # noqa: E402
import importlib  # noqa: E402
from ingest import Passage, discover  # noqa: E402
from ingest.split import TARGET_TOKENS, estimate_tokens, sentence_spans  # noqa: E402

split_module = importlib.import_module("ingest.split")  # the module: ``ingest.split`` is the function

QUESTIONS = ROOT / "bench/eval/questions.jsonl"
EXTRA = ROOT / "bench/eval/unanswerable_extra.jsonl"  # 18 unanswerable, not used to tune anything
SOURCES = [ROOT / "corpus", ROOT / "bench/eval/distractors"]
_ORIGINAL_SPLIT = split_module.split


def _sentences_in(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(start + s, start + e) for s, e, _ in sentence_spans(text[start:end])]


def _rebuild(article, spans) -> list[Passage]:
    text = article.text
    return [Passage(article.id, seq, text[s:e], s, e, split_module._passage_lang(text[s:e], article.lang))
            for seq, (s, e) in enumerate(spans)]


def split_prev1(article, **kw):
    passages = _ORIGINAL_SPLIT(article, **kw)
    count = kw.get("count_tokens") or estimate_tokens
    limit = kw.get("max_tokens", split_module.MAX_TOKENS)
    spans = []
    for n, p in enumerate(passages):
        start = p.start
        if n:
            prev = passages[n - 1]
            last = _sentences_in(article.text, prev.start, prev.end)[-1]
            if count(article.text[last[0]:p.end]) <= limit:
                start = last[0]
        spans.append((start, p.end))
    return _rebuild(article, spans)


def split_next1(article, **kw):
    passages = _ORIGINAL_SPLIT(article, **kw)
    count = kw.get("count_tokens") or estimate_tokens
    limit = kw.get("max_tokens", split_module.MAX_TOKENS)
    spans = []
    for n, p in enumerate(passages):
        end = p.end
        if n + 1 < len(passages):
            nxt = passages[n + 1]
            first = _sentences_in(article.text, nxt.start, nxt.end)[0]
            if count(article.text[p.start:first[1]]) <= limit:
                end = first[1]
        spans.append((p.start, end))
    return _rebuild(article, spans)


def _starts_paragraph(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t")
    return not before or before.endswith("\n")


def split_next1p(article, **kw):
    """next1, but only across boundaries inside a paragraph (a paragraph break is not widened)."""
    passages = _ORIGINAL_SPLIT(article, **kw)
    widened = split_next1(article, **kw)
    return _rebuild(article, [(w.start, w.end) if n + 1 < len(passages) and not _starts_paragraph(article.text, passages[n + 1].start)
                              else (p.start, p.end) for n, (p, w) in enumerate(zip(passages, widened))])


def split_prev1p(article, **kw):
    """prev1, but only across boundaries inside a paragraph."""
    passages = _ORIGINAL_SPLIT(article, **kw)
    widened = split_prev1(article, **kw)
    return _rebuild(article, [(w.start, w.end) if not _starts_paragraph(article.text, p.start) else (p.start, p.end)
                              for p, w in zip(passages, widened)])


def split_half(article, **kw):
    """Windows of whole sentences about the target long, starting every half target."""
    passages = _ORIGINAL_SPLIT(article, **kw)  # its sentence pieces (long sentences already cut)
    count = kw.get("count_tokens") or estimate_tokens
    limit = kw.get("max_tokens", split_module.MAX_TOKENS)
    target = min(kw.get("target_tokens", TARGET_TOKENS), limit)
    units = [u for p in passages for u in _sentences_in(article.text, p.start, p.end)]
    sizes = [count(article.text[s:e]) for s, e in units]
    spans, i = [], 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + sizes[j] <= target):
            total += sizes[j]
            j += 1
        while j > i + 1 and count(article.text[units[i][0]:units[j - 1][1]]) > limit:
            j -= 1
        spans.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # next window starts after about half of this one's tokens
        k, acc = i, 0
        while k < j - 1 and acc + sizes[k] <= total / 2:
            acc += sizes[k]
            k += 1
        i = max(k, i + 1)
    return _rebuild(article, spans)


SPLITS = {"base": None, "prev1": split_prev1, "next1": split_next1, "half": split_half,
          "prev1p": split_prev1p, "next1p": split_next1p}


def splitter(variant: str):
    """``name`` or ``name@T``: the named split with a target of T tokens instead of the default."""
    name, _, target = variant.partition("@")
    fn = SPLITS[name] or _ORIGINAL_SPLIT
    if not target:
        return fn
    return lambda article, **kw: fn(article, **{**kw, "target_tokens": int(target)})


def build(kb_dir: Path, variant: str) -> tuple[float, int]:
    from index import KnowledgeBase

    shutil.rmtree(kb_dir, ignore_errors=True)
    ingest.split = splitter(variant)
    try:
        started = time.perf_counter()
        with KnowledgeBase.open(kb_dir) as kb:
            for outcome in kb.add_many(discover([str(s) for s in SOURCES])):
                if outcome.status == "failed":
                    raise SystemExit(f"{outcome.source}: {outcome.error}")
            seconds = time.perf_counter() - started
            return seconds, len(kb.passages())
    finally:
        ingest.split = _ORIGINAL_SPLIT


def smoothed_search(kb, mode: str, fraction: float = 0.25):
    """kb.search with each candidate's fused score mixed with its neighbours' (same article)."""
    from index import kb as kbmod
    from index.bridge import bridge
    from index.centering import group
    from index.results import Hit

    rows = kb._store.passages()
    where = {r.pid: (r.passage.article_id, r.passage.seq) for r in rows}
    at = {v: pid for pid, v in where.items()}

    def search(query, k=5, *, langs=None, sites=None):
        query = query.strip()
        vectors = kb._dense.current()
        lang = ingest.detect_language(query)
        qvec = kb._dense.centering.query(kb.query_vector(query), lang)
        dense = dict(vectors.search(qvec, kbmod.CANDIDATES, None))
        lex = kb._lexical.score(query, group(lang), bridge())
        best_lex = sorted(lex, key=lex.get, reverse=True)[:kbmod.CANDIDATES]
        missing = [pid for pid in best_lex if pid not in dense]
        dense.update(zip(missing, vectors.similarity(qvec, missing).tolist()))
        neighbours = {}
        for pid in list(dense):
            art, seq = where[pid]
            neighbours[pid] = [at.get((art, seq - 1)), at.get((art, seq + 1))]
        extra = [n for ns in neighbours.values() for n in ns if n is not None and n not in dense]
        extra = list(dict.fromkeys(extra))
        if extra:
            dense.update(zip(extra, vectors.similarity(qvec, extra).tolist()))

        def fused(pid):
            return dense[pid] + kbmod.LEXICAL_WEIGHT * lex.get(pid, 0.0)

        scores = {}
        for pid in neighbours:
            own = fused(pid)
            prev_pid, next_pid = neighbours[pid]
            if mode == "max":
                scores[pid] = max(own, (own + fused(next_pid)) / 2) if next_pid is not None else own
            elif mode == "prevmax":  # the answer often follows its setup: borrow from the passage before
                scores[pid] = max(own, (own + fused(prev_pid)) / 2) if prev_pid is not None else own
            elif mode == "prevf":
                scores[pid] = own + fraction * (fused(prev_pid) if prev_pid is not None else 0.0)
            else:
                ns = [fused(n) for n in (prev_pid, next_pid) if n is not None]
                scores[pid] = own + fraction * (sum(ns) / len(ns) if ns else 0.0)
        top = sorted(scores, key=scores.get, reverse=True)[:k]
        return [Hit(r.passage.text, scores[r.pid], r.passage.article_id, r.title, r.source, r.passage.lang,
                    r.passage.start, r.passage.end, dense[r.pid])
                for r in kb._store.passages(top)]

    return search


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def run(kb_dir: Path, search_mode: str | None = None) -> dict:
    from index import KnowledgeBase
    from index.evaluate import evaluate, load_questions

    questions = load_questions(QUESTIONS)
    with KnowledgeBase.open(kb_dir, create=False) as kb:
        if search_mode:
            kb.search = smoothed_search(kb, search_mode)
        report = evaluate(kb, questions)
        from index.answer import confidence
        from index.evaluate import evaluate as _ev

        conf = {}
        for q in questions + load_questions(EXTRA):
            hits = kb.search(q.question, 5)
            conf[q.id] = confidence(kb, q.question, hits[0]) if hits else -1.0
        extra = _ev(kb, load_questions(EXTRA)).no_answer()["recall"]
        quotes = {}
        for q in questions:
            if q.article is None:
                continue
            answer = kb.ask(q.question)
            if not answer.found:
                quotes[q.id] = "refused"
                continue
            phrases = [squeeze(a) for a in q.answers]
            for quote in answer.quotes:
                assert kb.article_text(quote.article_id)[quote.start:quote.end] == quote.text, (q.id, quote)
            quotes[q.id] = "phrase" if any(p in squeeze(qt.text) for qt in answer.quotes for p in phrases) else "other"
    summary = report.summary()
    ranks = {o.question.id: o.rank for o in report.outcomes}
    found = {o.question.id: o.found for o in report.outcomes}
    cross = {o.question.id: o.cross for o in report.outcomes if o.question.article is not None}
    return {"summary": summary, "ranks": ranks, "found": found, "cross": cross, "quotes": quotes,
            "confidence": conf, "extra_refused": extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/split_overlap"))
    parser.add_argument("--variants", default="base,prev1,next1,prev1p,next1p,prev1@96,next1@96,half,"
                        "smooth_max,smooth_f,smooth_prevmax,smooth_prevf")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for variant in args.variants.split(","):
        mode = {"smooth_max": "max", "smooth_f": "fraction", "smooth_prevmax": "prevmax",
                "smooth_prevf": "prevf"}.get(variant)
        kb_dir = args.out / ("base" if mode else variant.replace("@", "_"))
        seconds, count = (None, None)
        if mode is None or not (kb_dir / "store.sqlite").exists():
            seconds, count = build(kb_dir, "base" if mode else variant)
        result = run(kb_dir, mode)
        result.update(variant=variant, ingest_seconds=seconds, passages=count)
        (args.out / f"{variant.replace('@', '_')}.json").write_text(json.dumps(result, ensure_ascii=False))
        s = result["summary"]
        print(f"{variant:<11} same {s['same']['hit@1']:.3f}/{s['same']['hit@5']:.3f}/{s['same']['mrr@10']:.3f} "
              f"cross {s['cross']['hit@1']:.3f}/{s['cross']['hit@5']:.3f}/{s['cross']['mrr@10']:.3f} "
              f"unans-refused {s['no_answer']['recall']:.3f} extra {result['extra_refused']:.3f} ans-refused {s['all']['refused']:.3f} "
              f"passages {count} ingest {seconds and round(seconds, 1)} s", flush=True)


if __name__ == "__main__":
    main()
