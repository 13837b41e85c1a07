"""BM25 baseline over the model's tokenizer."""

from __future__ import annotations

from evaluation_fixtures import tiny_tokenizer, write_beir

from sse_demo.evaluation.bm25 import bm25_evaluate


def test_bm25_ranks_the_document_sharing_rare_tokens_first(tmp_path):
    corpus = {"a": ("", "w1 w2 w3"), "b": ("", "w1 w4 w5"), "c": ("", "w1 w6"), "d": ("", "")}
    queries = {"q1": "w1 w5", "q2": "w6 w1", "q3": "w39 unknownword"}
    qrels = [("q1", "b", 1), ("q2", "c", 1), ("q3", "a", 1)]
    metrics = bm25_evaluate(tiny_tokenizer(), write_beir(tmp_path / "set", corpus, queries, qrels))
    # q1, q2 find their document first; q3 matches nothing, all scores tie at 0, and "a" wins the id tie-break.
    assert metrics["mrr@10"] == 1.0
