"""Live throughput of the loaded models on this machine, and the time of each stage of one search."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from sse_demo.app.formatting import plotly
from sse_demo.app.index import StageTimes, embed_query
from sse_demo.app.inputs import DEFAULT_K, Precision, clean_query

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService
    from sse_demo.app.state import CorpusState
    from sse_demo.model import SSEModel
    from sse_demo.model.peers import PeerModel

STAGE_RUNS = 21  # searches timed per stage; the median is shown
WARM_UP_TEXTS = 1024


def texts_per_second(
    model: SSEModel | PeerModel, texts: list[str], *, min_seconds: float = 0.3, repeats: int = 3
) -> float:
    """Median texts/s over ``repeats`` runs, each encoding ``texts`` (at the model's own batch size) as often as fits
    in ``min_seconds``."""
    if not texts:
        raise ValueError("need at least one text to time")
    model.encode(texts[:WARM_UP_TEXTS])  # warm-up: first call allocates
    rates = []
    for _ in range(repeats):
        done, start = 0, time.perf_counter()
        while True:
            model.encode(texts)
            done += len(texts)
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        rates.append(done / elapsed)
    return float(np.median(rates))


def speed_view(service: DemoService, query: object, state: CorpusState | None):
    """Live texts/s of both models on the corpus, and the time of each stage of one search (median of 21).

    The stages are those ``model.encode`` runs on CPU (tokenise, pool, DyT), then the search's (truncate and
    normalise the query, score every passage, sort). Returns (summary Markdown, figure).
    """
    clean = clean_query(query)
    texts = service.state(state).corpus.texts
    lines = []
    for precision in Precision:
        rate = texts_per_second(service.model(precision), texts, min_seconds=0.2, repeats=3)
        lines.append(f"{precision.value}: **{rate:,.0f} texts/s** ({len(texts):,} corpus passages per call)")
    index = service.index(state, Precision.FP32)
    model = service.model(Precision.FP32)
    runs = []
    for _ in range(STAGE_RUNS):
        times = StageTimes()
        index.search(embed_query(model, clean.text, times), index.dim, DEFAULT_K, times)
        runs.append(times.as_dict())
    stages = {name: float(np.median([run[name] for run in runs])) for name in StageTimes.STAGES}
    total = float(np.median([sum(run.values()) for run in runs]))
    summary = (
        f"On this machine ({model.device.type}): " + " · ".join(lines) + f". One search of the corpus at "
        f"{index.dim} dims: **{total:.3f} ms** (median of {STAGE_RUNS})."
    )
    return summary, speed_bars(stages)


def speed_bars(stages: dict[str, float]) -> object:
    """Milliseconds per stage of one search."""
    go = plotly()
    figure = go.Figure(go.Bar(x=list(stages), y=list(stages.values()), text=[f"{v:.3f} ms" for v in stages.values()]))
    figure.update_layout(title="Time per stage of one search (ms)", yaxis_title="ms", height=320)
    return figure
