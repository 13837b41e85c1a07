"""``sse_demo.search.exact.top_k``, the package's one ranking rule: higher score first, ties to the lower index."""

from __future__ import annotations

import numpy as np
import pytest

from sse_demo.search import Index
from sse_demo.search.exact import top_k


def test_best_first_and_equal_scores_keep_index_order() -> None:
    assert top_k(np.array([1.0, 3.0, 3.0, 2.0]), 3).tolist() == [1, 2, 3]
    assert top_k(np.array([0.1, 0.2]), 10).tolist() == [1, 0]


def test_ties_at_the_cut_go_to_the_lower_indices() -> None:
    scores = np.zeros(5000, dtype=np.float32)
    scores[[4000, 17]] = 1.0
    assert top_k(scores, 5).tolist() == [17, 4000, 0, 1, 2]


def test_each_row_of_a_matrix_is_ranked_alone() -> None:
    scores = np.array([[0.0, 0.5, 0.5, 0.9], [0.3, 0.3, 0.3, 0.3], [4.0, 3.0, 2.0, 1.0]], dtype=np.float32)
    assert top_k(scores, 2).tolist() == [[3, 1], [0, 1], [0, 1]]


def test_equals_a_stable_full_sort_on_random_ties() -> None:
    scores = np.random.default_rng(0).integers(0, 6, size=(40, 300)).astype(np.float32)
    for k in (1, 7, 100, 300, 1000):
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(top_k(scores, k), expected)


def test_k_of_zero_and_empty_scores_give_nothing() -> None:
    assert top_k(np.array([1.0, 2.0]), 0).shape == (0,)
    assert top_k(np.empty(0, dtype=np.float32), 5).shape == (0,)
    assert top_k(np.empty((3, 0), dtype=np.float32), 5).shape == (3, 0)


def test_nan_ranks_last() -> None:
    assert top_k(np.array([np.nan, 0.5, np.nan, 0.7, 0.1]), 3).tolist() == [3, 1, 4]


@pytest.mark.parametrize("device", ["cpu", "cpu:0"])  # "cpu:0" takes the torch path used on GPUs
def test_exact_index_returns_duplicates_in_row_order(device: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sse_demo.search.exact.SCORE_ELEMENTS", 300)  # several blocks, merged
    vectors = np.tile(np.eye(8, dtype=np.float32)[:1], (1000, 1))
    vectors[[5, 600]] = np.eye(8, dtype=np.float32)[1]
    index = Index(8, "exact", device=device)
    index.add(vectors)
    _, rows = index.search(np.eye(8, dtype=np.float32)[:2], top_k=4)
    assert rows.tolist() == [[0, 1, 2, 3], [5, 600, 0, 1]]


@pytest.mark.parametrize("rescore", ["float32", "int8", "bits"])
def test_rescored_duplicates_come_back_in_row_order(rescore: str) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((200, 16)).astype(np.float32)
    vectors[[150, 40, 90]] = vectors[7]
    index = Index(16, "binary", rescore=rescore)
    index.add(vectors)
    _, rows = index.search(vectors[7], top_k=4)
    assert rows.tolist() == [[7, 40, 90, 150]]
