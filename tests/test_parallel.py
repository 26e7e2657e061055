"""Loading many sources in worker processes (ingest/parallel.py): order, errors, early stop."""
from __future__ import annotations

import subprocess
import sys

import pytest

from ingest import EmptyArticle, IngestError, UnsupportedSource, parallel
from ingest.article import Article

from .conftest import ROOT


#: One short bilingual article per number; the Chinese sentence comes first, so the test can read the number back.
ARTICLE = "第{i}篇。社群运营要先想清楚用户为什么留下来。\n\nArticle {i} explains retention for ops teams."


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_in_the_order_given_and_bad_sources_do_not_stop_the_rest(tmp_path, monkeypatch, article_files, workers):
    monkeypatch.setattr(parallel, "MIN_SOURCES_FOR_WORKERS", 2)
    sources = article_files(7, ARTICLE)
    (tmp_path / "empty.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "slides.pdf").write_bytes(b"%PDF-1.4")
    sources[2:2] = [str(tmp_path / "empty.txt"), str(tmp_path / "slides.pdf"), str(tmp_path / "missing.txt")]
    results = list(parallel.load_many(sources, workers=workers))
    assert [source for source, _ in results] == sources
    errors = {source: value for source, value in results if not isinstance(value, Article)}
    assert set(errors) == set(sources[2:5])
    assert isinstance(errors[sources[2]], EmptyArticle) and isinstance(errors[sources[3]], UnsupportedSource)
    assert all(isinstance(e, IngestError) and source in str(e) for source, e in errors.items())
    articles = [value for _, value in results if isinstance(value, Article)]
    assert [a.text.split("。")[0] for a in articles] == [f"第{i}篇" for i in range(7)]


def test_a_consumer_that_stops_early_gets_the_first_results_in_order_and_can_close(monkeypatch, article_files):
    monkeypatch.setattr(parallel, "MIN_SOURCES_FOR_WORKERS", 2)
    sources = article_files(20, ARTICLE)
    loading = parallel.load_many(sources, workers=2)
    first = [next(loading) for _ in range(3)]
    loading.close()  # what an interrupted ingest does (that pending loads are cancelled is not checked here)
    assert [s for s, _ in first] == sources[:3] and all(isinstance(a, Article) for _, a in first)


def test_small_batches_are_cleaned_in_this_process(monkeypatch, article_files):
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", None)  # a pool would fail here
    results = list(parallel.load_many(article_files(3, ARTICLE), workers=4))
    assert len(results) == 3 and all(isinstance(a, Article) for _, a in results)


def test_workers_do_not_run_the_callers_script_again(tmp_path, article_files):
    # A script with no `if __name__ == "__main__"` guard, as users write them (and as Streamlit
    # runs app.py as __main__). "spawn" would run it again in every worker.
    sources = article_files(4, ARTICLE)
    runs = tmp_path / "runs.txt"
    script = tmp_path / "script.py"
    script.write_text(
        "import sys\n"
        f"open({str(runs)!r}, 'a').write('run\\n')\n"
        "from ingest import parallel\n"
        "parallel.MIN_SOURCES_FOR_WORKERS = 2\n"
        f"results = list(parallel.load_many({sources!r}, workers=2))\n"
        "print(sum(type(a).__name__ == 'Article' for _, a in results))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["4"]
    assert runs.read_text().splitlines() == ["run"]  # the script ran once, in the parent only
