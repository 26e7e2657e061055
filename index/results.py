"""What the knowledge base returns: small frozen records, one shape per function."""
from __future__ import annotations

from dataclasses import dataclass, field

from .store import ArticleInfo, site_of


@dataclass(frozen=True)
class Hit:
    """A passage found by a search.

    ``text == article_text[start:end]``; ``score`` is the fused relevance (higher is better,
    1.0 = first in both the dense and the lexical ranking); ``similarity`` the cosine of
    query and passage vectors.
    """

    text: str
    score: float
    article_id: str
    title: str
    source: str | None
    lang: str
    start: int
    end: int
    similarity: float = 0.0

    @property
    def site(self) -> str:
        """The host of ``source`` if it is a URL, else ``"file"``."""
        return site_of(self.source)


@dataclass(frozen=True)
class Quote:
    """A sentence of an answer: ``article_text[start:end] == text``, cited as ``[citation]``."""

    text: str
    citation: int
    article_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Answer:
    """An extractive answer: sentences from the cited passages, each followed by ``[n]``.

    ``citations[n - 1]`` is the passage marker ``[n]`` points to; markers are numbered in
    order of first use. ``quotes`` are the answer's sentences with their offsets. When
    ``found`` is False nothing in the knowledge base answers the question: ``text`` says so,
    ``quotes`` is empty and ``citations`` holds the nearest passages.
    """

    text: str
    citations: list[Hit] = field(default_factory=list)
    found: bool = False
    quotes: list[Quote] = field(default_factory=list)


@dataclass(frozen=True)
class Added:
    """The result of adding one article.

    ``status`` is ``"added"``; ``"updated"`` when the source (the same file or URL) had given
    other content before, first stored from it: the new version replaces the earlier one
    (which is kept only if it was also added from other sources); ``"unchanged"`` when the same content was there
    already; or ``"duplicate"`` when a near-duplicate copy (the same post from another site)
    was: then nothing is indexed and ``article`` is the stored copy, with this source in
    ``also_from``.
    """

    article: ArticleInfo
    status: str
    #: For a ``"duplicate"``: the sentences of the new text that the stored copy lacks, which
    #: were not stored (``KnowledgeBase.add_many(keep_copies=True)`` stores such a copy).
    not_stored: tuple[str, ...] = ()

    @property
    def new(self) -> bool:
        return self.status in ("added", "updated")


@dataclass(frozen=True)
class Outcome:
    """What became of one source of :meth:`KnowledgeBase.add_many`.

    ``status`` is ``"added"``, ``"updated"``, ``"unchanged"`` or ``"duplicate"`` as in :class:`Added`;
    ``"skipped"`` when the same file (size and modification time) or URL was stored by an
    earlier run and was not read again, or was given earlier in the same call (then it takes
    that outcome's article, or fails as it did); ``"failed"`` with ``error`` naming the source.
    ``article`` is the stored article, or ``None`` when the source failed.
    """

    source: str
    status: str
    article: ArticleInfo | None = None
    error: str | None = None
    not_stored: tuple[str, ...] = ()  # as in Added
