"""From a source (file, directory or URL) to a cleaned :class:`Article`."""
from __future__ import annotations

import os
import re
from pathlib import Path

from .article import Article
from .clean import clean
from .decode import decode
from .errors import EmptyArticle, IngestError, UnsupportedSource
from .fetch import fetch, is_url
from .lang import detect_language
from .markdown import markdown_to_text

#: File kinds by extension. Anything else is refused with a message naming the file.
KINDS = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
         ".html": "html", ".htm": "html", ".xhtml": "html"}
#: A first line longer than this is prose, not a title (the seeds' titles are 15-70
#: characters; the shortest body paragraph that opens an article is over 100).
TITLE_MAX_CHARS = 100
#: A title made up from the first sentence is cut to this many characters.
DERIVED_TITLE_CHARS = 60
#: Files larger than this are refused: a text article is rarely over 200 kB, and a
#: multi-megabyte "article" is a dump that would swamp the index with one source.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Fewer characters than this after cleaning is not an article.
MIN_ARTICLE_CHARS = 20


def _split_title(text: str) -> tuple[str | None, str]:
    """A title line at the top of plain text, and the body after it."""
    first, _, rest = text.partition("\n")
    first = first.strip()
    if rest.strip() and 0 < len(first) <= TITLE_MAX_CHARS and not first.endswith(("。", ".", ",", "，", ";", "；", ":", "：")):
        return first, rest.strip()
    return None, text


def _derived_title(text: str) -> str:
    first = re.split(r"(?<=[。！？!?])|(?<=[.](?=\s))|\n", text.strip(), maxsplit=1)[0].strip()
    if len(first) > DERIVED_TITLE_CHARS:
        first = first[: DERIVED_TITLE_CHARS - 1].rstrip() + "…"
    return first


def parse(raw: str, kind: str, *, source: str | None = None, title: str | None = None,
          author: str | None = None, date: str | None = None) -> Article:
    """Turn loaded text of ``kind`` (``"text"``, ``"markdown"``, ``"html"``) into an Article."""
    if kind == "html":
        return extract_html(raw, url=source)
    text = raw
    if kind == "markdown":
        text, md_title = markdown_to_text(raw)
        title = title or md_title
    cleaned = clean(text)
    body = cleaned.text
    if title and body.startswith(title):
        body = body[len(title):].strip()
    elif not title:
        title, body = _split_title(body)
    if len(body) < MIN_ARTICLE_CHARS:
        raise EmptyArticle(source or "text", "no article text left after cleaning")
    return Article(text=body, title=title or _derived_title(body), lang=detect_language(body),
                   source=source, kind=kind, raw=raw, author=author, date=date, flags=cleaned.flags)


def _whole_page_text(html: str) -> str:
    """All the visible text of a page, one block per line: the input of the fallback."""
    import trafilatura

    return trafilatura.html2txt(html) or ""


def extract_html(html: bytes | str, url: str | None = None) -> Article:
    """Extract the main text of a web page with trafilatura, then clean it with :func:`clean`.

    Bytes are decoded first (no HTTP header here: XML declaration or ``<meta charset>``,
    then UTF-8, then detection; see :func:`ingest.decode.decode`). Title, author, date and
    URL (``url``, else the page's canonical URL) are kept when the page has them. No
    language filter is applied: a page in any language is extracted. When trafilatura finds
    no main text (a page built of ``<div>`` soup it does not recognise), the page's whole
    visible text goes through the plain-text cleaner, which is built for such dumps.
    """
    import trafilatura

    text = decode(html) if isinstance(html, bytes) else html
    doc = trafilatura.bare_extraction(text, url=url, with_metadata=True, include_comments=False,
                                      include_tables=True)
    body = (doc.text or "") if doc is not None else ""
    if len(body.strip()) < MIN_ARTICLE_CHARS:
        body = _whole_page_text(text)
    if not body.strip():
        raise EmptyArticle(url or "HTML", "no article text found in the page")
    title, author, date = (doc.title, doc.author, doc.date) if doc is not None else (None, None, None)
    source = url or (doc.url if doc is not None else None)
    try:
        article = parse(body, "text", source=source, title=title, author=author, date=date)
    except EmptyArticle as exc:
        raise EmptyArticle(url or "HTML", exc.problem) from exc
    return Article(text=article.text, title=article.title, lang=article.lang, source=source,
                   kind="html", raw=text, author=author, date=date, flags=article.flags)


def load(source: str | os.PathLike) -> Article:
    """Load one article from a ``.txt``, ``.md`` or ``.html`` file or an http(s) URL.

    Raises :class:`IngestError` (or a subclass) whose message names ``source``.
    """
    source = os.fspath(source)
    if is_url(source):
        fetched = fetch(source)
        kind = "text" if fetched.content_type.startswith(("text/plain", "text/markdown")) else "html"
        if kind == "html":
            article = extract_html(decode(fetched.data, fetched.content_type), url=fetched.url)
            return article
        return parse(decode(fetched.data, fetched.content_type), kind, source=fetched.url)
    path = Path(source)
    if not path.exists():
        raise IngestError(source, "no such file or directory")
    if path.is_dir():
        raise IngestError(source, "is a directory; use ingest.discover() to list its articles")
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise UnsupportedSource(source, f"unsupported file type {path.suffix or '(no extension)'!r}; "
                                        f"expected one of {', '.join(sorted(KINDS))}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise IngestError(source, f"file is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(source, f"cannot read: {exc.strerror}") from exc
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsupportedSource(source, "binary file, not text")
    resolved = str(path.resolve())
    if kind == "html":
        try:
            article = extract_html(data, url=None)
        except IngestError as exc:  # name the file, not "HTML"
            raise type(exc)(source, exc.problem) from exc
        return Article(text=article.text, title=article.title, lang=article.lang, source=resolved,
                       kind="html", raw=article.raw, author=article.author, date=article.date,
                       flags=article.flags)
    return parse(decode(data), kind, source=resolved)


def discover(sources: list[str] | tuple[str, ...]) -> list[str]:
    """Expand directories into the article files they hold (sorted, recursively).

    URLs and files pass through unchanged; a directory contributes the files whose extension
    ingest reads, skipping hidden ones. A missing path raises :class:`IngestError`.
    """
    found: list[str] = []
    for source in map(os.fspath, sources):
        if is_url(source) or not os.path.isdir(source):
            if not is_url(source) and not os.path.exists(source):
                raise IngestError(source, "no such file or directory")
            found.append(source)
            continue
        for root, dirs, files in os.walk(source, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(os.path.join(root, f) for f in sorted(files)
                         if not f.startswith(".") and Path(f).suffix.lower() in KINDS)
    return found
