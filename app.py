"""Streamlit app: ask the knowledge base in English or Chinese, read cited excerpts.

Run with ``streamlit run app.py``. The knowledge base lives in ``$KB_DIR`` (default ``./kb``);
on first start it is built from ``corpus/``. This file only calls the public API of ``index``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import streamlit as st

from index import KnowledgeBase, discover

CORPUS = Path(__file__).resolve().parent / "corpus"
EXAMPLES = [
    "What do operators fear the most?",
    "How can TO B operators grow in their company?",
    "运营人员如何避免只做杂事?",
    "小丽的工资为什么一直涨不上去?",
    "運營應該優先解決什麼問題?",
]
# Characters that markdown, Streamlit's colour directives (:red[...]) and maths ($...$) give
# meaning to. Document text is untrusted: every one is escaped before it reaches st.markdown.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:=])")


def escape(text: str) -> str:
    """Document text as literal markdown: nothing in it can format, link, or run."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def safe_link(source: str | None) -> str | None:
    return source if source and re.match(r"^https?://", source, re.IGNORECASE) else None


@st.cache_resource(show_spinner=False)
def knowledge_base(path: str) -> KnowledgeBase:
    """One open knowledge base per directory, shared by every session of this server."""
    return KnowledgeBase.open(path)


def build_from_corpus(kb: KnowledgeBase) -> None:
    sources = discover([CORPUS])
    bar = st.progress(0.0, text="Building the knowledge base from the sample corpus…")
    for n, source in enumerate(sources, 1):
        kb.add(source)
        bar.progress(n / len(sources), text=f"Added {n} of {len(sources)}: {Path(source).name}")
    kb.save()
    bar.empty()


def show_answer(question: str, kb: KnowledgeBase) -> None:
    answer = kb.ask(question)
    st.markdown(f"**{escape(question)}**")
    if answer.found:
        st.markdown(escape(answer.text))
    else:
        st.info(answer.text)
    for n, hit in enumerate(answer.citations, 1):
        with st.container(border=True, key=f"source-{n}"):
            link = safe_link(hit.source)
            title = escape(hit.title)
            st.markdown(f"**[{n}]** {f'[{title}]({link})' if link else title} · `{hit.lang}`")
            st.markdown(escape(hit.text))
            if hit.source and not link:
                st.caption(escape(hit.source))


def main() -> None:
    st.set_page_config(page_title="Ops knowledge base · 运营知识库", page_icon="📚")
    st.title("Ops knowledge base · 运营知识库")
    kb = knowledge_base(os.environ.get("KB_DIR") or "kb")
    if not kb.articles():
        build_from_corpus(kb)
    articles = kb.articles()
    st.caption(f"{len(articles)} articles, {sum(a.passages for a in articles)} passages. "
               "Ask in English or Chinese; answers cite excerpts in any language.")
    st.session_state.setdefault("question", "")
    cols = st.columns(len(EXAMPLES))
    for n, (col, example) in enumerate(zip(cols, EXAMPLES)):
        if col.button(example, key=f"example-{n}"):
            st.session_state["question"] = example
    question = st.text_input("Question · 问题", key="question")
    if st.button("Ask · 提问", key="ask", type="primary") or question:
        if question.strip():
            show_answer(question, kb)


main()
