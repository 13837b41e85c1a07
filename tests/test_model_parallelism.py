"""The CPU encode turns the tokenizer's rayon pool off while its own threads tokenise, then puts the switch back."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

import sse_demo
from sse_demo.model import cpu_encode
from sse_demo.model.parallelism import ENV_VARIABLE, tokenizer_parallelism_off


class RecordingTokenizer:
    """A tokenizer that notes the value of ``TOKENIZERS_PARALLELISM`` at every batch call, and can fail on one."""

    def __init__(self, tokenizer, fail_on: str | None = None) -> None:
        self._tokenizer = tokenizer
        self.fail_on = fail_on
        self.seen: list[str | None] = []

    def encode_batch_fast(self, texts, add_special_tokens):
        self.seen.append(os.environ.get(ENV_VARIABLE))
        if self.fail_on in texts:
            raise RuntimeError("tokenizer failed")
        return self._tokenizer.encode_batch_fast(texts, add_special_tokens=add_special_tokens)

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)


@pytest.fixture
def recording_model(fp32_dir: Path, monkeypatch: pytest.MonkeyPatch) -> sse_demo.SSEModel:
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    monkeypatch.setattr(cpu_encode, "UNIT_TEXTS", 4)
    model = sse_demo.load_model(fp32_dir, device="cpu")
    model.tokenizer = RecordingTokenizer(model.tokenizer)
    return model


@pytest.mark.parametrize("before", [None, "true", "1", "false"])
def test_the_switch_is_off_inside_and_restored_after(before: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if before is None:
        monkeypatch.delenv(ENV_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(ENV_VARIABLE, before)
    with tokenizer_parallelism_off():
        assert os.environ[ENV_VARIABLE] == "false"
    assert os.environ.get(ENV_VARIABLE) == before


def test_the_switch_stays_off_until_the_last_user_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    inner_entered, outer_may_leave = threading.Event(), threading.Event()

    def other_thread() -> None:
        with tokenizer_parallelism_off():
            inner_entered.set()
            outer_may_leave.wait(5)

    with tokenizer_parallelism_off():
        thread = threading.Thread(target=other_thread)
        thread.start()
        inner_entered.wait(5)
    after_the_first_left = os.environ.get(ENV_VARIABLE)  # the other thread is still inside
    outer_may_leave.set()
    thread.join(5)
    assert after_the_first_left == "false"
    assert ENV_VARIABLE not in os.environ


def test_the_switch_is_restored_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VARIABLE, "true")
    with pytest.raises(RuntimeError), tokenizer_parallelism_off():
        raise RuntimeError("boom")
    assert os.environ[ENV_VARIABLE] == "true"


def test_a_multi_unit_encode_tokenises_with_the_pool_off(recording_model: sse_demo.SSEModel) -> None:
    texts = [f"static embeddings {i} 東京" for i in range(10)]
    expected = recording_model.encode(texts[:4])  # one unit: the caller's thread, the switch untouched
    assert recording_model.tokenizer.seen == [None]
    got = recording_model.encode(texts)
    assert recording_model.tokenizer.seen[1:] == ["false"] * 3  # units of 4, 4 and 2 texts
    assert ENV_VARIABLE not in os.environ
    np.testing.assert_array_equal(got[:4], expected)


def test_a_failing_unit_raises_and_restores_the_switch(recording_model: sse_demo.SSEModel) -> None:
    recording_model.tokenizer.fail_on = "bad"
    with pytest.raises(RuntimeError, match="tokenizer failed"):
        recording_model.encode(["good"] * 6 + ["bad"] + ["good"] * 6)
    assert ENV_VARIABLE not in os.environ


def test_a_failing_unit_cancels_the_units_not_started(recording_model: sse_demo.SSEModel) -> None:
    recording_model.tokenizer.fail_on = "bad"
    texts = ["bad"] + ["good"] * 399  # 100 units of 4 texts; the first one fails
    with pytest.raises(RuntimeError, match="tokenizer failed"):
        recording_model.encode(texts)
    assert len(recording_model.tokenizer.seen) < 50


def test_concurrent_encodes_agree_with_a_serial_one(fp32_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    monkeypatch.setattr(cpu_encode, "UNIT_TEXTS", 16)
    model = sse_demo.load_model(fp32_dir, device="cpu")
    texts = [f"static {i} 東京 embeddings " * (1 + i % 5) for i in range(300)]
    expected = model.encode(texts)
    results: list[np.ndarray] = [None] * 4

    def run(index: int) -> None:
        results[index] = model.encode(texts)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for result in results:
        np.testing.assert_array_equal(result, expected)
    assert ENV_VARIABLE not in os.environ
