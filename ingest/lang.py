"""Language tags: ``en``, ``zh-Hans``, ``zh-Hant``, and langdetect's codes for the rest.

langdetect alone calls traditional Chinese "ko" (15 of 15 passages of the traditional seed)
and misreads short Chinese questions (2 of 7), so the script decides first and langdetect
only sees text that is not Chinese, Japanese or Korean.
"""
from __future__ import annotations

import re
from functools import lru_cache

#: Share of non-space characters that must be Han for text to be Chinese. A script rule at
#: 0.2 was right on 75/75 seed passages and 20/20 questions; English text that quotes a few
#: Chinese names stays far below it.
HAN_SHARE_FOR_CHINESE = 0.2
#: Japanese is Han plus kana; 5% kana never occurs in Chinese text.
KANA_SHARE_FOR_JAPANESE = 0.05
HANGUL_SHARE_FOR_KOREAN = 0.2
#: Below this many letters langdetect guesses (it called "to B operations" Italian); short
#: Latin-script text is taken as English, the only Latin-script language of the corpus.
MIN_LETTERS_FOR_LANGDETECT = 25

UNDETERMINED = "und"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Hiragana and katakana letters only: the katakana middle dot ・ (U+30FB) and the long-vowel
#: mark ー (U+30FC) are common in Chinese text (史蒂夫・乔布斯, bullets), which they made "ja".
_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=2)
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def _changed(text: str, config: str) -> int:
    converted = _converter(config).convert(text)
    return sum(a != b for a, b in zip(text, converted))


def chinese_variant(text: str) -> str:
    """``zh-Hant`` if more characters change from traditional to simplified than the reverse.

    Counting both ways copes with converted pages that keep a few characters of the other
    script (the traditional seed still has 什么 and 干貨). A tie, e.g. text made only of
    characters common to both scripts, is ``zh-Hans``.
    """
    to_simplified = _changed(text, "t2s")
    to_traditional = _changed(text, "s2t")
    return "zh-Hant" if to_simplified > to_traditional else "zh-Hans"


def detect_language(text: str, *, latin: str | None = None) -> str:
    """The language tag of ``text``; ``"und"`` when it has no letters.

    Args:
        latin: the tag to give text written in the Latin script, when the caller knows it:
            the article's language for its passages, or ``"en"`` for a question to an
            English and Chinese base. ``None`` (the default) asks langdetect, which costs
            4-6 ms per passage: half of indexing time once embedding is fast.
    """
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return UNDETERMINED
    sample = "".join(chars)
    han = len(_HAN.findall(sample)) / len(chars)
    kana = len(_KANA.findall(sample)) / len(chars)
    hangul = len(_HANGUL.findall(sample)) / len(chars)
    if kana >= KANA_SHARE_FOR_JAPANESE:
        return "ja"
    if hangul >= HANGUL_SHARE_FOR_KOREAN:
        return "ko"
    if han >= HAN_SHARE_FOR_CHINESE:
        return chinese_variant(text)
    letters = _LETTER.findall(sample)
    if not letters:
        return UNDETERMINED
    if all(ord(c) < 0x250 for c in letters):
        if latin is not None:
            return latin
        if len(letters) < MIN_LETTERS_FOR_LANGDETECT:
            return "en"
    return _langdetect(text)


def _langdetect(text: str) -> str:
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # langdetect is random by default; same text, same answer
    try:
        code = detect(text)
    except LangDetectException:
        return UNDETERMINED
    return {"zh-cn": "zh-Hans", "zh-tw": "zh-Hant"}.get(code, code)


def is_chinese(lang: str) -> bool:
    return lang.startswith("zh")
