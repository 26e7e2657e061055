"""Extractive answers: the sentences of the best passages that best match the question."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ingest import detect_language
from ingest.split import sentence_spans

from .results import Answer, Hit

if TYPE_CHECKING:
    from .kb import KnowledgeBase

#: Passages cited at most in one answer: three sentences are a paragraph a reader takes in
#: at once; more repeats the first ones.
MAX_CITED = 3
#: A hit's cosine similarity must reach this for the base to claim an answer. Placeholder
#: calibrated on the seed questions (see bench/); refined by the retrieval evaluation.
FOUND_MIN_SIMILARITY = 0.80
#: A passage joins the answer only if its similarity is within this of the best one.
CITE_WITHIN = 0.04

NOT_FOUND = {
    "en": "Nothing in the knowledge base answers this question well. The nearest excerpts are below.",
    "zh-Hans": "知识库里没有能很好回答这个问题的内容。下面是最接近的摘录。",
    "zh-Hant": "知識庫裡沒有能很好回答這個問題的內容。下面是最接近的摘錄。",
}


def answer(kb: "KnowledgeBase", question: str, k: int) -> Answer:
    hits = kb.search(question, k)
    if not hits or max(h.similarity for h in hits) < FOUND_MIN_SIMILARITY:
        lang = detect_language(question)
        return Answer(NOT_FOUND.get(lang, NOT_FOUND["en"]), hits, found=False)
    best = max(h.similarity for h in hits)
    cited = [h for h in hits if h.similarity >= best - CITE_WITHIN][:MAX_CITED]
    qvec = kb.encoder.encode_queries([question])[0]
    parts = []
    for n, hit in enumerate(cited, 1):
        parts.append(f"{_best_sentence(kb, hit, qvec)} [{n}]")
    return Answer(" ".join(parts), cited, found=True)


def _best_sentence(kb: "KnowledgeBase", hit: Hit, qvec: np.ndarray) -> str:
    sentences = [hit.text[s:e] for s, e, _ in sentence_spans(hit.text)]
    if len(sentences) <= 1:
        return hit.text
    scores = kb.encoder.encode_passages(sentences) @ qvec
    return sentences[int(np.argmax(scores))]
