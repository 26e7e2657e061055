"""A web page's title without the site's name: only what the page itself shows to be one."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from .chrome import letters
from .fetch import is_url
from .repair import HAN

#: What a page's <title> puts between the headline and the site's name ("标题_栏目_网站",
#: "Headline | Site", "Headline - Site", "标题—网站"). "_" between two non-ASCII-word
#: characters never joins the words of a Chinese headline (a portal's "_电商运营_中国电子商务研究网",
#: CSDN's "_数据小陈的博客"), so it is cut without more evidence (``__init__`` and ``snake_case``
#: are not); the other separators also join a headline's two halves ("To B vs To C - which is
#: harder?"), so their tail is cut only when it names the site (:func:`_site_keys`).
_HAN = re.compile(f"[{HAN}]")
TITLE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9_])\s*_\s*(?![A-Za-z0-9_])")
TITLE_SEPARATOR = re.compile(r"\s+[|｜\-–—]\s+|\s*[｜—]+\s*")
#: The part of a title kept before a "_" holds at least this many letters (Han characters count
#: one): a shorter one is a column or a site name in front of the headline.
TITLE_HEAD_MIN_LETTERS = 4
#: A site's name as a title's tail has at least this many letters and digits once folded (IGN,
#: 少数派), so a tail of one or two Latin letters ("- AI") is not a site for being in its host name.
SITE_KEY_MIN_CHARS = 3
#: The headline elements of blog templates (Blogger's ``<h3 class="post-title entry-title">``,
#: WordPress's ``<h1 class="entry-title">``): on a blog, the page's one <h1> is the blog's name.
POST_TITLE_CLASS = re.compile(r"\b(?:post|entry)-title\b")


def key(text: str) -> str:
    """``text`` for comparing: NFKC, case-folded, without spaces, punctuation or "_"."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text)).casefold()


def _text_of(element) -> str:
    return " ".join(element.text_content().split())


def _site_keys(tree, url: str | None, sitename: str | None) -> list[str]:
    """The site's name as the page gives it: trafilatura's sitename, og:site_name, the host name."""
    names = [sitename or "", *tree.xpath("//meta[@property='og:site_name' or @name='og:site_name']/@content")]
    host = urlsplit(url).hostname if url and is_url(url) else None
    if host:
        names.append(host.removeprefix("www."))
    return [k for k in map(key, names) if k]


def _headlines(tree) -> tuple[list[str], list[str]]:
    """The page's headline as its markup names it (a blog template's one post title, og:title),
    and its one <h1> unless that is a link to the home page (a blog's name in its header)."""
    posts = [e for e in tree.xpath("//h1|//h2|//h3") if POST_TITLE_CLASS.search(e.get("class") or "")]
    named = [_text_of(posts[0])] if len(posts) == 1 else []
    named += [" ".join(x.split()) for x in tree.xpath("//meta[@property='og:title']/@content")[:1]]
    h1s = tree.xpath("//h1")
    home = {key(_text_of(a)) for a in tree.xpath("//a[@href]") if urlsplit(a.get("href")).path in ("", "/")}
    h1 = [_text_of(h1s[0])] if len(h1s) == 1 and key(_text_of(h1s[0])) not in home else []
    return [x for x in named if key(x)], [x for x in h1 if key(x)]


def _shown(tree, text: str) -> bool:
    """Some element of the page's body reads ``text`` and nothing else (a headline in a <div>)."""
    return bool(tree.xpath("//body//*[normalize-space(.)=$t]", t=" ".join(text.split())))


def page_title(title: str, tree, url: str | None, sitename: str | None) -> str:
    """trafilatura's ``title`` with the site's name taken out when the page shows it is one.

    - trafilatura cuts a <title> at its last " - " or " | " on its own say ("To B vs To C - which
      is harder?" came out "To B vs To C"): the whole <title> comes back unless the part is the
      page's headline (its markup's or shown in its body), and the rules below cut it again.
    - A blog's name as the title (trafilatura takes a page's one <h1>, which on Blogger is the
      blog's name) gives way to the post's headline as the markup names it (:func:`_headlines`)
      when the <title> is the two together ("小安的職涯筆記: 從客服轉職數位行銷…").
    - A title that is the page's headline, a separator and a shorter tail ("Headline | Blog")
      is cut to the headline.
    - A tail after "_" goes (TITLE_UNDERSCORE), and a tail after " | ", " - ", " – " or "—" when
      it is the site's name or part of it (:func:`_site_keys`): "To B vs To C - which is harder?"
      keeps its tail.
    """
    title = " ".join(title.split())
    full = " ".join((tree.findtext(".//title") or "").split())
    page = key(full)
    named, h1 = _headlines(tree)
    if (key(title) != page and page.startswith(key(title)) and TITLE_SEPARATOR.search(full)
            and key(title) not in map(key, named + h1) and not _shown(tree, title)):
        title = full  # trafilatura cut the <title> at its last " - " with nothing to show the tail was the site's
    if key(title) not in map(key, named):
        for head in named:
            if page in (key(title) + key(head), key(head) + key(title)):
                title = head  # the title was the site's name, the rest of the <title> is the headline
                break
    for cut in TITLE_SEPARATOR.finditer(title):
        head, tail = key(title[:cut.start()]), key(title[cut.end():])
        if (head in map(key, named + h1) or _shown(tree, title[:cut.start()])) and len(head) >= len(tail):
            title = title[:cut.start()].strip()  # the headline, then the site's name
            break
    parts = TITLE_UNDERSCORE.split(title)
    if len(parts) > 1 and _HAN.search(parts[0]) and letters(parts[0]) >= TITLE_HEAD_MIN_LETTERS:
        title = parts[0].strip()
    sites = _site_keys(tree, url, sitename)
    while cuts := list(TITLE_SEPARATOR.finditer(title)):
        head, tail = title[:cuts[-1].start()].strip(), key(title[cuts[-1].end():])
        if not (key(head) and len(tail) >= SITE_KEY_MIN_CHARS and any(tail in site for site in sites)):
            break
        title = head
    return title
