"""The training command with the teacher flags: distillation where asked, mined negatives, a plain SSE saved."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

import sse_demo
from sse_demo.train.__main__ import main
from sse_demo.train.teacher import Role, build_cache, select_entries

pytest.importorskip("datasets", reason="training needs the `datasets` package (pip install datasets==5.2.0)")
pytest.importorskip("accelerate", reason="ST's trainer needs `accelerate` (pip install accelerate==1.15.0)")

PAIRS = [
    *((f"static embeddings {i}", f"fast vectors on a CPU {i}", "en") for i in range(16)),
    *((f"東京は日本の首都 {i}", f"Tokyo is the capital {i}", "ja") for i in range(16)),
]


class HashTeacher:
    """Each text a seeded random unit vector, its passage near its query: enough structure to mine from."""

    name = "hash"
    dim = 8

    def encode(self, texts: list[str], role: Role) -> np.ndarray:
        rows = []
        for text in texts:
            shared = self.random(text.rsplit(" ", 1)[-1])  # a pair's two texts share their number
            row = shared + 0.5 * self.random(role.prefix + text)
            rows.append(row / np.linalg.norm(row))
        return np.stack(rows).astype(np.float32)

    def random(self, key: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"anchor": a, "positive": p, "source": s} for a, p, s in PAIRS]
    (data / "pairs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return data


def cache(tmp_path: Path, max_shards: int | None = None) -> Path:
    out = tmp_path / "teacher"
    build_cache(out, select_entries(PAIRS, 64), HashTeacher(), shard_size=16, max_shards=max_shards)
    return out


def command(data: Path, init: Path, out: Path, *extra: str) -> list[str]:
    stages = ["--stage", "4:0.05", "--stage", "8:0.03"]
    return ["--data", str(data), "--init", str(init), "--out", str(out), *stages, *extra]


def test_distillation_between_the_stages_with_mined_negatives_saves_a_plain_sse(
    data_dir: Path, fp32_dir: Path, tmp_path: Path, capsys
) -> None:
    teacher = cache(tmp_path)
    out = tmp_path / "out"
    flags = ["--teacher-cache", str(teacher), "--distill-stage", "8:0.05:2", "--distill-loss", "projected-mse"]
    main(command(data_dir, fp32_dir, out, *flags, "--distill-position", "1", "--mined-negatives"))
    printed = capsys.readouterr().out
    order = [
        printed.index(mark) for mark in ("mined negatives for ", "stage 1:", "distillation (projected", "stage 2:")
    ]
    assert order == sorted(order), printed
    assert int(re.search(r"mined negatives for (\d+) training pairs", printed)[1]) > 0
    saved = load_file(out / "fp32" / "model.safetensors")
    plain = load_file(sse_demo.load_model(fp32_dir).save(tmp_path / "plain") / "model.safetensors")
    assert {k: v.shape for k, v in saved.items()} == {k: v.shape for k, v in plain.items()}  # no projection kept
    assert sse_demo.load_model(out / "q4").encode(["東京"]).shape == (1, 64)


def test_distillation_beside_the_stages_trains_inside_them(
    data_dir: Path, fp32_dir: Path, tmp_path: Path, capsys
) -> None:
    """--distill-beside runs no stage of its own, yet changes what the two contrastive stages train."""
    teacher = cache(tmp_path)
    main(command(data_dir, fp32_dir, tmp_path / "beside", "--teacher-cache", str(teacher), "--distill-beside"))
    printed = capsys.readouterr().out
    assert "stage 1:" in printed and "stage 2:" in printed and "distillation (" not in printed
    main(command(data_dir, fp32_dir, tmp_path / "plain"))
    beside = load_file(tmp_path / "beside" / "fp32" / "model.safetensors")
    plain = load_file(tmp_path / "plain" / "fp32" / "model.safetensors")
    assert {k: v.shape for k, v in beside.items()} == {k: v.shape for k, v in plain.items()}
    assert not np.allclose(beside["embedding.weight"], plain["embedding.weight"])


def test_a_partial_cache_needs_the_partial_flag(data_dir: Path, fp32_dir: Path, tmp_path: Path, capsys) -> None:
    teacher = cache(tmp_path, max_shards=2)
    flags = ["--teacher-cache", str(teacher), "--distill-stage", "8:0.05"]
    with pytest.raises(FileNotFoundError, match=r"unfinished \(2/4 shards\).*--teacher-partial"):
        main(command(data_dir, fp32_dir, tmp_path / "out", *flags))
    main(command(data_dir, fp32_dir, tmp_path / "out", *flags, "--teacher-partial"))
    assert "32 entries (unfinished cache" in capsys.readouterr().out
    assert (tmp_path / "out" / "fp32" / "model.safetensors").is_file()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--distill-stage", "8:0.05"], "pass --teacher-cache"),
        (["--mined-negatives"], "pass --teacher-cache"),
        (["--teacher-cache", "TEACHER"], "given but unused"),
        (["--teacher-cache", "TEACHER", "--distill-stage", "8:0.05", "--distill-position", "3"], "0 to 2"),
        (["--teacher-cache", "TEACHER", "--distill-stage", "8:0.05", "--distill-beside"], "not both"),
        (["--teacher-cache", "TEACHER", "--distill-beside", "--distill-position", "1"], "add one, or leave"),
        (["--teacher-cache", "TEACHER", "--distill-beside", "0"], "REPEAT must be at least 1"),
        (["--distill-loss", "cosine"], "invalid DistillLoss value"),
        (["--distill-weights", "1", "2"], "add --distill-stage or --distill-beside"),
        (["--teacher-cache", "TEACHER", "--mined-negatives", "--distill-weights", "1", "2"], "add --distill-stage"),
        (["--teacher-cache", "TEACHER", "--mined-negatives", "--negative-depth", "0"], "--negative-depth at least 1"),
        (["--teacher-cache", "TEACHER", "--distill-stage", "8:0.05", "--distill-temperature", "0"], "above 0"),
    ],
)
def test_inconsistent_teacher_flags_stop_with_what_to_change(
    data_dir: Path, fp32_dir: Path, tmp_path: Path, capsys, flags: list[str], message: str
) -> None:
    teacher = str(cache(tmp_path))
    with pytest.raises(SystemExit):
        main(command(data_dir, fp32_dir, tmp_path / "out", *(teacher if f == "TEACHER" else f for f in flags)))
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "distill", [["--distill-beside"], ["--distill-stage", "8:0.05", "--distill-position", "2"]], ids=["beside", "last"]
)
def test_distill_weights_reach_the_distillation_loss_alone(
    data_dir: Path, fp32_dir: Path, tmp_path: Path, distill: list[str]
) -> None:
    """The distillation's own rung weights are read by its loss, not by the contrastive one: a wrong count is refused
    by name before any stage runs (even where the distillation comes last), and nothing is written."""
    teacher = str(cache(tmp_path))
    flags = ["--teacher-cache", teacher, *distill, "--matryoshka-weights", "1", "1"]
    with pytest.raises(ValueError, match=r"one non-negative Matryoshka weight per dim \[64, 32\].*\[1.0, 2.0, 3.0\]"):
        main(command(data_dir, fp32_dir, tmp_path / "out", *flags, "--distill-weights", "1", "2", "3"))
    assert not (tmp_path / "out").exists()
    main(command(data_dir, fp32_dir, tmp_path / "out", *flags, "--distill-weights", "0", "1"))
    assert (tmp_path / "out" / "fp32" / "model.safetensors").is_file()
