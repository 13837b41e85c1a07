"""encode_corpus: chunked encoding of a streamed corpus straight into an index."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import numpy as np
import pytest

import sse_demo
from sse_demo.search import Index, encode_corpus

WORDS = [
    *("Static", "embeddings", "encode", "corpus", "seconds", "tanh", "Matryoshka", "truncated"),
    *("東京", "日本", "寿司", "富士山"),
]
# 53 distinct pairs of words, so every passage has its own bag of tokens and its own embedding.
TEXTS = [f"{WORDS[a]} {WORDS[b]}" for a, b in combinations(range(len(WORDS)), 2)][:53]


class RecordingModel:
    """Wraps a model and records the size of every batch it is asked to encode."""

    def __init__(self, model: sse_demo.SSEModel) -> None:
        self.model, self.dim, self.batches = model, model.dim, []

    def encode(self, texts: list[str], *, dim: int | None = None) -> np.ndarray:
        self.batches.append(len(texts))
        return self.model.encode(texts, dim=dim)


def streamed() -> Iterator[str]:
    yield from TEXTS


def test_streamed_chunks_equal_one_big_encode(model: sse_demo.SSEModel) -> None:
    index = encode_corpus(model, streamed(), chunk_size=10, show_progress=False)
    np.testing.assert_allclose(index.backend.vectors, model.encode(TEXTS), atol=1e-6)


def test_texts_are_encoded_in_chunks_of_chunk_size(model: sse_demo.SSEModel) -> None:
    recorder = RecordingModel(model)
    encode_corpus(recorder, streamed(), chunk_size=10, show_progress=False)
    assert recorder.batches == [10, 10, 10, 10, 10, 3]


def test_matryoshka_dim_is_passed_to_the_model(model: sse_demo.SSEModel) -> None:
    index = encode_corpus(model, TEXTS, dim=32, mode="binary", show_progress=False)
    assert index.dim == 32
    _, ids = index.search(model.encode(TEXTS[:3], dim=32), top_k=1)
    assert ids[:, 0].tolist() == [0, 1, 2]


def test_ids_stream_alongside_texts(model: sse_demo.SSEModel) -> None:
    index = encode_corpus(
        model, streamed(), ids=(f"p{i}" for i in range(len(TEXTS))), chunk_size=7, show_progress=False
    )
    _, ids = index.search(model.encode([TEXTS[20]]), top_k=1)
    assert ids.tolist() == [["p20"]]


def test_ids_of_another_length_are_refused(model: sse_demo.SSEModel) -> None:
    with pytest.raises(ValueError, match="different lengths"):
        encode_corpus(model, TEXTS, ids=range(len(TEXTS) + 1), chunk_size=10, show_progress=False)


def test_an_existing_index_is_filled_at_its_dim(model: sse_demo.SSEModel) -> None:
    index = Index(16, "exact")
    encode_corpus(model, TEXTS, index, show_progress=False)
    assert len(index) == len(TEXTS) and index.backend.vectors.shape == (len(TEXTS), 16)


def test_mode_with_an_existing_index_is_refused(model: sse_demo.SSEModel) -> None:
    with pytest.raises(ValueError, match="only apply when encode_corpus makes the index"):
        encode_corpus(model, TEXTS, Index(16), mode="binary", show_progress=False)


class NoDimEncoder:
    """An encoder without a ``dim`` attribute, like a teacher adapter of the benchmarks."""

    def __init__(self, model: sse_demo.SSEModel) -> None:
        self.model = model

    def encode(self, texts: list[str], *, dim: int | None = None) -> np.ndarray:
        return self.model.encode(texts, dim=dim)


def test_an_encoder_without_dim_needs_one_for_a_new_index(model: sse_demo.SSEModel) -> None:
    with pytest.raises(ValueError, match="Pass dim="):
        encode_corpus(NoDimEncoder(model), TEXTS, show_progress=False)
    assert encode_corpus(NoDimEncoder(model), TEXTS, dim=32, show_progress=False).dim == 32
