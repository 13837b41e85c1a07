"""A SentenceTransformer built from SSE encodes identically and uses cosine similarity."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import sse_demo
from sse_demo.model.st import SSEModule, to_sentence_transformer

TEXTS = ["Static embeddings are fast.", "東京は日本の首都です。", "", "🚀 mixed 日本 text"]


def test_sentence_transformer_encodes_identically(model: sse_demo.SSEModel) -> None:
    st = to_sentence_transformer(model)
    np.testing.assert_allclose(st.encode(TEXTS, normalize_embeddings=True), model.encode(TEXTS), atol=1e-6)
    np.testing.assert_allclose(st.encode(TEXTS), model.encode(TEXTS, normalize=False), atol=1e-6)


def test_similarity_is_cosine(model: sse_demo.SSEModel) -> None:
    st = to_sentence_transformer(model)
    raw = model.encode(TEXTS[:2], normalize=False)
    cosine = raw[0] @ raw[1] / np.linalg.norm(raw[0]) / np.linalg.norm(raw[1])
    assert st.similarity_fn_name == "cosine"
    np.testing.assert_allclose(st.similarity(raw, raw)[0, 1].item(), cosine, atol=1e-6)


def test_matryoshka_through_truncate_dim(model: sse_demo.SSEModel) -> None:
    st = to_sentence_transformer(model)
    got = st.encode(TEXTS, normalize_embeddings=True, truncate_dim=32)
    np.testing.assert_allclose(got, model.encode(TEXTS, dim=32), atol=1e-6)


def test_quantized_model_works_in_sentence_transformers(q4_dir: Path) -> None:
    model = sse_demo.load_model(q4_dir, device="cpu")
    got = to_sentence_transformer(model).encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(got, model.encode(TEXTS), atol=1e-6)


def test_module_saves_the_published_fp32_layout(model: sse_demo.SSEModel, tmp_path: Path) -> None:
    SSEModule(model).save(str(tmp_path))
    again = SSEModule.load(str(tmp_path))
    np.testing.assert_allclose(again.model.encode(TEXTS), model.encode(TEXTS), atol=1e-6)
