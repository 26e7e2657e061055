"""Bytes to text: the declared charset first, then UTF-8, then a detector.

Decoding before extraction is where Chinese pages are won or lost: on public Chinese pages
trafilatura scored F1 0.741 on raw bytes and 0.867 on correctly decoded text.
"""
from __future__ import annotations

import codecs
import re

#: GB2312 and GBK are subsets of GB18030; pages that declare them often use characters
#: only GB18030 has, so they are read as GB18030. Big5 pages often use HKSCS extensions.
CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs"}
#: How far into an HTML document a ``<meta charset>`` is looked for (the HTML standard
#: says the declaration must be within the first 1024 bytes; 4096 tolerates sloppy pages).
META_SCAN_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(data: bytes, content_type: str | None = None) -> str | None:
    """The charset named by an HTTP Content-Type header, else by a ``<meta>`` tag."""
    if content_type:
        match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
        if match and _codec(match.group(1)):
            return _codec(match.group(1))
    match = _META_CHARSET.search(data[:META_SCAN_BYTES])
    return _codec(match.group(1).decode("ascii", "ignore")) if match else None


def decode(data: bytes, content_type: str | None = None) -> str:
    """Decode ``data``: BOM, declared charset, strict UTF-8, then charset-normalizer's guess.

    Falls back to UTF-8 with replacement characters, which the cleaner then flags as
    mojibake, rather than failing: a page with a few bad bytes is still worth reading.
    """
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    declared = declared_charset(data, content_type)
    if declared:
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass  # pages lie about their charset; try the others
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    codec = _codec(best.encoding) if best else None
    if codec:
        return data.decode(codec, errors="replace")
    return data.decode("utf-8", errors="replace")
