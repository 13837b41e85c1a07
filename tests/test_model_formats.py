"""Both published folder formats load, save and round-trip; the 4-bit bytes are the published quantizer's."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from reference import reference_q4_file
from safetensors.numpy import load_file, save_file

import sse_demo
from sse_demo import CheckpointError
from sse_demo.model.checkpoint import (
    FP32_WEIGHTS,
    MODULES,
    Q4_REST,
    Q4_TABLE,
    TOKENIZER,
    CheckpointFormat,
    detect_format,
)

TEXTS = ["Static embeddings are fast.", "東京は日本の首都です。", ""]


def _copy(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / "copy"))


def test_fp32_folder_holds_the_published_files(fp32_dir: Path, weights: dict) -> None:
    assert {p.name for p in fp32_dir.iterdir()} == {FP32_WEIGHTS, TOKENIZER}
    tensors = load_file(str(fp32_dir / FP32_WEIGHTS))
    assert set(tensors) == {"embedding.weight", "dyt.alpha", "dyt.beta", "dyt.bias"}
    np.testing.assert_array_equal(tensors["embedding.weight"], weights["embedding"])
    np.testing.assert_array_equal(tensors["dyt.bias"], weights["bias"])


def test_q4_folder_holds_the_published_files(q4_dir: Path) -> None:
    assert {p.name for p in q4_dir.iterdir()} == {Q4_REST, Q4_TABLE, MODULES, TOKENIZER}
    assert json.loads((q4_dir / MODULES).read_text()) == [
        {"idx": 0, "name": "0", "path": "", "type": "SSE_quantize.SSEQ"}
    ]
    assert set(load_file(str(q4_dir / Q4_REST))) == {"dyt.alpha", "dyt.beta", "dyt.bias"}


def test_q4_bytes_equal_the_published_quantizer(q4_dir: Path, weights: dict) -> None:
    assert (q4_dir / Q4_TABLE).read_bytes() == reference_q4_file(weights["embedding"])


def test_q4_writer_matches_on_edge_rows(tmp_path: Path, tokenizer) -> None:
    """Zero rows, ties at .5 (round half to even), and a row whose extremes are negative."""
    vocab = tokenizer.get_vocab_size()
    table = np.random.default_rng(3).standard_normal((vocab, 8)).astype(np.float32)
    table[0] = 0.0
    table[1] = np.array([1, -1, 1 / 15, -1 / 15, 0.2, 0.6, -0.6, 3 / 15], dtype=np.float32)
    table[2] = -np.abs(table[2])
    sse_demo.SSEModel.from_arrays(tokenizer, table, device="cpu").save(tmp_path, quantized=True)
    assert (tmp_path / Q4_TABLE).read_bytes() == reference_q4_file(table)


def test_detects_each_format(fp32_dir: Path, q4_dir: Path) -> None:
    assert detect_format(fp32_dir) is CheckpointFormat.FP32
    assert detect_format(q4_dir) is CheckpointFormat.Q4


@pytest.mark.parametrize("source", ["fp32", "q4"])
def test_fp32_round_trip_keeps_embeddings(source: str, request, tmp_path: Path) -> None:
    model = sse_demo.load_model(request.getfixturevalue(f"{source}_dir"), device="cpu")
    again = sse_demo.load_model(model.save(tmp_path / "again"), device="cpu")
    assert not again.quantized
    np.testing.assert_allclose(again.encode(TEXTS), model.encode(TEXTS), atol=1e-6, rtol=0)


@pytest.mark.parametrize("source", ["fp32", "q4"])
def test_q4_round_trip_equals_quantizing_on_load(source: str, request, tmp_path: Path) -> None:
    folder = request.getfixturevalue(f"{source}_dir")
    again = sse_demo.load_model(sse_demo.load_model(folder, device="cpu").save(tmp_path / "q", quantized=True))
    assert again.quantized
    expected = sse_demo.load_model(folder, quantized=True, device="cpu").encode(TEXTS)
    np.testing.assert_allclose(again.encode(TEXTS), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("quantized", [False, True])
def test_save_pretrained_and_from_pretrained_round_trip(quantized: bool, fp32_dir: Path, tmp_path: Path) -> None:
    """model2vec's pair of names: ``save_pretrained`` writes what ``SSEModel.from_pretrained`` reads back."""
    model = sse_demo.SSEModel.from_pretrained(fp32_dir, quantized=quantized, device="cpu")
    folder = model.save_pretrained(tmp_path / "saved", quantized=quantized)
    assert folder == tmp_path / "saved"
    assert detect_format(folder) is (CheckpointFormat.Q4 if quantized else CheckpointFormat.FP32)
    again = sse_demo.SSEModel.from_pretrained(str(folder), device="cpu")
    assert again.quantized is quantized
    np.testing.assert_array_equal(again.encode(TEXTS), model.encode(TEXTS))
    np.testing.assert_array_equal(again.encode(TEXTS), sse_demo.load_model(folder, device="cpu").encode(TEXTS))


def test_resaving_a_q4_model_keeps_its_bytes(q4_dir: Path, tmp_path: Path) -> None:
    sse_demo.load_model(q4_dir, device="cpu").save(tmp_path, quantized=True)
    assert (tmp_path / Q4_TABLE).read_bytes() == (q4_dir / Q4_TABLE).read_bytes()


def test_quantizing_on_load_equals_loading_the_q4_folder(fp32_dir: Path, q4_dir: Path) -> None:
    on_load = sse_demo.load_model(fp32_dir, quantized=True, device="cpu")
    assert on_load.quantized
    np.testing.assert_array_equal(on_load.encode(TEXTS), sse_demo.load_model(q4_dir, device="cpu").encode(TEXTS))


def test_saving_into_a_folder_of_the_other_format_replaces_it(fp32_dir: Path, q4_dir: Path, tmp_path: Path) -> None:
    target = _copy(fp32_dir, tmp_path)
    sse_demo.load_model(q4_dir, device="cpu").save(target, quantized=True)
    assert not (target / FP32_WEIGHTS).exists() and detect_format(target) is CheckpointFormat.Q4


def test_model_properties(fp32_dir: Path, q4_dir: Path, tokenizer) -> None:
    fp32, q4 = sse_demo.load_model(fp32_dir, device="cpu"), sse_demo.load_model(q4_dir, device="cpu")
    assert (fp32.dim, fp32.vocab_size, fp32.quantized) == (64, tokenizer.get_vocab_size(), False)
    assert (q4.dim, q4.vocab_size, q4.quantized) == (64, tokenizer.get_vocab_size(), True)


# --- bad files: a clear error naming the file and the problem, never a silent wrong result ---


def test_truncated_bin_is_rejected(q4_dir: Path, tmp_path: Path) -> None:
    folder = _copy(q4_dir, tmp_path)
    data = (folder / Q4_TABLE).read_bytes()
    (folder / Q4_TABLE).write_bytes(data[:-5])
    with pytest.raises(CheckpointError, match=r"embedding\.q4_k_m\.bin.*truncated"):
        sse_demo.load_model(folder)


def test_bin_truncated_by_whole_rows_is_rejected(q4_dir: Path, tmp_path: Path) -> None:
    folder = _copy(q4_dir, tmp_path)
    data = (folder / Q4_TABLE).read_bytes()
    (folder / Q4_TABLE).write_bytes(data[: -(32 + 4) * 3])
    with pytest.raises(CheckpointError, match=r"embedding\.q4_k_m\.bin|misaligned|do not belong together"):
        sse_demo.load_model(folder)


@pytest.mark.parametrize("extra", [1, 36, 72])
def test_oversized_bin_is_rejected(extra: int, q4_dir: Path, tmp_path: Path) -> None:
    folder = _copy(q4_dir, tmp_path)
    with open(folder / Q4_TABLE, "ab") as handle:
        handle.write(b"\x11" * extra)
    with pytest.raises(CheckpointError, match=r"embedding\.q4_k_m\.bin"):
        sse_demo.load_model(folder)


def test_bin_for_another_dim_is_rejected(q4_dir: Path, tmp_path: Path) -> None:
    folder = _copy(q4_dir, tmp_path)
    save_file({k: np.ones(48, dtype=np.float32) for k in ("dyt.alpha", "dyt.beta", "dyt.bias")}, str(folder / Q4_REST))
    with pytest.raises(CheckpointError, match=r"embedding\.q4_k_m\.bin.*dim 48"):
        sse_demo.load_model(folder)


def test_missing_tokenizer_is_rejected(fp32_dir: Path, tmp_path: Path) -> None:
    folder = _copy(fp32_dir, tmp_path)
    (folder / TOKENIZER).unlink()
    with pytest.raises(CheckpointError, match=r"tokenizer\.json is missing"):
        sse_demo.load_model(folder)


def test_broken_tokenizer_is_rejected(fp32_dir: Path, tmp_path: Path) -> None:
    folder = _copy(fp32_dir, tmp_path)
    (folder / TOKENIZER).write_text("{not json")
    with pytest.raises(CheckpointError, match=r"tokenizer\.json is not a valid"):
        sse_demo.load_model(folder)


def test_safetensors_missing_key_is_rejected(fp32_dir: Path, tmp_path: Path) -> None:
    folder = _copy(fp32_dir, tmp_path)
    tensors = load_file(str(folder / FP32_WEIGHTS))
    del tensors["dyt.beta"]
    save_file(tensors, str(folder / FP32_WEIGHTS))
    with pytest.raises(CheckpointError, match=r"model\.safetensors lacks \['dyt\.beta'\]"):
        sse_demo.load_model(folder)


@pytest.mark.parametrize(("key", "shape"), [("dyt.alpha", (63,)), ("dyt.bias", (64, 1)), ("embedding.weight", (64,))])
def test_safetensors_wrong_shape_is_rejected(key: str, shape: tuple, fp32_dir: Path, tmp_path: Path) -> None:
    folder = _copy(fp32_dir, tmp_path)
    tensors = load_file(str(folder / FP32_WEIGHTS))
    tensors[key] = np.ones(shape, dtype=np.float32)
    save_file(tensors, str(folder / FP32_WEIGHTS))
    with pytest.raises(CheckpointError, match=rf"model\.safetensors: {re.escape(key)} (has shape|must be 2-D)"):
        sse_demo.load_model(folder)


def test_table_smaller_than_tokenizer_is_rejected(fp32_dir: Path, tmp_path: Path) -> None:
    folder = _copy(fp32_dir, tmp_path)
    tensors = load_file(str(folder / FP32_WEIGHTS))
    tensors["embedding.weight"] = tensors["embedding.weight"][:10]
    save_file(tensors, str(folder / FP32_WEIGHTS))
    with pytest.raises(CheckpointError, match="do not belong together"):
        sse_demo.load_model(folder)


def test_wrong_dtype_is_rejected(fp32_dir: Path, tmp_path: Path) -> None:
    folder = _copy(fp32_dir, tmp_path)
    tensors = load_file(str(folder / FP32_WEIGHTS))
    tensors["embedding.weight"] = tensors["embedding.weight"].astype(np.float16)
    save_file(tensors, str(folder / FP32_WEIGHTS))
    with pytest.raises(CheckpointError, match="must be float32"):
        sse_demo.load_model(folder)


def test_garbage_safetensors_is_rejected(fp32_dir: Path, tmp_path: Path) -> None:
    folder = _copy(fp32_dir, tmp_path)
    (folder / FP32_WEIGHTS).write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match=r"model\.safetensors is not a readable"):
        sse_demo.load_model(folder)


def test_folder_without_weights_is_rejected(tmp_path: Path) -> None:
    (tmp_path / TOKENIZER).write_text("{}")
    with pytest.raises(CheckpointError, match="not an SSE checkpoint"):
        sse_demo.load_model(tmp_path)


# --- non-finite weights: refused with the file and the tensor named, never NaN embeddings ---

NON_FINITE = [np.nan, np.inf, -np.inf]


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("key", ["embedding.weight", "dyt.alpha", "dyt.beta", "dyt.bias"])
def test_non_finite_fp32_tensor_is_rejected(key: str, value: float, fp32_dir: Path, tmp_path: Path) -> None:
    folder = _copy(fp32_dir, tmp_path)
    tensors = load_file(str(folder / FP32_WEIGHTS))
    tensors[key].flat[5] = value
    save_file(tensors, str(folder / FP32_WEIGHTS))
    with pytest.raises(CheckpointError, match=rf"model\.safetensors: 1 non-finite value\(s\) in {re.escape(key)}"):
        sse_demo.load_model(folder, device="cpu")


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("key", ["dyt.alpha", "dyt.beta", "dyt.bias"])
def test_non_finite_q4_dyt_tensor_is_rejected(key: str, value: float, q4_dir: Path, tmp_path: Path) -> None:
    folder = _copy(q4_dir, tmp_path)
    tensors = load_file(str(folder / Q4_REST))
    tensors[key][3] = value
    save_file(tensors, str(folder / Q4_REST))
    with pytest.raises(CheckpointError, match=rf"model_rest\.safetensors: 1 non-finite value\(s\) in {re.escape(key)}"):
        sse_demo.load_model(folder, device="cpu")


@pytest.mark.parametrize("value", NON_FINITE)
def test_non_finite_q4_row_scale_is_rejected(value: float, q4_dir: Path, tmp_path: Path) -> None:
    folder = _copy(q4_dir, tmp_path)
    data = bytearray((folder / Q4_TABLE).read_bytes())
    vocab = len(data) // (32 + 4)
    row = 7
    start = vocab * 32 + 4 * row
    data[start : start + 4] = np.array([value], dtype="<f4").tobytes()
    (folder / Q4_TABLE).write_bytes(bytes(data))
    with pytest.raises(
        CheckpointError,
        match=r"embedding\.q4_k_m\.bin: 1 non-finite value\(s\) in the row scales \(first: .* at index 7\)",
    ):
        sse_demo.load_model(folder, device="cpu")
