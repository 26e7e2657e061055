"""From a source (file, directory or URL) to a cleaned :class:`Article`."""
from __future__ import annotations

import errno
import functools
import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from .article import Article
from .clean import clean
from .decode import decode
from .errors import EmptyArticle, IngestError, UnsupportedSource, os_error_words
from .fetch import fetch, human_size, is_url, looks_like_url
from .lang import detect_language
from .markdown import markdown_to_text
from .repair import repaired
from .title import key as _key, page_title

#: The file extensions ingest reads, and the kind of text each holds. Anything else is
#: refused with a message naming the file.
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
#: A text this short that asks the reader to log in or subscribe is a login wall, not the
#: article (a review stored "请登录" and "Members only" pages as one-passage articles). The
#: review's walls were 40-110 characters; the shortest sample article is over 4,000.
LOGIN_WALL_MAX_CHARS = 300
LOGIN_WALL = re.compile(r"""登录后(?:查看|阅读|继续)|请先?(?:登录|登入)|(?:登录|注册)(?:账号)?(?:后|以)?(?:查看|阅读)全文
  |仅(?:对|限)?(?:会员|订阅者|付费用户)(?:开放|可见|阅读)|(?:log|sign)\ ?in\ (?:or\ [\w\ ]{0,20}\ )?to\ (?:continue|read|view)
  |subscribe\ to\ (?:continue|read|unlock)|(?:for|to)\ (?:paying\ )?(?:members|subscribers)\ only|members?\ only""",
                        re.IGNORECASE | re.VERBOSE)
#: Binary detection looks at this many leading bytes (as git does with its 8000).
BINARY_SAMPLE_BYTES = 8192
#: Text in any encoding ingest reads holds almost no C0 control bytes besides tab, newlines,
#: form feed and ESC (ISO-2022); random bytes hold about 10% (26 of 256 values). More than
#: half that share in the sample means binary data.
BINARY_CONTROL_SHARE = 0.05
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if b not in (*range(0x01, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F))
#: Leading bytes of common binary files given a text extension by mistake.
MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
         b"%PDF": "a PDF document", b"PK\x03\x04": "a ZIP archive, or a .docx/.xlsx file",
         b"\x1f\x8b": "gzip-compressed data", b"RIFF": "a RIFF media file", b"\x7fELF": "a program"}
#: A page whose article text is this share or more of link texts (line by line) is a list of
#: links (a category page, a site map), not an article. On the 181 real article pages of the
#: extraction benchmark the share is at most 0.17 (the 12 cleaning fixtures: 0); a list of
#: links scores 1.0.
LINK_LIST_SHARE = 0.8
#: trafilatura takes a main text of fewer characters than this as a failed extraction and
#: falls back to a baseline that joins the page's blocks with spaces (title, byline and every
#: paragraph on one line). Its default, 250, is a short English page but a whole short Chinese
#: article (a new-user review's 227-character page came out as one line, its byline inside).
#: At 100 that page keeps its 5 blocks; the extraction benchmark and the cleaning fixtures
#: score the same or better (bench/cleaning.py: F1 0.963 -> 0.964, fixtures unchanged).
MIN_EXTRACTED_CHARS = 100


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


def _encodable(text: str) -> str:
    """``text`` with lone surrogates (from a careless caller; decode never makes them) as "?",
    which the C libraries downstream cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def parse(raw: str, kind: str, *, source: str | None = None, title: str | None = None,
          author: str | None = None, date: str | None = None) -> Article:
    """Turn loaded text of ``kind`` (``"text"``, ``"markdown"``, ``"html"``) into an Article."""
    raw = _encodable(raw)
    if kind == "html":
        return extract_html(raw, url=source)
    text = raw
    if kind == "markdown":
        text, md_title = markdown_to_text(raw)
        title = title or md_title
    if title:  # a page's <title> keeps what scrapers glued on, as the body did: 內容營(yíng)運
        title = repaired(title).replace("\n", " ").strip() or None
    cleaned = clean(text)
    body = cleaned.text
    first, _, rest = body.partition("\n")
    if title and first.strip() == title.strip():  # the title repeated as the first line
        body = rest.strip()
    elif not title:
        title, body = _split_title(body)
    if len(body) < MIN_ARTICLE_CHARS:
        raise EmptyArticle(source or "text", "no article text left after cleaning")
    if len(body) <= LOGIN_WALL_MAX_CHARS and LOGIN_WALL.search(body):
        raise EmptyArticle(source or "text", f"the page asks to log in or subscribe: only {len(body)} characters "
                                             "of text, which is no article")
    return Article(text=body, title=title or _derived_title(body), lang=detect_language(body),
                   source=source, kind=kind, raw=raw, author=author, date=date, flags=cleaned.flags)


#: Elements that hold a site's article where trafilatura's content patterns do not look.
#: WeChat (mp.weixin.qq.com) puts it in <div id="js_content">: trafilatura then fell back to
#: a reading that kept the paragraphs and dropped every <h2> heading (5 of 5 in the WeChat
#: fixture, 3 of 3 in a review's page). Made an <article>, it is read as the main text,
#: headings included.
CONTENT_XPATH = '//div[@id="js_content"]'
#: A <table> used for page layout, as old portals do: trafilatura renders each row as a line
#: "| cell | cell |", so the article's five <p> in one cell became one line (paragraph breaks
#: lost) and the menu row "| | 首页 | 行业资讯 |..." was kept (a review's GBK portal page). A
#: table is layout when it has one row, no row of two cells (a data table has a header row
#: and data rows, in columns), or a cell of LAYOUT_CELL_PARAGRAPHS paragraphs or more (an
#: article: a review's portal of 3 rows x 2 cells, banner / sidebar + article / footer); its
#: own rows and cells are then read as <div>s. A table is judged on its own rows, not those
#: of a table inside it. Data tables whose cells hold <p> (WeChat's, Word's), or a
#: small table, keep their rows (a review: "holds another table" as a sign of layout
#: flattened such a table).
LAYOUT_TAGS = {"table": "div", "tbody": "div", "thead": "div", "tfoot": "div", "tr": "div", "td": "div",
               "th": "div", "caption": "div"}
#: A table cell with this many <p> holds an article, not a datum (a Word or WeChat table puts
#: one <p> in each cell, sometimes two).
LAYOUT_CELL_PARAGRAPHS = 3
#: Characters XML forbids. trafilatura deletes them from a page it is given as text, not from a
#: tree: one vertical tab (Word pastes them as line breaks) in a prepared page made its
#: extraction fail, so the whole-page fallback kept the ads and lost the title (a review).
_INVALID_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@functools.lru_cache(maxsize=1)
def _trafilatura_config():
    from trafilatura.settings import use_config

    config = use_config()
    config["DEFAULT"]["MIN_EXTRACTED_SIZE"] = str(MIN_EXTRACTED_CHARS)
    return config


def _whole_page_text(html: str) -> str:
    """All the visible text of a page (trafilatura puts it on one line): the input of the fallback."""
    import trafilatura

    return trafilatura.html2txt(html) or ""


def _tree(html: str):
    """``html`` parsed by lxml, or None when it cannot be."""
    import lxml.html
    from lxml.etree import ParserError

    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "replace"),
                                             parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (ParserError, ValueError):
        return None


def _prepared(html: str, tree):
    """``html`` for trafilatura: when its parsed ``tree`` has a WeChat article
    (:data:`CONTENT_XPATH`) or a layout table (:data:`LAYOUT_TAGS`), a tree of its own with
    those rewritten (trafilatura reads a tree as given, and changes it); else ``html`` as it is."""
    if tree is None or not (tree.xpath(CONTENT_XPATH) or any(map(_is_layout, tree.iter("table")))):
        return html
    rewritten = _tree(_INVALID_XML.sub("", html))
    if rewritten is None:
        return html
    for element in rewritten.xpath(CONTENT_XPATH):
        element.tag = "article"
    for table in [t for t in rewritten.iter("table") if _is_layout(t)]:  # judged before any is changed
        # its own rows and cells, not those of a data table inside it
        for element in [e for e in table.iter(*LAYOUT_TAGS) if e is table or (e.tag != "table" and _owner(e) is table)]:
            element.tag = LAYOUT_TAGS[element.tag]
    return rewritten


def _is_layout(table) -> bool:
    """True when ``table`` lays out a page rather than holding data (see :data:`LAYOUT_TAGS`)."""
    rows = [[cell for cell in row if cell.tag in ("td", "th")] for row in table.iter("tr") if _owner(row) is table]
    return (len(rows) == 1 or not any(len(cells) >= 2 for cells in rows)
            or any(len(cell.findall(".//p")) >= LAYOUT_CELL_PARAGRAPHS for cells in rows for cell in cells))


def _owner(element):
    """The table ``element`` belongs to (its nearest <table> ancestor)."""
    parent = element.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def _link_share(article_text: str, doc) -> float:
    """The share of ``article_text`` (by characters, line by line) that is the text of a link in ``doc``."""
    if doc is None:
        return 0.0
    links = {_key(a.text_content()) for a in doc.iter("a")} - {""}
    lines = [_key(line) for line in article_text.split("\n")]
    total = sum(map(len, lines))
    return sum(len(line) for line in lines if line in links) / total if total else 0.0


def extract_html(html: bytes | str, url: str | None = None) -> Article:
    """Extract the main text of a web page with trafilatura, then clean it with :func:`clean`.

    Bytes are decoded first (no HTTP header here: XML declaration or ``<meta charset>``,
    then UTF-8, then detection; see :func:`ingest.decode.decode`). Title, author, date and
    URL (``url``, else the page's canonical URL) are kept when the page has them. No
    language filter is applied: a page in any language is extracted. A page whose text is
    nothing but its links (a category page) raises :class:`EmptyArticle`. When trafilatura finds
    no main text (a page built of ``<div>`` soup it does not recognise), the page's whole
    visible text goes through the plain-text cleaner, which is built for such dumps.
    """
    import trafilatura

    text = decode(html) if isinstance(html, bytes) else _encodable(html)
    tree = _tree(text)  # for the layout, the title and the links; trafilatura parses its own
    doc = trafilatura.bare_extraction(_prepared(text, tree), url=url, with_metadata=True, include_comments=False,
                                      include_tables=True, config=_trafilatura_config())
    body = (doc.text or "") if doc is not None else ""
    if len(body.strip()) < MIN_ARTICLE_CHARS:
        body = _whole_page_text(text)
    if not body.strip():
        raise EmptyArticle(url or "HTML", "no article text found in the page")
    title, author, date = (doc.title, doc.author, doc.date) if doc is not None else (None, None, None)
    source = url or (doc.url if doc is not None else None)
    if title and tree is not None:
        title = page_title(title, tree, source, doc.sitename)
    try:
        article = parse(body, "text", source=source, title=title, author=author, date=date)
    except EmptyArticle as exc:
        raise EmptyArticle(url or "HTML", exc.problem) from exc
    if _link_share(article.text, tree) >= LINK_LIST_SHARE:
        raise EmptyArticle(url or "HTML", "the page is a list of links, with no article text")
    return Article(text=article.text, title=article.title, lang=article.lang, source=source,
                   kind="html", raw=text, author=author, date=date, flags=article.flags)


def _binary_problem(data: bytes) -> str | None:
    """Why ``data`` is not text ("binary data (a PNG image), not text"), or None."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return None  # a BOM: UTF-16 text holds NUL bytes
    for magic, what in MAGIC.items():
        if data.startswith(magic):
            return f"binary data ({what}), not text"
    sample = data[:BINARY_SAMPLE_BYTES]
    if b"\x00" in sample:
        return "binary data (it holds NUL bytes), not text; UTF-16 text needs a byte-order mark"
    controls = len(sample.translate(None, _NOT_CONTROL_BYTES))
    if sample and controls / len(sample) > BINARY_CONTROL_SHARE:
        return "binary data (control bytes), not text"
    return None


def _stat(source: str) -> os.stat_result:
    """``os.stat(source)``, or an IngestError saying in words why the path cannot be used."""
    try:
        return os.stat(source)
    except ValueError as exc:  # a NUL character in the path
        raise IngestError(source, "not a valid path") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            problem = "symbolic link loop (the link points back to itself)"
        elif exc.errno == errno.ENOENT and os.path.islink(source):
            problem = f"broken symbolic link: it points to {os.readlink(source)}, which does not exist"
        elif exc.errno in (errno.ENOENT, errno.ENOTDIR):
            problem = "no such file or directory"
        else:
            problem = f"cannot open: {os_error_words(exc)}"
        raise IngestError(source, problem) from exc


def _read_file(source: str) -> bytes:
    """The bytes of a regular file of a kind ingest reads, within MAX_FILE_BYTES."""
    info = _stat(source)
    if stat.S_ISDIR(info.st_mode):
        raise IngestError(source, "is a directory; use ingest.discover() to list its articles")
    suffix = Path(source).suffix.lower()
    if suffix not in KINDS:
        raise UnsupportedSource(source, f"unsupported file type {suffix or '(no extension)'!r}; "
                                        f"expected one of {', '.join(sorted(KINDS))}")
    if not stat.S_ISREG(info.st_mode):
        raise UnsupportedSource(source, "not a regular file (a pipe, socket or device)")
    if info.st_size > MAX_FILE_BYTES:
        raise IngestError(source, f"file is {human_size(info.st_size)}, over the {human_size(MAX_FILE_BYTES)} limit")
    try:
        with open(source, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # it may have grown since stat
    except OSError as exc:
        raise IngestError(source, f"cannot read: {os_error_words(exc)}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(source, f"file is over the {human_size(MAX_FILE_BYTES)} limit")
    return data


def _is_remote(source: str) -> bool:
    """True when ``source`` goes to :func:`fetch`: an http(s) URL, or anything written as a URL
    (``ftp://``, ``file:``, ``javascript:``...) that is not also an existing path, so that
    fetch refuses it by name instead of "no such file"."""
    return is_url(source) or (looks_like_url(source) and not os.path.lexists(source))


#: Query parameters that only say where a link was shared, never which page it is: a stored
#: source keeps none of them, so the same article reached by another shared link (utm_source=
#: twitter, then weibo) has one source, and ``refetch`` replaces it instead of adding a second.
TRACKING_PARAMETERS = re.compile(r"utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|spm|isappinstalled",
                                 re.IGNORECASE)


def canonical_url(url: str) -> str:
    """``url`` without its fragment and tracking parameters (:data:`TRACKING_PARAMETERS`)."""
    parts = urlsplit(url)
    # The other pairs as written: re-encoded, WeChat's __biz=MzA…== became __biz=MzA…%3D%3D,
    # another source than the same link without a tracking parameter (a review).
    kept = [pair for pair in parts.query.split("&") if pair and not TRACKING_PARAMETERS.fullmatch(unquote(pair.split("=")[0]))]
    return urlunsplit(parts._replace(query="&".join(kept), fragment=""))


#: A page served as plain text that starts like this is HTML all the same (some servers say
#: text/plain for every file).
_HTML_START = re.compile(r"\s*(?:<!doctype html|<html[\s>])", re.IGNORECASE)


def _served_kind(content_type: str, url: str, text: str) -> str:
    """How to read a fetched page: Markdown served as text/markdown, or as text/plain from a
    ``.md`` address (raw GitHub files), is Markdown; HTML served as text/plain is HTML."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("text/markdown", "text/x-markdown"):
        return "markdown"
    if kind != "text/plain":
        return "html"
    if KINDS.get(Path(urlsplit(url).path).suffix.lower()) == "markdown":
        return "markdown"
    return "html" if _HTML_START.match(text) else "text"


def _renamed(source: str, exc: IngestError) -> IngestError:
    """The same error, naming ``source`` (what the caller gave) instead of a resolved path or "HTML"."""
    return type(exc)(source, exc.problem)


def load(source: str | os.PathLike, *, allow_private: bool = False) -> Article:
    """Load one article from a ``.txt``, ``.md`` or ``.html`` file or an http(s) URL.

    URLs are fetched by :func:`ingest.fetch.fetch`, which refuses hosts on loopback or private
    networks unless ``allow_private`` (or KB_ALLOW_PRIVATE_URLS=1). Raises :class:`IngestError`
    (or a subclass) whose message names ``source`` and says what is wrong.
    """
    source = os.fspath(source)
    if _is_remote(source):
        fetched = fetch(source, allow_private=allow_private)  # refuses ftp:, file:, javascript:...
        problem = _binary_problem(fetched.data)
        if problem:
            raise UnsupportedSource(source, problem)
        text = decode(fetched.data, fetched.content_type)
        url = canonical_url(fetched.url)
        try:
            kind = _served_kind(fetched.content_type, url, text)
            if kind != "html":
                return parse(text, kind, source=url)
            return extract_html(text, url=url)
        except IngestError as exc:  # name the URL given, not where it redirected
            raise _renamed(source, exc) from exc
    data = _read_file(source)
    if not data.strip():  # (bytes) "no article text left after cleaning" said nothing was wrong with the file
        raise EmptyArticle(source, "the file is empty" if not data else "the file holds only white space")
    problem = _binary_problem(data)
    if problem:
        raise UnsupportedSource(source, problem)
    kind = KINDS[Path(source).suffix.lower()]
    resolved = str(Path(source).resolve())
    try:
        if kind != "html":
            return parse(decode(data), kind, source=resolved)
        article = extract_html(data, url=None)
    except IngestError as exc:
        raise _renamed(source, exc) from exc
    return Article(text=article.text, title=article.title, lang=article.lang, source=resolved,
                   kind="html", raw=article.raw, author=article.author, date=article.date,
                   flags=article.flags)


def _walk(top: str, seen_dirs: set[tuple[int, int]], seen_files: set[str], skipped: list[str]) -> list[str]:
    """The article files under ``top``, depth first, files before subdirectories, each name sorted.

    Symbolic links to directories are followed, but no directory is entered twice (a link
    loop ends), and no file is listed twice. Broken links with an article extension are
    listed, so that loading them reports the problem.
    """
    found: list[str] = []
    stack = [top]
    while stack:
        directory = stack.pop()
        info = os.stat(directory)
        if (info.st_dev, info.st_ino) in seen_dirs:
            continue
        seen_dirs.add((info.st_dev, info.st_ino))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            raise IngestError(directory, f"cannot list directory: {os_error_words(exc)}") from exc
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                subdirs.append(entry.path)
            elif Path(entry.name).suffix.lower() in KINDS:
                real = os.path.realpath(entry.path)
                if real not in seen_files:
                    seen_files.add(real)
                    found.append(entry.path)
            else:
                skipped.append(entry.path)
        stack.extend(reversed(subdirs))
    return found


def discover(sources: str | os.PathLike | list[str | os.PathLike] | tuple[str | os.PathLike, ...], *,
             skipped: list[str] | None = None) -> list[str]:
    """Expand directories into the article files they hold (sorted, recursively).

    ``sources`` is a list of paths and URLs, or a single one. URLs and files pass through
    unchanged (also URLs :func:`load` will refuse, so that it says why); a directory
    contributes the files whose extension ingest reads, skipping hidden ones, following
    links without looping. A missing path raises :class:`IngestError`. When ``skipped`` is
    a list, the files of those directories that are not read (a PDF, an image) are appended
    to it, so that a caller can say so.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]  # iterating a str would go through it one character at a time
    found: list[str] = []
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    for source in map(os.fspath, sources):
        if _is_remote(source):
            found.append(source)
        elif os.path.isdir(source):
            found.extend(_walk(source, seen_dirs, seen_files, skipped if skipped is not None else []))
        elif os.path.lexists(source):
            found.append(source)  # a file, or a broken link that load() reports
        else:
            raise IngestError(source, "no such file or directory")
    return found
