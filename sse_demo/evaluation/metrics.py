"""Retrieval metrics with exactly the definitions of sentence-transformers' InformationRetrievalEvaluator (6.2).

Those definitions, matched here on purpose so numbers are comparable with published NanoBEIR results:
- relevance is binary (any qrels grade > 0 counts as 1), also for NDCG; the ideal DCG has one gain per relevant
  document, including relevant documents missing from the corpus;
- ranking is by descending score, ties broken by ascending document id (string order): the evaluator puts the
  columns in id order and ranks with ``sse_demo.search.exact.top_k``, which sends ties to the lower column;
- MAP@k divides by min(k, number of relevant documents); MRR@k is 0 when nothing relevant is in the top k.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NDCG_AT = 10
MRR_AT = 10
MAP_AT = 100
RECALL_AT = (10, 100)
MAX_K = max(NDCG_AT, MRR_AT, MAP_AT, *RECALL_AT)


def _dcg(gains: Sequence[int], k: int) -> float:
    dcg = 0.0
    for i in range(min(len(gains), k)):
        dcg += gains[i] / np.log2(i + 2)
    return dcg


def retrieval_metrics(ranked: Sequence[Sequence[str]], relevant: Sequence[set[str]]) -> dict[str, float]:
    """NDCG@10, MRR@10, MAP@100, Recall@10/@100 averaged over queries.

    ``ranked[i]`` is the ranked document ids for query i (at least the top 100 when the corpus has them),
    ``relevant[i]`` its non-empty set of relevant ids.
    """
    if len(ranked) != len(relevant) or not ranked:
        raise ValueError(f"need one ranking per query and at least one query, got {len(ranked)} and {len(relevant)}")
    ndcg, recall, average_precision = [], {k: [] for k in RECALL_AT}, []
    reciprocal_rank_sum = 0.0
    for hits, rel in zip(ranked, relevant, strict=True):
        if not rel:
            raise ValueError("every evaluated query needs at least one relevant document")
        is_rel = [1 if doc_id in rel else 0 for doc_id in hits[:MAX_K]]
        for k in RECALL_AT:
            recall[k].append(sum(is_rel[:k]) / len(rel))
        first = next((rank for rank, r in enumerate(is_rel[:MRR_AT]) if r), None)
        if first is not None:
            reciprocal_rank_sum += 1.0 / (first + 1)
        ndcg.append(_dcg(is_rel[:NDCG_AT], NDCG_AT) / _dcg([1] * len(rel), NDCG_AT))
        num_correct, precision_sum = 0, 0.0
        for rank, r in enumerate(is_rel[:MAP_AT]):
            if r:
                num_correct += 1
                precision_sum += num_correct / (rank + 1)
        average_precision.append(precision_sum / min(MAP_AT, len(rel)))
    return {
        f"ndcg@{NDCG_AT}": float(np.mean(ndcg)),
        f"mrr@{MRR_AT}": reciprocal_rank_sum / len(ranked),
        f"map@{MAP_AT}": float(np.mean(average_precision)),
        **{f"recall@{k}": float(np.mean(recall[k])) for k in RECALL_AT},
    }
