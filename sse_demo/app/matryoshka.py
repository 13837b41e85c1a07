"""The Matryoshka dial: what each dim costs and saves, and how results move against the full 512 dims."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from sse_demo.app.index import CorpusIndex, Hit, ranks, top_k, truncate_normalize

DIMS = (512, 256, 128, 64, 32)
FLOAT32_BYTES = 4


@dataclass(frozen=True)
class DialCost:
    """Storage and time of an index at one dim."""

    dim: int
    bytes_per_vector: int
    index_bytes: int
    saving: float  # fraction of the full-dim index saved
    search_ms: float  # median time to score and sort the corpus for one query


def bytes_per_vector(dim: int) -> int:
    """A float32 vector of ``dim`` coordinates."""
    return dim * FLOAT32_BYTES


def dial_costs(
    index: CorpusIndex, query_raw: np.ndarray, dims=DIMS, *, k: int = 10, repeats: int = 7
) -> list[DialCost]:
    """Cost of each dim for this corpus; search time is the median over ``repeats`` score-and-sort runs."""
    full = bytes_per_vector(index.dim) * len(index.corpus)
    rows = []
    for dim in dims:
        matrix = index.view(dim)
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            top_k(matrix @ truncate_normalize(query_raw, dim), k)
            timings.append((time.perf_counter() - start) * 1e3)
        size = bytes_per_vector(dim) * len(index.corpus)
        rows.append(DialCost(dim, bytes_per_vector(dim), size, 1 - size / full, float(np.median(timings))))
    return rows


@dataclass(frozen=True)
class ShiftedHit:
    """A result at the chosen dim, with its rank at the full dim and how far it moved."""

    hit: Hit
    full_rank: int

    @property
    def shift(self) -> int:
        """Positive: the result ranks higher at the chosen dim than at full dim."""
        return self.full_rank - self.hit.rank


def rank_shifts(index: CorpusIndex, query_raw: np.ndarray, hits: list[Hit]) -> list[ShiftedHit]:
    """Where each hit found at a smaller dim ranks at the full dim."""
    full_ranks = ranks(index.scores(query_raw, index.dim))
    return [ShiftedHit(hit, int(full_ranks[hit.index])) for hit in hits]


def overlap(a: list[Hit], b: list[Hit]) -> float:
    """Share of the shorter list's passages found in the other list (1.0 = same set)."""
    if not a or not b:
        return 0.0
    return len({h.index for h in a} & {h.index for h in b}) / min(len(a), len(b))
