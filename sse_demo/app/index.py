"""Exact cosine search over a corpus, at any Matryoshka dim, with the time of each stage.

The corpus is encoded once at the model's full dim *without* normalisation; each dim's view is the first d
coordinates L2-normalised, exactly what ``model.encode(..., dim=d)`` returns, so the dial costs no re-encoding.
An exact float search is all a few thousand passages need (the project's ``sse_demo.search`` layer can replace
it for large corpora).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from sse_demo.app.corpus import Corpus
from sse_demo.model.module import normalize_numpy


class Precision(StrEnum):
    """Which of the two loaded models a view uses."""

    FP32 = "fp32"
    Q4 = "4-bit"


def truncate_normalize(raw: np.ndarray, dim: int) -> np.ndarray:
    """First ``dim`` columns, then unit L2 norm per row (zero rows stay zero): the Matryoshka view."""
    return normalize_numpy(np.ascontiguousarray(raw[..., :dim], dtype=np.float32))


@dataclass
class StageTimes:
    """Milliseconds spent in each stage of one search."""

    tokenize_ms: float = 0.0
    embed_ms: float = 0.0
    score_ms: float = 0.0
    sort_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.tokenize_ms + self.embed_ms + self.score_ms + self.sort_ms


@dataclass(frozen=True)
class Hit:
    """One result: its rank (1 = best), row in the corpus and cosine score."""

    rank: int
    index: int
    score: float


@dataclass
class CorpusIndex:
    """A corpus with the raw full-dim embeddings of one model and the normalised views made so far."""

    corpus: Corpus
    raw: np.ndarray
    _views: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, model, corpus: Corpus, dims: tuple[int, ...] = ()) -> CorpusIndex:
        """Encode every passage once (unnormalised, full dim) and prepare the views of ``dims``.

        Preparing the views here keeps their one-off cost out of the first search's timing.
        """
        index = cls(corpus, model.encode(corpus.texts, normalize=False))
        for dim in dims:
            if dim <= index.dim:
                index.view(dim)
        return index

    @property
    def dim(self) -> int:
        return int(self.raw.shape[1])

    def view(self, dim: int) -> np.ndarray:
        """The (n, dim) unit-norm matrix used for scoring at ``dim``."""
        if dim not in self._views:
            self._views[dim] = truncate_normalize(self.raw, dim)
        return self._views[dim]

    def scores(self, query_raw: np.ndarray, dim: int) -> np.ndarray:
        """Cosine of the query (raw, full dim) with every passage at ``dim``."""
        return self.view(dim) @ truncate_normalize(query_raw, dim)

    def search(self, query_raw: np.ndarray, dim: int, k: int, times: StageTimes | None = None) -> list[Hit]:
        """The ``k`` best passages at ``dim``, best first; fills ``times.score_ms`` / ``sort_ms`` if given."""
        times = times if times is not None else StageTimes()
        start = time.perf_counter()
        scores = self.scores(query_raw, dim)
        middle = time.perf_counter()
        order = top_k(scores, k)
        end = time.perf_counter()
        times.score_ms, times.sort_ms = (middle - start) * 1e3, (end - middle) * 1e3
        return [Hit(rank, int(i), float(scores[i])) for rank, i in enumerate(order, start=1)]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first; ties keep corpus order (a stable sort)."""
    k = max(0, min(int(k), len(scores)))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    if k < len(scores):
        candidates = np.argpartition(-scores, k - 1)[:k]
        threshold = scores[candidates].min()
        candidates = np.flatnonzero(scores >= threshold)
    else:
        candidates = np.arange(len(scores))
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    return order[:k]


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every row under the same ordering as :func:`top_k`."""
    order = np.argsort(-scores, kind="stable")
    result = np.empty(len(scores), dtype=np.int64)
    result[order] = np.arange(1, len(scores) + 1)
    return result


def embed_query(model, text: str, times: StageTimes | None = None) -> np.ndarray:
    """The query's raw full-dim embedding (not normalised); fills ``times.tokenize_ms`` / ``embed_ms``.

    Tokenising and pooling are timed apart, which ``model.encode`` cannot do, so this calls the two steps
    that ``encode`` is made of.
    """
    import torch

    times = times if times is not None else StageTimes()
    start = time.perf_counter()
    ids, offsets = model.tokenize([text])
    middle = time.perf_counter()
    with torch.inference_mode():
        raw = model.module(torch.from_numpy(ids).to(model.device), torch.from_numpy(offsets).to(model.device))
        raw = raw.float().cpu().numpy()[0]
    end = time.perf_counter()
    times.tokenize_ms, times.embed_ms = (middle - start) * 1e3, (end - middle) * 1e3
    return raw
