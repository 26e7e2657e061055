import itertools

import opencc

from ingest import load
from ingest.fingerprint import NEAR_DUPLICATE_JACCARD, bands, minhash, missing_sentences, similarity

from .conftest import SEEDS


def test_copies_are_near_duplicates_and_different_articles_are_not():
    texts = [load(p).text for p in SEEDS.values()]
    sigs = [minhash(t) for t in texts]
    assert all(similarity(a, b) < 0.3 for a, b in itertools.combinations(sigs, 2))
    body = texts[0]
    copy = "Reposted from another site.\n" + body[: len(body) // 2] + " One more line. " + body[len(body) // 2: -200]
    assert similarity(minhash(body), minhash(copy)) >= NEAR_DUPLICATE_JACCARD
    simplified = opencc.OpenCC("t2s").convert(texts[2])
    assert similarity(minhash(texts[2]), minhash(simplified)) >= NEAR_DUPLICATE_JACCARD


def test_signatures_are_stable_and_banded():
    sig = minhash("同一篇文章 the same text")
    assert (sig == minhash("同一篇文章 the same text")).all() and len(sig) == 64
    assert bands(sig) == bands(minhash("同一篇文章 the same text")) and len(set(bands(sig))) == 16
    assert len(minhash("")) == 64  # short and empty texts do not fail


def test_missing_sentences_are_those_the_copy_lacks_whatever_its_script_and_spacing():
    stored = "双十一活动拉来了4.5万新用户。获客成本是每人11.5元!"
    copy = "雙十一活動拉來了 4.5 萬新用戶。獲客成本是每人11.5元。補充:下次活動預算增加到二十萬元。"
    assert missing_sentences(copy, stored) == ["補充:下次活動預算增加到二十萬元。"]
    assert missing_sentences(stored, copy) == []
    assert missing_sentences("Hosts welcome members. Hosts welcome members.", "hosts WELCOME members") == []
