"""Every page view on a tiny model made here, through DemoService: what it computes, and its messages for bad input."""

import numpy as np
import pytest
from test_app_support import make_tiny_model

from sse_demo.app.compare import compare_view
from sse_demo.app.corpus import upload_view
from sse_demo.app.embedding_map import neighbours_view
from sse_demo.app.index import truncate_normalize
from sse_demo.app.inputs import InputError, Precision
from sse_demo.app.labelled import quality_view
from sse_demo.app.matryoshka import search_view
from sse_demo.app.models import choose_models
from sse_demo.app.results import results_view
from sse_demo.app.saturation import saturation_view
from sse_demo.app.service import DemoService
from sse_demo.app.speed import speed_view
from sse_demo.app.tokens import tokens_view
from sse_demo.model import MATRYOSHKA_DIMS as DIMS


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    service = DemoService(choose_models(str(folder)))
    assert service.warm_up() == ""
    return service


def test_index_views_equal_encode_at_every_dim(service):
    model = service.model(Precision.FP32)
    index = service.index(None, Precision.FP32)
    texts = index.corpus.texts[:20]
    for dim in DIMS:
        np.testing.assert_allclose(index.view(dim)[:20], model.encode(texts, dim=dim), atol=1e-6)


def test_search_returns_k_ranked_rows_with_scores_best_first(service):
    summary, rows, full, costs = search_view(service, "How do plants make oxygen?", 128, "fp32", 7, None)
    assert rows["rank"].tolist() == list(range(1, 8))
    assert (np.diff(rows["score"].to_numpy()) <= 0).all()
    assert set(rows["lang"]) <= {"en", "ja"}
    assert "dim 128" in summary and "ms" in summary
    assert len(full) == 7 and costs["dim"].tolist() == list(DIMS)


def test_search_scores_are_cosines_of_encode(service):
    model = service.model(Precision.FP32)
    _, rows, _, _ = search_view(service, "寿司", 64, "fp32", 1, None)
    index = service.index(None, Precision.FP32)
    expected = (model.encode(index.corpus.texts, dim=64) @ model.encode(["寿司"], dim=64)[0]).max()
    assert rows["score"][0] == pytest.approx(expected, abs=1e-4)


def test_search_at_512_has_no_rank_shift(service):
    _, rows, _, _ = search_view(service, "travel by train", 512, "fp32", 5, None)
    assert rows["rank@512"].tolist() == rows["rank"].tolist()
    assert set(rows["shift vs 512"]) == {"="}


def test_search_with_the_4bit_model(service):
    summary, rows, _, _ = search_view(service, "日本の伝統的な料理", "32", "4-bit", 3, None)
    assert "4-bit · dim 32" in summary and len(rows) == 3


@pytest.mark.parametrize(
    ("dim", "precision", "k", "message"),
    [(100, "fp32", 5, "dim must be one of"), (128, "fp16", 5, "precision must be one of"), (128, "fp32", 0, "k must")],
)
def test_bad_controls_get_a_clear_message(service, dim, precision, k, message):
    with pytest.raises(InputError, match=message):
        search_view(service, "ok", dim, precision, k, None)


def test_compare_shows_both_models_and_sizes(service):
    summary, table, sizes = compare_view(service, "cherry blossom", 256, 5, None)
    assert "overlap@5" in summary and "Spearman" in summary
    assert {"rank fp32", "rank 4-bit", "score diff", "cosine fp32·4-bit"} <= set(table.columns)
    assert len(table) >= 5
    assert (table["cosine fp32·4-bit"] > 0.9).all()
    assert sizes["model"].str.startswith(("fp32", "4-bit")).all() and len(sizes) == 2


def test_saturation_count_matches_a_direct_computation(service):
    model = service.model(Precision.FP32)
    summary, *plots, table = saturation_view(service, "花見の宴", "fp32", None)
    dyt = model.module.dyt  # the torch module itself: the check must not go through the app's own accessors
    x = model.pooled(["花見の宴"])[0]
    u = dyt.alpha.detach().numpy() * x + dyt.bias.detach().numpy()
    assert summary.startswith(f"**{int((np.abs(u) > 2).sum())} of {model.dim} dimensions saturated**")
    assert len(plots) == 4 and all(hasattr(p, "to_json") for p in plots)
    assert table["dim"].tolist()[0] == int(np.argmax(np.abs(u)))


def test_token_inspector_flags_unknown_tokens_and_shares_add_up(service):
    summary, table = tokens_view(service, "東京 🚄 train", "fp32")
    assert table.loc[table["text"] == "🚄", "unknown"].tolist() == [True]
    shares = table["share of pooled vector"].str.rstrip("%").astype(float)
    assert shares.sum() == pytest.approx(100, abs=0.5)
    assert "1 unknown" in summary


def test_upload_replaces_the_corpus_for_that_session_only(service, tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("the red fox jumps\n赤いきつねが跳ぶ\nquiet river\n", encoding="utf-8")
    message, state = upload_view(service, str(path))
    assert "3 passages" in message
    _, rows, _, _ = search_view(service, "fox", 512, "fp32", 10, state)
    assert len(rows) == 3
    _, demo_rows, _, _ = search_view(service, "fox", 512, "fp32", 10, None)
    assert len(demo_rows) == 10


def test_upload_without_a_file_is_refused(service):
    with pytest.raises(InputError, match="No file"):
        upload_view(service, None)


def test_quality_falls_back_to_the_demo_pairs(service, monkeypatch, tmp_path):
    monkeypatch.setenv("SSE_EVAL_DIR", str(tmp_path / "missing"))
    summary, table, _ = quality_view(service, "fp32")
    assert "derived from the demo corpus" in summary
    assert sorted(set(table["dim"])) == sorted(DIMS)
    assert table["ndcg@10"].between(0, 1).all()


def test_speed_reports_texts_per_second_and_stages(service):
    summary, figure = speed_view(service, "fast", None)
    assert summary.count("texts/s") == 2
    assert list(figure.data[0].x) == ["tokenize", "pool", "dyt", "normalize", "score", "sort"]  # encode's stages


def test_neighbours_of_a_passage(service):
    _summary, table = neighbours_view(service, "en-001", "fp32", 4, None)
    assert len(table) == 4 and "en-001" not in table["id"].tolist()
    with pytest.raises(InputError, match="Pick a passage"):
        neighbours_view(service, "nope", "fp32", 4, None)
    assert neighbours_view(service, None, "fp32", 4, None)[0] == ""  # a cleared picker is not an error


def test_results_table_lists_both_languages(service):
    summary, measured, _, published = results_view(service)
    assert set(published["language"]) == {"en", "ja"}
    assert "published" in summary.lower() and len(measured)


def test_a_model_that_fails_to_load_gives_a_message_not_a_crash(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tokenizer.json").write_text("{}")
    service = DemoService(choose_models(str(broken)))
    assert "could not be loaded" in service.warm_up()
    assert service.load_models().count("could not be loaded") == 2
    with pytest.raises(InputError, match="could not be loaded"):
        search_view(service, "hello", 512, "fp32", 5, None)


def test_query_views_match_encode(service):
    from sse_demo.app.index import embed_query

    model = service.model(Precision.Q4)
    raw = embed_query(model, "静的埋め込み")
    np.testing.assert_allclose(truncate_normalize(raw, 32), model.encode(["静的埋め込み"], dim=32)[0], atol=1e-6)
