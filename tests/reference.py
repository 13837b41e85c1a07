"""A plain numpy re-statement of the spec (../shared/spec/sse-format.md), independent of the package code."""

from __future__ import annotations

import numpy as np
from tokenizers import Tokenizer


def reference_quantize_row(w: np.ndarray) -> tuple[bytes, np.float32]:
    """One row (packed bytes, scale) exactly as the spec's published quantizer writes it."""
    s = np.float32(np.max(np.abs(w)) + np.float32(1e-8))
    q = np.clip(np.round((w / s + np.float32(1)) * np.float32(7.5)), 0, 15).astype(np.uint8)
    out = bytearray()
    for j in range(len(w) // 2):
        out.append(int(q[2 * j]) << 4 | int(q[2 * j + 1]))
    return bytes(out), s


def reference_q4_file(table: np.ndarray) -> bytes:
    rows, scales = zip(*(reference_quantize_row(row) for row in table), strict=True)
    return b"".join(rows) + np.array(scales, dtype="<f4").tobytes()


def reference_dequantize(data: bytes, dim: int) -> np.ndarray:
    row_bytes = dim // 2 + 4
    vocab = len(data) // row_bytes
    codes = np.frombuffer(data[: vocab * dim // 2], dtype=np.uint8).reshape(vocab, dim // 2)
    scales = np.frombuffer(data[vocab * dim // 2 :], dtype="<f4")
    q = np.empty((vocab, dim), dtype=np.float32)
    q[:, 0::2] = codes >> 4
    q[:, 1::2] = codes & 15
    return (q / np.float32(7.5) - np.float32(1)) * scales[:, None]


def reference_encode(
    tokenizer: Tokenizer,
    table: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    bias: np.ndarray,
    texts: list[str],
    dim: int | None = None,
    normalize: bool = True,
) -> np.ndarray:
    """Tokenise without special tokens, mean the rows in float32 like ``EmbeddingBag`` (zero for no tokens), DyT,
    truncate, then L2-normalise (the last steps in float64)."""
    table = np.asarray(table, dtype=np.float32)
    out = []
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        x = table[ids].mean(axis=0).astype(np.float64) if ids else np.zeros(table.shape[1])
        y = beta.astype(np.float64) * np.tanh(alpha.astype(np.float64) * x + bias.astype(np.float64))
        y = y[:dim] if dim else y
        if normalize:
            y = y / max(np.linalg.norm(y), 1e-12)
        out.append(y)
    return np.array(out).reshape(len(texts), -1)
