"""SSE as a sentence-transformers module, for ST's ``encode``, evaluators and trainer.

``SSEModule`` wraps the same :class:`~sse_demo.model.module.SSE` and tokenisation as :class:`SSEModel`, so a
``SentenceTransformer`` built from it gives identical embeddings, and saves in the published fp32 layout.
sentence-transformers is imported here only, so the core stays light.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule

from sse_demo.model.module import SSE
from sse_demo.model.static import SSEModel


class SSEModule(InputModule):
    """An ST input module: ``preprocess`` gives flat ids + offsets, ``forward`` gives the unnormalised SSE output."""

    def __init__(self, model: SSEModel) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = model.tokenizer
        self.sse: SSE = model.module

    def preprocess(self, inputs: list[str], prompt: str | None = None, **kwargs: Any) -> dict[str, torch.Tensor]:
        if prompt:
            inputs = self._prepend_prompt(inputs, prompt)
        ids, offsets = self.model.tokenize(inputs)
        return {
            "input_ids": torch.from_numpy(ids),
            "offsets": torch.from_numpy(offsets),
        }

    def forward(self, features: dict[str, torch.Tensor], **kwargs: Any) -> dict[str, torch.Tensor]:
        features["sentence_embedding"] = self.sse(features["input_ids"], features["offsets"])
        return features

    @property
    def max_seq_length(self) -> float:
        return math.inf

    def get_embedding_dimension(self) -> int:
        return self.sse.dim

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        """The published fp32 layout: ``model.safetensors`` + ``tokenizer.json``."""
        self.model.save(output_path)

    @classmethod
    def load(cls, model_name_or_path: str, *args: Any, **kwargs: Any) -> SSEModule:
        return cls(SSEModel.from_pretrained(Path(model_name_or_path)))


def to_sentence_transformer(model: SSEModel) -> SentenceTransformer:
    """A ``SentenceTransformer`` around ``model``: same embeddings, cosine similarity."""
    return SentenceTransformer(
        modules=[SSEModule(model)],
        similarity_fn_name="cosine",
        device=str(model.device),
    )


__all__ = ["SSEModule", "to_sentence_transformer"]
