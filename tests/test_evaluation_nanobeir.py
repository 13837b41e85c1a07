"""NanoBEIR goes through sentence-transformers; without the hub it fails fast with our own error. No network."""

from __future__ import annotations

import numpy as np
import pytest
from evaluation_fixtures import WORDS, tiny_tokenizer

from sse_demo.evaluation import nanobeir
from sse_demo.evaluation.nanobeir import HubUnavailableError, nanobeir_evaluate


def _offline_load_dataset(dataset_id, *args, **kwargs):
    """What datasets raises under HF_HUB_OFFLINE=1 when the set is not cached."""
    raise ConnectionError(f"Couldn't reach '{dataset_id}' on the Hub (OfflineModeIsEnabled)")


def test_offline_mode_without_cache_raises_hub_unavailable(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.is_offline_mode", lambda: True)
    monkeypatch.setattr("datasets.load_dataset", _offline_load_dataset)
    with pytest.raises(HubUnavailableError, match=r"python -m sse_demo eval --beir DIR"):
        nanobeir_evaluate(None, "ja")


def test_unreachable_hub_raises_before_loading(monkeypatch):
    monkeypatch.setattr("huggingface_hub.is_offline_mode", lambda: False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(nanobeir, "_hub_reachable", lambda timeout=5.0: False)
    with pytest.raises(HubUnavailableError, match="unreachable"):
        nanobeir_evaluate(None, "en")


def _fake_nano_split(dataset_id, subset, split):
    """Stand-in for datasets.load_dataset: a 3-document NanoNFCorpus."""
    from datasets import Dataset

    assert dataset_id == "sentence-transformers/NanoBEIR-en" and split == "NanoNFCorpus"
    rows = {
        "corpus": {"_id": ["a", "b", "c"], "text": ["w1 w2", "w3 w4", "w5"]},
        "queries": {"_id": ["q1", "q2"], "text": ["w1", "w5 w3"]},
        "qrels": {"query-id": ["q1", "q2"], "corpus-id": ["a", "c"]},
    }
    return Dataset.from_dict(rows[subset])


def test_results_are_grouped_per_dataset_and_mean(monkeypatch):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    monkeypatch.setattr("huggingface_hub.is_offline_mode", lambda: True)
    monkeypatch.setattr("datasets.load_dataset", _fake_nano_split)
    embedding = np.random.default_rng(0).standard_normal((len(WORDS) + 1, 8)).astype(np.float32)
    model = SentenceTransformer(modules=[StaticEmbedding(tiny_tokenizer(), embedding_weights=embedding)], device="cpu")
    results = nanobeir_evaluate(model, "en", dim=4, dataset_names=["nfcorpus"])
    assert set(results) == {"NanoNFCorpus", "mean"}
    assert results["mean"]["ndcg@10"] == results["NanoNFCorpus"]["ndcg@10"] > 0
    assert {"mrr@10", "map@100", "recall@100"} <= set(results["mean"])
