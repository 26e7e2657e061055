"""Real embeddings for the scale benchmark, made cheaply, and realistic synthetic ones around them.

The bundled encoder embeds about 14 passages/s on 2 cores, so a million real passages are out
of reach. What this module does instead, all deterministic (fixed seeds):

1. **Real passages**: every passage of ``corpus/`` and ``bench/eval/distractors`` (211
   passages, 15 articles, English and both Chinese scripts), then *recombined* passages:
   runs of 1-5 consecutive sentences of one article, 70% of them followed by a run of 1-3
   sentences of another article in the same language, up to about 110 tokens. They read
   like passages of a larger corpus on the same subjects: related but never identical.
   Embedded with the real encoder and cached in ``~/.cache/bilingual-kb-bench`` (keyed by
   encoder id and the texts' hash), so the full benchmark embeds them once per machine.
2. **Real queries**: the 96 questions of ``bench/eval/questions.jsonl`` and single sentences
   of the articles (:data:`SENTENCE_QUERIES`), embedded as queries.
3. Both are **language-centred** exactly as the knowledge base does before indexing
   (:class:`index.centering.Centering`): those are the vectors FAISS sees.
4. **Synthetic vectors** for 100k and 1M passages (:func:`synthetic`): mixtures of
   neighbouring real centred vectors plus Gaussian noise with the real vectors' own
   covariance, renormalised. The noise was chosen so that the synthetic set's
   nearest-neighbour cosines match the real set's (see :func:`calibrate_noise`, printed by
   ``python bench/realdata.py``); ``scale.fidelity_row`` checks that an approximate index
   finds them no easier than real ones.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ingest  # noqa: E402
from ingest.split import estimate_tokens, sentence_spans  # noqa: E402
from index.centering import Centering  # noqa: E402

SOURCES = (ROOT / "corpus", ROOT / "bench" / "eval" / "distractors")
QUESTIONS = ROOT / "bench" / "eval" / "questions.jsonl"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bilingual-kb-bench"
#: Recombined passages stop growing at this many estimated tokens: the real passages of
#: the corpus average 97 encoder tokens (max 140), so recombined ones have the same size.
RECOMBINED_TOKENS = 110
#: Noise added to a synthetic vector, as a multiple of the real vectors' standard deviation
#: along each principal axis, drawn for each vector uniformly from this range.
#: Nearest-neighbour cosines of 3,800 vectors (p10 / p50 / p90), by ``calibrate_noise``:
#: real 0.65 / 0.85 / 0.97; 0.1-0.7: 0.68 / 0.82 / 0.91 (0.05-0.6: 0.73 / 0.86 / 0.94, too
#: few distant pairs; 0.2-0.8: 0.63 / 0.77 / 0.87, too few close ones).
#: Re-measure with ``python bench/realdata.py``.
NOISE_RANGE = (0.1, 0.7)
#: Shortest sentence used as a query, in characters (about six words or six Chinese words).
MIN_QUERY_CHARS = {"en": 30, "zh": 12}
#: Sentences used as queries besides the 96 questions.
SENTENCE_QUERIES = 300
#: Real neighbours a synthetic vector may mix in (see :func:`synthetic`).
NEIGHBOURS = 10
#: Texts per cache file.
CACHE_CHUNK = 200


def _articles() -> list[ingest.Article]:
    return [ingest.load(path) for folder in SOURCES for path in sorted(folder.iterdir()) if path.is_file()]


def passage_texts(count: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``count`` passage texts and their languages: the corpus's own passages first, then
    recombined ones (see the module docstring)."""
    articles = _articles()
    texts, langs, seen = [], [], set()
    for article in articles:
        for passage in ingest.split(article):
            texts.append(passage.text)
            langs.append(passage.lang)
            seen.add(passage.text)
    sentences = [[article.text[s:e] for s, e, _ in sentence_spans(article.text)] for article in articles]
    by_lang: dict[str, list[int]] = {}
    for i, article in enumerate(articles):
        by_lang.setdefault(article.lang[:2], []).append(i)
    rng = random.Random(seed)
    while len(texts) < count:
        first = rng.randrange(len(articles))
        pieces = _run(sentences[first], rng.randint(1, 5), rng)
        if rng.random() < 0.7 and len(by_lang[articles[first].lang[:2]]) > 1:
            other = rng.choice([i for i in by_lang[articles[first].lang[:2]] if i != first])
            pieces += _run(sentences[other], rng.randint(1, 3), rng)
        joiner = " " if articles[first].lang == "en" else ""
        kept: list[str] = []
        for piece in pieces:
            if kept and estimate_tokens(joiner.join(kept + [piece])) > RECOMBINED_TOKENS:
                break
            kept.append(piece)
        text = joiner.join(kept)
        if text not in seen:  # exact duplicates would make "the" nearest neighbour a tie
            seen.add(text)
            texts.append(text)
            langs.append(articles[first].lang)
    return texts[:count], langs[:count]


#: Passages per synthetic article: close to the real articles' (211 passages in 15 articles).
SYNTHETIC_PASSAGES_PER_ARTICLE = 14


def synthetic_articles(passages: int) -> list[ingest.Article]:
    """Articles of :data:`SYNTHETIC_PASSAGES_PER_ARTICLE` recombined passages of one language
    (:func:`passage_texts` past the corpus's own passages), cleaned as text, in a fixed
    shuffled order: about ``passages`` passages once split, besides the real articles'."""
    real = sum(len(ingest.split(a)) for a in _articles())  # passage_texts puts these first
    texts, langs = passage_texts(real + passages)
    by_lang: dict[str, list[str]] = {}
    for text, lang in zip(texts[real:], langs[real:]):
        by_lang.setdefault(lang, []).append(text)
    articles = []
    for lang, items in sorted(by_lang.items()):
        for start in range(0, len(items), SYNTHETIC_PASSAGES_PER_ARTICLE):
            body = "\n\n".join(items[start:start + SYNTHETIC_PASSAGES_PER_ARTICLE])
            n = len(articles)
            articles.append(ingest.parse(body, "text", source=f"synthetic:{n}", title=f"synthetic {lang} {n}"))
    random.Random(0).shuffle(articles)
    return articles


def _run(sentences: list[str], length: int, rng: random.Random) -> list[str]:
    start = rng.randrange(max(1, len(sentences) - length + 1))
    return sentences[start:start + length]


def questions() -> tuple[list[str], list[str]]:
    """The evaluation set's questions and their languages."""
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows], [r["lang"] for r in rows]


def sentence_queries(count: int, seed: int = 1) -> tuple[list[str], list[str]]:
    """``count`` single sentences of the articles (at least :data:`MIN_QUERY_CHARS` long),
    used as queries: more queries than the 96 questions, and as real, though easier."""
    pool = [(article.text[s:e], article.lang) for article in _articles()
            for s, e, _ in sentence_spans(article.text) if e - s >= MIN_QUERY_CHARS[article.lang[:2]]]
    picked = random.Random(seed).sample(pool, min(count, len(pool)))
    return [text for text, _ in picked], [lang for _, lang in picked]


def _cached(encoder, kind: str, texts: list[str], embed) -> np.ndarray:
    """``embed(texts)``, cached in chunks of :data:`CACHE_CHUNK` texts so that a larger set
    reuses the chunks of a smaller one (the texts are generated in a fixed order)."""
    parts = []
    for start in range(0, len(texts), CACHE_CHUNK):
        chunk = texts[start:start + CACHE_CHUNK]
        digest = hashlib.sha256("\x00".join([encoder.id, kind, *chunk]).encode()).hexdigest()[:20]
        path = CACHE / f"{kind}-{digest}.npy"
        if path.exists():
            parts.append(np.load(path).astype(np.float32))
            continue
        vectors = np.asarray(embed(chunk), dtype=np.float32)
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npy")
        np.save(tmp, vectors)
        os.replace(tmp, path)
        parts.append(vectors)
    return np.vstack(parts)


def real_vectors(count: int, encoder=None, sentences: int = SENTENCE_QUERIES) -> dict:
    """Centred real vectors: ``passages`` (with their ``langs``), ``questions`` (the 96 of
    the evaluation set) and ``sentences`` (single sentences embedded as queries); plus
    ``embed_seconds`` spent embedding (about 0 when all came from the cache)."""
    from index.encoders import BundledE5

    encoder = encoder or BundledE5()
    texts, langs = passage_texts(count)
    started = time.perf_counter()
    raw = _cached(encoder, "passages", texts, encoder.encode_passages)
    centering = Centering.fit(langs, raw)
    out = {"passages": centering.passages(raw, langs), "langs": langs}
    for name, (q_texts, q_langs) in (("questions", questions()), ("sentences", sentence_queries(sentences))):
        raw_q = _cached(encoder, "queries", q_texts, encoder.encode_queries)
        out[name] = np.vstack([centering.query(v, lang) for v, lang in zip(raw_q, q_langs)])
    out["embed_seconds"] = time.perf_counter() - started
    return out


def _unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def synthetic(real: np.ndarray, count: int, seed: int = 0, noise: tuple[float, float] = NOISE_RANGE,
              shape_from: np.ndarray | None = None, chunk: int = 100_000) -> np.ndarray:
    """``count`` unit vectors drawn along the real ones: each mixes a random real vector,
    one of its :data:`NEIGHBOURS` nearest real vectors and one of that one's (random convex
    weights), plus noise shaped like the real vectors' covariance (``s`` x their spread
    along every principal axis, ``s`` drawn uniformly from ``noise``), renormalised. The
    covariance is that of ``shape_from`` if given (a larger real set), else of ``real``.

    Mixing neighbours rather than adding noise around single real vectors matters at scale:
    with 250 synthetic vectors per real one (1M from 4,000), noise around single vectors
    makes tight clumps that flatter IVF (recall 0.83 with one synthetic vector per real one,
    0.98 with 100, at equal size) and hurt HNSW; mixed neighbours keep IVF's recall near
    the real vectors' (0.89, 0.88, 0.85 against 0.85 real; ``python bench/realdata.py``).
    """
    rng = np.random.default_rng(seed)
    shape = real if shape_from is None else shape_from
    _, singular, axes = np.linalg.svd(shape - shape.mean(axis=0), full_matrices=False)
    spread = ((singular / np.sqrt(len(shape) - 1))[:, None] * axes).astype(np.float32)  # rows: std x axis
    sims = real @ real.T
    np.fill_diagonal(sims, -np.inf)
    near = np.argsort(-sims, axis=1)[:, :NEIGHBOURS]
    out = np.empty((count, real.shape[1]), dtype=np.float32)
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        first = rng.integers(0, len(real), n)
        second = near[first, rng.integers(0, NEIGHBOURS, n)]
        third = near[second, rng.integers(0, NEIGHBOURS, n)]
        weights = rng.dirichlet(np.ones(3), n).astype(np.float32)
        mixed = weights[:, :1] * real[first] + weights[:, 1:2] * real[second] + weights[:, 2:] * real[third]
        scale = rng.uniform(*noise, size=(n, 1)).astype(np.float32)
        out[start:start + n] = _unit(mixed + scale * (rng.standard_normal((n, len(spread)), dtype=np.float32) @ spread))
    return out


def nn_cosines(vectors: np.ndarray) -> np.ndarray:
    """Each vector's cosine with its nearest other vector."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return sims.max(axis=1)


def calibrate_noise(real: np.ndarray, ranges=((0.05, 0.6), (0.1, 0.6), (0.1, 0.7), (0.2, 0.8))) -> list[dict]:
    """Nearest-neighbour cosine quantiles of the real set and of same-sized synthetic sets."""
    rows = [{"set": "real", **_quantiles(nn_cosines(real))}]
    for low, high in ranges:
        rows.append({"set": f"synthetic noise {low}-{high}",
                     **_quantiles(nn_cosines(synthetic(real, len(real), seed=1, noise=(low, high))))})
    return rows


def _quantiles(values: np.ndarray) -> dict:
    return {f"p{q}": round(float(np.percentile(values, q)), 3) for q in (10, 50, 90)}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    data = real_vectors(n)
    print(f"{n} real passages, embedding {data['embed_seconds']:.0f} s")
    for row in calibrate_noise(data["passages"]):
        print(json.dumps(row))
