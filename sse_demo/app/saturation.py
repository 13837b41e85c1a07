"""DyT saturation: where each dimension sits on its tanh curve, and which dimensions stop passing gradient.

``y_k = beta_k * tanh(alpha_k * x_k + bias_k)``. With ``u_k = alpha_k x_k + bias_k``, the gradient through the
tanh is gated by ``sech^2(u_k) = 1 - tanh^2(u_k)``; once ``|u_k|`` passes about 2 the gate is below 0.07 and the
dimension is *saturated*: its output is pinned near ``±beta_k`` whatever the tokens say.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SATURATION_THRESHOLD = 2.0


@dataclass(frozen=True)
class DyTParams:
    """The learned DyT vectors of a model."""

    alpha: np.ndarray
    beta: np.ndarray
    bias: np.ndarray

    @classmethod
    def of(cls, model) -> DyTParams:
        dyt = model.module.dyt
        return cls(*(getattr(dyt, name).detach().float().cpu().numpy() for name in ("alpha", "beta", "bias")))


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
    u = params.alpha * x + params.bias
    t = np.tanh(u)
    return Saturation(
        x=x, u=u, y=params.beta * t, gate=1.0 - t * t, saturated=np.abs(u) > threshold, threshold=threshold
    )


def per_dim_rate(sat: Saturation) -> np.ndarray:
    """For each dimension, the share of texts in which it is saturated (input must be 2-D)."""
    return sat.saturated.mean(axis=0) if len(sat.saturated) else np.zeros(sat.saturated.shape[-1])
