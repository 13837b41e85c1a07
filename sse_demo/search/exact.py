"""Exact float32 search: one matrix product against every vector (NumPy BLAS on CPU, torch on a GPU)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from sse_demo.model.static import default_device
from sse_demo.search.backend import Backend, IndexMode
from sse_demo.search.buffer import GrowableArray

# Scores computed per matrix product (float32: 256 MiB): a single query scores up to 64M rows in one product
# (no per-block overhead), a batch of 256 queries 262,144 rows at a time, so memory stays bounded.
SCORE_ELEMENTS = 1 << 26


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores along the last axis, best first; equal scores go to the lower index.

    The one ranking rule of the package (search, evaluation, the app), so a tie never depends on a selection
    algorithm: ``scores`` of shape ``(n,)`` or ``(q, n)`` give int64 indices of shape ``(min(k, n),)`` or
    ``(q, min(k, n))``. A partial selection finds each row's k-th best score; only rows where more than k
    scores reach it (ties at the cut, or NaN) are ranked by a stable sort.
    """
    scores = np.asarray(scores)
    columns = scores.shape[-1]
    k = max(0, min(int(k), columns))
    rows = scores.reshape(math.prod(scores.shape[:-1]), columns)
    if 0 < k < columns:
        picked = np.argpartition(rows, columns - k, axis=1)[:, columns - k :]
        kth = np.take_along_axis(rows, picked, 1).min(axis=1, keepdims=True)
        for row in np.flatnonzero(np.count_nonzero(rows >= kth, axis=1) != k):
            picked[row] = _resolve_cut(rows[row], kth[row, 0], k)
        picked.sort(axis=1)  # index order, so that the stable sort below sends ties to the lower index
    else:
        picked = np.broadcast_to(np.arange(columns), rows.shape)[:, :k]
    order = np.argsort(-np.take_along_axis(rows, picked, 1), axis=1, kind="stable")
    return np.take_along_axis(picked, order, 1).astype(np.int64, copy=False).reshape(*scores.shape[:-1], k)


def _resolve_cut(scores: np.ndarray, kth: float, k: int) -> np.ndarray:
    """The ``k`` best of one row when several scores tie at the cut: all above it, then the lowest tied indices.

    Linear in the row, so corpora with duplicate passages (many exact ties) stay as fast as the partition; a row
    with NaN (which the partition counts as largest) falls back to a stable sort, where NaN ranks last.
    """
    if np.isnan(kth):
        return np.argsort(-scores, kind="stable")[:k]
    above = np.flatnonzero(scores > kth)
    return np.concatenate([above, np.flatnonzero(scores == kth)[: k - len(above)]])


def best_rows(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best ``(score, row)`` candidates per query by ``top_k``'s rule, ties going to the lower row."""
    by_row = np.argsort(rows, axis=1, kind="stable")
    scores, rows = np.take_along_axis(scores, by_row, 1), np.take_along_axis(rows, by_row, 1)
    picked = top_k(scores, k)
    return np.take_along_axis(scores, picked, 1), np.take_along_axis(rows, picked, 1)


class ExactBackend(Backend):
    """Brute-force inner product; the reference every other mode is measured against.

    Vectors live in a NumPy buffer (which may be a memory map after ``load(..., mmap=True)``); on a GPU a device
    copy is made on the first search after each add. At most ``SCORE_ELEMENTS`` scores are computed at a time, so
    memory stays bounded whatever the corpus and batch size.
    """

    mode = IndexMode.EXACT

    def __init__(self, dim: int, device: str | None = None) -> None:
        super().__init__(dim)
        self.device = device or default_device()
        self._vectors = GrowableArray(dim, np.float32)
        self._device_copy: Any = None

    @property
    def count(self) -> int:
        return len(self._vectors)

    @property
    def nbytes(self) -> int:
        return self._vectors.nbytes

    @property
    def vectors(self) -> np.ndarray:
        """The stored vectors (a view)."""
        return self._vectors.array

    def options(self) -> dict[str, Any]:
        return {}

    def reserve(self, rows: int) -> None:
        self._vectors.reserve(rows)

    def add(self, vectors: np.ndarray) -> None:
        self._vectors.append(vectors)
        self._device_copy = None

    def search(self, queries: np.ndarray, k: int, rescore_multiplier: int | None) -> tuple[np.ndarray, np.ndarray]:
        best_scores = np.empty((len(queries), 0), dtype=np.float32)
        best = np.empty((len(queries), 0), dtype=np.int64)
        search_block = self._block_top_k_numpy if self.device == "cpu" else self._block_top_k_torch
        block_rows = max(1, SCORE_ELEMENTS // len(queries))
        for start in range(0, self.count, block_rows):
            scores, rows = search_block(queries, start, start + block_rows, k)
            best_scores, best = best_rows(np.hstack((best_scores, scores)), np.hstack((best, rows + start)), k)
        return best_scores, best

    def _block_top_k_numpy(self, queries: np.ndarray, start: int, stop: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        # On CPU, NumPy's BLAS matrix-vector product measured about 2x faster than torch's on this project's
        # 2-core machine at batch 1, and no slower at batch 64 (bench/search_bench.py).
        scores = queries @ self._vectors.array[start:stop].T
        rows = top_k(scores, k)
        return np.take_along_axis(scores, rows, 1), rows

    def _block_top_k_torch(self, queries: np.ndarray, start: int, stop: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        if self._device_copy is None:
            self._device_copy = torch.from_numpy(np.ascontiguousarray(self._vectors.array)).to(self.device)
        with torch.inference_mode():
            block = self._device_copy[start:stop]
            scores = torch.from_numpy(queries).to(block.device) @ block.T
            k = min(k, len(block))
            best, rows = torch.topk(scores, k, dim=1)
            # topk picks among scores equal to the k-th at random; those queries take a stable sort instead, so
            # ties go to the lower row as on CPU (best_rows orders ties inside the k afterwards).
            tied = ((scores >= best[:, -1:]).sum(dim=1) > k).nonzero().squeeze(1)
            if len(tied):
                ranked = torch.sort(scores[tied], dim=1, descending=True, stable=True)
                best[tied], rows[tied] = ranked.values[:, :k], ranked.indices[:, :k]
        return best.cpu().numpy(), rows.cpu().numpy().astype(np.int64)

    def save(self, folder: Path) -> list[str]:
        np.save(folder / "vectors.npy", self._vectors.array)
        return ["vectors.npy"]

    @classmethod
    def load(cls, folder: Path, dim: int, options: dict[str, Any], mmap: bool) -> ExactBackend:
        backend = cls(dim)
        backend._vectors = GrowableArray(
            dim, np.float32, np.load(folder / "vectors.npy", mmap_mode="r" if mmap else None)
        )
        return backend
