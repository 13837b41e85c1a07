"""``python -m sse_demo eval`` as a sub-command: a markdown table, BM25 rows, clear errors."""

from __future__ import annotations

import pytest
from evaluation_fixtures import random_beir

from sse_demo.cli import build_parser
from sse_demo.evaluation import BeirFormatError


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
