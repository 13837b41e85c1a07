"""Helpers for the app tests: a tiny checkpoint made from the demo corpus, and ``python app.py`` in a subprocess.

Not a test module of its own: the other ``test_app_*`` files and ``test_browser.py`` import from here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "sse_demo" / "app" / "data" / "demo_corpus.jsonl"
TINY_DIM = 512


def make_tiny_model(folder: Path, *, vocab_size: int = 1500, seed: int = 0, dim: int = TINY_DIM) -> Path:
    """Train a small BPE tokenizer on the demo corpus, draw a random ``dim``-wide table, save it in the fp32 format.

    Rows have norm ~5 per coordinate scale so that some DyT dimensions saturate, as in a trained model.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    import sse_demo

    texts = [json.loads(line)["text"] for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()]
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["[UNK]"]))
    rng = np.random.default_rng(seed)
    table = rng.normal(0.0, 2.0, size=(tokenizer.get_vocab_size(), dim)).astype(np.float32)
    alpha = rng.uniform(0.3, 1.5, dim).astype(np.float32)
    beta = rng.uniform(0.5, 1.5, dim).astype(np.float32)
    bias = rng.normal(0.0, 0.3, dim).astype(np.float32)
    model = sse_demo.SSEModel.from_arrays(tokenizer, table, alpha, beta, bias, device="cpu")
    model.save(folder)
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(
    model_dir: Path | None,
    log_path: Path,
    *,
    flag: bool,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start ``python app.py`` (with ``extra_args``) and wait until it answers HTTP; the log is kept for failures.

    ``model_dir=None`` asks for no model (the app's default choice); ``env`` adds to the environment.
    """
    import httpx

    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO)])),
        "SSE_EVAL_DIR": str(log_path.parent / "no-eval"),
        "SSE_PREWARM_MAP": "0",
        **(env or {}),
    }
    args = [sys.executable, "app.py", "--port", str(port), *extra_args]
    if model_dir is None:
        env.pop("SSE_MODEL", None)
    elif flag:
        args += ["--model", str(model_dir)]
    else:
        env["SSE_MODEL"] = str(model_dir)
    log = log_path.open("w")
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"app.py did not answer within 120 s:\n{log_path.read_text()}")


@contextmanager
def running_app(root: Path, *, flag: bool, dim: int = TINY_DIM) -> Iterator[str]:
    """``python app.py`` on a tiny ``dim``-wide model made under ``root``; yields its URL and stops it afterwards."""
    process, url = start_app(make_tiny_model(root / "model", dim=dim), root / "app.log", flag=flag)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
