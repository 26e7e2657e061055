"""Loading many sources at once: cleaning in worker processes, results in the order given.

Cleaning is pure Python (trafilatura, regular expressions, jieba, OpenCC), so threads would
share one core; processes do not. The knowledge base embeds in the parent process while the
workers clean the next articles.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import types
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Callable, Iterable, Iterator

from .article import Article
from .errors import IngestError
from .load import load

#: Below this many sources, one process cleans them all: a worker costs about 1.5 s to start
#: (it imports trafilatura, jieba and OpenCC: measured 1.2-1.8 s here), and an article takes
#: about 20 ms to load and clean (bench/throughput.py: 50 articles/s), so a pool pays off only
#: from some dozens of articles.
MIN_SOURCES_FOR_WORKERS = 32
#: Articles cleaned ahead of the consumer per worker: enough to keep the workers busy while
#: the parent embeds, few enough that memory stays bounded (an article is tens of KB).
AHEAD_PER_WORKER = 4


def default_workers() -> int:
    """The CPUs this process may use, at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _load(source: str, allow_private: bool) -> Article:
    """``load``, with an unexpected exception turned into an :class:`IngestError` naming ``source``."""
    try:
        return load(source, allow_private=allow_private)
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must name its input, not kill the batch
        raise IngestError(source, f"unexpected error while loading: {exc!r}") from exc


@contextmanager
def _main_hidden():
    """While workers start, make ``__main__`` an empty module. "spawn" runs the parent's
    ``__main__`` script again in each worker (so that what it defines can be unpickled there);
    our workers need only this module, and a script that calls :func:`load_many` at top level
    without an ``if __name__ == "__main__"`` guard (or Streamlit's app script, run as
    ``__main__``) must not run again in every worker: it would open the base again, or fail
    with "an attempt has been made to start a new process before ... bootstrapping"."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is None:
            sys.modules.pop("__main__", None)
        else:
            sys.modules["__main__"] = main


def _result(source: str, get: Callable[[], Article]) -> tuple[str, Article | IngestError]:
    """``(source, get())``, or ``(source, the IngestError it raised)``."""
    try:
        return source, get()
    except IngestError as exc:
        return source, exc


def load_many(sources: Iterable[str], *, workers: int | None = None,
              allow_private: bool = False) -> Iterator[tuple[str, Article | IngestError]]:
    """Load and clean every source; yield ``(source, Article)`` or ``(source, IngestError)``
    in the order given, so one bad file never stops the others.

    Args:
        workers: processes that clean in parallel (default: the CPUs; 1, or fewer than
            :data:`MIN_SOURCES_FOR_WORKERS` sources, cleans in this process).
        allow_private: fetch URLs on private networks too (see :func:`ingest.fetch.fetch`).
    """
    sources = [str(s) for s in sources]
    workers = default_workers() if workers is None else max(1, int(workers))
    if workers == 1 or len(sources) < MIN_SOURCES_FOR_WORKERS:
        for source in sources:
            yield _result(source, partial(_load, source, allow_private))
        return
    # "spawn": the parent may hold ONNX Runtime or FAISS threads, which do not survive fork.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[tuple[str, Future]] = deque()
        queue = iter(sources)
        try:
            for source in queue:
                # A submit starts a worker while fewer than ``workers`` run: all start here.
                with _main_hidden() if len(pending) < workers else nullcontext():
                    pending.append((source, pool.submit(_load, source, allow_private)))
                if len(pending) >= workers * AHEAD_PER_WORKER:
                    break
            while pending:
                source, future = pending.popleft()
                yield _result(source, future.result)
                following = next(queue, None)
                if following is not None:
                    pending.append((following, pool.submit(_load, following, allow_private)))
        finally:
            for _, future in pending:  # the consumer stopped early (an interruption)
                future.cancel()
