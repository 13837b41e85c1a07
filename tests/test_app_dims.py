"""The Matryoshka ladder comes from the loaded model: 256- and 1024-dim checkpoints are searched at their own dims.

Tiny checkpoints of each size are made here; the service is driven directly, and the 1024-dim one also through
``python app.py --model FOLDER`` and gradio_client.
"""

import numpy as np
import pytest
from test_app_support import make_tiny_model, running_app

from sse_demo.app.compare import compare_view
from sse_demo.app.inputs import InputError, Precision
from sse_demo.app.labelled import quality_view
from sse_demo.app.matryoshka import ladder, search_view
from sse_demo.app.models import choose_models
from sse_demo.app.service import DemoService
from sse_demo.model import MATRYOSHKA_DIMS


def test_the_ladder_of_a_512_dim_model_is_the_published_one():
    assert ladder(512) == MATRYOSHKA_DIMS


def test_the_ladder_halves_down_to_the_smallest_trained_dim():
    assert ladder(1024) == (1024, 512, 256, 128, 64, 32)
    assert ladder(256) == (256, 128, 64, 32)
    assert ladder(384) == (384, 192, 96, 48)
    assert ladder(16) == (16,)


@pytest.fixture(scope="module", params=[256, 1024])
def sized(request, tmp_path_factory):
    folder = make_tiny_model(tmp_path_factory.mktemp(f"dim{request.param}") / "model", dim=request.param)
    service = DemoService(choose_models(str(folder)))
    assert service.warm_up() == ""
    return request.param, service


def test_the_page_offers_the_models_own_dim_first(sized):
    dim, service = sized
    assert service.dims == ladder(dim)


def test_search_at_the_models_own_dim_labels_that_dim(sized):
    dim, service = sized
    summary, rows, _full, costs = search_view(service, "travel by train", dim, "fp32", 5, None)
    assert f"fp32 · dim {dim}" in summary and f"with dim {dim}" in summary
    assert list(rows.columns[-2:]) == [f"rank@{dim}", f"shift vs {dim}"]
    assert rows[f"rank@{dim}"].tolist() == rows["rank"].tolist()
    assert costs["dim"].tolist() == list(ladder(dim)) and f"saved vs {dim}" in costs.columns
    assert "512" not in summary or dim == 1024


def test_scores_at_every_dim_are_cosines_of_encode(sized):
    dim, service = sized
    model = service.model(Precision.FP32)
    index = service.index(None, Precision.FP32)
    for d in ladder(dim):
        _, rows, _, _ = search_view(service, "寿司", d, "fp32", 1, None)
        expected = (model.encode(index.corpus.texts, dim=d) @ model.encode(["寿司"], dim=d)[0]).max()
        assert rows["score"][0] == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("asked", [2048, 100, "many", None])
def test_an_impossible_dim_gets_a_bilingual_message_naming_the_ladder(sized, asked):
    dim, service = sized
    choices = ", ".join(map(str, ladder(dim)))
    with pytest.raises(InputError, match=rf"dim must be one of {choices} \(the loaded model has {dim} dims\).*次元"):
        search_view(service, "ok", asked, "fp32", 5, None)


def test_compare_and_quality_use_the_models_ladder(sized, monkeypatch, tmp_path):
    dim, service = sized
    summary, _table, sizes = compare_view(service, "cherry blossom", dim, 3, None)
    assert f"dim {dim}" in summary and sizes["vocab × dim"].str.endswith(f"× {dim}").all()
    monkeypatch.setenv("SSE_EVAL_DIR", str(tmp_path / "missing"))
    _, quality, _ = quality_view(service, "4-bit")
    assert sorted(set(quality["dim"])) == sorted(ladder(dim))


def test_a_1024_dim_checkpoint_through_the_page(tmp_path_factory):
    from gradio_client import Client

    with running_app(tmp_path_factory.mktemp("app1024"), flag=True, dim=1024) as url:
        client = Client(url, verbose=False)
        summary, results, _full, costs = client.predict(
            "How do plants make oxygen?", 1024, "fp32", 3, api_name="/search"
        )
        assert "fp32 · dim 1024" in summary
        assert results["headers"][-2:] == ["rank@1024", "shift vs 1024"]
        assert [row[0] for row in costs["data"]] == [1024, 512, 256, 128, 64, 32]
        summary, results, _, _ = client.predict("桜", 512, "4-bit", 3, api_name="/search")
        assert "4-bit · dim 512" in summary and len(results["data"]) == 3
        summary, results, _, _ = client.predict("桜", 2048, "fp32", 3, api_name="/search")
        assert summary.startswith("⚠️") and "dim must be one of 1024, 512" in summary and "次元" in summary
        assert results["data"] == [] or np.asarray(results["data"]).size == 0
