"""Cleaning benchmark: how much article text survives and how much chrome is left.

    python bench/cleaning.py [--before OLD_CLEAN_PY] [--limit N]

1. The article-extraction-benchmark (``../shared/data/article-extraction-benchmark``: 181
   English-language pages with ground truth) scored with that benchmark's own metric: 4-word
   shingles, precision and recall averaged over pages (``evaluate.py`` of the benchmark),
   for trafilatura alone (``trafilatura.extract``, as its ``run_trafilatura.py`` calls it) and
   for our ``extract_html``.
2. The hand-written fixtures in ``tests/fixtures/cleaning`` (HTML pages and whole-page text
   dumps in English, simplified and traditional Chinese): bag-of-tokens F1 against the
   ``*.body.txt`` beside each, where a token is a Han character or a word. Columns: ours,
   the input as trafilatura leaves it (HTML) or as it is (text), and, with ``--before``, an
   older ``clean.py`` run in place of ours.
3. Speed: articles per second for ``extract_html`` on the benchmark pages and for
   ``clean_text`` on the fixtures' text; and milliseconds for ``clean_text`` on lines built to
   make a regular expression backtrack (dates and bylines repeated; a byline pattern once took
   seconds on 300 such characters).

Prints a table, then one JSON line per figure.
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import EmptyArticle, clean_text, extract_html  # noqa: E402
from ingest.decode import decode  # noqa: E402

AEB = ROOT.parent / "shared" / "data" / "article-extraction-benchmark"
FIXTURES = ROOT / "tests" / "fixtures" / "cleaning"

# --- the article-extraction-benchmark's metric (its evaluate.py, reimplemented) -----------

_WORD = re.compile(r"\w+")
SHINGLE = 4


def _shingles(text: str) -> Counter:
    tokens = _WORD.findall(text or "")
    return Counter(tuple(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1))
                   if tokens[i:i + SHINGLE])


def shingle_tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    """Shingle counts, normalised per page so that long pages do not weigh more."""
    t, p = _shingles(true), _shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def aeb_scores(rows: list[tuple[float, float, float]]) -> dict[str, float]:
    """Mean per-page precision and recall, and F1 of the two means (the benchmark's definition)."""
    def precision(tp, fp, fn):
        return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)

    def recall(tp, fp, fn):
        return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)

    p = statistics.mean(precision(*r) for r in rows if r[0] + r[1] > 0)
    r = statistics.mean(recall(*r) for r in rows if r[0] + r[2] > 0)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r)}


# --- token F1 for the fixtures ------------------------------------------------------------

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\d_\u3400-\u9fff]+|\d+")


def tokens(text: str) -> Counter:
    """Han characters one by one, other words whole, lower-cased."""
    return Counter(t.lower() for t in _TOKEN.findall(text or ""))


def token_prf(true: str, pred: str) -> tuple[float, float, float]:
    t, p = tokens(true), tokens(pred)
    tp = sum((t & p).values())
    precision = tp / sum(p.values()) if p else 0.0
    recall = tp / sum(t.values()) if t else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# --- extractors ---------------------------------------------------------------------------

def ours_html(data: bytes, url: str | None = None) -> str:
    try:
        return extract_html(data, url=url).text
    except EmptyArticle:
        return ""


def trafilatura_alone(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False) or ""


def load_before(path: Path):
    """An older clean.py, standalone, as ``(text) -> cleaned text``; None if not there."""
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("clean_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module.clean_text


def before_html(data: bytes, old_clean) -> str:
    """The earlier pipeline: decode, trafilatura.bare_extraction, the old cleaner, title cut."""
    import trafilatura

    doc = trafilatura.bare_extraction(decode(data), with_metadata=True, include_comments=False,
                                      include_tables=True)
    if doc is None or not doc.text:
        return ""
    text = old_clean(doc.text)
    return text[len(doc.title):].strip() if doc.title and text.startswith(doc.title) else text


def lang_of(name: str) -> str:
    return {"en": "en", "zh_hans": "zh-Hans", "zh_hant": "zh-Hant"}[name.split("_")[0] if name.startswith("en") else "_".join(name.split("_")[:2])]


# --- runs ---------------------------------------------------------------------------------

def run_aeb(limit: int | None) -> tuple[dict, dict, float]:
    truth = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[:limit]
    traf_rows, our_rows, seconds = [], [], 0.0
    for key in keys:
        data = gzip.decompress((AEB / "html" / f"{key}.html.gz").read_bytes())
        body = truth[key].get("articleBody", "")
        traf_rows.append(shingle_tp_fp_fn(body, trafilatura_alone(data.decode("utf-8"))))
        start = time.perf_counter()
        ours = ours_html(data, url=truth[key].get("url"))
        seconds += time.perf_counter() - start
        our_rows.append(shingle_tp_fp_fn(body, ours))
    return aeb_scores(traf_rows), aeb_scores(our_rows), len(keys) / seconds


def run_fixtures(old_clean) -> tuple[list[dict], float]:
    results, texts = [], []
    for page in sorted(p for p in FIXTURES.iterdir() if p.suffix in (".html", ".txt") and not p.name.endswith(".body.txt")):
        truth = page.with_name(page.stem + ".body.txt").read_text(encoding="utf-8")
        data = page.read_bytes()
        row = {"fixture": page.name, "lang": lang_of(page.stem), "kind": "html" if page.suffix == ".html" else "text"}
        if row["kind"] == "html":
            row["ours"] = token_prf(truth, ours_html(data))
            row["baseline"] = token_prf(truth, trafilatura_alone(decode(data)))
            row["before"] = token_prf(truth, before_html(data, old_clean)) if old_clean else None
        else:
            text = data.decode("utf-8")
            texts.append(text)
            row["ours"] = token_prf(truth, clean_text(text))
            row["baseline"] = token_prf(truth, text)
            row["before"] = token_prf(truth, old_clean(text)) if old_clean else None
        results.append(row)
    start = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        for text in texts:
            clean_text(text + " ")  # defeat any caching of the exact string
    rate = rounds * len(texts) / (time.perf_counter() - start)
    return results, rate


#: Lines of repeated byline fields, the shapes that made BYLINE_RUN backtrack.
ADVERSARIAL_LINES = {
    "40 dates joined by ' | '": " | ".join(["2024-03-01"] * 40) + " end",
    "40 bylines": "作者:小王 | 2024-03-01 | 阅读 1234 " * 40 + "end",
    "4,000 dates with 年月日": "2024年1月1日 | " * 4000 + "x",
    "8,000 author fields": "作者:小王|" * 8000 + "正文结束。",
    "3,000 dates with times": "2024年01月01日 08:32 " * 3000 + "x",
}


def run_adversarial() -> list[dict]:
    rows = []
    for name, line in ADVERSARIAL_LINES.items():
        started = time.perf_counter()
        clean_text("标题\n\n" + line + "\n\n正文第一段,讲用户增长。")
        rows.append({"bench": "adversarial_line", "line": name, "chars": len(line),
                     "clean_text_ms": round((time.perf_counter() - started) * 1000, 1)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, default=Path("/tmp/clean_before.py"),
                        help="an older ingest/clean.py to compare with (skipped if missing)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N benchmark pages")
    args = parser.parse_args()
    old_clean = load_before(args.before)

    traf, ours, pages_per_s = run_aeb(args.limit)
    fixtures, clean_rate = run_fixtures(old_clean)
    lines = []
    print("article-extraction-benchmark (shingle P / R / F1, its own metric)")
    for name, s in (("trafilatura alone", traf), ("ours: extract_html", ours)):
        print(f"  {name:<22} P {s['precision']:.3f}  R {s['recall']:.3f}  F1 {s['f1']:.3f}")
        lines.append({"bench": "article-extraction-benchmark", "system": name, **{k: round(v, 4) for k, v in s.items()}})
    print("\nfixtures (token F1; baseline = trafilatura for HTML, the raw text for dumps)")
    print(f"  {'fixture':<28}{'lang':<9}{'kind':<6}{'ours':>7}{'base':>7}{'before':>8}   ours P/R")
    for row in fixtures:
        before = f"{row['before'][2]:.3f}" if row["before"] else "   -"
        print(f"  {row['fixture']:<28}{row['lang']:<9}{row['kind']:<6}{row['ours'][2]:>7.3f}{row['baseline'][2]:>7.3f}"
              f"{before:>8}   {row['ours'][0]:.3f}/{row['ours'][1]:.3f}")
        lines.append({"bench": "fixtures", **{k: (list(map(lambda x: round(x, 4), v)) if isinstance(v, tuple) else v)
                                              for k, v in row.items()}})
    print("\nmean token F1 by language and kind")
    for lang in ("en", "zh-Hans", "zh-Hant"):
        for kind in ("html", "text"):
            rows = [r for r in fixtures if r["lang"] == lang and r["kind"] == kind]
            if not rows:
                continue
            means = {c: statistics.mean(r[c][2] for r in rows) for c in ("ours", "baseline") }
            if old_clean:
                means["before"] = statistics.mean(r["before"][2] for r in rows)
            print(f"  {lang:<9}{kind:<6}" + "  ".join(f"{c} {v:.3f}" for c, v in means.items()))
            lines.append({"bench": "fixtures-mean", "lang": lang, "kind": kind, **{c: round(v, 4) for c, v in means.items()}})
    print(f"\nspeed: extract_html {pages_per_s:.1f} pages/s; clean_text {clean_rate:.0f} text dumps/s (one core)")
    lines.append({"bench": "speed", "extract_html_pages_per_s": round(pages_per_s, 1), "clean_text_docs_per_s": round(clean_rate)})
    print("\nclean_text on lines built to backtrack")
    for row in run_adversarial():
        print(f"  {row['line']:<28}{row['chars']:>8,} characters {row['clean_text_ms']:>8.1f} ms")
        lines.append(row)
    print()
    for line in lines:
        print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main()
