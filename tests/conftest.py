"""Shared fixtures: a tiny bilingual tokenizer and tiny SSE checkpoints, made here so tests never touch a network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

import sse_demo
from sse_demo.evaluation.beir import default_eval_dir

REPO = Path(__file__).resolve().parent.parent
EVAL_DIR = default_eval_dir()

TRAINING_TEXTS = [
    "Static embeddings encode a whole corpus in seconds on a CPU.",
    "The mean of token vectors is followed by a tanh normalisation.",
    "Matryoshka embeddings can be truncated to fewer dimensions.",
    "Quantized models are eight times smaller than float models.",
    "東京は日本の首都で、とても大きな都市です。",
    "静的埋め込みは速く、CPUでも動きます。",
    "寿司とラーメンは人気のある日本料理です。",
    "富士山は日本で一番高い山です。",
] * 4

DIM = 64


def train_tokenizer(vocab_size: int = 300, unk: bool = True) -> Tokenizer:
    """A small BPE tokenizer; with ``unk`` unknown characters map to [UNK], without it they are dropped."""
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]" if unk else None))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["[UNK]"] if unk else [],
        show_progress=False,
    )
    tokenizer.train_from_iterator(TRAINING_TEXTS, trainer)
    return tokenizer


def random_weights(vocab: int, dim: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A table with rows large enough to saturate the tanh, and non-trivial DyT vectors."""
    rng = np.random.default_rng(seed)
    return {
        "embedding": (rng.standard_normal((vocab, dim)) * 4).astype(np.float32),
        "alpha": rng.uniform(0.2, 1.5, dim).astype(np.float32),
        "beta": rng.uniform(0.5, 2.0, dim).astype(np.float32),
        "bias": rng.uniform(-0.5, 0.5, dim).astype(np.float32),
    }


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    return train_tokenizer()


@pytest.fixture(scope="session")
def weights(tokenizer: Tokenizer) -> dict[str, np.ndarray]:
    return random_weights(tokenizer.get_vocab_size(), DIM)


@pytest.fixture(scope="session")
def model(tokenizer: Tokenizer, weights: dict[str, np.ndarray]) -> sse_demo.SSEModel:
    return sse_demo.SSEModel.from_arrays(tokenizer, **weights, device="cpu")


@pytest.fixture(scope="session")
def fp32_dir(model: sse_demo.SSEModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model.save(tmp_path_factory.mktemp("fp32") / "model")


@pytest.fixture(scope="session")
def q4_dir(model: sse_demo.SSEModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model.save(tmp_path_factory.mktemp("q4") / "model", quantized=True)


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """The labelled sets beside the repo; tests that need them skip on a fresh clone without ../shared."""
    if not EVAL_DIR.is_dir():
        pytest.skip(f"labelled eval sets not found at {EVAL_DIR} (set SSE_EVAL_DIR); they live in ../shared/eval")
    return EVAL_DIR


@pytest.fixture
def hub_at(monkeypatch):
    """Point huggingface_hub at an endpoint, online."""

    def point(endpoint: str) -> None:
        monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", endpoint)
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)

    return point
