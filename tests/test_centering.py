import numpy as np

from index.centering import MIN_GROUP_PASSAGES, Centering, group


def unit(m):
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def test_language_offset_is_removed():
    rng = np.random.default_rng(0)
    topics = unit(rng.normal(size=(20, 16)))
    en_offset, zh_offset = np.eye(16)[0] * 3, np.eye(16)[1] * 3
    en = unit(topics + en_offset)
    zh = unit(topics + zh_offset)  # the same 20 topics, written in Chinese
    langs = ["en"] * 20 + ["zh-Hans"] * 10 + ["zh-Hant"] * 10
    centering = Centering.fit(langs, np.vstack([en, zh]))
    cen = centering.passages(np.vstack([en, zh]), langs)
    plain_best = np.argmax(np.vstack([en, zh]) @ en[3])
    centred_scores = cen @ centering.query(en[3], "en")
    assert plain_best == 3
    assert np.argsort(-centred_scores)[:2].tolist() in ([3, 23], [23, 3])  # both languages' copy of topic 3 on top


def test_small_groups_use_the_global_mean_and_json_round_trip():
    matrix = unit(np.random.default_rng(1).normal(size=(MIN_GROUP_PASSAGES + 2, 8)))
    langs = ["en"] * (MIN_GROUP_PASSAGES + 1) + ["fr"]
    centering = Centering.fit(langs, matrix)
    assert "fr" not in centering.means and "en" in centering.means
    again = Centering.from_json(centering.to_json())
    assert np.allclose(again.passages(matrix, langs), centering.passages(matrix, langs), atol=1e-6)
    assert group("zh-Hant") == group("zh-Hans") == "zh"


def test_staleness_follows_counts():
    centering = Centering.fit(["en"] * 100, unit(np.ones((100, 4))))
    assert not centering.is_stale({"en": 105})
    assert centering.is_stale({"en": 115})
    assert centering.is_stale({"en": 100, "zh-Hans": 20})
    assert not centering.is_stale({"en": 100, "zh-Hans": 2})
