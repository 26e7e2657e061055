"""Do answers quote the answer? Single sentences against adjacent sentence pairs.

    ingest add --kb /tmp/evalkb corpus/ bench/eval/distractors/
    python bench/quotes.py /tmp/evalkb

For each answerable question of ``bench/eval/questions.jsonl`` that ``kb.ask`` answers, counts
the answers with a quote holding one of the question's answer phrases (whitespace ignored) and
those with a quote ending with a question mark, with ``index.answer.QUOTE_PAIRS`` off and on
and ``QUOTE_QUESTIONS`` on and off, and the mean quote length.
Measured 2026-12-02 (FastE5): 76 of 79 answered either way; 41 answers quote an answer phrase
with single sentences, 52 with pairs; quotes 124 against 168 characters. 2026-12-03: 17 of the
76 answers quoted a sentence ending with a question; with QUOTE_QUESTIONS off (the default) none
does, and 54 quote an answer phrase (quotes 173 characters); 56 (186 characters) once list
numbers stay with their sentence (ingest.split.ENUMERATOR); 58 once the next passages of the
best passage's article may be cited (index.answer.SAME_ARTICLE_MIN_SHARE). No quote ends with
a heading. Later: sentences about the article itself (index.answer._SIGNPOST) are not quoted:
still 58, mean quote 201 -> 200 characters.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import KnowledgeBase, answer  # noqa: E402
from index.evaluate import load_questions  # noqa: E402
from ingest.split import sentence_spans  # noqa: E402


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _ends_with_heading(quote: str) -> bool:
    spans = list(sentence_spans(quote))
    return bool(spans) and answer._heading(quote, spans, len(spans) - 1)


def main(kb_dir: str) -> None:
    questions = [q for q in load_questions(ROOT / "bench" / "eval" / "questions.jsonl") if q.article]
    with KnowledgeBase.open(kb_dir, create=False) as kb:  # a mistyped path is an error, not a new base
        for pairs, questions_ok in ((False, True), (True, True), (True, False)):
            answer.QUOTE_PAIRS, answer.QUOTE_QUESTIONS = pairs, questions_ok
            found = holding = chars = quotes = asking = heading = 0
            for q in questions:
                reply = kb.ask(q.question)
                if not reply.found:
                    continue
                found += 1
                chars += sum(len(x.text) for x in reply.quotes)
                quotes += len(reply.quotes)
                holding += any(_squeezed(p) in _squeezed(x.text) for x in reply.quotes for p in q.answers)
                asking += any(re.search(r"[?？]\W*$", x.text) for x in reply.quotes)
                heading += any(_ends_with_heading(x.text) for x in reply.quotes)
            print(f"QUOTE_PAIRS={pairs} QUOTE_QUESTIONS={questions_ok}: answered {found}/{len(questions)}, "
                  f"a quote holds an answer phrase in {holding}, a quote ends with a question in {asking}, "
                  f"with a heading in {heading}, "
                  f"mean quote {chars / max(quotes, 1):.0f} characters")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "kb")
