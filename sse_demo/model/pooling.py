"""CPU pooling for inference: the mean of each text's table rows as one sparse x dense product.

On CPU this replaces ``EmbeddingBag`` at inference time with the same numbers bit for bit: scipy's CSR product adds
each text's rows in token order into a float32 accumulator (times an exact 1.0), and the sums are then divided by
the token counts, exactly as torch's float32 ``embedding_bag(mode="mean")`` does; a text without tokens gives an
all-zero row. Why not torch itself: its OpenMP pool spins on both cores right after the tokenizer's rayon pool
has used them, and the two stall each other, while this runs on the thread that calls it, GIL released, so
``SSEModel.encode`` decides which threads pool what (each of its threads pools the unit of texts it has just
tokenised).

A 4-bit table is dequantised only for the distinct rows of the call, as ``PackedQ4EmbeddingBag`` does per batch.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from sse_demo.model.q4 import PackedQ4EmbeddingBag


def mean_rows(
    embedding: nn.EmbeddingBag | PackedQ4EmbeddingBag, ids: np.ndarray, bounds: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """Write the mean of each text's rows, first ``out.shape[1]`` coordinates, into ``out`` (n x d float32).

    ``ids`` are the flat token ids and ``bounds`` the n + 1 boundaries (text i is ``ids[bounds[i]:bounds[i+1]]``).
    The embedding must live on the CPU. Equal bit for bit to ``embedding(ids, bounds[:-1])[:, :d]``.
    """
    if out.dtype != np.float32:
        raise ValueError(f"out must be a float32 array, got {out.dtype}")
    if len(bounds) != len(out) + 1:
        raise ValueError(f"need {len(out) + 1} bounds for {len(out)} texts, got {len(bounds)}")
    from scipy.sparse import csr_matrix  # deferred: importing scipy.sparse costs about 0.15 s

    dim = out.shape[1]
    if isinstance(embedding, PackedQ4EmbeddingBag):
        distinct, ids = _distinct(ids, embedding.num_embeddings)
        table = _dequantize_rows(embedding.packed.numpy(), embedding.scales.numpy(), distinct, dim)
    else:
        table = embedding.weight.detach().numpy()
    tokens = csr_matrix((np.ones(len(ids), np.float32), ids, bounds), shape=(len(out), len(table)))
    sums = tokens @ table
    counts = np.maximum(np.diff(bounds), 1).astype(np.float32)
    return np.divide(sums[:, :dim], counts[:, None], out=out)


def _distinct(ids: np.ndarray, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct ids and each id's index among them (``np.unique``'s answer, without sorting)."""
    seen = np.zeros(vocab_size, dtype=bool)
    seen[ids] = True
    distinct = np.flatnonzero(seen)
    index = np.empty(vocab_size, dtype=np.int64)
    index[distinct] = np.arange(len(distinct))
    return distinct, index[ids]


def _dequantize_rows(packed: np.ndarray, scales: np.ndarray, rows: np.ndarray, dim: int) -> np.ndarray:
    """``(q / 7.5 - 1) * s`` in float32 for the first ``dim`` coordinates of ``rows``: the bits of
    ``q4.dequantize``, with the two nibbles of each byte written side by side (the even coordinate is the high one).
    """
    codes = packed[rows, : (dim + 1) // 2]
    values = np.empty((len(rows), codes.shape[1], 2), dtype=np.float32)
    np.right_shift(codes, 4, out=values[:, :, 0], casting="unsafe")
    np.bitwise_and(codes, 0x0F, out=values[:, :, 1], casting="unsafe")
    values /= np.float32(7.5)
    values -= np.float32(1)
    values *= scales[rows, None, None]
    return values.reshape(len(rows), 2 * codes.shape[1])[:, :dim]
