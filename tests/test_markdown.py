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


def test_a_table_row_is_a_sentence_that_names_its_columns():
    md = ("# 复盘\n\n| 指标 | 目标 | 实际 |\n|---|:---:|---|\n| 留存率 | 60% | 52% |\n| **复购率** | 30% |  |\n\n"
          "Name | Role\n--- | ---\nAnn | [Lead](https://example.com)\n")
    text, _ = markdown_to_text(md)
    # "指标目标实际" / "留存率 60% 52%" lost which number was the target (a review)
    assert "留存率：目标 60%，实际 52%。" in text and "复购率：目标 30%。" in text
    # a Han name before a Han value keeps a colon between them: the space went in cleaning
    assert "P4：职称：运营专员，年限 0-2年。" in markdown_to_text("| 职级 | 职称 | 年限 |\n|---|---|---|\n| P4 | 运营专员 | 0-2年 |")[0]
    # an escaped pipe is inside its cell: the columns shifted and 35% was lost
    escaped = markdown_to_text("| 平台 | 完播率 |\n|---|---|\n| Douyin\\|Kuaishou | 35% |")[0]
    assert escaped.strip() == "Douyin|Kuaishou：完播率 35%。"
    assert "Ann: Role Lead." in text and "|" not in text and "---" not in text
