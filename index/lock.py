"""One writer at a time per knowledge-base directory, across processes and threads.

A writer holds ``fcntl.flock`` on ``<kb>/writer.lock`` for one write operation (an add, a
remove, a rebuild, a save of the vector file). Readers never take it, and only a write
creates the file, so reading works where it could not be created. The lock is
released by the kernel when its holder dies, so a killed writer never leaves the base locked.

A rebuild swaps a new directory in while it holds the lock of the old one: a waiter that
then gets the lock checks that the file it locked is still the one at ``<kb>/writer.lock``,
and locks that one again if not.
"""
from __future__ import annotations

import fcntl
import functools
import os
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from .errors import Busy

LOCK_FILE = "writer.lock"
#: Seconds a writer waits for another one before raising :class:`Busy`. Adding an article
#: of corpus/ (17 passages on average) takes 0.2-1.4 s with the bundled model at 12-81
#: passages/s on 2 cores (README), so 30 s covers a queue of adds from the app and the CLI;
#: a rebuild of a large base takes minutes and is reported as busy instead.
#: ``$KB_LOCK_TIMEOUT`` or :attr:`WriterLock.timeout` changes it.
DEFAULT_TIMEOUT = 30.0
#: Seconds between two tries of a busy lock. A failed try costs microseconds; 20 ms adds
#: little to a wait that ends when an add (1 s or more with a real model) finishes.
POLL = 0.02

T = TypeVar("T")


def default_timeout() -> float:
    """``$KB_LOCK_TIMEOUT`` in seconds if set, else :data:`DEFAULT_TIMEOUT`."""
    value = os.environ.get("KB_LOCK_TIMEOUT")
    if not value:
        return DEFAULT_TIMEOUT
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"KB_LOCK_TIMEOUT={value!r} is not a number of seconds") from None


class WriterLock:
    """The writer lock of one knowledge-base directory, reentrant within a thread.

    Threads of one process queue on an in-process lock first, then on the file; so the same
    object can be shared by the sessions of a server. Two objects (or processes) on the same
    directory exclude each other through the file.
    """

    def __init__(self, directory: Path, timeout: float | None = None) -> None:
        self.directory = Path(directory)
        #: Seconds to wait for another writer before raising :class:`Busy`.
        self.timeout = default_timeout() if timeout is None else timeout
        self._mutex = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        _LOCKS.add(self)

    @property
    def path(self) -> Path:
        return self.directory / LOCK_FILE

    @contextmanager
    def hold(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the lock for the ``with`` block, waiting up to ``timeout`` seconds (default
        :attr:`timeout`; 0 tries once).

        Raises:
            Busy: another writer held it for the whole wait.
            OSError: the lock file cannot be created (a read-only directory).
        """
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        if not self._mutex.acquire(timeout=max(wait, 0.0)):  # another thread of this process writes
            raise Busy(str(self.directory), os.getpid(), wait)
        try:
            if self._depth == 0:
                self._fd = self._lock_file(deadline, wait)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._unlock_file()
        finally:
            self._mutex.release()

    def _lock_file(self, deadline: float, wait: float) -> int:
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:
                if not self._being_swapped():
                    raise
                fd = None  # a rebuild is between its two renames: the directory is back soon
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                else:
                    if self._still_current(fd):
                        os.ftruncate(fd, 0)
                        os.write(fd, str(os.getpid()).encode())
                        return fd
                    os.close(fd)  # locked a file a rebuild swapped away: lock the new one
                    continue
            if time.monotonic() >= deadline:
                raise Busy(str(self.directory), holder(self.directory), wait)
            time.sleep(POLL)

    def _being_swapped(self) -> bool:
        name = self.directory.name
        return any(self.directory.with_name(name + suffix).exists() for suffix in (".rebuild", ".old"))

    def _still_current(self, fd: int) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def _unlock_file(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # no stale pid for the next waiter to report
        finally:
            os.close(fd)  # closing releases the flock


_LOCKS: "weakref.WeakSet[WriterLock]" = weakref.WeakSet()


def _forget_in_child() -> None:
    """A forked child shares its parent's open file descriptions, and with them the flock:
    it closes its copies so the lock is released when the parent lets go, whatever the child
    does (``multiprocessing`` with fork, a server forking workers)."""
    for lock in list(_LOCKS):
        if lock._fd is not None:
            os.close(lock._fd)
        lock._fd, lock._depth, lock._mutex = None, 0, threading.RLock()


os.register_at_fork(after_in_child=_forget_in_child)


def holder(directory: Path) -> int | None:
    """The pid written by the current holder of the lock of ``directory``, if known."""
    try:
        text = (Path(directory) / LOCK_FILE).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def writes(method: Callable[..., T]) -> Callable[..., T]:
    """Run a method of an object with a ``writer_lock`` attribute while holding that lock."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self.writer_lock.hold():
            return method(self, *args, **kwargs)

    return locked
