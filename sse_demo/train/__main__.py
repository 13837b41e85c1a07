"""``python -m sse_demo.train --data DIR --init DIR --out DIR``: contrastive training, then fp32 + 4-bit folders.

The bundled model: ``--data DATA --init DISTILL/init --out RUN --stage 1024:0.05:1 --stage 2048:0.03:1 --seed 0
--wise-ft 0.5`` (the defaults), after ``python -m sse_demo.train.data`` and ``python -m sse_demo.train.distill``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sse_demo.train.trainer import (
    SMALL_STAGES,
    SPEC_STAGES,
    Stage,
    arrays,
    interpolate,
    load_pairs,
    save_checkpoints,
    train,
)


def parse_stage(text: str) -> Stage:
    """``BATCH:LR[:EPOCHS[:ACCUM]]``, e.g. ``1024:0.1:1`` (so stages can be scaled to the hardware)."""
    parts = text.split(":")
    if len(parts) not in (2, 3, 4):
        raise argparse.ArgumentTypeError(f"stage {text!r}: expected BATCH:LR[:EPOCHS[:ACCUM]], e.g. 1024:0.1:1")
    epochs = float(parts[2]) if len(parts) > 2 else 1.0
    accum = int(parts[3]) if len(parts) > 3 else 1
    return Stage(batch_size=int(parts[0]), learning_rate=float(parts[1]), epochs=epochs, grad_accum=accum)


def main(argv: list[str] | None = None) -> None:
    from sse_demo.model import SSEModel

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
    parser.add_argument("--wise-ft-base", type=Path, default=None, help="fp32 folder to average with (default --init)")
    args = parser.parse_args(argv)
    stages = SPEC_STAGES if args.spec_schedule else tuple(args.stage or SMALL_STAGES)
    started = time.perf_counter()
    dataset = load_pairs(args.data / "pairs.jsonl", args.sources, args.limit, by_source=not args.mixed_batches)
    start = SSEModel.from_pretrained(args.init)
    base = arrays(SSEModel.from_pretrained(args.wise_ft_base or args.init, device="cpu"))
    model = train(start, dataset, args.out, stages=stages, seed=args.seed)
    fp32, q4 = save_checkpoints(model, args.out, interpolate(base, arrays(model), args.wise_ft))
    print(f"wrote {fp32} and {q4} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
