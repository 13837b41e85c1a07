"""Exact dense retrieval over a BEIR set with any encoder, scored like sentence-transformers' IR evaluator."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from sse_demo.evaluation.beir import BeirDataset, load_beir
from sse_demo.evaluation.metrics import MAX_K, retrieval_metrics
from sse_demo.search.encode import Encoder
from sse_demo.search.exact import top_k

# Score-matrix elements held at once (with the sort's values and indices: ~64 MiB); bounds memory for any corpus.
SCORE_CHUNK_ELEMENTS = 1 << 22


def as_dataset(data: BeirDataset | str | Path) -> BeirDataset:
    """Accept a loaded set or a BEIR folder path."""
    return data if isinstance(data, BeirDataset) else load_beir(data)


def encode_normalized(model: Encoder, texts: list[str], *, dim: int | None, batch_size: int) -> torch.Tensor:
    """Encode in batches and L2-normalise (cosine similarity, as ST's ``cos_sim`` does; zero rows stay zero)."""
    parts = [
        np.asarray(model.encode(texts[start : start + batch_size], dim=dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size)
    ]
    return torch.nn.functional.normalize(torch.from_numpy(np.concatenate(parts)), p=2, dim=1)


def rank_and_score(
    data: BeirDataset, doc_ids: list[str], score_chunks: Iterable[torch.Tensor | np.ndarray]
) -> dict[str, float]:
    """Turn query-by-document score rows (columns in ``doc_ids`` order, ids sorted) into the metrics.

    Each row is ranked by ``top_k`` (ties to the lower column), so with sorted ids ties break by document id as in
    sentence-transformers.
    """
    ranked: list[list[str]] = []
    for scores in score_chunks:
        ranked.extend([doc_ids[j] for j in row] for row in top_k(np.asarray(scores), MAX_K).tolist())
    relevant = data.relevant
    return retrieval_metrics(ranked, [relevant[qid] for qid in data.queries])


def evaluate_beir(
    model: Encoder,
    data: BeirDataset | str | Path,
    *,
    dim: int | None = None,
    batch_size: int = 1024,
    query_model: Encoder | None = None,
) -> dict[str, float]:
    """NDCG@10, MRR@10, MAP@100, Recall@10/@100 of ``model`` on a BEIR set by exact cosine search.

    ``dim`` is passed to ``encode`` (Matryoshka truncation). ``query_model`` encodes the queries when they need
    another encoder than the documents (asymmetric teachers such as e5 with its "query: " / "passage: " prefixes).
    """
    data = as_dataset(data)
    doc_ids = sorted(data.corpus)  # column order = id order, so score ties break by id
    if not doc_ids or not data.queries:
        raise ValueError(f"{data.name}: nothing to evaluate ({len(doc_ids)} documents, {len(data.queries)} queries)")
    docs = encode_normalized(model, [data.corpus[i] for i in doc_ids], dim=dim, batch_size=batch_size)
    queries = encode_normalized(query_model or model, list(data.queries.values()), dim=dim, batch_size=batch_size)
    rows = max(1, SCORE_CHUNK_ELEMENTS // len(doc_ids))
    chunks = (queries[start : start + rows] @ docs.T for start in range(0, len(queries), rows))
    return rank_and_score(data, doc_ids, chunks)
