"""The teacher-distillation stage: both losses train every Matryoshka rung towards a toy teacher, nothing else stays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TRAINING_TEXTS
from tokenizers import Tokenizer

import sse_demo
from sse_demo.train.teacher import Entry, Role, TeacherCache
from sse_demo.train.teacher_distill import (
    Distillation,
    DistillLoss,
    MatryoshkaProjectedMSELoss,
    MatryoshkaSimilarityKLLoss,
    distillation_dataset,
    distillation_loss,
)
from sse_demo.train.trainer import Stage

pytest.importorskip("datasets", reason="training needs the `datasets` package (pip install datasets==5.2.0)")
pytest.importorskip("accelerate", reason="ST's trainer needs `accelerate` (pip install accelerate==1.15.0)")

DIMS = (64, 16, 8)


def toy_student(tokenizer: Tokenizer) -> sse_demo.SSEModel:
    table = np.random.default_rng(0).standard_normal((tokenizer.get_vocab_size(), 64)).astype(np.float32)
    return sse_demo.SSEModel.from_arrays(tokenizer, table, device="cpu")


def toy_texts(tokenizer: Tokenizer, count: int) -> tuple[list[str], np.ndarray]:
    """``count`` texts of 3-6 training words, and 8-dim unit teacher vectors: a fixed linear map of token counts."""
    rng = np.random.default_rng(1)
    words = sorted({word for text in TRAINING_TEXTS for word in text.split()})
    texts = [" ".join(rng.choice(words, size=rng.integers(3, 7))) for _ in range(count)]
    mixing = rng.standard_normal((tokenizer.get_vocab_size(), 8))
    counts = np.zeros((count, tokenizer.get_vocab_size()))
    for row, encoding in enumerate(tokenizer.encode_batch(texts)):
        np.add.at(counts[row], encoding.ids, 1.0)
    teacher = counts @ mixing
    return texts, (teacher / np.linalg.norm(teacher, axis=1, keepdims=True)).astype(np.float32)


def toy_cache(texts: list[str], teacher: np.ndarray) -> TeacherCache:
    entries = [Entry(text, Role.QUERY, "toy", "en") for text in texts]
    return TeacherCache(entries, teacher.astype(np.float16), "toy")


def fit_residual(student: np.ndarray, teacher: np.ndarray) -> float:
    """Mean squared error of the best affine map from the student's vectors to the teacher's (least squares)."""
    design = np.hstack([student, np.ones((len(student), 1))])
    solution, *_ = np.linalg.lstsq(design, teacher, rcond=None)
    return float(np.mean((design @ solution - teacher) ** 2))


def rank_agreement(student: np.ndarray, teacher: np.ndarray) -> float:
    """Mean over texts of the Spearman correlation between the student's and the teacher's cosines to the others."""
    from scipy.stats import spearmanr

    student = student / np.linalg.norm(student, axis=1, keepdims=True)
    others = ~np.eye(len(student), dtype=bool)
    cosines, teacher_cosines = student @ student.T, teacher @ teacher.T
    return float(
        np.mean([spearmanr(cosines[i, others[i]], teacher_cosines[i, others[i]])[0] for i in range(len(student))])
    )


def run_distillation(model: sse_demo.SSEModel, texts: list[str], teacher: np.ndarray, loss: DistillLoss, tmp: Path):
    from sse_demo.model.st import to_sentence_transformer

    stage = Stage(batch_size=16, learning_rate=0.1, epochs=8)
    distillation = Distillation(distillation_dataset(toy_cache(texts, teacher), by_source=False), stage, loss)
    return distillation.run(to_sentence_transformer(model), tmp, dims=DIMS, seed=0)


def test_projected_mse_moves_every_rung_towards_the_teacher(tokenizer: Tokenizer, tmp_path: Path) -> None:
    model = toy_student(tokenizer)
    texts, teacher = toy_texts(tokenizer, 96)
    before = [fit_residual(model.encode(texts, dim=d), teacher) for d in DIMS]
    run_distillation(model, texts, teacher, DistillLoss.PROJECTED_MSE, tmp_path)
    model.module.eval()
    after = [fit_residual(model.encode(texts, dim=d), teacher) for d in DIMS]
    assert all(a < 0.8 * b for a, b in zip(after, before, strict=True)), (before, after)


def test_similarity_kl_teaches_every_rung_the_teachers_ranking(tokenizer: Tokenizer, tmp_path: Path) -> None:
    """Each text's ranking of the others by the student's cosine comes to agree with the teacher's, at every rung."""
    model = toy_student(tokenizer)
    texts, teacher = toy_texts(tokenizer, 96)
    before = [rank_agreement(model.encode(texts, dim=d), teacher) for d in DIMS]
    run_distillation(model, texts, teacher, DistillLoss.SIMILARITY_KL, tmp_path)
    model.module.eval()
    after = [rank_agreement(model.encode(texts, dim=d), teacher) for d in DIMS]
    assert all(a > b + 0.15 for a, b in zip(after, before, strict=True)), (before, after)


def test_the_similarity_kl_loss_falls_on_every_batch(tokenizer: Tokenizer, tmp_path: Path) -> None:
    """The same 16-text batches before and after (projected-mse's loss holds learned projections: its progress is
    the affine-fit test above)."""
    from sse_demo.model.st import to_sentence_transformer

    model = toy_student(tokenizer)
    texts, teacher = toy_texts(tokenizer, 96)

    def batch_losses() -> list[float]:
        student = to_sentence_transformer(model)
        loss = distillation_loss(DistillLoss.SIMILARITY_KL, student, 8, DIMS)
        with torch.no_grad():
            return [
                float(loss([student.preprocess(texts[i : i + 16])], torch.from_numpy(teacher[i : i + 16])))
                for i in range(0, 96, 16)
            ]

    before = batch_losses()
    run_distillation(model, texts, teacher, DistillLoss.SIMILARITY_KL, tmp_path)
    model.module.eval()
    after = batch_losses()
    assert all(a < 0.8 * b for a, b in zip(after, before, strict=True)), (before, after)


@pytest.mark.parametrize("weights", [None, (1.0, 3.0, 0.5)])
@pytest.mark.parametrize("kind", list(DistillLoss))
def test_every_rung_has_its_own_gradient_term(
    tokenizer: Tokenizer, kind: DistillLoss, weights: tuple[float, ...] | None
) -> None:
    """The loss is the (weighted) mean of one term per rung, and each term moves the table (only in its rung's
    columns); the contrastive stages' Matryoshka weights weigh the rungs here too."""
    from sse_demo.model.st import to_sentence_transformer

    student = to_sentence_transformer(toy_student(tokenizer))
    texts, teacher = toy_texts(tokenizer, 12)
    features, labels = student.preprocess(texts), torch.from_numpy(teacher)
    table = next(p for n, p in student.named_parameters() if "embedding" in n)

    def table_gradient(loss: torch.nn.Module) -> torch.Tensor:
        student.zero_grad()
        loss([dict(features)], labels).backward()
        return table.grad.clone()

    torch.manual_seed(0)
    whole = distillation_loss(kind, student, 8, DIMS, weights=weights)
    rungs = []
    for index, dim in enumerate(DIMS):
        single = distillation_loss(kind, student, 8, (dim,))
        if isinstance(whole, MatryoshkaProjectedMSELoss):
            single.projections[0].load_state_dict(whole.projections[index].state_dict())
        gradient = table_gradient(single)
        assert gradient[:, :dim].abs().sum() > 0, dim
        assert torch.count_nonzero(gradient[:, dim:]) == 0, dim
        rungs.append(gradient)
    share = torch.tensor(weights or (1.0,) * len(DIMS)).view(-1, 1, 1)
    expected = (torch.stack(rungs) * share).sum(dim=0) / share.sum()
    torch.testing.assert_close(table_gradient(whole), expected, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("kind", list(DistillLoss))
def test_distillation_weights_its_rungs_apart_from_the_contrastive_stages(
    tokenizer: Tokenizer, kind: DistillLoss
) -> None:
    """``Distillation.weights`` replace the contrastive Matryoshka weights in its loss; without them it follows them."""
    from sse_demo.model.st import to_sentence_transformer

    student = to_sentence_transformer(toy_student(tokenizer))
    texts, teacher = toy_texts(tokenizer, 12)
    dataset = distillation_dataset(toy_cache(texts, teacher))
    own = Distillation(dataset, None, kind, weights=(0.0, 1.0, 2.0)).loss_module(student, DIMS, (1.0, 3.0, 0.5))
    shared = Distillation(dataset, None, kind).loss_module(student, DIMS, (1.0, 3.0, 0.5))
    assert (own.weights, shared.weights) == ((0.0, 1.0, 2.0), (1.0, 3.0, 0.5))
    torch.manual_seed(0)
    expected = distillation_loss(kind, student, 8, DIMS, weights=(0.0, 1.0, 2.0))
    if isinstance(own, MatryoshkaProjectedMSELoss):
        own.load_state_dict(expected.state_dict())
    batch = ([student.preprocess(texts)], torch.from_numpy(teacher))
    torch.testing.assert_close(own(*batch), expected(*batch))


def test_projected_mse_trains_one_projection_per_rung(tokenizer: Tokenizer) -> None:
    from sse_demo.model.st import to_sentence_transformer

    student = to_sentence_transformer(toy_student(tokenizer))
    loss = MatryoshkaProjectedMSELoss(student, teacher_dim=8, dims=DIMS)
    texts, teacher = toy_texts(tokenizer, 12)
    loss([student.preprocess(texts)], torch.from_numpy(teacher)).backward()
    assert [tuple(p.weight.shape) for p in loss.projections] == [(8, 64), (8, 16), (8, 8)]
    assert all(p.weight.grad is not None and p.weight.grad.abs().sum() > 0 for p in loss.projections)


@pytest.mark.parametrize("kind", list(DistillLoss))
def test_losses_name_wrong_inputs(tokenizer: Tokenizer, kind: DistillLoss) -> None:
    from sse_demo.model.st import to_sentence_transformer

    student = to_sentence_transformer(toy_student(tokenizer))
    loss = distillation_loss(kind, student, 8, DIMS)
    texts, teacher = toy_texts(tokenizer, 12)
    with pytest.raises(ValueError, match=r"labels of shape \(batch, 8\).*\(12, 5\)"):
        loss([student.preprocess(texts)], torch.zeros(12, 5))
    if kind is DistillLoss.SIMILARITY_KL:
        with pytest.raises(ValueError, match="batches of 2 are too small"):
            loss([student.preprocess(texts[:2])], torch.from_numpy(teacher[:2]))
        with pytest.raises(ValueError, match="must be positive"):
            MatryoshkaSimilarityKLLoss(student, 8, DIMS, temperature=0.0)
    for weights in [(1.0, 2.0), (1.0, -1.0, 1.0), (0.0, 0.0, 0.0)]:
        with pytest.raises(ValueError, match=r"one non-negative Matryoshka weight per dim \[64, 16, 8\]"):
            distillation_loss(kind, student, 8, DIMS, weights=weights)


def test_join_puts_the_cached_entries_beside_the_pairs_each_with_its_loss(tokenizer: Tokenizer) -> None:
    from datasets import Dataset, DatasetDict

    from sse_demo.model.st import to_sentence_transformer

    student = to_sentence_transformer(toy_student(tokenizer))
    texts, teacher = toy_texts(tokenizer, 6)
    entries = [Entry(text, Role.QUERY, "ab"[i % 2], "en") for i, text in enumerate(texts)]
    distillation = Distillation(distillation_dataset(TeacherCache(entries, teacher.astype(np.float16), "toy")), None)
    pairs = DatasetDict({"a": Dataset.from_dict({"anchor": ["x"], "positive": ["y"]})})
    contrastive, distill = torch.nn.Identity(), distillation.loss_module(student, DIMS)
    datasets, losses = distillation.join(pairs, contrastive, distill)
    assert list(datasets) == ["a", "teacher:a", "teacher:b"]
    assert losses == {"a": contrastive, "teacher:a": distill, "teacher:b": distill}
    assert datasets["teacher:b"]["text"] == texts[1::2]
    twice, _ = Distillation(distillation.dataset, None, repeat=2).join(pairs, contrastive, distill)
    assert twice["teacher:b"]["text"] == texts[1::2] * 2 and twice["a"]["anchor"] == ["x"]
    with pytest.raises(ValueError, match="at least once, got repeat=0"):
        Distillation(distillation.dataset, None, repeat=0)
    with pytest.raises(ValueError, match="beside the contrastive stages"):
        distillation.run(student, Path("unused"), dims=DIMS, seed=0)


def test_distillation_dataset_groups_by_source_and_filters() -> None:
    vectors = np.eye(4, 8, dtype=np.float16)
    entries = [Entry(f"t{i}", Role.QUERY if i % 2 else Role.PASSAGE, "ab"[i % 2], "en") for i in range(4)]
    cache = TeacherCache(entries, vectors, "toy")
    grouped = distillation_dataset(cache)
    assert {name: grouped[name]["text"] for name in grouped} == {"a": ["t0", "t2"], "b": ["t1", "t3"]}
    np.testing.assert_array_equal(np.array(grouped["b"]["label"]), vectors[[1, 3]].astype(np.float32))
    assert distillation_dataset(cache, ["b"], by_source=False)["text"] == ["t1", "t3"]
    with pytest.raises(ValueError, match="--sources"):
        distillation_dataset(cache, ["c"])
