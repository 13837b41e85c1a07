"""4-bit against fp32: how far the 4-bit model's ranking and embeddings move from the fp32 model's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sse_demo.app.index import ranks, top_k


def overlap_at_k(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """|top-k of a ∩ top-k of b| / k for two score vectors over the same passages."""
    k = min(k, len(a))
    if k == 0:
        return 0.0
    return len(set(top_k(a, k).tolist()) & set(top_k(b, k).tolist())) / k


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two score vectors (Pearson correlation of their ranks)."""
    if len(a) < 2:
        return 1.0
    ra, rb = ranks(a).astype(np.float64), ranks(b).astype(np.float64)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator else 1.0


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine between row i of ``a`` and row i of ``b`` (0 where either row is zero)."""
    dots = (a * b).sum(axis=1)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.where(norms > 0, dots / np.maximum(norms, 1e-30), 0.0).astype(np.float32)


@dataclass(frozen=True)
class Comparison:
    """Summary numbers of one query through both models."""

    k: int
    overlap: float
    spearman: float
    max_abs_score_diff: float
    mean_abs_score_diff: float
    query_cosine: float
    corpus_cosine_mean: float
    corpus_cosine_min: float


def compare_scores(
    fp32_scores: np.ndarray,
    q4_scores: np.ndarray,
    query_cosine: float,
    corpus_cosines: np.ndarray,
    k: int,
) -> Comparison:
    """Overlap@k, Spearman over the whole corpus, score differences and the embedding cosines."""
    diff = np.abs(fp32_scores - q4_scores)
    return Comparison(
        k=k,
        overlap=overlap_at_k(fp32_scores, q4_scores, k),
        spearman=spearman(fp32_scores, q4_scores),
        max_abs_score_diff=float(diff.max()) if len(diff) else 0.0,
        mean_abs_score_diff=float(diff.mean()) if len(diff) else 0.0,
        query_cosine=float(query_cosine),
        corpus_cosine_mean=float(corpus_cosines.mean()) if len(corpus_cosines) else 1.0,
        corpus_cosine_min=float(corpus_cosines.min()) if len(corpus_cosines) else 1.0,
    )
