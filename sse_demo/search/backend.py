"""The index modes and the interface each implements; the public ``Index`` wraps one backend and adds ids and
files. faiss, which the int8, binary and ivf backends build on, is imported here on first use."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

SEARCH_EXTRA_HINT = "install it with `pip install 'sse-demo[search]'` (or `pip install faiss-cpu`)"


class IndexMode(StrEnum):
    """How an index stores vectors and finds the top-k (a str-Enum: it round-trips through manifests and flags).

    - ``exact``: float32 matrix product over every vector (NumPy on CPU, torch on a GPU).
    - ``int8``: one byte per dimension (faiss scalar quantizer); the float query is scored against every
      dequantised vector, which is what sentence-transformers' int8 rescoring computes.
    - ``binary``: one bit per dimension, Hamming search (faiss ``IndexBinaryFlat``) for
      ``top_k * rescore_multiplier`` candidates, then rescoring against the float query.
    - ``ivf``: approximate inverted-file search over float32 vectors (faiss ``IndexIVFFlat``) for large corpora.
    """

    EXACT = "exact"
    INT8 = "int8"
    BINARY = "binary"
    IVF = "ivf"


class MissingExtraError(ImportError):
    """An optional dependency of the chosen index mode is not installed."""


def import_faiss(purpose: str) -> ModuleType:
    """Import faiss, or say which extra is missing for ``purpose`` (e.g. "index mode 'binary'")."""
    try:
        import faiss
    except ImportError as error:
        raise MissingExtraError(f"{purpose} needs faiss, which is not installed; {SEARCH_EXTRA_HINT}.") from error
    return faiss


class Backend(ABC):
    """Stores float32 vectors of one dim and returns the rows nearest to float32 queries by inner product.

    Rows are numbered in insertion order; the ``Index`` maps them to caller ids. Inputs are already validated
    (C-contiguous float32, right dim) by the ``Index``.
    """

    mode: ClassVar[IndexMode]

    def __init__(self, dim: int) -> None:
        self.dim = dim

    @property
    @abstractmethod
    def count(self) -> int:
        """Number of vectors added."""

    @property
    @abstractmethod
    def nbytes(self) -> int:
        """Bytes held in memory by the searchable structures (vectors, codes, rescoring copies, centroids)."""

    @abstractmethod
    def options(self) -> dict[str, Any]:
        """The settings this backend was built with, as JSON values (they go into the manifest)."""

    @abstractmethod
    def add(self, vectors: np.ndarray) -> None:
        """Append vectors of shape ``(n, dim)``."""

    def reserve(self, rows: int) -> None:  # noqa: B027 (optional hook)
        """Preallocate room for ``rows`` vectors in total where that avoids regrowth (a hint; default no-op)."""

    def finalize(self) -> None:  # noqa: B027 (optional hook)
        """Make every added vector searchable (train on buffered vectors where the mode needs training)."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int, rescore_multiplier: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows per query, best first: ``(scores float32 (q, k), rows int64 (q, k))``; -1 marks no row.

        ``rescore_multiplier`` overrides the built-in one for this call (quantized modes only).
        """

    @abstractmethod
    def save(self, folder: Path) -> list[str]:
        """Write the backend's files into ``folder``; return their names."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path, dim: int, options: dict[str, Any], mmap: bool) -> Backend:
        """Read what ``save`` wrote. ``mmap`` keeps large float/int8 arrays on disk where the mode allows."""


class TrainedBackend(Backend):
    """A backend that must see sample vectors before it can encode them (quantizer ranges, IVF centroids).

    Vectors added before training are buffered until ``train_rows`` of them have arrived (or until the first
    search or save), so a corpus streamed in small chunks is still trained on a representative sample.
    """

    train_rows: int = 16_384

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._pending: list[np.ndarray] = []
        self._pending_rows = 0
        self._trained = False

    @property
    def count(self) -> int:
        return self._trained_count() + self._pending_rows

    @abstractmethod
    def _trained_count(self) -> int:
        """Number of vectors already encoded by the trained structures."""

    @abstractmethod
    def _train(self, sample: np.ndarray) -> None:
        """Fit the quantizer / centroids on ``sample``."""

    @abstractmethod
    def _add_trained(self, vectors: np.ndarray) -> None:
        """Encode and append vectors once trained."""

    def add(self, vectors: np.ndarray) -> None:
        if self._trained:
            self._add_trained(vectors)
            return
        self._pending.append(vectors.copy())
        self._pending_rows += len(vectors)
        if self._pending_rows >= self.train_rows:
            self.finalize()

    def finalize(self) -> None:
        if self._trained or not self._pending:
            return
        pending = np.concatenate(self._pending)
        self._pending, self._pending_rows = [], 0
        self._train(pending[: self.train_rows])
        self._trained = True
        self._add_trained(pending)
