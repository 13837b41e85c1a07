"""The Peers tab: which peers the page compares with (``--peer`` / ``SSE_PEERS`` / online default), the side-by-side
view on a tiny SSE model and tiny peer folders made by the peers' own libraries, a broken peer's banner, NDCG@10,
and ``python app.py --peer FOLDER`` through gradio_client."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from evaluation_fixtures import random_beir
from peer_fixtures import M2V_DIM, ST_DIM, make_m2v_peer, make_st_peer
from test_app_space import answering_hub, closed_port
from test_app_support import make_tiny_model, start_app

from sse_demo import load_peer
from sse_demo.app.corpus import upload_view
from sse_demo.app.inputs import InputError
from sse_demo.app.labelled import quality_view
from sse_demo.app.models import choose_models
from sse_demo.app.peer_models import SEED_PEERS, hub_expected, requested_peers
from sse_demo.app.peers import peers_quality_view, peers_view
from sse_demo.app.service import DemoService
from sse_demo.app.state import LoadFailed, LoadOnce
from sse_demo.search.exact import top_k

QUERY = "cherry blossom viewing party"
WARNING = "⚠️"


# -- which peers ---------------------------------------------------------------------------------------------------


def test_flags_win_over_the_environment():
    assert requested_peers(["a", " b ", "a"], {"SSE_PEERS": "c"}, online=True) == ("a", "b")


def test_the_environment_is_comma_separated_and_none_means_none():
    assert requested_peers(None, {"SSE_PEERS": " x/y , ,folder "}, online=True) == ("x/y", "folder")
    assert requested_peers([], {"SSE_PEERS": "none"}, online=True) == ()
    assert requested_peers([], {"SSE_PEERS": ""}, online=True) == ()


def test_online_defaults_to_the_seed_peers_and_offline_to_none(hub_at):
    assert requested_peers(None, {}, online=True) == SEED_PEERS
    assert requested_peers(None, {}, online=False) == ()
    with answering_hub() as endpoint:
        hub_at(endpoint)
        assert requested_peers(None, {}) == SEED_PEERS
    hub_at(closed_port())
    assert requested_peers(None, {}) == ()


def test_the_hub_is_expected_only_when_it_answers_and_is_not_offline(hub_at):
    with answering_hub() as endpoint:
        hub_at(endpoint)
        assert hub_expected({})
        assert not hub_expected({"HF_HUB_OFFLINE": "1"})
    hub_at(closed_port())
    assert not hub_expected({"SPACE_ID": "user/space"})


def test_a_failed_load_is_retried_only_after_the_back_off():
    now, calls = [0.0], []

    def load(key):
        calls.append(key)
        if len(calls) == 1:
            raise OSError("hub hiccup")
        return f"model {key}"

    loads = LoadOnce(load, retry_after_s=30, clock=lambda: now[0])
    with pytest.raises(LoadFailed, match="OSError: hub hiccup"):
        loads.get("p")
    now[0] = 10.0
    with pytest.raises(LoadFailed) as caught:
        loads.get("p")
    assert calls == ["p"] and caught.value.retry_in_s == pytest.approx(20.0)
    now[0] = 31.0
    assert loads.get("p") == "model p" and loads.get("p") == "model p" and calls == ["p", "p"]
    assert loads.failure("p") is None and loads.loaded("p")


# -- the view, on a tiny model and tiny peers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("peers")
    broken = root / "broken-peer"
    broken.mkdir()
    (broken / "notes.txt").write_text("not a model")
    return {
        "sse": make_tiny_model(root / "sse"),
        "st": make_st_peer(root / "st-peer"),
        "m2v": make_m2v_peer(root / "m2v-peer"),
        "broken": broken,
    }


@pytest.fixture(scope="module")
def service(folders):
    peers = [str(folders[name]) for name in ("st", "broken", "m2v")]
    service = DemoService(choose_models(str(folders["sse"])), peers=peers)
    assert service.warm_up() == ""
    return service


def expected_top(peer, texts, query, dim, k):
    """A peer's top-k passages computed here from its own encode."""
    return [texts[i] for i in top_k(peer.encode(texts, dim=dim) @ peer.encode([query], dim=dim)[0], k)]


def test_each_model_answers_the_same_query_over_the_same_corpus(service, folders):
    summary, results, stats = peers_view(service, QUERY, "own", "fp32", 5, None)
    st, m2v = str(folders["st"]), str(folders["m2v"])
    assert stats["model"].tolist() == ["SSE fp32", st, m2v]
    assert stats["dim"].tolist() == [512, ST_DIM, M2V_DIM]
    assert stats["bytes / vector"].tolist() == [512 * 4, ST_DIM * 4, M2V_DIM * 4]
    assert results["rank"].tolist() == [1, 2, 3, 4, 5]
    texts = service.demo.corpus.texts
    sse_top = expected_top(service.model("fp32"), texts, QUERY, 512, 5)
    assert results["SSE fp32 text"].tolist() == [t[:160] for t in sse_top]
    for name, dim in ((st, ST_DIM), (m2v, M2V_DIM)):
        top = expected_top(load_peer(name), texts, QUERY, dim, 5)
        assert results[f"{name} text"].tolist() == [t[:160] for t in top]
        row = stats[stats["model"] == name].iloc[0]
        assert row["overlap with SSE top-k"] == pytest.approx(len(set(top) & set(sse_top)) / 5, abs=0.01)
    assert stats["overlap with SSE top-k"].iloc[0] == 1.0
    assert (stats["encode ms / 1,000 texts"] > 0).all() and (stats["search ms"] > 0).all()
    assert "top-5" in summary and "328 passages" in summary


def test_a_common_dim_cuts_the_wider_models_only(service):
    _, _, stats = peers_view(service, QUERY, "256", "4-bit", 3, None)
    assert stats["model"].iloc[0] == "SSE 4-bit"
    assert stats["dim"].tolist() == [256, ST_DIM, M2V_DIM]


def test_sizes_are_the_models_own(service, folders):
    _, _, stats = peers_view(service, QUERY, "own", "fp32", 3, None)
    st = load_peer(folders["st"])
    row = stats[stats["model"] == str(folders["st"])].iloc[0]
    assert row["vocab × dim"] == f"{st.vocab_size:,} × {ST_DIM}"
    assert row["in memory"].endswith(("KB", "MB")) and row["on disk"].endswith(("KB", "MB"))


def test_a_broken_peer_is_a_banner_and_the_rest_still_answers(service, folders):
    summary, results, stats = peers_view(service, "寿司", "own", "fp32", 3, None)
    banner = summary.split("\n\n")[0]
    assert banner.startswith(WARNING) and str(folders["broken"]) in banner and "could not be loaded" in banner
    assert "not a model folder this project knows" in banner and "読み込めませんでした" in banner
    assert len(stats) == 3 and len(results) == 3


def test_peer_indexes_are_built_once_per_corpus(service, folders):
    name = str(folders["m2v"])
    assert service.peer_index(None, name) is service.peer_index(None, name)


def test_the_visitors_upload_is_the_corpus_for_every_model(service, tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("a red fox\n赤いきつね\nstatic embeddings are fast\n", encoding="utf-8")
    _, state = upload_view(service, str(path))
    _, results, _ = peers_view(service, "fox", "own", "fp32", 10, state)
    assert len(results) == 3  # only three passages, whatever k asks
    for column in [c for c in results.columns if c.endswith(" text")]:
        assert sorted(results[column]) == sorted(["a red fox", "赤いきつね", "static embeddings are fast"])


@pytest.mark.parametrize(
    ("dim", "query", "says"), [("300", QUERY, "dim must be one of own, 512, 256"), ("own", " ", "empty")]
)
def test_bad_input_gets_a_bilingual_message(service, dim, query, says):
    with pytest.raises(InputError, match=says):
        peers_view(service, query, dim, "fp32", 5, None)


def test_without_peers_sse_is_shown_alone_with_how_to_add_them(folders):
    lone = DemoService(choose_models(str(folders["sse"])))
    summary, _, stats = peers_view(lone, QUERY, "own", "fp32", 3, None)
    assert stats["model"].tolist() == ["SSE fp32"] and "--peer NAME" in summary and "SSE_PEERS" in summary


def test_ndcg_per_model_at_its_own_dim_and_512_256_cached(service, folders, monkeypatch, tmp_path):
    monkeypatch.setenv("SSE_EVAL_DIR", str(tmp_path / "missing"))  # the demo pairs: no shared sets needed
    summary, table = peers_quality_view(service, "fp32")
    assert "derived from the demo corpus" in summary and WARNING in summary and str(folders["broken"]) in summary
    sse = table[table["model"] == "SSE fp32"]
    assert sorted(set(sse["dim"])) == [256, 512]
    assert set(table[table["model"] == str(folders["st"])]["dim"]) == {ST_DIM}
    assert set(table["set"]) == {"demo-pairs-en2ja", "demo-pairs-ja2en"}
    _, by_dim, _ = quality_view(service, "fp32")  # the Search tab's own measurement of the same model
    for _, row in sse.iterrows():
        same = by_dim[(by_dim["set"] == row["set"]) & (by_dim["dim"] == row["dim"])]
        assert same["ndcg@10"].iloc[0] == row["ndcg@10"]
    names = ("demo-pairs-en2ja", "demo-pairs-ja2en")
    assert all(("peers-quality", model, names) in service.cache for model in set(table["model"]))
    _, table_again = peers_quality_view(service, "fp32")
    assert table_again.equals(table)


def test_ndcg_uses_the_shared_sets_when_there_and_names_the_sample(folders, monkeypatch, tmp_path):
    random_beir(tmp_path / "eval" / "scifact-en", n_queries=80)  # a stand-in under a shared set's name
    monkeypatch.setenv("SSE_EVAL_DIR", str(tmp_path / "eval"))
    lone = DemoService(choose_models(str(folders["sse"])))
    summary, table = peers_quality_view(lone, "fp32")
    assert f"scifact-en from {tmp_path / 'eval'} (50 queries sampled)" in summary
    assert set(table["set"]) == {"scifact-en"} and table["dim"].tolist() == [512, 256]


# -- the running app --------------------------------------------------------------------------------------------------


def test_app_serves_the_peers_endpoint_with_a_broken_peer(folders, tmp_path):
    from gradio_client import Client

    extra = ["--peer", str(folders["st"]), "--peer", str(folders["broken"])]
    process, url = start_app(folders["sse"], tmp_path / "app.log", flag=True, extra_args=extra)
    try:
        client = Client(url, verbose=False)
        summary, results, stats = client.predict(QUERY, "own", "fp32", 4, api_name="/peers")
        assert summary.startswith(WARNING) and "broken-peer could not be loaded" in summary
        assert [row[0] for row in stats["data"]] == ["SSE fp32", str(folders["st"])]
        assert [row[0] for row in results["data"]] == [1, 2, 3, 4]
        assert results["headers"][1:] == [
            "SSE fp32 score",
            "SSE fp32 text",
            f"{folders['st']} score",
            f"{folders['st']} text",
        ]
        bad_dim, _, _ = client.predict(QUERY, "300", "fp32", 4, api_name="/peers")
        assert bad_dim.startswith(WARNING) and "次元は" in bad_dim
        search_summary, found, _, _ = client.predict("mountain", 512, "fp32", 2, api_name="/search")
        assert not search_summary.startswith(WARNING) and len(found["data"]) == 2
        quality_summary, table = client.predict("fp32", api_name="/peers_quality")
        assert "NDCG@10 of 2 model(s)" in quality_summary and len(table["data"]) > 0
        listed = httpx.get(f"{url.rstrip('/')}/v1/models").json()["data"]
        assert [m["id"] for m in listed][-2:] == [str(folders["st"]), str(folders["broken"])]
        body = {"model": str(folders["st"]), "input": [QUERY, "mountain"], "dimensions": 8}
        vectors = [
            item["embedding"] for item in httpx.post(f"{url.rstrip('/')}/v1/embeddings", json=body).json()["data"]
        ]
        expected = load_peer(folders["st"]).encode([QUERY, "mountain"], dim=8)
        np.testing.assert_allclose(np.array(vectors, dtype=np.float32), expected, atol=1e-6)
        broken = httpx.post(f"{url.rstrip('/')}/v1/embeddings", json={**body, "model": str(folders["broken"])})
        assert broken.status_code == 503 and "could not be loaded" in broken.json()["error"]["message"]
    finally:
        process.terminate()
        process.wait(timeout=30)
