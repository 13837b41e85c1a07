"""Linear maps written as Separable DyT, so models without a working tanh load and run as ordinary SSE checkpoints.

The ablation of the bundled model compares SSE with a plain mean of token rows (sentence-transformers'
``StaticEmbedding``) and with SSE whose DyT is replaced by its tangent. Both are affine per dimension,
``y = offset + slope * x``, and the published format has no slot for that, so they are stored as
``beta * tanh(alpha * x + bias)`` with ``alpha = eps * slope``, ``bias = eps * offset`` and ``beta = 1 / eps``, where
``eps`` keeps every reachable ``|alpha * x + bias|`` at or below 1e-3: there ``tanh(u) = u`` to a relative 3.4e-7, the
float32 rounding itself. ``x`` is a mean of table rows, so ``|x_k|`` never exceeds the table's largest entry.

``python -m sse_demo.train.linear_dyt RUN/fp32 --out LINEAR`` writes a model whose DyT is linearised (fp32 + 4-bit).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

MAX_PRE_ACTIVATION = 1e-3


def as_dyt(offset: np.ndarray, slope: np.ndarray, table: np.ndarray) -> dict[str, np.ndarray]:
    """DyT vectors that compute ``offset + slope * x`` to float32 rounding for every mean of ``table``'s rows."""
    largest = float(np.max(np.abs(offset) + np.abs(slope) * np.abs(table).max()))
    eps = MAX_PRE_ACTIVATION / max(largest, 1e-12)
    return {
        "alpha": (eps * slope).astype(np.float32),
        "beta": np.full_like(slope, 1.0 / eps, dtype=np.float32),
        "bias": (eps * offset).astype(np.float32),
    }


def plain_mean(table: np.ndarray) -> dict[str, np.ndarray]:
    """DyT vectors under which the model outputs the plain mean of its token rows (no tanh in effect)."""
    dim = table.shape[1]
    return as_dyt(np.zeros(dim, np.float32), np.ones(dim, np.float32), table)


def tangent(alpha: np.ndarray, beta: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DyT's first-order Taylor expansion at ``x = 0``: ``beta * tanh(bias) + beta * alpha * sech^2(bias) * x``."""
    gate = 1.0 - np.tanh(bias) ** 2
    return beta * np.tanh(bias), beta * alpha * gate


def linearised(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``weights`` (``embedding``, ``alpha``, ``beta``, ``bias``) with DyT replaced by its tangent at ``x = 0``."""
    offset, slope = tangent(weights["alpha"], weights["beta"], weights["bias"])
    return {"embedding": weights["embedding"], **as_dyt(offset, slope, weights["embedding"])}


def main(argv: list[str] | None = None) -> None:
    from sse_demo.model import SSEModel
    from sse_demo.train.trainer import arrays, save_checkpoints

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="fp32 SSE folder")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT/fp32 and OUT/q4")
    args = parser.parse_args(argv)
    model = SSEModel.from_pretrained(args.model, device="cpu")
    fp32, q4 = save_checkpoints(model, args.out, linearised(arrays(model)))
    print(f"wrote {fp32} and {q4}")


if __name__ == "__main__":
    main()
