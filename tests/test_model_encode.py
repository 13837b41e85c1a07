"""Embeddings equal the spec's reference computation (within 1e-6) in both formats, for awkward texts too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reference import reference_dequantize, reference_encode
from tokenizers import Tokenizer

import sse_demo
from sse_demo.model.checkpoint import Q4_TABLE

EDGE_CASES = {
    "empty": [""],
    "whitespace": ["   \t\n  "],
    "all_unknown": ["ΩΩΩ жжж ☃☃"],
    "mixed_ja_en": ["東京 is the capital of 日本、static embeddings は速い。"],
    "emoji_control": ["Static 🚀 embeddings\x00\x07\x1b[31m are fast ✨\u200b\ufeff"],
    "one_megabyte": [("Static embeddings are fast. 東京は日本の首都です。 " * 20000)[:1_000_000]],
    "batch_of_one": ["Quantized models are smaller."],
}


def _reference(tokenizer: Tokenizer, weights: dict[str, np.ndarray], texts: list[str], **kwargs) -> np.ndarray:
    return reference_encode(
        tokenizer,
        weights["embedding"],
        weights["alpha"],
        weights["beta"],
        weights["bias"],
        texts,
        **kwargs,
    )


@pytest.fixture(scope="module")
def q4_weights(q4_dir: Path, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        **weights,
        "embedding": reference_dequantize((q4_dir / Q4_TABLE).read_bytes(), weights["alpha"].shape[0]),
    }


@pytest.mark.parametrize("case", EDGE_CASES)
def test_fp32_matches_reference(case: str, fp32_dir: Path, tokenizer: Tokenizer, weights: dict) -> None:
    texts = EDGE_CASES[case]
    got = sse_demo.load_model(fp32_dir, device="cpu").encode(texts)
    np.testing.assert_allclose(got, _reference(tokenizer, weights, texts), atol=1e-6, rtol=0)


@pytest.mark.parametrize("case", EDGE_CASES)
def test_q4_matches_reference(case: str, q4_dir: Path, tokenizer: Tokenizer, q4_weights: dict) -> None:
    texts = EDGE_CASES[case]
    got = sse_demo.load_model(q4_dir, device="cpu").encode(texts)
    np.testing.assert_allclose(got, _reference(tokenizer, q4_weights, texts), atol=1e-6, rtol=0)


def test_all_unknown_text_uses_the_unk_row(model: sse_demo.SSEModel, tokenizer: Tokenizer) -> None:
    ids = tokenizer.encode(EDGE_CASES["all_unknown"][0], add_special_tokens=False).ids
    assert ids and set(ids) == {tokenizer.token_to_id("[UNK]")}
    assert np.abs(model.encode(EDGE_CASES["all_unknown"], normalize=False)).sum() > 0


def test_text_without_tokens_pools_to_zero(weights: dict) -> None:
    from conftest import train_tokenizer

    tokenizer = train_tokenizer(unk=False)
    model = sse_demo.SSEModel.from_arrays(tokenizer, weights["embedding"][: tokenizer.get_vocab_size()], device="cpu")
    assert tokenizer.encode("☃☃☃", add_special_tokens=False).ids == []
    np.testing.assert_array_equal(model.pooled(["☃☃☃", ""]), 0.0)


def test_batch_of_ten_thousand_matches_reference(model: sse_demo.SSEModel, tokenizer: Tokenizer, weights: dict) -> None:
    rng = np.random.default_rng(1)
    words = ["static", "embeddings", "東京", "寿司", "fast", "富士山", "are", "is", "の", "で", "🚀"]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 12))) for _ in range(10_000)]
    got = model.encode(texts, batch_size=1000)
    assert got.shape == (10_000, 64) and got.dtype == np.float32
    np.testing.assert_allclose(got, _reference(tokenizer, weights, texts), atol=1e-6, rtol=0)


def test_batch_size_does_not_change_results(model: sse_demo.SSEModel) -> None:
    texts = ["東京", "", "static embeddings", "富士山 is high"] * 5
    np.testing.assert_array_equal(model.encode(texts, batch_size=1), model.encode(texts, batch_size=7))


def test_batch_size_is_a_gpu_knob_that_the_cpu_encode_ignores(fp32_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On CPU the units are ``cpu_encode``'s whatever ``batch_size`` says: the tokenizer sees the same calls."""
    from sse_demo.model import cpu_encode

    monkeypatch.setattr(cpu_encode, "UNIT_TEXTS", 8)
    model = sse_demo.load_model(fp32_dir, device="cpu")
    calls: list[int] = []
    tokenize = model.tokenizer.encode_batch_fast

    class CountingTokenizer:
        def encode_batch_fast(self, texts, add_special_tokens):
            calls.append(len(texts))
            return tokenize(texts, add_special_tokens=add_special_tokens)

    model.tokenizer = CountingTokenizer()
    texts = [f"static {i} 東京" for i in range(20)]
    for batch_size in (1, 3, 1024):
        calls.clear()
        model.encode(texts, batch_size=batch_size)
        assert sorted(calls) == [4, 8, 8]


@pytest.mark.parametrize(
    ("unit_texts", "unit_chars", "threads"), [(7, 10**9, 2), (10**9, 40, 3), (5, 10**9, 1), (1, 1, 4)]
)
@pytest.mark.parametrize("quantized", [False, True])
def test_work_units_and_threads_do_not_change_results(
    unit_texts: int,
    unit_chars: int,
    threads: int,
    quantized: bool,
    fp32_dir: Path,
    q4_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CPU encode splits the texts into units for its threads; where the units end must not matter."""
    from sse_demo.model import cpu_encode

    model = sse_demo.load_model(q4_dir if quantized else fp32_dir, quantized=quantized, device="cpu")
    texts = [f"static {i} 東京 embeddings" * (i % 4) for i in range(23)]
    expected = model.encode(texts)
    monkeypatch.setattr(cpu_encode, "UNIT_TEXTS", unit_texts)
    monkeypatch.setattr(cpu_encode, "UNIT_CHARS", unit_chars)
    monkeypatch.setattr(cpu_encode, "CPU_THREADS", threads)
    assert len(cpu_encode.work_units(texts)) > 1
    for batch_size in (1, 23):
        np.testing.assert_array_equal(model.encode(texts, batch_size=batch_size), expected)


@pytest.mark.parametrize(
    ("lengths", "units"),
    [
        ([], []),
        ([3], [(0, 1)]),
        ([3] * 5, [(0, 2), (2, 4), (4, 5)]),  # at most 2 texts per unit
        ([5, 5, 1, 1, 1], [(0, 1), (1, 3), (3, 5)]),  # at most 6 characters...
        ([20, 0, 0], [(0, 1), (1, 3)]),  # ...unless one text alone is longer
    ],
)
def test_work_units_bound_texts_and_characters(
    lengths: list[int], units: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sse_demo.model import cpu_encode

    monkeypatch.setattr(cpu_encode, "UNIT_TEXTS", 2)
    monkeypatch.setattr(cpu_encode, "UNIT_CHARS", 6)
    assert cpu_encode.work_units(["x" * n for n in lengths]) == units


def test_units_shrink_towards_the_end_so_the_threads_finish_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit takes a (2 x threads)-th of the texts left, within [MIN_UNIT_TEXTS, UNIT_TEXTS]."""
    from sse_demo.model import cpu_encode

    monkeypatch.setattr(cpu_encode, "UNIT_TEXTS", 8)
    monkeypatch.setattr(cpu_encode, "MIN_UNIT_TEXTS", 2)
    monkeypatch.setattr(cpu_encode, "CPU_THREADS", 2)
    sizes = [end - start for start, end in cpu_encode.work_units(["x"] * 30)]
    assert sizes == [8, 6, 4, 3, 3, 2, 2, 2]


def test_the_tokenizer_is_called_on_slices_of_a_unit(
    fp32_dir: Path, tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within a unit the tokenizer sees at most TOKENIZE_TEXTS texts per call; the ids are those of one call."""
    from sse_demo.model import cpu_encode

    monkeypatch.setattr(cpu_encode, "TOKENIZE_TEXTS", 3)
    calls: list[int] = []

    class CountingTokenizer:
        def encode_batch_fast(self, texts, add_special_tokens):
            calls.append(len(texts))
            return tokenizer.encode_batch_fast(texts, add_special_tokens=add_special_tokens)

    texts = [f"static {i} 東京" * (i % 3) for i in range(8)]
    ids, bounds = cpu_encode.ids_and_bounds(CountingTokenizer(), texts)
    assert calls == [3, 3, 2]
    one_call = tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    np.testing.assert_array_equal(ids, [i for encoding in one_call for i in encoding.ids])
    np.testing.assert_array_equal(np.diff(bounds), [len(encoding.ids) for encoding in one_call])
    calls.clear()
    ids, bounds = cpu_encode.ids_and_bounds(CountingTokenizer(), [])
    assert (ids.shape, bounds.tolist()) == ((0,), [0])


@pytest.mark.parametrize("quantized", [False, True])
def test_slices_and_shrinking_units_do_not_change_results(
    quantized: bool, fp32_dir: Path, tokenizer: Tokenizer, weights: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sse_demo.model import cpu_encode

    model = sse_demo.load_model(fp32_dir, quantized=quantized, device="cpu")
    texts = [f"static {i} 東京 embeddings" * (i % 4) for i in range(50)]
    expected = model.encode(texts)
    if not quantized:
        np.testing.assert_allclose(expected, _reference(tokenizer, weights, texts), atol=1e-6, rtol=0)
    monkeypatch.setattr(cpu_encode, "UNIT_TEXTS", 16)
    monkeypatch.setattr(cpu_encode, "MIN_UNIT_TEXTS", 3)
    monkeypatch.setattr(cpu_encode, "TOKENIZE_TEXTS", 5)
    assert len(cpu_encode.work_units(texts)) > 4
    np.testing.assert_array_equal(model.encode(texts), expected)


@pytest.mark.parametrize("dim", [64, 32, 16, 8, 1])
def test_matryoshka_truncates_before_normalising(dim: int, model: sse_demo.SSEModel, tokenizer, weights) -> None:
    texts = ["Static embeddings are fast.", "寿司は人気です"]
    got = model.encode(texts, dim=dim)
    assert got.shape == (2, dim)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(got, _reference(tokenizer, weights, texts, dim=dim), atol=1e-6, rtol=0)


def test_unnormalised_output_is_the_raw_dyt(model: sse_demo.SSEModel, tokenizer, weights) -> None:
    texts = ["Matryoshka embeddings"]
    np.testing.assert_allclose(
        model.encode(texts, normalize=False, dim=16),
        _reference(tokenizer, weights, texts, dim=16, normalize=False),
        atol=1e-6,
        rtol=0,
    )


@pytest.mark.parametrize("dim", [0, -1, 65, 1.5, True, "64"])
def test_bad_dim_is_a_clear_error(dim, model: sse_demo.SSEModel) -> None:
    with pytest.raises(ValueError, match="dim must be an integer from 1 to 64"):
        model.encode(["x"], dim=dim)


@pytest.mark.parametrize("texts", [None, 42, b"bytes", ["ok", None], ["ok", b"bytes"]])
def test_non_text_input_is_a_clear_error(texts, model: sse_demo.SSEModel) -> None:
    with pytest.raises(TypeError, match="str"):
        model.encode(texts)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, None])
def test_bad_batch_size_is_a_clear_error(batch_size, model: sse_demo.SSEModel) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        model.encode(["x"], batch_size=batch_size)


def test_single_string_and_empty_list(model: sse_demo.SSEModel) -> None:
    np.testing.assert_array_equal(model.encode("東京"), model.encode(["東京"])[0])
    assert model.encode([]).shape == (0, 64)
    assert model.encode([], dim=32).shape == (0, 32)


@pytest.mark.parametrize("quantized", [False, True])
def test_a_string_gives_a_vector_and_a_list_a_matrix(quantized: bool, fp32_dir: Path) -> None:
    """As in sentence-transformers and model2vec: ``encode("text")`` is 1-D, ``encode(["text"])`` 2-D."""
    model = sse_demo.load_model(fp32_dir, quantized=quantized, device="cpu")
    assert model.encode("東京").shape == (64,)
    assert model.encode("東京", dim=16, normalize=False).shape == (16,)
    assert model.encode(["東京"]).shape == (1, 64)
    assert model.encode(("東京", "寿司"), dim=8).shape == (2, 8)
    assert model.pooled("東京").shape == (64,)
    np.testing.assert_array_equal(model.pooled("東京"), model.pooled(["東京"])[0])


def test_pooled_is_the_plain_mean(model: sse_demo.SSEModel, tokenizer: Tokenizer, weights: dict) -> None:
    ids = tokenizer.encode("寿司 static", add_special_tokens=False).ids
    np.testing.assert_allclose(
        model.pooled(["寿司 static"])[0],
        weights["embedding"][ids].mean(axis=0),
        atol=1e-6,
    )


def test_device_defaults_to_cuda_when_available(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    from sse_demo.model.static import default_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device() == "cpu"


def test_device_argument_overrides(fp32_dir: Path) -> None:
    assert sse_demo.load_model(fp32_dir, device="cpu").device.type == "cpu"


@pytest.mark.parametrize(("device", "message"), [("gpu", "unknown device"), ("meta", "not supported")])
def test_bad_device_is_a_clear_error(device: str, message: str, fp32_dir: Path) -> None:
    with pytest.raises(ValueError, match=message):
        sse_demo.load_model(fp32_dir, device=device)


def test_cuda_without_cuda_is_a_clear_error(fp32_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        sse_demo.load_model(fp32_dir, device="cuda")


def test_torch_forward_path_equals_the_numpy_cpu_path(model: sse_demo.SSEModel) -> None:
    """The all-torch path (used on CUDA and by sentence-transformers) agrees with the CPU path."""
    import torch

    from sse_demo.model.module import truncate_and_normalize

    texts = ["Static embeddings are fast.", "寿司は人気です", ""]
    with torch.inference_mode():
        ids, offsets = (torch.from_numpy(a) for a in model.tokenize(texts))
        for dim in (None, 16):
            for normalize in (True, False):
                torch_path = truncate_and_normalize(model.module(ids, offsets), dim, normalize).numpy()
                np.testing.assert_allclose(torch_path, model.encode(texts, dim=dim, normalize=normalize), atol=1e-6)


def test_the_accelerator_branch_equals_the_cpu_branch(
    model: sse_demo.SSEModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """encode's non-CPU branch (batches tokenised ahead, the torch module) gives the CPU branch's numbers; run here
    on CPU tensors, since CUDA itself is not available on every test machine."""
    import torch

    texts = ["Static embeddings are fast.", "寿司は人気です", "", "富士山 is high"] * 5
    expected = {dim: model.encode(texts, dim=dim, batch_size=3) for dim in (None, 16)}
    monkeypatch.setattr(model, "device", torch.device("meta"))  # anything but "cpu" takes the accelerator branch
    monkeypatch.setattr(model, "_to_device", lambda ids, offsets: (torch.from_numpy(ids), torch.from_numpy(offsets)))
    for dim, cpu_branch in expected.items():
        np.testing.assert_allclose(model.encode(texts, dim=dim, batch_size=3), cpu_branch, atol=1e-6)
