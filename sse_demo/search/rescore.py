"""Second-stage scoring of quantized-search candidates against the float query.

A quantized first stage (Hamming on sign bits) ranks coarsely; rescoring ``top_k * rescore_multiplier`` candidates
with a finer copy of their vectors recovers most of the exact ranking at a tiny fraction of the exact cost. This is
the recipe of sentence-transformers' ``semantic_search_faiss``; here the finer copies are kept by the index.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from pathlib import Path

import numpy as np

from sse_demo.search.buffer import GrowableArray
from sse_demo.search.exact import best_rows


class Rescore(StrEnum):
    """What the candidates of a quantized search are rescored against the float query with.

    - ``none``: keep the first-stage scores.
    - ``bits``: the candidates' own sign bits as 0/1 vectors (sentence-transformers' default for binary; no extra
      memory).
    - ``int8``: int8 copies of the vectors (``int8_codes``; 1 byte per dimension).
    - ``float32``: the original vectors (4 bytes per dimension; can stay on disk with ``Index.load(..., mmap=True)``).
    """

    NONE = "none"
    BITS = "bits"
    INT8 = "int8"
    FLOAT32 = "float32"


class RescoreStore(ABC):
    """Finer copies of the indexed vectors, gathered by row for rescoring."""

    kind: Rescore

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def train(self, sample: np.ndarray) -> None:  # noqa: B027 (optional hook)
        """Fit quantization ranges on sample vectors (no-op for stores that need none)."""

    @property
    @abstractmethod
    def nbytes(self) -> int:
        """Bytes held in memory (0 for memory-mapped arrays would be a lie, so mapped bytes count too)."""

    @abstractmethod
    def add(self, vectors: np.ndarray) -> None:
        """Append the finer copies of ``vectors``."""

    @abstractmethod
    def gather(self, rows: np.ndarray) -> np.ndarray:
        """Float32 vectors of ``rows`` (any shape of non-negative row numbers), shape ``rows.shape + (dim,)``."""

    @abstractmethod
    def save(self, folder: Path) -> list[str]:
        """Write the store's files into ``folder``; return their names."""

    @abstractmethod
    def load(self, folder: Path, mmap: bool) -> None:
        """Read what ``save`` wrote."""


class Float32Store(RescoreStore):
    """The original float32 vectors: exact rescoring, 4 bytes per dimension."""

    kind = Rescore.FLOAT32
    file = "rescore_float32.npy"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._vectors = GrowableArray(dim, np.float32)

    @property
    def nbytes(self) -> int:
        return self._vectors.nbytes

    def add(self, vectors: np.ndarray) -> None:
        self._vectors.append(vectors)

    def gather(self, rows: np.ndarray) -> np.ndarray:
        return self._vectors.array[rows]

    def save(self, folder: Path) -> list[str]:
        np.save(folder / self.file, self._vectors.array)
        return [self.file]

    def load(self, folder: Path, mmap: bool) -> None:
        self._vectors = GrowableArray(
            self.dim, np.float32, np.load(folder / self.file, mmap_mode="r" if mmap else None)
        )


def int8_grid(ranges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and width of each dimension's 255 buckets, from ``ranges`` (min row, max row); a zero-width
    dimension gets width 1 so nothing divides by zero. sentence-transformers' own grid, to the last bit."""
    ranges = ranges.astype(np.float32, copy=False)
    starts = ranges[0, :]
    steps = (ranges[1, :] - starts) / 255
    return starts, np.where(steps == 0, 1, steps)


def int8_codes(vectors: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """int8 codes of float32 ``vectors``: the bucket of each value (floored, clipped to 0..255) minus 128.

    Bit for bit what sentence-transformers' ``quantize_embeddings(vectors, precision="int8", ranges=ranges)``
    returns (tests compare the two), so indexes saved when that function made the codes load unchanged.
    """
    starts, steps = int8_grid(ranges)
    return (np.clip(np.floor((vectors - starts) / steps), 0, 255) - 128).astype(np.int8)


class Int8Store(RescoreStore):
    """int8 copies (``int8_codes``, sentence-transformers' int8 grid): 1 byte per dimension.

    The per-dimension ranges (min and max of a training sample, as sentence-transformers calibrates them) are
    fitted once and kept, so every chunk added later is quantized on the same grid.
    """

    kind = Rescore.INT8
    codes_file = "rescore_int8.npy"
    ranges_file = "rescore_int8_ranges.npy"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._codes = GrowableArray(dim, np.int8)
        self._ranges: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return self._codes.nbytes + (0 if self._ranges is None else self._ranges.nbytes)

    def train(self, sample: np.ndarray) -> None:
        self._ranges = np.vstack((sample.min(axis=0), sample.max(axis=0))).astype(np.float32)

    def add(self, vectors: np.ndarray) -> None:
        assert self._ranges is not None, "Int8Store.add before train"
        self._codes.append(int8_codes(vectors, self._ranges))

    def gather(self, rows: np.ndarray) -> np.ndarray:
        # Inverse of the int8 grid: code c covers [start + (c+128)*step, start + (c+129)*step); the bucket
        # centre (+0.5) keeps scores close to cosine. The offset is the same for every candidate, so the
        # ranking equals sentence-transformers' own dequantisation.
        assert self._ranges is not None, "Int8Store.gather before train"
        start, step = int8_grid(self._ranges)
        return (self._codes.array[rows].astype(np.float32) + 128.5) * step + start

    def save(self, folder: Path) -> list[str]:
        assert self._ranges is not None, "Int8Store.save before train"
        np.save(folder / self.codes_file, self._codes.array)
        np.save(folder / self.ranges_file, self._ranges)
        return [self.codes_file, self.ranges_file]

    def load(self, folder: Path, mmap: bool) -> None:
        codes = np.load(folder / self.codes_file, mmap_mode="r" if mmap else None)
        self._codes = GrowableArray(self.dim, np.int8, codes)
        self._ranges = np.load(folder / self.ranges_file)


def make_store(kind: Rescore, dim: int) -> RescoreStore | None:
    """The store that keeps what ``kind`` rescoring needs; ``None`` when the backend's own codes suffice."""
    if kind is Rescore.FLOAT32:
        return Float32Store(dim)
    if kind is Rescore.INT8:
        return Int8Store(dim)
    return None


def rescore(queries: np.ndarray, candidates: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` of ``candidates`` (q, c; -1 = none) by inner product of ``queries`` (q, d) with ``vectors``.

    Ranked by ``top_k``'s rule like exact search: equal scores go to the lower row, whatever the first stage's order.
    """
    scores = np.einsum("qd,qcd->qc", queries, vectors, dtype=np.float32)
    scores[candidates < 0] = -np.inf
    return best_rows(scores, candidates, k)
