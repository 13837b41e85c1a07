"""Encode a corpus of any size straight into an index, a chunk at a time, so memory stays bounded."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, Protocol

import numpy as np

from sse_demo.search.backend import IndexMode
from sse_demo.search.index import Index

DEFAULT_CHUNK_SIZE = 10_000


class Encoder(Protocol):
    """Anything that embeds a list of texts as an ``(n, d)`` float array at a Matryoshka ``dim`` (None: its full
    dim), like ``SSEModel``. The one protocol for everything that takes a model: ``encode_corpus``, the evaluators."""

    def encode(self, texts: list[str], *, dim: int | None = None) -> np.ndarray: ...


def encode_corpus(
    model: Encoder,
    texts: Iterable[str],
    index: Index | None = None,
    *,
    dim: int | None = None,
    mode: IndexMode | str | None = None,
    ids: Iterable[Any] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    total: int | None = None,
    show_progress: bool = True,
    **index_options: Any,
) -> Index:
    """Encode ``texts`` with ``model.encode(chunk, dim=dim)`` and add them to ``index``, ``chunk_size`` at a time.

    ``texts`` (and ``ids``, in the same order) may be generators, e.g. lines streamed from a file, so only one
    chunk of texts and its embeddings is ever held besides the index itself: a million passages at 512 dims need
    the index's memory (1.95 GiB exact float32, 549 MiB binary with int8 rescoring, 61 MiB binary alone) plus one chunk.
    Without ``index`` a new one is made with ``mode`` (default exact), ``dim`` (default: ``model.dim`` when the
    model has one) and
    ``index_options`` (see ``Index``). ``total`` sizes the progress bar when ``texts`` has no ``len``.
    """
    from tqdm.auto import tqdm

    if int(chunk_size) != chunk_size or chunk_size < 1:
        raise ValueError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}.")
    if index is None:
        dim = dim or getattr(model, "dim", None)  # an SSEModel knows its full dim; other encoders are told
        if dim is None:
            raise ValueError("Pass dim=: the encoder has no `dim` attribute to size a new index with.")
        index = Index(dim, mode or IndexMode.EXACT, **index_options)
    elif dim is not None and dim != index.dim:
        raise ValueError(f"dim={dim} does not match the index's dim {index.dim}; pass one or the other.")
    elif index_options or mode is not None:
        raise ValueError("mode and index options only apply when encode_corpus makes the index; drop them.")
    if total is None and hasattr(texts, "__len__"):
        total = len(texts)  # type: ignore[arg-type]
    if total is not None:
        index.reserve(len(index) + total)
    id_chunks = _chunks(ids, chunk_size) if ids is not None else None
    with tqdm(
        total=total, unit="text", desc=f"encoding ({index.mode.value}, dim {index.dim})", disable=not show_progress
    ) as bar:
        for chunk in _chunks(texts, chunk_size):
            chunk_ids = None if id_chunks is None else next(id_chunks, [])
            if chunk_ids is not None and len(chunk_ids) != len(chunk):
                raise ValueError("ids and texts have different lengths; pass one id per text.")
            index.add(model.encode(chunk, dim=index.dim), ids=chunk_ids)
            bar.update(len(chunk))
    if id_chunks is not None and next(id_chunks, None) is not None:
        raise ValueError("ids and texts have different lengths; pass one id per text.")
    return index


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Successive lists of up to ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
