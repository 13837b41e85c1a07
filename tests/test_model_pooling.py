"""The CPU pooling gives torch's float32 ``embedding_bag`` mean bit for bit, in both formats."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import sse_demo
from sse_demo.model.pooling import mean_rows
from sse_demo.model.q4 import PackedQ4EmbeddingBag

TEXTS = ["", "static embeddings are fast", "東京は日本の首都です。 " * 400, "🚀", "富士山 is high", "   "]


def _flat(model: sse_demo.SSEModel, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    ids, offsets = model.tokenize(texts)
    return ids, np.append(offsets, len(ids))


@pytest.mark.parametrize("dim", [64, 17, 1])
def test_fp32_pooling_equals_torch_embedding_bag(model: sse_demo.SSEModel, dim: int) -> None:
    ids, bounds = _flat(model, TEXTS)
    weight = model.module.embedding.weight.detach()
    expected = F.embedding_bag(torch.from_numpy(ids), weight, torch.from_numpy(bounds[:-1]), mode="mean")
    got = mean_rows(model.module.embedding, ids, bounds, np.empty((len(TEXTS), dim), np.float32))
    np.testing.assert_array_equal(got, expected.numpy()[:, :dim])


@pytest.mark.parametrize("dim", [64, 17, 1])
def test_q4_pooling_equals_dequantise_then_embedding_bag(model: sse_demo.SSEModel, dim: int) -> None:
    bag = PackedQ4EmbeddingBag.from_float(model.module.embedding.weight)
    ids, bounds = _flat(model, TEXTS)
    expected = F.embedding_bag(torch.from_numpy(ids), bag.dequantize_all(), torch.from_numpy(bounds[:-1]), mode="mean")
    got = mean_rows(bag, ids, bounds, np.empty((len(TEXTS), dim), np.float32))
    np.testing.assert_array_equal(got, expected.numpy()[:, :dim])


def test_text_without_tokens_gives_a_zero_row(model: sse_demo.SSEModel) -> None:
    out = np.full((2, 64), np.nan, np.float32)
    mean_rows(model.module.embedding, np.array([5], np.int64), np.array([0, 0, 1]), out)
    assert not out[0].any() and np.array_equal(out[1], model.module.embedding.weight.detach().numpy()[5])


@pytest.mark.parametrize(
    ("out", "bounds", "message"),
    [
        (np.empty((2, 8), np.float64), [0, 1, 2], "float32"),
        (np.empty((2, 8), np.float32), [0, 2], "need 3 bounds"),
    ],
)
def test_bad_output_or_offsets_is_a_clear_error(model: sse_demo.SSEModel, out, bounds, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mean_rows(model.module.embedding, np.array([1, 2], np.int64), np.array(bounds), out)


def test_many_batches_equal_one_batch(model: sse_demo.SSEModel) -> None:
    """Many tokenizer batches pooled in jobs across threads give the rows of one batch, in order."""
    rng = np.random.default_rng(0)
    words = ["static", "東京", "", "fast", "寿司", "🚀"]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 6))) for _ in range(257)]
    np.testing.assert_array_equal(model.encode(texts, batch_size=16), model.encode(texts, batch_size=1024))
