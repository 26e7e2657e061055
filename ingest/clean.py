"""Plain-text cleaning: repair scraping artifacts, then cut site chrome.

The order matters: artifacts are repaired *before* boilerplate is matched, because a notice
such as ``本文授權(quán)轉(zhuǎn)載自`` only matches ``本文授權轉載自`` once the pinyin is gone.
Every threshold below is a named constant with the reason for its value.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --- artifact repair ---------------------------------------------------------------------

#: A Han character followed by its pinyin in ASCII parentheses, e.g. ``經(jīng)``. Requiring a
#: tone mark had 0 false positives on a 69-page Chinese corpus, where a looser rule also hit
#: real glosses such as ``價值(value)``. Pinyin syllables are at most 6 letters (``zhuang``).
PINYIN_ARTIFACT = re.compile(
    r"(?<=[\u3400-\u9fff])\((?=[a-zü]{0,5}[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ])[a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜ]{1,6}\)"
)
#: Characters that render as nothing and only break matching.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
#: Signs of text decoded with the wrong codec or with bytes lost: private-use code points
#: and U+FFFD. (``?`` between Han characters is not one: pages folded to ASCII punctuation
#: use it as the question mark, as the simplified seed does in "一个运营?运营工作".)
MOJIBAKE = re.compile(r"[\ue000-\uf8ff\ufffd]")

_HSPACE = re.compile(r"[^\S\n]+")
# A space left where a link was stripped: "Autohome , Maoyan", "responsibility ." .
_SPACE_BEFORE_PUNCT = re.compile(r"(?<=[\w”’\"')\]]) +(?=[,.;:!?)](?:\s|$))")
_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}]) +(?=[{_CJK}])")

# --- chrome ------------------------------------------------------------------------------

#: Lines that start site chrome: prev/next links, "related articles" headings, reprint and
#: copyright notices, comment boxes, share bars, SEO sign-offs. Each names a *kind* of
#: chrome seen across sites, in English and both Chinese scripts, not a seed's string.
CHROME_START = re.compile(
    r"""^(?:
      (?:<<|>>|«|»)\s*[:：]                                     # prev / next arrows
    | (?:上一篇|下一篇|上一篇文章|下一篇文章|previous(?:\ post|\ article)?|next(?:\ post|\ article)?)\s*[:：]
    | (?:recommend(?:ed)?|related(?:\ (?:articles?|posts?|reading|stories))?|read\ more|you\ may\ also\ like
       |推荐(?:文章|阅读)?|推薦(?:文章|閱讀)?|相关(?:文章|阅读|推荐)|相關(?:文章|閱讀|推薦)|猜你喜欢|猜你喜歡
       |热门(?:文章|推荐|工具)|熱門(?:文章|推薦|工具)|延伸阅读|延伸閱讀)\s*[:：]?\s*$
    | (?:分享到|分享至|share\ (?:this|on|to)|文章评价|文章評價|登录后可以评论|登錄後可以評論|发表评论|發表評論
       |leave\ a\ (?:comment|reply)|comments?\s*\(\d+\))
    | (?:以上(?:即|就)?是关于|以上(?:即|就)?是關於)                         # SEO sign-off
    )""",
    re.IGNORECASE | re.VERBOSE,
)

#: Notices that may also be glued to the end of the last body line.
NOTICE = re.compile(
    r"""(?:
      本文(?:已)?(?:授权|授權)?(?:转载|轉載)(?:自|于|於)
    | (?:转载|轉載)(?:请|請)(?:注明|註明)
    | 文章(?:申明|声明|聲明)\s*[:：]
    | 未经(?:授权|许可)|未經(?:授權|許可)
    | 版权(?:所有|归|声明)|版權(?:所有|歸|聲明)
    | (?:the\ )?author\ of\ this\ article\s*@
    | (?:compiled\ and\ )?published\ by\s*\(
    | please\ indicate\ the\ (?:author|source)
    | product\ promotion\ services\s*:
    | copyright\s*(?:©|\(c\))?\s*\d{4}
    | ©\s*\d{4}
    | all\ rights\ reserved
    | 客服\s*QQ | 联系邮箱 | 聯繫郵箱
    )""",
    re.IGNORECASE | re.VERBOSE,
)

#: A teaser: a headline or snippet cut off by the site, ending in an ellipsis or "read all".
TEASER = re.compile(r"(?:\.\.\.|…|\.\.\.\s*\[查看全文\]|\[查看全文\]|\[閱讀全文\]|read more)\s*$", re.IGNORECASE)
#: A headline ending in a view count, e.g. ``... 4457人``.
VIEW_COUNT = re.compile(r"\s\d{2,}\s*(?:人|次|views?)$", re.IGNORECASE)
#: Metadata lines that are not prose.
META_LINE = re.compile(r"^(?:tags?|keywords?|标签|標籤|关键词|關鍵詞)\s*[:：]", re.IGNORECASE)
#: SEO wrappers a hosting site puts around copied articles ("today we share with you...").
SEO_WRAPPER = re.compile(r"今天给大家分享|给大家分享的是|希望对大家有所帮助|小编|今天給大家分享|希望對大家有所幫助|小編")

#: Chrome starts in the *second* half of an article: in all five seeds, and in every site
#: template we looked at, boilerplate is a suffix. A marker earlier than this is body text
#: quoting such a phrase.
CHROME_START_MIN_POSITION = 0.5
#: A line this long that is not a teaser or notice is prose; a suffix with more than
#: ``MAX_PROSE_AFTER_CUT`` of its characters in such lines is article, not chrome. The
#: longest chrome line in the seeds is an 86-character teaser snippet; body paragraphs
#: run 100-2,000 characters.
PROSE_LINE_CHARS = 120
MAX_PROSE_AFTER_CUT = 0.3
#: Lines in the head scanned for a duplicated title or a summary that repeats the body.
HEAD_LINES = 6
#: A head line must be this long to count as a repeated summary (shorter lines are titles).
MIN_SUMMARY_CHARS = 20
#: Sentence-final punctuation; a trailing line without it, shorter than this, is a stray
#: label ("Recommend", "運營工具") rather than the last sentence of the article.
SENTENCE_END = tuple("。！？!?.…」』”\"')）")
STRAY_LINE_CHARS = 30


@dataclass(frozen=True)
class Cleaned:
    text: str
    flags: tuple[str, ...]


def normalize(text: str) -> str:
    """NFC, LF line ends, one space for any run of spaces (non-breaking ones too), no invisibles."""
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HSPACE.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n"))


def repair(text: str) -> str:
    """Remove glued pinyin and the spaces stripped links leave behind."""
    text = PINYIN_ARTIFACT.sub("", text)
    text = _SPACE_BEFORE_PUNCT.sub("", text)
    return _SPACE_BETWEEN_CJK.sub("", text)


def _is_chrome_line(line: str) -> bool:
    return bool(
        TEASER.search(line) or VIEW_COUNT.search(line) or NOTICE.search(line)
        or CHROME_START.match(line) or META_LINE.match(line) or SEO_WRAPPER.search(line)
        or len(line) < PROSE_LINE_CHARS
    )


def _suffix_is_chrome(lines: list[str]) -> bool:
    total = sum(len(x) for x in lines) or 1
    prose = sum(len(x) for x in lines if not _is_chrome_line(x))
    return prose / total <= MAX_PROSE_AFTER_CUT


def _cut_glued_notice(line: str) -> str:
    """Cut a notice glued onto the end of a body line, with what follows it."""
    for match in NOTICE.finditer(line):
        if match.start() < len(line) * CHROME_START_MIN_POSITION:
            continue
        # Back up to the start of the sentence that holds the notice.
        head = line[: match.start()]
        cut = max(head.rfind(p) for p in ("。", "！", "？", ". ", "! ", "? ", "... "))
        cut = cut + (1 if head[cut] in "。！？" else 2) if cut >= 0 else match.start()
        if head[cut:].strip() and len(head[cut:]) > PROSE_LINE_CHARS:
            continue  # the sentence is prose that merely mentions the phrase
        return line[:cut].rstrip()
    return line


def _cut_chrome_suffix(lines: list[str]) -> list[str]:
    total = sum(len(x) for x in lines)
    seen = 0
    for i, line in enumerate(lines):
        if seen >= total * CHROME_START_MIN_POSITION and line and (
            CHROME_START.match(line) or NOTICE.search(line) or SEO_WRAPPER.search(line)
            or _starts_teaser_run(lines, i)
        ) and _suffix_is_chrome(lines[i:]):
            return lines[:i]
        seen += len(line)
    return lines


#: Three cut-off headlines in a row are a teaser list; one or two may be an ellipsis in prose.
TEASER_RUN = 3


def _starts_teaser_run(lines: list[str], i: int) -> bool:
    run = [x for x in lines[i: i + 2 * TEASER_RUN] if x]
    return sum(bool(TEASER.search(x)) for x in run) >= TEASER_RUN and bool(TEASER.search(lines[i]) or VIEW_COUNT.search(lines[i]))


def _drop_head_repeats(lines: list[str]) -> list[str]:
    """Drop a repeated title line, a summary that repeats the body, and tag lines, near the top."""
    out: list[str] = []
    body = "".join(lines).replace(" ", "")
    for i, line in enumerate(lines):
        if i < HEAD_LINES and line:
            squeezed = line.replace(" ", "")
            if line in out or META_LINE.match(line) or (i == 0 and SEO_WRAPPER.search(line)):
                continue
            rest = "".join(lines[i + 1:]).replace(" ", "")
            if len(squeezed) >= MIN_SUMMARY_CHARS and squeezed in rest and body.count(squeezed) > 1:
                continue
        out.append(line)
    return out


def _trim_stray_tail(lines: list[str]) -> list[str]:
    while lines and (not lines[-1] or (len(lines[-1]) < STRAY_LINE_CHARS and not lines[-1].endswith(SENTENCE_END))):
        lines = lines[:-1]
    return lines


def _join(lines: list[str]) -> str:
    """Lines back to text: one blank line between paragraphs at most."""
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def clean(text: str) -> Cleaned:
    """Clean scraped plain text and report what was wrong with it (see :func:`clean_text`)."""
    text = repair(normalize(text))
    flags = ("mojibake",) if MOJIBAKE.search(text) else ()
    lines = text.split("\n")
    lines = _drop_head_repeats(lines)
    kept = _cut_chrome_suffix(lines)
    kept = [x for x in kept if not META_LINE.match(x)]
    if kept:
        kept[-1] = _cut_glued_notice(kept[-1]).rstrip(" |")
    if kept != lines:  # labels left between the body and the chrome that was cut
        kept = _trim_stray_tail(kept)
    lines = kept
    return Cleaned(_join(lines), flags)


def clean_text(text: str) -> str:
    """Clean scraped plain text in English or Chinese.

    Repairs artifacts (NFC, non-breaking and doubled spaces, pinyin glued to characters such
    as ``經(jīng)``, spaces left by stripped links), drops a duplicated title, a summary that
    repeats the body and tag lines, and cuts the site chrome that trails the article:
    prev/next links, teaser lists, reprint and copyright notices, ads, comment boxes.
    Paragraphs are kept, separated by a blank line.
    """
    return clean(text).text
