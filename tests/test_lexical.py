import numpy as np
import pytest

from index import lexical
from index.lexical import LexicalScorer, terms
from index.store import POSTINGS_FORMAT


def test_traditional_and_simplified_give_the_same_terms():
    assert terms("運營指南與產品價值") == terms("运营指南与产品价值")


def test_taiwan_zhe_and_plural_acronyms_fold_to_one_term():
    # t2s kept 著 (it is right in 著名), so 隨著 and 随着 were other terms; KPIs stemmed to "kpis"
    assert terms("隨著用戶增長,意味著") == terms("随着用户增长,意味着")
    assert terms("著名") == ["著名"] and terms("显著提升") == ["显著", "提升"]  # tw2s made it 显/着 (a review)
    assert terms("Our KPIs and SKUs") == terms("our KPI and SKU") == ["kpi", "sku"]
    assert terms("process") == ["process"]  # a lower-case plural is Snowball's


def test_operations_words_are_cut_whole():
    # 直播带货运营 was 直播/带/货运/营有 (货运: freight), and 复购率 复/购率
    assert {"带货", "运营"} <= set(terms("直播带货运营有哪些误区")) and "货运" not in terms("直播带货运营")
    assert "复购率" in terms("完播率和复购率")
    import jieba
    assert "货运" in jieba.lcut("直播带货运营")  # the jieba module's own tokenizer is left as it was


def test_the_spellings_of_to_b_and_to_c_are_one_term_each():
    for text in ("TO B运营", "To B運營", "ToB 运营", "B2B运营", "B端运营", "B-side 运营", "B-end 运营"):
        assert terms(text) == ["tob", "运营"], text
    assert terms("TO C和C端、B2C") == ["toc", "和", "toc", "toc"] and terms("做TO B")[-1] == "tob"
    assert "tob" not in terms("how to be good at A/B testing, plan B, tobacco, AB端")
    # a review: C-suite and C-level were "toc"
    assert not {"tob", "toc"} & set(terms("sell to C-suite executives, pitch to C-level buyers"))
    assert "tob" in terms("a to B content operator")


def test_it_in_capitals_is_the_trade_not_the_pronoun():
    # "it" is a stopword: "What is IT?" had no terms, and IT运营 only 运营
    assert terms("What is IT?") == [lexical.IT_TERM]
    assert terms("IT运营") == [lexical.IT_TERM, "运营"] and lexical.IT_TERM in terms("IT operations")
    assert terms("is it hard") == terms("IT'S HARD") == ["hard"]
    assert lexical.IT_TERM not in terms("WHY IT MATTERS") + terms("Italy, ITEM, bit")
    # a review: capitals a few words away ("KPI for the IT team") dropped it, and so did "IT's"
    for text in ("KPI for the IT team", "SEO and the IT team", "How does IT support SEO?", "CEO和IT部门",
                 "IT KPI考核", "What is IT's budget?"):
        assert lexical.IT_TERM in terms(text) and "s" not in terms(text), text


def test_accented_latin_words_are_the_words_without_accents():
    # only ASCII letters made words: résumé was "r" and "sum", naïve "na" and "ve" (a review)
    assert terms("Résumé tips for a café in İstanbul, naïve Straße") == \
        terms("resume tips for a cafe in istanbul, naive strasse")
    assert terms("résumé") == ["resum"] and terms("简历résumé") == ["简历", "resum"]


def test_every_term_is_a_token_of_the_lexicon():
    # Yijing hexagrams sit inside the CJK ranges and are symbols to FTS5, which held none of
    # them while the packed postings did (a review). The other characters a review tried agree.
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'unicode61 remove_diacritics 0')")
    text = "周易的卦象 ䷀ 乾卦 ䷁坤 ① Ⅻ ℌ ﬁ ＡＢＣ１２３ 3.5% 😀 𠀀𠀁 \ufa6e \u9fef 運營 naïve"
    db.execute("INSERT INTO t(x) VALUES (?)", (" ".join(terms(text)),))
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, row)")
    held = {row[0] for row in db.execute("SELECT term FROM v")}
    assert set(terms(text)) == held and "䷀" not in held and "乾卦" in held


def test_chinese_is_segmented_into_words_and_english_stemmed():
    words = terms("私域流量运营 helps operators grow")
    assert "私域" in words and "流量" in words and "运营" in words
    assert "oper" in words and "grow" in words and "help" in words
    assert "the" not in terms("the operators")


class FakeStore:
    """Postings of three passages: two English, one Chinese."""

    generation = 1

    def meta_snapshot(self, keys):
        return {"generation": str(self.generation), "postings": f"{POSTINGS_FORMAT}:3"}
    docs = {1: ("en", ["oper", "grow", "oper"]), 2: ("en", ["salari", "low"]), 3: ("zh-Hans", ["运营", "工资", "低"])}

    def passage_table(self):
        pids = np.array(sorted(self.docs))
        return pids, np.array([len(self.docs[p][1]) for p in pids], dtype=np.float32), [self.docs[p][0] for p in pids]

    def packed_terms(self, terms):
        return {t for t in terms if any(t in words for _, words in self.docs.values())}

    def vocabulary(self):
        return frozenset(w for _, words in self.docs.values() for w in words)

    def postings(self, term):
        assert term in FakeStore.vocabulary(self), f"looked up {term!r}, which no passage holds"
        rows = [(p, words.count(term)) for p, (_, words) in sorted(self.docs.items()) if term in words]
        return np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.float32)


class FakeBridge:
    table = {"salari": ("工资",), "工资": ("salari",), "运营": ("oper",), "oper": ("运营",)}

    def translations(self, term):
        return self.table.get(term, ())

    def phrase(self, a, b):
        return ()


def test_own_language_passages_match_words_and_others_match_translations():
    scorer = LexicalScorer(FakeStore())
    scores = scorer.score("salary", "en", FakeBridge())
    assert set(scores) == {2, 3}  # the English passage by its word, the Chinese one by 工资
    assert all(0 < s <= 1.5 for s in scores.values())
    assert set(scorer.score("运营", "zh", FakeBridge())) == {1, 3}
    assert scorer.score("quantum", "en", FakeBridge()) == {}


def test_synonym_set_counts_as_one_term():
    scorer = LexicalScorer(FakeStore())
    scorer._refresh()
    single, mass_single = scorer.bm25([["oper"]])
    merged, mass_merged = scorer.bm25([["oper", "运营"]])
    assert mass_merged < mass_single  # in more passages: lower idf
    assert merged[2] > 0 and single[2] == 0  # row 2 is the Chinese passage


def test_coverage_is_the_share_of_the_query_idf_mass_a_passage_holds():
    scorer = LexicalScorer(FakeStore())
    bridge = FakeBridge()
    # "salary" is in one passage of three, "grow" in one: equal idf, so holding one is half.
    assert scorer.coverage("salary grow", "en", bridge, "operators grow", "en") == 0.5
    assert scorer.coverage("salary grow", "en", bridge, "salary grows low", "en") == 1.0
    # Other-language passages are matched through the translations: 工资 stands for "salary".
    assert scorer.coverage("salary", "en", bridge, "工资低", "zh-Hans") == 1.0
    assert scorer.coverage("salary", "en", bridge, "运营低", "zh-Hans") == 0.0
    assert scorer.coverage("salary", "en", bridge, "salary", "zh-Hans") == 1.0  # a set includes the word
    # A word absent from the base weighs the most and can never be held.
    assert 0 < scorer.coverage("salary quantum", "en", bridge, "salary", "en") < 0.5
    assert scorer.coverage("the", "en", bridge, "anything", "en") == 0.0


def test_coverage_ignores_how_often_a_word_occurs():
    scorer = LexicalScorer(FakeStore())
    once = scorer.coverage("operators", "en", FakeBridge(), "operators", "en")
    often = scorer.coverage("operators", "en", FakeBridge(), "operators operators operators", "en")
    assert once == often == 1.0


def test_which_terms_the_base_holds_is_asked_once_per_term_and_absent_ones_are_never_looked_up(monkeypatch):
    store, asked = FakeStore(), []
    real = store.packed_terms
    monkeypatch.setattr(store, "packed_terms", lambda terms: asked.append(list(terms)) or real(terms))
    scorer = LexicalScorer(store)
    # "kubernet" and "dashboard" are in no passage: the fake store fails any postings lookup of them.
    scores = scorer.score("kubernetes operations dashboard salary", "en", FakeBridge())
    scorer.score("operations growth kubernetes", "en", FakeBridge())
    assert set(scores) == {1, 2, 3}
    assert len(asked) == 2 and {"kubernet", "dashboard", "运营"} <= set(asked[0]) and set(asked[1]) == {"growth"}


ENGLISH_WORDS = ("operations growth retention community event salary playbook dashboard funnel content "
                 "campaign budget metric churn onboarding referral pricing segment cohort survey").split()
CHINESE_WORDS = ("运营 用户 增长 活动 社群 内容 数据 复盘 私域 转化率 留存 裂变 预算 渠道 指标 拉新 促活 "
                 "直播 工资 流量").split()


@pytest.fixture(scope="module")
def zipf_base(tmp_path_factory):
    """A base of 240 passages whose words follow Zipf's law, English and Chinese: the first
    words of each list are in most passages, the last in a few. Its postings are folded into
    packed ones after a few adds, as a large base's are."""
    import random

    from index import KnowledgeBase, store

    from .fakes import HashEncoder

    rng = random.Random(7)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(20)]
    folder = tmp_path_factory.mktemp("zipf") / "kb"
    with KnowledgeBase.open(folder, model=HashEncoder()) as kb, pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "RECENT_MIN_ROWS", 8)
        patch.setattr(store, "RECENT_SHARE", 0.25)
        for article in range(40):
            words, sep, stop = (ENGLISH_WORDS, " ", ".") if article % 2 else (CHINESE_WORDS, "", "。")
            paragraphs = [sep.join(rng.choices(words, weights, k=rng.randint(3, 40))) + stop for _ in range(6)]
            kb.add_text("\n\n".join(paragraphs), title=f"article {article}")
        assert kb._store._db.execute("SELECT count(*) FROM packed_postings WHERE length(pids) > 160").fetchone()[0] >= 5
    return folder


def _queries() -> list[str]:
    import random

    rng = random.Random(3)
    queries = ["operations", "运营", "playbook operations", "survey cohort 工资", "流量 直播 运营 用户"]
    for _ in range(25):
        words = rng.sample(ENGLISH_WORDS, rng.randint(1, 4)) + rng.sample(CHINESE_WORDS, rng.randint(0, 3))
        rng.shuffle(words)
        queries.append(" ".join(words))
    return queries


@pytest.mark.parametrize("setting, value", [
    ("DENSE_UNION", 0), ("DENSE_UNION", 10**9),  # synonym sets merged by sorting / over the whole base
    ("ROW_TABLE_SPARSITY", 0),  # pids made rows by searchsorted, as when most pids are gone
    ("POSTINGS_KEPT_ROWS", 300), ("TERM_POSTINGS_KEPT_ROWS", 100),  # a few terms' worth kept
    ("POSTINGS_FORMAT", "none"),  # postings read from FTS5's own, as before a base is packed
])
def test_every_way_of_reading_postings_gives_the_same_scores_bit_for_bit(zipf_base, monkeypatch, setting, value):
    from index import KnowledgeBase, store
    from index.bridge import bridge

    from .fakes import HashEncoder

    with KnowledgeBase.open(zipf_base, model=HashEncoder()) as kb:
        asked = [(q, g) for q in _queries() for g in ("en", "zh")]
        expected = [LexicalScorer(kb._store).rank(q, g, bridge())[1] for q, g in asked]
        monkeypatch.setattr(store if setting == "POSTINGS_FORMAT" else lexical, setting, value)
        scorer = LexicalScorer(kb._store)
        for (query, query_group), scores in zip(asked, expected):
            assert scorer.rank(query, query_group, bridge())[1].tobytes() == scores.tobytes(), query
            for kept in (scorer._kept, scorer._terms_kept):
                assert kept.rows == sum(len(item[0]) for item in kept._items.values())
                assert kept.rows <= max(kept.limit, max(len(item[0]) for item in kept._items.values()))
        assert (scorer._row_of is None) == (setting == "ROW_TABLE_SPARSITY")
        assert (scorer._postings.__name__ == "lexicon_postings") == (setting == "POSTINGS_FORMAT")


def test_kept_arrays_count_their_rows_and_let_the_least_recently_used_go():
    kept = lexical._Kept(10)
    kept.put("a", (np.zeros(4),))
    kept.put("b", (np.zeros(4),))
    kept.put("a", (np.zeros(5),))  # replaced, not counted twice (a review)
    assert kept.rows == 9 and list(kept._items) == ["b", "a"]
    kept.get("b")
    kept.put("c", (np.zeros(3),))  # 12 rows: "a", used least recently, goes
    assert list(kept._items) == ["b", "c"] and kept.rows == 7
    kept.put("d", (np.zeros(25),))  # more than the limit alone: kept, alone
    assert list(kept._items) == ["d"] and kept.rows == 25 and kept.get("b") is None
