"""Tiny peer folders made by the peers' own libraries: a sentence-transformers ``StaticEmbedding`` model and a
model2vec ``StaticModel`` (random tables, tokenizers other than SSE's, 96 and 64 dims). Shared by the ``load_peer``,
app and CLI tests; not a test module of its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import TRAINING_TEXTS, train_tokenizer
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

ST_DIM, M2V_DIM = 96, 64


def wordlevel_tokenizer() -> Tokenizer:
    """A word-level tokenizer with [UNK] (unlike SSE's subword one): model2vec drops the unknown words."""
    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(TRAINING_TEXTS, trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    return tokenizer


def random_table(rows: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)


def make_st_peer(folder: Path, *, normalize: bool = False, dim: int = ST_DIM) -> Path:
    """A sentence-transformers model whose only module (or first, before ``Normalize``) is ``StaticEmbedding``."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, StaticEmbedding

    tokenizer = train_tokenizer(vocab_size=250)
    static = StaticEmbedding(tokenizer, embedding_weights=random_table(tokenizer.get_vocab_size(), dim, 1))
    SentenceTransformer(modules=[static, Normalize()] if normalize else [static], device="cpu").save(str(folder))
    return folder


def make_m2v_peer(folder: Path, *, normalize: bool = True, dim: int = M2V_DIM) -> Path:
    """A model2vec ``StaticModel`` over a word-level tokenizer."""
    from model2vec import StaticModel

    tokenizer = wordlevel_tokenizer()
    StaticModel(random_table(tokenizer.get_vocab_size(), dim, 2), tokenizer, normalize=normalize).save_pretrained(
        folder
    )
    return folder
