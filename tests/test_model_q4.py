"""4-bit inference keeps the table packed and gives the numbers of a fully dequantised table."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from sse_demo.model.q4 import PackedQ4EmbeddingBag, dequantize, quantize_rows, unpack_codes


def test_high_nibble_holds_the_even_coordinate() -> None:
    packed = torch.tensor([[0x3A, 0xF0]], dtype=torch.uint8)
    assert unpack_codes(packed).tolist() == [[3, 10, 15, 0]]


def test_quantize_dequantize_error_is_within_half_a_step() -> None:
    table = np.random.default_rng(0).standard_normal((50, 16)).astype(np.float32)
    packed, scales = quantize_rows(table)
    back = dequantize(torch.from_numpy(packed), torch.from_numpy(scales)).numpy()
    step = scales[:, None] / 7.5
    assert np.all(np.abs(back - table) <= step / 2 + 1e-6)


def test_packed_bag_equals_dequantising_everything(weights: dict) -> None:
    bag = PackedQ4EmbeddingBag.from_float(weights["embedding"])
    rng = np.random.default_rng(2)
    ids = torch.from_numpy(rng.integers(0, bag.num_embeddings, size=5000))
    offsets = torch.tensor([0, 0, 3, 10, 2000, 4999])  # includes an empty bag
    full = F.embedding_bag(ids, bag.dequantize_all(), offsets, mode="mean")
    assert torch.equal(bag(ids, offsets), full)  # bit for bit, not only within 1e-6


def test_lookup_dequantisation_equals_the_spec_formula(weights: dict) -> None:
    bag = PackedQ4EmbeddingBag.from_float(weights["embedding"])
    by_formula = (unpack_codes(bag.packed).to(torch.float32) / 7.5 - 1) * bag.scales[:, None]
    assert torch.equal(bag.dequantize_all(), by_formula)


def test_packed_bag_holds_no_float_table(weights: dict) -> None:
    bag = PackedQ4EmbeddingBag.from_float(weights["embedding"])
    vocab, dim = weights["embedding"].shape
    held = {name: (t.dtype, t.numel()) for name, t in [*bag.named_buffers(), *bag.named_parameters()]}
    assert held["packed"] == (torch.uint8, vocab * dim // 2)
    assert all(dtype == torch.uint8 or numel <= vocab for dtype, numel in held.values())


def test_quantize_rejects_odd_dim() -> None:
    import pytest

    with pytest.raises(ValueError, match="even dim"):
        quantize_rows(np.ones((3, 5), dtype=np.float32))
