"""The Matryoshka dial: the search view, what each dim costs and saves, and how results move against full dim.

The ladder of dims comes from the loaded model: its own dim, then halvings down to the smallest trained rung of
``sse_demo.model.MATRYOSHKA_DIMS`` (32), so a 512-dim model gets exactly the published ladder and a 256- or
1024-dim checkpoint is searched at its own dims.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sse_demo.app.formatting import TEXT_PREVIEW, frame, human_bytes
from sse_demo.app.index import CorpusIndex, Hit, StageTimes, embed_query, overlap, ranks
from sse_demo.app.inputs import Precision, check_dim, check_k, clean_query
from sse_demo.model import MATRYOSHKA_DIMS
from sse_demo.search.exact import top_k

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService
    from sse_demo.app.state import CorpusState

FLOAT32_BYTES = 4
SMALLEST_DIM = min(MATRYOSHKA_DIMS)


def ladder(model_dim: int) -> tuple[int, ...]:
    """The dims the page offers for a model of ``model_dim``: that dim, then halvings while they stay >= 32.

    ``ladder(512)`` is ``MATRYOSHKA_DIMS``; a model smaller than 32 dims gets its own dim only.
    """
    if isinstance(model_dim, bool) or not isinstance(model_dim, (int, np.integer)) or model_dim < 1:
        raise ValueError(f"a model's dim must be a positive integer, got {model_dim!r}")
    dims = [int(model_dim)]
    while dims[-1] % 2 == 0 and dims[-1] // 2 >= SMALLEST_DIM:
        dims.append(dims[-1] // 2)
    return tuple(dims)


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
    index: CorpusIndex, query_raw: np.ndarray, dims: Sequence[int] | None = None, *, k: int = 10, repeats: int = 7
) -> list[DialCost]:
    """Cost of each dim (default: the index's ladder) for this corpus; search time is the median over ``repeats``
    score-and-sort runs."""
    full = bytes_per_vector(index.dim) * len(index.corpus)
    rows = []
    for dim in ladder(index.dim) if dims is None else dims:
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            top_k(index.scores(query_raw, dim), k)
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

    @property
    def label(self) -> str:
        """``=``, ``↑n`` (moved up n places at the chosen dim) or ``↓n``."""
        return "=" if self.shift == 0 else (f"↑{self.shift}" if self.shift > 0 else f"↓{-self.shift}")


def rank_shifts(index: CorpusIndex, query_raw: np.ndarray, hits: list[Hit]) -> list[ShiftedHit]:
    """Where each hit found at a smaller dim ranks at the full dim."""
    full_ranks = ranks(index.scores(query_raw, index.dim))
    return [ShiftedHit(hit, int(full_ranks[hit.index])) for hit in hits]


def result_columns(full_dim: int) -> list[str]:
    """Headers of the results table, naming the model's full dim."""
    return ["rank", "score", "lang", "topic", "text", f"rank@{full_dim}", f"shift vs {full_dim}"]


def search_view(
    service: DemoService, query: object, dim: object, precision: object, k: object, state: CorpusState | None
):
    """Search the corpus at one Matryoshka dim and show what the dial changes.

    Returns (summary Markdown, results at ``dim`` with each result's rank at the model's full dim, results at the
    full dim, what each dim of the ladder costs and saves).
    """
    clean = clean_query(query)
    precision, k = Precision.parse(precision), check_k(k)
    model = service.model(precision)
    dim = check_dim(dim, service.dims, model.dim)
    index = service.index(state, precision)
    full = index.dim
    times = StageTimes()
    query_raw = embed_query(model, clean.text, times)
    hits = index.search(query_raw, dim, k, times)
    full_hits = index.search(query_raw, full, k)
    corpus = index.corpus
    rows = [
        dict(
            zip(
                result_columns(full),
                (
                    s.hit.rank,
                    round(s.hit.score, 4),
                    corpus.langs[s.hit.index],
                    corpus.topics[s.hit.index],
                    corpus.texts[s.hit.index][:TEXT_PREVIEW],
                    s.full_rank,
                    s.label,
                ),
                strict=True,
            )
        )
        for s in rank_shifts(index, query_raw, hits)
    ]
    full_rows = [
        {
            "rank": h.rank,
            "score": round(h.score, 4),
            "lang": corpus.langs[h.index],
            "text": corpus.texts[h.index][:TEXT_PREVIEW],
        }
        for h in full_hits
    ]
    cost_columns = ["dim", "bytes/vector", "index size", "saved vs " + str(full), "search ms (score+sort)", "chosen"]
    costs = [
        dict(
            zip(
                cost_columns,
                (
                    c.dim,
                    c.bytes_per_vector,
                    human_bytes(c.index_bytes),
                    f"{c.saving:.0%}",
                    round(c.search_ms, 4),
                    "◀" if c.dim == dim else "",
                ),
                strict=True,
            )
        )
        for c in dial_costs(index, query_raw, [d for d in service.dims if d <= full])
    ]
    stages = ", ".join(f"{name} {ms:.3f}" for name, ms in times.as_dict().items())
    summary = (
        f"{clean.note} **{precision.value} · dim {dim}** · {len(corpus):,} passages · "
        f"overlap@{k} with dim {full}: {overlap(hits, full_hits):.2f} · search {times.total_ms:.2f} ms "
        f"({stages} ms)"
    ).strip()
    service.searched()
    return (
        summary,
        frame(rows, result_columns(full)),
        frame(full_rows, ["rank", "score", "lang", "text"]),
        frame(costs, cost_columns),
    )
