"""Retrieval evaluation on a questions file: hit@1, hit@5, MRR@10 by same/cross language,
no-answer precision and recall, and search latency.

A questions file is JSON lines: ``{"question": ..., "lang": ..., "article": ..., "answers": [...]}``
where ``article`` names the answering article (its id, a unique prefix of it, its source, or
its source's file stem) or is null for a question the base cannot answer, and ``answers`` are
phrases copied from the passage that answers the question (a hit is a retrieved passage that
contains one of them; required unless ``article`` is null). ``question`` and ``article`` are
required; ``lang`` (detected when absent) and ``id`` (default: the line number) are optional.
Any other key is an error, as is a file without questions: a typo must not be scored as a miss.
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
    from .store import ArticleInfo

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


KEYS = frozenset({"question", "article", "answers", "lang", "id"})


def load_questions(path: str | Path) -> list[Question]:
    """Read a questions file; raises KnowledgeBaseError naming the file and line on bad input,
    and naming the file when it holds no question."""
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KnowledgeBaseError(f"{path}:{number}: not a question record ({exc})") from exc
        problem = _record_problem(row)
        if problem:
            raise KnowledgeBaseError(f"{path}:{number}: {problem}")
        questions.append(Question(row["question"], tuple(row.get("answers") or ()), row["article"],
                                  row.get("lang"), str(row.get("id", number))))
    if not questions:
        raise KnowledgeBaseError(f"{path}: no questions in the file (one JSON object per line)")
    return questions


def _record_problem(row: object) -> str:
    """What is wrong with one parsed line, or "" when it is a valid question record."""
    if not isinstance(row, dict):
        return f"not a question record (a JSON object), but {type(row).__name__}"
    unknown = sorted(set(row) - KEYS)
    if unknown:
        return f"unknown key(s) {', '.join(map(repr, unknown))}; expected {', '.join(sorted(KEYS))}"
    if not isinstance(row.get("question"), str) or not row["question"].strip():
        return "no 'question' (a non-empty string)"
    if "article" not in row:
        return "no 'article' (the answering article's id or source, or null for an unanswerable question)"
    if row["article"] is not None and (not isinstance(row["article"], str) or not row["article"].strip()):
        return "'article' must be a non-empty string (an id, a prefix, a source) or null"  # "" prefixes every id
    answers = row.get("answers")
    if answers is not None and (not isinstance(answers, list) or not all(isinstance(a, str) for a in answers)):
        return "'answers' must be a list of strings"
    if row["article"] is not None and not answers:
        return f"no 'answers' for a question answered by {row['article']!r}: nothing could count as a hit"
    if answers and not all(a.strip() for a in answers):  # "" is in every passage: every hit would count
        return "an empty phrase in 'answers': every passage holds it, so any passage would count as a hit"
    return ""


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _find_article(articles: list["ArticleInfo"], wanted: str, question_id: str, where: str) -> "ArticleInfo":
    """The one article ``wanted`` names; an exact id or source wins over a prefix or stem."""
    exact = [a for a in articles if a.id == wanted or a.source == wanted]
    matches = exact or [a for a in articles if a.id.startswith(wanted)
                        or (a.source and Path(a.source).stem == wanted)]
    if not matches:
        raise KnowledgeBaseError(f"question {question_id!r}: no article {wanted!r} in {where}")
    if len(matches) > 1:
        raise KnowledgeBaseError(f"question {question_id!r}: article {wanted!r} is ambiguous, matches "
                                 f"{len(matches)} articles: {', '.join(a.id for a in matches)}")
    return matches[0]


def evaluate(kb: "KnowledgeBase", questions: list[Question]) -> Report:
    """Run every question through ``kb.search`` and ``kb.ask`` and score the rankings."""
    articles = kb.articles()
    outcomes = []
    if questions:
        # The first search of a process loads the model and the index; timing it would put
        # one cold start into the latency figures (p95 of 700 ms where searches take 5 ms).
        kb.search(questions[0].question, DEPTH)
    for q in questions:
        started = time.perf_counter()
        hits = kb.search(q.question, DEPTH)
        seconds = time.perf_counter() - started
        answer = kb.ask(q.question)
        phrases = [_squeeze(a) for a in q.answers]
        rank = next((n for n, h in enumerate(hits, 1) if any(p in _squeeze(h.text) for p in phrases)), None)
        cross = False
        if q.article is not None:
            article = _find_article(articles, q.article, q.id, str(kb.path))
            cross = group(q.lang or detect_language(q.question)) != group(article.lang)
        top = max((h.similarity for h in hits), default=0.0)
        outcomes.append(Outcome(q, rank, cross, answer.found, top, seconds))
    return Report(outcomes)
