"""Retrieval evaluation on a questions file: hit@1, hit@5, MRR@10 by same/cross language,
no-answer precision and recall, and search latency.

A questions file is JSON lines: ``{"question": ..., "lang": ..., "article": ..., "answers": [...]}``
where ``answers`` are phrases copied from the passage that answers the question (a hit is a
retrieved passage that contains one of them) and ``article`` names the answering article (its
id, a prefix of it, its source, or its source's file stem) or is null for a question the base
cannot answer.
"""
from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import detect_language

from .centering import group
from .errors import KnowledgeBaseError

if TYPE_CHECKING:
    from .kb import KnowledgeBase

#: Ranks looked at: MRR is cut at 10, the deepest list a reader scans.
DEPTH = 10


@dataclass(frozen=True)
class Question:
    question: str
    answers: tuple[str, ...]
    article: str | None = None
    lang: str | None = None
    id: str = ""


@dataclass(frozen=True)
class Outcome:
    question: Question
    rank: int | None       # 1-based rank of the first passage holding an answer phrase
    cross: bool            # question and answering article in different languages
    found: bool            # what kb.ask decided
    top_similarity: float
    seconds: float


@dataclass(frozen=True)
class Report:
    outcomes: list[Outcome]

    def _answerable(self, cross: bool | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.article is not None and (cross is None or o.cross == cross)]

    def metrics(self, cross: bool | None = None) -> dict[str, float]:
        rows = self._answerable(cross)
        n = len(rows) or 1
        return {
            "n": len(rows),
            "hit@1": sum(o.rank == 1 for o in rows) / n,
            "hit@5": sum(o.rank is not None and o.rank <= 5 for o in rows) / n,
            "mrr@10": sum(1 / o.rank for o in rows if o.rank is not None and o.rank <= DEPTH) / n,
            "refused": sum(not o.found for o in rows) / n,
        }

    def no_answer(self) -> dict[str, float]:
        unanswerable = [o for o in self.outcomes if o.question.article is None]
        refused = [o for o in self.outcomes if not o.found]
        right = [o for o in refused if o.question.article is None]
        return {
            "n": len(unanswerable),
            "recall": len(right) / (len(unanswerable) or 1),
            "precision": len(right) / (len(refused) or 1),
        }

    def latency_ms(self) -> dict[str, float]:
        times = sorted(o.seconds * 1000 for o in self.outcomes)
        if not times:
            return {"median": 0.0, "p95": 0.0}
        return {"median": statistics.median(times), "p95": times[min(len(times) - 1, int(0.95 * len(times)))]}

    def summary(self) -> dict:
        return {"same": self.metrics(False), "cross": self.metrics(True), "all": self.metrics(None),
                "no_answer": self.no_answer(), "latency_ms": self.latency_ms()}

    def table(self) -> str:
        lines = [f"{'questions':<12}{'n':>5}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>8}{'refused':>9}"]
        for name, cross in (("same-lang", False), ("cross-lang", True), ("all", None)):
            m = self.metrics(cross)
            lines.append(f"{name:<12}{m['n']:>5}{m['hit@1']:>8.3f}{m['hit@5']:>8.3f}{m['mrr@10']:>8.3f}{m['refused']:>9.3f}")
        na, lat = self.no_answer(), self.latency_ms()
        lines.append(f"no-answer questions: {na['n']}, refused (recall) {na['recall']:.3f}, "
                     f"precision of refusals {na['precision']:.3f}")
        lines.append(f"search latency: median {lat['median']:.1f} ms, p95 {lat['p95']:.1f} ms")
        return "\n".join(lines)


def load_questions(path: str | Path) -> list[Question]:
    """Read a questions file; raises KnowledgeBaseError naming the file and line on bad input."""
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(Question(row["question"], tuple(row.get("answers") or ()), row.get("article"),
                                      row.get("lang"), str(row.get("id", number))))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise KnowledgeBaseError(f"{path}:{number}: not a question record ({exc})") from exc
    return questions


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def evaluate(kb: "KnowledgeBase", questions: list[Question]) -> Report:
    """Run every question through ``kb.search`` and ``kb.ask`` and score the rankings."""
    articles = kb.articles()
    outcomes = []
    for q in questions:
        started = time.perf_counter()
        hits = kb.search(q.question, DEPTH)
        seconds = time.perf_counter() - started
        answer = kb.ask(q.question)
        phrases = [_squeeze(a) for a in q.answers]
        rank = next((n for n, h in enumerate(hits, 1) if any(p in _squeeze(h.text) for p in phrases)), None)
        cross = False
        if q.article is not None:
            article = next((a for a in articles if a.id.startswith(q.article) or a.source == q.article
                            or (a.source and Path(a.source).stem == q.article)), None)
            if article is None:
                raise KnowledgeBaseError(f"question {q.id!r}: no article {q.article!r} in {kb.path}")
            cross = group(q.lang or detect_language(q.question)) != group(article.lang)
        top = max((h.similarity for h in hits), default=0.0)
        outcomes.append(Outcome(q, rank, cross, answer.found, top, seconds))
    return Report(outcomes)
