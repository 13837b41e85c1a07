"""Visitors' uploads under one memory cap: LRU eviction across sessions, idle expiry, the expired message from every
view, what an upload holds, and the server's copy of the file deleted once read."""

import numpy as np
import pytest
from test_app_support import make_tiny_model

from sse_demo.app.compare import compare_view
from sse_demo.app.corpus import Corpus, upload_view
from sse_demo.app.embedding_map import embedding_map_view, fit_map, map_rows, neighbours_view
from sse_demo.app.index import CorpusIndex
from sse_demo.app.inputs import InputError, Precision
from sse_demo.app.matryoshka import search_view
from sse_demo.app.models import choose_models
from sse_demo.app.saturation import saturation_view
from sse_demo.app.service import DemoService
from sse_demo.app.speed import speed_view
from sse_demo.app.state import CorpusState
from sse_demo.app.uploads import UploadExpired, UploadStore, discard_upload


def state_of(name: str, n: int = 20) -> CorpusState:
    return CorpusState(Corpus.from_texts(name, [f"{name} passage {i}" for i in range(n)]))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_least_recently_used_upload_goes_first():
    a, b, c = state_of("a.txt"), state_of("b.txt"), state_of("c.txt")
    store = UploadStore(max_bytes=a.nbytes() + b.nbytes() + 10, idle_s=600)
    handle_a, handle_b = store.add(a), store.add(b)
    assert store.get(handle_a) is a  # a is now used more recently than b
    handle_c = store.add(c)
    assert handle_a in store and handle_c in store and handle_b not in store
    with pytest.raises(UploadExpired):
        store.get(handle_b)


def test_an_idle_upload_expires_with_a_bilingual_message_naming_the_file():
    clock = Clock()
    store = UploadStore(max_bytes=10**9, idle_s=900, clock=clock)
    handle = store.add(state_of("notes.txt"))
    clock.now += 899
    assert store.get(handle).corpus.name == "notes.txt"  # a use resets the idle time
    clock.now += 899
    store.get(handle)
    clock.now += 901
    with pytest.raises(UploadExpired) as caught:
        store.get(handle)
    message = str(caught.value)
    assert "'notes.txt'" in message and "20 passages" in message and "15 minutes" in message
    assert "Upload the file again" in message and "もう一度アップロード" in message
    assert isinstance(caught.value, InputError) and len(store) == 0


def test_the_cap_counts_what_every_upload_holds_and_what_it_grows():
    store = UploadStore(max_bytes=10**9)
    a, b = state_of("a.txt"), state_of("b.txt", n=200)
    handle_a = store.add(a)
    store.add(b)
    assert store.total_bytes == a.nbytes() + b.nbytes()
    assert b.nbytes() > a.nbytes() > sum(len(t) for t in a.corpus.texts)
    before = store.total_bytes
    a.indexes.get(Precision.FP32, lambda: CorpusIndex(a.corpus, np.ones((20, 64), dtype=np.float32)))
    store.grew(a)
    assert store.total_bytes == before + 20 * 64 * 4
    store.drop(handle_a)
    assert store.total_bytes == b.nbytes()


def test_a_grown_upload_evicts_the_others_not_itself():
    a, b = state_of("a.txt"), state_of("b.txt")
    store = UploadStore(max_bytes=a.nbytes() + b.nbytes() + 10)
    handle_a, handle_b = store.add(a), store.add(b)
    a.indexes.get(Precision.FP32, lambda: CorpusIndex(a.corpus, np.ones((20, 64), dtype=np.float32)))
    store.grew(a)
    assert handle_a in store and handle_b not in store


def test_an_upload_larger_than_the_whole_cap_is_refused():
    store = UploadStore(max_bytes=100)
    with pytest.raises(InputError, match="more than the server keeps for all uploads"):
        store.add(state_of("huge.txt"))
    assert len(store) == 0


def test_the_cap_and_idle_time_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SSE_UPLOAD_MEMORY_MB", "250")
    monkeypatch.setenv("SSE_UPLOAD_IDLE_S", "120")
    store = UploadStore.from_env()
    assert (store.max_bytes, store.idle_s) == (250_000_000, 120)
    assert UploadStore.from_env(memory_mb=64).max_bytes == 64_000_000  # a CLI flag wins


def test_an_index_holds_one_float32_matrix_and_small_prefix_norms():
    n, dim = 5000, 512
    rng = np.random.default_rng(0)
    unit = rng.normal(size=(n, dim)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    index = CorpusIndex(Corpus.from_texts("big.txt", ["x"] * n), unit)
    for dim_ in (256, 128, 64, 32):
        query = rng.normal(size=dim).astype(np.float32)
        expected = index.view(dim_) @ (query[:dim_] / np.linalg.norm(query[:dim_]))
        np.testing.assert_allclose(index.scores(query, dim_), expected, atol=1e-6)
    assert index.nbytes <= n * dim * 4 + n * 4 * 4  # the matrix and four dims' norms, no per-dim copies


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def write(path, n):
    path.write_text("\n".join(f"{path.stem} passage {i} about rivers and trains" for i in range(n)), encoding="utf-8")
    return path


def test_every_view_of_an_evicted_upload_says_it_expired_never_the_demo_answers(folder, tmp_path):
    service = DemoService(choose_models(str(folder)))
    assert service.warm_up() == ""
    first_state = CorpusState(Corpus.from_texts("x", [f"x {i}" for i in range(300)]))
    service.index(first_state, Precision.FP32)
    service.uploads.max_bytes = int(first_state.nbytes() * 1.5)  # room for one 300-passage upload, not two
    _, mine = upload_view(service, write(tmp_path / "mine.txt", 300))
    assert search_view(service, "rivers", 512, "fp32", 5, mine)[1]["text"].str.startswith("mine").all()
    _, theirs = upload_view(service, write(tmp_path / "theirs.txt", 300))
    calls = {
        "search": lambda: search_view(service, "rivers", 512, "fp32", 5, mine),
        "compare": lambda: compare_view(service, "rivers", 512, 5, mine),
        "saturation": lambda: saturation_view(service, "rivers", "fp32", mine),
        "embedding_map": lambda: embedding_map_view(service, "rivers", "fp32", mine),
        "neighbours": lambda: neighbours_view(service, "1", "fp32", 5, mine),
        "speed": lambda: speed_view(service, "rivers", mine),
    }
    for name, call in calls.items():
        with pytest.raises(UploadExpired, match=r"'mine\.txt'.*expired.*Upload the file again"):
            call()
            pytest.fail(f"{name} answered for an evicted upload")
    assert search_view(service, "rivers", 512, "fp32", 5, theirs)[1]["text"].str.startswith("theirs").all()


def test_a_new_upload_replaces_the_sessions_previous_one(folder, tmp_path):
    service = DemoService(choose_models(str(folder)))
    _, first = upload_view(service, write(tmp_path / "first.txt", 10))
    _, second = upload_view(service, write(tmp_path / "second.txt", 10), first)
    assert first not in service.uploads and second in service.uploads and len(service.uploads) == 1


def test_the_servers_copy_of_an_upload_is_deleted_once_read_kept_or_refused(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    service = DemoService(choose_models(str(folder)))
    (tmp_path / "gradio" / "a1").mkdir(parents=True)
    (tmp_path / "gradio" / "b2").mkdir()
    kept = write(tmp_path / "gradio" / "a1" / "kept.txt", 5)
    refused = tmp_path / "gradio" / "b2" / "refused.txt"
    refused.write_bytes(b"\xff\xfe not utf-8")
    upload_view(service, kept)
    with pytest.raises(InputError, match="not UTF-8"):
        upload_view(service, refused)
    assert list((tmp_path / "gradio").rglob("*")) == []
    mine = write(tmp_path / "mine.txt", 5)  # a file outside Gradio's cache (a Python caller's) stays
    upload_view(service, mine)
    discard_upload(mine)
    assert mine.exists()


def test_a_large_corpus_is_mapped_by_an_even_sample_and_the_query_placed_among_its_neighbours():
    rows = map_rows(5000, 2000)
    assert len(rows) == 2000 and rows[0] == 0 and rows[-1] == 4999 and np.all(np.diff(rows) > 0)
    assert map_rows(30, 2000).tolist() == list(range(30))
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(2, 16)).astype(np.float32)
    vectors = np.concatenate(
        [centres[0] + 0.05 * rng.normal(size=(40, 16)), centres[1] + 0.05 * rng.normal(size=(40, 16))]
    )
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    fitted = fit_map(vectors, max_points=60)
    assert fitted.coords.shape == (60, 2) and len(fitted.rows) == 60
    query = vectors[3] + 0.01
    placed = fitted.place(vectors, query / np.linalg.norm(query))[0]
    first = fitted.coords[fitted.rows < 40]
    second = fitted.coords[fitted.rows >= 40]
    assert np.linalg.norm(placed - first.mean(0)) < np.linalg.norm(placed - second.mean(0))
    assert fitted.nbytes < 60 * 2 * 4 + 60 * 8 + 1  # coordinates and rows only, no fitted reducer
