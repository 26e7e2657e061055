"""Bytes to text: the declared charset first, then UTF-8, then a detector.

Decoding before extraction is where Chinese pages are won or lost: on public Chinese pages
trafilatura scored F1 0.741 on raw bytes and 0.867 on correctly decoded text.
"""
from __future__ import annotations

import codecs
import re

#: GB2312 and GBK are subsets of GB18030; pages that declare them often use characters
#: only GB18030 has, so they are read as GB18030. Big5 pages often use HKSCS extensions.
#: Latin-1 and ASCII labels mean windows-1252, as in browsers (the WHATWG Encoding standard).
CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
                   "windows-936": "gb18030", "csgb2312": "gb18030", "euc-cn": "gb18030", "gb_2312-80": "gb18030",
                   "big5": "big5hkscs", "x-big5": "big5hkscs", "cn-big5": "big5hkscs", "csbig5": "big5hkscs",
                   "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252",
                   "us-ascii": "cp1252"}
#: A declared charset other than UTF-8 loses to UTF-8 when the bytes are valid UTF-8 with at
#: least this many multi-byte sequences: sites migrate to UTF-8 and keep the old
#: ``<meta>``, while GBK, Big5 or Latin-1 text is valid UTF-8 by chance only for a few bytes
#: (two GBK characters in a row almost never form a valid 3-byte UTF-8 sequence).
UTF8_OVER_DECLARED_MIN_SEQUENCES = 8
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
#: How far into an HTML document a ``<meta charset>`` is looked for (the HTML standard
#: says the declaration must be within the first 1024 bytes; 4096 tolerates sloppy pages).
META_SCAN_BYTES = 4096
#: Text that is UTF-8 but for a few bad bytes (a truncated file, one pasted Latin-1 byte) is
#: read as UTF-8 with a replacement character per bad byte when it holds at least this many
#: valid multi-byte characters per bad one. Left to the detector, one bad byte turned English
#: with curly quotes and dashes into Mac Roman mojibake (“ → ‚Äú). GBK, Big5 and Latin-1 text
#: read as UTF-8 has more bad sequences than valid ones, far from this ratio.
MOSTLY_UTF8_GOOD_PER_BAD = 10
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)


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
    """The charset named by an HTTP Content-Type header, else an XML declaration or a ``<meta>`` tag."""
    return _header_charset(content_type) or _document_charset(data)


def _header_charset(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type or "", re.IGNORECASE)
    return _codec(match.group(1)) if match else None


def _document_charset(data: bytes) -> str | None:
    head = data[:META_SCAN_BYTES]
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    return _codec(match.group(1).decode("ascii", "ignore")) if match else None


def _disputed(data: bytes, content_type: str | None) -> str | None:
    """When the HTTP header and the page name two legacy charsets, the one the detector finds
    coherent. A server's default header (gbk) on a Big5 page decoded without an error, since
    GB18030 takes any bytes, and stored mojibake unflagged (a review); browsers would too."""
    header, document = _header_charset(content_type), _document_charset(data)
    if not header or not document or header == document or "utf-8" in (header, document):
        return None
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=[header, document]).best()
    return _codec(best.encoding) if best else None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(data: bytes) -> str | None:
    """``data`` decoded as UTF-8 with replacement characters, if only a few of its bytes are bad."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    if good >= UTF8_OVER_DECLARED_MIN_SEQUENCES and good >= bad * MOSTLY_UTF8_GOOD_PER_BAD:
        return text
    return None


def decode(data: bytes, content_type: str | None = None) -> str:
    """Decode ``data``: BOM, declared charset, UTF-8 (strict, then mostly), then charset-normalizer's guess.

    ``content_type`` is the HTTP header, which wins over the document's own declaration.
    Valid UTF-8 wins over a declared legacy charset (see UTF8_OVER_DECLARED_MIN_SEQUENCES).

    Falls back to UTF-8 with replacement characters, which the cleaner then flags as
    mojibake, rather than failing: a page with a few bad bytes is still worth reading.
    """
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    declared = _disputed(data, content_type) or declared_charset(data, content_type)
    utf8 = _is_utf8(data)
    if declared and declared != "utf-8" and utf8 and len(_UTF8_MULTIBYTE.findall(data)) >= UTF8_OVER_DECLARED_MIN_SEQUENCES:
        return data.decode("utf-8")
    if declared:
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass  # pages lie about their charset; try the others
    if utf8:
        return data.decode("utf-8")
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return mostly
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    codec = _codec(best.encoding) if best else None
    if codec:
        return data.decode(codec, errors="replace")
    return data.decode("utf-8", errors="replace")
