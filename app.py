"""Streamlit app: ask the knowledge base in English or Chinese, read cited excerpts, add articles.

Run with ``streamlit run app.py``. The knowledge base lives in ``$KB_DIR`` (default ``./kb``);
on first start it is built from ``corpus/``. This file only calls the public API of ``index``
and renders; document text is untrusted and never reaches the page as HTML or markdown.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from index import (Busy, EmptyArticle, FetchError, IngestError, KnowledgeBase, KnowledgeBaseError, NotFound,
                   RefusedURL, UnsupportedSource, discover, highlight_spans)

CORPUS = Path(__file__).resolve().parent / "corpus"
#: Questions the sample corpus answers (tests/test_app.py checks each one is answered).
EXAMPLES = [
    "How do TO B operators grow?",
    "What do operators compete on after 30?",
    "运营的核心是什么?",
    "小丽的工资为什么一直涨不上去?",
    "運營應該優先解決什麼問題?",
]
UI = {
    "en": {
        "title": "Ops knowledge base", "caption": "{articles} articles, {passages} passages. Ask in English or "
        "Chinese; answers quote articles in any language.", "question": "Question", "ask": "Ask",
        "examples": "Try:", "filters": "Filters", "languages": "Languages", "sites": "Sites",
        "sources": "Sources", "nearest": "Nearest excerpts (not an answer)", "context": "Read in context",
        "question_empty": "Type a question first.",
        "tab_ask": "Ask", "tab_library": "Library", "tab_overview": "Overview",
        "add_url": "Add an article by URL", "add_url_button": "Add URL", "upload": "Or upload files (.txt, .md, .html)",
        "add_files": "Add files", "no_files": "Choose one or more files first.",
        "url_empty": "Type a web address first.",
        "not_url": "“{url}” is not a web address: give one that starts with http:// or https://.",
        "added": "Added: {title}", "updated": "Updated: {title} (it replaces what the same file or page gave before)", "unchanged": "Already in the knowledge base: {title}",
        "duplicate": "A copy of an article already here: {title}",
        "remove": "Remove", "removed": "Removed: {title}", "already_removed": "Already removed: {title}",
        "remove_failed": "Could not remove {title}: {error}", "building": "Building the knowledge base from the "
        "sample corpus…", "building_step": "Added {n} of {total}: {name}", "by_language": "By language",
        "by_site": "By site", "files": "Files and uploads", "articles": "articles", "passages": "passages", "n_passages": "{n} passages",
        "n_passage": "{n} passage", "replace_uploads": "Replace what an earlier upload of the same file name gave",
        "confirm_remove": "Remove “{title}” from the knowledge base", "no_match": "No articles match the filters.",
        "filtered": "Searched only in: {chosen} (Filters)",
        "url_space": "“{url}” has a space in it: a web address has none.",
        "history": "Earlier questions", "history_pick": "Ask one again",
        "empty": "The knowledge base is empty: add articles in the Library tab.",
        "not_found": "Nothing in the knowledge base answers this question well. The nearest excerpts are below.",
        "choose": "Choose", "context_more": "… (the article goes on)",
        "failed_as": "Could not add {source}: {reason} ({detail})", "remove_busy": "Could not remove {title}: {reason} ({detail})",
        "err_unsupported": "not a text, Markdown or HTML file", "err_empty": "no article text in it",
        "err_refused": "this address is refused",
        "err_fetch": "the page could not be fetched", "err_read": "it could not be read",
        "err_busy": "another program is writing to the knowledge base; try again in a moment",
        "err_base": "the knowledge base refused it",
        "not_stored": "{n} sentence(s) of it are not in the stored copy and are not stored: “{first}”",
    },
    "zh": {
        "title": "运营知识库", "caption": "共 {articles} 篇文章、{passages} 个段落。可以用中文或英文提问，"
        "答案会引用任何语言的文章。", "question": "问题", "ask": "提问", "examples": "试试：", "filters": "筛选",
        "languages": "语言", "sites": "网站", "sources": "来源", "nearest": "最接近的摘录（不是答案）", "context": "查看上下文",
        "question_empty": "请先输入问题。",
        "tab_ask": "提问", "tab_library": "文章库", "tab_overview": "概览",
        "add_url": "通过网址添加文章", "add_url_button": "添加网址", "upload": "或上传文件（.txt、.md、.html）",
        "add_files": "添加文件", "no_files": "请先选择文件。", "url_empty": "请先输入网址。",
        "not_url": "“{url}”不是网址：请输入以 http:// 或 https:// 开头的网址。", "added": "已添加：{title}", "updated": "已更新：{title}（替换同一文件或网页之前的版本）", "unchanged": "已在知识库中：{title}",
        "duplicate": "与已有文章重复：{title}", "remove": "删除",
        "removed": "已删除：{title}", "already_removed": "已经删除：{title}", "remove_failed": "无法删除 {title}：{error}", "building": "正在用示例文章建立知识库……", "building_step": "已添加 {n}/{total}：{name}",
        "by_language": "按语言", "by_site": "按网站", "files": "文件和上传", "articles": "文章", "passages": "段落", "n_passages": "{n} 个段落",
        "n_passage": "{n} 个段落", "replace_uploads": "替换之前以同一文件名上传的内容",
        "confirm_remove": "从知识库删除“{title}”", "no_match": "没有符合筛选条件的文章。",
        "filtered": "只在这些范围中搜索：{chosen}（筛选）",
        "url_space": "“{url}”中有空格：网址里不能有空格。",
        "history": "之前的问题", "history_pick": "再问一次",
        "empty": "知识库是空的：请在“文章库”中添加文章。",
        "not_found": "知识库里没有能很好回答这个问题的内容。下面是最接近的摘录。",
        "choose": "请选择", "context_more": "……（文章未完）",
        "failed_as": "无法添加 {source}：{reason}（{detail}）", "remove_busy": "无法删除 {title}：{reason}（{detail}）",
        "err_unsupported": "不是文本、Markdown 或 HTML 文件", "err_empty": "里面没有文章正文",
        "err_refused": "不会抓取这个网址",
        "err_fetch": "无法抓取这个网页", "err_read": "无法读取",
        "err_busy": "另一个程序正在写入知识库，请稍后再试",
        "err_base": "知识库无法添加它",
        "not_stored": "其中有 {n} 句已有文章里没有，没有存入：“{first}”",
    },
}
LANGUAGE_NAMES = {"en": "English", "zh-Hans": "简体中文", "zh-Hant": "繁體中文"}
#: ... as the Chinese interface names them.
LANGUAGE_NAMES_ZH = {**LANGUAGE_NAMES, "en": "英文"}
# Characters that markdown, Streamlit's directives (:red[...]) and maths ($...$) give meaning
# to. Every one is escaped in document text before it reaches st.markdown.
#: The Library's URL box takes web addresses only: ``KnowledgeBase.add`` also reads files, and
#: whoever reaches the app must not make it read the server's disk into answers.
WEB_ADDRESS = re.compile(r"^https?://\S+$", re.IGNORECASE)
#: ... and an address typed without its scheme ("www.woshipm.com/…", "mp.weixin.qq.com/s/…") is
#: taken as https://, as browsers do (a review was refused); not a file name ("notes.txt").
BARE_ADDRESS = re.compile(r"^(?:www\.[\w-]+(?:\.[\w-]+)+(?:[/?#]\S*)?|[\w-]+(?:\.[\w-]+)+[/?#]\S*)$", re.IGNORECASE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:=&])")


def escape(text: str) -> str:
    """Document text as literal markdown: nothing in it can format, link, or run."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def safe_link(source: str | None) -> str | None:
    """Only http(s) URLs become links; ``)`` and spaces are percent-encoded so they cannot end it."""
    if not source or not re.match(r"^https?://[^\s]+$", source, re.IGNORECASE):
        return None
    return source.replace("(", "%28").replace(")", "%29")


def origin(source: str | None, site: str) -> str:
    """Where an article came from, for a caption: the site of a URL, else the file's name."""
    if site != "file" or not source:
        return site
    return source.removeprefix("upload:") if source.startswith("upload:") else Path(source).name


def marked(text: str, question: str, cited: list[tuple[int, int]]) -> str:
    """``text`` escaped, the cited sentences on a blue background and the question's words in bold.

    A background directive marks sentences because markdown bold fails on Chinese: a closing
    ``**`` after 。 and before a character is not a delimiter, so the sentence would show
    asterisks. Bold words are safe: they start and end with a letter or a character.
    """
    terms = []
    for s, e in highlight_spans(text, question):  # touching words are one bold run: "**a****b**" showed its stars
        if terms and s <= terms[-1][1]:
            terms[-1] = (terms[-1][0], max(e, terms[-1][1]))
        else:
            terms.append((s, e))

    def highlighted(start: int, end: int) -> str:
        out, position = [], start
        for s, e in terms:
            if s >= start and e <= end:
                out += [escape(text[position:s]), f"**{escape(text[s:e])}**"]
                position = e
        return "".join(out) + escape(text[position:end])

    def background(start: int, end: int) -> str:
        # A directive ends at a line break (it showed its brackets): mark each line on its own.
        out, position = [], start
        for line in re.finditer(r"[^\n]+", text[start:end]):
            s, e = start + line.start(), start + line.end()
            out += [escape(text[position:s]), f":blue-background[{highlighted(s, e)}]"]
            position = e
        return "".join(out) + escape(text[position:end])

    out, position = [], 0
    for start, end in sorted(cited):
        if start < position or not text[start:end].strip():
            continue
        out += [highlighted(position, start), background(start, end)]
        position = end
    return "".join(out) + highlighted(position, len(text))


def language_name(code: str) -> str:
    names = LANGUAGE_NAMES_ZH if st.session_state.get("ui_lang") == "zh" else LANGUAGE_NAMES
    return names.get(code, code)


def site_name(site: str) -> str:
    """A site as the filters and charts show it; articles from files have the site "file"."""
    return t("files") if site == "file" else site


def t(key: str, **values) -> str:
    """The interface's text ``key`` with ``values`` put in, each escaped: titles, file names,
    addresses and error details are untrusted, and every Streamlit element that shows this
    text reads markdown (an uploaded title ``[prize](https://…)`` became a live link)."""
    return UI[st.session_state.get("ui_lang", "en")][key].format(**{k: escape(str(v)) for k, v in values.items()})


@st.cache_resource(show_spinner=False)
def knowledge_base(path: str) -> KnowledgeBase:
    """One open knowledge base per directory, shared by every session of this server."""
    return KnowledgeBase.open(path)


def build_from_corpus(kb: KnowledgeBase, slot) -> None:
    sources = discover([CORPUS])
    bar = slot.progress(0.0, text=t("building"))
    for n, outcome in enumerate(kb.add_many(sources), 1):  # embeds several articles per model call
        bar.progress(n / len(sources), text=t("building_step", n=n, total=len(sources), name=Path(outcome.source).name))
    save(kb)
    bar.empty()


def ask_tab(kb: KnowledgeBase, articles: list) -> None:
    if not articles:  # examples and "nearest excerpts" of nothing would only puzzle
        st.info(t("empty"))
        return
    st.caption(t("caption", articles=len(articles), passages=sum(a.passages for a in articles)))
    # A form: the question is asked on Enter or the button, not when the box loses focus (a
    # review: text typed, then an earlier question picked, was asked and put in the history).
    with st.form("ask_form", border=False, enter_to_submit=True):
        question = st.text_input(t("question"), key="question").strip()
        pressed = st.form_submit_button(t("ask"), key="ask", type="primary")
    if pressed and not question:
        st.warning(t("question_empty"))
    with st.expander(t("filters")):
        langs = st.multiselect(t("languages"), sorted({a.lang for a in articles}), key="filter_langs",
                               format_func=language_name, placeholder=t("choose"))
        sites = st.multiselect(t("sites"), sorted({a.site for a in articles}), key="filter_sites",
                               format_func=site_name, placeholder=t("choose"))
    history = st.session_state.setdefault("history", [])
    if question:
        if question in history:  # asked again: it moves to the front
            history.remove(question)
        history.insert(0, question)
    earlier = [past for past in history if past != question][:HISTORY_SHOWN]
    if earlier:
        # One closed list above the answer. In the sidebar, a phone kept the sidebar open over
        # the answer after a tap (Streamlit cannot close it); under the answer, a phone scrolled
        # past five sources to reach it (both seen in browser reviews).
        st.selectbox(t("history"), earlier, index=None, key="history_pick", placeholder=t("history_pick"),
                     on_change=ask_again)
    if question:
        show_answer(kb, question, langs or None, sites or None, articles)
    else:
        # Under the question box and only until a question is asked: above it, on a phone,
        # they filled the first screen and pushed the answer below it (a review).
        st.write(t("examples"))
        columns = st.columns(3)
        for n, example in enumerate(EXAMPLES):
            columns[n % 3].button(example, key=f"example-{n}", use_container_width=True,
                                  on_click=set_question, args=(example,))


def asked(kb: KnowledgeBase, question: str, langs, sites, articles: list):
    """``kb.ask``'s answer, kept for the session while the question, the filters and the
    articles stay the same: every click (a tab, the filters) reruns the page, and asked again
    each time (0.1-0.2 s)."""
    key = (question, tuple(langs or ()), tuple(sites or ()), tuple(a.id for a in articles))
    kept = st.session_state.get("last_answer")
    if kept is None or kept[0] != key:
        kept = (key, kb.ask(question, langs=langs, sites=sites))
        st.session_state["last_answer"] = kept
    return kept[1]


def remember_tab(key: str, labels: list[str]) -> None:
    st.session_state["tab_open"] = labels.index(st.session_state[key])


def remember_language() -> None:
    st.query_params["lang"] = st.session_state["ui_lang"]


def set_question(question: str) -> None:
    """Ask ``question`` (a callback: the question box is set before it is drawn)."""
    st.session_state["question"] = question


def ask_again() -> None:
    """Ask the question picked from the earlier ones, and empty the list's choice again."""
    if picked := st.session_state.get("history_pick"):
        set_question(picked)
    st.session_state["history_pick"] = None


#: Overview bar charts: room for the axis, then this much per bar.
CHART_BASE_PX, CHART_ROW_PX = 80, 36
#: Earlier questions listed above the answer, most recent first.
HISTORY_SHOWN = 9


def show_answer(kb: KnowledgeBase, question: str, langs, sites, articles: list) -> None:
    answer = asked(kb, question, langs, sites, articles)
    if not answer.citations and (langs or sites):
        st.info(t("no_match"))
        return
    if langs or sites:  # the closed Filters section does not show them (a review)
        chosen = [language_name(code) for code in langs or ()] + [site_name(site) for site in sites or ()]
        st.caption(t("filtered", chosen=" · ".join(chosen)))
    with st.container(key="answer"):
        if answer.found:
            st.markdown(escape(answer.text))
        else:  # in the interface's language (the library says it in the question's)
            st.info(t("not_found"), icon="ℹ️")
    st.subheader(t("sources") if answer.found else t("nearest"))
    for n, hit in enumerate(answer.citations, 1):
        cited = [(q.start - hit.start, q.end - hit.start) for q in answer.quotes if q.citation == n]
        with st.container(border=True, key=f"source-{n}"):
            link = safe_link(hit.source)
            title = escape(hit.title)
            st.markdown(f"**[{n}]** {f'[{title}]({link})' if link else title}")
            st.caption(f"{escape(origin(hit.source, hit.site))} · {language_name(hit.lang)}")
            st.markdown(marked(hit.text, question, cited))
            # A key of its own per question and passage: the one the last answer left open opened
            # the next answer's first source too (a review, on a phone: 1,300 px pushed down).
            context_key = hashlib.blake2b(f"{question}\0{hit.article_id}\0{hit.start}".encode(), digest_size=8)
            with st.expander(t("context"), key=f"context-{context_key.hexdigest()}"):
                full = kb.article_text(hit.article_id)
                start, end = context_window(full, hit.start, hit.end)
                span = [(hit.start - start + s, hit.start - start + e) for s, e in cited] or \
                    [(hit.start - start, hit.end - start)]
                st.markdown(("… " if start else "") + marked(full[start:end], question, span))
                if end < len(full):
                    st.caption(t("context_more"))


#: "Read in context" shows the passage with about this many characters of the article on
#: each side, to paragraph ends: the whole article put a phone's passage 2,551 px down (a review).
CONTEXT_CHARS = 600


def context_window(text: str, start: int, end: int, chars: int = CONTEXT_CHARS) -> tuple[int, int]:
    """The span of ``text`` to show around ``text[start:end]``: ``chars`` more on each side,
    widened to the next line break, else sentence end, within ``chars`` more (many scraped
    articles are one line: two of the five samples)."""
    low, high = max(start - chars, 0), min(end + chars, len(text))
    if low:
        room = text[max(low - chars, 0):low]
        cut = room.rfind("\n") + 1 or max((m.end() for m in _SENTENCE_END.finditer(room)), default=0)
        low = low - len(room) + cut if cut else low
    if high < len(text):
        room = text[high:high + chars]
        cut = room.find("\n")
        if cut < 0:
            found = _SENTENCE_END.search(room)
            cut = found.end() if found else 0
        high += cut
    while low < start and text[low].isspace():
        low += 1
    return low, high


_SENTENCE_END = re.compile(r"[。！？!?]+[”」』\"')）]*|\.(?=\s)")


def library_tab(kb: KnowledgeBase, articles: list) -> None:
    for level, text in st.session_state.pop("flash", []):  # what the last add or remove did
        getattr(st, level)(text)
    if st.session_state.pop("clear_url", False):  # before the box is drawn, the only time it may be set
        st.session_state["add_url"] = ""
    url = st.text_input(t("add_url"), key="add_url", placeholder="https://").strip()
    url = "https://" + url if BARE_ADDRESS.match(url) else url
    if st.button(t("add_url_button"), key="add_url_button"):
        if not url:
            st.warning(t("url_empty"))
        elif re.match(r"^https?://", url, re.IGNORECASE) and re.search(r"\s", url):
            st.error(t("url_space", url=url))
        elif not WEB_ADDRESS.match(url):
            st.error(t("not_url", url=url))
        else:
            with st.spinner(escape(url)):  # typed text: markdown in it must not format
                st.session_state["clear_url"] = report(lambda: kb.add(url), url)
            st.rerun()  # every tab's counts and lists include the new article
    # A new key per round empties the uploader once its files are added (else every click
    # added them all again).
    round_ = st.session_state.get("upload_round", 0)
    files = st.file_uploader(t("upload"), type=["txt", "md", "markdown", "html", "htm"],
                             accept_multiple_files=True, key=f"upload-{round_}")
    replace = st.checkbox(t("replace_uploads"), value=True, key="replace_uploads")
    if st.button(t("add_files"), key="add_files"):
        if not files:
            st.warning(t("no_files"))
        else:
            bar = st.progress(0.0)
            for n, file in enumerate(files, 1):
                report(lambda: kb.add_upload(file.name, file.getvalue(), replace=replace), file.name)
                bar.progress(n / len(files), text=escape(file.name))
            save(kb)
            st.session_state["upload_round"] = round_ + 1
            st.rerun()
    for article in articles:
        with st.container(border=True, key=f"article-{article.id}"):
            left, right = st.columns([5, 1])
            left.markdown(f"**{escape(article.title)}**")
            count = t("n_passage" if article.passages == 1 else "n_passages", n=article.passages)
            left.caption(f"{escape(origin(article.source, article.site))} · "
                         f"{language_name(article.lang)} · {count} · `{article.id}`")
            # Removing takes a second click in a popover: a double click removed two articles
            # (the next card's button slid under the pointer).
            with right.popover(t("remove")):
                st.button(t("confirm_remove", title=article.title), key=f"remove-{article.id}", type="primary",
                          on_click=remove, args=(kb, article.id, article.title))


def remove(kb: KnowledgeBase, article_id: str, title: str) -> None:
    """Remove one article (a callback: it runs even when another tab removed the article first
    and the button is no longer drawn, and the list drawn next no longer has it)."""
    try:
        kb.remove(article_id)
    except NotFound:
        flash("warning", t("already_removed", title=title))
        return
    except KnowledgeBaseError as exc:  # Busy: another writer (a CLI rebuild) holds the base
        flash("error", t("remove_busy", title=title, reason=t("err_busy"), detail=str(exc)) if isinstance(exc, Busy)
              else t("remove_failed", title=title, error=str(exc)))
        return
    save(kb)
    flash("success", t("removed", title=title))
    st.toast(t("removed", title=title))  # where the reader is: the message above may be screens away


def flash(level: str, text: str) -> None:
    """A message for the Library tab's next run (``level``: success, warning or error)."""
    st.session_state.setdefault("flash", []).append((level, text))


def save(kb: KnowledgeBase) -> None:
    """Write the vector file now if the base is free; if another writer holds it, nothing is
    lost (the store holds every vector; the file is written later or rebuilt on open)."""
    try:
        kb.save()
    except KnowledgeBaseError:
        pass


def _reason(exc: Exception) -> str:
    """The UI key of what went wrong, by the error's kind."""
    for kind, key in ((RefusedURL, "err_refused"), (FetchError, "err_fetch"), (UnsupportedSource, "err_unsupported"),
                      (EmptyArticle, "err_empty"), (IngestError, "err_read"), (Busy, "err_busy")):
        if isinstance(exc, kind):
            return key
    return "err_base"


def report(add, source: str) -> bool:
    """Run one add of ``source`` and keep what happened for the next run, naming the input on
    failure; True if it worked."""
    try:
        result = add()
    except IngestError as exc:  # the library's words after the reason in the interface's language
        flash("error", t("failed_as", source=exc.source, reason=t(_reason(exc)), detail=exc.problem))
        return False
    except KnowledgeBaseError as exc:
        flash("error", t("failed_as", source=source, reason=t(_reason(exc)), detail=str(exc)))
        return False
    flash("success", t(result.status, title=result.article.title))
    if result.not_stored:  # a copy with sentences of its own: they are not searchable
        flash("warning", t("not_stored", n=len(result.not_stored), first=result.not_stored[0]))
    return True


def overview_tab(articles: list) -> None:
    rows = [{"language": language_name(a.lang), "site": site_name(a.site), "articles": 1, "passages": a.passages}
            for a in articles]
    if not rows:
        st.info(t("empty"))
        return
    frame = pd.DataFrame(rows)
    for column, label, axis in (("language", t("by_language"), t("languages")), ("site", t("by_site"), t("sites"))):
        st.subheader(label)
        counts = frame.groupby(column)[["articles", "passages"]].sum()
        counts.index.name = axis  # the charts' tooltips name the axes: in English only, before
        # One chart per count: on one axis, 5 articles were invisible beside 300 passages.
        for place, count in zip(st.columns(2), ("articles", "passages")):
            place.caption(t(count))
            # Streamlit's default height left each bar a few pixels: give every bar a row.
            place.bar_chart(counts[count].rename(t(count)), horizontal=True,
                            height=CHART_BASE_PX + CHART_ROW_PX * len(counts))


def main() -> None:
    st.set_page_config(page_title="Ops knowledge base · 运营知识库", page_icon="📚", layout="wide")
    if "ui_lang" not in st.session_state:  # a reload keeps the interface's language (in the address)
        # else the browser's: on a phone, the switch is behind the sidebar's button (a review)
        wanted = st.query_params.get("lang") or ("zh" if (st.context.locale or "").lower().startswith("zh") else "en")
        st.session_state["ui_lang"] = "zh" if wanted == "zh" else "en"
    with st.sidebar:
        st.radio("Interface · 界面", ["en", "zh"], key="ui_lang", horizontal=True, on_change=remember_language,
                 format_func=lambda code: {"en": "English", "zh": "中文"}[code])
    st.title(t("title"))
    kb = knowledge_base(os.environ.get("KB_DIR") or "kb")
    # One listing per run, shared by the tabs (the library tab lists again after an add).
    articles = kb.articles()
    # The build's progress bar goes in a slot drawn on every run: drawn only on the first, it
    # moved the tabs, which then opened on Ask at the user's next click (a review).
    slot = st.empty()
    if not articles and kb.is_new:  # a base its user emptied stays empty (the corpus came back)
        build_from_corpus(kb, slot)
        articles = kb.articles()
    # Tabs of one language are one widget; the open one is remembered by position, so that the
    # other language's tabs open on it (a switch of language went back to Ask, a review).
    labels = [t("tab_ask"), t("tab_library"), t("tab_overview")]
    key = f"tabs-{st.session_state['ui_lang']}"
    ask, library, overview = st.tabs(labels, key=key, default=labels[st.session_state.get("tab_open", 0)],
                                     on_change=remember_tab, args=(key, labels))
    with ask:
        ask_tab(kb, articles)
    with library:
        library_tab(kb, articles)
    with overview:
        overview_tab(articles)


main()
