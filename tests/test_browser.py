"""The app in a real browser: Debian's chromium driven by Playwright, against a real server."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAYLOAD = ('Event operations checklist. <script>window.pwned=1</script> <img src=x onerror="window.pwned=2"> '
           '[click me](javascript:window.pwned=3) :red[RED] $x^2$ **bold** <iframe srcdoc="<script>parent.pwned=4</script>">'
           '</iframe> Event operations need a checklist for speakers, rooms and follow-up emails.')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(kb_dir: Path):
    """The app served on a free port for the base in ``kb_dir``; yields its address."""
    port = free_port()
    env = dict(os.environ, KB_DIR=str(kb_dir))
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
         "--server.fileWatcherType=none"], env=env, cwd=ROOT, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def server(seeds_kb_copy):
    with serving(seeds_kb_copy) as url:
        yield url


class App:
    """A page plus a count of finished script runs (from Streamlit's websocket)."""

    def __init__(self, page) -> None:
        self.page = page
        self.finished = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        if not isinstance(payload, (bytes, bytearray)):
            return
        message = ForwardMsg()
        try:
            message.ParseFromString(bytes(payload))
        except Exception:  # noqa: BLE001 - not a ForwardMsg
            return
        if message.WhichOneof("type") == "script_finished":
            self.finished += 1

    def settle(self, before: int, timeout: float = 90) -> None:
        """Wait for a rerun that started after ``before`` finished runs to finish."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.finished > before and self.page.locator("[data-stale='true']").count() == 0:
                self.page.wait_for_timeout(300)
                return
            self.page.wait_for_timeout(100)
        raise AssertionError("the app did not finish its rerun")

    def open_tab(self, name: str) -> None:
        """Open a tab (a rerun: the app remembers the open tab)."""
        before = self.finished
        self.page.get_by_role("tab", name=name).click()
        self.settle(before)

    def ask(self, question: str) -> None:
        before = self.finished
        box = self.page.locator(".st-key-question input")
        box.fill(question)
        box.press("Enter")
        self.settle(before)


@pytest.fixture
def app(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        app = App(page)
        page.goto(server)
        page.locator(".st-key-question input").wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        yield app
        browser.close()


def screenshot(page, path: Path) -> None:
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1300, "height": min(max(height, 1000), 6000)})
    page.screenshot(path=str(path), full_page=True)


def test_english_question_gets_a_cited_chinese_excerpt(app, tmp_path):
    app.ask("What is the core of operations: profit or serving users?")
    sources = app.page.locator("[class*='st-key-source-']")
    assert sources.count() >= 1
    text = "\n".join(sources.all_inner_texts())
    assert "[1]" in text and "简体中文" in text  # a source card for a simplified Chinese excerpt
    shot = tmp_path / "answer.png"
    screenshot(app.page, shot)
    if os.environ.get("KB_UPDATE_SCREENSHOT"):
        shutil.copy(shot, ROOT / "docs" / "screenshot.png")
    answer = app.page.locator(".st-key-answer").inner_text()
    assert "[1]" in answer and re.search(r"[\u4e00-\u9fff]{8}", answer)  # a cited Chinese sentence
    assert shot.stat().st_size > 10_000


def test_upload_then_find_and_payloads_stay_inert(app, tmp_path):
    page = app.page
    app.open_tab("Library")
    upload = tmp_path / "event-checklist.txt"  # plain text keeps the payload as typed
    upload.write_text("Event checklist <b>bold</b>\n\n" + PAYLOAD, encoding="utf-8")
    page.locator(".st-key-upload-0 input[type=file]").set_input_files(str(upload))
    page.wait_for_timeout(1000)
    before = app.finished
    page.locator(".st-key-add_files button").click()
    app.settle(before)
    assert "Added: Event checklist" in page.inner_text("body")
    app.open_tab("Ask")
    app.ask("event operations checklist speakers rooms")
    sources = "\n".join(page.locator("[class*='st-key-source-']").all_inner_texts())
    assert "follow-up emails" in sources
    assert "<script>window.pwned=1</script>" in sources and ":red[RED]" in sources and "**bold**" in sources
    assert page.evaluate("window.pwned === undefined")
    assert page.locator("[class*='st-key-source-'] script, [class*='st-key-source-'] iframe, "
                        "[class*='st-key-source-'] img[src=x]").count() == 0
    assert page.locator("[class*='st-key-source-'] a[href^='javascript']").count() == 0


def test_a_context_left_open_does_not_open_under_the_next_answer(app):
    app.ask("How do TO B operators grow?")
    app.page.get_by_text("Read in context").first.click()
    app.page.wait_for_timeout(500)
    assert app.page.locator("[class*='st-key-source-'] details[open]").count() == 1
    app.ask("What do operators compete on after 30?")
    assert app.page.locator("[class*='st-key-source-'] details[open]").count() == 0  # it was 1 (a review)


def test_on_a_phone_an_earlier_question_is_asked_again_with_its_answer_on_the_first_screen(app):
    page = app.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.locator(".st-key-question input").wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    first = "What do operators compete on after 30? **bold** [prize](https://evil.example)"
    app.ask(first)
    app.ask("How do TO B operators grow?")
    page.locator(".st-key-question input").fill("typed but never asked")  # no Enter
    page.locator(".st-key-history_pick").click()
    before = app.finished
    page.get_by_role("option", name=first).click()
    app.settle(before)
    assert page.locator(".st-key-question input").input_value() == first
    page.locator(".st-key-history_pick").click()  # the typed text was asked on blur, and listed (a review)
    assert page.get_by_role("option").all_inner_texts() == ["How do TO B operators grow?"]
    page.keyboard.press("Escape")
    # The answer starts on the first screen and nothing lies over it (the sidebar did, a review).
    assert page.locator(".st-key-answer").bounding_box()["y"] < 844
    assert page.get_by_test_id("stSidebar").get_attribute("data-collapsed") == "true"
    assert page.locator("a[href*='evil.example']").count() == 0  # a question is text, not markdown


def test_the_open_tab_stays_after_the_first_build_and_a_language_switch(tmp_path):
    with serving(tmp_path / "new-kb") as url, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        app = App(page)
        page.goto(url)  # this first run builds the base from the corpus, under a progress bar
        page.locator(".st-key-question input").wait_for(timeout=120_000)
        page.wait_for_timeout(500)
        app.open_tab("Library")
        before = app.finished
        (tmp_path / "notes.txt").write_text("Webinar notes\n\n" + "Registrations need reminders. " * 20, encoding="utf-8")
        page.locator(".st-key-upload-0 input[type=file]").set_input_files(str(tmp_path / "notes.txt"))
        app.settle(before)
        selected = page.get_by_role("tab", selected=True)
        assert selected.inner_text() == "Library"  # it jumped to Ask (a review)
        before = app.finished
        page.get_by_test_id("stSidebar").get_by_text("中文").click()
        app.settle(before)
        assert page.get_by_role("tab", selected=True).inner_text() == "文章库"
        browser.close()


def test_a_chinese_browser_gets_the_chinese_interface_unless_the_address_says_otherwise(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for address, title in (("", "运营知识库"), ("/?lang=en", "Ops knowledge base")):
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            page.goto(server + address)
            page.locator(".st-key-question input").wait_for(timeout=60_000)
            assert page.locator("h1").first.inner_text() == title
            page.close()
        browser.close()
