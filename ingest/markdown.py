"""Markdown to plain text: the words a reader sees, without the markup."""
from __future__ import annotations

import re

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_FRONT_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~).*$", re.MULTILINE)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_LINK_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
_SETEXT = re.compile(r"^(.+)\n[=-]{3,}\s*$", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1")
_CODE = re.compile(r"`([^`]*)`")
_QUOTE = re.compile(r"^\s*>\s?", re.MULTILINE)
_BULLET = re.compile(r"^\s*[-*+]\s+", re.MULTILINE)
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$", re.MULTILINE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.MULTILINE)
_TABLE_RULE_LINE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_HAN = re.compile(r"[\u3400-\u9fff]")


#: A cell boundary: a pipe not escaped (`Douyin\|Kuaishou` is one cell, as in GitHub's tables).
_CELL_PIPE = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> list[str]:
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") and not line.endswith("\\|") else line
    return [cell.strip().replace("\\|", "|") for cell in _CELL_PIPE.split(line)]


def _row_text(header: list[str], row: list[str]) -> str:
    """A table row as a sentence that names its columns: "留存率：目标 60%，实际 52%。". Cells
    side by side lost the header, and Chinese ones ran together: a review's answer to "留存率的
    目标是多少" was "留存率 60% 52%" under "指标目标实际"."""
    chinese = bool(_HAN.search(" ".join(header + row)))
    pairs = [f"{name}{_between(name, value)}{value}".strip() for name, value in zip(header[1:], row[1:]) if value]
    if not pairs:
        return row[0]
    return row[0] + ("：" if chinese else ": ") + ("，" if chinese else ", ").join(pairs) + ("。" if chinese else ".")


def _between(name: str, value: str) -> str:
    """What separates a column's name from its value: a space, which cleaning takes out between
    two Han characters ("典型职称 运营专员" became 典型职称运营专员), so a colon there."""
    return "：" if name and _HAN.match(name[-1]) and _HAN.match(value[0]) else " "


def _tables(md: str) -> str:
    """Pipe tables (a header line, a rule line, rows) as one sentence per row (:func:`_row_text`)."""
    lines, out, i = md.split("\n"), [], 0
    while i < len(lines):
        if "|" in lines[i] and i + 1 < len(lines) and _TABLE_RULE_LINE.match(lines[i + 1]):
            header, i = _cells(lines[i]), i + 2
            while i < len(lines) and "|" in lines[i]:
                out.append(_row_text(header, _cells(lines[i])))
                i += 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def markdown_to_text(md: str) -> tuple[str, str | None]:
    """Plain text and the title (front matter ``title:`` or the first heading), if any."""
    md = md.replace("\r\n", "\n")
    title = None
    front = _FRONT_MATTER.match(md)
    if front:
        found = _FRONT_TITLE.search(front.group(1))
        title = found.group(1) if found else None
        md = md[front.end():]
    md = _FENCE.sub("", md)
    md = _RULE.sub("", md)
    md = _tables(md)
    md = _TABLE_RULE.sub("", md)
    md = _SETEXT.sub(lambda m: "# " + m.group(1), md)
    if title is None:
        heading = _HEADING.search(md)
        title = heading.group(1) if heading else None
    md = _HEADING.sub(r"\1", md)
    md = _IMAGE.sub("", md)
    md = _LINK.sub(r"\1", md)
    md = _REF_LINK.sub(r"\1", md)
    md = _LINK_DEF.sub("", md)
    md = _CODE.sub(r"\1", md)
    md = _EMPHASIS.sub(r"\2", md)
    md = _QUOTE.sub("", md)
    md = _BULLET.sub("", md)
    md = _TAG.sub("", md)
    md = "\n".join(line.strip(" |").replace(" | ", "  ") for line in md.split("\n"))
    return md, title
