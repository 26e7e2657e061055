from index import highlight_spans, highlight_terms


def test_english_words_match_as_prefixes_without_stopwords():
    text = "Operators plan events; the operator's job is to plan."
    spans = [text[s:e] for s, e in highlight_spans(text, "What do operators plan?")]
    assert spans == ["Operators", "plan", "operator's", "plan"]
    assert "what" not in highlight_terms("What do operators plan?")


def test_chinese_words_match_in_both_scripts():
    text = "運營人員要做有價值的事情,运营要创造价值。"
    spans = [text[s:e] for s, e in highlight_spans(text, "运营的价值")]
    assert "運營" in spans and "运营" in spans and "價值" in spans and "价值" in spans


def test_no_terms_no_spans():
    assert highlight_spans("anything", "是 的 to a") == []
