"""Plain-text cleaning: repair scraping artifacts, then keep the article and drop site chrome.

The order matters: artifacts are repaired (:mod:`ingest.repair`) *before* boilerplate is
matched (:mod:`ingest.chrome`, :mod:`ingest.boilerplate`), because a notice such as
``本文授權(quán)轉(zhuǎn)載自`` only matches ``本文授權轉載自`` once the pinyin is gone.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from . import chrome as lex
from .boilerplate import CHROME_LINE_MAX_LETTERS, PROSE_MIN_SIZE, article_lines, is_prose
from .repair import PINYIN_ARTIFACT, has_mojibake, normalize, repair, repaired  # noqa: F401 (re-exported)

#: Lines in the head scanned for a duplicated title or a summary that repeats the body.
HEAD_LINES = 6
#: A head line must be this long to count as a repeated summary (shorter lines are titles,
#: which are only dropped when repeated exactly).
MIN_SUMMARY_CHARS = 20
#: Labels a site puts before the summary it repeats ("摘要：", "导读", "Summary:").
SUMMARY_LABEL = re.compile(r"^(?:摘要|导读|导语|简介|内容提要|summary|tl;?dr|abstract|standfirst)\s*[:：|]?\s*", re.I)
#: A notice glued to the end of the last body line starts in its second half.
GLUED_NOTICE_MIN_POSITION = 0.5
#: Real pages settle after two passes of the whole cleaner (the second finds nothing new).
#: Passing to a fixed point is what makes ``clean_text`` idempotent, since a cut shifts the
#: positions the rules look at; a page of repeated paragraphs can need a pass per repeat
#: (hypothesis found one needing 7), so the loop runs while each pass still shortens the text.


@dataclass(frozen=True)
class Cleaned:
    text: str
    flags: tuple[str, ...]


def _squeeze(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", lex.fold(text))


def _drop_head_repeats(lines: list[str]) -> list[str]:
    """Drop a repeated title line and a summary that repeats the body, near the top.

    Of a line repeated whole, the first copy stays (it is the title, or a lead that is also
    the first paragraph). A summary made of body text stays in the body and is dropped
    from the head; it is prose (a title repeated in a comment heading is not a summary)
    and may be labelled (``摘要：``) and cut short (``…``).
    """
    out: list[str] = []
    seen: set[str] = set()
    body = _squeeze("".join(lines))
    whole_lines = Counter(_squeeze(x) for x in lines)
    nonblank = 0
    for i, line in enumerate(lines):
        if line and nonblank < HEAD_LINES:
            nonblank += 1
            squeezed = _squeeze(line)
            if squeezed and squeezed in seen:
                continue
            seen.add(squeezed)
            summary = _squeeze(lex.TEASER.sub("", SUMMARY_LABEL.sub("", line)))
            if (is_prose(line) and len(summary) >= MIN_SUMMARY_CHARS and whole_lines[summary] < 2 and body.count(summary) > 1
                    and summary in _squeeze("".join(lines[i + 1:]))):
                continue
        out.append(line)
    return out


def _cut_glued_notice(line: str) -> str:
    """Cut a notice glued onto the end of a body line, with what follows it."""
    folded = lex.fold_same_length(line)
    if folded is None:
        return line
    for match in lex.NOTICE.finditer(folded):
        if match.start() < len(line) * GLUED_NOTICE_MIN_POSITION:
            continue
        # Back up to the start of the sentence that holds the notice.
        head = line[: match.start()]
        cut = max(head.rfind(p) for p in ("。", "！", "？", ". ", "! ", "? ", "... "))
        cut = cut + (1 if head[cut] in "。！？" else 2) if cut >= 0 else match.start()
        if len(head[cut:]) > PROSE_MIN_SIZE:
            continue  # the sentence is prose that merely mentions the phrase
        return line[:cut].rstrip()
    return line


#: A byline glued into a line follows the title, so only the line's head is searched: a search
#: of a whole 50,000-character line of repeated bylines took 4-10 s (it is quadratic), of its
#: first 300 characters well under a millisecond. The seeds' titles are at most 70 characters.
BYLINE_SEARCH_CHARS = 300


def _split_bylines(line: str) -> list[str]:
    """A long line with a byline run inside (:data:`ingest.chrome.BYLINE_RUN`), as its pieces.

    Some extractors join a page's blocks with spaces (trafilatura's fallback for a page with
    little text: ``标题 作者:小王 | 2024-03-01 | 阅读 1234 正文…``); the byline is then
    glued between the title and the body, where no line rule can see it. Cut at the run, the
    title, the byline and the body are lines of their own, each a substring of the line, and
    the byline goes as chrome. A short line is left whole: the byline rules see it already.
    """
    folded = lex.fold_same_length(line)
    if folded is None or lex.letters(folded) <= CHROME_LINE_MAX_LETTERS:
        return [line]
    match = lex.BYLINE_RUN.search(folded, 0, BYLINE_SEARCH_CHARS)
    if match is None or match.group(0) == folded:
        return [line]
    pieces = [line[: match.start()].rstrip(" |｜·•/"), line[match.start(): match.end()], line[match.end():].strip()]
    return [piece for piece in pieces if piece]


def _join(lines: list[str]) -> str:
    """Lines back to text: one blank line between paragraphs at most."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _clean_once(text: str) -> str:
    lines = _drop_head_repeats([piece for line in text.split("\n") for piece in _split_bylines(line)])
    keep = article_lines(lines)
    kept = [line if k else "" for line, k in zip(lines, keep)]
    last = max((i for i, line in enumerate(kept) if line), default=None)
    if last is not None:
        kept[last] = _cut_glued_notice(kept[last]).rstrip(" |")
    return _join(kept)


def clean(text: str) -> Cleaned:
    """Clean scraped plain text and report what was wrong with it (see :func:`clean_text`).

    ``flags`` holds ``"mojibake"`` when the text shows signs of a wrong or lossy decoding
    (private-use characters, U+FFFD, Latin-1 read UTF-8, ``?`` for lost characters).
    """
    text = repaired(text)
    flags = ("mojibake",) if has_mojibake(text) else ()
    while True:
        new = repaired(_clean_once(text))
        if new == text or len(new) >= len(text):  # a fixed point; or no progress, so stop
            break
        text = new
    return Cleaned(text, flags)


def clean_text(text: str) -> str:
    """Clean scraped plain text in English, simplified or traditional Chinese.

    Repairs artifacts (NFC, non-breaking and doubled spaces, invisible characters, leftover
    entities, pinyin glued to characters such as ``經(jīng)``, spaces left by stripped links),
    drops a duplicated title and a summary that repeats the body, and removes site chrome
    wherever it is: menus, breadcrumbs and login prompts above the article; share bars,
    counters, ad blocks and "related" lists inside it; prev/next links, teaser lists,
    reprint and copyright notices, comments and footers after it. Paragraphs are kept,
    separated by a blank line when the input had one. Never raises; idempotent; every
    output line is a substring of a line of :func:`ingest.repair.repaired` input.
    """
    return clean(text).text
