"""``load_peer``: tiny sentence-transformers StaticEmbedding and model2vec folders, made here by the libraries
themselves (random weights, tokenizers other than SSE's, 96 and 64 dims), give the libraries' own embeddings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from model2vec import StaticModel
from peer_fixtures import M2V_DIM, ST_DIM, make_m2v_peer, make_st_peer
from sentence_transformers import SentenceTransformer

import sse_demo
from sse_demo import CheckpointError, ModelNotFoundError, load_peer
from sse_demo.api import embeddings_router
from sse_demo.model.peers import PeerKind

TEXTS = [
    "Static embeddings are fast.",
    "東京は日本の首都です。",
    "static zebra embeddings",
    "ramen と static の corpus",
]
ST_REPO = "sentence-transformers/static-retrieval-mrl-en-v1"


@pytest.fixture(scope="module", params=["static", "static+normalize"])
def st_dir(request, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_st_peer(tmp_path_factory.mktemp("st") / "peer", normalize=request.param == "static+normalize")


@pytest.fixture(scope="module", params=[True, False], ids=["normalized", "raw"])
def m2v_dir(request, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_m2v_peer(tmp_path_factory.mktemp("m2v") / "peer", normalize=request.param)


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_sentence_transformers_peer_equals_the_library_at_every_dim(st_dir: Path) -> None:
    peer = load_peer(st_dir, device="cpu")
    reference = SentenceTransformer(str(st_dir), device="cpu")
    assert (peer.kind, peer.dim, peer.name) == (PeerKind.SENTENCE_TRANSFORMERS, ST_DIM, "peer")
    assert peer.vocab_size == reference[0].num_embeddings
    for dim in (ST_DIM, 64, 32, 17, 1):
        expected = reference.encode(TEXTS, truncate_dim=dim, normalize_embeddings=True)
        np.testing.assert_allclose(peer.encode(TEXTS, dim=dim), expected, atol=1e-6, rtol=0)
    np.testing.assert_allclose(peer.encode(TEXTS, dim=32, normalize=False), reference.encode(TEXTS)[:, :32], atol=1e-6)


def test_model2vec_peer_equals_the_library_at_every_dim(m2v_dir: Path) -> None:
    peer = load_peer(m2v_dir)
    reference = StaticModel.from_pretrained(m2v_dir, force_download=False)
    assert (peer.kind, peer.dim, peer.vocab_size) == (PeerKind.MODEL2VEC, M2V_DIM, reference.embedding.shape[0])
    own = reference.encode(TEXTS)
    for dim in (M2V_DIM, 48, 32, 8, 1):
        np.testing.assert_allclose(peer.encode(TEXTS, dim=dim), unit(own[:, :dim]), atol=1e-6, rtol=0)
    np.testing.assert_allclose(peer.encode(TEXTS, normalize=False), own, atol=1e-6, rtol=0)


def test_encode_contract_matches_sse_model(st_dir: Path) -> None:
    peer, sse = load_peer(st_dir), sse_demo.load_model()
    for model in (peer, sse):
        assert model.encode("one text", dim=16).shape == (16,)  # a string gives one vector, as SSEModel does
        assert model.encode([], dim=16).shape == (0, 16)
        with pytest.raises(ValueError, match="dim must be an integer from 1 to"):
            model.encode(TEXTS, dim=model.dim + 1)
        with pytest.raises(TypeError, match=r"texts\[1\] is int"):
            model.encode(["ok", 3])


def test_tokenize_counts_the_tokens_each_library_pools(st_dir: Path, m2v_dir: Path) -> None:
    st_peer, m2v_peer = load_peer(st_dir), load_peer(m2v_dir)
    st_own = [
        e.ids for e in SentenceTransformer(str(st_dir))[0].tokenizer.encode_batch(TEXTS, add_special_tokens=False)
    ]
    m2v_own = StaticModel.from_pretrained(m2v_dir, force_download=False).tokenize(TEXTS)
    for peer, own in ((st_peer, st_own), (m2v_peer, m2v_own)):
        ids, offsets = peer.tokenize(TEXTS)
        assert ids.tolist() == [i for row in own for i in row]
        assert offsets.tolist() == np.cumsum([0] + [len(row) for row in own[:-1]]).tolist()
    assert len(m2v_peer.tokenize(["zebra unseen"])[0]) == 0  # word-level [UNK]s are dropped, as model2vec does
    np.testing.assert_array_equal(m2v_peer.encode(["zebra unseen"]), np.zeros((1, M2V_DIM)))  # zero, not NaN


def test_api_serves_a_peer_beside_sse(m2v_dir: Path) -> None:
    peer = load_peer(m2v_dir)
    app = FastAPI()
    app.include_router(embeddings_router({"sse": sse_demo.load_model(quantized=True), "peer": peer}, api_key=""))
    with TestClient(app) as client:
        assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["sse", "peer"]
        body = client.post("/v1/embeddings", json={"model": "peer", "input": TEXTS, "dimensions": 32}).json()
        got = np.array([item["embedding"] for item in body["data"]], dtype=np.float32)
        np.testing.assert_array_equal(got, peer.encode(TEXTS, dim=32))
        assert body["usage"]["prompt_tokens"] == len(peer.tokenize(TEXTS)[0])
        too_wide = client.post("/v1/embeddings", json={"model": "peer", "input": "x", "dimensions": M2V_DIM + 1})
        assert too_wide.status_code == 400 and f"from 1 to {M2V_DIM}" in too_wide.json()["error"]["message"]


def _lay_out_hub_cache(cache: Path, repo_id: str, folder: Path) -> None:
    """A folder laid out the way huggingface_hub caches a downloaded repo."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    revision = "0" * 40
    shutil.copytree(folder, repo / "snapshots" / revision)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)


def test_hub_id_loads_from_the_hub_cache(st_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _lay_out_hub_cache(tmp_path, ST_REPO, st_dir)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    peer = load_peer(ST_REPO)
    assert peer.name == ST_REPO
    np.testing.assert_array_equal(peer.encode(TEXTS, dim=64), load_peer(st_dir).encode(TEXTS, dim=64))


def test_unreachable_hub_gives_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(ModelNotFoundError, match=r"unreachable.*load_peer\('path/to/folder'\)"):
        load_peer(ST_REPO)


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


TRANSFORMER_MODULES = json.dumps(
    [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.sentence_transformer.modules.Transformer"}]
)


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({"config.json": '{"model_type": "bert"}', "modules.json": TRANSFORMER_MODULES}, "first module is Transformer"),
        ({"config.json": '{"model_type": "bert"}'}, "'bert' transformer model"),
        ({"notes.txt": "hello"}, "not a model folder"),
        ({"modules.json": '[{"type": "evil.Thing", "path": ""}]'}, "never runs"),
    ],
    ids=["st-transformer", "hf-transformer", "unknown", "foreign-module"],
)
def test_unsupported_folders_say_what_is_supported(tmp_path: Path, files: dict, says: str) -> None:
    with pytest.raises(CheckpointError, match=says) as caught:
        load_peer(_write(tmp_path / "peer", files))
    assert "load_peer supports a sentence-transformers model whose first module is StaticEmbedding" in str(caught.value)


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({"modules.json": "[{oops"}, "modules.json is not valid JSON.*damaged"),
        ({"model.safetensors": b"\x00\x01 not safetensors"}, "not a readable safetensors file.*download it again"),
    ],
    ids=["bad-json", "bad-safetensors"],
)
def test_unreadable_files_are_named(tmp_path: Path, files: dict, says: str) -> None:
    with pytest.raises(CheckpointError, match=says):
        load_peer(_write(tmp_path / "peer", files))


def test_damaged_peer_folder_is_a_clear_error(st_dir: Path, tmp_path: Path) -> None:
    broken = shutil.copytree(st_dir, tmp_path / "broken")
    (broken / "tokenizer.json").unlink()
    with pytest.raises(CheckpointError, match=r"folder without tokenizer\.json: the folder is incomplete"):
        load_peer(broken)
    (broken / "tokenizer.json").write_text("{}")
    with pytest.raises(CheckpointError, match=r"could not be loaded.*incomplete or damaged"):
        load_peer(broken)


def test_sse_checkpoint_points_to_load_model(fp32_dir: Path, q4_dir: Path) -> None:
    for folder in (fp32_dir, q4_dir):
        with pytest.raises(CheckpointError, match=r"SSE checkpoint.*sse_demo\.load_model"):
            load_peer(folder)


@pytest.mark.parametrize(("name", "says"), [("no/such/folder/here", "neither an existing folder"), ("  ", "empty")])
def test_missing_paths_and_names(name: str, says: str) -> None:
    with pytest.raises(ModelNotFoundError, match=says):
        load_peer(name)


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="is a file, not a model folder"):
        load_peer(_write(tmp_path, {"x.bin": b"1"}) / "x.bin")


def test_model2vec_runs_on_cpu_only(m2v_dir: Path) -> None:
    with pytest.raises(ValueError, match="model2vec models run on the CPU"):
        load_peer(m2v_dir, device="cuda")


def test_memory_and_disk_bytes_count_the_tables_and_the_files(st_dir: Path, m2v_dir: Path) -> None:
    st_peer, m2v_peer = load_peer(st_dir), load_peer(m2v_dir)
    assert st_peer.memory_bytes == st_peer.vocab_size * ST_DIM * 4
    assert m2v_peer.memory_bytes == m2v_peer.vocab_size * M2V_DIM * 4
    for peer, folder in ((st_peer, st_dir), (m2v_peer, m2v_dir)):
        files = [path for path in folder.rglob("*") if path.is_file()]
        assert peer.disk_bytes == sum(path.stat().st_size for path in files) > peer.memory_bytes
