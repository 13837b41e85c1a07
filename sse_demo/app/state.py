"""Per-corpus state and once-per-key caches: how the page shares work between visitors without one global lock.

A :class:`CorpusState` is one corpus (the demo corpus, or a visitor's upload kept in that visitor's session) with
its indexes and maps, each built once per precision. Building one never waits on another corpus or precision.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sse_demo.app.corpus import Corpus

T = TypeVar("T")
BACKGROUND_NICENESS = 10  # how much lower than searches heavy work runs (Linux: per thread)


def lower_thread_priority(niceness: int = BACKGROUND_NICENESS) -> None:
    """Run the calling thread ``niceness`` steps below the process's own CPU priority (at most nice 19), where the
    OS allows it: heavy work yields to searches, also when the whole app already runs niced."""
    with contextlib.suppress(OSError, AttributeError):
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + niceness))


class OncePerKey:
    """Values computed once per key. Callers of one key wait for the one computing it; other keys never wait.

    A computation that raises stores nothing, so the next caller tries again.
    """

    def __init__(self) -> None:
        self._values: dict[Hashable, object] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()  # held only to look up a dict, never across a computation

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def values(self) -> list:
        """The values computed so far."""
        with self._guard:
            return list(self._values.values())

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value of ``key``, computing it with ``compute()`` if no one has yet."""
        with self._guard:
            if key in self._values:
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                value = compute()
                with self._guard:
                    self._values[key] = value
            return self._values[key]


@dataclass
class CorpusState:
    """A corpus and what has been computed on it so far (indexes and maps per precision)."""

    corpus: Corpus
    indexes: OncePerKey = field(default_factory=OncePerKey, repr=False)
    maps: OncePerKey = field(default_factory=OncePerKey, repr=False)

    def nbytes(self) -> int:
        """Memory this corpus holds: its texts and ids (the string objects and their lists), the other columns'
        lists, and every index and map built so far (each counts its own arrays in ``nbytes``)."""
        corpus = self.corpus
        strings = sum(sys.getsizeof(s) for s in (*corpus.texts, *corpus.ids))
        lists = sum(sys.getsizeof(column) for column in (corpus.texts, corpus.ids, corpus.langs, corpus.topics))
        built = sum(value.nbytes for value in (*self.indexes.values(), *self.maps.values()))
        return strings + lists + sys.getsizeof(corpus.pairs) + built


class LoadFailed(Exception):
    """A load failed (now or within the back-off): the library's message and the seconds until the next try."""

    def __init__(self, message: str, retry_in_s: float) -> None:
        super().__init__(message)
        self.message, self.retry_in_s = message, retry_in_s


class LoadOnce:
    """Values loaded once per key on first use. A failed load is remembered and tried again only after
    ``retry_after_s``, so a hub hiccup needs no restart and a broken name does not slow every call down."""

    def __init__(self, load: Callable[[Hashable], T], *, retry_after_s: float, clock: Callable[[], float]) -> None:
        self._load, self.retry_after_s, self._clock = load, retry_after_s, clock
        self._values = OncePerKey()
        self._failures: dict[Hashable, tuple[str, float]] = {}  # key: (message, when it failed)

    def loaded(self, key: Hashable) -> bool:
        return key in self._values

    def failure(self, key: Hashable) -> str | None:
        """Why the last load of ``key`` failed, or None."""
        failure = self._failures.get(key)
        return failure[0] if failure else None

    def get(self, key: Hashable) -> T:
        """The value for ``key``, loading it now if it is not loaded and not within a failure's back-off."""
        return self._values.get(key, lambda: self._attempt(key))

    def _attempt(self, key: Hashable) -> T:
        if (failure := self._failures.get(key)) is not None:
            waited = self._clock() - failure[1]
            if waited < self.retry_after_s:
                raise LoadFailed(failure[0], self.retry_after_s - waited)
        try:
            value = self._load(key)
        except Exception as error:  # any load failure is a message for the page
            self._failures[key] = (f"{type(error).__name__}: {error}", self._clock())
            raise LoadFailed(self._failures[key][0], self.retry_after_s) from error
        self._failures.pop(key, None)
        return value
