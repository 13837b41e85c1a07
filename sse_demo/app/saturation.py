"""DyT saturation: where each dimension sits on its tanh curve, and which dimensions stop passing gradient.

``y_k = beta_k * tanh(alpha_k * x_k + bias_k)``. With ``u_k = alpha_k x_k + bias_k``, the gradient through the
tanh is gated by ``sech^2(u_k) = 1 - tanh^2(u_k)``; once ``|u_k|`` passes about 2 the gate is below 0.07 and the
dimension is *saturated*: its output is pinned near ``±beta_k`` whatever the tokens say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sse_demo.app.formatting import frame, plotly
from sse_demo.app.inputs import Precision, clean_query

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService
    from sse_demo.app.state import CorpusState
    from sse_demo.model import SSEModel

SATURATION_THRESHOLD = 2.0
TOP_DIMS = 20  # rows of the "most saturated dimensions" table
SATURATION_EXAMPLE = (
    "桜の下で花見を楽しむ"  # the DyT tab's default text: short, so the bundled model saturates some dims
)


@dataclass(frozen=True)
class DyTParams:
    """The learned DyT vectors of a model."""

    alpha: np.ndarray
    beta: np.ndarray
    bias: np.ndarray

    @classmethod
    def of(cls, model: SSEModel) -> DyTParams:
        return cls(*model.dyt_parameters())

    def pre_activation(self, x: np.ndarray) -> np.ndarray:
        """``alpha * x + bias``: where each dimension sits on its tanh curve."""
        return self.alpha * x + self.bias

    def apply(self, x: np.ndarray) -> np.ndarray:
        """DyT itself, ``beta * tanh(alpha * x + bias)``, in float32 numpy as CPU ``encode`` computes it."""
        return self.beta * np.tanh(self.pre_activation(x))


@dataclass(frozen=True)
class Saturation:
    """Per-dimension view of texts through DyT (arrays shaped like ``x``: (n, dim) or (dim,))."""

    x: np.ndarray
    u: np.ndarray
    y: np.ndarray
    gate: np.ndarray
    saturated: np.ndarray
    threshold: float

    @property
    def count(self) -> np.ndarray:
        """Saturated dimensions per text."""
        return self.saturated.sum(axis=-1)

    @property
    def fraction(self) -> float:
        """Share of all (text, dimension) entries that are saturated."""
        return float(self.saturated.mean()) if self.saturated.size else 0.0


def saturation(x: np.ndarray, params: DyTParams, threshold: float = SATURATION_THRESHOLD) -> Saturation:
    """Pre-activation, output, gradient gate and saturation mask for pooled vectors ``x``."""
    x = np.asarray(x, dtype=np.float32)
    u = params.pre_activation(x)
    t = np.tanh(u)
    return Saturation(
        x=x, u=u, y=params.beta * t, gate=1.0 - t * t, saturated=np.abs(u) > threshold, threshold=threshold
    )


def per_dim_rate(sat: Saturation) -> np.ndarray:
    """For each dimension, the share of texts in which it is saturated (input must be 2-D)."""
    return sat.saturated.mean(axis=0) if len(sat.saturated) else np.zeros(sat.saturated.shape[-1])


def saturation_view(service: DemoService, text: object, precision: object, state: CorpusState | None):
    """Where the text's dimensions sit on their tanh curves, and the corpus-wide picture.

    Returns (summary Markdown, tanh-curve figure, x/y per-dim figure, corpus histograms, DyT parameters, table
    of the most saturated dimensions).
    """
    clean = clean_query(text)
    model = service.model(Precision.parse(precision))
    params = DyTParams.of(model)
    one = saturation(model.pooled([clean.text])[0], params)
    corpus = service.state(state).corpus
    everything = saturation(model.pooled(corpus.texts), params)
    counts = everything.count
    columns = ["dim", "x_k", "u_k = alpha·x+bias", "y_k", "sech² gate", "saturated", "alpha", "beta", "bias"]
    top = [
        dict(
            zip(
                columns,
                (
                    int(d),
                    round(float(one.x[d]), 4),
                    round(float(one.u[d]), 4),
                    round(float(one.y[d]), 4),
                    round(float(one.gate[d]), 5),
                    bool(one.saturated[d]),
                    round(float(params.alpha[d]), 4),
                    round(float(params.beta[d]), 4),
                    round(float(params.bias[d]), 4),
                ),
                strict=True,
            )
        )
        for d in np.argsort(-np.abs(one.u))[:TOP_DIMS]
    ]
    summary = (
        f"{clean.note} **{int(one.count)} of {model.dim} dimensions saturated** (|alpha·x + bias| > "
        f"{one.threshold:g}, where the gradient gate sech² < {1 - np.tanh(one.threshold) ** 2:.3f}); mean gate "
        f"{float(one.gate.mean()):.3f}. Over the {len(corpus):,} corpus passages: {everything.fraction:.1%} of "
        f"entries saturated, {float(np.median(counts)):.0f} dims per passage (median), "
        f"{int((everything.saturated.any(axis=0)).sum())} dims saturated in at least one passage."
    ).strip()
    return (
        summary,
        tanh_curves(one, params, "Each dimension on its tanh curve / 各次元の tanh 上の位置"),
        per_dimension(one, "Pooled x_k and DyT output y_k per dimension"),
        corpus_histograms(everything, f"Corpus ({len(corpus):,} passages)"),
        parameters_figure(params),
        frame(top, columns),
    )


def tanh_curves(sat: Saturation, params: DyTParams, title: str) -> object:
    """Every dimension of one text as a point on the tanh curve, saturated ones highlighted."""
    go = plotly()
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
    go = plotly()
    dims = np.arange(len(sat.x))
    figure = go.Figure()
    figure.add_trace(go.Bar(x=dims, y=sat.x, name="x_k (pooled)", opacity=0.6))
    figure.add_trace(go.Bar(x=dims, y=sat.y, name="y_k (DyT output)", opacity=0.6))
    figure.update_layout(barmode="overlay", title=title, xaxis_title="dimension k", height=360)
    return figure


def corpus_histograms(sat: Saturation, title: str) -> object:
    """Histogram of u over all corpus entries, and each dimension's saturation rate across the corpus."""
    from plotly.subplots import make_subplots

    go = plotly()
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("u = alpha·x + bias, all texts and dims", "saturated share per dim")
    )
    figure.add_trace(go.Histogram(x=sat.u.ravel(), nbinsx=80, name="u"), row=1, col=1)
    figure.add_trace(go.Bar(x=np.arange(sat.u.shape[-1]), y=per_dim_rate(sat), name="saturated share"), row=1, col=2)
    figure.update_layout(title=title, height=380, showlegend=False)
    return figure


def parameters_figure(params: DyTParams) -> object:
    """The learned alpha, beta and bias of each dimension."""
    go = plotly()
    dims = np.arange(len(params.alpha))
    figure = go.Figure()
    for name in ("alpha", "beta", "bias"):
        figure.add_trace(go.Scatter(x=dims, y=getattr(params, name), mode="lines", name=name))
    figure.update_layout(
        title="Learned DyT parameters / 学習された DyT パラメータ", xaxis_title="dimension k", height=340
    )
    return figure
