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


def test_a_short_word_ending_in_s_is_no_plural():
    text = "New readers of the newsletter learn a lesson in less time."
    marked = [text[s:e] for s, e in highlight_spans(text, "news about less")]
    assert "New" not in marked and "less" in marked  # "news" was cut to "new", "less" to "les"


def test_no_terms_no_spans():
    assert highlight_spans("anything", "是 的 to a") == []


def test_a_traditional_question_marks_its_words_in_either_script_and_width():
    # jieba cut the traditional question into 人員為 and 小紅書種; 台灣 was looked for as 臺灣
    for question, text, marked in [
        ("運營人員為什麼要懂數據", "运营人员为什么要懂数据分析", ["运营", "人员", "数据"]),
        ("台湾市场的会员日", "台灣市場的會員日怎麼做", ["台灣", "市場", "會員"]),
        ("这里的用户", "這裡的用戶很活躍", ["這裡", "用戶"]),
        ("小紅書種草筆記", "小红书种草笔记怎么写", ["小红书", "种草", "笔记"]),
        ("KPI 怎么定", "ＫＰＩ怎麼定才合理", ["ＫＰＩ"]),  # not the Chinese after it, nor 怎麼
        ("How to set KPIs", "Our KPI was retention", ["KPI"]),
        # as search matches them (a review: B端 and TO B were never marked, nor 带货 and 运营)
        ("B端运营要不要下一线", "無論在B端還是C端，運營的價值；TO B operations", ["B端", "運營", "TO B"]),
        ("How do B2B operators grow?", "做TO B運營的人", ["TO B"]),
        ("直播帶貨運營有哪些誤區?", "直播带货运营的误区很多", ["直播带货", "运营", "误区"]),
    ]:
        assert [text[s:e] for s, e in highlight_spans(text, question)] == marked, question
