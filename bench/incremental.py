"""Adding one article to a big knowledge base costs about what it costs on an empty one.

    python bench/incremental.py [--sizes 0,10000,120000] [--repeats 3]

For each size, a knowledge base is filled with that many passages (synthetic articles of 20
passages with random unit vectors and real-looking terms, written straight into the store:
embedding 100k passages would take 20 minutes and changes nothing here), opened once so its
vector file exists, then timed while it takes one real article (a seed, re-embedded each
time) through the public API: ``open``, ``add``, ``close`` (which writes the vector file).
Prints JSON lines and a table; ``add_s`` includes embedding, which does not depend on size.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ingest  # noqa: E402
from index import KnowledgeBase  # noqa: E402
from index import lexical  # noqa: E402
from index.encoders import encoder_for  # noqa: E402
from index.store import Store  # noqa: E402
from ingest import Article, Passage, fingerprint  # noqa: E402

PASSAGES_PER_ARTICLE = 20
WORDS = ("user growth retention community event campaign content creator funnel activation "
         "用户 增长 留存 社群 活动 内容 转化 复盘 私域 拉新 運營 社群 會員").split()


def fill(path: Path, passages: int, encoder_id: str, dim: int, seed: int = 0) -> None:
    """Write ``passages`` synthetic passages into a new store at ``path``."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    store = Store(path / "store.sqlite")
    store.set_meta("encoder", encoder_id)
    for a in range(passages // PASSAGES_PER_ARTICLE):
        lang = "en" if a % 3 else "zh-Hans"
        sentences = [" ".join(rng.choice(WORDS, 12)) + f" {a}-{i}." for i in range(PASSAGES_PER_ARTICLE)]
        text = "\n".join(sentences)
        article = Article(text=text, title=f"synthetic {a}", lang=lang, source=f"synthetic://{a}")
        spans, start = [], 0
        for i, sentence in enumerate(sentences):
            spans.append(Passage(article.id, i, sentence, start, start + len(sentence), lang))
            start += len(sentence) + 1
        vectors = rng.standard_normal((len(spans), dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.insert(article, spans, vectors, [lexical.terms(p.text) for p in spans], fingerprint.minhash(text))
    store.close()


def _link_or_copy(src: str, dst: str) -> None:
    if ".faiss" in src:
        os.link(src, dst)
    else:
        shutil.copy2(src, dst)


def measure(size: int, repeats: int, article_source: Path, workdir: Path) -> dict:
    encoder = encoder_for(None)
    base = workdir / f"base-{size}"
    started = time.perf_counter()
    fill(base, size, encoder.id, encoder.dim)
    with KnowledgeBase.open(base, model=encoder) as kb:  # derive and save the vector file once
        kb.search("warm up", 1)
    fill_s = time.perf_counter() - started
    encoder.encode_passages(["warm up"])
    ingest.load(article_source)  # warm-up: language profiles, dictionaries
    rows = []
    for _ in range(repeats):
        copy = workdir / f"copy-{size}"
        shutil.rmtree(copy, ignore_errors=True)
        # The vector file is hard-linked, so its stamp (inode, mtime) still matches as it would
        # in the user's own base; it is only ever replaced, never written in place.
        shutil.copytree(base, copy, copy_function=_link_or_copy)
        t0 = time.perf_counter()
        kb = KnowledgeBase.open(copy, model=encoder)
        t1 = time.perf_counter()
        added = kb.add(article_source)
        t2 = time.perf_counter()
        kb.close()
        t3 = time.perf_counter()
        assert added.status == "added", added
        rows.append((t1 - t0, t2 - t1, t3 - t2))
    open_s, add_s, close_s = np.median(np.array(rows), axis=0)
    return {"bench": "incremental", "passages": size, "fill_s": round(fill_s, 1), "open_s": round(float(open_s), 3),
            "add_s": round(float(add_s), 3), "close_s": round(float(close_s), 3),
            "total_s": round(float(open_s + add_s + close_s), 3), "article_passages": added.article.passages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 120,000 rather than 100,000: a base of exactly 100k passages crosses the exact/IVF
    # threshold (index/vectors.py) on its next add, which trains the IVF index once (3 s).
    parser.add_argument("--sizes", default="0,10000,120000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    article = sorted((ROOT / "corpus").glob("*.txt"))[0]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            row = measure(size, args.repeats, article, Path(tmp))
            print(json.dumps(row), flush=True)
            results.append(row)
    print(f"\nOne article ({results[0]['article_passages']} passages, {article.name}) added to a base of N passages "
          f"(median of {args.repeats}; add includes embedding)")
    print(f"  {'N':>9} {'open s':>7} {'add s':>7} {'close s':>8} {'total s':>8}")
    for r in results:
        print(f"  {r['passages']:>9,} {r['open_s']:>7.3f} {r['add_s']:>7.3f} {r['close_s']:>8.3f} {r['total_s']:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
