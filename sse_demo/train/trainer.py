"""Contrastive SSE training with sentence-transformers: MNRL inside MatryoshkaLoss, the spec's two-stage schedule.

The published recipe (``shared/spec/sse-format.md``) trains with MultipleNegativesRankingLoss wrapped in
MatryoshkaLoss over dims 512/256/128/64/32, large no-duplicates batches, a high learning rate with a cosine schedule,
then a second stage at a lower rate and larger batch. ``Stage`` holds one stage; ``train`` runs a list of them on
any pair dataset (``anchor``/``positive`` columns) and ``save_checkpoints`` writes the published fp32 and 4-bit
folders. CPU works; a CUDA device and bf16 are used when present.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from sse_demo.model import MATRYOSHKA_DIMS, SSEModel
from sse_demo.train.linear_dyt import plain_mean

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict
    from sentence_transformers import SentenceTransformer

    from sse_demo.train.teacher_distill import Distillation


@dataclass(frozen=True)
class Stage:
    """One training stage: the knobs the spec's two-stage schedule changes between stages."""

    batch_size: int
    learning_rate: float
    epochs: float = 1.0
    grad_accum: int = 1
    warmup_ratio: float = 0.01


SPEC_STAGES = (
    Stage(batch_size=1536, learning_rate=0.1, epochs=2, grad_accum=10),
    Stage(batch_size=3072, learning_rate=0.03, epochs=1, grad_accum=6),
)
"""The published two-stage schedule (GPU scale)."""

DYT_PARAMETERS = r"(^|\.)dyt\."
"""Names of the DyT vectors among the trainer's parameters (``...sse.dyt.alpha`` etc.), for their own lr group."""

SMALL_STAGES = (Stage(batch_size=1024, learning_rate=0.05), Stage(batch_size=2048, learning_rate=0.03))
"""The bundled model's two stages (v3 runs the second for 2 epochs: ``--stage 2048:0.03:2``), scaled to a 2-core
CPU: no accumulation (it adds no in-batch negatives), and
lr 0.05 in stage 1 because the distilled table starts with entries of order 1 (lr 0.1 for 2 epochs measured worse)."""


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch so a run is reproducible on the same hardware."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_pairs(
    path: Path, sources: Sequence[str] | None = None, limit: int | None = None, *, by_source: bool = False
) -> Dataset | DatasetDict:
    """Read ``pairs.jsonl`` (from ``python -m sse_demo.train.data``) into an ``anchor``/``positive`` Dataset.

    ``by_source`` gives one Dataset per source instead (a DatasetDict), so that ``run_stage`` draws every batch from
    a single source: its in-batch negatives are then texts of the same kind and language, which are harder to tell
    apart than a mix (measured better on every aggregate of the eval sets; see the model card).
    """
    from datasets import Dataset, DatasetDict

    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: build it with `python -m sse_demo.train.data --out DIR`")
    columns: dict[str, dict[str, list[str]]] = {}
    kept = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if sources and row.get("source") not in sources:
            continue
        group = columns.setdefault(row.get("source", "unknown") if by_source else "all", {"anchor": [], "positive": []})
        group["anchor"].append(row["anchor"])
        group["positive"].append(row["positive"])
        kept += 1
        if limit and kept >= limit:
            break
    if not kept:
        raise ValueError(f"no pairs left in {path} (sources={sources}): check --sources")
    if not by_source:
        return Dataset.from_dict(columns["all"])
    return DatasetDict({source: Dataset.from_dict(group) for source, group in columns.items()})


MNRL_SCALE = 20.0
"""MultipleNegativesRankingLoss's similarity scale in the published recipe, every rung alike unless told."""


def rung_weights(dims: Sequence[int], weights: Sequence[float] | None = None) -> tuple[float, ...]:
    """One loss weight per Matryoshka dim (``--matryoshka-weights``), equal unless ``weights``; every loss that
    weighs the rungs (contrastive and distillation) reads them here, so a bad list is refused with one message."""
    if weights is None:
        return (1.0,) * len(dims)
    if len(weights) != len(dims) or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError(
            f"give one non-negative Matryoshka weight per dim {list(dims)} (one per dim, not all zero); "
            f"got {list(weights)}"
        )
    return tuple(float(weight) for weight in weights)


def rung_scales(dims: Sequence[int], scales: Sequence[float] | None = None) -> tuple[float, ...]:
    """One MNRL scale per Matryoshka dim (``--matryoshka-scales``), 20 each (as published) unless ``scales``."""
    if scales is None:
        return (MNRL_SCALE,) * len(dims)
    if len(scales) != len(dims) or min(scales) <= 0:
        raise ValueError(f"give one positive MNRL scale per Matryoshka dim {list(dims)}; got {list(scales)}")
    return tuple(float(scale) for scale in scales)


def matryoshka_loss(
    model: SentenceTransformer,
    dims: Sequence[int],
    weights: Sequence[float] | None = None,
    scales: Sequence[float] | None = None,
) -> torch.nn.Module:
    """MultipleNegativesRankingLoss inside MatryoshkaLoss, equal weight per dim and scale 20 (as published) unless
    ``weights`` / ``scales``."""
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss

    from sse_demo.train.rung_scale import RungScaledMNRL

    return MatryoshkaLoss(
        model,
        RungScaledMNRL(model, dict(zip(dims, rung_scales(dims, scales), strict=True))),
        matryoshka_dims=list(dims),
        matryoshka_weights=list(rung_weights(dims, weights)),
    )


def training_arguments(stage: Stage, out: Path, seed: int, **extra: Any):
    """The trainer arguments every stage shares (cosine schedule, AdamW eps 1e-10, seeded, no checkpoints, the last
    partial batch dropped), plus the stage's own ``extra`` ones."""
    from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

    return SentenceTransformerTrainingArguments(
        output_dir=str(out),
        num_train_epochs=stage.epochs,
        per_device_train_batch_size=stage.batch_size,
        gradient_accumulation_steps=stage.grad_accum,
        learning_rate=stage.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=stage.warmup_ratio,  # a float below 1 is a ratio of the total steps (Transformers v5)
        adam_epsilon=1e-10,
        seed=seed,
        data_seed=seed,
        save_strategy="no",
        logging_steps=10,
        report_to="none",
        dataloader_drop_last=True,
        dataloader_pin_memory=torch.cuda.is_available(),  # pinning only helps host-to-GPU copies
        **extra,
    )


def fit(
    model: SentenceTransformer,
    dataset: Dataset | DatasetDict,
    stage: Stage,
    out: Path,
    loss: torch.nn.Module | dict[str, torch.nn.Module],
    *,
    seed: int,
    dyt_lr_scale: float = 1.0,
) -> float:
    """Train one stage of any ``loss`` (or one loss per dataset of a DatasetDict, by name) with ST's trainer
    (no-duplicates batches, cosine schedule); returns the final train loss.

    A DatasetDict (``load_pairs(..., by_source=True)``) gives batches that each come from one of its datasets, in
    proportion to their sizes. ``dyt_lr_scale`` gives the DyT vectors their own parameter group at that multiple of
    the stage's learning rate (0 freezes them).
    """
    from sentence_transformers.base.sampler import BatchSamplers, MultiDatasetBatchSamplers
    from sentence_transformers.sentence_transformer.trainer import SentenceTransformerTrainer

    args = training_arguments(
        stage,
        out,
        seed,
        learning_rate_mapping={DYT_PARAMETERS: stage.learning_rate * dyt_lr_scale} if dyt_lr_scale != 1 else {},
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        multi_dataset_batch_sampler=MultiDatasetBatchSamplers.PROPORTIONAL,
        bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss)
    result = trainer.train()
    return float(result.training_loss)


def run_stage(
    model: SentenceTransformer,
    dataset: Dataset | DatasetDict,
    stage: Stage,
    out: Path,
    *,
    dims: Sequence[int],
    seed: int,
    dyt_lr_scale: float = 1.0,
    matryoshka_weights: Sequence[float] | None = None,
    matryoshka_scales: Sequence[float] | None = None,
    beside: Distillation | None = None,
) -> float:
    """One contrastive stage: ``fit`` with MNRL inside MatryoshkaLoss. Rows with a third column (``negative``, e.g.
    ``teacher_mining.add_negatives``) give MNRL a hard negative each, besides the in-batch ones. ``beside`` adds
    the teacher's cached entries with its distillation loss to the stage (``Distillation.join``)."""
    loss: torch.nn.Module | dict[str, torch.nn.Module] = matryoshka_loss(
        model, dims, weights=matryoshka_weights, scales=matryoshka_scales
    )
    if beside is not None:
        dataset, loss = beside.join(dataset, loss, beside.loss_module(model, dims, matryoshka_weights))
    return fit(model, dataset, stage, out, loss, seed=seed, dyt_lr_scale=dyt_lr_scale)


def train(
    start: SSEModel,
    dataset: Dataset | DatasetDict,
    out: Path,
    *,
    stages: Sequence[Stage] = SMALL_STAGES,
    dims: Sequence[int] = MATRYOSHKA_DIMS,
    seed: int = 0,
    dyt_lr_scale: float = 1.0,
    use_dyt: bool = True,
    matryoshka_weights: Sequence[float] | None = None,
    matryoshka_scales: Sequence[float] | None = None,
    distillation: Distillation | None = None,
) -> SSEModel:
    """Run ``stages`` in order from ``start`` and return the trained model (same object, trained in place).

    ``distillation`` (``teacher_distill.Distillation``) adds a teacher-distillation stage after its ``position``
    contrastive stages (0: before them all), or, without a stage of its own, joins every contrastive stage; whatever
    the loss trains besides the model (projections) is dropped.
    ``use_dyt=False`` trains a plain mean of token rows (DyT taken out of the forward pass, as in
    sentence-transformers' ``StaticEmbedding``); the returned model then carries DyT vectors that compute that plain
    mean (``linear_dyt.plain_mean``), so it saves and loads as an ordinary SSE checkpoint.
    """
    from sse_demo.model.st import to_sentence_transformer

    beside = distillation if distillation is not None and distillation.stage is None else None
    if distillation is not None and not 0 <= distillation.position <= len(stages):
        raise ValueError(
            f"the distillation stage goes after 0 to {len(stages)} contrastive stages, got {distillation.position}"
        )
    rung_weights(dims, matryoshka_weights)  # a bad weight or scale list stops here, before any stage has run
    rung_scales(dims, matryoshka_scales)
    if distillation is not None:
        rung_weights(dims, distillation.weights)
    seed_everything(seed)
    dyt = start.module.dyt
    if not use_dyt:
        start.module.dyt = torch.nn.Identity()
    model = to_sentence_transformer(start)

    def distill_after(done: int) -> None:
        if distillation is not None and beside is None and distillation.position == done:
            loss = distillation.run(
                model,
                out / "distill",
                dims=dims,
                seed=seed,
                dyt_lr_scale=dyt_lr_scale,
                matryoshka_weights=matryoshka_weights,
            )
            print(f"distillation ({distillation.loss}): {distillation.stage} final train loss {loss:.4f}")

    for index, stage in enumerate(stages):
        distill_after(index)
        loss = run_stage(
            model,
            dataset,
            stage,
            out / f"stage{index + 1}",
            dims=dims,
            seed=seed + index,
            dyt_lr_scale=dyt_lr_scale,
            matryoshka_weights=matryoshka_weights,
            matryoshka_scales=matryoshka_scales,
            beside=beside,
        )
        print(f"stage {index + 1}: {stage} final train loss {loss:.4f}")
    distill_after(len(stages))
    if not use_dyt:
        start.module.dyt = dyt
        set_dyt(start, plain_mean(start.module.float_table().cpu().numpy()))
    start.module.eval()
    return start


def set_dyt(model: SSEModel, values: dict[str, np.ndarray]) -> None:
    """Overwrite some of the model's DyT vectors (``alpha``, ``beta``, ``bias``) in place."""
    with torch.no_grad():
        for name, value in values.items():
            getattr(model.module.dyt, name).copy_(torch.as_tensor(value, dtype=torch.float32))


def arrays(model: SSEModel) -> dict[str, np.ndarray]:
    """The four weight arrays of a model (``embedding``, ``alpha``, ``beta``, ``bias``) as float32 numpy copies."""
    module = model.module
    return {
        "embedding": module.float_table().cpu().numpy().copy(),
        **{name: getattr(module.dyt, name).detach().cpu().numpy().copy() for name in ("alpha", "beta", "bias")},
    }


def interpolate(start: dict[str, np.ndarray], trained: dict[str, np.ndarray], weight: float) -> dict[str, np.ndarray]:
    """WiSE-FT weight averaging: ``(1 - weight) * start + weight * trained``, array by array.

    Measured here: averaging the distilled table with the contrastively trained one (weight 0.5) beat both ends on
    every eval set, because the trained table gains cross-lingual alignment while the start keeps lexical precision.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"interpolation weight must be in [0, 1], got {weight}")
    return {key: ((1 - weight) * start[key] + weight * trained[key]).astype(np.float32) for key in trained}


def wise_ft(
    start: dict[str, np.ndarray], trained: dict[str, np.ndarray], weight: float, dyt_weight: float | None = None
) -> dict[str, np.ndarray]:
    """WiSE-FT with its own weight for the DyT vectors: the table at ``weight``, ``alpha``/``beta``/``bias`` at
    ``dyt_weight`` (default ``weight``). ``dyt_weight=1`` keeps DyT as trained, for the averaged table: averaging
    DyT too would pull it halfway back to its initial values, undoing what training made of it."""
    weights = interpolate(start, trained, weight)
    if dyt_weight is not None:
        dyt = interpolate(start, trained, dyt_weight)
        weights.update({name: dyt[name] for name in ("alpha", "beta", "bias")})
    return weights


def save_checkpoints(model: SSEModel, out: Path, weights: dict[str, np.ndarray] | None = None) -> tuple[Path, Path]:
    """Write the published fp32 folder ``out/fp32`` and 4-bit folder ``out/q4`` via the core ``save``.

    ``weights`` (from ``arrays``/``interpolate``) replaces the model's own arrays when given.
    """
    weights = weights or arrays(model)
    final = SSEModel.from_arrays(model.tokenizer, **weights, device="cpu")
    return final.save(out / "fp32"), final.save(out / "q4", quantized=True)
