"""The Search and Speed tabs time the path ``encode`` really takes on CPU, and the query embedding equals encode's."""

import numpy as np
import pytest
from test_app_support import make_tiny_model

from sse_demo.app.index import StageTimes, embed_query, truncate_normalize
from sse_demo.app.inputs import Precision
from sse_demo.app.matryoshka import search_view
from sse_demo.app.models import choose_models
from sse_demo.app.service import DemoService
from sse_demo.app.speed import speed_view

ENCODE_STAGES = ["tokenize", "pool", "dyt", "normalize", "score", "sort"]
TEXTS = ["静的埋め込み", "How do plants make oxygen?", "🚄", ""]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    service = DemoService(choose_models(str(make_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))))
    assert service.warm_up() == ""
    return service


def no_torch_forward(*args, **kwargs):
    raise AssertionError("CPU encode never runs the torch module's forward")


@pytest.mark.parametrize("precision", list(Precision))
@pytest.mark.parametrize("text", TEXTS)
def test_the_query_embedding_is_encodes_by_encodes_own_cpu_path(service, precision, text, monkeypatch):
    model = service.model(precision)
    monkeypatch.setattr(model.module, "forward", no_torch_forward)
    expected = model.encode([text], normalize=False)[0]  # encode itself runs without the torch forward on CPU
    raw = embed_query(model, text)
    np.testing.assert_array_equal(raw, expected)
    np.testing.assert_allclose(truncate_normalize(raw, 64), model.encode([text], dim=64)[0], atol=1e-6)


def test_stage_times_name_encodes_stages_in_order(service):
    times = StageTimes()
    index = service.index(None, Precision.FP32)
    index.search(embed_query(service.model(Precision.FP32), "train", times), 128, 5, times)
    assert list(times.as_dict()) == ENCODE_STAGES
    assert all(ms >= 0 for ms in times.as_dict().values())
    assert times.total_ms == pytest.approx(sum(times.as_dict().values()))


def test_search_and_speed_show_encodes_stages(service):
    summary, *_ = search_view(service, "train", 128, "fp32", 3, None)
    assert all(f"{stage} " in summary for stage in ENCODE_STAGES)
    _, figure = speed_view(service, "fast", None)
    assert list(figure.data[0].x) == ENCODE_STAGES
