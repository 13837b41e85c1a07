"""BM25 baseline (bm25s) over the model's own tokenizer, so lexical and dense results share one segmentation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from sse_demo.evaluation.beir import BeirDataset
from sse_demo.evaluation.evaluate import (
    SCORE_CHUNK_ELEMENTS,
    as_dataset,
    rank_and_score,
)


def tokenize(tokenizer: Tokenizer, texts: list[str]) -> list[list[str]]:
    """Token strings without special tokens (what the SSE model averages over)."""
    return [encoding.tokens for encoding in tokenizer.encode_batch(texts, add_special_tokens=False)]


def bm25_evaluate(
    tokenizer: Tokenizer,
    data: BeirDataset | str | Path,
    *,
    k1: float = 1.5,
    b: float = 0.75,
) -> dict[str, float]:
    """NDCG@10, MRR@10, MAP@100, Recall@10/@100 of BM25 (bm25s defaults: Lucene variant, k1=1.5, b=0.75)."""
    import bm25s

    data = as_dataset(data)
    doc_ids = sorted(data.corpus)
    retriever = bm25s.BM25(k1=k1, b=b)
    retriever.index(tokenize(tokenizer, [data.corpus[i] for i in doc_ids]), show_progress=False)
    queries = tokenize(tokenizer, list(data.queries.values()))
    empty = np.zeros(len(doc_ids), dtype=np.float32)
    rows = max(1, SCORE_CHUNK_ELEMENTS // len(doc_ids))

    def chunks() -> Iterator[torch.Tensor]:
        for start in range(0, len(queries), rows):
            scores = [retriever.get_scores(q) if q else empty for q in queries[start : start + rows]]
            yield torch.from_numpy(np.stack(scores).astype(np.float32))

    return rank_and_score(data, doc_ids, chunks())
