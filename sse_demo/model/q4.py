"""The published 4-bit table format (``embedding.q4_k_m.bin``) and an EmbeddingBag that reads it packed.

Despite the file name this is not llama.cpp's Q4_K: each row is quantised symmetrically with one float32 scale,
``s = max|w| + 1e-8``, ``q = clip(round((w / s + 1) * 7.5), 0, 15)``, two codes per byte with the *even*
coordinate in the high nibble. The file is all packed rows followed by all row scales, little-endian, no header.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

SCALE_EPS = np.float32(1e-8)


def quantize_rows(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantise a float table exactly like the published quantizer.

    Returns ``codes`` (vocab x dim/2, uint8, packed) and ``scales`` (vocab, float32).
    """
    weight = np.ascontiguousarray(weight, dtype=np.float32)
    if weight.ndim != 2 or weight.shape[1] % 2:
        raise ValueError(f"4-bit quantisation needs a 2-D table with an even dim, got shape {weight.shape}")
    scales = np.abs(weight).max(axis=1) + SCALE_EPS
    codes = np.clip(np.round((weight / scales[:, None] + 1) * 7.5), 0, 15).astype(np.uint8)
    packed = (codes[:, 0::2] << 4) | codes[:, 1::2]
    return packed, scales.astype(np.float32)


def unpack_codes(packed: torch.Tensor) -> torch.Tensor:
    """Packed bytes (n x dim/2) to codes 0..15 (n x dim), even coordinate from the high nibble."""
    return torch.stack((packed >> 4, packed & 0x0F), dim=-1).reshape(packed.shape[0], 2 * packed.shape[1])


# (q / 7.5 - 1) for the two codes of every byte value, computed with the same float32 operations as the spec.
_BYTE_VALUES = (unpack_codes(torch.arange(256, dtype=torch.uint8)[:, None]).to(torch.float32) / 7.5 - 1).contiguous()


def dequantize(packed: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """``w = (q / 7.5 - 1) * s`` in float32, for the given rows only.

    A 256-entry lookup gives ``q / 7.5 - 1`` for both nibbles of a byte at once: the same bits as computing it
    per code, in one gather instead of four passes.
    """
    values = _BYTE_VALUES.to(packed.device)[packed.int()].reshape(packed.shape[0], 2 * packed.shape[1])
    return values.mul_(scales[:, None])  # in place: the gathered values are a fresh tensor


def to_bytes(packed: np.ndarray, scales: np.ndarray) -> bytes:
    """The file body: all packed rows, then all scales as little-endian float32."""
    return np.ascontiguousarray(packed, dtype=np.uint8).tobytes() + np.asarray(scales, dtype="<f4").tobytes()


class PackedQ4EmbeddingBag(nn.Module):
    """A mean ``EmbeddingBag`` over a 4-bit table that stays packed in memory.

    A 96,867 x 512 table is 25 MB packed and 198 MB as float32; this module only ever dequantises the distinct
    rows a batch gathers, and the numbers equal those of dequantising the whole table first.
    """

    def __init__(self, packed: torch.Tensor, scales: torch.Tensor) -> None:
        super().__init__()
        if packed.dtype != torch.uint8 or packed.ndim != 2:
            raise ValueError(f"packed codes must be a 2-D uint8 tensor, got {packed.dtype} {tuple(packed.shape)}")
        if scales.shape != (packed.shape[0],):
            raise ValueError(
                f"need one scale per row: {packed.shape[0]} rows but scales of shape {tuple(scales.shape)}"
            )
        self.register_buffer("packed", packed, persistent=False)
        self.register_buffer("scales", scales.to(torch.float32), persistent=False)
        self.num_embeddings = packed.shape[0]
        self.embedding_dim = packed.shape[1] * 2

    @classmethod
    def from_float(cls, weight: torch.Tensor | np.ndarray) -> PackedQ4EmbeddingBag:
        packed, scales = quantize_rows(
            np.asarray(weight.detach().cpu() if isinstance(weight, torch.Tensor) else weight)
        )
        return cls(torch.from_numpy(packed), torch.from_numpy(scales))

    def dequantize_all(self) -> torch.Tensor:
        return dequantize(self.packed, self.scales)

    def rows(self, ids: torch.Tensor) -> torch.Tensor:
        """The dequantised float32 rows ``ids``, as if the whole table had been dequantised first."""
        return dequantize(self.packed[ids], self.scales[ids])

    def forward(self, input_ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """Dequantise each distinct row once, then the same float32 mean as a float ``EmbeddingBag``.

        The bag sums each text's rows in token order whatever their index, so a table of only the gathered rows
        gives bit-identical results to the fully dequantised table.
        """
        distinct, local_ids = torch.unique(input_ids, return_inverse=True)
        return F.embedding_bag(local_ids, self.rows(distinct), offsets, mode="mean")
