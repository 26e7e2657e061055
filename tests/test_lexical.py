from index.lexical import fts_query, terms


def test_traditional_and_simplified_give_the_same_terms():
    assert terms("運營指南與產品價值") == terms("运营指南与产品价值")


def test_chinese_is_segmented_into_words_and_english_stemmed():
    words = terms("私域流量运营 helps operators grow")
    assert "私域" in words and "流量" in words and "运营" in words
    assert "oper" in words and "grow" in words and "help" in words
    assert "the" not in terms("the operators")


def test_fts_query_quotes_and_deduplicates():
    assert fts_query(['a"b', "运营", "运营"]) == '"a""b" OR "运营"'
    assert fts_query([]) == ""
