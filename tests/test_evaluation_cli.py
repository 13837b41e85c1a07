"""``python -m sse_demo eval`` as a sub-command: a markdown table, BM25 rows, clear errors."""

from __future__ import annotations

import pytest
from evaluation_fixtures import random_beir
from peer_fixtures import make_m2v_peer

from sse_demo import load_peer
from sse_demo.cli import build_parser, main
from sse_demo.evaluation import BeirFormatError, evaluate_beir


def _parse(argv):
    return build_parser().parse_args(argv)


def test_eval_prints_one_row_per_dim_and_bm25(tmp_path, fp32_dir, capsys):
    folder = random_beir(tmp_path / "tiny")
    args = _parse(["eval", "--model", str(fp32_dir), "--beir", str(folder), "--dim", "64", "32", "--bm25"])
    args.func(args)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| set | system | dim | ndcg@10 | mrr@10 | map@100 | recall@10 | recall@100 |"
    assert [line.split(" | ")[2] for line in lines[2:]] == ["64", "32", "-"]


def test_folder_of_sets_is_expanded(tmp_path, fp32_dir, capsys):
    random_beir(tmp_path / "sets" / "one")
    random_beir(tmp_path / "sets" / "two", seed=1)
    args = _parse(["eval", "--model", str(fp32_dir), "--beir", str(tmp_path / "sets")])
    args.func(args)
    assert [line.split(" | ")[0] for line in capsys.readouterr().out.splitlines()[2:]] == ["| one", "| two"]


def test_missing_beir_folder_fails_before_loading_the_model(tmp_path):
    args = _parse(["eval", "--model", str(tmp_path / "no-model"), "--beir", str(tmp_path / "absent")])
    with pytest.raises(BeirFormatError, match="absent"):
        args.func(args)


def test_peers_sit_beside_the_model_and_bm25(tmp_path, fp32_dir, capsys):
    folder = random_beir(tmp_path / "tiny")
    peer_dir = make_m2v_peer(tmp_path / "m2v-peer", dim=48)  # narrower than --dim 64: measured at its own 48
    argv = ["eval", "--model", str(fp32_dir), "--beir", str(folder), "--dim", "64", "32", "--bm25"]
    args = _parse([*argv, "--peer", str(peer_dir)])
    args.func(args)
    cells = [line.split(" | ") for line in capsys.readouterr().out.splitlines()[2:]]
    assert [(c[1], c[2]) for c in cells] == [
        (str(fp32_dir), "64"),
        (str(fp32_dir), "32"),
        ("m2v-peer", "48"),
        ("m2v-peer", "32"),
        ("BM25", "-"),
    ]
    expected = evaluate_beir(load_peer(peer_dir), folder, dim=32)["ndcg@10"]
    assert float(cells[3][3]) == pytest.approx(expected, abs=5e-5)


def test_a_broken_peer_fails_with_a_clear_message(tmp_path, fp32_dir, capsys):
    folder = random_beir(tmp_path / "tiny")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "notes.txt").write_text("not a model")
    argv = ["eval", "--model", str(fp32_dir), "--beir", str(folder), "--peer", str(tmp_path / "broken")]
    assert main(argv) == 2
    assert "not a model folder this project knows" in capsys.readouterr().err
