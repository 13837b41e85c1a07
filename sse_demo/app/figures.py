"""Plotly figures for the page. Each takes plain numbers and returns a ``plotly.graph_objects.Figure``."""

from __future__ import annotations

import numpy as np

from sse_demo.app.saturation import DyTParams, Saturation, per_dim_rate

LANG_COLOURS = {"en": "#1f77b4", "ja": "#d62728"}


def _go():
    import plotly.graph_objects as go

    return go


def tanh_curves(sat: Saturation, params: DyTParams, title: str) -> object:
    """Every dimension of one text as a point on the tanh curve, saturated ones highlighted."""
    go = _go()
    u = np.linspace(min(-4.0, float(sat.u.min()) - 0.5), max(4.0, float(sat.u.max()) + 0.5), 200)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=u, y=np.tanh(u), mode="lines", name="tanh(u)", line={"color": "#888"}))
    figure.add_trace(go.Scatter(x=u, y=1 - np.tanh(u) ** 2, mode="lines", name="sech²(u) gate", line={"dash": "dot"}))
    dims = np.arange(len(sat.u))
    for mask, name, colour in ((~sat.saturated, "in range", "#1f77b4"), (sat.saturated, "saturated", "#d62728")):
        figure.add_trace(
            go.Scatter(
                x=sat.u[mask],
                y=np.tanh(sat.u[mask]),
                mode="markers",
                name=f"{name} ({int(mask.sum())})",
                marker={"color": colour, "size": 6},
                text=[f"dim {k}: x={sat.x[k]:.3f}, y={sat.y[k]:.3f}, gate={sat.gate[k]:.3f}" for k in dims[mask]],
                hoverinfo="text",
            )
        )
    for edge in (-sat.threshold, sat.threshold):
        figure.add_vline(x=edge, line={"dash": "dash", "color": "#d62728", "width": 1})
    figure.update_layout(title=title, xaxis_title="u = alpha·x + bias", yaxis_title="tanh(u)", height=420)
    return figure


def per_dimension(sat: Saturation, title: str) -> object:
    """Pooled x_k and output y_k for each dimension of one text."""
    go = _go()
    dims = np.arange(len(sat.x))
    figure = go.Figure()
    figure.add_trace(go.Bar(x=dims, y=sat.x, name="x_k (pooled)", opacity=0.6))
    figure.add_trace(go.Bar(x=dims, y=sat.y, name="y_k (DyT output)", opacity=0.6))
    figure.update_layout(barmode="overlay", title=title, xaxis_title="dimension k", height=360)
    return figure


def corpus_histograms(sat: Saturation, title: str) -> object:
    """Histogram of u over all corpus entries, and each dimension's saturation rate across the corpus."""
    from plotly.subplots import make_subplots

    go = _go()
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("u = alpha·x + bias, all texts and dims", "saturated share per dim")
    )
    figure.add_trace(go.Histogram(x=sat.u.ravel(), nbinsx=80, name="u"), row=1, col=1)
    figure.add_trace(go.Bar(x=np.arange(sat.u.shape[-1]), y=per_dim_rate(sat), name="saturated share"), row=1, col=2)
    figure.update_layout(title=title, height=380, showlegend=False)
    return figure


def dyt_parameters(params: DyTParams) -> object:
    """The learned alpha, beta and bias of each dimension."""
    go = _go()
    dims = np.arange(len(params.alpha))
    figure = go.Figure()
    for name in ("alpha", "beta", "bias"):
        figure.add_trace(go.Scatter(x=dims, y=getattr(params, name), mode="lines", name=name))
    figure.update_layout(
        title="Learned DyT parameters / 学習された DyT パラメータ", xaxis_title="dimension k", height=340
    )
    return figure


def quality_vs_dim(rows: list[dict], title: str) -> object:
    """NDCG@10 against dim, one line per labelled set."""
    go = _go()
    figure = go.Figure()
    for name in dict.fromkeys(row["set"] for row in rows):
        mine = [row for row in rows if row["set"] == name]
        figure.add_trace(
            go.Scatter(x=[r["dim"] for r in mine], y=[r["ndcg@10"] for r in mine], mode="lines+markers", name=name)
        )
    figure.update_layout(
        title=title,
        xaxis={"title": "dim", "type": "log", "tickvals": [32, 64, 128, 256, 512]},
        yaxis_title="NDCG@10",
        height=360,
    )
    return figure


def embedding_map(
    coords: np.ndarray,
    langs: list[str],
    topics: list[str],
    texts: list[str],
    ids: list[str],
    query: np.ndarray | None,
    query_text: str,
) -> object:
    """Scatter of the corpus map: colour by topic, symbol by language, the query as a star."""
    go = _go()
    figure = go.Figure()
    symbols = {"en": "circle", "ja": "diamond"}
    for topic in sorted(set(topics)):
        for lang in sorted(set(langs)):
            mask = [i for i, (t, la) in enumerate(zip(topics, langs, strict=True)) if t == topic and la == lang]
            if not mask:
                continue
            figure.add_trace(
                go.Scatter(
                    x=coords[mask, 0],
                    y=coords[mask, 1],
                    mode="markers",
                    name=f"{topic} · {lang}",
                    legendgroup=topic,
                    marker={"symbol": symbols.get(lang, "circle"), "size": 8},
                    text=[f"{ids[i]}: {texts[i][:80]}" for i in mask],
                    hoverinfo="text",
                )
            )
    if query is not None:
        figure.add_trace(
            go.Scatter(
                x=query[:, 0],
                y=query[:, 1],
                mode="markers",
                name="query",
                text=[query_text[:80]],
                hoverinfo="text",
                marker={"symbol": "star", "size": 18, "color": "black"},
            )
        )
    figure.update_layout(title="UMAP of the corpus (colour: topic, ● en, ◆ ja)", height=560)
    return figure


def results_bars(rows: list[dict]) -> object:
    """Published (and measured, where present) NDCG@10 per dataset, English and Japanese."""
    from plotly.subplots import make_subplots

    go = _go()
    figure = make_subplots(rows=1, cols=2, subplot_titles=("English", "日本語 / Japanese"))
    for col, lang in ((1, "en"), (2, "ja")):
        mine = [r for r in rows if r["language"] == lang]
        names = [r["dataset"].removeprefix("Nano") for r in mine]
        bars = (("published ndcg@10", "published", "#1f77b4"), ("measured ndcg@10", "measured", "#ff7f0e"))
        for key, name, color in bars:
            if key == "published ndcg@10" or any(r[key] is not None for r in mine):
                figure.add_trace(
                    go.Bar(
                        x=names,
                        y=[r[key] for r in mine],
                        name=name,
                        marker={"color": color},
                        showlegend=col == 1,
                    ),
                    row=1,
                    col=col,
                )
    figure.update_layout(title="NanoBEIR NDCG@10", barmode="group", height=420)
    return figure


def speed_bars(stages: dict[str, float]) -> object:
    """Milliseconds per stage of one search."""
    go = _go()
    figure = go.Figure(go.Bar(x=list(stages), y=list(stages.values()), text=[f"{v:.3f} ms" for v in stages.values()]))
    figure.update_layout(title="Time per stage of one search (ms)", yaxis_title="ms", height=320)
    return figure
