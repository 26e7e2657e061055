"""End-to-end figures on the sample corpus: ingest time, query latency, size on disk.

    python bench/e2e.py            # prints a table, then one JSON line
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import KnowledgeBase, discover  # noqa: E402
from index.evaluate import load_questions  # noqa: E402


def main() -> None:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        kb = KnowledgeBase.open(Path(tmp) / "kb")
        sources = discover([ROOT / "corpus"])
        for source in sources:
            kb.add(source)
        kb.save()
        figures["ingest_seconds"] = time.perf_counter() - started
        figures["articles"] = len(kb.articles())
        figures["passages"] = len(kb.passages())
        kb.close()
        figures["kb_bytes"] = sum(f.stat().st_size for f in (Path(tmp) / "kb").iterdir())

        started = time.perf_counter()
        kb = KnowledgeBase.open(Path(tmp) / "kb")
        kb.search("warm up", 1)
        figures["open_and_first_search_seconds"] = time.perf_counter() - started
        questions = [q.question for q in load_questions(ROOT / "bench" / "eval" / "questions.jsonl")]
        search, ask = [], []
        for q in questions:
            t = time.perf_counter()
            kb.search(q, 5)
            search.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            kb.ask(q)
            ask.append((time.perf_counter() - t) * 1000)
        kb.close()
    for name, times in (("search", search), ("ask", ask)):
        times.sort()
        figures[f"{name}_ms_median"] = statistics.median(times)
        figures[f"{name}_ms_p95"] = times[int(0.95 * (len(times) - 1))]
    figures["queries"] = len(questions)
    for key, value in figures.items():
        print(f"{key:<32} {value:,.1f}" if isinstance(value, float) else f"{key:<32} {value:,}")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
