"""Exact cosine search over a corpus, at any Matryoshka dim, with the time of each stage.

The corpus is encoded once at the model's full dim and kept L2-normalised (one float32 matrix), with each
Matryoshka dim's row norms: the cosine at dim d is the first d coordinates' dot product divided by that prefix's
norm, exactly the score against ``model.encode(..., dim=d)``, so the dial costs no re-encoding and no copy of the
matrix per dim (a 5,000-passage upload holds 10 MB, not the 30 MB that raw vectors and five views took).
An exact float search is all a few thousand passages need (the project's ``sse_demo.search`` layer can replace
it for large corpora).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sse_demo.app.saturation import DyTParams
from sse_demo.model.module import normalize_numpy
from sse_demo.search.exact import top_k

if TYPE_CHECKING:
    from sse_demo.app.corpus import Corpus
    from sse_demo.model import SSEModel


def truncate_normalize(raw: np.ndarray, dim: int) -> np.ndarray:
    """First ``dim`` columns, then unit L2 norm per row (zero rows stay zero): the Matryoshka view."""
    return normalize_numpy(np.ascontiguousarray(raw[..., :dim], dtype=np.float32))


@dataclass
class StageTimes:
    """Milliseconds spent in each stage of one search, in the order ``model.encode`` and the search run them."""

    tokenize_ms: float = 0.0
    pool_ms: float = 0.0
    dyt_ms: float = 0.0
    normalize_ms: float = 0.0
    score_ms: float = 0.0
    sort_ms: float = 0.0

    STAGES = ("tokenize", "pool", "dyt", "normalize", "score", "sort")

    def as_dict(self) -> dict[str, float]:
        """Stage name to milliseconds, in running order."""
        return {name: getattr(self, f"{name}_ms") for name in self.STAGES}

    @property
    def total_ms(self) -> float:
        return sum(self.as_dict().values())


@dataclass(frozen=True)
class Hit:
    """One result: its rank (1 = best), row in the corpus and cosine score."""

    rank: int
    index: int
    score: float


@dataclass
class CorpusIndex:
    """A corpus with its unit-norm full-dim embeddings under one model and each dim's inverse prefix norms."""

    corpus: Corpus
    unit: np.ndarray  # (n, full dim) float32, rows L2-normalised (zero rows stay zero)
    _inverse_norms: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, model: SSEModel, corpus: Corpus, dims: Sequence[int] = ()) -> CorpusIndex:
        """Encode every passage once at full dim and prepare the prefix norms of ``dims``."""
        index = cls(corpus, np.ascontiguousarray(model.encode(corpus.texts, normalize=True), dtype=np.float32))
        for dim in dims:
            if dim < index.dim:
                index._inverse_norm(dim)
        return index

    @property
    def dim(self) -> int:
        return int(self.unit.shape[1])

    @property
    def nbytes(self) -> int:
        """Memory of the matrix and the prefix norms."""
        return self.unit.nbytes + sum(norms.nbytes for norms in self._inverse_norms.values())

    def _inverse_norm(self, dim: int) -> np.ndarray:
        """1 / the norm of each row's first ``dim`` coordinates (0 for a zero prefix), computed once per dim."""
        if dim not in self._inverse_norms:
            norms = np.linalg.norm(self.unit[:, :dim], axis=1)
            inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
            self._inverse_norms[dim] = inverse.astype(np.float32)
        return self._inverse_norms[dim]

    def view(self, dim: int) -> np.ndarray:
        """The (n, dim) unit-norm matrix at ``dim`` (a new array below full dim: for whole-corpus comparisons)."""
        if dim >= self.dim:
            return self.unit
        return self.unit[:, :dim] * self._inverse_norm(dim)[:, None]

    def scores(self, query_raw: np.ndarray, dim: int) -> np.ndarray:
        """Cosine of the query (raw, full dim) with every passage at ``dim``."""
        return self._scores(truncate_normalize(query_raw, dim), dim)

    def _scores(self, query: np.ndarray, dim: int) -> np.ndarray:
        if dim >= self.dim:
            return self.unit @ query
        return (self.unit[:, :dim] @ query) * self._inverse_norm(dim)

    def search(self, query_raw: np.ndarray, dim: int, k: int, times: StageTimes | None = None) -> list[Hit]:
        """The ``k`` best passages at ``dim``, best first; fills the normalise, score and sort times if given."""
        times = times if times is not None else StageTimes()
        start = time.perf_counter()
        query = truncate_normalize(query_raw, dim)
        normalized = time.perf_counter()
        scores = self._scores(query, dim)
        scored = time.perf_counter()
        order = top_k(scores, k)
        end = time.perf_counter()
        times.normalize_ms = (normalized - start) * 1e3
        times.score_ms, times.sort_ms = (scored - normalized) * 1e3, (end - scored) * 1e3
        return [Hit(rank, int(i), float(scores[i])) for rank, i in enumerate(order, start=1)]


def hits_of(scores: np.ndarray, k: int) -> list[Hit]:
    """The ``k`` best rows of one query's ``scores`` as hits, best first."""
    return [Hit(rank, int(i), float(scores[i])) for rank, i in enumerate(top_k(scores, k), start=1)]


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every row: higher score first, ties to the lower row (the order of :func:`top_k`)."""
    order = np.argsort(-scores, kind="stable")
    result = np.empty(len(scores), dtype=np.int64)
    result[order] = np.arange(1, len(scores) + 1)
    return result


def overlap(a: Sequence[Hit], b: Sequence[Hit]) -> float:
    """Share of the shorter list's passages found in the other list (1.0 = same set; 0.0 if either is empty).

    The app's one measure of how far two result lists agree (dims, precisions): for two top-k lists it is
    overlap@k.
    """
    if not a or not b:
        return 0.0
    return len({h.index for h in a} & {h.index for h in b}) / min(len(a), len(b))


def embed_query(model: SSEModel, text: str, times: StageTimes | None = None) -> np.ndarray:
    """The query's raw full-dim embedding (DyT applied, not normalised); fills the tokenise, pool and DyT times.

    These are the steps CPU ``model.encode`` takes, in numpy as it does them: tokenise, the mean of the tokens'
    table rows (a 4-bit model dequantises only those rows), then DyT. The result equals
    ``model.encode([text], normalize=False)[0]``; truncating and normalising it is the search's first stage.
    """
    times = times if times is not None else StageTimes()
    start = time.perf_counter()
    ids, _ = model.tokenize([text])
    tokenized = time.perf_counter()
    rows = model.token_vectors(ids)
    pooled = rows.sum(axis=0, dtype=np.float32) / np.float32(max(len(rows), 1))  # row by row, as encode sums
    mid = time.perf_counter()
    raw = DyTParams.of(model).apply(pooled)
    end = time.perf_counter()
    times.tokenize_ms, times.pool_ms, times.dyt_ms = (
        (tokenized - start) * 1e3,
        (mid - tokenized) * 1e3,
        (end - mid) * 1e3,
    )
    return raw.astype(np.float32, copy=False)
