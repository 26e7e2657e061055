from ingest.markdown import markdown_to_text


def test_markup_is_removed_and_words_kept():
    md = """---
title: "Front matter title"
---
# Heading one

Some **bold** and *italic* and `code` with a [link](https://example.com) and ![img](x.png).

> quoted line

- item one
- item two

| a | b |
|---|---|
| 1 | 2 |
"""
    text, title = markdown_to_text(md)
    assert title == "Front matter title"
    for gone in ("**", "](", "![", "`", "> ", "- item", "---", "https://example.com"):
        assert gone not in text
    for kept in ("Heading one", "Some bold and italic and code with a link and .", "quoted line", "item one"):
        assert kept in text


def test_first_heading_is_the_title_without_front_matter():
    text, title = markdown_to_text("Intro\n\n## 运营指南\n\n正文内容。")
    assert title == "运营指南" and "正文内容。" in text
