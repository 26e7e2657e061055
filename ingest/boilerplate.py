"""Find the article among the lines of scraped text: classify every line, then cut.

A line is *prose* (long, punctuated), *short* (a heading, a title, a short paragraph, a link)
or *chrome* (it matches the lexicon of :mod:`ingest.chrome`). Short lines take the side of
their neighbours, as in jusText: between two prose lines they are headings and list items;
after a "related articles" heading, before the body or after its end they are links. Then
three cuts, each from a kind of page layout:

- **suffix**: boilerplate trails the article (all five seeds, and every template we read): from
  a notice, a prev/next link, a list heading or a teaser run in the second half of the prose,
  the rest is cut when it is mostly not prose; a comment section or an end mark is cut always;
- **islands**: a whole-page dump has prose-like chrome far from the body (a site blurb under
  the footer links, an author bio in a sidebar); a run of chrome lines separates islands, and
  islands with little prose beside the main one are dropped;
- **edges**: above the first prose line, short lines stay down to the first chrome line and
  only a title above it (not the menu, breadcrumbs and login prompts); below the last
  prose line, short lines stay up to the first chrome line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import chrome as lex
from .repair import HAN

PROSE, SHORT, CHROME, BLANK = "prose", "short", "chrome", "blank"

#: A Han character carries about as much text as 2.5 Latin characters (a Chinese sentence of
#: 30-40 characters translates to one of 80-100), so sizes are in Latin characters.
HAN_WEIGHT = 2.5
#: A line is prose from this size up if it has clause punctuation: about 13 English words or
#: 32 Han characters. The longest chrome lines in the seeds are teaser snippets (which the
#: teaser rule catches) and titles of 50-75 characters.
PROSE_MIN_SIZE = 80
#: ... or from this size up if it ends with a full stop (not "!" or "?", which end
#: headlines too, nor "...", which ends teasers): short paragraphs of chat-style Chinese
#: articles are one sentence of 16-30 characters.
SENTENCE_MIN_SIZE = 40
CLAUSE_PUNCT = re.compile(r"[，,。；;：:！!？?、]|\.(?:\s|$)")
FULL_STOP = re.compile(r"(?:。|(?<!\.)\.)[”」』\"')）]*$")

#: A bare comments heading (:data:`ingest.chrome.COMMENTS_WORD_HEADING`) followed by this many
#: prose lines in a row, the first naming its subject, heads a section of the article, not its
#: comments. A comment section has names, dates and reply links between the comments
#: (``Sarah K.``, ``阿貓 2024-05-21 回覆``), or a prompt or a footer right after its heading,
#: as in every comment section of the seeds, the fixtures and the 181 benchmark pages.
SECTION_PROSE_LINES = 2

#: A list item as extractors write ``<li>`` and as Markdown has it: "- ", "* ", "• ", "1. ", "1、".
LIST_ITEM = re.compile(r"^\s*(?:[-*+•▪●◦]\s+|\d{1,2}(?:[.)）]\s+|、))")

#: A line holding an SEO formula (:data:`ingest.chrome.SEO_WRAPPER`) is a wrapper only when what
#: is left of it outside the sentences that hold one is smaller than this (a short sentence:
#: "希望这些对大家有所帮助。"). Seed 004's wrappers leave 0 and 28.5; a narrative paragraph
#: that ends with a sign-off ("现在回头看，小编这个岗位的上限…。如果你也是一名小编，希望对你
#: 有所帮助。") leaves its first sentence, 72, and stays. So does a one-line page dump (the
#: fallback for a page trafilatura finds no text in) with a sign-off somewhere in it.
SEO_REST_MAX_SIZE = SENTENCE_MIN_SIZE
_SENTENCE_END = re.compile(r"[。！？!?～~]+|\.(?=\s|$)")

#: A label line, byline or menu is at most this many letters; past it, it is prose or a title.
CHROME_LINE_MAX_LETTERS = 60
#: Three cut-off headlines close together are a teaser list; one or two may be an ellipsis
#: in prose. "Close" allows a headline between two snippets (title / snippet pairs).
TEASER_RUN = 3
TEASER_GAP = 2
#: An ad is its label and at most this many lines, or one paragraph where blank lines
#: separate paragraphs (at least this many blank lines per text line).
AD_MAX_LINES = 3
BLANK_SEPARATED_SHARE = 0.5
#: Chrome starts after this share of the article's prose: a marker earlier than that is body
#: text quoting such a phrase, or a block in the middle of the article.
CHROME_START_MIN_POSITION = 0.5
#: A suffix with more than this share of its characters in prose lines is article, not
#: chrome. In the seeds the chrome suffixes have 0-12% (site blurbs); body text runs on.
MAX_PROSE_AFTER_CUT = 0.3
#: At least this many chrome lines in a row (blank lines aside) separate two islands. A
#: menu, a share bar plus counters, or a teaser list is 3 or more; a stray ad label is 1.
ISLAND_GAP_LINES = 3
#: An island with less prose than this share of the main island's is chrome. A footer blurb
#: is 1-5% of an article; the shortest body continuation after an ad block in our fixtures
#: is over 15%.
ISLAND_MIN_SHARE = 0.1
#: Above the chrome that tops the article (byline, date, share bar), at most this many short
#: lines stay: the title, and a subtitle or kicker right next to it. The title is the longest
#: short line among the last HEAD_WINDOW_LINES lines there; anything else is a menu, a
#: breadcrumb, a prompt or an author card. The seeds and fixtures have 3-12 chrome lines
#: between the title and the body.
HEAD_KEEP_LINES = 2
HEAD_WINDOW_LINES = 16
#: ... and only lines of at least this size: menu items, names and counters are shorter
#: ("Listen", "陈默", "好问题 12"); the shortest title in the seeds is 17 Han characters,
#: and a 6-character Chinese title is 15.
TITLE_MIN_SIZE = 15

_HAN_CHAR = re.compile(f"[{HAN}]")


@dataclass
class Line:
    text: str
    folded: str
    kind: str = SHORT
    trigger: bool = False  # may start a chrome suffix
    terminal: bool = False  # starts a chrome suffix wherever the article has ended
    opener: bool = False  # the short lines after it are its links
    teaser: bool = False
    field: bool = False  # chrome only as a byline field ("时间：…", "来源：…")
    size: float = 0.0


def size(text: str) -> float:
    """Length in Latin characters, a Han character counting HAN_WEIGHT."""
    han = len(_HAN_CHAR.findall(text))
    return han * HAN_WEIGHT + len(text) - han - text.count(" ")


def is_prose(text: str) -> bool:
    """Long and punctuated, or a sentence ending in a full stop: not a title, link or label."""
    n = size(text)
    return n >= PROSE_MIN_SIZE and bool(CLAUSE_PUNCT.search(text)) or n >= SENTENCE_MIN_SIZE and bool(FULL_STOP.search(text))


def is_seo_wrapper(folded: str) -> bool:
    """``folded`` is mostly a hosting site's wrapper: SEO formulas and little else (SEO_REST_MAX_SIZE)."""
    spans = [m.span() for m in lex.SEO_WRAPPER.finditer(folded)]
    if not spans:
        return False
    rest, start, k = 0.0, 0, 0
    for end in [m.end() for m in _SENTENCE_END.finditer(folded)] + [len(folded)]:
        while k < len(spans) and spans[k][1] <= start:
            k += 1  # spans and sentences both run left to right: one pass over each
        if start < end and not (k < len(spans) and spans[k][0] < end):
            rest += size(folded[start:end])  # a sentence without a formula
            if rest >= SEO_REST_MAX_SIZE:
                return False
        start = max(start, end)
    return True


def _classify(text: str) -> Line:
    if not text:
        return Line(text, "", BLANK)
    folded = lex.fold(text)
    line = Line(text, folded, size=size(text))
    short = lex.letters(folded) <= CHROME_LINE_MAX_LETTERS
    notice = lex.NOTICE.search(folded)
    line.teaser = bool(lex.TEASER.search(folded) or lex.VIEW_COUNT.search(folded))
    if lex.COMMENTS_HEADING.match(folded) or lex.END_MARKER.match(folded):
        line.kind, line.terminal = CHROME, True
    elif lex.LIST_HEADING.match(folded):
        line.kind, line.opener, line.trigger = CHROME, True, True
    elif lex.AD_LABEL.match(folded):
        line.kind, line.opener = CHROME, True
    elif lex.PREV_NEXT.match(folded) or (notice and (notice.start() <= lex.NOTICE_AT_START or short)):
        line.kind, line.trigger = CHROME, True
    elif lex.BYLINE_RUN.fullmatch(folded):
        line.kind = CHROME  # a byline of many fields, however long
    elif short and (lex.META_LINE.match(folded) or lex.BREADCRUMB.match(folded) or lex.INLINE_RELATED.match(folded)
                    or lex.OFFER.search(folded) or lex.PAYWALL_LABEL.match(folded) or lex.APP_PROMO.match(folded)
                    or lex.is_menu(text) or lex.is_label(folded)):
        line.kind = CHROME
    elif short and lex.BYLINE.search(lex.fold_script(text)):
        line.kind, line.field = CHROME, True
    elif is_prose(text):
        line.kind = PROSE
    line.trigger = line.trigger or bool(notice) or is_seo_wrapper(folded)
    return line


def _keep_list_fields(lines: list[Line]) -> None:
    """List items in the body that open with a byline's field word are the article's.

    An activity plan lists "- 时间：2024年3月16日 14:00-17:30", "- 来源：公众号报名与社群邀请各占一半",
    a metrics list "- 阅读量：预热推文的阅读量，…"; :data:`ingest.chrome.BYLINE` takes each for a
    byline. A byline sits above the body or below it, and a list of bylines (a page's meta
    ``<ul>``) is nothing but fields and chrome. So a field line stays when it is a list item
    between the first and the last prose line, in a list (consecutive items) with an item
    that is neither a field nor chrome ("- 主题：…", "- 地点：…").
    """
    prose = [i for i, x in enumerate(lines) if x.kind == PROSE]
    runs: list[list[int]] = [[]]
    for i in range(prose[0] + 1, prose[-1]) if prose else ():
        if lines[i].kind == BLANK:
            continue
        if LIST_ITEM.match(lines[i].text):
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    for run in runs:
        if any(lines[i].kind != CHROME for i in run):
            for i in run:
                if lines[i].field:
                    lines[i].kind = SHORT


def _keep_subject_headings(lines: list[Line]) -> None:
    """A comments heading that a section of prose about comments follows is the article's heading.

    "评论区" or "Comments" is also a section heading of an article about engagement (likes,
    saves, comments); as a terminal marker in the second half it cut the last paragraphs.
    """
    nonblank = [i for i, x in enumerate(lines) if x.kind != BLANK]
    for k, i in enumerate(nonblank):
        match = lines[i].terminal and lex.COMMENTS_WORD_HEADING.match(lines[i].folded)
        if not match:
            continue
        after = [lines[j] for j in nonblank[k + 1:k + 1 + SECTION_PROSE_LINES]]
        if (len(after) == SECTION_PROSE_LINES and all(x.kind == PROSE and not x.trigger and not x.teaser for x in after)
                and match.group(1) in after[0].folded):
            lines[i].kind, lines[i].terminal = SHORT, False


def _mark_teaser_runs(lines: list[Line]) -> None:
    """Teaser lines close together, and the headlines between them, are chrome."""
    idx = [i for i, x in enumerate(lines) if x.kind != BLANK]
    run: list[int] = []  # positions in idx of the teasers of the current run

    def close() -> None:
        if len(run) >= TEASER_RUN:
            first, last = idx[run[0]], idx[run[-1]]
            lines[first].trigger = True
            for i in range(first, last + 1):
                lines[i].kind = CHROME if lines[i].kind != BLANK else BLANK
            # A headline just before the first snippet belongs to the list too.
            if run[0] > 0 and lines[idx[run[0] - 1]].kind == SHORT:
                lines[idx[run[0] - 1]].kind = CHROME

    for k, i in enumerate(idx):
        if not lines[i].teaser:
            continue
        if run and k - run[-1] > TEASER_GAP + 1:
            close()
            run = []
        run.append(k)
    close()


def _claim_after_openers(lines: list[Line]) -> None:
    """The short lines after a list heading or an ad label, up to the next prose line, are chrome.

    A short line right before prose is a heading and stays. After an ad label, the ad copy
    (AD_COPY_MIN calls to action in one of the next AD_MAX_LINES lines) goes too.
    """
    blank_separated = sum(x.kind == BLANK for x in lines) >= BLANK_SEPARATED_SHARE * sum(x.kind != BLANK for x in lines)
    opener, is_ad, since = None, False, 0
    for i, line in enumerate(lines):
        if line.opener:
            opener, is_ad, since = line, bool(lex.AD_LABEL.match(line.folded)), 0
            continue
        if opener is None:
            continue
        if line.kind == BLANK:
            if is_ad and blank_separated and since:
                opener = None  # the ad was one paragraph
            continue
        since += 1
        ad_words = is_ad and since <= AD_MAX_LINES and len(lex.AD_COPY.findall(line.folded))
        if line.kind == PROSE:
            if ad_words >= lex.AD_COPY_MIN:
                line.kind = CHROME
                continue
            opener = None
        elif line.kind == SHORT:
            following = next((x for x in lines[i + 1:] if x.kind != BLANK), None)
            heading = following is not None and following.kind == PROSE and not following.teaser
            if heading and not ad_words and not lex.LABEL_WORDS.search(line.folded):
                opener = None  # a heading: the body goes on
            else:
                line.kind = CHROME


def _cut_suffix(lines: list[Line]) -> None:
    prose = [x.size if x.kind == PROSE else 0.0 for x in lines]
    total = sum(prose)
    seen = 0.0
    for i, line in enumerate(lines):
        if total and seen >= total * CHROME_START_MIN_POSITION and (
                line.terminal or line.trigger and _mostly_chrome(lines[i:])):
            for rest in lines[i:]:
                rest.kind = CHROME if rest.kind != BLANK else BLANK
            return
        seen += prose[i]


def _mostly_chrome(lines: list[Line]) -> bool:
    chars = sum(len(x.text) for x in lines) or 1
    prose = sum(len(x.text) for x in lines if x.kind == PROSE and not x.teaser and not x.trigger)
    return prose / chars <= MAX_PROSE_AFTER_CUT


def _drop_islands(lines: list[Line]) -> None:
    """Split at runs of ISLAND_GAP_LINES chrome lines; drop islands with little prose."""
    islands: list[list[int]] = [[]]
    gap = 0
    for i, line in enumerate(lines):
        if line.kind == BLANK:
            continue
        if line.kind == CHROME:
            gap += 1
            if gap == ISLAND_GAP_LINES and islands[-1]:
                islands.append([])
            continue
        gap = 0
        islands[-1].append(i)
    weights = [sum(lines[i].size for i in isl if lines[i].kind == PROSE) for isl in islands]
    main = max(weights, default=0.0)
    for island, weight in zip(islands, weights):
        # Islands without prose (a title over its byline, a list) are left to the edge rules.
        if 0 < weight < main * ISLAND_MIN_SHARE:
            for i in island:
                lines[i].kind = CHROME


def _trim_edges(lines: list[Line]) -> None:
    """Short lines beyond the article's first and last prose lines, past the chrome there, go.

    Walking up from the first prose line, short lines stay until a chrome line; above it
    only the title and a line next to it (see HEAD_KEEP_LINES). Walking
    down from the last, short lines stay until a chrome line, and none after it. A list or
    a table that ends an article stays; the links under a footer do not.
    """
    prose = [i for i, x in enumerate(lines) if x.kind == PROSE]
    if not prose:
        return
    _trim_head(lines, prose[0])
    met_chrome = False
    for line in lines[prose[-1] + 1:]:
        met_chrome = met_chrome or line.kind == CHROME
        if met_chrome and line.kind == SHORT:
            line.kind = CHROME


def _trim_head(lines: list[Line], first_prose: int) -> None:
    top = first_prose - 1
    while top >= 0 and lines[top].kind != CHROME:
        top -= 1  # the short lines right above the body stay
    above = [i for i in range(top + 1) if lines[i].kind != BLANK]
    titles = [i for i in above[-HEAD_WINDOW_LINES:] if lines[i].kind == SHORT and lines[i].size >= TITLE_MIN_SIZE]
    keep: set[int] = set()
    if titles:
        # The title is the longest line there; a subtitle or kicker may sit right next to it.
        title = max(titles, key=lambda i: lines[i].size)
        k = above.index(title)
        keep = {title} | {above[j] for j in (k - 1, k + 1) if 0 <= j < len(above) and above[j] in titles}
        keep = set(sorted(keep, key=lambda i: (i != title, abs(i - title)))[:HEAD_KEEP_LINES])
    for i in above:
        if lines[i].kind == SHORT and i not in keep:
            lines[i].kind = CHROME


def _drop_seo_edges(lines: list[Line]) -> None:
    """A hosting site's "today we share..." opener and "that's all..." closer frame the body."""
    for order in (lines, lines[::-1]):
        for line in order:
            if line.kind in (BLANK, CHROME):
                continue
            if not is_seo_wrapper(line.folded):
                break
            line.kind = CHROME


def article_lines(texts: list[str]) -> list[bool]:
    """For each line of repaired text, whether it belongs to the article."""
    lines = [_classify(t) for t in texts]
    _keep_list_fields(lines)
    _keep_subject_headings(lines)
    _mark_teaser_runs(lines)
    _claim_after_openers(lines)
    _cut_suffix(lines)
    _drop_seo_edges(lines)
    _drop_islands(lines)
    _trim_edges(lines)
    return [x.kind in (PROSE, SHORT) for x in lines]
