"""The numbers behind the page, on small hand-checkable cases."""

import numpy as np
import pytest

from sse_demo.app.compare import compare_scores, overlap_at_k, row_cosines, spearman
from sse_demo.app.corpus import Corpus, load_demo_corpus
from sse_demo.app.embedding_map import neighbours
from sse_demo.app.index import CorpusIndex, Hit, overlap, ranks, top_k, truncate_normalize
from sse_demo.app.labelled import demo_pair_sets, labelled_sets
from sse_demo.app.matryoshka import bytes_per_vector, dial_costs, rank_shifts
from sse_demo.app.models import ModelRef, ModelSource, checkpoint_bytes, choose_models, files_bytes, requested_model
from sse_demo.app.results import PUBLISHED_CSV, measured_csv, read_table, side_by_side
from sse_demo.app.saturation import DyTParams, per_dim_rate, saturation
from sse_demo.app.tokens import inspect_tokens, token_shares
from sse_demo.evaluation.beir import default_eval_dir


def test_truncate_normalize_keeps_the_first_dims_then_normalises():
    np.testing.assert_allclose(truncate_normalize(np.array([[3.0, 4.0, 12.0]]), 2), [[0.6, 0.8]])


def test_truncate_normalize_leaves_a_zero_row_zero():
    assert not truncate_normalize(np.zeros((1, 4)), 4).any()


def test_top_k_is_best_first_and_keeps_corpus_order_on_ties():
    assert top_k(np.array([1.0, 3.0, 3.0, 2.0]), 3).tolist() == [1, 2, 3]


def test_top_k_with_k_beyond_the_corpus_returns_everything():
    assert top_k(np.array([0.1, 0.2]), 10).tolist() == [1, 0]


def test_ranks_are_one_based():
    assert ranks(np.array([0.1, 0.9, 0.5])).tolist() == [3, 1, 2]


def tiny_index(raw):
    corpus = Corpus.from_texts("t", [f"p{i}" for i in range(len(raw))])
    return CorpusIndex(corpus, np.asarray(raw, dtype=np.float32))


def test_rank_shift_against_the_full_dim():
    # At dim 1 p0 and p1 tie (both +1, p0 first); at dim 2 p1 is closer to the query [1, 0.1].
    index = tiny_index([[1, -1], [1, 1], [-1, 1]])
    query = np.array([1.0, 0.1], dtype=np.float32)
    hits = index.search(query, 1, 2)
    assert [h.index for h in hits] == [0, 1]
    shifted = rank_shifts(index, query, hits)
    assert [(s.full_rank, s.shift) for s in shifted] == [(2, 1), (1, -1)]


def test_dial_costs_bytes_and_savings():
    index = tiny_index(np.ones((10, 512)))
    costs = {c.dim: c for c in dial_costs(index, np.ones(512, dtype=np.float32), repeats=1)}
    assert bytes_per_vector(128) == 512
    assert costs[128].index_bytes == 10 * 128 * 4
    assert costs[128].saving == pytest.approx(0.75)
    assert costs[512].saving == 0


def test_overlap_of_hit_lists():
    a = [Hit(1, 0, 1.0), Hit(2, 1, 0.5)]
    b = [Hit(1, 1, 1.0), Hit(2, 5, 0.5)]
    assert overlap(a, b) == 0.5


def test_overlap_at_k():
    a, b = np.array([3.0, 2.0, 1.0]), np.array([3.0, 1.0, 2.0])
    assert overlap_at_k(a, b, 1) == 1.0
    assert overlap_at_k(a, b, 2) == 0.5


def test_spearman_of_same_and_reversed_orders():
    x = np.array([0.1, 0.5, 0.3, 0.9])
    assert spearman(x, x * 2) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)


def test_row_cosines_orthogonal_parallel_and_zero():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    b = np.array([[0.0, 1.0], [2.0, 2.0], [1.0, 0.0]])
    np.testing.assert_allclose(row_cosines(a, b), [0.0, 1.0, 0.0], atol=1e-6)


def test_compare_scores_summary():
    result = compare_scores(np.array([0.9, 0.5, 0.1]), np.array([0.8, 0.6, 0.1]), 0.99, np.array([1.0, 0.98]), 2)
    assert result.overlap == 1.0
    assert result.max_abs_score_diff == pytest.approx(0.1)
    assert result.mean_abs_score_diff == pytest.approx(0.2 / 3)
    assert result.corpus_cosine_min == pytest.approx(0.98)


def test_saturation_by_hand():
    params = DyTParams(np.array([1.0, 2.0]), np.array([1.0, -1.0]), np.array([0.0, 1.0]))
    sat = saturation(np.array([0.5, 1.0]), params)
    np.testing.assert_allclose(sat.u, [0.5, 3.0])
    np.testing.assert_allclose(sat.y, [np.tanh(0.5), -np.tanh(3.0)], rtol=1e-6)
    np.testing.assert_allclose(sat.gate, [1 - np.tanh(0.5) ** 2, 1 - np.tanh(3.0) ** 2], rtol=1e-5)
    assert sat.saturated.tolist() == [False, True]
    assert int(sat.count) == 1


def test_per_dim_saturation_rate_over_texts():
    params = DyTParams(np.ones(2), np.ones(2), np.zeros(2))
    sat = saturation(np.array([[3.0, 0.0], [3.0, 3.0], [0.0, 0.0], [-3.0, 0.0]]), params)
    np.testing.assert_allclose(per_dim_rate(sat), [0.75, 0.25])
    assert sat.fraction == pytest.approx(4 / 8)


def test_token_shares_split_evenly_for_orthogonal_rows():
    np.testing.assert_allclose(token_shares(np.array([[1.0, 0.0], [0.0, 1.0]])), [0.5, 0.5])


def test_token_shares_sum_to_one_and_can_be_negative():
    shares = token_shares(np.array([[2.0, 0.0], [-1.0, 0.0]]))
    np.testing.assert_allclose(shares, [2.0, -1.0])


def test_token_shares_of_a_zero_mean_are_zero():
    assert token_shares(np.array([[1.0, 0.0], [-1.0, 0.0]])).tolist() == [0.0, 0.0]


def test_neighbours_exclude_the_passage_itself():
    matrix = truncate_normalize(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]), 2)
    result = neighbours(matrix, 0, 5)
    assert [i for i, _ in result] == [1, 2]


def test_demo_pair_sets_point_each_query_to_its_translation():
    corpus = load_demo_corpus()
    en2ja, ja2en = demo_pair_sets(corpus)
    assert en2ja.dataset.name == "demo-pairs-en2ja" and ja2en.dataset.name == "demo-pairs-ja2en"
    pair_of = dict(zip(corpus.ids, corpus.pairs, strict=True))
    for qid, relevant in en2ja.dataset.qrels.items():
        (doc,) = relevant
        assert doc.startswith("ja-") and pair_of[doc] == pair_of[qid]
    assert len(en2ja.dataset.queries) >= 100


def test_labelled_sets_fall_back_to_demo_pairs_without_an_eval_folder(tmp_path):
    sets = labelled_sets(load_demo_corpus(), tmp_path / "missing")
    assert [s.dataset.name for s in sets] == ["demo-pairs-en2ja", "demo-pairs-ja2en"]
    assert "derived from the demo corpus" in sets[0].source


def test_eval_dir_comes_from_the_environment(tmp_path):
    assert default_eval_dir({"SSE_EVAL_DIR": str(tmp_path)}) == tmp_path


def test_model_flag_wins_over_the_environment():
    assert requested_model("a/b", {"SSE_MODEL": "c/d"}) == "a/b"
    assert requested_model(None, {"SSE_MODEL": "c/d"}) == "c/d"
    assert requested_model(None, {}) is None
    assert requested_model("bundled", {"SSE_MODEL": "c/d"}) is None


def test_bundled_choice_pairs_the_two_bundled_checkpoints():
    choice = choose_models(None)
    assert choice.source is ModelSource.BUNDLED
    assert (choice.fp32.name, choice.fp32.quantized, choice.q4.name, choice.q4.quantized) == (None, False, None, True)


def test_a_published_id_pairs_the_two_published_models():
    from sse_demo.model.hub import PUBLISHED_FP32, PUBLISHED_Q4

    for name in (PUBLISHED_FP32, PUBLISHED_Q4):
        choice = choose_models(name)
        assert choice.source is ModelSource.HUB
        assert (choice.fp32.name, choice.q4.name) == (PUBLISHED_FP32, PUBLISHED_Q4)


def test_a_local_folder_is_paired_with_itself_quantised(tmp_path):
    choice = choose_models(str(tmp_path))
    assert choice.source is ModelSource.LOCAL
    assert choice.q4.name == str(tmp_path) and choice.q4.quantized


def test_checkpoint_bytes_by_format():
    assert checkpoint_bytes(10, 8, quantized=False) == 10 * 8 * 4 + 3 * 8 * 4
    assert checkpoint_bytes(10, 8, quantized=True) == 10 * (4 + 4) + 3 * 8 * 4


def test_files_bytes_of_a_folder_in_its_own_format(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"x" * 10)
    (tmp_path / "tokenizer.json").write_bytes(b"y" * 5)
    assert files_bytes(ModelRef(str(tmp_path), False)) == 15
    assert files_bytes(ModelRef(str(tmp_path), True)) is None  # fp32 folder quantised on load: no 4-bit files


def test_published_table_is_the_spec_copy():
    rows = read_table(PUBLISHED_CSV)
    assert len(rows) == 28
    mean_en = next(r for r in rows if r["language"] == "en" and r["dataset"] == "NanoBEIR Mean")
    assert mean_en["ndcg@10"] == pytest.approx(0.5049)


def test_measured_numbers_are_found_and_set_beside_the_published(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nanobeir-measured.csv").write_text("language,dataset,ndcg@10\nen,NanoNQ,0.5\n")
    path = measured_csv(tmp_path)
    assert path is not None
    rows = side_by_side(read_table(PUBLISHED_CSV), read_table(path))
    nq = next(r for r in rows if r["language"] == "en" and r["dataset"] == "NanoNQ")
    assert nq["measured ndcg@10"] == 0.5 and nq["difference"] == pytest.approx(0.5 - 0.4952)
    other = next(r for r in rows if r["dataset"] == "NanoFEVER")
    assert other["measured ndcg@10"] is None


def test_no_measured_csv_in_an_empty_docs_folder(tmp_path):
    assert measured_csv(tmp_path) is None


def test_unknown_tokens_of_a_unigram_tokenizer_are_flagged():
    from tokenizers import Tokenizer, models

    import sse_demo

    tokenizer = Tokenizer(models.Unigram([("<unk>", 0.0), ("a", -1.0), ("b", -1.0)], unk_id=0))
    model = sse_demo.SSEModel.from_arrays(tokenizer, np.eye(3, 4, dtype=np.float32), device="cpu")
    report = inspect_tokens(model, "abz")
    assert [(r.surface, r.unknown) for r in report.rows] == [("a", False), ("b", False), ("z", True)]
    assert report.unknown_count == 1
