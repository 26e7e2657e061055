"""The writer lock: one writer at a time per directory, across processes and threads; readers
never wait; a writer that waits too long gets a named error."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import ingest
from index import KnowledgeBase
from index.errors import Busy
from index.lock import LOCK_FILE, WriterLock, holder

from .conftest import CORPUS, ROOT
from .fakes import HashEncoder

#: Seconds after which a test process is assumed hung (the work takes 1-10 s on 2 cores).
HANG = 120

PRELUDE = textwrap.dedent(f"""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {str(ROOT)!r})
    from index import KnowledgeBase
    from index.lock import WriterLock
    from tests.fakes import HashEncoder
""")

# Waits for the file "go" so that both processes start writing at the same moment.
ADDER = PRELUDE + textwrap.dedent("""
    path, texts, go, tag = sys.argv[1:5]
    kb = KnowledgeBase.open(path, model=HashEncoder())
    while not Path(go).exists():
        time.sleep(0.005)
    for n, text in enumerate(open(texts, encoding="utf-8").read().split("\\f")):
        kb.add_text(text, title=f"{tag} {n}", source=f"test:{tag}/{n}")
        kb.save()
    kb.close()
""")

REBUILDER = PRELUDE + textwrap.dedent("""
    path, go, times = sys.argv[1], sys.argv[2], int(sys.argv[3])
    kb = KnowledgeBase.open(path, model=HashEncoder())
    while not Path(go).exists():
        time.sleep(0.005)
    for _ in range(times):
        kb.rebuild()
    kb.close()
""")

# Holds the lock until its stdin closes (or it is killed).
HOLDER = PRELUDE + textwrap.dedent("""
    with WriterLock(Path(sys.argv[1])).hold():
        print("held", flush=True)
        sys.stdin.read()
""")


#: Paragraphs of the cleaned corpus in a fixed random order, cut into disjoint runs, one
#: per article (16 articles): articles sharing no paragraph are far from near-duplicates
#: (largest MinHash similarity 0.06), while random draws of corpus lines reach 0.86 and are
#: stored once, as copies.
LINES = sorted({line.strip() for p in sorted(CORPUS.glob("*.txt")) for line in ingest.load(p).text.splitlines()
                if 30 < len(line.strip()) <= 3000})
random.Random(7).shuffle(LINES)
LINES_PER_ARTICLE = 3


def distinct_texts(tag: str, count: int, first: int = 0) -> list[str]:
    """Articles ``first`` to ``first + count - 1`` of the corpus lines cut in runs (see LINES)."""
    assert (first + count) * LINES_PER_ARTICLE <= len(LINES), "not enough corpus lines"
    return [f"{tag} {n}.\n\n" + "\n\n".join(LINES[(first + n) * LINES_PER_ARTICLE:(first + n + 1) * LINES_PER_ARTICLE])
            for n in range(count)]


def texts_file(tmp_path, tag: str, count: int, first: int = 0):
    path = tmp_path / f"{tag}.txt"
    path.write_text("\f".join(distinct_texts(tag, count, first)), encoding="utf-8")
    return path


def start(script: str, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen) -> None:
    _, err = process.communicate(timeout=HANG)
    assert process.returncode == 0, err


@pytest.fixture
def held(tmp_path):
    """A base with one article whose writer lock is held by another process."""
    path = tmp_path / "kb"
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        kb.add_text("Community operations keep members active. A weekly event brings them back.",
                    title="Community")
    holder = start(HOLDER, path)
    assert holder.stdout.readline().strip() == "held", holder.stderr.read()
    yield path, holder
    holder.kill()
    holder.wait(timeout=HANG)
    for pipe in (holder.stdin, holder.stdout, holder.stderr):
        pipe.close()


def test_two_processes_adding_at_once_both_keep_their_articles(tmp_path):
    path, go = tmp_path / "kb", tmp_path / "go"
    KnowledgeBase.open(path, model=HashEncoder()).close()
    writers = [start(ADDER, path, texts_file(tmp_path, tag, 6, first), go, tag)
               for tag, first in (("left", 0), ("right", 6))]
    time.sleep(0.5)  # let both open the base before either starts
    go.touch()
    for writer in writers:
        finish(writer)
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        assert kb.check() == []
        assert sorted(a.title for a in kb.articles()) == sorted(f"{t} {n}" for t in ("left", "right")
                                                                for n in range(6))


def test_adds_during_rebuilds_in_another_process_are_not_lost(tmp_path):
    # Without the lock, an add landing in the old store after the rebuild copied it is lost.
    path, go = tmp_path / "kb", tmp_path / "go"
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        for n, text in enumerate(distinct_texts("seed", 4)):
            kb.add_text(text, title=f"seed {n}")
    rebuilder = start(REBUILDER, path, go, 3)
    adder = start(ADDER, path, texts_file(tmp_path, "new", 8, 4), go, "new")
    time.sleep(0.5)
    go.touch()
    finish(adder)
    finish(rebuilder)
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        assert kb.check() == []
        titles = {a.title for a in kb.articles()}
    assert titles == {f"seed {n}" for n in range(4)} | {f"new {n}" for n in range(8)}
    assert not (tmp_path / "kb.rebuild").exists() and not (tmp_path / "kb.old").exists()


def test_a_second_writer_waits_then_gives_up_naming_the_directory_and_holder(held):
    path, holder = held
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        kb.writer_lock.timeout = 0.3
        began = time.monotonic()
        with pytest.raises(Busy) as info:
            kb.add_text("Another article about event operations.", title="late")
        waited = time.monotonic() - began
        # It waited its own timeout (0.3 s), not the default 30 s, before giving up.
        assert 0.3 <= waited < 10 and info.value.waited == 0.3
        assert str(path) in str(info.value) and f"process {holder.pid}" in str(info.value)
        assert info.value.pid == holder.pid
        with pytest.raises(Busy):
            kb.remove(kb.articles()[0].id)
        assert [a.title for a in kb.articles()] == ["Community"]  # nothing changed
        holder.kill()  # the kernel releases the lock of a dead writer
        holder.wait(timeout=HANG)
        assert kb.add_text("Another article about event operations.", title="late").new
        assert kb.check() == []


def test_a_waiting_writer_waits_for_the_holder_then_goes_ahead(held):
    path, holder = held
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        kb.writer_lock.timeout = HANG
        began = time.monotonic()
        threading.Timer(0.5, holder.stdin.close).start()  # the holder finishes its write
        assert kb.add_text("Event operations plan a launch.", title="after").new
        assert time.monotonic() - began >= 0.5  # not written while the other process held the lock
        assert {a.title for a in kb.articles()} == {"Community", "after"}


def test_readers_search_while_a_writer_holds_the_lock(held):
    path, _ = held
    done: list = []

    def read() -> None:
        kb = KnowledgeBase.open(path, model=HashEncoder())
        kb.writer_lock.timeout = 20  # a close that waited for the writer would take 20 s
        done.append([h.title for h in kb.search("weekly event members", 3)])
        done.append(kb.check())
        # As if it had rebuilt a stale vector file: close wants to save. (Set after the reads,
        # since loading the vector file clears it.)
        kb._dense._dirty = True
        began = time.monotonic()
        kb.close()  # skips the save rather than wait for the writer
        done.append(time.monotonic() - began < 5)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(HANG)
    assert not reader.is_alive() and done == [["Community"], [], True]


def test_reading_never_creates_the_lock_file(tmp_path):
    path = tmp_path / "kb"
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        kb.add_text("Data operations read the funnel every morning.", title="Data")
    (path / LOCK_FILE).unlink()
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        assert kb.search("funnel", 1) and kb.articles() and kb.check() == []
    assert not (path / LOCK_FILE).exists()


def test_threads_of_one_process_write_one_at_a_time(tmp_path):
    path = tmp_path / "kb"
    shared = KnowledgeBase.open(path, model=HashEncoder())   # like the app's sessions
    other = KnowledgeBase.open(path, model=HashEncoder())    # like a second object in the process
    texts = {tag: distinct_texts(tag, 4, 4 * n) for n, tag in enumerate("abc")}
    errors: list[BaseException] = []
    inside, most, count = [0], [0], threading.Lock()
    for kb in (shared, other):  # count the store writes in progress, each made to last 50 ms
        real_insert = kb._store.insert

        def insert(*args, _real=real_insert, **kwargs):
            with count:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            try:
                time.sleep(0.05)
                return _real(*args, **kwargs)
            finally:
                with count:
                    inside[0] -= 1

        kb._store.insert = insert

    def write(kb: KnowledgeBase, tag: str) -> None:
        try:
            for n in range(4):
                kb.add_text(texts[tag][n], title=f"{tag} {n}")
                kb.save()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(kb, tag))
               for kb, tag in ((shared, "a"), (shared, "b"), (other, "c"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG)
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert most[0] == 1  # never two writes at once
    for kb in (shared, other):
        assert len(kb.articles()) == 12 and kb.check() == []
    shared.close()
    other.close()


def test_the_lock_is_reentrant_and_excludes_another_object_in_the_same_process(tmp_path):
    mine, theirs = WriterLock(tmp_path, timeout=0), WriterLock(tmp_path, timeout=0)
    with mine.hold():
        with mine.hold():
            with pytest.raises(Busy):
                with theirs.hold():
                    pass
        with pytest.raises(Busy):  # still held by the outer block
            with theirs.hold():
                pass
    with theirs.hold():
        pass


def test_the_holder_writes_its_pid_and_clears_it_when_done(tmp_path):
    lock = WriterLock(tmp_path, timeout=0)
    assert holder(tmp_path) is None
    with lock.hold():
        assert holder(tmp_path) == os.getpid()
    assert holder(tmp_path) is None  # no stale pid for the next waiter to report
    assert (tmp_path / LOCK_FILE).exists()


def test_a_waiter_that_locked_a_file_a_rebuild_swapped_away_locks_the_new_one(tmp_path, monkeypatch):
    import fcntl

    from index import lock as lock_module

    path = tmp_path / "kb"
    path.mkdir()
    rebuilding = WriterLock(path, timeout=0).hold()
    rebuilding.__enter__()
    real_flock, swapped = fcntl.flock, []

    def swap_then_flock(fd, operation):
        # The waiter has opened kb/writer.lock; before its next try the rebuild swaps a new
        # directory in and releases the lock of the old one, so the try succeeds on the old file.
        if not swapped:
            swapped.append(True)
            path.rename(tmp_path / "kb.old")
            path.mkdir()
            rebuilding.__exit__(None, None, None)
        return real_flock(fd, operation)

    monkeypatch.setattr(lock_module.fcntl, "flock", swap_then_flock)
    with WriterLock(path, timeout=10).hold():
        assert swapped
        with pytest.raises(Busy):  # the waiter holds the lock of the live directory
            with WriterLock(path, timeout=0).hold():
                pass


def test_a_writer_checks_for_copies_again_under_the_lock(tmp_path, monkeypatch):
    # Two objects in one process exclude each other through the file only (each has its own
    # in-process lock). The first stores an article slowly; the second adds a near-duplicate
    # copy meanwhile: it must wait, then find the copy stored and record it as a duplicate.
    path = tmp_path / "kb"
    first, second = KnowledgeBase.open(path, model=HashEncoder()), KnowledgeBase.open(path, model=HashEncoder())
    text = distinct_texts("copy", 1)[0]
    inserting, go_on = threading.Event(), threading.Event()
    real_insert = first._store.insert

    def slow_insert(*args, **kwargs):
        inserting.set()
        assert go_on.wait(HANG)
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(first._store, "insert", slow_insert)
    results: dict = {}
    storing = threading.Thread(target=lambda: results.update(first=first.add_text(text).status))
    storing.start()
    try:
        assert inserting.wait(HANG)  # the first holds the lock, inside its store write
        copying = threading.Thread(target=lambda: results.update(second=second.add_text(text + " Copied.").status))
        copying.start()
        copying.join(1.0)
        assert copying.is_alive()  # waits for the lock
    finally:
        go_on.set()
        storing.join(HANG)
    copying.join(HANG)
    assert results == {"first": "added", "second": "duplicate"}
    assert len(second.articles()) == 1 and second.check() == []
    first.close()
    second.close()


def test_opening_leaves_a_running_rebuild_alone(tmp_path):
    path = tmp_path / "kb"
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        kb.add_text("User operations answer questions from new users.", title="Users")
    in_progress = tmp_path / "kb.rebuild"
    in_progress.mkdir()
    (in_progress / "store.sqlite").write_bytes(b"being written")
    rebuilding = WriterLock(path)
    with rebuilding.hold():  # as a rebuild in another process does
        KnowledgeBase.open(path, model=HashEncoder()).close()
        assert in_progress.exists()  # not mistaken for an interrupted rebuild
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        assert [a.title for a in kb.articles()] == ["Users"]
    assert not in_progress.exists()  # the rebuild is over: now it is a leftover


def test_a_forked_child_does_not_keep_the_lock_of_its_parent(tmp_path):
    lock = WriterLock(tmp_path, timeout=0)
    with lock.hold():
        child = os.fork()
        if child == 0:  # the child outlives the parent's write, and the wait below
            time.sleep(HANG)
            os._exit(0)
    try:
        # Released although the child lives (the wait covers the child's start-up; a lock the
        # child kept would be released only when it is killed below).
        with WriterLock(tmp_path, timeout=10).hold():
            pass
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def test_a_missing_directory_is_an_error_not_a_wait(tmp_path):
    began = time.monotonic()
    with pytest.raises(FileNotFoundError):
        with WriterLock(tmp_path / "gone", timeout=10).hold():
            pass
    assert time.monotonic() - began < 5


def test_a_writer_arriving_between_the_two_renames_of_a_rebuild_waits_for_the_directory(tmp_path):
    path, swapped_in = tmp_path / "kb", tmp_path / "kb.rebuild"
    swapped_in.mkdir()  # kb was renamed to kb.old, kb.rebuild is not yet renamed to kb
    (tmp_path / "kb.old").mkdir()
    threading.Timer(0.5, swapped_in.rename, args=(path,)).start()
    began = time.monotonic()
    with WriterLock(path, timeout=10).hold():
        assert time.monotonic() - began >= 0.5 and (path / LOCK_FILE).exists()


def test_a_reader_keeps_answering_while_another_process_rebuilds(tmp_path):
    path, go = tmp_path / "kb", tmp_path / "go"
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        ids = [kb.add_text(text, title=f"seed {n}").article.id for n, text in enumerate(distinct_texts("seed", 4))]
    reader = KnowledgeBase.open(path, model=HashEncoder())
    rebuilder = start(REBUILDER, path, go, 4)
    time.sleep(0.5)
    go.touch()
    reads = 0
    while rebuilder.poll() is None or reads == 0:  # every read, before, during and after a swap
        assert [a.id for a in reader.articles()] == ids
        hits = reader.search("operators 运营", 3)
        assert len(hits) == 3 and {h.article_id for h in hits} <= set(ids)
        reads += 1
    finish(rebuilder)
    assert reader.check() == []
    reader.close()


def test_threads_reading_while_another_thread_rebuilds_never_see_a_closed_store(tmp_path):
    # The app's sessions share one object: reads used the store while a rebuild (or a
    # reader following another process's rebuild) closed it ("Cannot operate on a closed
    # database", thousands of times in this loop before the fix).
    kb = KnowledgeBase.open(tmp_path / "kb", model=HashEncoder())
    ids = [kb.add_text(text).article.id for text in distinct_texts("seed", 4)]
    done, failures = threading.Event(), []

    def rebuild() -> None:
        try:
            for _ in range(3):
                kb.rebuild()
        finally:
            done.set()

    rebuilder = threading.Thread(target=rebuild)
    rebuilder.start()
    reads = 0
    while not done.is_set() or reads == 0:
        try:
            assert [a.id for a in kb.articles()] == ids
            assert {p.article_id for p in kb.passages()} == set(ids)
            assert kb.search("operators 运营", 2) and kb.article_text(ids[0])
            reads += 1
        except Exception as exc:  # noqa: BLE001 - collected, compared below
            failures.append(repr(exc))
    rebuilder.join(HANG)
    assert failures == [] and kb.check() == []
    kb.close()


def test_the_wait_comes_from_the_environment(held, tmp_path, monkeypatch):
    path, _ = held
    monkeypatch.setenv("KB_LOCK_TIMEOUT", "0.4")
    with KnowledgeBase.open(path, model=HashEncoder()) as kb:
        began = time.monotonic()
        with pytest.raises(Busy) as info:
            kb.add_text("Another article about event operations.", title="late")
        assert 0.4 <= time.monotonic() - began < 10 and info.value.waited == 0.4
    monkeypatch.setenv("KB_LOCK_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="KB_LOCK_TIMEOUT='soon'"):
        WriterLock(tmp_path)


def test_a_thread_adding_while_another_thread_of_the_same_object_rebuilds_waits_and_is_kept(tmp_path, monkeypatch):
    # Threads of one object exclude each other through its in-process lock (the file lock is
    # the process's already): an add that did not wait would land in the store the rebuild
    # has already copied, and be lost at the swap.
    from index import rebuild as rebuild_module

    kb = KnowledgeBase.open(tmp_path / "kb", model=HashEncoder())
    kb.add_text(distinct_texts("seed", 1)[0], title="seed")
    copying, go_on = threading.Event(), threading.Event()
    real_reparse = rebuild_module._reparse

    def slow_reparse(row):
        copying.set()
        assert go_on.wait(HANG)
        return real_reparse(row)

    monkeypatch.setattr(rebuild_module, "_reparse", slow_reparse)
    rebuilder = threading.Thread(target=kb.rebuild)
    rebuilder.start()
    try:
        assert copying.wait(HANG)  # the rebuild holds the lock, copying the articles
        adder = threading.Thread(target=lambda: kb.add_text(distinct_texts("late", 1, 1)[0], title="late"))
        adder.start()
        adder.join(1.0)
        assert adder.is_alive()  # waits for the rebuild
    finally:
        go_on.set()
        rebuilder.join(HANG)
    adder.join(HANG)
    assert sorted(a.title for a in kb.articles()) == ["late", "seed"] and kb.check() == []
    kb.close()
