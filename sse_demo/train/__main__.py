"""``python -m sse_demo.train --data DIR --init DIR --out DIR``: contrastive training, then fp32 + 4-bit folders.

The bundled model: see the model card (``sse_demo/assets/MODEL_CARD.md``) for its exact command, after
``python -m sse_demo.train.data`` and ``python -m sse_demo.train.distill``. ``OUT/fp32`` and ``OUT/q4`` hold the
WiSE-FT average of the start and the trained weights, ``OUT/trained`` the trained weights alone.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from sse_demo.train.linear_dyt import plain_mean
from sse_demo.train.teacher_options import add_teacher_arguments, teacher_plan
from sse_demo.train.trainer import (
    SMALL_STAGES,
    SPEC_STAGES,
    Stage,
    arrays,
    load_pairs,
    save_checkpoints,
    set_dyt,
    train,
    wise_ft,
)


def parse_stage(text: str) -> Stage:
    """``BATCH:LR[:EPOCHS[:ACCUM]]``, e.g. ``1024:0.1:1`` (so stages can be scaled to the hardware)."""
    parts = text.split(":")
    if len(parts) not in (2, 3, 4):
        raise argparse.ArgumentTypeError(f"stage {text!r}: expected BATCH:LR[:EPOCHS[:ACCUM]], e.g. 1024:0.1:1")
    epochs = float(parts[2]) if len(parts) > 2 else 1.0
    accum = int(parts[3]) if len(parts) > 3 else 1
    return Stage(batch_size=int(parts[0]), learning_rate=float(parts[1]), epochs=epochs, grad_accum=accum)


def start_model(
    init: Path, dim: int | None, dyt_alpha: float | None, seed: int, table_scale: float = 1.0, alpha_from: int = 0
):
    """The model training starts from: ``init``, widened to ``dim`` (``distill.widen_table``) or cut to its first
    ``dim`` dims (a Matryoshka prefix, to train it alone), its table multiplied by ``table_scale``, alpha set to
    ``dyt_alpha`` in dimensions ``alpha_from`` and up. The dims below keep the init's alpha (the Matryoshka prefix
    stays in DyT's linear range) with beta scaled so that their gain ``beta * alpha`` equals the others': unequal
    gains would let the high-alpha dims dominate every cosine. ``alpha_from`` equal to the width keeps every dim's
    alpha at that gain, so a model cut to the prefix starts as the prefix does in the full model."""
    from sse_demo.model import SSEModel
    from sse_demo.train.distill import widen_table

    if dim is not None and dim < 1:
        raise ValueError(f"--dim {dim}: expected a positive number of dimensions")
    model = SSEModel.from_pretrained(init, device="cpu")
    if (dim is not None and dim != model.dim) or table_scale != 1.0:
        table = arrays(model)["embedding"]
        if dim is not None:
            table = widen_table(table, dim, seed) if dim > table.shape[1] else table[:, :dim]
        model = SSEModel.from_arrays(model.tokenizer, table * np.float32(table_scale), device="cpu")
    if dyt_alpha is not None:
        if not 0 <= alpha_from <= model.dim:
            raise ValueError(f"--dyt-alpha-from {alpha_from}: expected a dimension index in [0, {model.dim}]")
        alpha, beta = (vector.copy() for vector in model.dyt_parameters()[:2])  # copies: they may share the weights
        beta[:alpha_from] *= dyt_alpha / alpha[:alpha_from]
        alpha[alpha_from:] = dyt_alpha
        set_dyt(model, {"alpha": alpha, "beta": beta})
    return model


def main(argv: list[str] | None = None) -> None:
    from sse_demo.model import MATRYOSHKA_DIMS, SSEModel

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="folder with pairs.jsonl (sse_demo.train.data)")
    parser.add_argument(
        "--init", type=Path, required=True, help="fp32 SSE folder to start from (sse_demo.train.distill)"
    )
    parser.add_argument("--out", type=Path, required=True, help="writes OUT/fp32 and OUT/q4")
    parser.add_argument("--stage", type=parse_stage, action="append", help="BATCH:LR[:EPOCHS[:ACCUM]], repeatable")
    parser.add_argument("--spec-schedule", action="store_true", help="the published GPU-scale two-stage schedule")
    parser.add_argument("--sources", nargs="*", default=None, help="only these pair sources (see manifest.json)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N pairs (smoke runs)")
    parser.add_argument(
        "--mixed-batches",
        action="store_true",
        help="draw batches from all sources at once (default: each batch from one source, measured better)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--wise-ft",
        type=float,
        default=0.5,
        help="save (1-W)*base + W*trained (WiSE-FT); 1 keeps the trained weights; 0.5 (default) measured best",
    )
    parser.add_argument(
        "--wise-ft-dyt",
        type=float,
        default=None,
        help="WiSE-FT weight of the DyT vectors (default: --wise-ft); 1 keeps DyT as trained with the averaged table",
    )
    parser.add_argument(
        "--wise-ft-base", type=Path, default=None, help="fp32 folder to average with (default: the start model)"
    )
    parser.add_argument(
        "--dyt-alpha", type=float, default=None, help="set DyT's alpha to this in every dimension before training"
    )
    parser.add_argument(
        "--dyt-alpha-from",
        type=int,
        default=0,
        help="set --dyt-alpha only in dims from this index on (the Matryoshka prefix keeps the init's alpha); "
        "the width itself keeps it in every dim",
    )
    parser.add_argument(
        "--dyt-lr-scale", type=float, default=1.0, help="DyT learning rate as a multiple of the stage's (0 freezes it)"
    )
    parser.add_argument(
        "--no-dyt", action="store_true", help="train and save a plain mean of token rows (StaticEmbedding), no DyT"
    )
    parser.add_argument(
        "--matryoshka-weights",
        type=float,
        nargs="+",
        default=None,
        help="loss weight per Matryoshka dim, largest first",
    )
    parser.add_argument(
        "--matryoshka-scales",
        type=float,
        nargs="+",
        default=None,
        help="MNRL's similarity scale per Matryoshka dim, largest first (default 20 each, as published)",
    )
    parser.add_argument("--table-scale", type=float, default=1.0, help="multiply the init table by this first")
    parser.add_argument(
        "--dim",
        type=int,
        default=None,
        help="widen the init to this many dims with random columns, or keep only its first DIM (a Matryoshka prefix)",
    )
    add_teacher_arguments(parser, parse_stage)
    args = parser.parse_args(argv)
    stages = SPEC_STAGES if args.spec_schedule else tuple(args.stage or SMALL_STAGES)
    started = time.perf_counter()
    dataset = load_pairs(args.data / "pairs.jsonl", args.sources, args.limit, by_source=not args.mixed_batches)
    dataset, distillation = teacher_plan(parser, args, dataset, len(stages))
    try:
        start = start_model(args.init, args.dim, args.dyt_alpha, args.seed, args.table_scale, args.dyt_alpha_from)
    except ValueError as error:  # a bad --dim / --dyt-alpha-from: the usage line and the reason, no traceback
        parser.error(str(error))
    base = arrays(SSEModel.from_pretrained(args.wise_ft_base, device="cpu")) if args.wise_ft_base else arrays(start)
    dims = (start.dim, *(d for d in MATRYOSHKA_DIMS if d < start.dim))
    model = train(
        start, dataset, args.out, stages=stages, dims=dims, seed=args.seed, dyt_lr_scale=args.dyt_lr_scale,
        use_dyt=not args.no_dyt, matryoshka_weights=args.matryoshka_weights,
        matryoshka_scales=args.matryoshka_scales, distillation=distillation,
    )  # fmt: skip
    trained = arrays(model)
    save_checkpoints(model, args.out / "trained", trained)  # the raw trained weights, for averaging studies
    weights = wise_ft(base, trained, args.wise_ft, args.wise_ft_dyt)
    if args.no_dyt:
        weights.update(plain_mean(weights["embedding"]))
    fp32, q4 = save_checkpoints(model, args.out, weights)
    print(f"wrote {fp32} and {q4} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
