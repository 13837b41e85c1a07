"""Turning the tokenizer's own thread pool off while ``SSEModel.encode`` runs the tokenizer on its own threads.

``tokenizers`` splits every ``encode_batch_fast`` call over its rayon pool. On short texts that fork-join costs 7% to
13% more CPU than serial calls (bench/encode_budget.py), and the pool's threads compete with the pooling that encode
does next. Each of
encode's worker threads therefore tokenises a whole unit of texts serially (the Rust call releases the GIL, so the
units run side by side) and pools it straight away. ``tokenizers`` has one switch for its pool, the
``TOKENIZERS_PARALLELISM`` environment variable, read at every call; this module sets it to ``false`` while
at least one encode needs it and then puts back exactly what was there before (also the variable being absent, which
``tokenizers`` treats differently from ``true`` when the process forks). The ids are the same either way.

The switch is process-wide: while it is off, other ``tokenizers`` calls in the process also run on their calling
thread, and processes started meanwhile inherit ``TOKENIZERS_PARALLELISM=false``. Encodes of a single unit (a
query, a small batch) leave it alone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

ENV_VARIABLE = "TOKENIZERS_PARALLELISM"

_lock = threading.Lock()
_users = 0
_saved: str | None = None


@contextmanager
def tokenizer_parallelism_off() -> Iterator[None]:
    """Within this block, ``tokenizers`` calls from any thread run on their calling thread (nested and concurrent
    uses share one switch; the last one out restores the variable)."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = os.environ.get(ENV_VARIABLE)
            if _saved != "false":
                os.environ[ENV_VARIABLE] = "false"
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved != "false":
                if _saved is None:
                    os.environ.pop(ENV_VARIABLE, None)
                else:
                    os.environ[ENV_VARIABLE] = _saved
