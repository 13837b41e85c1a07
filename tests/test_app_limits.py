"""The served app as a public Space needs it: the server refuses what the app would refuse (413), uploaded files
are not left behind, and a session whose upload was evicted by others' uploads is told so.

``python app.py`` runs with Gradio's upload folder in a temporary folder and a 1 MB upload memory cap (one
300-passage upload on the tiny model fits, two do not).
"""

import os
import threading

import httpx
import pytest
from test_app_support import make_tiny_model, running_app

from sse_demo.app.corpus import MAX_UPLOAD_BYTES
from sse_demo.app.endpoints import CONCURRENCY_LIMITS, HEAVY, SEARCH, Endpoint, bind
from sse_demo.app.models import choose_models
from sse_demo.app.service import DemoService

WARNING = "⚠️"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("space")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_TEMP_DIR", str(root / "gradio"))
        patch.setenv("SSE_UPLOAD_MEMORY_MB", "1")
        with running_app(root, flag=True) as url:
            yield url, root / "gradio"


def client(url):
    from gradio_client import Client

    return Client(url, verbose=False)


def upload(session, path):
    from gradio_client import handle_file

    return session.predict(handle_file(str(path)), api_name="/upload")


def test_a_3mb_upload_is_refused_by_the_server_with_413(served):
    url, _ = served
    response = httpx.post(
        f"{url}gradio_api/upload", files={"files": ("big.txt", b"word " * 600_000, "text/plain")}, timeout=60
    )
    assert response.status_code == 413
    small = httpx.post(f"{url}gradio_api/upload", files={"files": ("ok.txt", b"word " * 1000, "text/plain")})
    assert small.status_code == 200
    at_limit = httpx.post(
        f"{url}gradio_api/upload", files={"files": ("limit.txt", b"w" * MAX_UPLOAD_BYTES, "text/plain")}, timeout=60
    )
    assert at_limit.status_code == 200  # the server's limit is the app's own, not a smaller one


def test_an_upload_over_the_apps_limit_never_reaches_it_and_the_session_keeps_its_corpus(served, tmp_path):
    url, _ = served  # the app's own message for it ("the upload limit is ...") is in test_app_corpus.py
    session = client(url)
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 500_000)
    with pytest.raises(ValueError, match="exceeds the maximum file size of 2000000 bytes"):
        upload(session, big)
    _, results, _, _ = session.predict("train", 512, "fp32", 10, api_name="/search")
    assert len(results["data"]) == 10  # still the demo corpus


def test_uploaded_files_are_not_left_behind_kept_or_refused(served, tmp_path):
    url, cache = served
    session = client(url)
    refused = tmp_path / "refused.txt"
    refused.write_bytes(b"\xff\xfe refused upload marker")
    assert upload(session, refused).startswith(WARNING)
    kept = tmp_path / "kept.txt"
    kept.write_text("kept upload marker one\nkept upload marker two\n", encoding="utf-8")
    assert "2 passages" in upload(session, kept)
    left = [p for p in cache.rglob("*") if p.is_file() and b"upload marker" in p.read_bytes()]
    assert left == []


def test_a_session_whose_upload_was_evicted_is_told_so(served, tmp_path):
    url, _ = served
    mine, theirs = client(url), client(url)
    for name, session in (("mine", mine), ("theirs", theirs)):
        path = tmp_path / f"{name}.txt"
        path.write_text("\n".join(f"{name} passage {i} about rivers" for i in range(300)), encoding="utf-8")
        assert "300 passages" in upload(session, path)
    summary, results, _, _ = mine.predict("rivers", 512, "fp32", 5, api_name="/search")
    assert summary.startswith(WARNING) and "'mine.txt'" in summary and "Upload the file again" in summary
    assert results["data"] == []
    summary, results, _, _ = theirs.predict("rivers", 512, "fp32", 5, api_name="/search")
    assert [row[4].split()[0] for row in results["data"]] == ["theirs"] * 5


def test_heavy_views_run_in_their_own_concurrency_group_beside_searches(tmp_path):
    import app

    demo = app.build(DemoService(choose_models(str(make_tiny_model(tmp_path / "model")))))
    groups = {}
    for fn in demo.fns.values():
        groups.setdefault(fn.concurrency_id, set()).add(fn.api_name)
        if fn.concurrency_id in CONCURRENCY_LIMITS:
            assert fn.concurrency_limit == CONCURRENCY_LIMITS[fn.concurrency_id]
    assert {"search", "neighbours", "tokens"} <= groups[SEARCH]
    assert {"upload", "embedding_map", "quality", "saturation", "speed", "compare"} <= groups[HEAVY]
    assert CONCURRENCY_LIMITS[SEARCH] > 1  # searches answer side by side, not one at a time
    search_events = [fn for fn in demo.fns.values() if fn.fn is not None and fn.fn.__name__ == "search"]
    assert len(search_events) >= 4 and {fn.concurrency_id for fn in search_events} == {SEARCH}


def test_heavy_views_run_at_a_lower_cpu_priority_than_searches():
    def priority(service):
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    if own >= 19:
        pytest.skip("the tests already run at the lowest CPU priority (nice 19): nothing can run lower")
    heavy = bind(Endpoint("heavy_probe", priority, concurrency=HEAVY), service=None)()
    light = bind(Endpoint("light_probe", priority, concurrency=SEARCH), service=None)()
    assert light == own and heavy > own
