"""Hub ids load through huggingface_hub's cache as plain files; offline, the error says so and names alternatives."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import sse_demo
from sse_demo import ModelNotFoundError
from sse_demo.model import hub


def _fake_hub_cache(cache: Path, repo_id: str, checkpoint: Path) -> None:
    """Lay a checkpoint out the way huggingface_hub caches a downloaded repo."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    revision = "0" * 40
    shutil.copytree(checkpoint, repo / "snapshots" / revision)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)


@pytest.mark.parametrize(("repo_id", "fixture"), [(hub.PUBLISHED_FP32, "fp32_dir"), (hub.PUBLISHED_Q4, "q4_dir")])
def test_hub_id_loads_from_the_hub_cache(repo_id, fixture, request, tmp_path: Path, monkeypatch) -> None:
    folder = request.getfixturevalue(fixture)
    _fake_hub_cache(tmp_path, repo_id, folder)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    model = sse_demo.load_model(repo_id, device="cpu")
    assert model.quantized == (fixture == "q4_dir")
    texts = ["東京 static"]
    np.testing.assert_array_equal(model.encode(texts), sse_demo.load_model(folder, device="cpu").encode(texts))


def test_unreachable_hub_gives_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(ModelNotFoundError, match=r"unreachable.*load_model\(\) for the bundled model"):
        sse_demo.load_model(hub.PUBLISHED_FP32)


@pytest.mark.parametrize("name", ["no/such/folder/here", "not a name"])
def test_name_that_is_neither_folder_nor_hub_id(name: str) -> None:
    with pytest.raises(ModelNotFoundError, match="neither an existing folder nor a hub id"):
        sse_demo.load_model(name)


def test_missing_bundled_model_says_how_to_fix(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(hub, "BUNDLED_FP32", tmp_path / "absent")
    with pytest.raises(ModelNotFoundError, match="bundled model is not installed"):
        hub.resolve(None)


@pytest.mark.parametrize("name", ["", "  "])
def test_empty_name_is_rejected_not_read_as_the_current_folder(name: str) -> None:
    with pytest.raises(ModelNotFoundError, match="model name is empty"):
        sse_demo.load_model(name)
