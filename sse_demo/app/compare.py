"""4-bit against fp32: how far the 4-bit model's ranking and embeddings move from the fp32 model's, and sizes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sse_demo.app.formatting import TEXT_PREVIEW, frame, human_bytes
from sse_demo.app.index import embed_query, hits_of, overlap, ranks, truncate_normalize
from sse_demo.app.inputs import Precision, check_dim, check_k, clean_query
from sse_demo.app.models import checkpoint_bytes, files_bytes

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService
    from sse_demo.app.state import CorpusState

TABLE_COLUMNS = [
    "rank fp32",
    "rank 4-bit",
    "score fp32",
    "score 4-bit",
    "score diff",
    "cosine fp32·4-bit",
    "lang",
    "text",
]
SIZE_COLUMNS = [
    "model",
    "weights on disk (published format)",
    "checkpoint folder",
    "in memory (tensors)",
    "vocab × dim",
]


def overlap_at_k(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """|top-k of a ∩ top-k of b| / k for two score vectors over the same passages."""
    return overlap(hits_of(a, k), hits_of(b, k))


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


def compare_view(service: DemoService, query: object, dim: object, k: object, state: CorpusState | None):
    """The same query through the fp32 and the 4-bit model, side by side.

    Returns (summary Markdown, side-by-side table of the passages either model ranks in its top k, sizes table).
    """
    clean = clean_query(query)
    k = check_k(k)
    models = {p: service.model(p) for p in Precision}
    dim = check_dim(dim, service.dims, min(m.dim for m in models.values()))
    indexes = {p: service.index(state, p) for p in Precision}
    raws = {p: embed_query(models[p], clean.text) for p in Precision}
    scores = {p: indexes[p].scores(raws[p], dim) for p in Precision}
    rank_of = {p: ranks(scores[p]) for p in Precision}
    fp32, q4 = Precision.FP32, Precision.Q4
    corpus_cos = row_cosines(indexes[fp32].view(dim), indexes[q4].view(dim))
    query_cos = float(
        row_cosines(truncate_normalize(raws[fp32], dim)[None], truncate_normalize(raws[q4], dim)[None])[0]
    )
    metrics = compare_scores(scores[fp32], scores[q4], query_cos, corpus_cos, k)
    shown = [h.index for h in hits_of(scores[fp32], k)]
    shown += [h.index for h in hits_of(scores[q4], k) if h.index not in shown]
    corpus = indexes[fp32].corpus
    rows = [
        dict(
            zip(
                TABLE_COLUMNS,
                (
                    int(rank_of[fp32][i]),
                    int(rank_of[q4][i]),
                    round(float(scores[fp32][i]), 4),
                    round(float(scores[q4][i]), 4),
                    round(float(scores[q4][i] - scores[fp32][i]), 5),
                    round(float(corpus_cos[i]), 5),
                    corpus.langs[i],
                    corpus.texts[i][:TEXT_PREVIEW],
                ),
                strict=True,
            )
        )
        for i in shown
    ]
    summary = (
        f"{clean.note} **dim {dim}, top-{k}**: overlap@{k} = {metrics.overlap:.2f} · Spearman ρ over all "
        f"{len(corpus):,} passages = {metrics.spearman:.4f} · |score diff| max {metrics.max_abs_score_diff:.4f}, "
        f"mean {metrics.mean_abs_score_diff:.4f} · cosine of the query's two embeddings "
        f"{metrics.query_cosine:.5f} · "
        f"passages: mean {metrics.corpus_cosine_mean:.5f}, min {metrics.corpus_cosine_min:.5f}"
    ).strip()
    return summary, frame(rows, TABLE_COLUMNS), sizes(service)


def sizes(service: DemoService):
    """Size of both models: weights in the published format, the checkpoint folder's files, tensors in memory."""
    rows = []
    for precision in Precision:
        model, ref = service.model(precision), service.choice.ref(precision)
        folder = files_bytes(ref)
        weights = checkpoint_bytes(model.vocab_size, model.dim, quantized=precision is Precision.Q4)
        values = (
            f"{precision.value}: {ref.label}",
            human_bytes(weights),
            human_bytes(folder) if folder else "-",
            human_bytes(model.memory_bytes),
            f"{model.vocab_size:,} × {model.dim}",
        )
        rows.append(dict(zip(SIZE_COLUMNS, values, strict=True)))
    return frame(rows, SIZE_COLUMNS)
