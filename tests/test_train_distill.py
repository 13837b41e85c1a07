"""Tokenizer pruning and the initial table of the distillation step, on a tiny Unigram tokenizer."""

from __future__ import annotations

import json

import numpy as np
from tokenizers import Tokenizer

from sse_demo.train.distill import UNK, initial_table, lowercased, prune_tokenizer, surface

SPEC = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [],
    "normalizer": None,
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    "post_processor": None,
    "decoder": None,
    "model": {
        "type": "Unigram",
        "unk_id": 0,
        "byte_fallback": False,
        "vocab": [[UNK, 0.0], ["\u2581cat", -1.0], ["\u2581dog", -1.0], ["\u2581", -2.0], ["猫", -1.0], ["x", -5.0]],
    },
}


def test_lowercased_tokenizer_maps_case_variants_to_one_piece() -> None:
    tokenizer = Tokenizer.from_str(json.dumps(lowercased(SPEC)))
    assert tokenizer.encode("CAT").tokens == tokenizer.encode("cat").tokens == ["\u2581cat"]


def test_prune_keeps_unk_first_and_the_best_scored_pieces() -> None:
    pruned, probs = prune_tokenizer(SPEC, {"\u2581cat": 0.5, "猫": 0.3, "\u2581dog": 0.1, "x": 0.01}, vocab_size=3)
    assert [p for p, _ in pruned["model"]["vocab"]] == [UNK, "\u2581cat", "猫"]
    assert probs.tolist() == [0.0, 0.5, 0.3]


def test_pruned_tokenizer_loads_and_sends_dropped_pieces_to_unk() -> None:
    pruned, _ = prune_tokenizer(SPEC, {"\u2581cat": 0.5, "\u2581": 0.4}, vocab_size=3)
    tokenizer = Tokenizer.from_str(json.dumps(pruned))
    assert tokenizer.encode("dog").ids[-1] == 0


def test_surface_strips_the_word_start_marker() -> None:
    assert surface("\u2581cat") == "cat"


def test_initial_table_puts_most_variance_in_the_first_dims() -> None:
    rng = np.random.default_rng(0)
    vectors = (rng.standard_normal((200, 8)) * np.array([1, 1, 1, 1, 1, 1, 1, 6.0])).astype(np.float32)
    table = initial_table(vectors, np.full(200, 1e-6), whiten=0.0)
    variance = table.var(axis=0)
    assert variance[0] > variance[-1]


def test_initial_table_downweights_frequent_pieces() -> None:
    vectors = np.ones((2, 4), dtype=np.float32) + np.eye(2, 4, dtype=np.float32)
    norms = np.linalg.norm(initial_table(vectors, np.array([1e-2, 1e-7])), axis=1)
    assert norms[0] < norms[1]


def test_initial_table_gives_pieces_without_teacher_vector_a_nonzero_row() -> None:
    vectors = np.vstack([np.zeros((1, 4)), np.eye(4)]).astype(np.float32)
    assert np.linalg.norm(initial_table(vectors, np.full(5, 1e-3))[0]) > 0
