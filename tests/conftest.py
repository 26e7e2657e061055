from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index import KnowledgeBase

from .fakes import HashEncoder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEEDS = {p.name[:3]: p for p in sorted(CORPUS.glob("*.txt"))}


@pytest.fixture
def fake_kb(tmp_path):
    """An empty knowledge base with the hashing encoder (fast; for bookkeeping tests)."""
    kb = KnowledgeBase.open(tmp_path / "kb", model=HashEncoder())
    yield kb
    kb.close()


@pytest.fixture
def article_files(tmp_path):
    """A writer of ``n`` small numbered article files: ``article_files(n, template, folder)``
    writes ``template.format(i=i)`` to ``folder/00.txt``, ``01.txt``... (``folder`` defaults
    to ``tmp_path``) and returns their paths in order."""

    def write(n: int, template: str, folder: Path | None = None) -> list[str]:
        folder = folder or tmp_path
        folder.mkdir(exist_ok=True)
        paths = []
        for i in range(n):
            path = folder / f"{i:02d}.txt"
            path.write_text(template.format(i=i), encoding="utf-8")
            paths.append(str(path))
        return paths

    return write


@pytest.fixture(scope="session")
def seeds_kb_dir(tmp_path_factory) -> Path:
    """A knowledge base of the five seeds, built once with the real bundled model."""
    path = tmp_path_factory.mktemp("seeds") / "kb"
    with KnowledgeBase.open(path) as kb:
        for source in sorted(CORPUS.glob("*.txt")):
            kb.add(source)
    return path


@pytest.fixture(scope="session")
def seeds_kb(seeds_kb_dir):
    """The seeds' knowledge base, opened once; tests must not change it."""
    kb = KnowledgeBase.open(seeds_kb_dir)
    yield kb
    kb.close()


@pytest.fixture
def seeds_kb_copy(seeds_kb_dir, tmp_path) -> Path:
    """A private copy of the seeds' knowledge base directory, for tests that change it."""
    target = tmp_path / "kb"
    shutil.copytree(seeds_kb_dir, target)
    return target
