"""Visitors' uploads under one memory cap: least-recently-used eviction across sessions and an idle expiry.

A session keeps only a small :class:`UploadHandle` (Gradio's ``gr.State``); the upload itself (its corpus,
indexes and maps) lives in the :class:`UploadStore`, which counts what every upload holds together. When a new
upload or a newly built index would pass the cap, the uploads used longest ago are dropped; an upload left unused
for ``idle_s`` is dropped as well. A session whose upload was dropped is told so by every view that reads its
corpus (:class:`UploadExpired`), never silently answered from the demo corpus.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sse_demo.app.inputs import InputError
from sse_demo.app.state import CorpusState

MEMORY_ENV_VAR = "SSE_UPLOAD_MEMORY_MB"
IDLE_ENV_VAR = "SSE_UPLOAD_IDLE_S"
# A 5,000-passage, 2 MB upload with its fp32 index holds about 14 MB: 1,000 MB keeps ~70 of them on a 16 GB Space
# (the app itself needs ~1 GB), with room for the 4-bit index and the map of the ones that use them.
DEFAULT_MEMORY_MB = 1_000
DEFAULT_IDLE_S = 900  # an upload unused for 15 minutes is dropped


class UploadExpired(InputError):
    """The session's upload was dropped (memory cap or idle expiry): upload it again."""


@dataclass(frozen=True)
class UploadHandle:
    """What a session keeps of its upload: the store's key and the file name (for the messages)."""

    key: str
    name: str
    passages: int


@dataclass
class _Entry:
    state: CorpusState
    nbytes: int
    last_used: float


def expired_message(handle: UploadHandle, idle_s: float) -> str:
    minutes = max(1, round(idle_s / 60))
    return (
        f"Your upload {handle.name!r} ({handle.passages:,} passages) has expired: it was unused for {minutes} "
        "minutes, or the server needed the memory for newer uploads. Upload the file again, or go back to the demo "
        "corpus. / アップロードしたファイルの保持期限が切れました（一定時間使われなかったか、"
        "メモリを新しいアップロードに使いました）。もう一度アップロードするか、デモコーパスに戻してください。"
    )


class UploadStore:
    """Uploads keyed by handle, at most ``max_bytes`` together; the least recently used go first.

    The lock is held only for the bookkeeping, never while a corpus is parsed or indexed.
    """

    def __init__(
        self,
        max_bytes: int = DEFAULT_MEMORY_MB * 1_000_000,
        *,
        idle_s: float = DEFAULT_IDLE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.idle_s = idle_s
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, memory_mb: float | None = None, idle_s: float | None = None) -> UploadStore:
        """A store sized by the arguments, else ``$SSE_UPLOAD_MEMORY_MB`` / ``$SSE_UPLOAD_IDLE_S``, else defaults."""
        if memory_mb is None:
            memory_mb = float(os.environ.get(MEMORY_ENV_VAR, DEFAULT_MEMORY_MB))
        if idle_s is None:
            idle_s = float(os.environ.get(IDLE_ENV_VAR, DEFAULT_IDLE_S))
        return cls(int(memory_mb * 1_000_000), idle_s=idle_s)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, handle: object) -> bool:
        return isinstance(handle, UploadHandle) and handle.key in self._entries

    @property
    def total_bytes(self) -> int:
        """What all uploads hold together, as counted when each was added or grew."""
        with self._lock:
            return sum(entry.nbytes for entry in self._entries.values())

    def add(self, state: CorpusState) -> UploadHandle:
        """Keep ``state`` under a new handle, dropping the least recently used uploads to stay under the cap."""
        nbytes = state.nbytes()
        if nbytes > self.max_bytes:
            raise InputError(
                f"This upload needs {nbytes / 1e6:.0f} MB in memory, more than the server keeps for all uploads "
                f"({self.max_bytes / 1e6:.0f} MB). Upload fewer passages. / このファイルはサーバーのメモリ上限を"
                "超えます。文章を減らしてください。"
            )
        handle = UploadHandle(secrets.token_hex(8), state.corpus.name, len(state.corpus))
        with self._lock:
            self._entries[handle.key] = _Entry(state, nbytes, self._clock())
            self._evict(keep=handle.key)
        return handle

    def get(self, handle: UploadHandle) -> CorpusState:
        """The handle's upload (now the most recently used), or :class:`UploadExpired`."""
        with self._lock:
            self._evict()
            entry = self._entries.get(handle.key)
            if entry is None:
                raise UploadExpired(expired_message(handle, self.idle_s))
            entry.last_used = self._clock()
            self._entries.move_to_end(handle.key)
            return entry.state

    def grew(self, state: CorpusState) -> None:
        """Count again what ``state`` holds (an index or map was added to it) and evict others if needed."""
        nbytes = state.nbytes()
        with self._lock:
            for key, entry in self._entries.items():
                if entry.state is state:
                    entry.nbytes = nbytes
                    self._evict(keep=key)
                    return

    def drop(self, handle: object) -> None:
        """Forget the handle's upload (a new upload or the demo corpus replaced it, or its session ended)."""
        if isinstance(handle, UploadHandle):
            with self._lock:
                self._entries.pop(handle.key, None)

    def sweep(self) -> None:
        """Drop the uploads idle for longer than ``idle_s``."""
        with self._lock:
            self._evict()

    def _evict(self, keep: str | None = None) -> None:
        """Drop idle entries, then the least recently used until under the cap (never ``keep``). Lock held."""
        now = self._clock()
        for key in [k for k, e in self._entries.items() if now - e.last_used > self.idle_s and k != keep]:
            del self._entries[key]
        total = sum(entry.nbytes for entry in self._entries.values())
        for key in list(self._entries):
            if total <= self.max_bytes:
                break
            if key != keep:
                total -= self._entries.pop(key).nbytes
        if keep is not None and keep in self._entries:
            self._entries[keep].last_used = now
            self._entries.move_to_end(keep)


def upload_cache_dir() -> Path:
    """Where Gradio keeps uploaded files: ``$GRADIO_TEMP_DIR``, else ``<tmp>/gradio``."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def discard_upload(path: str | Path) -> None:
    """Delete the server's copy of an uploaded file once it has been read (kept or refused).

    Only files inside Gradio's upload cache are deleted: a path given by a Python caller stays.
    """
    path = Path(path).resolve()
    if path.is_relative_to(upload_cache_dir()):
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # Gradio puts each upload in a folder of its own: remove it if empty
            path.parent.rmdir()
