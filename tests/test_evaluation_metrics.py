"""The project's metrics equal sentence-transformers' InformationRetrievalEvaluator on the same embeddings."""

from __future__ import annotations

import numpy as np
import pytest
from evaluation_fixtures import TinyStaticEncoder, random_beir, tiny_tokenizer

from sse_demo.evaluation import evaluate_beir, load_beir
from sse_demo.evaluation.metrics import retrieval_metrics


def _st_metrics(model, data, dim):
    """Run sentence-transformers' own evaluator on a SentenceTransformer."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    evaluator = InformationRetrievalEvaluator(
        queries=data.queries,
        corpus=data.corpus,
        relevant_docs=data.relevant,
        precision_recall_at_k=[10, 100],
        truncate_dim=dim,
        write_csv=False,
    )
    results = evaluator(model)
    return {key: results[f"cosine_{key}"] for key in ("ndcg@10", "mrr@10", "map@100", "recall@10", "recall@100")}


@pytest.mark.parametrize("dim", [None, 8])
def test_evaluate_beir_equals_sentence_transformers(tmp_path, dim):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    tokenizer = tiny_tokenizer()
    embedding = np.random.default_rng(1).standard_normal((tokenizer.get_vocab_size(), 16)).astype(np.float32)
    folder = random_beir(tmp_path / "set")
    ours = evaluate_beir(TinyStaticEncoder(tokenizer, embedding), folder, dim=dim, batch_size=7)
    st_model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=embedding)], device="cpu")
    theirs = _st_metrics(st_model, load_beir(folder), dim)
    assert ours == theirs
    assert 0 < ours["ndcg@10"] < 1


def test_sse_model_equals_sentence_transformers_wrapper(tmp_path, model):
    from conftest import TRAINING_TEXTS

    from sse_demo.model.st import to_sentence_transformer

    words = sorted({word for text in TRAINING_TEXTS for word in text.split()})
    folder = random_beir(tmp_path / "set", words=words)
    ours = evaluate_beir(model, folder, dim=32)
    assert ours == _st_metrics(to_sentence_transformer(model), load_beir(folder), 32)


def test_ties_break_by_document_id():
    # d1 and d2 tie; the id order puts d1 first, so the relevant d2 sits at rank 2.
    assert retrieval_metrics([["d1", "d2"]], [{"d2"}])["mrr@10"] == 0.5


def test_ndcg_is_binary_and_counts_relevant_documents_missing_from_ranking():
    metrics = retrieval_metrics([["a", "x"]], [{"a", "b"}])
    assert metrics["ndcg@10"] == pytest.approx(1 / (1 + 1 / np.log2(3)))
    assert metrics["recall@10"] == 0.5


def test_map_divides_by_number_of_relevant():
    assert retrieval_metrics([["x", "a"]], [{"a"}])["map@100"] == 0.5


def test_sse_model_equals_sentence_transformers_on_a_shared_set(eval_dir, model):
    from sse_demo.model.st import to_sentence_transformer

    data = load_beir(eval_dir / "nq-utd-en")  # graded qrels, and many ties with the tiny test tokenizer
    assert evaluate_beir(model, data) == _st_metrics(to_sentence_transformer(model), data, None)
