"""Linear maps stored as DyT vectors: the ablation's plain-mean and linearised models load as SSE checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

import sse_demo
from sse_demo.train.linear_dyt import linearised, main, plain_mean, tangent

TEXTS = ["富士山は高い山です", "Static embeddings are fast", "a", "東京 Tokyo"]


def weights(tokenizer: Tokenizer, dim: int = 32) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "embedding": (4 * rng.standard_normal((tokenizer.get_vocab_size(), dim))).astype(np.float32),
        "alpha": rng.uniform(0.5, 3.0, dim).astype(np.float32),
        "beta": rng.uniform(0.5, 1.5, dim).astype(np.float32),
        "bias": rng.uniform(-1.0, 1.0, dim).astype(np.float32),
    }


def test_plain_mean_dyt_outputs_the_mean_of_token_rows(tokenizer: Tokenizer) -> None:
    table = weights(tokenizer)["embedding"]
    model = sse_demo.SSEModel.from_arrays(tokenizer, table, **plain_mean(table), device="cpu")
    pooled = model.pooled(TEXTS)
    np.testing.assert_allclose(model.encode(TEXTS, normalize=False), pooled, rtol=1e-5, atol=1e-5)


def test_linearised_dyt_is_the_tangent_at_zero(tokenizer: Tokenizer) -> None:
    original = weights(tokenizer)
    model = sse_demo.SSEModel.from_arrays(tokenizer, **linearised(original), device="cpu")
    offset, slope = tangent(original["alpha"], original["beta"], original["bias"])
    expected = offset + slope * model.pooled(TEXTS)
    np.testing.assert_allclose(model.encode(TEXTS, normalize=False), expected, rtol=1e-5, atol=1e-5)


def test_tangent_matches_a_finite_difference() -> None:
    alpha, beta, bias = np.array([2.0]), np.array([1.5]), np.array([0.3])
    offset, slope = tangent(alpha, beta, bias)
    step = 1e-6
    dyt = lambda x: beta * np.tanh(alpha * x + bias)  # noqa: E731
    np.testing.assert_allclose(offset, dyt(0.0))
    np.testing.assert_allclose(slope, (dyt(step) - dyt(-step)) / (2 * step), rtol=1e-6)


def test_command_writes_both_formats_of_the_linearised_model(tokenizer: Tokenizer, tmp_path: Path) -> None:
    original = weights(tokenizer)
    sse_demo.SSEModel.from_arrays(tokenizer, **original, device="cpu").save(tmp_path / "model")
    main([str(tmp_path / "model"), "--out", str(tmp_path / "linear")])
    fp32 = sse_demo.load_model(tmp_path / "linear" / "fp32")
    offset, slope = tangent(original["alpha"], original["beta"], original["bias"])
    np.testing.assert_allclose(
        fp32.encode(TEXTS, normalize=False), offset + slope * fp32.pooled(TEXTS), rtol=1e-5, atol=1e-5
    )
    assert sse_demo.load_model(tmp_path / "linear" / "q4").quantized
