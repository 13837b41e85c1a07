"""Deferred imports of optional dependencies, so a missing one is reported with the extra that provides it."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from sse_demo.search.errors import MissingExtraError

SEARCH_EXTRA_HINT = "install it with `pip install 'sse-demo[search]'` (or `pip install faiss-cpu`)"


def import_faiss(purpose: str) -> ModuleType:
    """Import faiss, or say which extra is missing for ``purpose`` (e.g. "index mode 'binary'")."""
    try:
        import faiss
    except ImportError as error:
        raise MissingExtraError(f"{purpose} needs faiss, which is not installed; {SEARCH_EXTRA_HINT}.") from error
    return faiss


def import_quantize_embeddings(purpose: str) -> Callable[..., Any]:
    """sentence-transformers' ``quantize_embeddings``, or say which extra is missing for ``purpose``.

    Importing sentence-transformers takes seconds, so it happens on the first quantization, not at import.
    """
    try:
        from sentence_transformers.util.quantization import quantize_embeddings
    except ImportError as error:
        raise MissingExtraError(
            f"{purpose} needs sentence-transformers, which is not installed; install it with "
            "`pip install 'sse-demo[st]'` (or `pip install sentence-transformers`)."
        ) from error
    return quantize_embeddings
