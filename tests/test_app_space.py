"""A Hugging Face Space from this repository: valid Space metadata, one deploy command, and the default model.

With no model asked for, the app loads the published pair when the hub answers and the bundled pair when it does
not. The hub is simulated: a loopback HTTP server that answers the probe (and fails every other call, so models
come from a hub cache laid out under a temporary HF_HOME), a closed loopback port, and a port that never answers.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pytest
from huggingface_hub import metadata_load
from huggingface_hub.utils import filter_repo_objects
from test_app_support import REPO, make_tiny_model, start_app

from sse_demo.app.models import ModelSource, app_models
from sse_demo.app.peer_models import SEED_PEERS
from sse_demo.model import hub

SPACE_COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


# -- the README's Space metadata and deploy command --------------------------------------------------------------


def pinned(name: str) -> str:
    for line in (REPO / "requirements.txt").read_text().splitlines():
        match = re.fullmatch(rf"{name}(\[[\w,]+\])?==([\w.]+)", line.strip())
        if match:
            return match.group(2)
    raise AssertionError(f"{name} is not pinned in requirements.txt")


def test_readme_front_matter_is_valid_space_metadata():
    meta = metadata_load(REPO / "README.md")
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == pinned("gradio")
    assert (REPO / meta["app_file"]).is_file()
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert isinstance(meta["python_version"], str) and requires == f">={meta['python_version']}"
    assert meta["license"] == "mit" and (REPO / "LICENSE").read_text().startswith("MIT")
    assert 0 < len(meta["short_description"]) <= 60
    assert meta["colorFrom"] in SPACE_COLOURS and meta["colorTo"] in SPACE_COLOURS
    assert meta["title"] and len(meta["emoji"]) == 1 and isinstance(meta["pinned"], bool)


def deploy_command() -> list[str]:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- deploy-command -->\n```bash\n(.+?)\n```", readme, re.S)
    assert block, "the README has no deploy command block"
    return shlex.split(block.group(1))


def test_the_deploy_command_is_a_valid_hf_upload_of_the_repository_to_a_space():
    argv = deploy_command()
    assert argv[:2] == ["hf", "upload"] and argv[3:5] == [".", "."]
    assert argv[argv.index("--repo-type") + 1] == "space"
    # Run for real with the hub switched off: hf parses every option, then stops at creating the Space.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_not_a_token", "NO_COLOR": "1"}
    hf = Path(sys.executable).with_name("hf")
    done = subprocess.run([str(hf), *argv[1:]], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr  # 2 would be a usage error
    assert "api/repos/create" in done.stdout + done.stderr


def test_the_deploy_command_uploads_the_app_and_its_weights_but_no_local_clutter():
    exclude = [
        value for flag, value in zip(deploy_command(), deploy_command()[1:], strict=False) if flag == "--exclude"
    ]
    local = [
        ".venv/bin/python",
        "artifacts/run/model.safetensors",
        "sse_demo/__pycache__/cli.cpython-311.pyc",
        ".pytest_cache/v/cache/nodeids",
    ]
    needed = [
        "README.md",
        "app.py",
        "requirements.txt",
        "sse_demo/app/service.py",
        "sse_demo/assets/sse-bilingual-small/model.safetensors",
        "sse_demo/assets/sse-bilingual-small-q4/embedding.q4_k_m.bin",
    ]
    kept = set(filter_repo_objects(needed + local, ignore_patterns=exclude))
    assert kept == set(needed)


# -- the default model -------------------------------------------------------------------------------------------


class ProbeOnly(BaseHTTPRequestHandler):
    """Answers the model-info request for the published fp32 id; every other call gets a 503 (hub trouble)."""

    def do_GET(self):
        ok = self.path == f"/api/models/{hub.PUBLISHED_FP32}"
        body = b'{"id": "published"}' if ok else b'{"error": "unavailable"}'
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@contextmanager
def answering_hub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ProbeOnly)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_hub_that_answers_gives_the_published_pair(hub_at):
    with answering_hub() as endpoint:
        hub_at(endpoint)
        choice = app_models(None, {})
    assert choice.source is ModelSource.HUB
    assert (choice.fp32.name, choice.q4.name) == (hub.PUBLISHED_FP32, hub.PUBLISHED_Q4)
    assert "published" in choice.banner and "hub answered" in choice.banner


def test_an_unreachable_hub_gives_the_bundled_pair_and_says_why(hub_at):
    hub_at(closed_port())
    choice = app_models(None, {})
    assert choice.source is ModelSource.BUNDLED and choice.fp32.name is None
    assert "bundled" in choice.banner and "did not answer" in choice.banner


def test_a_hub_that_never_answers_is_given_up_on_after_the_timeout(hub_at):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        hub_at(f"http://127.0.0.1:{silent.getsockname()[1]}")
        choice = app_models(None, {}, timeout_s=0.5)
    assert choice.source is ModelSource.BUNDLED and "within 0.5 s" in choice.banner


def test_hf_hub_offline_skips_the_probe(monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr("huggingface_hub.get_session", lambda: pytest.fail("the hub was probed while offline"))
    choice = app_models(None, {})
    assert choice.source is ModelSource.BUNDLED and "HF_HUB_OFFLINE" in choice.banner


@pytest.mark.parametrize(("flag", "environ"), [("bundled", {}), (None, {"SSE_MODEL": "bundled"})])
def test_a_model_asked_for_wins_without_a_probe(monkeypatch, flag, environ):
    monkeypatch.setattr("huggingface_hub.get_session", lambda: pytest.fail("the hub was probed"))
    choice = app_models(flag, environ)
    assert choice.source is ModelSource.BUNDLED and "SSE_MODEL" in choice.banner


def lay_out_hub_cache(cache: Path, repo_id: str, checkpoint: Path) -> None:
    """A checkpoint where huggingface_hub keeps a downloaded repo: models--owner--name/snapshots/<rev>, refs/main."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    revision = "0" * 40
    shutil.copytree(checkpoint, repo / "snapshots" / revision)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)


def test_served_app_loads_the_published_pair_when_the_hub_answers(tmp_path):
    import sse_demo

    tiny = make_tiny_model(tmp_path / "tiny")
    sse_demo.load_model(tiny).save(tmp_path / "tiny-q4", quantized=True)
    home = tmp_path / "hf-home"
    lay_out_hub_cache(home / "hub", hub.PUBLISHED_FP32, tiny)
    lay_out_hub_cache(home / "hub", hub.PUBLISHED_Q4, tmp_path / "tiny-q4")
    with answering_hub() as endpoint:
        env = {"HF_HOME": str(home), "HF_ENDPOINT": endpoint, "HF_HUB_OFFLINE": "0"}
        process, url = start_app(None, tmp_path / "app.log", flag=False, env=env)
        try:
            ids = [model["id"] for model in httpx.get(f"{url}v1/models").json()["data"]]
            config = httpx.get(f"{url}config").text
            body = {"model": hub.PUBLISHED_FP32, "input": ["桜 cherry blossom"], "dimensions": 128}
            vector = httpx.post(f"{url}v1/embeddings", json=body, timeout=60).json()["data"][0]["embedding"]
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert ids == [hub.PUBLISHED_FP32, hub.PUBLISHED_Q4, *SEED_PEERS]  # online, the seed peers come too
    assert "published" in config and "hub answered" in config and "could not be loaded" not in config
    np.testing.assert_array_equal(
        np.array(vector, dtype=np.float32), sse_demo.load_model(tiny).encode(["桜 cherry blossom"], dim=128)[0]
    )
