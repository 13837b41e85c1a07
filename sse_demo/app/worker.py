"""A low-priority worker process for heavy work that would hold the GIL: searches keep the page's interpreter.

A map fit (UMAP) spends most of its time in numba code and sklearn's per-pair Python calls, both holding the GIL,
so in a thread of the page it takes the interpreter from every search however low its CPU priority: py-spy
showed the heavy thread holding the GIL in a quarter of the samples while a crowd searched. In a process of its
own it shares only the CPUs, every one of its threads (numba's, OpenBLAS's, started at import) niced
``BACKGROUND_NICENESS`` below the page, so searches come first. The process starts on first use (spawned, not
forked: the page runs many threads), is started again if it dies, and ends when the page's process ends.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from sse_demo.app.state import BACKGROUND_NICENESS

T = TypeVar("T")


def lower_process_priority(niceness: int) -> None:
    """Run every thread of this process at ``niceness`` (Linux nice is per thread, and pools started at import
    already have theirs); elsewhere ``setpriority`` of the process sets all of them at once."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
        for task in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, int(task), niceness)


def start_worker(niceness: int) -> None:
    """The worker process's set-up: its CPU priority, and an exit as soon as the page's process is gone (a pool's
    worker would otherwise wait for its next call forever when the page is killed)."""
    lower_process_priority(niceness)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=exit_with, args=(parent.sentinel,), name="exit-with-page", daemon=True).start()


def exit_with(sentinel: int) -> None:
    """Wait until ``sentinel`` (the parent process's) is ready, then end this process at once."""
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def process_niceness() -> list[int]:
    """The nice value of each thread of this process (Linux), else of the process: what a test asks the worker."""
    try:
        return [os.getpriority(os.PRIO_PROCESS, int(task)) for task in os.listdir("/proc/self/task")]
    except OSError:
        return [os.getpriority(os.PRIO_PROCESS, 0)]


class WorkerProcess:
    """One spawned process, niced ``niceness`` below the page, that runs picklable calls one at a time."""

    def __init__(self, niceness: int = BACKGROUND_NICENESS) -> None:
        self.niceness = niceness
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # held only to start or drop the pool, never across a call

    def run(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """``fn(*args, **kwargs)`` in the worker process; a worker that died is replaced for the next call."""
        pool = self._started()
        try:
            return pool.submit(fn, *args, **kwargs).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            raise

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                niceness = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + self.niceness)
                self._pool = ProcessPoolExecutor(
                    1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=start_worker,
                    initargs=(niceness,),
                )
            return self._pool

    def shutdown(self) -> None:
        """Stop the process (a later call starts a new one)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


# The page's one worker: map fits queue here one at a time (each takes seconds; two at once would only share
# the same low-priority CPU time).
HEAVY_PROCESS = WorkerProcess()
