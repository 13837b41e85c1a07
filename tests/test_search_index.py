"""Search behaviour of every index mode on small synthetic corpora: results, ids, and input errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sse_demo.search import Index, IndexMismatchError, IndexMode, MissingExtraError

DIM = 64


def clustered(n: int, dim: int = DIM, clusters: int = 300, seed: int = 0) -> np.ndarray:
    """Unit vectors around random cluster centres, so neighbours are meaningful (like real embeddings)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth, strict=True)]))


@pytest.fixture(scope="module")
def corpus() -> np.ndarray:
    return clustered(3000)


@pytest.fixture(scope="module")
def queries(corpus: np.ndarray) -> np.ndarray:
    """Noisy copies of corpus vectors: each query has a few true near neighbours, as a search query does."""
    noisy = corpus[:50] + 0.1 * np.random.default_rng(1).standard_normal((50, DIM)).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def truth(corpus: np.ndarray, queries: np.ndarray) -> np.ndarray:
    return np.argsort(-(queries @ corpus.T), axis=1)[:, :10]


def build(corpus: np.ndarray, mode: str, **options) -> Index:
    index = Index(DIM, mode, **options)
    index.add(corpus)
    return index


def test_exact_matches_brute_force(corpus: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> None:
    scores, ids = build(corpus, "exact").search(queries, top_k=10)
    np.testing.assert_array_equal(ids, truth)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ corpus.T, truth, axis=1), rtol=1e-5)


def test_exact_merges_blocks_into_the_global_top_k(corpus, queries, truth, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sse_demo.search.exact.SCORE_ELEMENTS", 50 * 128)
    _, ids = build(corpus, "exact").search(queries, top_k=10)
    np.testing.assert_array_equal(ids, truth)


def test_exact_torch_path_equals_numpy_path(corpus, queries, truth, monkeypatch: pytest.MonkeyPatch) -> None:
    # Any device other than "cpu" takes the torch path used on GPUs; "cpu:0" runs it on this GPU-less machine.
    monkeypatch.setattr("sse_demo.search.exact.SCORE_ELEMENTS", 50 * 128)
    _, ids = build(corpus, "exact", device="cpu:0").search(queries, top_k=10)
    np.testing.assert_array_equal(ids, truth)


@pytest.mark.parametrize("mode", list(IndexMode))
def test_every_mode_finds_a_stored_vector_first(corpus: np.ndarray, mode: IndexMode) -> None:
    scores, ids = build(corpus, mode).search(corpus[:20], top_k=5)
    np.testing.assert_array_equal(ids[:, 0], np.arange(20))
    assert np.all(np.diff(scores, axis=1) <= 1e-6), "scores must come best first"


def test_binary_with_int8_rescoring_recalls_exact_top10(corpus, queries, truth) -> None:
    _, ids = build(corpus, "binary", rescore="int8", rescore_multiplier=10).search(queries, top_k=10)
    assert recall_at(ids, truth) >= 0.9


def test_rescoring_beats_hamming_order_alone(corpus, queries, truth) -> None:
    _, hamming = build(corpus, "binary", rescore="none").search(queries, top_k=10)
    _, rescored = build(corpus, "binary", rescore="int8").search(queries, top_k=10)
    assert recall_at(rescored, truth) > recall_at(hamming, truth) + 0.1


def test_binary_float32_rescoring_over_all_candidates_is_exact(corpus, queries, truth) -> None:
    index = build(corpus, "binary", rescore="float32")
    _, ids = index.search(queries, top_k=10, rescore_multiplier=len(corpus) // 10)
    np.testing.assert_array_equal(ids, truth)


def test_int8_recalls_exact_top10(corpus, queries, truth) -> None:
    _, ids = build(corpus, "int8").search(queries, top_k=10)
    assert recall_at(ids, truth) >= 0.95


def test_ivf_scanning_every_cell_is_exact(corpus, queries, truth) -> None:
    _, ids = build(corpus, "ivf", nlist=8, nprobe=8).search(queries, top_k=10)
    np.testing.assert_array_equal(ids, truth)


def test_string_ids_are_returned(corpus: np.ndarray) -> None:
    index = Index(DIM, "binary")
    index.add(corpus, ids=[f"doc-{i}" for i in range(len(corpus))])
    _, ids = index.search(corpus[[7, 9]], top_k=1)
    assert ids.tolist() == [["doc-7"], ["doc-9"]]


def test_ids_of_chunked_adds_follow_insertion_order(corpus: np.ndarray) -> None:
    index = Index(DIM, "exact")
    index.add(corpus[:1000], ids=np.arange(1000) + 10_000)
    index.add(corpus[1000:], ids=np.arange(1000, len(corpus)) + 10_000)
    _, ids = index.search(corpus[[5, 2500]], top_k=1)
    assert ids[:, 0].tolist() == [10_005, 12_500]


def test_mixing_adds_with_and_without_ids_is_refused(corpus: np.ndarray) -> None:
    index = Index(DIM)
    index.add(corpus[:10])
    with pytest.raises(ValueError, match="every add or on none"):
        index.add(corpus[10:20], ids=list(range(10)))


def test_ids_of_wrong_length_are_refused(corpus: np.ndarray) -> None:
    with pytest.raises(ValueError, match="one id per embedding"):
        Index(DIM).add(corpus[:10], ids=[1, 2, 3])


def test_searching_an_empty_index_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        Index(DIM, "binary").search(np.ones((1, DIM), np.float32))


@pytest.mark.parametrize("mode", list(IndexMode))
def test_top_k_larger_than_the_index_returns_every_vector(corpus: np.ndarray, mode: IndexMode) -> None:
    scores, ids = build(corpus[:7], mode).search(corpus[:1], top_k=50)
    assert sorted(ids[0].tolist()) == list(range(7))
    assert scores.shape == (1, 7)


def test_query_of_another_dim_is_a_clear_error(corpus: np.ndarray) -> None:
    with pytest.raises(IndexMismatchError, match=r"dim 32 .* dim 64"):
        build(corpus, "exact").search(corpus[:2, :32])


def test_embeddings_of_another_dim_are_refused() -> None:
    with pytest.raises(IndexMismatchError, match="dim=64"):
        Index(DIM).add(np.ones((3, 128), np.float32))


def test_single_vector_query_is_a_batch_of_one(corpus: np.ndarray) -> None:
    _, ids = build(corpus, "exact").search(corpus[3], top_k=2)
    assert ids.shape == (1, 2) and ids[0, 0] == 3


def test_non_finite_embeddings_are_refused() -> None:
    bad = np.ones((2, DIM), np.float32)
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Index(DIM).add(bad)


def test_integer_embeddings_are_refused() -> None:
    with pytest.raises(ValueError, match="float"):
        Index(DIM).add(np.ones((2, DIM), np.int8))


def test_option_of_another_mode_is_refused() -> None:
    with pytest.raises(ValueError, match=r"rescore .* 'exact'"):
        Index(DIM, "exact", rescore="int8")


def test_unknown_mode_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'exact', 'int8', 'binary', 'ivf'"):
        Index(DIM, "hnsw")


def test_int8_mode_refuses_int8_rescoring() -> None:
    with pytest.raises(ValueError, match="cannot rescore with 'int8'"):
        Index(DIM, "int8", rescore="int8")


def test_binary_needs_whole_bytes() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        Index(60, "binary")


def test_rescore_multiplier_below_one_is_refused(corpus: np.ndarray) -> None:
    with pytest.raises(ValueError, match="rescore_multiplier"):
        build(corpus, "binary").search(corpus[:1], rescore_multiplier=0)


def test_missing_faiss_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(MissingExtraError, match=r"sse-demo\[search\]"):
        Index(DIM, "binary")


def test_memory_of_binary_with_int8_rescoring(corpus: np.ndarray) -> None:
    index = build(corpus, "binary")
    codes, int8_copies, ranges = len(corpus) * DIM // 8, len(corpus) * DIM, 2 * DIM * 4
    assert index.nbytes == codes + int8_copies + ranges


def test_vectors_added_before_training_are_all_searchable(corpus: np.ndarray) -> None:
    index = Index(DIM, "int8")
    for start in range(0, len(corpus), 500):
        index.add(corpus[start : start + 500])
    _, ids = index.search(corpus[-3:], top_k=1)
    assert len(index) == len(corpus) and ids[:, 0].tolist() == [2997, 2998, 2999]
