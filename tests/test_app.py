"""The Streamlit app, driven by AppTest against the real knowledge base and model."""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import ROOT

pytestmark = pytest.mark.slow


def app(monkeypatch, kb_dir) -> AppTest:
    monkeypatch.setenv("KB_DIR", str(kb_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def test_first_start_builds_the_base_from_the_corpus(monkeypatch, tmp_path):
    at = app(monkeypatch, tmp_path / "kb")
    assert "5 articles" in at.caption[0].value
    assert (tmp_path / "kb" / "vectors.faiss").exists()


def test_question_gets_cited_excerpts(monkeypatch, seeds_kb_copy):
    at = app(monkeypatch, seeds_kb_copy)
    at.text_input(key="question").set_value("運營人員應該優先解決什麼問題?")
    at.button(key="ask").click().run()
    assert not at.exception
    sources = [m.value for m in at.markdown if m.value.startswith("**[")]
    assert sources and sources[0].startswith("**[1]**")
    assert any("zh-Hant" in s for s in sources)


def test_example_button_fills_the_question(monkeypatch, seeds_kb_copy):
    at = app(monkeypatch, seeds_kb_copy)
    at.button(key="example-0").click().run()
    assert at.text_input(key="question").value == "What do operators fear the most?"
    assert any(m.value.startswith("**[1]**") for m in at.markdown)


def test_document_text_is_rendered_inert(monkeypatch, tmp_path):
    from index import KnowledgeBase

    payload = ("<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) "
               ":red[red] $x^2$ **bold**")
    with KnowledgeBase.open(tmp_path / "kb") as kb:
        kb.add_text(("Payload paragraph about event operations. " + payload + " ") * 4, title="Payload <b>title</b>",
                    source="javascript:alert(4)")
    at = app(monkeypatch, tmp_path / "kb")
    at.text_input(key="question").set_value("event operations payload")
    at.button(key="ask").click().run()
    rendered = [m for m in at.markdown if "Payload" in m.value]
    assert rendered
    for m in rendered:
        assert not m.proto.allow_html
        for active in (r"(?<!\\)<(script|img|b>)", r"(?<!\\)\]\(javascript", r"(?<!\\):red(?<!\\)\[",
                       r"(?<!\\)\$x", r"(?<!\\)\*\*bold"):
            assert not re.search(active, m.value), (active, m.value)  # every special character escaped
    assert not any("javascript:" in m.value and "](" in m.value for m in at.markdown)
