"""Vector search at scale: latency, recall@10, build time, memory and open time per index type.

    python bench/scale.py [--sizes 10000,100000,1000000] [--real 4000] [--hnsw] [--sweep]
    python bench/scale.py --open-check [--sizes 1000000]   # vector file open check only
    python bench/scale.py --milvus [--sizes 10000,50000] [--real 1000]   # milvus-lite against FAISS

Data (see ``realdata.py``): real passage embeddings of the bundled encoder (language-centred
as the knowledge base indexes them), of which 200 are held out as queries, the rest in the
base; the base is filled up to each size with synthetic vectors drawn along the real ones
(mixtures of real neighbours plus noise).
Queries: the 96 evaluation questions, single sentences, and the held-out passages, all real.
Recall@10 is the share of the exact top 10 (brute force over the same base) that an index
returns. Latency is one query at a time through :class:`index.vectors.VectorIndex` (k=10),
after 5 warm-up queries, on an idle machine and again while other processes keep every core
busy (``_loaded`` figures); memory and open times are measured in a fresh process per file,
so earlier allocations do not blur them.

Besides the rows per size and index type, a *fidelity* row (:func:`fidelity_row`) compares
recall on the real vectors alone with recall on as many synthetic ones: if the synthetic data
were easier, the large-size figures would flatter the index.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import faiss  # noqa: E402

import realdata  # noqa: E402
from index import vectors as vectors_module  # noqa: E402
from index.vectors import APPROXIMATE, EXACT, VectorIndex  # noqa: E402

K = 10
HELD_OUT = 200
WARM_UP = 5
#: Queries timed one by one for the exact index past its size (50 ms each at 1M); all elsewhere.
EXACT_TIMED_MAX = 150
#: Queries timed while other processes keep every core busy (``busy_cores``).
LOADED_QUERIES = 100
#: Upper bound on the life of a busy process, should this one die without killing it.
BUSY_SECONDS_MAX = 120
#: HNSW compared as built by faiss defaults with M=32 (the figure in the models notes) and
#: efSearch=128 (its recall at the default 16 is far below 0.95 on these data).
HNSW_M, HNSW_EF_SEARCH = 32, 128
#: Real vectors needed for the fidelity check to mean anything (at 1,000, 32 IVF lists).
FIDELITY_MIN_REAL = 1000
#: efSearch of HNSW in the fidelity check: low enough that recall is below 1 at 4,000 vectors.
FIDELITY_EF_SEARCH = 16
#: Probe counts tried by ``--sweep``, to show where :data:`index.vectors.PROBES` sits.
SWEEP_PROBES = (64, 128, 256, 512)


def split_real(data: dict) -> tuple[np.ndarray, list[str], dict[str, np.ndarray]]:
    """The real base vectors with their languages, and the query sets."""
    real, langs = data["passages"], data["langs"]
    held = np.random.default_rng(5).choice(len(real), min(HELD_OUT, len(real) // 5), replace=False)
    keep = np.setdiff1d(np.arange(len(real)), held)
    queries = {"questions": data["questions"], "sentences": data["sentences"], "passages": real[held]}
    return real[keep], [langs[i] for i in keep], queries


def make_base(real: np.ndarray, real_langs: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` vectors: the real ones, then synthetic ones around them; and an English mask
    (a synthetic vector takes the language of the real one it was drawn around)."""
    if size <= len(real):
        return real[:size], np.array([lang == "en" for lang in real_langs[:size]])
    rng = np.random.default_rng(2)
    anchors = rng.integers(0, len(real), size - len(real))
    english = np.array([lang == "en" for lang in real_langs])
    synthetic = realdata.synthetic(real, size - len(real), seed=3)
    return np.vstack([real, synthetic]), np.concatenate([english, english[anchors]])


def exact_top(base: np.ndarray, queries: np.ndarray, subset: np.ndarray | None = None) -> np.ndarray:
    """Ids (row numbers of ``base``) of the exact top ``K`` of each query, by brute force."""
    rows = np.arange(len(base)) if subset is None else subset
    flat = faiss.IndexFlatIP(base.shape[1])
    flat.add(np.ascontiguousarray(base[rows]))
    _, found = flat.search(np.ascontiguousarray(queries), K)
    return rows[found]


def recall(index: VectorIndex, queries: np.ndarray, truth: np.ndarray, allowed=None) -> float:
    hits = [len({i for i, _ in index.search(q, K, allowed)} & set(t.tolist())) / K for q, t in zip(queries, truth)]
    return float(np.mean(hits))


def latencies(search, queries: np.ndarray) -> dict:
    for q in queries[:WARM_UP]:
        search(q)
    times = []
    for q in queries:
        started = time.perf_counter()
        search(q)
        times.append((time.perf_counter() - started) * 1000)
    return {"search_ms_median": float(np.median(times)), "search_ms_p95": float(np.percentile(times, 95))}


@contextmanager
def busy_cores(count: int | None = None) -> Iterator[None]:
    """Other processes keeping every core busy meanwhile (as an ingest embedding passages
    does while someone searches), each bounded to :data:`BUSY_SECONDS_MAX`."""
    loop = f"import time\nend = time.time() + {BUSY_SECONDS_MAX}\nwhile time.time() < end: pass"
    procs = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(count or os.cpu_count() or 1)]
    time.sleep(0.3)
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def open_figures(path: Path, dim: int, queries_path: Path) -> dict:
    """Open time and memory of a saved index, each way, in fresh processes."""
    out = {}
    for mode in ("mmap", "full"):
        result = subprocess.run([sys.executable, __file__, "--open", str(path), "--dim", str(dim), "--mode", mode,
                                 "--queries", str(queries_path)], capture_output=True, text=True, check=True)
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        out.update({f"{key}_{mode}": value for key, value in figures.items()})
    started = time.perf_counter()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    out["checksum_ms"] = (time.perf_counter() - started) * 1000  # what index/dense.py does when its stamp fails
    out["file_bytes_per_passage"] = path.stat().st_size
    return out


def _memory() -> dict[str, float]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:")):
            name, value = line.split(":")
            fields[name] = int(value.split()[0]) * 1024
    return fields


def _open_child(path: str, dim: int, mode: str, queries_path: str) -> None:
    """Child process of :func:`open_figures`: prints one JSON line."""
    queries = np.load(queries_path)
    before = _memory()
    started = time.perf_counter()
    index = VectorIndex.load(Path(path), dim, mmap=mode == "mmap")
    opened = time.perf_counter()
    index.search(queries[0], K)
    first = time.perf_counter()
    loaded = _memory()
    for q in queries[1:101]:
        index.search(q, K)
    after = _memory()
    print(json.dumps({
        "open_ms": (opened - started) * 1000,
        "first_search_ms": (first - opened) * 1000,
        "private_bytes": loaded["RssAnon"] - before["RssAnon"],
        "mapped_bytes_after_100_searches": after["RssFile"] - before["RssFile"],
    }))


#: Fresh-process opens timed per way by ``--open-check``, interleaved (the machine is noisy).
OPEN_CHECK_ROUNDS = 5
#: Vector dimension of the ``--open-check`` file: the bundled encoder's (multilingual-e5-small).
OPEN_CHECK_DIM = 384


def open_check_rows(size: int) -> list[dict]:
    """Time to open a saved vector file of ``size`` vectors as the knowledge base does, in a
    fresh process each time, two ways, interleaved: verifying its full SHA-256 (every open
    before the stamp; now only when the stamp does not match) and verifying its stamp
    (``index.dense.matches``); both then memory-map it. The vectors are Gaussian (the check
    reads bytes, not meanings); the file is in the page cache, as on a machine that just wrote
    or searched it (a cold disk costs the full hash far more, the stamp 66 small reads)."""
    from index import dense

    dim = OPEN_CHECK_DIM
    base = np.random.default_rng(0).normal(size=(size, dim)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    started = time.perf_counter()
    index = VectorIndex.build(np.arange(size), base)
    built = time.perf_counter() - started
    del base
    gc.collect()
    times: dict[str, list[float]] = {"sha256": [], "stamp": []}
    checks: dict[str, list[float]] = {"sha256": [], "stamp": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vectors-1.faiss"
        index.save(path)
        del index
        gc.collect()
        sha = dense._sha256(path)
        dense.write_stamp(path, sha)
        for _ in range(OPEN_CHECK_ROUNDS):
            for way in times:
                result = subprocess.run([sys.executable, __file__, "--open", str(path), "--dim", str(dim),
                                         "--mode", f"check-{way}", "--queries", sha],
                                        capture_output=True, text=True, check=True)
                figures = json.loads(result.stdout.strip().splitlines()[-1])
                times[way].append(figures["open_ms"])
                checks[way].append(figures["check_ms"])
        file_bytes = path.stat().st_size
    return [{"size": size, "index": vectors_module.kind_for(size), "check": way, "build_s": built,
             "file_bytes": file_bytes, "open_ms_median": float(np.median(ms)),
             "check_ms_median": float(np.median(checks[way])), "open_ms_runs": ms}
            for way, ms in times.items()]


def _open_check_child(path: str, dim: int, way: str, sha: str) -> None:
    from index import dense

    started = time.perf_counter()
    ok = dense._sha256(Path(path)) == sha if way == "check-sha256" else dense.matches(Path(path), sha)
    checked = time.perf_counter()
    index = VectorIndex.load(Path(path), dim)
    opened = time.perf_counter()
    assert ok and len(index)
    print(json.dumps({"open_ms": (opened - started) * 1000, "check_ms": (checked - started) * 1000}))


#: Queries timed per backend by ``--milvus`` (milvus-lite takes tens of ms a query).
MILVUS_QUERIES = 100


def milvus_rows(size: int, real: np.ndarray, real_langs: list[str], query_sets: dict[str, np.ndarray]) -> list[dict]:
    """FAISS (the index type the base would pick) against milvus-lite (the collection
    :class:`index.milvus.MilvusIndex` would create: same index type rule, flushed after the
    bulk load) on the same vectors: load time, search latency (k=10, embedding excluded)
    and recall@10 against exact search. milvus-lite is Python over FAISS behind a local gRPC
    server: its figures say what the test backend costs, not what a Milvus server does."""
    from pymilvus import DataType, MilvusClient

    from index import milvus

    base, _ = make_base(real, real_langs, size)
    queries = np.vstack([query_sets["questions"], query_sets["sentences"]])[:MILVUS_QUERIES]
    truth = exact_top(base, queries)
    ids = np.arange(len(base), dtype=np.int64)
    started = time.perf_counter()
    index = VectorIndex.build(ids, base)
    faiss_row = {"size": size, "backend": "faiss", "index": index.kind, "load_s": time.perf_counter() - started,
                 "recall10": recall(index, queries, truth), **latencies(lambda q: index.search(q, K), queries)}
    with tempfile.TemporaryDirectory() as tmp:
        client = MilvusClient(str(Path(tmp) / "m.db"))
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=base.shape[1])
        kind = milvus.EXACT_INDEX if size <= vectors_module.EXACT_MAX else milvus.APPROXIMATE_INDEX
        params = client.prepare_index_params()
        params.add_index(field_name="vector", metric_type="IP", index_type=kind)
        client.create_collection("bench", schema=schema, consistency_level=milvus.CONSISTENCY)
        client.create_index("bench", params, sync=False)
        client.load_collection("bench")
        started = time.perf_counter()
        for start in range(0, size, milvus.INSERT_BATCH):
            client.insert("bench", [{"id": int(i), "vector": base[i].tolist()}
                                    for i in range(start, min(size, start + milvus.INSERT_BATCH))])
        inserted = time.perf_counter()
        client.flush("bench")
        flushed = time.perf_counter()

        def search(q):
            found = client.search("bench", data=[q.tolist()], limit=K, anns_field="vector",
                                  search_params={"metric_type": "IP"}, output_fields=["id"])
            return [(hit["id"], hit["distance"]) for hit in found[0]]

        hits = [len({i for i, _ in search(q)} & set(t.tolist())) / K for q, t in zip(queries, truth)]
        milvus_row = {"size": size, "backend": "milvus-lite", "index": kind, "insert_s": inserted - started,
                      "flush_s": flushed - inserted, "load_s": flushed - started, "recall10": float(np.mean(hits)),
                      **latencies(search, queries)}
        client.close()
    return [faiss_row, milvus_row]


def _hnsw_row(base: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict:
    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(base.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.add(base)
    built = time.perf_counter() - started
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    _, found = hnsw.search(queries, K)
    hits = [len(set(f.tolist()) & set(t.tolist())) / K for f, t in zip(found, truth)]
    row = {"index": "hnsw", "build_s": built, "recall10_all": float(np.mean(hits)),
           **latencies(lambda q: hnsw.search(q.reshape(1, -1), K), queries)}
    with tempfile.TemporaryDirectory() as tmp:
        faiss.write_index(hnsw, str(Path(tmp) / "h.faiss"))
        row["file_bytes_per_passage"] = (Path(tmp) / "h.faiss").stat().st_size / len(base)
    return row


def size_rows(size: int, real: np.ndarray, real_langs: list[str], query_sets: dict[str, np.ndarray],
              hnsw: bool = False, sweep: bool = False) -> list[dict]:
    """One row per index type at ``size`` vectors."""
    base, english = make_base(real, real_langs, size)
    ids = np.arange(len(base), dtype=np.int64)
    names = list(query_sets)
    queries = np.vstack([query_sets[n] for n in names])
    bounds = np.cumsum([0] + [len(query_sets[n]) for n in names])
    truth = exact_top(base, queries)
    english_ids = ids[english]
    truth_en = exact_top(base, queries, english_ids)
    rare = np.sort(np.random.default_rng(7).choice(ids, max(K, size // 100), replace=False))
    truth_rare = exact_top(base, queries, rare)
    rows = []
    for kind in (EXACT, APPROXIMATE):
        started = time.perf_counter()
        index = VectorIndex.build(ids, base, kind=kind)
        row = {"size": size, "index": kind, "chosen": vectors_module.kind_for(size) == kind,
               "build_s": time.perf_counter() - started}
        timed = queries[:EXACT_TIMED_MAX] if kind == EXACT and size > vectors_module.EXACT_MAX else queries
        row.update(latencies(lambda q: index.search(q, K), timed))
        with busy_cores():
            loaded = latencies(lambda q: index.search(q, K), queries[:LOADED_QUERIES])
        row.update({f"{key}_loaded": value for key, value in loaded.items()})
        if kind == APPROXIMATE or size <= vectors_module.EXACT_MAX:
            for n, lo, hi in zip(names, bounds[:-1], bounds[1:]):
                row[f"recall10_{n}"] = recall(index, queries[lo:hi], truth[lo:hi])
            row["recall10_all"] = float(np.mean([row[f"recall10_{n}"] for n in names]))
        if kind == APPROXIMATE:
            subset = queries[: bounds[2]]  # questions and sentences
            row["filter_english_recall10"] = recall(index, subset, truth_en, english_ids)
            row["filter_english_ms_median"] = latencies(lambda q: index.search(q, K, english_ids), subset[:100])[
                "search_ms_median"]
            row["filter_1pct_recall10"] = recall(index, subset, truth_rare, rare)
            row["filter_1pct_ms_median"] = latencies(lambda q: index.search(q, K, rare), subset[:100])[
                "search_ms_median"]
            row["lists"] = vectors_module.list_count(size)
            row["probes"] = min(vectors_module.PROBES, row["lists"])
            if sweep:
                row.update(_sweep(index, queries, truth, bounds))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "v.faiss"
            started = time.perf_counter()
            index.save(path)
            row["save_s"] = time.perf_counter() - started
            np.save(Path(tmp) / "q.npy", queries)
            del index
            gc.collect()
            row.update(open_figures(path, base.shape[1], Path(tmp) / "q.npy"))
        for key in ("file_bytes_per_passage", "private_bytes_full", "private_bytes_mmap",
                    "mapped_bytes_after_100_searches_mmap"):
            row[key] = row[key] / size
        row.pop("mapped_bytes_after_100_searches_full", None)
        rows.append(row)
    if hnsw:
        rows.append({"size": size, "chosen": False, **_hnsw_row(base, queries, truth)})
    return rows


def _sweep(index: VectorIndex, queries: np.ndarray, truth: np.ndarray, bounds: np.ndarray) -> dict:
    out = {}
    saved = vectors_module.PROBES
    try:
        for probes in SWEEP_PROBES:
            vectors_module.PROBES = probes
            questions = recall(index, queries[: bounds[1]], truth[: bounds[1]])
            everything = recall(index, queries, truth)
            ms = latencies(lambda q: index.search(q, K), queries[:200])["search_ms_median"]
            out[f"sweep_probes{probes}"] = {"recall10_questions": questions, "recall10_all": everything,
                                            "search_ms_median": ms}
    finally:
        vectors_module.PROBES = saved
    return out


def fidelity_row(real: np.ndarray, query_sets: dict[str, np.ndarray]) -> dict:
    """Is the synthetic data a fair stand-in for real embeddings? At the size of the real
    set, recall@10 of the approximate index scanning the share of lists it scans at 1M
    vectors, and of HNSW at efSearch 16, on: the real vectors; as many synthetic ones drawn
    from all of them (one per real vector); and as many drawn from a hundredth of them (100
    per real vector, the density of synthetic data at 1M). Synthetic recall no higher than
    real recall means the large-size figures are not flattered by the data."""
    share = vectors_module.PROBES / vectors_module.list_count(1_000_000)
    queries = np.vstack([query_sets["questions"], query_sets["sentences"]])
    row = {"index": "fidelity", "size": len(real), "probe_share": share}
    sets = (("real", real), ("synthetic", realdata.synthetic(real, len(real), seed=4)),
            ("synthetic_100_per_real", realdata.synthetic(real[: max(2 * realdata.NEIGHBOURS, len(real) // 100)],
                                                          len(real), seed=4, shape_from=real)))
    saved = vectors_module.PROBES
    try:
        vectors_module.PROBES = max(1, round(share * vectors_module.list_count(len(real))))
        for name, base in sets:
            truth = exact_top(base, queries)
            index = VectorIndex.build(np.arange(len(base)), base, kind=APPROXIMATE)
            row[f"ivf_recall10_{name}"] = recall(index, queries, truth)
            hnsw = faiss.IndexHNSWFlat(base.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
            hnsw.add(base)
            hnsw.hnsw.efSearch = FIDELITY_EF_SEARCH
            _, found = hnsw.search(queries, K)
            row[f"hnsw_recall10_{name}"] = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)]))
    finally:
        vectors_module.PROBES = saved
    return row


def _print(row: dict) -> None:
    print(json.dumps({"bench": "scale", **row}), flush=True)


def run(sizes: list[int], real_count: int, sentences: int = realdata.SENTENCE_QUERIES, hnsw: bool = False,
        sweep: bool = False, progress=_print) -> list[dict]:
    """The fidelity row (with enough real vectors), then one row per size and index type;
    ``progress(row)`` is called with each as soon as it is measured."""
    data = realdata.real_vectors(real_count, sentences=sentences)
    real, real_langs, query_sets = split_real(data)
    rows = []
    if len(real) >= FIDELITY_MIN_REAL:
        rows.append(fidelity_row(real, query_sets))
        progress(rows[0])
    for size in sizes:
        for row in size_rows(size, real, real_langs, query_sets, hnsw=hnsw, sweep=sweep):
            row["real_passages"] = len(real)
            rows.append(row)
            progress(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--real", type=int, default=4000, help="real passages to embed (cached)")
    parser.add_argument("--hnsw", action="store_true", help="also build HNSW for comparison")
    parser.add_argument("--sweep", action="store_true", help="recall and latency at other probe counts")
    parser.add_argument("--open-check", action="store_true",
                        help="only time opening a saved file: full SHA-256 against the stamp check")
    parser.add_argument("--milvus", action="store_true", help="only compare milvus-lite with FAISS")
    parser.add_argument("--open", help=argparse.SUPPRESS)
    parser.add_argument("--dim", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--queries", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.open and args.mode.startswith("check-"):
        _open_check_child(args.open, args.dim, args.mode, args.queries)
        return
    if args.open:
        _open_child(args.open, args.dim, args.mode, args.queries)
        return
    if args.milvus:
        data = realdata.real_vectors(args.real)
        real, real_langs, query_sets = split_real(data)
        for size in [int(s) for s in args.sizes.split(",")]:
            for row in milvus_rows(size, real, real_langs, query_sets):
                _print(row)
        return
    if args.open_check:
        for size in [int(s) for s in args.sizes.split(",")]:
            for row in open_check_rows(size):
                _print(row)
        return
    run([int(s) for s in args.sizes.split(",")], args.real, hnsw=args.hnsw, sweep=args.sweep)


if __name__ == "__main__":
    main()
