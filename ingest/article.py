"""The two records that leave the ingest package: a cleaned article and its passages."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

#: Length of the hex ids. 16 hex digits = 64 bits: a collision among a million
#: articles has probability about 1e12 / 2**65, i.e. 3e-8.
ID_HEX_DIGITS = 16


def content_id(text: str) -> str:
    """The id of an article: a hash of its cleaned text, so the same content always gets the same id."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_HEX_DIGITS]


@dataclass(frozen=True)
class Article:
    """A cleaned article.

    ``text`` is the cleaned body; passages carry offsets into it. ``raw`` is what was
    loaded before cleaning (HTML, Markdown or text), kept so a later, better cleaner can
    rebuild the article. ``kind`` says how ``raw`` is parsed: ``"text"``, ``"markdown"`` or
    ``"html"``. ``flags`` lists problems found while cleaning, e.g. ``"mojibake"``.
    """

    text: str
    title: str
    lang: str
    source: str | None = None
    kind: str = "text"
    raw: str = ""
    author: str | None = None
    date: str | None = None
    flags: tuple[str, ...] = ()
    id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", content_id(self.text))


@dataclass(frozen=True)
class Passage:
    """A span of an article's cleaned text: ``text == article.text[start:end]``."""

    article_id: str
    seq: int
    text: str
    start: int
    end: int
    lang: str
