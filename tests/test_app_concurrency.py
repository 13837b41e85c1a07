"""Work on one key never waits on another: an upload's index does not stall searches; failed loads are retried."""

import threading

import pytest
from test_app_support import make_tiny_model

from sse_demo.app.corpus import upload_view
from sse_demo.app.index import CorpusIndex
from sse_demo.app.inputs import InputError, Precision
from sse_demo.app.matryoshka import search_view
from sse_demo.app.models import choose_models
from sse_demo.app.service import DemoService
from sse_demo.app.state import OncePerKey

LIVENESS_S = 60  # not a timing: a search that cannot finish while the upload is held would wait forever


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def test_a_search_answers_while_another_visitors_upload_is_being_indexed(folder, tmp_path, monkeypatch):
    service = DemoService(choose_models(str(folder)))
    assert service.warm_up() == ""
    upload = tmp_path / "mine.txt"
    upload.write_text("\n".join(f"passage number {i}" for i in range(50)), encoding="utf-8")
    indexing, release = threading.Event(), threading.Event()
    build = CorpusIndex.build.__func__

    def held_build(cls, model, corpus, dims=()):
        if corpus.name == "mine.txt":  # hold the upload's index build until the search below has answered
            indexing.set()
            release.wait(LIVENESS_S)
        return build(cls, model, corpus, dims)

    monkeypatch.setattr(CorpusIndex, "build", classmethod(held_build))
    uploaded = {}
    uploader = threading.Thread(target=lambda: uploaded.update(result=upload_view(service, str(upload))))
    uploader.start()
    try:
        assert indexing.wait(LIVENESS_S)
        answers = {}
        searcher = threading.Thread(
            target=lambda: answers.update(result=search_view(service, "train", 64, "fp32", 3, None))
        )
        searcher.start()
        searcher.join(LIVENESS_S)
        assert not searcher.is_alive(), "the search waited for another visitor's upload to be indexed"
        assert len(answers["result"][1]) == 3
        assert uploader.is_alive()  # the upload was still being indexed all along
    finally:
        release.set()
        uploader.join(LIVENESS_S)
    assert "50 passages" in uploaded["result"][0]


def test_once_per_key_computes_once_and_keeps_no_failure():
    cache, calls = OncePerKey(), []

    def fail():
        calls.append("fail")
        raise RuntimeError("hub hiccup")

    with pytest.raises(RuntimeError):
        cache.get("k", fail)
    assert cache.get("k", lambda: calls.append("ok") or 42) == 42
    assert cache.get("k", lambda: calls.append("again") or 0) == 42
    assert calls == ["fail", "ok"] and "k" in cache


def test_a_model_that_failed_to_load_is_retried_after_the_back_off(folder, tmp_path):
    later = tmp_path / "appears-later"
    now = [1000.0]
    service = DemoService(choose_models(str(later)), retry_after_s=30, clock=lambda: now[0])
    with pytest.raises(InputError, match=r"could not be loaded.*30 s"):
        service.model(Precision.FP32)
    make_tiny_model(later)  # the passing error goes away (the hub answers again)...
    now[0] += 10
    with pytest.raises(InputError, match=r"could not be loaded.*20 s"):  # ...but the back-off is not over
        service.model(Precision.FP32)
    now[0] += 20
    model = service.model(Precision.FP32)
    assert model.dim == 512 and "1,500 × 512 on cpu" in service.model_status()
