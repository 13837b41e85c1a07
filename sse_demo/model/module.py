"""The SSE torch module: a mean ``EmbeddingBag`` followed by Separable DyT.

This is the whole model. It takes the flat token ids of a batch plus the start offset of each text (the layout
``EmbeddingBag`` wants, so no padding is ever built) and returns the *unnormalised* sentence embeddings, exactly
like the published ``SSE`` / ``SSEQ`` modules.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from sse_demo.model.q4 import PackedQ4EmbeddingBag


class SeparableDyT(nn.Module):
    """Per-dimension ``y_k = beta_k * tanh(alpha_k * x_k + bias_k)``.

    Naming follows the published checkpoints: ``beta`` is the outer scale and ``bias`` sits *inside* the tanh.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.full((dim,), 0.5))
        self.beta = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """``alpha * x + bias``: where each dimension sits on its tanh curve."""
        return self.alpha * x + self.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.beta * torch.tanh(self.pre_activation(x))

    def forward_numpy(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The same formula on the first ``x.shape[1]`` dimensions, in numpy float32, for CPU inference.

        numpy's SIMD float32 tanh is about ten times faster than torch's on CPU and agrees to float32 rounding;
        DyT acts per dimension, so applying it to a Matryoshka prefix only is exact. ``out`` (which may be ``x``)
        receives the result without temporaries.
        """
        dim = x.shape[1]
        alpha, beta, bias = (getattr(self, name).detach()[:dim].cpu().numpy() for name in ("alpha", "beta", "bias"))
        out = np.multiply(x, alpha, out=out)
        np.add(out, bias, out=out)
        np.tanh(out, out=out)
        return np.multiply(out, beta, out=out)


class SSE(nn.Module):
    """Stable Static Embedding: ``DyT(mean of token rows)``.

    ``embedding`` is either a float ``nn.EmbeddingBag`` (fp32 checkpoints, trainable) or a
    :class:`PackedQ4EmbeddingBag` that keeps the 4-bit codes packed and dequantises only the rows a batch uses.
    State-dict keys of the float variant are the published ones: ``embedding.weight``, ``dyt.alpha``,
    ``dyt.beta``, ``dyt.bias``.
    """

    def __init__(self, embedding: nn.EmbeddingBag | PackedQ4EmbeddingBag, dyt: SeparableDyT) -> None:
        super().__init__()
        if isinstance(embedding, nn.EmbeddingBag) and embedding.mode != "mean":
            raise ValueError(f"SSE needs EmbeddingBag(mode='mean'), got mode={embedding.mode!r}")
        self.embedding = embedding
        self.dyt = dyt

    @classmethod
    def from_weights(cls, weight: torch.Tensor) -> SSE:
        """A trainable float SSE whose table is ``weight`` (vocab x dim) and whose DyT has its initial values."""
        embedding = nn.EmbeddingBag.from_pretrained(weight, freeze=False, mode="mean")
        return cls(embedding, SeparableDyT(weight.shape[1]))

    @property
    def vocab_size(self) -> int:
        return self.embedding.num_embeddings

    @property
    def dim(self) -> int:
        return self.embedding.embedding_dim

    @property
    def quantized(self) -> bool:
        return isinstance(self.embedding, PackedQ4EmbeddingBag)

    def pool(self, input_ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """The float32 mean of each text's token rows (an all-zero row for a text without tokens).

        This is the published computation bit for bit (and equal to numpy's float32 ``mean``), long texts included.
        """
        return self.embedding(input_ids, offsets)

    def forward(self, input_ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.dyt(self.pool(input_ids, offsets))

    def float_table(self) -> torch.Tensor:
        """The full float32 table (dequantised if the module is 4-bit): for saving and inspection only."""
        if isinstance(self.embedding, PackedQ4EmbeddingBag):
            return self.embedding.dequantize_all()
        return self.embedding.weight.detach()


def truncate_and_normalize(embeddings: torch.Tensor, dim: int | None, normalize: bool) -> torch.Tensor:
    """Matryoshka: keep the first ``dim`` coordinates, *then* L2-normalise (the order matters)."""
    if dim is not None:
        embeddings = embeddings[:, :dim]
    if normalize:
        embeddings = F.normalize(embeddings, p=2.0, dim=1)
    return embeddings


def normalize_numpy(embeddings: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """L2 normalisation along the last axis with ``F.normalize``'s guard: an all-zero row stays zero."""
    norms = np.sqrt(np.einsum("...i,...i->...", embeddings, embeddings))[..., None]
    return np.divide(embeddings, np.maximum(norms, np.float32(1e-12)), out=out)
