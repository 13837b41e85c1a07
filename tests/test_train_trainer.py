"""The ST training pipeline on a toy pair set: it learns, saves both formats, and reads its inputs strictly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

import sse_demo
from sse_demo.train.trainer import Stage, arrays, interpolate, load_pairs, save_checkpoints, train, wise_ft

pytest.importorskip("datasets", reason="training needs the `datasets` package (pip install datasets==5.2.0)")
pytest.importorskip("accelerate", reason="ST's trainer needs `accelerate` (pip install accelerate==1.15.0)")

PAIRS = [
    ("東京は日本の首都です", "Tokyo is the capital city"),
    ("寿司とラーメン", "Sushi and ramen dishes"),
    ("富士山は高い山です", "Mount Fuji is a tall mountain"),
    ("静的埋め込みは速い", "Static embeddings are fast"),
    ("量子化モデル", "Quantized models are smaller"),
]


def mnrl_loss(model: sse_demo.SSEModel, dim: int, scale: float = 20.0) -> float:
    """In-batch softmax loss (at MNRL's ``scale``) of the toy pairs: what MultipleNegativesRankingLoss minimises."""
    anchors = model.encode([a for a, _ in PAIRS], dim=dim)
    positives = model.encode([p for _, p in PAIRS], dim=dim)
    logits = scale * anchors @ positives.T
    logits -= logits.max(axis=1, keepdims=True)
    return float(-np.mean(np.diag(logits) - np.log(np.exp(logits).sum(axis=1))))


def write_pairs(folder: Path) -> None:
    """The toy pairs as the training command reads them: ``folder/pairs.jsonl``."""
    (folder / "pairs.jsonl").write_text("".join(json.dumps({"anchor": a, "positive": p}) + "\n" for a, p in PAIRS))


def toy_model(tokenizer: Tokenizer) -> sse_demo.SSEModel:
    rng = np.random.default_rng(0)
    table = rng.standard_normal((tokenizer.get_vocab_size(), 64)).astype(np.float32)
    return sse_demo.SSEModel.from_arrays(tokenizer, table, device="cpu")


def toy_dataset():
    from datasets import Dataset

    return Dataset.from_dict({"anchor": [a for a, _ in PAIRS], "positive": [p for _, p in PAIRS]})


def test_one_step_reduces_the_loss(tokenizer: Tokenizer, tmp_path: Path) -> None:
    model = toy_model(tokenizer)
    before = mnrl_loss(model, 64)
    train(
        model, toy_dataset(), tmp_path, stages=[Stage(batch_size=5, learning_rate=0.1, warmup_ratio=0.0)], dims=(64, 32)
    )
    assert mnrl_loss(model, 64) < before


def test_saved_checkpoints_load_in_both_formats(tokenizer: Tokenizer, tmp_path: Path) -> None:
    model = toy_model(tokenizer)
    fp32, q4 = save_checkpoints(model, tmp_path)
    loaded = sse_demo.load_model(fp32)
    np.testing.assert_allclose(loaded.encode(["富士山"]), model.encode(["富士山"]), atol=1e-6)
    assert sse_demo.load_model(q4).quantized


def test_load_pairs_filters_by_source(tmp_path: Path) -> None:
    rows = [{"anchor": "a", "positive": "b", "source": "jmdict"}, {"anchor": "c", "positive": "d", "source": "gettext"}]
    (tmp_path / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_pairs(tmp_path / "pairs.jsonl", ["gettext"])["anchor"] == ["c"]


def test_load_pairs_by_source_gives_one_dataset_per_source(tmp_path: Path) -> None:
    rows = [
        {"anchor": "a", "positive": "b", "source": "jmdict"},
        {"anchor": "c", "positive": "d", "source": "gettext"},
        {"anchor": "e", "positive": "f", "source": "jmdict"},
    ]
    (tmp_path / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    groups = load_pairs(tmp_path / "pairs.jsonl", by_source=True)
    assert {name: groups[name]["anchor"] for name in groups} == {"jmdict": ["a", "e"], "gettext": ["c"]}


def test_batches_by_source_never_mix_sources(tokenizer: Tokenizer, tmp_path: Path, monkeypatch) -> None:
    """With a DatasetDict, every training batch comes from one source (harder in-batch negatives)."""
    import torch
    from datasets import Dataset, DatasetDict

    from sse_demo.train import trainer

    batches: list[set[bool]] = []
    real_loss = trainer.matryoshka_loss

    class Recording(torch.nn.Module):
        def __init__(self, model, dims, **rungs) -> None:
            super().__init__()
            self.model, self.inner = model, real_loss(model, dims, **rungs)

        def forward(self, sentence_features, labels):
            ids, offsets = sentence_features[0]["input_ids"].tolist(), sentence_features[0]["offsets"].tolist()
            texts = [tokenizer.decode(ids[a:b]) for a, b in zip(offsets, [*offsets[1:], len(ids)], strict=True)]
            batches.append({any(ord(ch) > 0x3000 for ch in text) for text in texts})
            return self.inner(sentence_features, labels)

    monkeypatch.setattr(trainer, "matryoshka_loss", Recording)
    english = [("static embeddings", "fast vectors"), ("tokyo city", "capital"), ("sushi", "fish"), ("mount", "fuji")]
    groups = {"ja": Dataset.from_dict({"anchor": [a for a, _ in PAIRS[:4]], "positive": [p for _, p in PAIRS[:4]]})}
    groups["en"] = Dataset.from_dict({"anchor": [a for a, _ in english], "positive": [p for _, p in english]})
    stage = Stage(batch_size=2, learning_rate=0.01, epochs=2, warmup_ratio=0.0)
    train(toy_model(tokenizer), DatasetDict(groups), tmp_path, stages=[stage], dims=(64,))
    assert len(batches) == 8 and all(len(kinds) == 1 for kinds in batches)
    assert {kinds.pop() for kinds in batches} == {True, False}


def test_load_pairs_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"sse_demo\.train\.data"):
        load_pairs(tmp_path / "pairs.jsonl")


def test_interpolate_averages_each_array() -> None:
    start = {"embedding": np.zeros((2, 2), np.float32), "alpha": np.ones(2, np.float32)}
    trained = {"embedding": np.full((2, 2), 2.0, np.float32), "alpha": np.full(2, 3.0, np.float32)}
    mixed = interpolate(start, trained, 0.25)
    assert (mixed["embedding"].tolist(), mixed["alpha"].tolist()) == ([[0.5, 0.5], [0.5, 0.5]], [1.5, 1.5])


def test_interpolate_rejects_weights_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match="interpolation weight"):
        interpolate({}, {}, 1.5)


def test_dyt_lr_scale_zero_freezes_dyt_while_the_table_learns(tokenizer: Tokenizer, tmp_path: Path) -> None:
    model = toy_model(tokenizer)
    before = arrays(model)
    stage = Stage(batch_size=5, learning_rate=0.1, warmup_ratio=0.0)
    train(model, toy_dataset(), tmp_path, stages=[stage], dims=(64, 32), dyt_lr_scale=0.0)
    after = arrays(model)
    assert all(np.array_equal(before[name], after[name]) for name in ("alpha", "beta", "bias"))
    assert not np.array_equal(before["embedding"], after["embedding"])


def test_dyt_lr_scale_moves_dyt_at_its_own_rate(tokenizer: Tokenizer, tmp_path: Path) -> None:
    stage = Stage(batch_size=5, learning_rate=0.01, warmup_ratio=0.0)
    moved = {}
    for scale in (1.0, 10.0):
        model = toy_model(tokenizer)
        train(model, toy_dataset(), tmp_path / str(scale), stages=[stage], dims=(64,), dyt_lr_scale=scale)
        moved[scale] = np.abs(arrays(model)["alpha"] - 0.5).max()
    assert moved[10.0] > 5 * moved[1.0] > 0


def test_training_without_dyt_gives_a_plain_mean_that_saves_as_sse(tokenizer: Tokenizer, tmp_path: Path) -> None:
    model = toy_model(tokenizer)
    stage = Stage(batch_size=5, learning_rate=0.1, warmup_ratio=0.0)
    train(model, toy_dataset(), tmp_path, stages=[stage], dims=(64,), use_dyt=False)
    loaded = sse_demo.load_model(save_checkpoints(model, tmp_path / "out")[0])
    texts = [a for a, _ in PAIRS]
    pooled = loaded.pooled(texts)
    expected = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    np.testing.assert_allclose(loaded.encode(texts), expected, atol=1e-6)
    assert mnrl_loss(loaded, 64) < mnrl_loss(toy_model(tokenizer), 64)


def test_start_model_widens_the_table_and_sets_alpha(tmp_path: Path, tokenizer: Tokenizer) -> None:
    from sse_demo.train.__main__ import start_model

    init = toy_model(tokenizer)
    init.save(tmp_path / "init")
    start = start_model(tmp_path / "init", 128, 3.0, seed=0)
    table = arrays(start)["embedding"]
    np.testing.assert_array_equal(table[:, :64], arrays(init)["embedding"])
    np.testing.assert_allclose(np.linalg.norm(table[:, 64:], axis=1), np.linalg.norm(table[:, :64], axis=1), rtol=1e-5)
    assert (start.dim, set(arrays(start)["alpha"].tolist())) == (128, {3.0})


def test_start_model_scales_the_table(tmp_path: Path, tokenizer: Tokenizer) -> None:
    from sse_demo.train.__main__ import start_model

    init = toy_model(tokenizer)
    init.save(tmp_path / "init")
    start = start_model(tmp_path / "init", None, None, seed=0, table_scale=4.0)
    np.testing.assert_allclose(arrays(start)["embedding"], 4 * arrays(init)["embedding"], rtol=1e-6)
    assert set(arrays(start)["alpha"].tolist()) == {0.5}


def test_start_model_sets_alpha_from_a_dim_and_keeps_the_prefix_linear_at_the_same_gain(
    tmp_path: Path, tokenizer: Tokenizer
) -> None:
    from sse_demo.train.__main__ import start_model

    init = toy_model(tokenizer)
    init.save(tmp_path / "init")
    start = arrays(start_model(tmp_path / "init", None, 4.0, seed=0, alpha_from=16))
    np.testing.assert_array_equal(start["alpha"][:16], arrays(init)["alpha"][:16])
    assert set(start["alpha"][16:].tolist()) == {4.0}
    # equal gains: with unequal ones the high-alpha dims would dominate every cosine
    np.testing.assert_allclose(start["beta"] * start["alpha"], 4.0 * arrays(init)["beta"][16:].mean(), rtol=1e-6)


def test_start_model_refuses_an_alpha_start_outside_the_dims(tmp_path: Path, tokenizer: Tokenizer) -> None:
    from sse_demo.train.__main__ import start_model

    toy_model(tokenizer).save(tmp_path / "init")
    with pytest.raises(ValueError, match="--dyt-alpha-from 65"):
        start_model(tmp_path / "init", None, 4.0, seed=0, alpha_from=65)


def test_start_model_cut_to_a_prefix_starts_as_that_prefix_of_the_full_start(
    tmp_path: Path, tokenizer: Tokenizer
) -> None:
    from sse_demo.train.__main__ import start_model

    toy_model(tokenizer).save(tmp_path / "init")
    full = arrays(start_model(tmp_path / "init", None, 4.0, seed=0, alpha_from=16))
    cut = arrays(start_model(tmp_path / "init", 16, 4.0, seed=0, alpha_from=16))
    assert cut["embedding"].shape[1] == 16
    for name, values in cut.items():
        np.testing.assert_array_equal(values, full[name][..., :16], err_msg=name)


def test_start_model_refuses_a_width_below_one(tmp_path: Path, tokenizer: Tokenizer) -> None:
    from sse_demo.train.__main__ import start_model

    toy_model(tokenizer).save(tmp_path / "init")
    with pytest.raises(ValueError, match="--dim 0: expected a positive number"):
        start_model(tmp_path / "init", 0, None, seed=0)


def test_the_training_command_stops_on_a_bad_width_with_a_usage_error_and_writes_nothing(
    tmp_path: Path, fp32_dir: Path, capsys
) -> None:
    from sse_demo.train.__main__ import main

    write_pairs(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        main(["--data", str(tmp_path), "--init", str(fp32_dir), "--out", str(tmp_path / "out"), "--dim", "0"])
    assert stopped.value.code == 2
    assert "--dim 0: expected a positive number of dimensions" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_training_command_hands_matryoshka_scales_to_the_contrastive_loss(
    tmp_path: Path, fp32_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sse_demo.train import trainer
    from sse_demo.train.__main__ import main

    seen: list[tuple[float, ...]] = []
    real_loss = trainer.matryoshka_loss

    def recording(model, dims, **rungs):
        seen.append(tuple(rungs["scales"]))
        return real_loss(model, dims, **rungs)

    monkeypatch.setattr(trainer, "matryoshka_loss", recording)
    write_pairs(tmp_path)
    command = ["--data", str(tmp_path), "--init", str(fp32_dir), "--out", str(tmp_path / "out"), "--stage", "5:0.05"]
    with pytest.raises(ValueError, match=r"one positive MNRL scale per Matryoshka dim \[64, 32\]; got \[20.0\]"):
        main([*command, "--matryoshka-scales", "20"])
    assert not (tmp_path / "out").exists()
    main([*command, "--matryoshka-scales", "20", "5"])
    assert seen == [(20.0, 5.0)]
    assert (tmp_path / "out" / "fp32" / "model.safetensors").is_file()


def test_wise_ft_gives_dyt_its_own_weight() -> None:
    start = {
        "embedding": np.zeros((2, 2), np.float32),
        **{k: np.ones(2, np.float32) for k in ("alpha", "beta", "bias")},
    }
    trained = {
        "embedding": np.full((2, 2), 2.0, np.float32),
        **{k: np.full(2, 3.0, np.float32) for k in start if k != "embedding"},
    }
    mixed = wise_ft(start, trained, 0.5, dyt_weight=1.0)
    assert mixed["embedding"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert all(mixed[k].tolist() == [3.0, 3.0] for k in ("alpha", "beta", "bias"))
    assert wise_ft(start, trained, 0.5)["alpha"].tolist() == [2.0, 2.0]


def test_matryoshka_loss_gives_each_rung_its_own_mnrl_scale(tokenizer: Tokenizer) -> None:
    import torch

    from sse_demo.model.st import to_sentence_transformer
    from sse_demo.train.trainer import matryoshka_loss

    sse = toy_model(tokenizer)
    model = to_sentence_transformer(sse)
    features = [model.tokenize([a for a, _ in PAIRS]), model.tokenize([p for _, p in PAIRS])]
    with torch.no_grad():
        value = float(matryoshka_loss(model, (64, 32), weights=(1.0, 2.0), scales=(20.0, 5.0))(features, None))
    expected = mnrl_loss(sse, 64, 20.0) + 2 * mnrl_loss(sse, 32, 5.0)
    assert value == pytest.approx(expected, rel=1e-4)
    assert expected != pytest.approx(mnrl_loss(sse, 64) + 2 * mnrl_loss(sse, 32), rel=1e-3)  # the scale matters


def test_matryoshka_scales_need_one_positive_scale_per_dim(tokenizer: Tokenizer, tmp_path: Path) -> None:
    from sse_demo.model.st import to_sentence_transformer
    from sse_demo.train.trainer import matryoshka_loss

    model = to_sentence_transformer(toy_model(tokenizer))
    for scales in [(20.0,), (20.0, 0.0)]:
        with pytest.raises(ValueError, match=r"one positive MNRL scale per Matryoshka dim \[64, 32\]"):
            matryoshka_loss(model, (64, 32), scales=scales)
    stage = Stage(batch_size=5, learning_rate=0.1, warmup_ratio=0.0)
    with pytest.raises(ValueError, match="one positive MNRL scale"):  # before any stage has run
        train(toy_model(tokenizer), toy_dataset(), tmp_path, stages=[stage], dims=(64, 32), matryoshka_scales=(20.0,))
    assert not (tmp_path / "stage1").exists()


def test_matryoshka_weights_need_one_weight_per_dim(tokenizer: Tokenizer) -> None:
    from sse_demo.model.st import to_sentence_transformer
    from sse_demo.train.trainer import matryoshka_loss

    model = to_sentence_transformer(toy_model(tokenizer))
    assert matryoshka_loss(model, (64, 32), weights=(1.0, 2.0)).matryoshka_weights == (1.0, 2.0)
    with pytest.raises(ValueError, match="one per dim"):
        matryoshka_loss(model, (64, 32), weights=(1.0,))
