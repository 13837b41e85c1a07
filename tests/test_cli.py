"""``python -m sse_demo`` commands: info, encode, search, quantize, and clear errors with exit code 2."""

from __future__ import annotations

import ast
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


def test_only_the_command_line_imports_sse_demo_cli() -> None:
    package = Path(sse_demo.__file__).parent
    allowed = {package / "cli.py", package / "__main__.py"}
    importers = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            if "sse_demo.cli" in names and path not in allowed:
                importers.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    assert importers == []


def test_a_programming_error_is_not_reported_as_bad_input(fp32_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    monkeypatch.setattr("sse_demo.cli.load_from_args", broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        main(["info", "--model", str(fp32_dir)])


def test_a_programming_error_exits_with_a_traceback(q4_dir: Path) -> None:
    script = (
        "import sys, sse_demo.cli as cli\n"
        "def broken(args):\n"
        "    raise TypeError('a bug, not bad input')\n"
        "cli.load_from_args = broken\n"
        f"sys.exit(cli.main(['info', '--model', {str(q4_dir)!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode not in (0, 2)
    assert "Traceback" in result.stderr and "TypeError: a bug, not bad input" in result.stderr


def test_output_is_written_to_exactly_the_given_path(fp32_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "embeddings"
    assert main(["encode", "--model", str(fp32_dir), "--output", str(out), "東京", "static"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["embeddings"]
    assert np.load(out).shape == (2, 64)
    assert capsys.readouterr().out.strip() == f"wrote 2 x 64 float32 embeddings (.npy format) to {out}"


def test_output_into_a_folder_is_refused(fp32_dir: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    assert main(["encode", "--model", str(fp32_dir), "--output", str(folder), "東京"]) == 2
    err = capsys.readouterr().err
    assert f"{folder} is a folder" in err and "embeddings.npy" in err
    assert list(folder.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ([""], "text 1 is empty"),
        (["ok", "   "], "text 2 is empty"),
        (["\x01\x02\x7f"], "text 1 has no visible characters"),
        (["\u200b\ufeff"], "text 1 has no visible characters"),
        (["ok", "caf\udce9"], "text 2 is not valid UTF-8"),
    ],
)
def test_empty_invisible_and_undecodable_texts_are_refused(texts, message, fp32_dir, tmp_path, capsys) -> None:
    out = tmp_path / "e.npy"
    assert main(["encode", "--model", str(fp32_dir), "--output", str(out), *texts]) == 2
    err = capsys.readouterr().err
    assert message in err and "give" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00" * 64, "NUL bytes"),
        (b"hello\n\x00\x00\n", "NUL bytes"),
        (b"\n \n\t\n", "has no text"),
        (b"hello\n\x07\x08\n", "line 2 has no visible characters"),
    ],
    ids=["only-nul", "nul-line", "blank-lines", "control-line"],
)
def test_unusable_input_files_are_refused(content, message, fp32_dir, tmp_path, capsys) -> None:
    source, out = tmp_path / "in.txt", tmp_path / "e.npy"
    source.write_bytes(content)
    assert main(["encode", "--model", str(fp32_dir), "--input", str(source), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(source) in err
    assert not out.exists()


def test_a_query_without_visible_characters_is_refused(fp32_dir: Path, tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("static\n", encoding="utf-8")
    assert main(["search", "--model", str(fp32_dir), "--corpus", str(corpus), "--query", "\x1b\u200b"]) == 2
    assert "the query has no visible characters" in capsys.readouterr().err
