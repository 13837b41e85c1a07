"""The interface every index mode implements; the public ``Index`` wraps one of these and adds ids and files."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sse_demo.search.modes import IndexMode


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
