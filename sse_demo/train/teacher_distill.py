"""Sentence-level distillation from the cached teacher vectors (``teacher.load_cache``): a training stage of its own,
or a second loss inside the contrastive stages (``Distillation``).

Two losses (``DistillLoss``), both Matryoshka-aware: the student's output is cut to every rung ``d`` and
unit-normalised, each rung contributes one term, and the terms are averaged (weighted as the contrastive stages'
``--matryoshka-weights`` unless ``--distill-weights`` gives the distillation its own), so every rung learns.

- ``similarity-kl`` (default): for each text of a batch, the student's similarity distribution over the other texts
  of the batch (softmax of cosine x 20, MNRL's scale) is pulled towards the teacher's (softmax of cosine / 0.01,
  e5's training temperature) by KL divergence. It needs no projection and teaches the ranking, which is what
  retrieval and the contrastive stages use; the temperatures matter because e5's cosines are compressed (unrelated
  training texts score ~0.80, pairs ~0.83-0.90: ``docs/teacher.md``), so raw cosines would be a poor target.
- ``projected-mse``: sentence-transformers' ``MSELoss`` between each rung, mapped by its own ``Linear(d, 384)``,
  and the teacher's vector. The projections live on the loss and are dropped after training.

Either way the saved model is the plain SSE checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from sse_demo.model import MATRYOSHKA_DIMS
from sse_demo.train.teacher import TeacherCache
from sse_demo.train.trainer import MNRL_SCALE, Stage, fit, rung_weights

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict
    from sentence_transformers import SentenceTransformer

STUDENT_SCALE = MNRL_SCALE
"""The student's logit scale in ``similarity-kl``: MultipleNegativesRankingLoss's, as in the contrastive stages."""

TEACHER_TEMPERATURE = 0.01
"""The teacher's softmax temperature in ``similarity-kl``: the one multilingual-e5 was trained with."""

TEACHER_PREFIX = "teacher:"
"""Names the cached entries' datasets when they join a contrastive stage (``Distillation.join``)."""


class DistillLoss(StrEnum):
    """How the student is pulled towards the teacher (``--distill-loss``)."""

    SIMILARITY_KL = "similarity-kl"
    PROJECTED_MSE = "projected-mse"


class MatryoshkaDistillationLoss(torch.nn.Module):
    """Common frame of the distillation losses: one text column, the teacher vectors as labels, one term per rung.

    The student's embedding is computed once; rung ``d`` sees its first ``d`` dims, unit-normalised (the student is
    only ever used through cosine similarity). The result is the weighted mean of the terms, with the contrastive
    ``MatryoshkaLoss``'s ``weights`` (default: equal), so a rung weighted up there is weighted up here too.
    """

    def __init__(
        self,
        model: SentenceTransformer,
        teacher_dim: int,
        dims: Sequence[int] = MATRYOSHKA_DIMS,
        weights: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.teacher_dim = teacher_dim
        self.dims = tuple(dims)
        self.weights = rung_weights(self.dims, weights)

    def forward(self, sentence_features: Iterable[dict[str, torch.Tensor]], labels: torch.Tensor) -> torch.Tensor:
        features = list(sentence_features)
        if len(features) != 1 or labels.dim() != 2 or labels.shape[1] != self.teacher_dim:
            raise ValueError(
                f"teacher distillation takes one text column and labels of shape (batch, {self.teacher_dim}); got "
                f"{len(features)} columns and labels of shape {tuple(labels.shape)}"
            )
        embedding = self.model(features[0])["sentence_embedding"]
        target = self.target(labels.to(embedding.dtype))
        terms = [
            self.rung_loss(index, F.normalize(embedding[:, :dim], dim=-1), target)
            for index, dim in enumerate(self.dims)
        ]
        weights = torch.tensor(self.weights, dtype=embedding.dtype, device=embedding.device)
        return (torch.stack(terms) * weights).sum() / weights.sum()

    def target(self, teacher: torch.Tensor) -> torch.Tensor:
        """What every rung is compared with, computed once per batch from the teacher's vectors (default: them)."""
        return teacher

    def rung_loss(self, index: int, student: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The term of rung ``self.dims[index]``: ``student`` its unit rows, ``target`` from ``self.target``."""
        raise NotImplementedError


class MatryoshkaProjectedMSELoss(MatryoshkaDistillationLoss):
    """sentence-transformers' ``MSELoss`` at every rung, each rung through its own learned ``Linear(d, teacher_dim)``.

    The student (512 dims) and the teacher (384) live in different spaces, so the projection maps one onto the other;
    it lives on the loss, so it is dropped with it after training.
    """

    def __init__(
        self,
        model: SentenceTransformer,
        teacher_dim: int,
        dims: Sequence[int] = MATRYOSHKA_DIMS,
        weights: Sequence[float] | None = None,
    ) -> None:
        from sentence_transformers.sentence_transformer.losses import MSELoss

        super().__init__(model, teacher_dim, dims, weights)
        self.mse = MSELoss(model)
        self.projections = torch.nn.ModuleList(torch.nn.Linear(dim, teacher_dim, device=model.device) for dim in dims)

    def rung_loss(self, index: int, student: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.mse.compute_loss_from_embeddings([self.projections[index](student)], [target])


class MatryoshkaSimilarityKLLoss(MatryoshkaDistillationLoss):
    """KL divergence from the teacher's in-batch similarity distribution to the student's, at every rung.

    Row ``i`` compares text ``i`` with the other texts of the batch (its own similarity, 1 for both, is left out):
    ``KL(softmax(teacher_cos / temperature) || softmax(student_cos * scale))``, averaged over the rows. No projection:
    only similarities are compared, so the two spaces may differ in size.
    """

    def __init__(
        self,
        model: SentenceTransformer,
        teacher_dim: int,
        dims: Sequence[int] = MATRYOSHKA_DIMS,
        weights: Sequence[float] | None = None,
        *,
        scale: float = STUDENT_SCALE,
        temperature: float = TEACHER_TEMPERATURE,
    ) -> None:
        if scale <= 0 or temperature <= 0:
            raise ValueError(f"the student scale and teacher temperature must be positive, got {scale}, {temperature}")
        super().__init__(model, teacher_dim, dims, weights)
        self.scale = scale
        self.temperature = temperature

    def target(self, teacher: torch.Tensor) -> torch.Tensor:
        """The teacher's log-probabilities over the rest of the batch, row by row: the same for every rung."""
        size = len(teacher)
        if size < 3:
            raise ValueError(
                f"similarity-kl compares each text with the rest of its batch: batches of {size} are too small"
            )
        unit = F.normalize(teacher, dim=-1)
        return F.log_softmax(off_diagonal(unit @ unit.T) / self.temperature, dim=-1)

    def rung_loss(self, index: int, student: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        student_logits = off_diagonal(student @ student.T) * self.scale
        return F.kl_div(F.log_softmax(student_logits, dim=-1), target, log_target=True, reduction="batchmean")


def off_diagonal(square: torch.Tensor) -> torch.Tensor:
    """Row ``i`` of an ``(n, n)`` similarity matrix without its own entry ``i``: shape ``(n, n - 1)``."""
    size = len(square)
    others = ~torch.eye(size, dtype=torch.bool, device=square.device)
    return square[others].view(size, size - 1)


def distillation_loss(
    kind: DistillLoss,
    model: SentenceTransformer,
    teacher_dim: int,
    dims: Sequence[int],
    temperature: float = TEACHER_TEMPERATURE,
    weights: Sequence[float] | None = None,
) -> MatryoshkaDistillationLoss:
    """The loss module of ``kind``, its rungs weighted by ``weights`` (default: equal)."""
    if kind is DistillLoss.PROJECTED_MSE:
        return MatryoshkaProjectedMSELoss(model, teacher_dim, dims, weights)
    return MatryoshkaSimilarityKLLoss(model, teacher_dim, dims, weights, temperature=temperature)


def distillation_dataset(
    cache: TeacherCache, sources: Sequence[str] | None = None, *, by_source: bool = True
) -> Dataset | DatasetDict:
    """``text``/``label`` rows of the cache (every entry with its float32 teacher vector), one Dataset per source
    unless ``by_source`` is False, as the contrastive stages batch their pairs; ``sources`` keeps only those."""
    from datasets import Dataset, DatasetDict

    groups: dict[str, list[int]] = {}
    for index, entry in enumerate(cache.entries):
        if not sources or entry.source in sources:
            groups.setdefault(entry.source if by_source else "all", []).append(index)
    if not groups:
        raise ValueError(f"no teacher-cache entries of the sources {list(sources or [])}: check --sources")
    datasets = {
        name: Dataset.from_dict(
            {"text": [cache.entries[i].text for i in rows], "label": cache.vectors[rows].astype(np.float32)}
        )
        for name, rows in sorted(groups.items())
    }
    return DatasetDict(datasets) if by_source else datasets["all"]


@dataclass(frozen=True)
class Distillation:
    """Teacher distillation for ``trainer.train``: its data, loss, and where it runs.

    With a ``stage`` it is a stage of its own after ``position`` contrastive stages (0: first). Without one it runs
    beside them: the cached entries join every contrastive stage as extra datasets with the distillation loss
    (``join``), ``repeat`` times over, so the two losses train the table together instead of one after the other.
    """

    dataset: Dataset | DatasetDict
    stage: Stage | None
    loss: DistillLoss = DistillLoss.SIMILARITY_KL
    position: int = 0
    temperature: float = TEACHER_TEMPERATURE
    repeat: int = 1
    weights: Sequence[float] | None = None

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise ValueError(f"the cached entries join each contrastive stage at least once, got repeat={self.repeat}")

    @property
    def teacher_dim(self) -> int:
        first = next(iter(self.datasets().values()))
        return len(first[0]["label"])

    def datasets(self) -> dict[str, Dataset]:
        """The cached entries by name (one per source, or ``all``)."""
        from datasets import DatasetDict

        return dict(self.dataset) if isinstance(self.dataset, DatasetDict) else {"all": self.dataset}

    def loss_module(
        self, model: SentenceTransformer, dims: Sequence[int], matryoshka_weights: Sequence[float] | None = None
    ) -> MatryoshkaDistillationLoss:
        """The distillation loss on ``model``, its rungs weighted by ``self.weights`` or else as the contrastive
        stages' (``matryoshka_weights``)."""
        weights = self.weights if self.weights is not None else matryoshka_weights
        return distillation_loss(self.loss, model, self.teacher_dim, dims, self.temperature, weights)

    def run(
        self,
        model: SentenceTransformer,
        out: Path,
        *,
        dims: Sequence[int],
        seed: int,
        dyt_lr_scale: float = 1.0,
        matryoshka_weights: Sequence[float] | None = None,
    ) -> float:
        """Train ``model`` in place for this stage; returns the final train loss. The loss (and any projection on
        it) is dropped on return."""
        if self.stage is None:
            raise ValueError("this distillation runs beside the contrastive stages (join), not as a stage of its own")
        loss = self.loss_module(model, dims, matryoshka_weights)
        return fit(model, self.dataset, self.stage, out, loss, seed=seed, dyt_lr_scale=dyt_lr_scale)

    def join(
        self,
        pairs: Dataset | DatasetDict,
        contrastive: torch.nn.Module,
        distill: MatryoshkaDistillationLoss,
    ) -> tuple[DatasetDict, dict[str, torch.nn.Module]]:
        """One stage's datasets and losses with the distillation beside the contrastive pairs: the pair datasets
        keep ``contrastive``, the cached entries (named ``teacher:NAME``, each ``repeat`` times over) get
        ``distill``. Every batch still comes from one dataset, in proportion to their sizes (``fit``'s sampler), so
        ``repeat`` sets the distillation's share of the steps."""
        from datasets import DatasetDict, concatenate_datasets

        pair_sets = dict(pairs) if isinstance(pairs, DatasetDict) else {"pairs": pairs}
        teacher_sets = {
            f"{TEACHER_PREFIX}{name}": concatenate_datasets([rows] * self.repeat) if self.repeat > 1 else rows
            for name, rows in self.datasets().items()
        }
        losses = {**dict.fromkeys(pair_sets, contrastive), **dict.fromkeys(teacher_sets, distill)}
        return DatasetDict({**pair_sets, **teacher_sets}), losses
