"""``python -m sse_demo`` commands: info, encode, search, quantize, and clear errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sse_demo
from sse_demo.cli import main
from sse_demo.model.checkpoint import Q4_TABLE


def test_info_reports_the_checkpoint(q4_dir: Path, capsys) -> None:
    assert main(["info", "--model", str(q4_dir), "--device", "cpu"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["dim"] == 64 and info["precision"] == "4-bit"


def test_encode_prints_embeddings(fp32_dir: Path, capsys) -> None:
    assert main(["encode", "--model", str(fp32_dir), "--dim", "32", "東京", "static"]) == 0
    got = np.array(json.loads(capsys.readouterr().out))
    np.testing.assert_allclose(got, sse_demo.load_model(fp32_dir).encode(["東京", "static"], dim=32), atol=1e-6)


def test_encode_writes_npy(fp32_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("東京\n\nstatic embeddings\n", encoding="utf-8")
    assert (
        main(
            [
                "encode",
                "--model",
                str(fp32_dir),
                "--input",
                str(tmp_path / "in.txt"),
                "--output",
                str(tmp_path / "e.npy"),
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "e.npy").shape == (2, 64)


def test_search_ranks_the_matching_line_first(fp32_dir: Path, tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("富士山は日本で一番高い山です。\nStatic embeddings are fast.\n寿司とラーメン\n", encoding="utf-8")
    assert (
        main(["search", "--model", str(fp32_dir), "--corpus", str(corpus), "--query", "Static embeddings are fast."])
        == 0
    )
    first = capsys.readouterr().out.splitlines()[0].split("\t")
    assert (
        first[0] == "1"
        and first[2] == "Static embeddings are fast."
        and float(first[1]) == pytest.approx(1.0, abs=1e-5)
    )


@pytest.mark.parametrize("mode", ["int8", "binary"])
def test_search_in_a_quantized_index_finds_the_exact_line(mode: str, fp32_dir: Path, tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("富士山は日本で一番高い山です。\nStatic embeddings are fast.\n寿司とラーメン\n", encoding="utf-8")
    argv = ["search", "--model", str(fp32_dir), "--corpus", str(corpus), "--query", "寿司とラーメン", "--mode", mode]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines()[0].split("\t")[2] == "寿司とラーメン"


def test_quantize_writes_the_same_bytes_as_save(fp32_dir: Path, q4_dir: Path, tmp_path: Path) -> None:
    assert main(["quantize", str(fp32_dir), str(tmp_path / "q4")]) == 0
    assert (tmp_path / "q4" / Q4_TABLE).read_bytes() == (q4_dir / Q4_TABLE).read_bytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["info", "--model", "/no/such/folder"], "neither an existing folder"),
        (["encode", "--model", "{fp32}"], "nothing to encode"),
        (["encode", "--model", "{fp32}", "--dim", "999", "x"], "dim must be an integer"),
        (["search", "--model", "{fp32}", "--corpus", "{bad}", "--query", "x"], "not UTF-8"),
    ],
)
def test_bad_input_exits_2_with_a_message(argv, message, fp32_dir: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00broken")
    argv = [arg.format(fp32=fp32_dir, bad=tmp_path / "bad.txt") for arg in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_module_entry_point_runs(q4_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sse_demo", "info", "--model", str(q4_dir)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and '"precision": "4-bit"' in result.stdout
